-- One least-privilege LOGIN role per service that uses Postgres (docs/system.md §5.3; issue 11
-- item 9), named like the service. The migration runner (the database owner, a superuser) runs
-- this; services never connect as the owner.
--
-- Roles are cluster-wide: a second database in the same cluster re-runs this file, so a role is
-- created only when missing and its attributes are reset either way. No password is set here:
-- db-migrate sets each one from CHAT_PG_ROLE_PASSWORDS_DIR (a SCRAM verifier computed on the
-- client, pg::SetRolePasswords), and under scram-sha-256 a role without a password cannot log in.
--
-- Grants are what each service's statements need, within §5.3, with two additions made since
-- §5.3 was written: history-service reads rooms/room_members (its membership check) and
-- read-receipt-service reads messages (unread counts). UPDATE is granted per column. No role
-- gets CREATE anywhere, TEMPORARY, or anything on schema_migrations. Roles of services that do
-- not exist yet (sticker, app-registry, poll, whiteboard, kb) follow §5.3 and are narrowed by the
-- file that adds the service. fanout, presence, translation, user-search and auth (decisions §4:
-- no service_accounts passwords) use no database and get no role.

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['persist-worker', 'history-service', 'room-service',
      'read-receipt-service', 'sticker-service', 'app-registry-service', 'poll-service',
      'whiteboard-service', 'kb-service', 'pg-exporter'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', r);
    END IF;
    EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
                   'NOBYPASSRLS INHERIT', r);
  END LOOP;
  -- The database: only the service roles connect (the owner and superusers always can); nobody
  -- creates temporary tables or schemas. (A database made from this one as a TEMPLATE does not
  -- copy these: Postgres resets database privileges on CREATE DATABASE.)
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO "persist-worker", "history-service", '
                 '"room-service", "read-receipt-service", "sticker-service", '
                 '"app-registry-service", "poll-service", "whiteboard-service", "kb-service", '
                 '"pg-exporter"', current_database());
END $$;

-- No CREATE on schema public for anyone but its owner (the default since Postgres 15; explicit
-- for clusters initialised by older versions). USAGE stays.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- persist-worker: inserts messages (RETURNING reads them back), edits and soft-deletes them,
-- keeps the last 5 versions, toggles reactions. Never deletes a message row.
GRANT SELECT, INSERT ON messages TO "persist-worker";
GRANT UPDATE (text, edited_at, is_deleted) ON messages TO "persist-worker";
GRANT SELECT, INSERT, DELETE ON message_versions TO "persist-worker";
GRANT SELECT, INSERT, DELETE ON message_reactions TO "persist-worker";
GRANT USAGE ON SEQUENCE messages_id_seq, message_versions_id_seq, message_reactions_id_seq
    TO "persist-worker";

-- history-service: reads only.
GRANT SELECT ON messages, message_reactions, rooms, room_members TO "history-service";

-- room-service: creates and deletes managed rooms; manages members and their role.
GRANT SELECT, INSERT, DELETE ON rooms TO "room-service";
GRANT SELECT, INSERT, DELETE ON room_members TO "room-service";
GRANT UPDATE (role) ON room_members TO "room-service";

-- read-receipt-service: loads positions at start-up, upserts them; counts unread messages.
GRANT SELECT, INSERT ON read_receipts TO "read-receipt-service";
GRANT UPDATE (last_read, updated_at) ON read_receipts TO "read-receipt-service";
GRANT SELECT ON messages TO "read-receipt-service";

-- Services not written yet (§5.3).
GRANT SELECT ON sticker_products, stickers TO "sticker-service";
GRANT SELECT ON apps TO "app-registry-service";
GRANT SELECT, INSERT, UPDATE, DELETE ON room_apps TO "app-registry-service";
GRANT SELECT, INSERT, UPDATE ON polls, poll_votes TO "poll-service";
GRANT SELECT, INSERT, UPDATE, DELETE ON whiteboard_boards TO "whiteboard-service";
GRANT SELECT, INSERT, UPDATE, DELETE ON kb_pages TO "kb-service";

-- The metrics exporter: the statistics views, no table.
GRANT pg_monitor TO "pg-exporter";
