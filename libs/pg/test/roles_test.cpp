// Database authentication and the services' least-privilege roles (issue 11 item 9):
// scram-sha-256 everywhere (a connection without the password is refused), and each service role
// of db/migrations/0003_service_roles.sql can do exactly what its service does and is refused
// the rest — no superuser, no DDL, no temporary tables, no tables of other services. Runs on a
// database migrated directly (as db-migrate does in the local stack and deploy/), with the role
// passwords set by pg::SetRolePasswords.
#include "chat/pg/roles.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/pg/migrate.hpp"
#include "pg_fixture.hpp"

namespace chat::pg {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using ConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;

// The outcome of one statement: "" when it ran, else its SQLSTATE.
struct Outcome {
  bool ok = false;
  std::string sqlstate;
  std::string message;
};

class RolesTest : public PgTest {
 protected:
  static void SetUpTestSuite() {
    // Nothing from the caller's environment may supply a password (./nats-chat exports a
    // PGPASSFILE for its own stack).
    // Before any test starts a thread, so changing the environment is safe here.
    unsetenv("PGPASSWORD");  // NOLINT(concurrency-mt-unsafe)
    unsetenv("PGPASSFILE");  // NOLINT(concurrency-mt-unsafe)
  }

  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    // A database migrated directly, like chatdb: database-level privileges are not copied by
    // CREATE DATABASE ... TEMPLATE, so the template's copies would not show them.
    direct_db_ = "r_" + db_.substr(2);
    auto created =
        cluster_->RunSql("postgres", "CREATE DATABASE " + direct_db_ + " TEMPLATE template0");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    auto applied = Migrate(cluster_->Dsn(direct_db_), CHAT_MIGRATIONS_DIR, tel_.telemetry());
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }

  static ConnPtr Open(const std::string& dsn) {
    // No password file: only the password in the DSN counts.
    return ConnPtr(PQconnectdb((dsn + " passfile=/nonexistent/pgpass connect_timeout=10").c_str()),
                   &PQfinish);
  }

  ConnPtr OpenAs(const std::string& role) {
    ConnPtr c = Open(cluster_->DsnAs(direct_db_, role, testing::ServiceRolePassword(role)));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << role << ": " << PQerrorMessage(c.get());
    return c;
  }

  // Runs `sql` in a transaction that is rolled back, so checks do not depend on each other.
  static Outcome Try(PGconn* c, const std::string& sql) {
    Outcome out;
    PQclear(PQexec(c, "BEGIN"));
    PGresult* r = PQexec(c, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    out.ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!out.ok) {
      const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      out.sqlstate = s == nullptr ? "" : s;
      out.message = PQresultErrorMessage(r);
    }
    PQclear(r);
    PQclear(PQexec(c, "ROLLBACK"));
    return out;
  }

  // Each statement must run (allowed) or be refused with insufficient_privilege (42501).
  void ExpectAccess(const std::string& role, const std::vector<std::string>& allowed,
                    const std::vector<std::string>& refused) {
    ConnPtr c = OpenAs(role);
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK);
    for (const auto& sql : allowed) {
      const Outcome o = Try(c.get(), sql);
      EXPECT_TRUE(o.ok) << role << " should be allowed: " << sql << "\n  " << o.message;
    }
    for (const auto& sql : refused) {
      const Outcome o = Try(c.get(), sql);
      EXPECT_FALSE(o.ok) << role << " should be refused: " << sql;
      EXPECT_EQ(o.sqlstate, "42501") << role << ": " << sql << "\n  " << o.message;
    }
  }

  // 0005_app_installation.sql: the app backends read, never write, the installations
  // app-registry-service records (is their app installed in the request's room).
  void ExpectReadsInstallationOnly(const std::string& role, const std::string& app_id) {
    ExpectAccess(role, {"SELECT 1 FROM room_apps WHERE room = 'r' AND app_id = '" + app_id + "'"},
                 {"INSERT INTO room_apps (room, app_id, installed_by) VALUES ('r', 'poll', 'u')",
                  "UPDATE room_apps SET installed_by = 'mallory'", "DELETE FROM room_apps"});
  }

  std::string direct_db_;
};

// Statements every service role is refused: DDL, temporary tables, role changes, the migration
// ledger.
const std::vector<std::string>& RefusedToAll() {
  static const std::vector<std::string> kStatements{
      "CREATE TABLE evil (id int)",
      "CREATE TEMP TABLE evil (id int)",
      "CREATE SCHEMA evil",
      "ALTER TABLE messages ADD COLUMN evil int",
      "DROP TABLE read_receipts",
      "TRUNCATE messages",
      "SELECT * FROM schema_migrations",
      "CREATE ROLE evil LOGIN",
  };
  return kStatements;
}

std::vector<std::string> Plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(RolesTest, TrustIsGoneConnectionsWithoutTheRightPasswordAreRefused) {
  for (const char* user : {"postgres", "room-service"}) {
    ConnPtr none = Open(cluster_->DsnAs(direct_db_, user, ""));
    EXPECT_NE(PQstatus(none.get()), CONNECTION_OK) << user << " connected without a password";
    EXPECT_THAT(PQerrorMessage(none.get()), HasSubstr("password")) << user;
    ConnPtr wrong = Open(cluster_->DsnAs(direct_db_, user, "not-the-password"));
    EXPECT_NE(PQstatus(wrong.get()), CONNECTION_OK) << user << " connected with a wrong password";
  }
  // Over the Unix socket too (initdb's --auth-local).
  ConnPtr local =
      Open("host=" + cluster_->socket_dir() + " port=" + std::to_string(cluster_->port()) +
           " dbname=" + direct_db_ + " user=postgres");
  EXPECT_NE(PQstatus(local.get()), CONNECTION_OK) << "local socket connection without a password";
  // Every pg_hba rule asks for SCRAM; the role passwords are stored as SCRAM verifiers.
  EXPECT_EQ(Query("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method <> 'scram-sha-256'"),
            "0\n");
  EXPECT_EQ(Query("SELECT count(*) FROM pg_authid WHERE rolname IN ('persist-worker', "
                  "'history-service', 'room-service', 'read-receipt-service', 'pg-exporter') "
                  "AND rolpassword LIKE 'SCRAM-SHA-256$%'"),
            "5\n");
}

TEST_F(RolesTest, ServiceRolesAreLoginRolesWithoutAnyPowers) {
  // The only roles that can log in: the superuser and one per service of §5.3.
  EXPECT_EQ(Query("SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE "
                  "rolcanlogin AND rolname <> 'postgres'"),
            "app-registry-service,history-service,kb-service,persist-worker,pg-exporter,"
            "poll-service,read-receipt-service,room-service,sticker-service,whiteboard-service\n");
  EXPECT_EQ(Query("SELECT count(*) FROM pg_roles WHERE rolcanlogin AND rolname <> 'postgres' AND "
                  "(rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)"),
            "0\n");
  EXPECT_EQ(Query("SELECT has_schema_privilege('public', 'CREATE')"), "t\n");  // superuser
  ConnPtr c = OpenAs("history-service");
  ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK);
  PGresult* r = PQexec(c.get(),
                       "SELECT has_schema_privilege('public', 'CREATE'), "
                       "has_database_privilege(current_database(), 'TEMPORARY')");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "f");
  EXPECT_STREQ(PQgetvalue(r, 0, 1), "f");
  PQclear(r);
}

TEST_F(RolesTest, PersistWorkerWritesMessagesAndNothingElse) {
  ExpectAccess(
      "persist-worker",
      // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one statement on two lines
      {"INSERT INTO messages (room, username, text, \"timestamp\") VALUES ('r', 'u', 't', 1) "
       "ON CONFLICT (room, \"timestamp\", username) DO NOTHING RETURNING room",
       "UPDATE messages SET text = 'x', edited_at = 2 WHERE room = 'r' AND \"timestamp\" = 1",
       "UPDATE messages SET is_deleted = true WHERE room = 'r'",
       "INSERT INTO message_versions (room, message_timestamp, text, edited_at) "
       "SELECT room, \"timestamp\", text, 3 FROM messages WHERE room = 'r'",
       "DELETE FROM message_versions WHERE room = 'r' AND id NOT IN (SELECT id FROM "
       "message_versions WHERE room = 'r' ORDER BY edited_at DESC LIMIT 5)",
       "INSERT INTO message_reactions (room, message_timestamp, user_id, emoji) "
       "VALUES ('r', 1, 'u', 'x') ON CONFLICT (room, message_timestamp, user_id, emoji) DO NOTHING",
       "DELETE FROM message_reactions WHERE room = 'r'"},
      Plus(RefusedToAll(),
           {"DELETE FROM messages WHERE room = 'r'",
            "UPDATE messages SET username = 'mallory' WHERE room = 'r'",
            "UPDATE messages SET room = 'elsewhere'", "DELETE FROM rooms WHERE name = 'r'",
            "SELECT * FROM rooms", "SELECT * FROM room_members",
            "INSERT INTO read_receipts (user_id, room, last_read) VALUES ('u', 'r', 1)"}));
}

TEST_F(RolesTest, HistoryServiceOnlyReads) {
  ExpectAccess(
      "history-service",
      {"SELECT count(*) FROM messages", "SELECT count(*) FROM message_reactions",
       "SELECT type FROM rooms WHERE name = 'r'",
       "SELECT count(*) FROM room_members WHERE room_name = 'r'"},
      // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one statement on two lines
      Plus(RefusedToAll(), {"INSERT INTO messages (room, username, text, \"timestamp\") "
                            "VALUES ('r', 'u', 't', 1)",
                            "UPDATE messages SET text = 'x'", "DELETE FROM messages",
                            "INSERT INTO rooms (name, creator) VALUES ('r', 'u')",
                            "SELECT * FROM read_receipts", "SELECT * FROM message_versions"}));
}

TEST_F(RolesTest, RoomServiceManagesRoomsAndMembersOnly) {
  ExpectAccess(
      "room-service",
      {"INSERT INTO rooms (name, display_name, creator, type) VALUES ('r', 'R', 'u', 'private')",
       "SELECT name, type FROM rooms", "DELETE FROM rooms WHERE name = 'r'",
       // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one statement on two lines
       "INSERT INTO room_members (room_name, username, role, invited_by) "
       "SELECT 'r', 'u', 'owner', NULL WHERE false ON CONFLICT (room_name, username) DO NOTHING",
       "SELECT role FROM room_members WHERE room_name = 'r' FOR UPDATE",
       "UPDATE room_members SET role = 'owner' WHERE room_name = 'r' AND username = 'u'",
       "DELETE FROM room_members WHERE room_name = 'r'"},
      Plus(RefusedToAll(),
           {"UPDATE rooms SET creator = 'mallory'", "UPDATE room_members SET username = 'mallory'",
            "SELECT * FROM messages",
            "INSERT INTO messages (room, username, text, \"timestamp\") VALUES ('r', 'u', 't', 1)",
            "SELECT * FROM read_receipts"}));
}

TEST_F(RolesTest, ReadReceiptServiceUpsertsPositionsAndCountsMessages) {
  ExpectAccess(
      "read-receipt-service",
      {"SELECT user_id, room, last_read FROM read_receipts",
       "INSERT INTO read_receipts (user_id, room, last_read) VALUES ('u', 'r', 5) "
       "ON CONFLICT (user_id, room) DO UPDATE SET last_read = GREATEST(read_receipts.last_read, "
       "EXCLUDED.last_read), updated_at = now()",
       "SELECT count(*) FROM messages WHERE room = 'r' AND \"timestamp\" > 1"},
      Plus(RefusedToAll(),
           {"DELETE FROM read_receipts", "UPDATE read_receipts SET user_id = 'mallory'",
            "INSERT INTO messages (room, username, text, \"timestamp\") VALUES ('r', 'u', 't', 1)",
            "SELECT * FROM rooms"}));
}

// 0004_apps.sql: the registry reads rooms/room_members for its install check; installs are
// INSERT ... ON CONFLICT DO NOTHING and DELETE, never UPDATE.
TEST_F(RolesTest, AppRegistryServiceInstallsAppsAndReadsRoles) {
  ExpectAccess(
      "app-registry-service",
      {"SELECT id, component_url FROM apps",
       "SELECT m.role FROM rooms r LEFT JOIN room_members m ON m.room_name = r.name",
       "INSERT INTO room_apps (room, app_id, installed_by, config) VALUES ('r', 'poll', 'u', "
       "'{}') ON CONFLICT (room, app_id) DO NOTHING",
       "DELETE FROM room_apps WHERE room = 'r'"},
      Plus(RefusedToAll(),
           {"UPDATE room_apps SET installed_by = 'mallory'", "UPDATE apps SET name = 'x'",
            "INSERT INTO rooms (name, creator) VALUES ('r', 'u')",
            "UPDATE room_members SET role = 'owner'", "SELECT * FROM polls"}));
}

// 0006_sticker_service.sql: the sticker catalogue is read only, and only by sticker-service; its
// rows must keep ids that are subject tokens and relative image paths.
TEST_F(RolesTest, StickerServiceOnlyReadsTheCatalogue) {
  ExpectAccess(
      "sticker-service",
      {"SELECT id, name, thumbnail FROM sticker_products ORDER BY name",
       "SELECT id, image_file FROM stickers WHERE product_id = 'party' ORDER BY sort_order"},
      Plus(RefusedToAll(),
           {"INSERT INTO sticker_products (id, name, thumbnail) VALUES ('x', 'X', 'x/t.svg')",
            "UPDATE stickers SET image_file = 'https://tracker.example/p.gif'",
            "DELETE FROM stickers", "SELECT * FROM messages", "SELECT * FROM apps",
            "SELECT * FROM rooms"}));
  EXPECT_EQ(Query("SELECT count(*) FROM sticker_products") + Query("SELECT count(*) FROM stickers"),
            "3\n14\n");
  for (const char* bad :
       // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one statement on two lines
       {"INSERT INTO sticker_products (id, name, thumbnail) VALUES ('x', 'X', "
        "'https://tracker.example/p.gif')",
        "INSERT INTO sticker_products (id, name, thumbnail) VALUES ('x', 'X', '../auth/x.svg')",
        "INSERT INTO sticker_products (id, name, thumbnail) VALUES ('X.y', 'X', 'x/t.svg')",
        "INSERT INTO stickers (id, product_id, image_file) VALUES ('x', 'party', '/abs.svg')",
        "INSERT INTO stickers (id, product_id, image_file) VALUES ('x', 'party', 'a.svg?x=1')"}) {
    EXPECT_FALSE(cluster_->RunSql(direct_db_, bad).ok()) << bad;
  }
}

// Votes upsert (option and time only); polls are inserted and closed, never deleted or edited.
TEST_F(RolesTest, PollServiceCreatesPollsUpsertsVotesAndCloses) {
  ExpectAccess(
      "poll-service",
      {"INSERT INTO polls (id, room, question, options, created_by) VALUES ('p', 'r', 'q', "
       "'[\"a\",\"b\"]', 'u')",
       "UPDATE polls SET closed = true WHERE id = 'p'",
       "INSERT INTO polls (id, room, question, options, created_by) VALUES ('p', 'r', 'q', "
       "'[]', 'u'); INSERT INTO poll_votes (poll_id, user_id, option_idx) VALUES ('p', 'u', 0) "
       "ON CONFLICT (poll_id, user_id) DO UPDATE SET option_idx = EXCLUDED.option_idx, "
       "voted_at = now()",
       "SELECT option_idx, count(*) FROM poll_votes GROUP BY option_idx"},
      Plus(RefusedToAll(),
           {"DELETE FROM polls", "DELETE FROM poll_votes", "UPDATE polls SET question = 'x'",
            "UPDATE polls SET created_by = 'mallory'", "UPDATE poll_votes SET user_id = 'mallory'",
            "SELECT * FROM rooms"}));
  ExpectReadsInstallationOnly("poll-service", "poll");
}

// Boards and pages: created, edited (content and who/when only) and deleted.
TEST_F(RolesTest, WhiteboardServiceEditsOnlyTheElementsOfItsBoards) {
  ExpectAccess(
      "whiteboard-service",
      {"INSERT INTO whiteboard_boards (id, room, name, created_by) VALUES ('b', 'r', 'n', 'u')",
       "SELECT elements::text FROM whiteboard_boards WHERE room = 'r' AND id = 'b' FOR UPDATE",
       "UPDATE whiteboard_boards SET elements = '[]'::jsonb, updated_at = now() WHERE id = 'b'",
       "DELETE FROM whiteboard_boards WHERE room = 'r' AND id = 'b'"},
      Plus(RefusedToAll(), {"UPDATE whiteboard_boards SET room = 'elsewhere'",
                            "UPDATE whiteboard_boards SET created_by = 'mallory'",
                            "SELECT * FROM kb_pages", "SELECT * FROM rooms"}));
  ExpectReadsInstallationOnly("whiteboard-service", "whiteboard");
}

TEST_F(RolesTest, KbServiceEditsOnlyTheContentOfItsPages) {
  ExpectAccess(
      "kb-service",
      {"INSERT INTO kb_pages (id, room, title, content, created_by, updated_by) VALUES "
       "('00000000-0000-0000-0000-000000000001', 'r', 't', '', 'u', 'u')",
       "UPDATE kb_pages SET title = 't', content = 'c', updated_by = 'u', updated_at = now() "
       "WHERE room = 'r'",
       "DELETE FROM kb_pages WHERE room = 'r'"},
      Plus(RefusedToAll(),
           {"UPDATE kb_pages SET room = 'elsewhere'", "UPDATE kb_pages SET created_by = 'mallory'",
            "SELECT * FROM whiteboard_boards", "SELECT * FROM rooms"}));
  ExpectReadsInstallationOnly("kb-service", "kb");
}

TEST_F(RolesTest, ExporterReadsStatisticsNotTables) {
  ExpectAccess(
      "pg-exporter",
      {"SELECT count(*) FROM pg_stat_activity", "SELECT pg_database_size(current_database())",
       "SELECT count(*) FROM pg_ls_waldir()"},  // pg_monitor only
      Plus(RefusedToAll(), {"SELECT * FROM messages", "SELECT * FROM rooms"}));
}

TEST_F(RolesTest, SetRolePasswordsRefusesSuperusersAndUnknownRolesChangingNothing) {
  // A good entry next to a bad one: nothing changes.
  core::Status st = SetRolePasswords(cluster_->Dsn(direct_db_),
                                     {{"room-service", "changed"}, {"postgres", "hijacked"}});
  EXPECT_EQ(st.code(), core::ErrorCode::kFailedPrecondition) << st.ToString();
  EXPECT_THAT(st.message(), Not(HasSubstr("hijacked")));
  st = SetRolePasswords(cluster_->Dsn(direct_db_), {{"no-such-role", "x"}});
  EXPECT_EQ(st.code(), core::ErrorCode::kFailedPrecondition) << st.ToString();
  ConnPtr still = OpenAs("room-service");
  EXPECT_EQ(PQstatus(still.get()), CONNECTION_OK);
  // A service role cannot set passwords.
  st = SetRolePasswords(
      cluster_->DsnAs(direct_db_, "room-service", testing::ServiceRolePassword("room-service")),
      {{"history-service", "x"}});
  EXPECT_FALSE(st.ok());
}

TEST_F(RolesTest, PasswordsLoadFromOneFilePerRoleAndNewOnesTakeEffect) {
  const fs::path dir = fs::temp_directory_path() / ("chat-roles-" + db_);
  fs::create_directories(dir / "..data");
  std::ofstream(dir / "room-service") << "new-room-pw\n";
  std::ofstream(dir / ".hidden") << "ignored\n";
  auto loaded = LoadRolePasswords(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, (RolePasswords{{"room-service", "new-room-pw"}}));
  ASSERT_TRUE(SetRolePasswords(cluster_->Dsn(direct_db_), *loaded).ok());
  ConnPtr fresh = Open(cluster_->DsnAs(direct_db_, "room-service", "new-room-pw"));
  EXPECT_EQ(PQstatus(fresh.get()), CONNECTION_OK) << PQerrorMessage(fresh.get());
  ConnPtr old = Open(
      cluster_->DsnAs(direct_db_, "room-service", testing::ServiceRolePassword("room-service")));
  EXPECT_NE(PQstatus(old.get()), CONNECTION_OK);
  // Put the suite's password back (roles are cluster-wide).
  EXPECT_TRUE(SetRolePasswords(cluster_->Dsn(direct_db_),
                               {{"room-service", testing::ServiceRolePassword("room-service")}})
                  .ok());
  std::ofstream(dir / "history-service") << "";
  EXPECT_EQ(LoadRolePasswords(dir).status().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(LoadRolePasswords(dir / "missing").status().code(), core::ErrorCode::kNotFound);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chat::pg
