// read-receipt-service against a real nats-server (one per test: READ_STATE and ROOMS start
// empty) and a throwaway PostgreSQL cluster. The service is built in-process
// (ReadReceiptService::Create, as main() does) on an InMemoryTelemetry; users publish and
// request over natsx connections whose inbox prefix is _INBOX.{user} (docs/adr/0001).
#include "handlers/read_receipt_service.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/receipts.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/natsx/kv.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/readme_routes.hpp"
#include "chat/testing/service_fixture.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::read_receipt_service {
namespace {

using namespace std::chrono_literals;
namespace sdk = telemetry::sdk;
namespace subjects = contracts::subjects;

constexpr std::int64_t kBase = 1740650000000;

class ReadReceiptServiceTest : public testing::PgServiceTest {
 protected:
  void SetUp() override {
    PgServiceTest::SetUp();
    if (HasFatalFailure()) return;
    service_conn_ = Connect("read-receipt-service", "");
    ASSERT_NE(service_conn_, nullptr);
    service_bus_ = std::make_unique<runtime::NatsBus>(*service_conn_);
    auto js = natsx::JetStream::Create(*service_conn_);
    ASSERT_TRUE(js.ok()) << js.status().ToString();
    js_ = std::move(*js);
    natsx::KeyValueConfig rooms;
    rooms.bucket = std::string(contracts::jetstream::kBucketRooms);
    auto kv = js_->CreateKeyValue(rooms);
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    rooms_ = std::move(*kv);
  }

  void TearDown() override {
    if (service_ != nullptr) service_->Drain(2s);
    service_.reset();
    read_state_.reset();
    rooms_.reset();
    js_.reset();
    service_bus_.reset();
    service_conn_.reset();
  }

  void StartService(std::chrono::milliseconds flush_interval = std::chrono::hours(1)) {
    ReadReceiptConfig config;
    config.database_url = ServiceDsn("read-receipt-service");  // its own role, as deployed
    config.flush_interval = flush_interval;
    auto service = ReadReceiptService::Create(config, *service_bus_, core::SystemClock::Instance());
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    // The routes' SUBs are processed by the server once a flush round-trip completes.
    ASSERT_TRUE(service_conn_->Flush(5s).ok());
    auto kv = js_->BindKeyValue(std::string(contracts::jetstream::kBucketReadState));
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    read_state_ = std::move(*kv);
  }

  void Join(const std::string& room, const std::string& user) {
    ASSERT_TRUE(rooms_->Put(room + "." + user, "{}", telemetry::SpanContext{}).ok());
  }
  void Message(const std::string& room, const std::string& user, std::int64_t ts,
               bool thread = false) {
    Sql("INSERT INTO messages (room, username, text, \"timestamp\", thread_id, parent_timestamp) "
        "VALUES ('" +
        room + "','" + user + "','t'," + std::to_string(ts) + "," +
        (thread ? "'" + room + "-" + std::to_string(kBase) + "'," + std::to_string(kBase)
                : std::string("NULL,NULL")) +
        ")");
  }

  void Update(natsx::Connection& client, const std::string& room, const std::string& user,
              const std::string& body) {
    ASSERT_TRUE(
        client.Publish(subjects::kReadUpdate, {room, user}, body, telemetry::SpanContext{}).ok());
  }
  core::Result<contracts::ReadStateReply> State(natsx::Connection& client,
                                                const std::string& room) {
    auto msg = client.Request(subjects::kReadState, {room}, "", 5s, telemetry::SpanContext{});
    if (!msg.ok()) return msg.status();
    return contracts::FromReply<contracts::ReadStateReply>(msg->payload());
  }
  std::string KvValue(const std::string& key) {
    auto e = read_state_->Get(key, telemetry::SpanContext{});
    return e.ok() ? e->value : "<" + std::string(core::ErrorCodeName(e.status().code())) + ">";
  }

  double Counter(const std::string& name, std::string_view result) {
    return tel_.metrics().AddCounter(name, "", {"result"}).With({result}).Value();
  }
  double Dirty() {
    return tel_.metrics().AddGauge("read_receipt_dirty_entries", "").Default().Value();
  }
  bool WaitCounter(const std::string& name, std::string_view result, double value) {
    return testing::WaitFor([&] { return Counter(name, result) >= value; }, 10s);
  }

  std::unique_ptr<natsx::Connection> service_conn_;
  std::unique_ptr<runtime::NatsBus> service_bus_;  // over service_conn_
  std::unique_ptr<natsx::JetStream> js_;
  std::unique_ptr<natsx::KeyValue> rooms_;
  std::unique_ptr<natsx::KeyValue> read_state_;
  std::unique_ptr<ReadReceiptService> service_;
};

TEST(ReadStateKeyTest, SplitsOnTheFirstDot) {
  EXPECT_EQ(ReadStateKey("alice", "general"), "alice.general");
  auto parts = SplitReadStateKey("alice.general");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->first, "alice");
  EXPECT_EQ(parts->second, "general");
  EXPECT_FALSE(SplitReadStateKey("nodot").has_value());
  EXPECT_FALSE(SplitReadStateKey(".general").has_value());
}

// The README's "Routes" table lists what the dispatcher really registers (issue 12): subject,
// kind, queue group and identity.
TEST_F(ReadReceiptServiceTest, RoutesMatchTheReadme) {
  StartService();
  ASSERT_NE(service_, nullptr);
  EXPECT_EQ(::chat::testing::RouteRows(service_->Routes()),
            ::chat::testing::ReadmeRouteRows("services/read-receipt/README.md"));
}

TEST_F(ReadReceiptServiceTest, UpdatesAreMonotonicAndKeptInKv) {
  StartService();
  auto alice = User("alice");
  Update(*alice, "general", "alice", R"({"lastRead":)" + std::to_string(kBase + 100) + "}");
  ASSERT_TRUE(WaitCounter("read_receipt_updates_total", "ok", 1));
  EXPECT_EQ(KvValue("alice.general"), R"({"lastRead":)" + std::to_string(kBase + 100) + "}");

  // Older or equal: ignored.
  Update(*alice, "general", "alice", R"({"lastRead":)" + std::to_string(kBase + 50) + "}");
  Update(*alice, "general", "alice", R"({"lastRead":)" + std::to_string(kBase + 100) + "}");
  ASSERT_TRUE(WaitCounter("read_receipt_updates_total", "noop", 2));
  EXPECT_EQ(KvValue("alice.general"), R"({"lastRead":)" + std::to_string(kBase + 100) + "}");

  // Newer: stored.
  Update(*alice, "general", "alice",
         R"({"userId":"alice","lastRead":)" + std::to_string(kBase + 200) + "}");
  ASSERT_TRUE(WaitCounter("read_receipt_updates_total", "ok", 2));
  EXPECT_EQ(KvValue("alice.general"), R"({"lastRead":)" + std::to_string(kBase + 200) + "}");
  EXPECT_EQ(Dirty(), 1);
  EXPECT_EQ(service_->dirty_count(), 1u);

  auto span = tel_.FindSpan("process read.update.{room}.{user}");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->kind, telemetry::SpanKind::kConsumer);
  EXPECT_EQ(sdk::StringAttribute(*span, contracts::attr::kUser), "alice");
}

TEST_F(ReadReceiptServiceTest, BadUpdatesAreCountedAndStoreNothing) {
  StartService();
  auto alice = User("alice");
  // Another user in the body than on the subject (ADR 0001), malformed JSON, lastRead 0.
  Update(*alice, "general", "alice", R"({"userId":"bob","lastRead":5})");
  Update(*alice, "general", "alice", "{nope");
  Update(*alice, "general", "alice", R"({"lastRead":0})");
  ASSERT_TRUE(WaitCounter("read_receipt_updates_total", "invalid", 3));
  EXPECT_EQ(Counter("read_receipt_updates_total", "ok"), 0);
  EXPECT_EQ(KvValue("alice.general"), "<not_found>");
  EXPECT_EQ(KvValue("bob.general"), "<not_found>");
  EXPECT_EQ(service_->dirty_count(), 0u);
}

TEST_F(ReadReceiptServiceTest, FlushUpsertsDirtyPositionsPeriodically) {
  StartService(100ms);
  auto alice = User("alice");
  auto bob = User("bob");
  Update(*alice, "general", "alice", R"({"lastRead":)" + std::to_string(kBase + 10) + "}");
  Update(*bob, "general", "bob", R"({"lastRead":)" + std::to_string(kBase + 20) + "}");
  ASSERT_TRUE(WaitCounter("read_receipt_flush_total", "ok", 2));
  EXPECT_EQ(Query("SELECT user_id || '=' || last_read FROM read_receipts ORDER BY user_id"),
            "alice=" + std::to_string(kBase + 10) + "\nbob=" + std::to_string(kBase + 20) + "\n");
  EXPECT_EQ(Dirty(), 0);

  // A newer position overwrites the row on the next flush.
  Update(*alice, "general", "alice", R"({"lastRead":)" + std::to_string(kBase + 30) + "}");
  ASSERT_TRUE(WaitCounter("read_receipt_flush_total", "ok", 3));
  EXPECT_EQ(Query("SELECT last_read FROM read_receipts WHERE user_id = 'alice'"),
            std::to_string(kBase + 30) + "\n");

  auto flush = tel_.FindSpan("flush_read_receipts");
  ASSERT_TRUE(flush.has_value());
  EXPECT_EQ(flush->kind, telemetry::SpanKind::kInternal);
  EXPECT_FALSE(flush->parent_span_id.IsValid());  // a root span
  EXPECT_EQ(flush->status_code, telemetry::StatusCode::kUnset);
  bool child = false;
  for (const auto& s : tel_.FindSpans("INSERT read_receipts")) {
    if (s.parent_span_id == flush->span_id) child = true;
  }
  EXPECT_TRUE(child);
}

TEST_F(ReadReceiptServiceTest, FailedFlushRequeuesAndShutdownFlushes) {
  StartService();  // the timer never fires: flushes are explicit
  auto alice = User("alice");
  Update(*alice, "general", "alice", R"({"lastRead":)" + std::to_string(kBase + 10) + "}");
  ASSERT_TRUE(WaitCounter("read_receipt_updates_total", "ok", 1));

  Sql("ALTER TABLE read_receipts RENAME TO read_receipts_away");
  EXPECT_FALSE(service_->Flush().ok());
  EXPECT_EQ(Counter("read_receipt_flush_total", "error"), 1);
  EXPECT_EQ(service_->dirty_count(), 1u);  // re-queued
  EXPECT_EQ(Dirty(), 1);
  auto failed = tel_.FindSpan("flush_read_receipts");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->status_code, telemetry::StatusCode::kError);

  Sql("ALTER TABLE read_receipts_away RENAME TO read_receipts");
  // Drain performs the final flush.
  service_->Drain(2s);
  EXPECT_EQ(Counter("read_receipt_flush_total", "ok"), 1);
  EXPECT_EQ(Query("SELECT last_read FROM read_receipts WHERE user_id = 'alice'"),
            std::to_string(kBase + 10) + "\n");
  service_.reset();
}

TEST_F(ReadReceiptServiceTest, MembershipIsRehydratedAfterNatsReconnect) {
  Join("general", "alice");
  StartService();
  // bob's ROOMS key arrives without a delta (as when it is published while we are away).
  Join("general", "bob");
  {
    auto bob = User("bob");
    EXPECT_EQ(State(*bob, "general").status().code(), core::ErrorCode::kPermissionDenied);
  }

  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(testing::WaitFor([&] { return !service_conn_->IsConnected(); }, 10s));
  ASSERT_TRUE(server_->Start().ok());
  ASSERT_TRUE(testing::WaitFor([&] { return !tel_.FindSpans("hydrate_membership").empty(); }, 15s));
  ASSERT_TRUE(testing::WaitFor([&] { return service_->rebuilder().runs() >= 1; }, 5s));

  auto bob = User("bob");
  ASSERT_NE(bob, nullptr);
  ASSERT_TRUE(testing::WaitFor([&] { return State(*bob, "general").ok(); }, 10s))
      << "bob still refused after the reconnect";
  auto state = State(*bob, "general");
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(service_->rebuilder().failures(), 0u);
  auto span = tel_.FindSpans("hydrate_membership").front();
  EXPECT_FALSE(span.parent_span_id.IsValid());
  EXPECT_NE(span.status_code, telemetry::StatusCode::kError);
}

TEST_F(ReadReceiptServiceTest, ReadStateOnlyForMembersWithCallersUnreadCount) {
  Join("general", "alice");
  Join("general", "bob");
  Message("general", "bob", kBase + 1);
  Message("general", "bob", kBase + 3);
  Message("general", "bob", kBase + 4);
  Message("general", "alice", kBase + 5);        // own message: not unread
  Message("general", "carol", kBase + 6, true);  // thread reply: not main timeline
  StartService();
  auto alice = User("alice");
  auto bob = User("bob");
  auto carol = User("carol");
  auto dave = User("dave");
  Update(*alice, "general", "alice", R"({"lastRead":)" + std::to_string(kBase + 2) + "}");
  Update(*bob, "general", "bob", R"({"lastRead":)" + std::to_string(kBase + 5) + "}");
  Update(*dave, "general", "dave", R"({"lastRead":)" + std::to_string(kBase + 5) + "}");
  ASSERT_TRUE(WaitCounter("read_receipt_updates_total", "ok", 3));

  auto state = State(*alice, "general");
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_EQ(state->entries.size(), 2u);  // dave is not a member: his position is not shown
  EXPECT_EQ(state->entries[0].user_id, "alice");
  EXPECT_EQ(state->entries[0].last_read, kBase + 2);
  EXPECT_EQ(state->entries[0].unread, 2);  // bob's kBase+3 and kBase+4
  EXPECT_EQ(state->entries[1].user_id, "bob");
  EXPECT_EQ(state->entries[1].unread, std::nullopt);

  // Non-members are refused.
  EXPECT_EQ(State(*dave, "general").status().code(), core::ErrorCode::kPermissionDenied);
  EXPECT_EQ(State(*carol, "general").status().code(), core::ErrorCode::kPermissionDenied);

  // Deltas on room.changed move the membership: carol joins, bob leaves.
  contracts::RoomChanged join{"general", contracts::RoomChangeAction::kJoin, "carol",
                              contracts::RoomType::kPublic};
  contracts::RoomChanged leave{"general", contracts::RoomChangeAction::kLeave, "bob",
                               contracts::RoomType::kPublic};
  ASSERT_TRUE(service_conn_
                  ->Publish(subjects::kRoomChanged, {"general"}, contracts::ToJson(join),
                            telemetry::SpanContext{})
                  .ok());
  ASSERT_TRUE(service_conn_
                  ->Publish(subjects::kRoomChanged, {"general"}, contracts::ToJson(leave),
                            telemetry::SpanContext{})
                  .ok());
  ASSERT_TRUE(testing::WaitFor(
      [&] { return tel_.FindSpans("process room.changed.{room}").size() >= 2; }, 10s));
  auto after = State(*carol, "general");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->entries.size(), 1u);
  EXPECT_EQ(after->entries[0].user_id, "alice");
  EXPECT_EQ(after->entries[0].unread, std::nullopt);  // only the caller's own entry has it
  EXPECT_EQ(State(*bob, "general").status().code(), core::ErrorCode::kPermissionDenied);

  // The dispatcher counts a request after sending its reply.
  ASSERT_TRUE(WaitCounter("read_receipt_queries_total", "denied", 3));
  ASSERT_TRUE(WaitCounter("read_receipt_queries_total", "ok", 2));
  EXPECT_EQ(Counter("read_receipt_queries_total", "ok"), 2);
  EXPECT_EQ(Counter("read_receipt_queries_total", "denied"), 3);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return tel_.FindSpans("process read.state.{room}").size() >= 5; }, 5s));
  EXPECT_EQ(tel_.metrics()
                .AddHistogram("read_receipt_query_duration_seconds", "", telemetry::kBucketsNats)
                .Default()
                .Count(),
            5u);

  // The SERVER span carries the reply result and parents the unread count query.
  std::optional<telemetry::SpanData> ok_span;
  for (const auto& s : tel_.FindSpans("process read.state.{room}")) {
    if (sdk::StringAttribute(s, contracts::attr::kReplyResult) == "ok" &&
        sdk::StringAttribute(s, contracts::attr::kUser) == "alice") {
      ok_span = s;
    }
  }
  ASSERT_TRUE(ok_span.has_value());
  EXPECT_EQ(ok_span->kind, telemetry::SpanKind::kServer);
  bool child = false;
  for (const auto& s : tel_.FindSpans("SELECT messages")) {
    if (s.parent_span_id == ok_span->span_id) child = true;
  }
  EXPECT_TRUE(child);
}

TEST_F(ReadReceiptServiceTest, StartupLoadsPositionsFromPostgresAndKv) {
  Join("general", "alice");
  Join("general", "bob");
  Sql("INSERT INTO read_receipts (user_id, room, last_read) VALUES ('alice', 'general', " +
      std::to_string(kBase + 10) + "), ('bob', 'general', " + std::to_string(kBase + 10) + ")");
  // bob's KV position is newer than his row (accepted but not flushed before a restart).
  natsx::KeyValueConfig rs;
  rs.bucket = std::string(contracts::jetstream::kBucketReadState);
  auto kv = js_->CreateKeyValue(rs);
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  ASSERT_TRUE((*kv)
                  ->Put("bob.general", R"({"lastRead":)" + std::to_string(kBase + 40) + "}",
                        telemetry::SpanContext{})
                  .ok());
  StartService();
  EXPECT_EQ(KvValue("alice.general"), R"({"lastRead":)" + std::to_string(kBase + 10) + "}");
  EXPECT_EQ(service_->dirty_count(), 1u);  // bob's newer KV value is pending for Postgres

  auto alice = User("alice");
  auto state = State(*alice, "general");
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_EQ(state->entries.size(), 2u);
  EXPECT_EQ(state->entries[0].last_read, kBase + 10);
  EXPECT_EQ(state->entries[1].last_read, kBase + 40);

  // The loaded value is the floor for monotonic updates.
  Update(*alice, "general", "alice", R"({"lastRead":)" + std::to_string(kBase + 5) + "}");
  ASSERT_TRUE(WaitCounter("read_receipt_updates_total", "noop", 1));
  ASSERT_TRUE(service_->Flush().ok());
  EXPECT_EQ(Query("SELECT last_read FROM read_receipts WHERE user_id = 'bob'"),
            std::to_string(kBase + 40) + "\n");
}

}  // namespace
}  // namespace chat::read_receipt_service
