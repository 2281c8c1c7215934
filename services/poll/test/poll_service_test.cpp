// poll-service against a real nats-server (one per test) and a throwaway PostgreSQL database.
// The service runs in-process as its own Postgres role on an InMemoryTelemetry; users request
// app.poll.{room}.{action}.{user} over natsx connections whose inbox prefix is _INBOX.{user}
// (docs/adr/0001); a watcher subscribes to the app.poll.{room}.updated broadcasts as fanout does.
// Membership is seeded in ROOMS before the service starts (hydration); the poll app is installed
// in general and random (room_apps rows, as app-registry-service writes them), not in offtopic.
#include "handlers/poll_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/polls.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/natsx/kv.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/readme_routes.hpp"
#include "chat/testing/service_fixture.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::poll_service {
namespace {

using namespace std::chrono_literals;
namespace sdk = telemetry::sdk;
namespace subjects = contracts::subjects;
using core::ErrorCode;

class PollServiceTest : public testing::PgServiceTest {
 protected:
  void SetUp() override {
    PgServiceTest::SetUp();
    if (HasFatalFailure()) return;
    service_conn_ = Connect("poll-service", "");
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
    // alice, bob and carol are in general; bob is also in random; alice and bob are in
    // offtopic; dave is in no room.
    for (const char* key : {"general.alice", "general.bob", "general.carol", "random.bob",
                            "offtopic.alice", "offtopic.bob", "dm-alice-bob.alice"}) {
      ASSERT_TRUE(rooms_->Put(key, "{}", telemetry::SpanContext{}).ok());
    }
    // What fanout does with the broadcasts: receive app.{app}.{room}.{event}.
    watcher_ = Connect("fanout-watcher", "");
    ASSERT_NE(watcher_, nullptr);
    natsx::SubscribeOptions o;
    o.templates = {subjects::kAppEvent};
    o.pattern = "app.poll.>";
    auto sub = watcher_->Subscribe(o, [this](const natsx::Message& m, natsx::MessageContext&) {
      std::lock_guard lock(mu_);
      updates_.push_back(std::string(m.subject()) + " " + std::string(m.payload()));
      return core::Status();
    });
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
    watch_sub_ = std::move(*sub);
    ASSERT_TRUE(watcher_->Flush(5s).ok());
    Sql("INSERT INTO room_apps (room, app_id, installed_by) VALUES ('general', 'poll', 'alice'), "
        "('random', 'poll', 'admin')");

    PollConfig config;
    config.database_url = ServiceDsn("poll-service");  // its own role, as deployed
    auto service = PollService::Create(config, *service_bus_, core::SystemClock::Instance());
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    ASSERT_TRUE(service_conn_->Flush(5s).ok());
  }

  void TearDown() override {
    if (service_ != nullptr) service_->Drain(2s);
    service_.reset();
    watch_sub_.reset();
    watcher_.reset();
    rooms_.reset();
    js_.reset();
    service_bus_.reset();
    service_conn_.reset();
  }

  // The raw reply of app.poll.{room}.{action}.{user}.
  std::string Call(const std::string& room, const std::string& action, const std::string& user,
                   const std::string& body) {
    auto client = User(user);
    if (client == nullptr) return "<no client>";
    auto msg = client->Request(subjects::kAppPollRequest, {room, action, user}, body, 5s,
                               telemetry::SpanContext{});
    if (!msg.ok()) return "<" + msg.status().ToString() + ">";
    return std::string(msg->payload());
  }
  template <typename T>
  core::Result<T> CallAs(const std::string& room, const std::string& action,
                         const std::string& user, const std::string& body) {
    return contracts::FromReply<T>(Call(room, action, user, body));
  }
  ErrorCode Code(const std::string& room, const std::string& action, const std::string& user,
                 const std::string& body) {
    return CallAs<contracts::OkReply>(room, action, user, body).status().code();
  }
  std::string Create(const std::string& user, const std::string& body) {
    auto ref = CallAs<contracts::PollRef>("general", "create", user, body);
    EXPECT_TRUE(ref.ok()) << ref.status().ToString();
    return ref.ok() ? ref->poll_id : "";
  }
  contracts::PollResults Results(const std::string& user, const std::string& id) {
    auto r =
        CallAs<contracts::PollResults>("general", "results", user, R"({"pollId":")" + id + "\"}");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : contracts::PollResults{};
  }

  double Counter(std::string_view action, std::string_view result) {
    return tel_.metrics()
        .AddCounter("poll_requests_total", "", {"action", "result"})
        .With({action, result})
        .Value();
  }
  double TotalRequests() {
    double total = 0;
    for (const auto& a : PollMetrics::kActions) {
      for (const auto& r : PollMetrics::kResults) total += Counter(a, r);
    }
    return total;
  }
  bool WaitCounter(std::string_view action, std::string_view result, double value) {
    return testing::WaitFor([&] { return Counter(action, result) >= value; }, 10s);
  }
  size_t UpdateCount() {
    std::lock_guard lock(mu_);
    return updates_.size();
  }
  std::vector<std::string> Updates() {
    std::lock_guard lock(mu_);
    return updates_;
  }
  std::string Stored() {
    return Query(
        "SELECT (SELECT count(*) FROM polls) || '/' || (SELECT count(*) FROM "
        "poll_votes)");
  }

  std::unique_ptr<natsx::Connection> service_conn_;
  std::unique_ptr<runtime::NatsBus> service_bus_;
  std::unique_ptr<natsx::JetStream> js_;
  std::unique_ptr<natsx::KeyValue> rooms_;
  std::unique_ptr<natsx::Connection> watcher_;
  std::unique_ptr<natsx::Subscription> watch_sub_;
  std::mutex mu_;
  std::vector<std::string> updates_;
  std::unique_ptr<PollService> service_;
};

TEST(PollIdTest, IdsAreRandomHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewPollId();
    EXPECT_EQ(id.size(), 16u);
    EXPECT_TRUE(contracts::ValidatePollId(id).ok()) << id;
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST_F(PollServiceTest, RoutesMatchTheReadme) {
  EXPECT_EQ(::chat::testing::RouteRows(service_->Routes()),
            ::chat::testing::ReadmeRouteRows("services/poll/README.md"));
}

TEST_F(PollServiceTest, CreateListVoteResultsAndCloseWithUpdates) {
  const std::string id =
      Create("alice", R"({"question":"Lunch?","options":["pizza","sushi"],"user":"alice"})");
  ASSERT_EQ(id.size(), 16u);
  ASSERT_TRUE(testing::WaitFor([&] { return UpdateCount() >= 1; }, 10s));
  EXPECT_EQ(Updates()[0], "app.poll.general.updated {\"pollId\":\"" + id + "\"}");

  // One vote per user, changeable while open.
  EXPECT_EQ(Call("general", "vote", "bob", R"({"pollId":")" + id + R"(","optionIdx":1})"),
            R"({"ok":true})");
  EXPECT_EQ(Call("general", "vote", "carol", R"({"pollId":")" + id + R"(","optionIdx":0})"),
            R"({"ok":true})");
  EXPECT_EQ(
      Call("general", "vote", "bob", R"({"pollId":")" + id + R"(","optionIdx":0,"user":"bob"})"),
      R"({"ok":true})");
  EXPECT_EQ(Query("SELECT user_id || '=' || option_idx FROM poll_votes ORDER BY user_id"),
            "bob=0\ncarol=0\n");
  contracts::PollResults r = Results("bob", id);
  EXPECT_EQ(r.poll.id, id);
  EXPECT_EQ(r.poll.room, "general");
  EXPECT_EQ(r.poll.question, "Lunch?");
  EXPECT_EQ(r.poll.options, (std::vector<std::string>{"pizza", "sushi"}));
  EXPECT_EQ(r.poll.created_by, "alice");
  EXPECT_EQ(r.poll.created_at.size(), 24u) << r.poll.created_at;
  EXPECT_FALSE(r.poll.closed);
  ASSERT_EQ(r.votes.size(), 2u);
  EXPECT_EQ(r.votes[0].count, 2);
  EXPECT_EQ(r.votes[1].count, 0);
  EXPECT_EQ(r.user_vote, 0);
  EXPECT_EQ(r.total_votes, 2);
  EXPECT_EQ(Results("alice", id).user_vote, std::nullopt);

  // list: newest first.
  const std::string second =
      Create("bob", R"({"question":"Tabs or spaces?","options":["tabs","spaces","both"]})");
  auto list = CallAs<contracts::PollList>("general", "list", "carol", R"({"user":"carol"})");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->polls.size(), 2u);
  EXPECT_EQ(list->polls[0].id, second);
  EXPECT_EQ(list->polls[1].id, id);
  // Polls are per room: bob's other room has none.
  EXPECT_EQ(Call("random", "list", "bob", "{}"), "[]");

  // The creator closes; closing again is a no-op; a closed poll refuses votes.
  EXPECT_EQ(Call("general", "close", "alice", R"({"pollId":")" + id + "\"}"), R"({"ok":true})");
  EXPECT_EQ(Call("general", "close", "alice", R"({"pollId":")" + id + "\"}"), R"({"ok":true})");
  EXPECT_TRUE(Results("carol", id).poll.closed);
  EXPECT_EQ(Code("general", "vote", "carol", R"({"pollId":")" + id + R"(","optionIdx":1})"),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Query("SELECT user_id || '=' || option_idx FROM poll_votes ORDER BY user_id"),
            "bob=0\ncarol=0\n");

  // create×2, vote×3, close×1 (the second close changed nothing).
  ASSERT_TRUE(testing::WaitFor([&] { return UpdateCount() >= 6; }, 10s));
  EXPECT_EQ(UpdateCount(), 6u);
  ASSERT_TRUE(WaitCounter("create", "ok", 2));
  ASSERT_TRUE(WaitCounter("vote", "ok", 3));
  ASSERT_TRUE(WaitCounter("close", "ok", 2));
  ASSERT_TRUE(WaitCounter("results", "ok", 3));
  ASSERT_TRUE(WaitCounter("list", "ok", 2));
  ASSERT_TRUE(WaitCounter("vote", "denied", 1));

  bool created = false;
  bool closed = false;
  for (const auto& rec : tel_.LogRecords()) {
    created |= rec.body == "poll created";
    closed |= rec.body == "poll closed";
  }
  EXPECT_TRUE(created);
  EXPECT_TRUE(closed);
}

// The broadcast continues the request's trace: process (SERVER) → publish (PRODUCER) → the
// watcher's process (CONSUMER), as fanout's delivery would.
TEST_F(PollServiceTest, UpdatedBroadcastContinuesTheRequestTrace) {
  const std::string id = Create("alice", R"({"question":"Q","options":["a","b"]})");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(testing::WaitFor(
      [&] { return tel_.FindSpan("process app.{app}.{room}.{event}").has_value(); }, 10s));
  auto server = tel_.FindSpan("process app.poll.{room}.{action}.{user}");
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(server->kind, telemetry::SpanKind::kServer);
  EXPECT_EQ(sdk::StringAttribute(*server, contracts::attr::kAppId), "poll");
  EXPECT_EQ(sdk::StringAttribute(*server, contracts::attr::kAppAction), "create");
  EXPECT_EQ(sdk::StringAttribute(*server, contracts::attr::kUser), "alice");
  EXPECT_EQ(sdk::StringAttribute(*server, contracts::attr::kRoom), "general");
  auto publish = tel_.FindSpan("publish app.{app}.{room}.{event}");
  ASSERT_TRUE(publish.has_value());
  EXPECT_EQ(publish->kind, telemetry::SpanKind::kProducer);
  EXPECT_EQ(publish->parent_span_id, server->span_id);
  auto delivered = tel_.FindSpan("process app.{app}.{room}.{event}");
  ASSERT_TRUE(delivered.has_value());
  EXPECT_EQ(delivered->trace_id, server->trace_id);
  EXPECT_EQ(delivered->parent_span_id, publish->span_id);
  bool insert = false;
  for (const auto& s : tel_.FindSpans("INSERT polls")) {
    insert |= s.parent_span_id == server->span_id;
  }
  EXPECT_TRUE(insert);
}

TEST_F(PollServiceTest, RefusalsAreClearCountedAndStoreNothing) {
  const std::string id = Create("alice", R"({"question":"Q","options":["a","b"]})");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitCounter("create", "ok", 1));
  const std::string before = Stored();
  EXPECT_EQ(before, "1/0\n");
  const std::string vote0 = R"({"pollId":")" + id + R"(","optionIdx":0})";

  // Denied: not a member (create, list, vote), a DM room, not the creator.
  EXPECT_EQ(Code("general", "create", "dave", R"({"question":"Q","options":["a","b"]})"),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Code("general", "list", "dave", "{}"), ErrorCode::kPermissionDenied);
  EXPECT_EQ(Code("general", "vote", "dave", vote0), ErrorCode::kPermissionDenied);
  EXPECT_EQ(Code("dm-alice-bob", "create", "alice", R"({"question":"Q","options":["a","b"]})"),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Code("general", "close", "bob", R"({"pollId":")" + id + "\"}"),
            ErrorCode::kPermissionDenied);

  // Invalid: malformed JSON, oversized body, bounds, out-of-range option, unknown poll, a poll
  // of another room, a body user that is not the subject's.
  EXPECT_EQ(Code("general", "create", "alice", "{nope"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code("general", "create", "alice",
                 R"({"question":")" + std::string(70000, 'q') + R"(","options":["a","b"]})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code("general", "create", "alice", R"({"question":"Q","options":["only"]})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code("general", "create", "alice", R"({"options":["a","b"]})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code("general", "create", "alice",
                 R"({"question":"Q","options":["1","2","3","4","5","6","7","8","9","10","11"]})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code("general", "create", "alice",
                 R"({"question":")" + std::string(501, 'q') + R"(","options":["a","b"]})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code("general", "create", "alice",
                 R"({"question":"Q","options":["a",")" + std::string(201, 'o') + R"("]})"),
            ErrorCode::kInvalidArgument);
  auto out_of_range = CallAs<contracts::OkReply>("general", "vote", "bob",
                                                 R"({"pollId":")" + id + R"(","optionIdx":2})");
  EXPECT_EQ(out_of_range.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(out_of_range.status().message(), "optionIdx is out of range");
  EXPECT_EQ(Code("general", "vote", "bob", R"({"pollId":")" + id + R"(","optionIdx":-1})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code("general", "vote", "bob", R"({"pollId":")" + id + R"("})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Code("general", "vote", "bob", R"({"pollId":"0123456789abcdef","optionIdx":0})"),
            ErrorCode::kNotFound);
  EXPECT_EQ(Code("random", "vote", "bob", R"({"pollId":")" + id + R"(","optionIdx":0})"),
            ErrorCode::kNotFound);
  EXPECT_EQ(Code("general", "results", "bob", R"({"pollId":"0123456789abcdef"})"),
            ErrorCode::kNotFound);
  EXPECT_EQ(
      Code("general", "vote", "bob", R"({"pollId":")" + id + R"(","optionIdx":0,"user":"carol"})"),
      ErrorCode::kInvalidArgument);

  // Unknown action: a clear error, counted under action="unknown", never as a label or span
  // name of its own.
  auto unknown = CallAs<contracts::OkReply>("general", "delete", "alice", "{}");
  EXPECT_EQ(unknown.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "unknown action");

  // Vote on a closed poll.
  EXPECT_EQ(Call("general", "close", "alice", R"({"pollId":")" + id + "\"}"), R"({"ok":true})");
  EXPECT_EQ(Code("general", "vote", "bob", vote0), ErrorCode::kFailedPrecondition);

  EXPECT_EQ(Stored(), before);
  ASSERT_TRUE(WaitCounter("unknown", "invalid", 1));
  ASSERT_TRUE(WaitCounter("create", "invalid", 7));
  ASSERT_TRUE(WaitCounter("create", "denied", 2));
  ASSERT_TRUE(WaitCounter("vote", "invalid", 6));
  ASSERT_TRUE(WaitCounter("vote", "denied", 2));
  ASSERT_TRUE(WaitCounter("close", "denied", 1));
  ASSERT_TRUE(WaitCounter("results", "invalid", 1));
  ASSERT_TRUE(WaitCounter("list", "denied", 1));
  EXPECT_EQ(Counter("create", "error") + Counter("vote", "error") + Counter("unknown", "error"), 0);
  EXPECT_EQ(Counter("vote", "ok"), 0);
  // Refusals leave their spans UNSET; the action attribute is from the fixed list.
  for (const auto& s : tel_.FindSpans("process app.poll.{room}.{action}.{user}")) {
    EXPECT_NE(s.status_code, telemetry::StatusCode::kError);
    auto action = sdk::StringAttribute(s, contracts::attr::kAppAction);
    ASSERT_TRUE(action.has_value());
    const bool listed = *action == "unknown" ||
                        std::find(PollMetrics::kActions.begin(), PollMetrics::kActions.end(),
                                  *action) != PollMetrics::kActions.end();
    EXPECT_TRUE(listed) << *action;  // one of the fixed list
  }
  // Only the create and the close were broadcast.
  ASSERT_TRUE(testing::WaitFor([&] { return UpdateCount() >= 2; }, 10s));
  EXPECT_EQ(UpdateCount(), 2u);
}

// Members of a room where no manager installed the poll app (or one uninstalled it) cannot use
// it: every action is refused before anything is read, stored or broadcast.
TEST_F(PollServiceTest, RefusedWhereThePollAppIsNotInstalled) {
  const std::string create = R"({"question":"Q","options":["a","b"]})";
  auto refused = CallAs<contracts::PollRef>("offtopic", "create", "alice", create);
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(), "the poll app is not installed in this room");
  EXPECT_EQ(Code("offtopic", "list", "bob", "{}"), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Code("offtopic", "vote", "bob", R"({"pollId":"0123456789abcdef","optionIdx":0})"),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Stored(), "0/0\n");
  ASSERT_TRUE(WaitCounter("create", "denied", 1));
  ASSERT_TRUE(WaitCounter("list", "denied", 1));
  ASSERT_TRUE(WaitCounter("vote", "denied", 1));
  EXPECT_FALSE(tel_.FindSpans("SELECT room_apps").empty());

  // Installed: it works; uninstalled again (the registry deletes the row): refused again, and
  // the poll created meanwhile can no longer be voted on, read or closed.
  Sql("INSERT INTO room_apps (room, app_id, installed_by) VALUES ('offtopic', 'poll', 'alice')");
  auto ref = CallAs<contracts::PollRef>("offtopic", "create", "alice", create);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_TRUE(testing::WaitFor([&] { return UpdateCount() >= 1; }, 10s));
  Sql("DELETE FROM room_apps WHERE room = 'offtopic' AND app_id = 'poll'");
  const std::string poll = R"({"pollId":")" + ref->poll_id + "\"";
  auto vote = CallAs<contracts::OkReply>("offtopic", "vote", "bob", poll + R"(,"optionIdx":0})");
  EXPECT_EQ(vote.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(vote.status().message(), "the poll app is not installed in this room");
  EXPECT_EQ(Code("offtopic", "results", "bob", poll + "}"), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Code("offtopic", "close", "alice", poll + "}"), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Code("offtopic", "create", "alice", create), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Stored(), "1/0\n");
  EXPECT_EQ(Query("SELECT closed FROM polls"), "f\n");
  ASSERT_TRUE(WaitCounter("create", "denied", 2));
  ASSERT_TRUE(WaitCounter("vote", "denied", 2));
  ASSERT_TRUE(WaitCounter("results", "denied", 1));
  ASSERT_TRUE(WaitCounter("close", "denied", 1));
  EXPECT_EQ(Counter("create", "ok"), 1);
  // Only the create made while installed was broadcast.
  ASSERT_TRUE(service_conn_->Flush(5s).ok());
  EXPECT_EQ(UpdateCount(), 1u);
}

// The service's own app.poll.{room}.updated broadcasts (no reply subject, 4 tokens) never reach
// its route: nothing is handled, counted or logged as a failure.
TEST_F(PollServiceTest, IgnoresItsOwnUpdatedBroadcasts) {
  ASSERT_TRUE(service_conn_
                  ->Publish(subjects::kAppEvent, {"poll", "general", "updated"},
                            R"({"pollId":"0123456789abcdef"})", telemetry::SpanContext{})
                  .ok());
  ASSERT_TRUE(service_conn_->Flush(5s).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return UpdateCount() >= 1; }, 10s));  // it was delivered
  // A later request is handled; the broadcast before it was not.
  EXPECT_EQ(Call("general", "list", "alice", "{}"), "[]");
  ASSERT_TRUE(WaitCounter("list", "ok", 1));
  EXPECT_EQ(TotalRequests(), 1);
  EXPECT_EQ(tel_.FindSpans("process app.poll.{room}.{action}.{user}").size(), 1u);
  EXPECT_EQ(tel_.metrics()
                .AddCounter("chat_handler_failures_total", "", {"template", "code"})
                .With({"app.poll.{room}.{action}.{user}", "invalid_argument"})
                .Value(),
            0);
}

}  // namespace
}  // namespace chat::poll_service
