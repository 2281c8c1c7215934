// Chat core end to end (issue 4): every service as a real process (ChatStack), users logging in
// through the identity provider and auth-service exactly as the browser does (client::Session),
// and assertions on what the telemetry sink, Postgres and the services' /metrics hold:
//   * the send trace has the contract's shape (docs/observability.md §5.1 / §11.4, with the
//     command-line client in the browser's place) and the services' log lines carry its id;
//   * Postgres stopped for 10 s: persist spans turn ERROR with an exception event, the error
//     counter rises, ERROR logs carry the trace ids, and after the restart every message is
//     stored exactly once;
//   * persist-worker killed with SIGKILL during a send loop and restarted: zero lost, zero
//     duplicated, and delivery to watchers never stopped.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "chat/client/session.hpp"
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/presence.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/core/env.hpp"
#include "chat/telemetry/sdk/config.hpp"
#include "chat/telemetry/sdk/sdk.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat_stack.hpp"
#include "room_members.hpp"
#include "trace_json.hpp"

namespace chat::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace semconv = telemetry::semconv;
namespace attr = contracts::attr;

class ChatCoreE2eTest : public ::testing::Test {
 protected:
  void StartStack(ChatStackOptions options = {}) {
    // DEBUG lines are where fanout reports accepted messages (observability §7.2).
    options.service_env["LOG_LEVEL"] = "debug";
    auto stack = ChatStack::Create(ChatStackBinaries::FromBuild(), std::move(options));
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = std::move(*stack);
    core::MapEnv env({{"OTEL_SERVICE_NAME", "chat-cli"},
                      {"OTEL_EXPORTER_OTLP_ENDPOINT", stack_->sink().BaseUrl()},
                      {"OTEL_BSP_SCHEDULE_DELAY", "100"},
                      {"OTEL_BLRP_SCHEDULE_DELAY", "100"}});
    client_sdk_ = telemetry::sdk::TelemetrySdk::Create(
        telemetry::sdk::TelemetryConfig::FromEnv(env, "chat-cli"), core::SystemClock::Instance());
    ASSERT_NE(client_sdk_, nullptr);
  }

  std::unique_ptr<client::Session> Login(const std::string& user, const std::string& password) {
    client::LoginOptions o;
    o.idp_base = stack_->idp_issuer();
    o.auth_url = stack_->auth_url();
    o.nats_urls = {stack_->nats_url()};
    o.user = user;
    o.password = password;
    auto s = client::Session::Login(o, client_sdk_->telemetry());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Joins and waits until room-service's member list (what fanout's ingest check asks) has them.
  void JoinAndWait(client::Session& s, const std::string& room) {
    ASSERT_TRUE(s.Join(room).ok());
    ASSERT_TRUE(s.Flush(5s).ok());
    auto observer = ConnectObserver(*stack_, "e2e-observer");
    ASSERT_TRUE(observer.ok()) << observer.status().ToString();
    bool joined = WaitFor(
        [&] {
          auto members = RoomMembersOf(**observer, room);
          return members.ok() && Lists(*members, s.user());
        },
        15s);
    ASSERT_TRUE(joined) << s.user() << " never appeared in room.members." << room;
  }

  std::string Sql(const std::string& sql) {
    auto out = stack_->pg().RunSql(stack_->dbname(), sql);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    std::string v = out.ok() ? *out : "";
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    return v;
  }

  double PersistMetric(const std::string& series) {
    auto m = stack_->Metrics("persist-worker");
    return m.ok() ? ChatStack::SeriesValue(*m, series) : -1;
  }

  void TearDown() override {
    if (client_sdk_) client_sdk_->Shutdown(5s);
  }

  std::unique_ptr<ChatStack> stack_;
  std::unique_ptr<telemetry::sdk::TelemetrySdk> client_sdk_;
};

// Every client takes part in presence (issue 11): alice's command-line session A, and another
// connection of hers, B — a browser tab: presence.heartbeat, later presence.disconnect, with its
// own connection id (sent here over A's NATS connection; presence tells connections apart by
// that id only). When B goes, alice still has A, so presence-service must not take her out of
// her rooms. Before, A never heartbeated: B's disconnect was alice's "last connection", she left
// every room, and A's sends were silently refused as not_member.
TEST_F(ChatCoreE2eTest, ClosingAnotherConnectionOfTheUserKeepsThisClientAMember) {
  StartStack();
  auto a = Login("alice", "alice123");
  ASSERT_NE(a, nullptr);
  JoinAndWait(*a, "general");
  auto presence_metric = [&](const std::string& series) {
    auto m = stack_->Metrics("presence-service");
    return m.ok() ? ChatStack::SeriesValue(*m, series) : -1;
  };

  const std::string tab = "7ab0c0de";
  ASSERT_NE(a->conn_id(), tab);
  const std::string body = contracts::ToJson(contracts::PresenceHeartbeat{"alice", tab});
  ASSERT_TRUE(
      a->connection().Publish(contracts::subjects::kPresenceHeartbeat, {"alice"}, body, {}).ok());
  ASSERT_TRUE(a->Flush(5s).ok());
  // presence-service tracks both: A's own connection (its session heartbeats) and the tab.
  ASSERT_TRUE(WaitFor([&] { return presence_metric("presence_connections") == 2; }, 15s))
      << "presence_connections=" << presence_metric("presence_connections")
      << " (the command-line session sent no heartbeat?)";

  // The tab closes.
  const double disconnects = presence_metric("presence_disconnects_total");
  ASSERT_TRUE(
      a->connection().Publish(contracts::subjects::kPresenceDisconnect, {"alice"}, body, {}).ok());
  ASSERT_TRUE(a->Flush(5s).ok());
  ASSERT_TRUE(
      WaitFor([&] { return presence_metric("presence_disconnects_total") > disconnects; }, 15s));

  // alice stays a member (an offline cleanup would have her leave within a moment) ...
  auto observer = ConnectObserver(*stack_, "e2e-observer");
  ASSERT_TRUE(observer.ok()) << observer.status().ToString();
  auto is_member = [&] {
    auto members = RoomMembersOf(**observer, "general");
    return !members.ok() || Lists(*members, "alice");  // unknown: not evidence of a removal
  };
  EXPECT_FALSE(WaitFor([&] { return !is_member(); }, 5s)) << "alice was taken out of #general";
  // ... and A's sends are still accepted: the echo comes back.
  auto sent = a->SendAndConfirm("general", "still here after the tab closed");
  EXPECT_TRUE(sent.ok()) << sent.status().ToString();
}

TEST_F(ChatCoreE2eTest, SendTraceHasTheContractShapeAndLogsCarryItsId) {
  StartStack();
  auto alice = Login("alice", "alice123");
  ASSERT_NE(alice, nullptr);
  JoinAndWait(*alice, "general");

  auto sent = alice->Send("general", "hello from the e2e test");
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  ASSERT_TRUE(alice->Flush(5s).ok());
  const std::string id = sent->trace_id;

  auto trace = stack_->sink().WaitForTrace(
      id,
      [](const json& t) {
        return FindSpan(t, "INSERT messages", "persist-worker") &&
               FindSpan(t, "publish room.notify.{room}", "fanout-service") &&
               FindSpan(t, "send_message", "chat-cli");
      },
      30s);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  const json& t = *trace;

  auto root = FindSpan(t, "send_message", "chat-cli");
  ASSERT_TRUE(root);
  EXPECT_EQ((*root)["kind"], "SPAN_KIND_INTERNAL");
  EXPECT_EQ((*root)["parent_span_id"].get<std::string>().find_first_not_of('0'), std::string::npos);
  EXPECT_EQ(Attr(*root, attr::kAction), "send");
  EXPECT_EQ(Attr(*root, attr::kRoom), "general");
  EXPECT_EQ(Attr(*root, attr::kMessageId), sent->message_id);

  auto publish = FindSpan(t, "publish deliver.{user}.send.{room}", "chat-cli");
  ASSERT_TRUE(publish);
  EXPECT_EQ((*publish)["kind"], "SPAN_KIND_PRODUCER");
  EXPECT_EQ((*publish)["parent_span_id"], (*root)["span_id"]);

  auto ingest = FindSpan(t, "process deliver.{user}.send.{room}", "fanout-service");
  ASSERT_TRUE(ingest);
  EXPECT_EQ((*ingest)["kind"], "SPAN_KIND_CONSUMER");
  EXPECT_EQ((*ingest)["parent_span_id"], (*publish)["span_id"]);
  EXPECT_EQ(Attr(*ingest, attr::kIngestResult), "accepted");
  EXPECT_EQ(Attr(*ingest, attr::kAction), "send");
  EXPECT_EQ(Attr(*ingest, attr::kMessageId), sent->message_id);
  EXPECT_EQ(Attr(*ingest, semconv::kMessagingSystem), "nats");
  EXPECT_EQ(Attr(*ingest, semconv::kMessagingDestinationName), "deliver.alice.send.general");
  EXPECT_EQ(Attr(*ingest, semconv::kMessagingConsumerGroupName), "fanout-workers");

  auto republish = FindSpan(t, "publish chat.{room}", "fanout-service");
  ASSERT_TRUE(republish);
  EXPECT_EQ((*republish)["kind"], "SPAN_KIND_PRODUCER");
  EXPECT_EQ((*republish)["parent_span_id"], (*ingest)["span_id"]);

  // Both consumers of the one publish are its children: fanout's notify path and persist-worker.
  auto notify = FindSpan(t, "process chat.{room}", "fanout-service");
  auto persist = FindSpan(t, "process chat.{room}", "persist-worker");
  ASSERT_TRUE(notify);
  ASSERT_TRUE(persist);
  EXPECT_EQ((*notify)["kind"], "SPAN_KIND_CONSUMER");
  EXPECT_EQ((*persist)["kind"], "SPAN_KIND_CONSUMER");
  EXPECT_EQ((*notify)["parent_span_id"], (*republish)["span_id"]);
  EXPECT_EQ((*persist)["parent_span_id"], (*republish)["span_id"]);
  EXPECT_EQ(Attr(*persist, attr::kAction), "send");
  EXPECT_EQ(Attr(*persist, attr::kMessageId), sent->message_id);
  EXPECT_EQ(Attr(*persist, semconv::kMessagingDestinationSubscriptionName), "persist-worker");
  EXPECT_EQ(Attr(*persist, semconv::kChatJetstreamDeliveryCount), "1");
  EXPECT_NE(Attr(*persist, semconv::kMessagingMessageId), "<absent>");

  auto cache_put = FindSpan(t, "put MSG_CACHE", "fanout-service");
  ASSERT_TRUE(cache_put);
  EXPECT_EQ((*cache_put)["parent_span_id"], (*notify)["span_id"]);
  auto room_notify = FindSpan(t, "publish room.notify.{room}", "fanout-service");
  ASSERT_TRUE(room_notify);
  EXPECT_EQ((*room_notify)["parent_span_id"], (*notify)["span_id"]);

  auto insert = FindSpan(t, "INSERT messages", "persist-worker");
  ASSERT_TRUE(insert);
  EXPECT_EQ((*insert)["kind"], "SPAN_KIND_CLIENT");
  EXPECT_EQ((*insert)["parent_span_id"], (*persist)["span_id"]);
  EXPECT_EQ(Attr(*insert, semconv::kDbSystemName), "postgresql");
  EXPECT_EQ(Attr(*insert, semconv::kDbSystem), "postgresql");
  EXPECT_EQ(Attr(*insert, semconv::kDbCollectionName), "messages");
  EXPECT_NE(Attr(*insert, semconv::kServerAddress), "<absent>");

  for (const auto& s : t["spans"]) {
    EXPECT_NE(s["status"]["code"], "STATUS_CODE_ERROR") << s.dump();
    // No span name carries a room, user or timestamp (observability §4.1, §11.2).
    std::string name = s.value("name", "");
    EXPECT_EQ(name.find("general"), std::string::npos) << name;
    EXPECT_EQ(name.find("alice"), std::string::npos) << name;
  }

  // The row is there, once.
  EXPECT_EQ(Sql("SELECT count(*) FROM messages WHERE room='general' AND username='alice' AND "
                "\"timestamp\"=" +
                std::to_string(sent->timestamp)),
            "1");

  // fanout's and persist-worker's log lines for this trace reach the sink's log API.
  std::set<std::string> services_with_logs;
  bool found = WaitFor(
      [&] {
        auto logs = stack_->sink().Logs("trace_id=" + id);
        if (!logs.ok()) return false;
        for (const auto& r : (*logs)["logs"]) {
          if (r.value("trace_id", "") == id) services_with_logs.insert(r.value("service", ""));
        }
        return services_with_logs.count("fanout-service") > 0 &&
               services_with_logs.count("persist-worker") > 0;
      },
      20s);
  EXPECT_TRUE(found) << "services with log lines for the trace: "
                     << json(services_with_logs).dump();
  auto persisted = stack_->sink().Logs("trace_id=" + id + "&service=persist-worker");
  ASSERT_TRUE(persisted.ok());
  bool persisted_line = false;
  for (const auto& r : (*persisted)["logs"]) {
    persisted_line |= r.value("msg", "") == "message persisted" && r.value("level", "") == "INFO";
  }
  EXPECT_TRUE(persisted_line) << persisted->dump();

  // History serves the message back to a member.
  auto page = alice->History("general");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  bool in_history = false;
  for (const auto& m : page->messages) {
    in_history |= m.timestamp == sent->timestamp && m.user == "alice";
  }
  EXPECT_TRUE(in_history);
}

TEST_F(ChatCoreE2eTest, PostgresDownTenSecondsErrorsAreObservableAndNothingIsLost) {
  StartStack();
  auto alice = Login("alice", "alice123");
  ASSERT_NE(alice, nullptr);
  JoinAndWait(*alice, "general");
  ASSERT_TRUE(stack_->pg().Stop().ok());
  auto stopped_at = std::chrono::steady_clock::now();

  std::vector<client::SentMessage> sent;
  for (int i = 0; i < 20; ++i) {
    auto s = alice->Send("general", "pg-drill " + std::to_string(i));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    sent.push_back(*s);
  }
  ASSERT_TRUE(alice->Flush(5s).ok());

  // The persist attempt of the first message fails visibly: ERROR span with an exception event.
  const std::string id = sent.front().trace_id;
  auto trace = stack_->sink().WaitForTrace(
      id,
      [](const json& t) {
        for (const auto& s : t["spans"]) {
          if (s.value("service_name", "") == "persist-worker" &&
              s["status"]["code"] == "STATUS_CODE_ERROR") {
            return true;
          }
        }
        return false;
      },
      30s);
  ASSERT_TRUE(trace.ok()) << "no ERROR persist span: " << trace.status().ToString();
  bool exception_event = false;
  for (const auto& s : (*trace)["spans"]) {
    if (s.value("service_name", "") != "persist-worker" ||
        s["status"]["code"] != "STATUS_CODE_ERROR") {
      continue;
    }
    for (const auto& e : s["events"]) exception_event |= e.value("name", "") == "exception";
  }
  EXPECT_TRUE(exception_event);
  EXPECT_TRUE(WaitFor(
      [&] {
        return PersistMetric(
                   R"(messages_persist_errors_total{action="send",reason="db_unavailable"})") > 0;
      },
      20s));
  bool error_log = WaitFor(
      [&] {
        auto logs = stack_->sink().Logs("trace_id=" + id + "&service=persist-worker");
        if (!logs.ok()) return false;
        for (const auto& r : (*logs)["logs"]) {
          if (r.value("level", "") == "ERROR" && r.value("trace_id", "") == id) return true;
        }
        return false;
      },
      20s);
  EXPECT_TRUE(error_log) << "an ERROR log line with the failing message's trace id";

  // Ten seconds of outage, then Postgres comes back: every message lands exactly once.
  WaitFor([&] { return std::chrono::steady_clock::now() - stopped_at >= 10s; }, 15s);
  ASSERT_TRUE(stack_->pg().Start().ok());
  const std::string count_sql =
      "SELECT count(*) || ' ' || count(DISTINCT \"timestamp\") FROM messages WHERE room='general' "
      "AND username='alice' AND text LIKE 'pg-drill %'";
  bool all = WaitFor([&] { return Sql(count_sql) == "20 20"; }, 60s);
  EXPECT_TRUE(all) << "rows, distinct messages: " << Sql(count_sql);
}

TEST_F(ChatCoreE2eTest, PersistWorkerKilledMidLoadLosesAndDuplicatesNothing) {
  StartStack(
      {.per_service_env = {{"fanout-service", {{"CHAT_FANOUT_RATE_LIMIT_PER_MINUTE", "100000"}}}}});
  auto alice = Login("alice", "alice123");
  auto bob = Login("bob", "bob123");
  ASSERT_NE(alice, nullptr);
  ASSERT_NE(bob, nullptr);
  JoinAndWait(*alice, "general");
  JoinAndWait(*bob, "general");

  // bob watches the room without fetching: delivery must go on while persist-worker is dead.
  std::mutex mu;
  std::map<std::string, int> seen;  // "{timestamp}-{user}" → notifications
  auto watch = bob->WatchRoom("general",
                              [&](const client::Delivery& d) {
                                if (d.message.user != "alice") return;
                                std::lock_guard lock(mu);
                                seen[std::to_string(d.message.timestamp) + "-" + d.message.user]++;
                              },
                              {.fetch = false});
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();

  constexpr int kTotal = 300;
  std::vector<client::SentMessage> sent;
  for (int i = 0; i < kTotal; ++i) {
    if (i == 100) {
      stack_->service("persist-worker").process->Kill();  // SIGKILL, mid-batch
    }
    if (i == 200) {
      ASSERT_TRUE(stack_->Restart("persist-worker").ok());
    }
    auto s = alice->Send("general", "kill-drill " + std::to_string(i));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    sent.push_back(*s);
    if (i % 20 == 19) {
      ASSERT_TRUE(alice->Flush(5s).ok());  // paced: about as fast as the box allows
    }
  }
  ASSERT_TRUE(alice->Flush(5s).ok());

  const std::string count_sql =
      "SELECT count(*) || ' ' || count(DISTINCT \"timestamp\") FROM messages WHERE room='general' "
      "AND username='alice' AND text LIKE 'kill-drill %'";
  bool all = WaitFor([&] { return Sql(count_sql) == "300 300"; }, 90s);
  EXPECT_TRUE(all) << "rows, distinct messages: " << Sql(count_sql);

  // Every message was delivered to the watcher exactly once, including while persist was dead.
  bool delivered = WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return seen.size() >= kTotal;
      },
      30s);
  EXPECT_TRUE(delivered);
  std::lock_guard lock(mu);
  for (const auto& s : sent) {
    auto it = seen.find(s.message_id);
    ASSERT_NE(it, seen.end()) << s.message_id << " not delivered";
    EXPECT_EQ(it->second, 1) << s.message_id << " delivered " << it->second << " times";
  }
  EXPECT_GT(PersistMetric("messages_persisted_total{action=\"send\"}"), 0);
}

// Issue 11 item 2 with every service real: a private room created before fanout-service starts
// (fanout restarted: no room.changed delta for it since) must stay private. A non-member
// subscribed to room.notify.* sees nothing of it, and msg.get with the member's notifyId answers
// permission_denied. Before the fix, fanout treated the unknown room as public.
TEST_F(ChatCoreE2eTest, PrivateRoomStaysPrivateAfterFanoutRestart) {
  StartStack();
  auto alice = Login("alice", "alice123");
  auto charlie = Login("charlie", "charlie123");
  ASSERT_NE(alice, nullptr);
  ASSERT_NE(charlie, nullptr);
  auto created = alice->CreateRoom("hideout");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  JoinAndWait(*alice, "general");
  // A crash, not a graceful stop: Restart SIGKILLs and waits for /readyz, which answers 200
  // only once the new instance has subscribed (before, it said ready on "NATS connected", and
  // the first messages sent after the restart reached nobody).
  ASSERT_TRUE(stack_->Restart("fanout-service").ok());

  std::mutex mu;
  std::vector<std::string> charlie_saw;  // subjects of room.notify.* copies
  std::vector<std::string> alice_ids;    // notifyIds of alice's deliver.alice.notify.hideout
  natsx::SubscribeOptions watch_public;
  watch_public.templates = {contracts::subjects::kRoomNotify};
  auto public_sub = charlie->connection().Subscribe(
      std::move(watch_public), [&](const natsx::Message& m, natsx::MessageContext&) {
        std::lock_guard lock(mu);
        charlie_saw.emplace_back(m.subject());
        return core::Status::Ok();
      });
  ASSERT_TRUE(public_sub.ok()) << public_sub.status().ToString();
  natsx::SubscribeOptions own;
  own.templates = {contracts::subjects::kDeliverNotify};
  own.pattern = "deliver.alice.notify.hideout";
  auto own_sub = alice->connection().Subscribe(
      std::move(own), [&](const natsx::Message& m, natsx::MessageContext&) {
        auto n = contracts::FromJson<contracts::Notification>(m.payload());
        std::lock_guard lock(mu);
        if (n.ok()) alice_ids.push_back(n->notify_id);
        return core::Status::Ok();
      });
  ASSERT_TRUE(own_sub.ok()) << own_sub.status().ToString();
  ASSERT_TRUE(charlie->Flush(5s).ok());
  ASSERT_TRUE(alice->Flush(5s).ok());

  // The first message after the restart, into the room the new instance knows nothing about.
  auto secret = alice->SendAndConfirm("hideout", "the plan", "", 30s);
  if (!secret.ok()) {
    std::string id = secret.status().message();
    id = id.substr(id.find("trace_id=") + 9, 32);
    auto t = stack_->sink().GetTrace(id);
    FAIL() << secret.status().ToString() << "\n"
           << (t.ok() ? t->dump().substr(0, 6000) : "no trace");
  }
  // Barrier: a public message sent afterwards reaches charlie through room.notify.general.
  auto open = alice->SendAndConfirm("general", "hello all", "", 30s);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return !alice_ids.empty() && std::find(charlie_saw.begin(), charlie_saw.end(),
                                               "room.notify.general") != charlie_saw.end();
      },
      15s));
  std::string notify_id;
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(std::count(charlie_saw.begin(), charlie_saw.end(), "room.notify.hideout"), 0)
        << "a non-member saw the private room's notification";
    notify_id = alice_ids.front();
  }
  contracts::MsgGetRequest req;
  req.notify_id = notify_id;
  auto got = charlie->connection().Request(contracts::subjects::kMsgGet, {}, contracts::ToJson(req),
                                           5s, telemetry::SpanContext{});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const std::string body(got->payload());
  EXPECT_EQ(body.find("the plan"), std::string::npos) << "msg.get leaked: " << body;
  ASSERT_TRUE(contracts::IsErrorReply(body)) << body;
  auto err = contracts::FromJson<contracts::ErrorReply>(body);
  ASSERT_TRUE(err.ok()) << body;
  EXPECT_EQ(contracts::ToStatus(*err).code(), core::ErrorCode::kPermissionDenied) << body;
}

}  // namespace
}  // namespace chat::testing
