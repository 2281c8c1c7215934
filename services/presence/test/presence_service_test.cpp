// presence-service against a real nats-server: the service runs in-process with an
// InMemoryTelemetry; the test plays room-service (room.changed deltas) and browsers (heartbeats,
// updates, queries through per-user reply inboxes) over natsx connections.
#include "presence_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/presence.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/core/clock.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/natsx/kv.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/readme_routes.hpp"
#include "chat/testing/service_fixture.hpp"
#include "chat/testing/wait_for.hpp"
#include "presence_state.hpp"

namespace {

using namespace std::chrono_literals;
namespace contracts = chat::contracts;
namespace subjects = chat::contracts::subjects;
namespace natsx = chat::natsx;
namespace tel = chat::telemetry;
namespace sdk = chat::telemetry::sdk;
namespace ps = chat::presence_service;
using chat::testing::WaitFor;
using contracts::PresenceDiff;
using contracts::PresenceDiffAction;
using contracts::PresenceStatus;

// Every message received on one subscription, thread-safe.
class Collector {
 public:
  struct Received {
    std::string subject;
    std::string payload;
  };
  natsx::Handler Handler() {
    return [this](const natsx::Message& m, natsx::MessageContext&) {
      std::lock_guard lock(mu_);
      got_.push_back({std::string(m.subject()), std::string(m.payload())});
      return chat::core::Status();
    };
  }
  std::vector<Received> All() const {
    std::lock_guard lock(mu_);
    return got_;
  }
  size_t Count() const { return All().size(); }
  // Diffs received on `subject`.
  std::vector<PresenceDiff> Diffs(const std::string& subject) const {
    std::vector<PresenceDiff> out;
    for (const auto& r : All()) {
      if (r.subject != subject) continue;
      auto d = contracts::FromJson<PresenceDiff>(r.payload);
      EXPECT_TRUE(d.ok()) << r.payload;
      if (d.ok()) out.push_back(*d);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Received> got_;
};

class PresenceServiceTest : public chat::testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    svc_conn_ = Connect("presence-service", "", tel_);
    ASSERT_NE(svc_conn_, nullptr);
    svc_bus_ = std::make_unique<chat::runtime::NatsBus>(*svc_conn_);
    client_ = Connect("test-client", "", client_tel_);
    ASSERT_NE(client_, nullptr);
  }

  void TearDown() override {
    if (service_) service_->Drain(2s);
    service_.reset();
  }

  void StartService(std::chrono::seconds ttl = 45s, int max_connections_per_user = 8) {
    ps::PresenceConfig config;
    config.conn_ttl = ttl;
    config.max_connections_per_user = max_connections_per_user;
    config.sweep_interval = 100ms;
    auto s = ps::PresenceService::Create(config, *svc_bus_, tel_.telemetry(),
                                         chat::core::SystemClock::Instance());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
  }

  std::unique_ptr<natsx::Subscription> Listen(const chat::core::SubjectTemplate& tmpl,
                                              Collector& into) {
    auto sub = client_->Subscribe({.templates = {tmpl}}, into.Handler());
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    EXPECT_TRUE(client_->Flush(2s).ok());
    return sub.ok() ? std::move(*sub) : nullptr;
  }

  // What room-service announces after a join.
  void Join(const std::string& room, const std::string& user,
            contracts::RoomType type = contracts::RoomType::kPublic) {
    contracts::RoomChanged delta{room, contracts::RoomChangeAction::kJoin, user, type};
    ASSERT_TRUE(
        client_
            ->Publish(subjects::kRoomChanged, {room}, contracts::ToJson(delta), tel::SpanContext{})
            .ok());
    ASSERT_TRUE(WaitFor([&] { return service_->mirror().index().IsMember(room, user); }, 5s))
        << room << "/" << user;
  }

  void Heartbeat(const std::string& user, const std::string& conn_id) {
    ASSERT_TRUE(client_
                    ->Publish(subjects::kPresenceHeartbeat, {user},
                              R"({"connId":")" + conn_id + R"("})", tel::SpanContext{})
                    .ok());
  }

  // presence.room.{room} as `user` (reply inbox _INBOX.{user}.…); the raw reply payload.
  std::string Query(const std::string& user, const std::string& room) {
    auto conn = Connect("browser-" + user, "_INBOX." + user, client_tel_);
    if (conn == nullptr) return "";
    auto reply = conn->Request(subjects::kPresenceRoom, {room}, "", 5s, tel::SpanContext{});
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? std::string(reply->payload()) : "";
  }

  std::unique_ptr<natsx::KeyValue> Bucket(std::string_view name) {
    if (!js_) {
      auto js = natsx::JetStream::Create(*client_);
      EXPECT_TRUE(js.ok());
      js_ = std::move(*js);
    }
    auto kv = js_->BindKeyValue(std::string(name));
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    return kv.ok() ? std::move(*kv) : nullptr;
  }

  std::optional<PresenceStatus> StoredStatus(const std::string& user) {
    auto kv = Bucket(contracts::jetstream::kBucketPresence);
    auto e = kv->Get(user, tel::SpanContext{});
    if (!e.ok()) return std::nullopt;
    auto rec = ps::DecodePresenceRecord(e->value);
    EXPECT_TRUE(rec.ok()) << e->value;
    return rec.ok() ? std::optional(rec->status) : std::nullopt;
  }

  double Counter(const std::string& name) {
    return tel_.metrics().AddCounter(name, "").Default().Value();
  }
  double LabeledCounter(const std::string& name, const std::string& label, std::string_view value) {
    return tel_.metrics().AddCounter(name, "", {label}).With({value}).Value();
  }
  double Failures(std::string_view tmpl, std::string_view code) {
    return tel_.metrics()
        .AddCounter("chat_handler_failures_total", "", {"template", "code"})
        .With({tmpl, code})
        .Value();
  }
  double Gauge(const std::string& name) {
    return tel_.metrics().AddGauge(name, "").Default().Value();
  }

  sdk::InMemoryTelemetry client_tel_;
  std::unique_ptr<natsx::Connection> svc_conn_;
  std::unique_ptr<chat::runtime::NatsBus> svc_bus_;  // over svc_conn_
  std::unique_ptr<natsx::Connection> client_;
  std::unique_ptr<natsx::JetStream> js_;
  std::unique_ptr<ps::PresenceService> service_;
};

// The README's "Routes" table lists what the dispatcher really registers (issue 12): subject,
// kind, queue group and identity.
TEST_F(PresenceServiceTest, RoutesMatchTheReadme) {
  StartService();
  ASSERT_NE(service_, nullptr);
  EXPECT_EQ(::chat::testing::RouteRows(service_->Routes()),
            ::chat::testing::ReadmeRouteRows("services/presence/README.md"));
}

TEST_F(PresenceServiceTest, HeartbeatMakesUserOnlineWithPublicDiff) {
  StartService();
  Collector room_diffs, member_diffs;
  auto s1 = Listen(subjects::kRoomPresence, room_diffs);
  auto s2 = Listen(subjects::kDeliverPresence, member_diffs);
  Join("general", "alice");

  Heartbeat("alice", "c1");
  ASSERT_TRUE(WaitFor([&] { return room_diffs.Count() >= 1; }, 5s));
  auto diffs = room_diffs.Diffs("room.presence.general");
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].action, PresenceDiffAction::kOnline);
  EXPECT_EQ(diffs[0].user_id, "alice");
  EXPECT_EQ(diffs[0].status, PresenceStatus::kOnline);
  EXPECT_EQ(StoredStatus("alice"), PresenceStatus::kOnline);
  auto conns = Bucket(contracts::jetstream::kBucketPresenceConn);
  EXPECT_TRUE(conns->Get("alice.c1", tel::SpanContext{}).ok());

  // A second heartbeat (same or other tab) is not a new online event.
  Heartbeat("alice", "c2");
  ASSERT_TRUE(WaitFor([&] { return Counter("presence_heartbeats_total") == 2; }, 5s));
  ASSERT_TRUE(WaitFor([&] { return Gauge("presence_connections") == 2; }, 5s));
  EXPECT_EQ(Gauge("presence_online_users"), 1);
  ASSERT_TRUE(client_->Flush(2s).ok());
  EXPECT_EQ(room_diffs.Count(), 1u);
  EXPECT_EQ(member_diffs.Count(), 0u);  // public rooms are multicast only

  auto span = tel_.FindSpan("process presence.heartbeat.{user}");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->kind, tel::SpanKind::kConsumer);
  EXPECT_EQ(sdk::StringAttribute(*span, contracts::attr::kUser), "alice");
  EXPECT_EQ(sdk::StringAttribute(*span, contracts::attr::kPresenceStatus), "online");
  auto publish = tel_.FindSpan("publish room.presence.{room}");
  ASSERT_TRUE(publish.has_value());
  EXPECT_EQ(publish->parent_span_id, span->span_id);
}

TEST_F(PresenceServiceTest, PrivateAndDmDiffsGoPerMember) {
  StartService();
  Collector room_diffs, member_diffs;
  auto s1 = Listen(subjects::kRoomPresence, room_diffs);
  auto s2 = Listen(subjects::kDeliverPresence, member_diffs);
  Join("secret", "alice", contracts::RoomType::kPrivate);
  Join("secret", "bob", contracts::RoomType::kPrivate);
  Join("dm-alice-bob", "alice", contracts::RoomType::kDm);
  Join("dm-alice-bob", "bob", contracts::RoomType::kDm);

  Heartbeat("alice", "c1");
  // alice and bob each get one copy per room.
  ASSERT_TRUE(WaitFor([&] { return member_diffs.Count() >= 4; }, 5s));
  for (const char* subject :
       {"deliver.alice.presence.secret", "deliver.bob.presence.secret",
        "deliver.alice.presence.dm-alice-bob", "deliver.bob.presence.dm-alice-bob"}) {
    auto diffs = member_diffs.Diffs(subject);
    ASSERT_EQ(diffs.size(), 1u) << subject;
    EXPECT_EQ(diffs[0].action, PresenceDiffAction::kOnline);
    EXPECT_EQ(diffs[0].user_id, "alice");
  }
  ASSERT_TRUE(client_->Flush(2s).ok());
  EXPECT_EQ(room_diffs.Count(), 0u);
  EXPECT_EQ(member_diffs.Count(), 4u);
}

TEST_F(PresenceServiceTest, RoomQueryAnswersStatuses) {
  StartService();
  Join("general", "alice");
  Join("general", "bob");
  Heartbeat("alice", "c1");
  ASSERT_TRUE(WaitFor([&] { return StoredStatus("alice") == PresenceStatus::kOnline; }, 5s));
  ASSERT_TRUE(client_
                  ->Publish(subjects::kPresenceUpdate, {"alice"}, R"({"status":"away"})",
                            tel::SpanContext{})
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return StoredStatus("alice") == PresenceStatus::kAway; }, 5s));
  ASSERT_TRUE(
      WaitFor([&] { return LabeledCounter("presence_updates_total", "status", "away") == 1; }, 5s));

  // A public room answers anyone, carol included.
  std::string raw = Query("carol", "general");
  auto reply = contracts::FromJson<contracts::PresenceRoomReply>(raw);
  ASSERT_TRUE(reply.ok()) << raw;
  ASSERT_EQ(reply->members.size(), 2u);
  EXPECT_EQ(reply->members[0], (contracts::PresenceEntry{"alice", PresenceStatus::kAway}));
  EXPECT_EQ(reply->members[1], (contracts::PresenceEntry{"bob", PresenceStatus::kOffline}));

  // The dispatcher counts a query after sending its reply.
  EXPECT_TRUE(
      WaitFor([&] { return LabeledCounter("presence_queries_total", "result", "ok") == 1; }, 5s));
  auto& hist = tel_.metrics()
                   .AddHistogram("presence_query_duration_seconds", "", tel::kBucketsNats)
                   .Default();
  EXPECT_EQ(hist.Count(), 1u);
  auto span = tel_.FindSpan("process presence.room.{room}");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->kind, tel::SpanKind::kServer);
  EXPECT_EQ(sdk::StringAttribute(*span, contracts::attr::kReplyResult), "ok");
  EXPECT_EQ(sdk::StringAttribute(*span, contracts::attr::kRoom), "general");
  EXPECT_EQ(sdk::StringAttribute(*span, contracts::attr::kUser), "carol");
}

TEST_F(PresenceServiceTest, NonMemberQueryOfDmIsDenied) {
  StartService();
  Join("dm-alice-bob", "alice", contracts::RoomType::kDm);
  Join("dm-alice-bob", "bob", contracts::RoomType::kDm);

  std::string raw = Query("carol", "dm-alice-bob");
  auto err = contracts::FromJson<contracts::ErrorReply>(raw);
  ASSERT_TRUE(err.ok()) << raw;
  EXPECT_EQ(err->code, chat::core::ErrorCode::kPermissionDenied);
  // The dispatcher counts a query after sending its reply.
  EXPECT_TRUE(WaitFor(
      [&] { return LabeledCounter("presence_queries_total", "result", "denied") == 1; }, 5s));
  auto span = tel_.FindSpan("process presence.room.{room}");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(sdk::StringAttribute(*span, contracts::attr::kReplyResult), "denied");

  // A member gets the answer.
  auto ok = contracts::FromJson<contracts::PresenceRoomReply>(Query("bob", "dm-alice-bob"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->members.size(), 2u);
  // The dispatcher counts a query after sending its reply.
  EXPECT_TRUE(
      WaitFor([&] { return LabeledCounter("presence_queries_total", "result", "ok") == 1; }, 5s));
}

TEST_F(PresenceServiceTest, BodyUserDifferentFromSubjectIsRejected) {
  StartService();
  ASSERT_TRUE(client_
                  ->Publish(subjects::kPresenceHeartbeat, {"alice"},
                            R"({"userId":"bob","connId":"c1"})", tel::SpanContext{})
                  .ok());
  ASSERT_TRUE(
      WaitFor([&] { return Failures("presence.heartbeat.{user}", "invalid_argument") == 1; }, 5s));
  EXPECT_EQ(Counter("presence_heartbeats_total"), 0);
  auto conns = Bucket(contracts::jetstream::kBucketPresenceConn);
  EXPECT_FALSE(conns->Get("alice.c1", tel::SpanContext{}).ok());
  EXPECT_FALSE(conns->Get("bob.c1", tel::SpanContext{}).ok());
  EXPECT_FALSE(StoredStatus("alice").has_value());
  EXPECT_FALSE(StoredStatus("bob").has_value());
  EXPECT_EQ(Gauge("presence_online_users"), 0);
}

TEST_F(PresenceServiceTest, InvalidStatusIsDroppedAndCounted) {
  StartService();
  Heartbeat("alice", "c1");
  ASSERT_TRUE(WaitFor([&] { return StoredStatus("alice") == PresenceStatus::kOnline; }, 5s));
  ASSERT_TRUE(client_
                  ->Publish(subjects::kPresenceUpdate, {"alice"}, R"({"status":"sleepy"})",
                            tel::SpanContext{})
                  .ok());
  ASSERT_TRUE(
      WaitFor([&] { return Failures("presence.update.{user}", "invalid_argument") == 1; }, 5s));
  EXPECT_EQ(StoredStatus("alice"), PresenceStatus::kOnline);
  for (std::string_view status : ps::kStatuses) {
    EXPECT_EQ(LabeledCounter("presence_updates_total", "status", status), 0) << status;
  }
}

TEST_F(PresenceServiceTest, UpdateWithoutConnectionIsIgnored) {
  StartService();
  ASSERT_TRUE(client_
                  ->Publish(subjects::kPresenceUpdate, {"alice"}, R"({"status":"busy"})",
                            tel::SpanContext{})
                  .ok());
  ASSERT_TRUE(
      WaitFor([&] { return tel_.FindSpan("process presence.update.{user}").has_value(); }, 5s));
  auto span = tel_.FindSpan("process presence.update.{user}");
  EXPECT_NE(sdk::FindEvent(*span, "rejected"), nullptr);
  EXPECT_FALSE(StoredStatus("alice").has_value());
  EXPECT_EQ(LabeledCounter("presence_updates_total", "status", "busy"), 0);
}

TEST_F(PresenceServiceTest, LastDisconnectGoesOfflineAndLeavesRooms) {
  StartService();
  Collector room_diffs, leaves;
  auto s1 = Listen(subjects::kRoomPresence, room_diffs);
  auto s2 = Listen(subjects::kRoomLeave, leaves);
  Join("general", "alice");
  Heartbeat("alice", "c1");
  Heartbeat("alice", "c2");
  ASSERT_TRUE(WaitFor([&] { return Gauge("presence_connections") == 2; }, 5s));

  ASSERT_TRUE(client_
                  ->Publish(subjects::kPresenceDisconnect, {"alice"}, R"({"connId":"c1"})",
                            tel::SpanContext{})
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return Gauge("presence_connections") == 1; }, 5s));
  EXPECT_EQ(StoredStatus("alice"), PresenceStatus::kOnline);

  ASSERT_TRUE(client_
                  ->Publish(subjects::kPresenceDisconnect, {"alice"}, R"({"connId":"c2"})",
                            tel::SpanContext{})
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return leaves.Count() == 1; }, 5s));
  EXPECT_EQ(leaves.All()[0].subject, "room.leave.general.alice");
  auto leave = contracts::FromJson<contracts::RoomMembershipRequest>(leaves.All()[0].payload);
  ASSERT_TRUE(leave.ok());
  EXPECT_EQ(leave->user_id, "alice");
  auto diffs = room_diffs.Diffs("room.presence.general");
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[1].action, PresenceDiffAction::kOffline);
  EXPECT_EQ(StoredStatus("alice"), PresenceStatus::kOffline);
  EXPECT_EQ(Counter("presence_disconnects_total"), 2);
  EXPECT_EQ(Counter("presence_expirations_total"), 0);
  EXPECT_EQ(Gauge("presence_online_users"), 0);
  EXPECT_EQ(Gauge("presence_connections"), 0);
}

TEST_F(PresenceServiceTest, TtlExpiryTakesUserOffline) {
  StartService(2s);
  Collector room_diffs, leaves;
  auto s1 = Listen(subjects::kRoomPresence, room_diffs);
  auto s2 = Listen(subjects::kRoomLeave, leaves);
  Join("general", "alice");
  Join("random", "alice");
  Heartbeat("alice", "tab1");
  ASSERT_TRUE(WaitFor([&] { return Gauge("presence_online_users") == 1; }, 5s));
  EXPECT_EQ(Gauge("presence_connections"), 1);

  // No more heartbeats: the tab "crashed".
  ASSERT_TRUE(WaitFor([&] { return tel_.FindSpan("expire_connection").has_value(); }, 10s));
  ASSERT_TRUE(WaitFor([&] { return leaves.Count() == 2; }, 5s));
  std::vector<std::string> leave_subjects;
  for (const auto& l : leaves.All()) leave_subjects.push_back(l.subject);
  std::sort(leave_subjects.begin(), leave_subjects.end());
  EXPECT_EQ(leave_subjects,
            (std::vector<std::string>{"room.leave.general.alice", "room.leave.random.alice"}));
  ASSERT_TRUE(WaitFor([&] { return room_diffs.Diffs("room.presence.random").size() == 2; }, 5s));
  auto diffs = room_diffs.Diffs("room.presence.general");
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[1].action, PresenceDiffAction::kOffline);
  EXPECT_EQ(diffs[1].user_id, "alice");

  EXPECT_EQ(Counter("presence_expirations_total"), 1);
  EXPECT_EQ(Gauge("presence_online_users"), 0);
  EXPECT_EQ(Gauge("presence_connections"), 0);
  EXPECT_EQ(StoredStatus("alice"), PresenceStatus::kOffline);

  auto root = tel_.FindSpan("expire_connection");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->kind, tel::SpanKind::kInternal);
  EXPECT_FALSE(root->parent_span_id.IsValid());
  EXPECT_EQ(sdk::StringAttribute(*root, contracts::attr::kUser), "alice");
  size_t children = 0;
  for (const auto& s : tel_.FindSpans("publish room.presence.{room}")) {
    if (s.parent_span_id == root->span_id) ++children;
  }
  EXPECT_EQ(children, 2u);
  size_t leave_children = 0;
  for (const auto& s : tel_.FindSpans("publish room.leave.{room}.{user}")) {
    if (s.parent_span_id == root->span_id) ++leave_children;
  }
  EXPECT_EQ(leave_children, 2u);
  // The user left both rooms in the local view as well.
  EXPECT_TRUE(service_->mirror().index().RoomsOf("alice").empty());
}

TEST_F(PresenceServiceTest, MembershipLeaveSendsOfflineDiff) {
  StartService();
  Collector member_diffs;
  auto s = Listen(subjects::kDeliverPresence, member_diffs);
  Join("secret", "alice", contracts::RoomType::kPrivate);
  Join("secret", "bob", contracts::RoomType::kPrivate);
  contracts::RoomChanged leave{"secret", contracts::RoomChangeAction::kLeave, "alice",
                               contracts::RoomType::kPrivate};
  ASSERT_TRUE(client_
                  ->Publish(subjects::kRoomChanged, {"secret"}, contracts::ToJson(leave),
                            tel::SpanContext{})
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return member_diffs.Count() >= 1; }, 5s));
  auto diffs = member_diffs.Diffs("deliver.bob.presence.secret");
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].action, PresenceDiffAction::kOffline);
  EXPECT_EQ(diffs[0].user_id, "alice");
  EXPECT_FALSE(service_->mirror().index().IsMember("secret", "alice"));
}

TEST_F(PresenceServiceTest, StartUpLoadsConnectionsAndMembership) {
  // State left by an earlier instance and by room-service, before this instance starts.
  auto js = natsx::JetStream::Create(*client_);
  ASSERT_TRUE(js.ok());
  auto rooms = (*js)->CreateKeyValue({.bucket = std::string(contracts::jetstream::kBucketRooms)});
  ASSERT_TRUE(rooms.ok()) << rooms.status().ToString();
  ASSERT_TRUE((*rooms)->Put("secret.alice", "{}", tel::SpanContext{}).ok());
  ASSERT_TRUE((*rooms)->Put("secret.bob", "{}", tel::SpanContext{}).ok());
  auto conns =
      (*js)->CreateKeyValue({.bucket = std::string(contracts::jetstream::kBucketPresenceConn),
                             .ttl = 45s,
                             .memory_storage = true});
  ASSERT_TRUE(conns.ok()) << conns.status().ToString();
  ASSERT_TRUE((*conns)->Put("alice.c1", "{}", tel::SpanContext{}).ok());

  StartService();
  EXPECT_EQ(Gauge("presence_online_users"), 1);
  EXPECT_EQ(Gauge("presence_connections"), 1);
  EXPECT_TRUE(service_->mirror().index().IsMember("secret", "bob"));

  // The room's type is unknown (ROOMS carries none): members may query, others may not.
  auto reply = contracts::FromJson<contracts::PresenceRoomReply>(Query("bob", "secret"));
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->members.size(), 2u);
  EXPECT_EQ(reply->members[0], (contracts::PresenceEntry{"alice", PresenceStatus::kOnline}));
  EXPECT_EQ(reply->members[1], (contracts::PresenceEntry{"bob", PresenceStatus::kOffline}));
  auto err = contracts::FromJson<contracts::ErrorReply>(Query("carol", "secret"));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->code, chat::core::ErrorCode::kPermissionDenied);

  // And its diffs go per member, never multicast.
  Collector room_diffs, member_diffs;
  auto s1 = Listen(subjects::kRoomPresence, room_diffs);
  auto s2 = Listen(subjects::kDeliverPresence, member_diffs);
  Heartbeat("bob", "b1");
  ASSERT_TRUE(WaitFor([&] { return member_diffs.Count() >= 2; }, 5s));
  EXPECT_EQ(member_diffs.Diffs("deliver.alice.presence.secret").size(), 1u);
  EXPECT_EQ(member_diffs.Diffs("deliver.bob.presence.secret").size(), 1u);
  ASSERT_TRUE(client_->Flush(2s).ok());
  EXPECT_EQ(room_diffs.Count(), 0u);
}

TEST_F(PresenceServiceTest, RebuildsStateAfterNatsReconnect) {
  StartService();
  Heartbeat("alice", "c1");
  ASSERT_TRUE(WaitFor([&] { return service_->tracker().HasAny("alice"); }, 5s));
  Join("general", "alice");  // a delta only: ROOMS never had it
  // room-service wrote bob to ROOMS, but its delta never reached us (as while disconnected).
  auto rooms = Bucket(contracts::jetstream::kBucketRooms);
  ASSERT_NE(rooms, nullptr);
  ASSERT_TRUE(rooms->Put("general.bob", "{}", tel::SpanContext{}).ok());
  EXPECT_FALSE(service_->mirror().index().IsMember("general", "bob"));

  // The restarted server lost the memory buckets (PRESENCE, PRESENCE_CONN) and their watch.
  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(WaitFor([&] { return !svc_conn_->IsConnected(); }, 10s));
  ASSERT_TRUE(server_->Start().ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        return service_->mirror().index().Members("general") == std::vector<std::string>{"bob"};
      },
      15s))
      << "membership not re-hydrated";
  ASSERT_TRUE(WaitFor([&] { return tel_.FindSpans("rebuild_presence_state").size() == 1; }, 5s));
  auto span = tel_.FindSpans("rebuild_presence_state").front();
  EXPECT_EQ(span.kind, tel::SpanKind::kInternal);
  EXPECT_FALSE(span.parent_span_id.IsValid());
  EXPECT_NE(span.status_code, tel::StatusCode::kError);
  EXPECT_EQ(service_->rebuilder().failures(), 0u);
  // The tracker now mirrors the (empty) recreated PRESENCE_CONN.
  EXPECT_FALSE(service_->tracker().HasAny("alice"));
  EXPECT_EQ(Gauge("presence_connections"), 0);

  // The recreated buckets are in use and the restarted watcher follows PRESENCE_CONN again: a
  // key written behind the service's back (another instance's heartbeat) reaches the tracker.
  ASSERT_TRUE(WaitFor([&] { return client_->IsConnected(); }, 10s));
  auto conns = Bucket(contracts::jetstream::kBucketPresenceConn);
  ASSERT_NE(conns, nullptr);
  ASSERT_TRUE(conns->Put("dave.d1", "{}", tel::SpanContext{}).ok());
  ASSERT_TRUE(WaitFor([&] { return service_->tracker().HasAny("dave"); }, 5s))
      << "watcher not restarted";
  Heartbeat("alice", "c2");
  ASSERT_TRUE(WaitFor([&] { return service_->tracker().HasAny("alice"); }, 5s));
  EXPECT_TRUE(WaitFor([&] { return StoredStatus("alice") == PresenceStatus::kOnline; }, 5s));
}

TEST(PresenceStateTest, TrackerExpiresOnlyOldConnections) {
  ps::ConnectionTracker t;
  EXPECT_TRUE(t.Touch("alice", "a", 100));
  EXPECT_FALSE(t.Touch("alice", "b", 300));
  EXPECT_TRUE(t.Touch("bob", "x", 100));
  auto expired = t.TakeExpired(200);
  ASSERT_EQ(expired.size(), 2u);
  for (const auto& e : expired) {
    EXPECT_EQ(e.last, e.user == "bob") << e.user;
  }
  EXPECT_EQ(t.Users(), 1u);
  EXPECT_EQ(t.Connections(), 1u);
  auto r = t.Remove("alice", "b");
  EXPECT_TRUE(r.was_tracked);
  EXPECT_TRUE(r.now_empty);
}

TEST(PresenceStateTest, UnknownRoomsAreRestricted) {
  ps::RoomTypes types;
  EXPECT_EQ(types.Visibility("general"), ps::RoomVisibility::kRestricted);
  types.Learn("general", contracts::RoomType::kPublic);
  EXPECT_EQ(types.Visibility("general"), ps::RoomVisibility::kPublic);
  types.Learn("dm-a-b", contracts::RoomType::kPublic);  // the dm- prefix wins
  EXPECT_EQ(types.Visibility("dm-a-b"), ps::RoomVisibility::kRestricted);
  EXPECT_EQ(ps::SplitConnKey("alice.ab-12"),
            (std::optional<std::pair<std::string, std::string>>{{"alice", "ab-12"}}));
  EXPECT_FALSE(ps::SplitConnKey("nodot").has_value());
}

}  // namespace

namespace {

// Issue 11 item 6: one user held 150 PRESENCE_CONN keys. Beyond the per-user cap a heartbeat with
// a new connId is refused — counted, logged, nothing stored — while that user's known
// connections keep refreshing and another user is served as before.
TEST_F(PresenceServiceTest, ConnectionIdsPerUserAreCapped) {
  StartService(45s, /*max_connections_per_user=*/3);
  auto conns = Bucket(contracts::jetstream::kBucketPresenceConn);
  for (const char* id : {"a1", "a2", "a3"}) Heartbeat("alice", id);
  ASSERT_TRUE(WaitFor([&] { return Counter("presence_heartbeats_total") >= 3; }, 5s));
  ASSERT_TRUE(WaitFor([&] { return conns->Get("alice.a3", tel::SpanContext{}).ok(); }, 5s));

  Heartbeat("alice", "a4");
  ASSERT_TRUE(WaitFor(
      [&] {
        return LabeledCounter("presence_rejected_total", "reason", "too_many_connections") == 1;
      },
      5s));
  EXPECT_EQ(conns->Get("alice.a4", tel::SpanContext{}).status().code(),
            chat::core::ErrorCode::kNotFound);
  bool logged = WaitFor(
      [&] {
        for (const auto& r : tel_.LogRecords()) {
          if (r.level != tel::LogLevel::kWarn || r.body != "message rejected") continue;
          const auto* v = sdk::FindAttribute(r.attributes, "chat.reason");
          if (v != nullptr && std::get<std::string>(*v) == "too_many_connections") return true;
        }
        return false;
      },
      5s);
  EXPECT_TRUE(logged);

  // A known connection still refreshes; another user is not affected by alice's cap.
  Heartbeat("alice", "a1");
  Heartbeat("bob", "b1");
  ASSERT_TRUE(WaitFor([&] { return conns->Get("bob.b1", tel::SpanContext{}).ok(); }, 5s));
  ASSERT_TRUE(WaitFor([&] { return Counter("presence_heartbeats_total") >= 6; }, 5s));
  EXPECT_EQ(LabeledCounter("presence_rejected_total", "reason", "too_many_connections"), 1);
  EXPECT_TRUE(conns->Get("alice.a1", tel::SpanContext{}).ok());

  // A disconnect frees a slot.
  ASSERT_TRUE(client_
                  ->Publish(subjects::kPresenceDisconnect, {"alice"}, R"({"connId":"a2"})",
                            tel::SpanContext{})
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return Counter("presence_disconnects_total") >= 1; }, 5s));
  ASSERT_TRUE(WaitFor(
      [&] {
        Heartbeat("alice", "a4");
        return conns->Get("alice.a4", tel::SpanContext{}).ok();
      },
      5s));
}

TEST(ConnectionTrackerTest, AdmitsKnownIdsAndNewOnesBelowTheCap) {
  ps::ConnectionTracker t;
  EXPECT_TRUE(t.Admits("alice", "c1", 2));
  t.Touch("alice", "c1", 1);
  t.Touch("alice", "c2", 1);
  EXPECT_TRUE(t.Admits("alice", "c1", 2));
  EXPECT_FALSE(t.Admits("alice", "c3", 2));
  EXPECT_TRUE(t.Admits("bob", "c3", 2));
  EXPECT_EQ(t.ConnectionsOf("alice"), 2u);
  t.Remove("alice", "c1");
  EXPECT_TRUE(t.Admits("alice", "c3", 2));
}

}  // namespace
