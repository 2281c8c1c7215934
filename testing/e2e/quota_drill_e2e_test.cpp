// Quota drill (issue 11 item 6): on the whole chat core (ChatStack: nats-server in operator mode,
// users logging in through the identity provider and auth-service), bob exhausts each per-user
// quota in turn — presence connection ids, subscriptions, payload size — and is refused each
// time (counted and logged by presence-service or nats-server), while alice keeps
// chatting: her messages are confirmed by her own echo and charlie receives them.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chat/client/session.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/core/env.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/natsx/kv.hpp"
#include "chat/telemetry/sdk/config.hpp"
#include "chat/telemetry/sdk/sdk.hpp"
#include "chat_stack.hpp"
#include "room_members.hpp"

namespace chat::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace subjects = contracts::subjects;

constexpr int kMaxConnections = 3;
constexpr int kMaxSubscriptions = 20;

class QuotaDrillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ChatStackOptions options;
    options.per_service_env["auth-service"] = {
        {"CHAT_AUTH_USER_MAX_SUBSCRIPTIONS", std::to_string(kMaxSubscriptions)}};
    options.per_service_env["presence-service"] = {
        {"CHAT_PRESENCE_MAX_CONNECTIONS_PER_USER", std::to_string(kMaxConnections)}};
    auto stack = ChatStack::Create(ChatStackBinaries::FromBuild(), std::move(options));
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = std::move(*stack);
    core::MapEnv env({{"OTEL_SERVICE_NAME", "chat-cli"}, {"OTEL_SDK_DISABLED", "true"}});
    client_sdk_ = telemetry::sdk::TelemetrySdk::Create(
        telemetry::sdk::TelemetryConfig::FromEnv(env, "chat-cli"), core::SystemClock::Instance());
    ASSERT_NE(client_sdk_, nullptr);

    auto observer = ConnectObserver(*stack_, "quota-drill-observer");
    ASSERT_TRUE(observer.ok()) << observer.status().ToString();
    observer_ = std::move(*observer);
  }

  void TearDown() override {
    if (client_sdk_) client_sdk_->Shutdown(5s);
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

  void JoinAndWait(client::Session& s, const std::string& room) {
    ASSERT_TRUE(s.Join(room).ok());
    ASSERT_TRUE(s.Flush(5s).ok());
    bool joined = WaitFor(
        [&] {
          auto members = RoomMembersOf(*observer_, room);
          return members.ok() && Lists(*members, s.user());
        },
        15s);
    ASSERT_TRUE(joined) << s.user() << " never joined " << room;
  }

  double PresenceRejected() {
    auto m = stack_->Metrics("presence-service");
    return m.ok() ? ChatStack::SeriesValue(
                        *m, "presence_rejected_total{reason=\"too_many_connections\"}")
                  : -1;
  }

  // alice sends; her own echo confirms it and charlie's watch receives it.
  void AliceStillChats(client::Session& alice, const std::string& text) {
    auto sent = alice.SendAndConfirm("general", text);
    ASSERT_TRUE(sent.ok()) << text << ": " << sent.status().ToString();
    bool received = WaitFor(
        [&] {
          std::lock_guard lock(mu_);
          return charlie_saw_.count(text) > 0;
        },
        15s);
    EXPECT_TRUE(received) << "charlie never received \"" << text << "\"";
  }

  static bool ErrorMentions(client::Session& s, std::string_view what) {
    std::string text = s.LastError();
    for (auto& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return text.find(what) != std::string::npos;
  }

  std::unique_ptr<ChatStack> stack_;
  std::unique_ptr<telemetry::sdk::TelemetrySdk> client_sdk_;
  std::unique_ptr<natsx::Connection> observer_;
  std::mutex mu_;
  std::set<std::string> charlie_saw_;
};

TEST_F(QuotaDrillTest, OneUserExhaustsEachQuotaWhileAnotherKeepsChatting) {
  auto alice = Login("alice", "alice123");
  auto bob = Login("bob", "bob123");
  auto charlie = Login("charlie", "charlie123");
  ASSERT_NE(alice, nullptr);
  ASSERT_NE(bob, nullptr);
  ASSERT_NE(charlie, nullptr);
  JoinAndWait(*alice, "general");
  JoinAndWait(*bob, "general");
  JoinAndWait(*charlie, "general");
  auto watch = charlie->WatchRoom("general", [&](const client::Delivery& d) {
    if (d.message.user != "alice" || !d.fetched) return;
    std::lock_guard lock(mu_);
    charlie_saw_.insert(d.message.text);
  });
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  AliceStillChats(*alice, "before the drill");

  // 1. Presence: bob's heartbeats with new connection ids beyond the cap are refused; PRESENCE_CONN
  //    holds exactly the cap; alice's own heartbeat is still stored.
  auto js = natsx::JetStream::Create(*observer_);
  ASSERT_TRUE(js.ok()) << js.status().ToString();
  auto conns = (*js)->BindKeyValue(std::string(contracts::jetstream::kBucketPresenceConn));
  ASSERT_TRUE(conns.ok()) << conns.status().ToString();
  for (int i = 0; i < kMaxConnections + 5; ++i) {
    const std::string body = R"({"connId":"b000000)" + std::to_string(i) + R"("})";
    ASSERT_TRUE(bob->connection()
                    .Publish(subjects::kPresenceHeartbeat, {"bob"}, body, telemetry::SpanContext{})
                    .ok());
  }
  ASSERT_TRUE(bob->Flush(5s).ok());
  EXPECT_TRUE(WaitFor([&] { return PresenceRejected() >= 5; }, 15s))
      << "presence_rejected_total{reason=too_many_connections} = " << PresenceRejected();
  int stored = 0;
  for (int i = 0; i < kMaxConnections + 5; ++i) {
    if ((*conns)->Get("bob.b000000" + std::to_string(i), {}).ok()) ++stored;
  }
  // bob's session heartbeats with its own connection id too (every client takes part in
  // presence), so it may hold one of the slots: the drill's ids fill the rest, never more.
  EXPECT_GE(stored, kMaxConnections - 1);
  EXPECT_LE(stored, kMaxConnections);
  ASSERT_TRUE(alice->connection()
                  .Publish(subjects::kPresenceHeartbeat, {"alice"}, R"({"connId":"a0000001"})",
                           telemetry::SpanContext{})
                  .ok());
  ASSERT_TRUE(alice->Flush(5s).ok());
  EXPECT_TRUE(WaitFor([&] { return (*conns)->Get("alice.a0000001", {}).ok(); }, 10s));
  AliceStillChats(*alice, "after bob's connection ids");

  // 2. Subscriptions: beyond the JWT's subs limit nats-server refuses them.
  std::vector<natsSubscription*> subs;
  for (int i = 0; i < kMaxSubscriptions + 5; ++i) {
    natsSubscription* sub = nullptr;
    const std::string subject = "room.notify.flood" + std::to_string(i);
    if (natsConnection_SubscribeSync(&sub, bob->connection().native(), subject.c_str()) ==
        NATS_OK) {
      subs.push_back(sub);
    }
  }
  (void)bob->Flush(2s);
  EXPECT_TRUE(WaitFor([&] { return ErrorMentions(*bob, "maximum subscriptions exceeded"); }, 10s))
      << "bob's last error: " << bob->LastError();
  for (natsSubscription* sub : subs) natsSubscription_Destroy(sub);
  AliceStillChats(*alice, "after bob's subscriptions");

  // 3. Payload: the server announces the JWT's payload limit (64 KiB) to bob's client, which
  //    refuses a bigger publish (a client that sends it anyway is disconnected by the server);
  //    nothing of it reaches anyone.
  auto bob2 = Login("bob", "bob123");
  ASSERT_NE(bob2, nullptr);
  // The user's limit arrives in an INFO update right after the CONNECT is accepted.
  EXPECT_TRUE(WaitFor(
      [&] { return natsConnection_GetMaxPayload(bob2->connection().native()) == long{64} * 1024; },
      10s))
      << natsConnection_GetMaxPayload(bob2->connection().native());
  const std::string huge_text(size_t{70} * 1024, 'x');
  const std::string body =
      json{{"user", "bob"}, {"text", huge_text}, {"timestamp", 1}, {"room", "general"}}.dump();
  core::Status huge = bob2->connection().Publish(subjects::kDeliverSend, {"bob", "general"}, body,
                                                 telemetry::SpanContext{});
  EXPECT_EQ(huge.code(), core::ErrorCode::kResourceExhausted) << huge.ToString();
  AliceStillChats(*alice, "after bob's payload");
  std::lock_guard lock(mu_);
  EXPECT_EQ(charlie_saw_.count(huge_text), 0u);
}

}  // namespace
}  // namespace chat::testing
