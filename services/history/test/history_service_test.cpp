// history-service against a real nats-server and a throwaway PostgreSQL cluster: the service is
// built in-process (HistoryService::Create, as main() does) on an InMemoryTelemetry, and users
// talk to it over natsx connections whose inbox prefix is _INBOX.{user} (docs/adr/0001).
#include "handlers/history_service.hpp"

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/natsx/kv.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/readme_routes.hpp"
#include "chat/testing/service_fixture.hpp"
#include "chat/testing/wait_for.hpp"
#include "repository/history_repository.hpp"

namespace chat::history_service {
namespace {

using namespace std::chrono_literals;
namespace sdk = telemetry::sdk;
namespace subjects = contracts::subjects;

constexpr std::int64_t kBase = 1740650000000;

class HistoryServiceTest : public testing::PgServiceTest {
 protected:
  void SetUp() override {
    PgServiceTest::SetUp();
    if (HasFatalFailure()) return;
    service_conn_ = Connect("history-service", "");
    ASSERT_NE(service_conn_, nullptr);
    HistoryConfig config;
    config.database_url = ServiceDsn("history-service");  // its own role, as deployed
    config.db_pool_size = 2;
    service_bus_ = std::make_unique<runtime::NatsBus>(*service_conn_);
    auto service = HistoryService::Create(config, *service_bus_, core::SystemClock::Instance());
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    // The server has processed the routes' SUBs once a flush round-trip completes; without it
    // a first request could race them and see no_responders.
    ASSERT_TRUE(service_conn_->Flush(5s).ok());
  }

  void TearDown() override {
    if (service_ != nullptr) service_->Drain(2s);
    service_.reset();
    service_bus_.reset();
    service_conn_.reset();
  }

  void InsertMessage(const std::string& room, const std::string& user, const std::string& text,
                     std::int64_t ts, const std::string& thread_id = "",
                     std::int64_t parent_ts = 0) {
    std::string thread = thread_id.empty() ? "NULL" : "'" + thread_id + "'";
    std::string parent = parent_ts == 0 ? "NULL" : std::to_string(parent_ts);
    Sql("INSERT INTO messages (room, username, text, \"timestamp\", thread_id, parent_timestamp) "
        "VALUES ('" +
        room + "','" + user + "','" + text + "'," + std::to_string(ts) + "," + thread + "," +
        parent + ")");
  }

  core::Result<natsx::Message> Ask(natsx::Connection& client, const core::SubjectTemplate& tmpl,
                                   natsx::Args args, std::string_view body = "") {
    return client.Request(tmpl, args, body, 5s, telemetry::SpanContext{});
  }
  template <typename T>
  core::Result<T> AskFor(natsx::Connection& client, const core::SubjectTemplate& tmpl,
                         natsx::Args args, std::string_view body = "") {
    auto msg = Ask(client, tmpl, args, body);
    if (!msg.ok()) return msg.status();
    return contracts::FromReply<T>(msg->payload());
  }

  double Requests(std::string_view type, std::string_view result) {
    return tel_.metrics()
        .AddCounter("history_requests_total", "", {"type", "result"})
        .With({type, result})
        .Value();
  }
  // The dispatcher counts a request after sending its reply: wait for the figure, then compare.
  bool Eventually(std::string_view type, std::string_view result, double expected) {
    (void)testing::WaitFor([&] { return Requests(type, result) >= expected; }, 5s);
    EXPECT_EQ(Requests(type, result), expected) << type << "/" << result;
    return Requests(type, result) == expected;
  }
  uint64_t DurationCount(std::string_view type) {
    return tel_.metrics()
        .AddHistogram("history_request_duration_seconds", "", telemetry::kBucketsNats, {"type"})
        .With({type})
        .Count();
  }

  std::unique_ptr<natsx::Connection> service_conn_;
  std::unique_ptr<runtime::NatsBus> service_bus_;
  std::unique_ptr<HistoryService> service_;
};

TEST(AggregateReactionsTest, GroupsByEmojiInReactionOrder) {
  auto pills = AggregateReactions(R"([["👍","bob"],["❤️","carol"],["👍","alice"]])");
  ASSERT_EQ(pills.size(), 2u);
  EXPECT_EQ(pills[0].emoji, "👍");
  EXPECT_EQ(pills[0].users, (std::vector<std::string>{"bob", "alice"}));
  EXPECT_EQ(pills[1].emoji, "❤️");
  EXPECT_EQ(pills[1].users, (std::vector<std::string>{"carol"}));
  EXPECT_TRUE(AggregateReactions("not json").empty());
}

// The README's "Routes" table lists what the dispatcher really registers (issue 12): subject,
// kind, queue group and identity.
TEST_F(HistoryServiceTest, RoutesMatchTheReadme) {
  EXPECT_EQ(::chat::testing::RouteRows(service_->Routes()),
            ::chat::testing::ReadmeRouteRows("services/history/README.md"));
}

TEST_F(HistoryServiceTest, PagesNewestFirstWithCursorAndHasMore) {
  // 30 main-timeline messages in a public room, one thread reply (excluded from the timeline).
  Sql("INSERT INTO messages (room, username, text, \"timestamp\") SELECT 'general', 'bob', "
      "'m' || g, " +
      std::to_string(kBase) + " + g FROM generate_series(1, 30) g");
  InsertMessage("general", "alice", "reply", kBase + 100, "general-" + std::to_string(kBase + 30),
                kBase + 30);
  auto alice = User("alice");

  auto page = AskFor<contracts::HistoryPage>(*alice, subjects::kHistory, {"general"});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->messages.size(), 25u);
  EXPECT_TRUE(page->has_more);
  EXPECT_EQ(page->messages.front().timestamp, kBase + 6);  // oldest first
  EXPECT_EQ(page->messages.back().timestamp, kBase + 30);
  EXPECT_EQ(page->messages.back().text, "m30");
  EXPECT_EQ(page->messages.back().reply_count, 1);
  EXPECT_EQ(page->messages.front().reply_count, 0);

  // The cursor is exclusive: the 5 older ones, and nothing more.
  auto older = AskFor<contracts::HistoryPage>(*alice, subjects::kHistory, {"general"},
                                              R"({"before":)" + std::to_string(kBase + 6) + "}");
  ASSERT_TRUE(older.ok()) << older.status().ToString();
  ASSERT_EQ(older->messages.size(), 5u);
  EXPECT_FALSE(older->has_more);
  EXPECT_EQ(older->messages.front().timestamp, kBase + 1);
  EXPECT_EQ(older->messages.back().timestamp, kBase + 5);

  // A larger page on request.
  auto big =
      AskFor<contracts::HistoryPage>(*alice, subjects::kHistory, {"general"}, R"({"limit":100})");
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->messages.size(), 30u);
  EXPECT_FALSE(big->has_more);

  EXPECT_TRUE(Eventually("room", "ok", 3));
  ASSERT_TRUE(testing::WaitFor([&] { return DurationCount("room") >= 3u; }, 5s));
  EXPECT_EQ(DurationCount("room"), 3u);
}

TEST_F(HistoryServiceTest, ReactionsInOrderAndDeletedMessagesBlanked) {
  InsertMessage("general", "bob", "hello", kBase + 1);
  InsertMessage("general", "bob", "secret words", kBase + 2);
  Sql("UPDATE messages SET is_deleted = true WHERE \"timestamp\" = " + std::to_string(kBase + 2));
  Sql("UPDATE messages SET edited_at = 5 WHERE \"timestamp\" = " + std::to_string(kBase + 1));
  // Reaction order is created_at order, not insertion-by-name order.
  Sql("INSERT INTO message_reactions (room, message_timestamp, user_id, emoji, created_at) VALUES "
      "('general'," +
      std::to_string(kBase + 1) +
      ",'carol','👍', now() - interval '3 s'),"
      "('general'," +
      std::to_string(kBase + 1) +
      ",'alice','❤️', now() - interval '2 s'),"
      "('general'," +
      std::to_string(kBase + 1) + ",'alice','👍', now() - interval '1 s')");
  auto alice = User("alice");
  auto page = AskFor<contracts::HistoryPage>(*alice, subjects::kHistory, {"general"});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->messages.size(), 2u);
  const auto& first = page->messages[0];
  EXPECT_EQ(first.text, "hello");
  EXPECT_EQ(first.edited_at, 5);
  ASSERT_EQ(first.reactions.size(), 2u);
  EXPECT_EQ(first.reactions[0].emoji, "👍");
  EXPECT_EQ(first.reactions[0].users, (std::vector<std::string>{"carol", "alice"}));
  EXPECT_EQ(first.reactions[1].emoji, "❤️");
  const auto& deleted = page->messages[1];
  EXPECT_TRUE(deleted.is_deleted);
  EXPECT_EQ(deleted.text, "");
  // The wire form carries the empty text and the flag.
  auto raw = Ask(*alice, subjects::kHistory, {"general"});
  ASSERT_TRUE(raw.ok());
  EXPECT_NE(
      std::string(raw->payload()).find(R"("text":"","timestamp":)" + std::to_string(kBase + 2)),
      std::string::npos);
  EXPECT_EQ(std::string(raw->payload()).find("secret"), std::string::npos);
}

TEST_F(HistoryServiceTest, ThreadHistoryOldestFirstAndBoundToItsRoom) {
  std::string thread = "general-" + std::to_string(kBase);
  InsertMessage("general", "bob", "parent", kBase);
  InsertMessage("general", "carol", "r2", kBase + 20, thread, kBase);
  InsertMessage("general", "alice", "r1", kBase + 10, thread, kBase);
  InsertMessage("general", "alice", "other thread", kBase + 30,
                "general-" + std::to_string(kBase + 1), kBase + 1);
  auto alice = User("alice");
  auto replies =
      AskFor<contracts::HistoryThreadReply>(*alice, subjects::kHistoryThread, {"general", thread});
  ASSERT_TRUE(replies.ok()) << replies.status().ToString();
  ASSERT_EQ(replies->messages.size(), 2u);
  EXPECT_EQ(replies->messages[0].text, "r1");
  EXPECT_EQ(replies->messages[1].text, "r2");
  EXPECT_EQ(replies->messages[0].thread_id, thread);
  EXPECT_EQ(replies->messages[0].parent_timestamp, kBase);

  // A thread id of another room through this room's subject is refused.
  auto wrong =
      AskFor<contracts::HistoryThreadReply>(*alice, subjects::kHistoryThread, {"random", thread});
  EXPECT_EQ(wrong.status().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Eventually("thread", "ok", 1));
  EXPECT_TRUE(Eventually("thread", "invalid", 1));
}

TEST_F(HistoryServiceTest, DmDiscoveryReturnsOnlyTheCallersRooms) {
  InsertMessage("dm-alice-bob", "alice", "hi", kBase + 1);
  InsertMessage("dm-alice-bob", "bob", "hi back", kBase + 2);
  InsertMessage("dm-alice-carol", "carol", "yo", kBase + 3);
  InsertMessage("dm-bob-carol", "bob", "psst", kBase + 4);
  InsertMessage("general", "alice", "x", kBase + 5);
  auto alice = User("alice");
  auto dms = AskFor<contracts::DmListReply>(*alice, subjects::kHistoryDms, {});
  ASSERT_TRUE(dms.ok()) << dms.status().ToString();
  EXPECT_EQ(dms->rooms, (std::vector<std::string>{"dm-alice-bob", "dm-alice-carol"}));
  // A body naming another user changes nothing: the caller is the inbox owner.
  auto bob = User("bob");
  auto bobs = AskFor<contracts::DmListReply>(*bob, subjects::kHistoryDms, {}, "carol");
  ASSERT_TRUE(bobs.ok()) << bobs.status().ToString();
  EXPECT_EQ(bobs->rooms, (std::vector<std::string>{"dm-alice-bob", "dm-bob-carol"}));
  EXPECT_TRUE(Eventually("dm_discovery", "ok", 2));
}

TEST_F(HistoryServiceTest, PrivateDmAndAdminRoomsRequireMembership) {
  Sql("INSERT INTO rooms (name, creator, type) VALUES ('secret', 'alice', 'private')");
  Sql("INSERT INTO room_members (room_name, username) VALUES ('secret', 'alice')");
  InsertMessage("secret", "alice", "plans", kBase + 1);
  InsertMessage("dm-alice-bob", "alice", "hi", kBase + 2);
  InsertMessage("__admin__", "root", "ops", kBase + 3);
  // Admins are the members of __admin__chat in ROOMS.
  auto js = natsx::JetStream::Create(*service_conn_);
  ASSERT_TRUE(js.ok()) << js.status().ToString();
  natsx::KeyValueConfig kv;
  kv.bucket = std::string(contracts::jetstream::kBucketRooms);
  auto rooms = (*js)->CreateKeyValue(kv);
  ASSERT_TRUE(rooms.ok()) << rooms.status().ToString();
  ASSERT_TRUE((*rooms)->Put("__admin__chat.root", "{}", telemetry::SpanContext{}).ok());

  auto alice = User("alice");
  auto bob = User("bob");
  auto carol = User("carol");
  auto root = User("root");
  auto code = [&](natsx::Connection& c, std::string_view room) {
    return AskFor<contracts::HistoryPage>(c, subjects::kHistory, {room}).status().code();
  };
  EXPECT_EQ(code(*alice, "secret"), core::ErrorCode::kOk);
  EXPECT_EQ(code(*bob, "secret"), core::ErrorCode::kPermissionDenied);
  EXPECT_EQ(code(*bob, "dm-alice-bob"), core::ErrorCode::kOk);
  EXPECT_EQ(code(*carol, "dm-alice-bob"), core::ErrorCode::kPermissionDenied);
  EXPECT_EQ(code(*root, "__admin__"), core::ErrorCode::kOk);
  EXPECT_EQ(code(*alice, "__admin__"), core::ErrorCode::kPermissionDenied);
  // Threads follow the same rule.
  auto thread = AskFor<contracts::HistoryThreadReply>(
      *bob, subjects::kHistoryThread, {"secret", "secret-" + std::to_string(kBase + 1)});
  EXPECT_EQ(thread.status().code(), core::ErrorCode::kPermissionDenied);

  EXPECT_TRUE(Eventually("room", "ok", 3));
  EXPECT_TRUE(Eventually("room", "denied", 3));
  EXPECT_TRUE(Eventually("thread", "denied", 1));

  ASSERT_TRUE(testing::WaitFor(
      [&] { return tel_.FindSpans("process chat.history.{room}").size() >= 6; }, 5s));
  auto denied = tel_.FindSpans("process chat.history.{room}");
  int denied_spans = 0;
  for (const auto& s : denied) {
    if (sdk::StringAttribute(s, contracts::attr::kReplyResult) == "denied") ++denied_spans;
  }
  EXPECT_EQ(denied_spans, 3);
}

TEST_F(HistoryServiceTest, BadRequestsGetInvalidArgument) {
  auto alice = User("alice");
  auto too_many =
      AskFor<contracts::HistoryPage>(*alice, subjects::kHistory, {"general"}, R"({"limit":101})");
  EXPECT_EQ(too_many.status().code(), core::ErrorCode::kInvalidArgument);
  auto malformed =
      AskFor<contracts::HistoryPage>(*alice, subjects::kHistory, {"general"}, "{not json");
  EXPECT_EQ(malformed.status().code(), core::ErrorCode::kInvalidArgument);
  auto negative =
      AskFor<contracts::HistoryPage>(*alice, subjects::kHistory, {"general"}, R"({"before":-5})");
  EXPECT_EQ(negative.status().code(), core::ErrorCode::kInvalidArgument);
  auto bad_room = AskFor<contracts::HistoryPage>(*alice, subjects::kHistory, {"Bad_Room"});
  EXPECT_EQ(bad_room.status().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Eventually("room", "invalid", 4));
  EXPECT_EQ(Requests("room", "ok"), 0);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return tel_.FindSpans("process chat.history.{room}").size() >= 4; }, 5s));
  auto spans = tel_.FindSpans("process chat.history.{room}");
  ASSERT_EQ(spans.size(), 4u);
  for (const auto& s : spans) {
    EXPECT_EQ(sdk::StringAttribute(s, contracts::attr::kReplyResult), "invalid");
    EXPECT_EQ(sdk::StringAttribute(s, "error.type"), "invalid_argument");
  }
}

TEST_F(HistoryServiceTest, ReplySubjectThatIsNotAUserInboxLeaksNothing) {
  InsertMessage("general", "bob", "public words", kBase + 1);
  // A raw request whose reply subject is not _INBOX.{user}.…: whoever listens there must not
  // get history (the dispatcher refuses it as permission_denied, or does not answer at all).
  natsSubscription* sub = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub, service_conn_->native(), "spy.replies"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishRequestString(service_conn_->native(), "chat.history.general",
                                                "spy.replies", ""),
            NATS_OK);
  ASSERT_TRUE(testing::WaitFor([&] { return Requests("room", "denied") == 1; }, 10s));
  natsMsg* reply = nullptr;
  if (natsSubscription_NextMsg(&reply, sub, 200) == NATS_OK) {
    std::string body(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
    natsMsg_Destroy(reply);
    auto err = contracts::FromJson<contracts::ErrorReply>(body);
    ASSERT_TRUE(err.ok()) << body;
    EXPECT_EQ(err->code, core::ErrorCode::kPermissionDenied);
    EXPECT_EQ(body.find("public words"), std::string::npos);
  }
  natsSubscription_Destroy(sub);
  EXPECT_EQ(Requests("room", "ok"), 0);
}

TEST_F(HistoryServiceTest, ServerSpanParentsTheSelectAndCarriesResult) {
  InsertMessage("general", "bob", "a", kBase + 1);
  InsertMessage("general", "bob", "b", kBase + 2);
  auto alice = User("alice");
  auto page = AskFor<contracts::HistoryPage>(*alice, subjects::kHistory, {"general"});
  ASSERT_TRUE(page.ok()) << page.status().ToString();

  ASSERT_TRUE(
      testing::WaitFor([&] { return !tel_.FindSpans("process chat.history.{room}").empty(); }, 5s));
  auto process = *tel_.FindSpan("process chat.history.{room}");
  EXPECT_EQ(process.kind, telemetry::SpanKind::kServer);
  EXPECT_EQ(process.status_code, telemetry::StatusCode::kUnset);
  EXPECT_EQ(sdk::StringAttribute(process, contracts::attr::kReplyResult), "ok");
  EXPECT_EQ(sdk::IntAttribute(process, contracts::attr::kHistoryReturned), 2);
  EXPECT_EQ(sdk::StringAttribute(process, contracts::attr::kRoom), "general");
  EXPECT_EQ(sdk::StringAttribute(process, contracts::attr::kUser), "alice");
  EXPECT_EQ(sdk::StringAttribute(process, chat::telemetry::semconv::kMessagingConsumerGroupName),
            "history-workers");
  // The client's request span is the parent (same trace).
  auto request = tel_.FindSpan("request chat.history.{room}");
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(process.trace_id, request->trace_id);
  EXPECT_EQ(process.parent_span_id, request->span_id);

  bool found_select = false;
  for (const auto& s : tel_.FindSpans("SELECT messages")) {
    if (s.parent_span_id == process.span_id) {
      found_select = true;
      EXPECT_EQ(s.kind, telemetry::SpanKind::kClient);
      EXPECT_EQ(sdk::IntAttribute(s, chat::telemetry::semconv::kDbResponseReturnedRows), 2);
      EXPECT_EQ(sdk::StringAttribute(s, chat::telemetry::semconv::kDbSystem), "postgresql");
    }
  }
  EXPECT_TRUE(found_select);
}

TEST_F(HistoryServiceTest, DatabaseFailureIsAnErrorReply) {
  auto alice = User("alice");
  // Dropping the table makes the page query fail (42P01): a real error reply, not an empty page.
  Sql("DROP TABLE message_reactions");
  auto page = AskFor<contracts::HistoryPage>(*alice, subjects::kHistory, {"general"});
  EXPECT_EQ(page.status().code(), core::ErrorCode::kInternal);
  EXPECT_TRUE(Eventually("room", "error", 1));
  ASSERT_TRUE(
      testing::WaitFor([&] { return !tel_.FindSpans("process chat.history.{room}").empty(); }, 5s));
  auto process = *tel_.FindSpan("process chat.history.{room}");
  EXPECT_EQ(process.status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(sdk::StringAttribute(process, contracts::attr::kReplyResult), "error");
  // One failure = one ERROR log line, correlated with the span (§1.2).
  auto error_logs = [&] {
    int n = 0;
    for (const auto& r : tel_.LogRecords()) n += r.level == telemetry::LogLevel::kError ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(testing::WaitFor([&] { return error_logs() >= 1; }, 5s));
  int errors = 0;
  for (const auto& r : tel_.LogRecords()) {
    if (r.level == telemetry::LogLevel::kError) {
      ++errors;
      EXPECT_EQ(r.span_id, process.span_id);
    }
  }
  EXPECT_EQ(errors, 1);
}

TEST_F(HistoryServiceTest, DefaultLibnatsInboxIsNotAParticipant) {
  // Without a per-user inbox prefix the reply subject is _INBOX.{nuid}.…: the "caller" is then
  // a random token that is no participant of any DM, so DM and private history stay closed. (On
  // the real deployment a user JWT cannot subscribe to such an inbox at all.)
  Sql("INSERT INTO rooms (name, creator, type) VALUES ('secret', 'alice', 'private')");
  Sql("INSERT INTO room_members (room_name, username) VALUES ('secret', 'alice')");
  InsertMessage("dm-alice-bob", "alice", "hi", kBase + 1);
  auto anonymous = Connect("client-anonymous", "");
  EXPECT_EQ(AskFor<contracts::HistoryPage>(*anonymous, subjects::kHistory, {"dm-alice-bob"})
                .status()
                .code(),
            core::ErrorCode::kPermissionDenied);
  EXPECT_EQ(
      AskFor<contracts::HistoryPage>(*anonymous, subjects::kHistory, {"secret"}).status().code(),
      core::ErrorCode::kPermissionDenied);
  auto dms = AskFor<contracts::DmListReply>(*anonymous, subjects::kHistoryDms, {});
  ASSERT_TRUE(dms.ok()) << dms.status().ToString();
  EXPECT_TRUE(dms->rooms.empty());
}

}  // namespace
}  // namespace chat::history_service
