-- The app registry and the poll app (issue 13; docs/system.md §3.3.9-§3.3.10, §6.11-§6.12).
--
-- 1. The seeded apps' bundles are served by the web origin itself under /apps/<id>/ (the local
--    nginx and the production web image), not by one host per app: component_url becomes a
--    same-origin path. Only the three seeded URLs are rewritten, so a URL an operator changed by
--    hand is kept.
UPDATE apps SET component_url = '/apps/poll/poll-app.js'
    WHERE id = 'poll' AND component_url = 'http://localhost:8091/poll-app.js';
UPDATE apps SET component_url = '/apps/whiteboard/whiteboard-app.js'
    WHERE id = 'whiteboard' AND component_url = 'http://localhost:8092/whiteboard-app.js';
UPDATE apps SET component_url = '/apps/kb/kb-app.js'
    WHERE id = 'kb' AND component_url = 'http://localhost:8093/kb-app.js';

-- 2. app-registry-service: only a private room's owner or admins may install or uninstall, so it
--    reads the room's type and the caller's role (as room-service and history-service do).
--    Installation is INSERT ... ON CONFLICT DO NOTHING (re-install is a no-op) and DELETE: the
--    UPDATE §5.3 granted is never used and is taken back.
GRANT SELECT ON rooms, room_members TO "app-registry-service";
REVOKE UPDATE ON room_apps FROM "app-registry-service";

-- 3. poll-service: inserts polls and closes them (UPDATE closed only); upserts votes (UPDATE of
--    the option and time only). Nothing is ever deleted.
REVOKE UPDATE ON polls, poll_votes FROM "poll-service";
GRANT UPDATE (closed) ON polls TO "poll-service";
GRANT UPDATE (option_idx, voted_at) ON poll_votes TO "poll-service";

-- 4. whiteboard-service and kb-service create, edit and delete boards and pages, but an edit only
--    changes the content and who/when: a board's or page's id, room and creator never change.
--    (SELECT ... FOR UPDATE, which serialises deltas per board, needs UPDATE on one column.)
REVOKE UPDATE ON whiteboard_boards FROM "whiteboard-service";
GRANT UPDATE (elements, updated_at) ON whiteboard_boards TO "whiteboard-service";
REVOKE UPDATE ON kb_pages FROM "kb-service";
GRANT UPDATE (title, content, updated_by, updated_at) ON kb_pages TO "kb-service";
