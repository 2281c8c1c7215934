-- The app backends serve a room only while their app is installed there (issue: members could
-- use poll, whiteboard and kb with a raw NATS client in rooms whose managers never installed
-- them). room_apps is written by app-registry-service alone (apps.install / apps.uninstall, for a
-- room's owner/admins or a platform admin); each backend reads its own app's row per request
-- (contracts::kAppInstalledSql: SELECT 1 FROM room_apps WHERE room = $1 AND app_id = $2, the
-- primary key). Read only: installing stays the registry's decision.
GRANT SELECT ON room_apps TO "poll-service", "whiteboard-service", "kb-service";
