// fanout-service against a real nats-server (JetStream on): the service runs in-process with an
// InMemoryTelemetry; a raw libnats connection plays room-service (room.members answers) and
// observes every subject fanout publishes, without adding spans of its own.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chat/contracts/ids.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/stickers.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/core/clock.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/natsx/kv.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/readme_routes.hpp"
#include "chat/testing/service_fixture.hpp"
#include "chat/testing/wait_for.hpp"
#include "service.hpp"

namespace {

using namespace std::chrono_literals;
namespace contracts = chat::contracts;
namespace subjects = chat::contracts::subjects;
namespace fanout = chat::fanout;
namespace natsx = chat::natsx;
namespace sdk = chat::telemetry::sdk;
namespace tel = chat::telemetry;
using chat::testing::WaitFor;

struct Captured {
  std::string subject;
  std::string payload;
  bool has_traceparent = false;
};

// A plain libnats connection: room.members responder and observer of fanout's output.
class RawPeer {
 public:
  explicit RawPeer(const std::string& url) {
    EXPECT_EQ(natsConnection_ConnectTo(&nc_, url.c_str()), NATS_OK);
  }
  ~RawPeer() {
    for (auto* s : subs_) {
      natsSubscription_Unsubscribe(s);
      natsSubscription_Destroy(s);
    }
    natsConnection_Destroy(nc_);
  }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  void Observe(const char* pattern) {
    natsSubscription* s = nullptr;
    ASSERT_EQ(natsConnection_Subscribe(&s, nc_, pattern, &RawPeer::OnObserved, this), NATS_OK);
    subs_.push_back(s);
  }
  void ServeMembers() {
    natsSubscription* s = nullptr;
    ASSERT_EQ(natsConnection_Subscribe(&s, nc_, "room.members.*", &RawPeer::OnMembers, this),
              NATS_OK);
    subs_.push_back(s);
  }
  // Plays sticker-service (stickers.products, stickers.product.{id}) from SetStickers.
  void ServeStickers() {
    for (const char* pattern : {"stickers.products", "stickers.product.*"}) {
      natsSubscription* s = nullptr;
      ASSERT_EQ(natsConnection_Subscribe(&s, nc_, pattern, &RawPeer::OnStickers, this), NATS_OK);
      subs_.push_back(s);
    }
  }
  // pack id → its stickers' image URLs.
  void SetStickers(std::map<std::string, std::vector<std::string>> packs) {
    std::lock_guard lock(mu_);
    stickers_ = std::move(packs);
  }
  int sticker_product_requests() {
    std::lock_guard lock(mu_);
    return sticker_product_requests_;
  }
  void Flush() { ASSERT_EQ(natsConnection_FlushTimeout(nc_, 5000), NATS_OK); }
  void Publish(const std::string& subject, const std::string& payload) {
    ASSERT_EQ(natsConnection_Publish(nc_, subject.c_str(), payload.data(),
                                     static_cast<int>(payload.size())),
              NATS_OK);
    Flush();
  }

  // What the fake room-service answers for `room`: its users and type (nullopt = the type is
  // unknown, as when room-service cannot read Postgres).
  void SetMembers(const std::string& room, std::vector<std::string> users,
                  std::optional<contracts::RoomType> type = contracts::RoomType::kPublic) {
    std::lock_guard lock(mu_);
    members_[room] = std::move(users);
    types_[room] = type;
  }
  int member_requests() {
    std::lock_guard lock(mu_);
    return member_requests_;
  }
  std::vector<Captured> Received(const std::string& prefix = "") {
    std::lock_guard lock(mu_);
    std::vector<Captured> out;
    for (const auto& c : received_) {
      if (c.subject.rfind(prefix, 0) == 0) out.push_back(c);
    }
    return out;
  }
  std::optional<Captured> WaitOne(const std::string& subject, size_t index = 0) {
    std::optional<Captured> found;
    WaitFor(
        [&] {
          size_t n = 0;
          for (const auto& c : Received()) {
            if (c.subject == subject && n++ == index) {
              found = c;
              return true;
            }
          }
          return false;
        },
        10s);
    return found;
  }

 private:
  static void OnObserved(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<RawPeer*>(closure);
    Captured c;
    c.subject = natsMsg_GetSubject(msg);
    c.payload.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    const char* tp = nullptr;
    c.has_traceparent =
        natsMsgHeader_Get(msg, std::string(chat::telemetry::semconv::kTraceparentHeader).c_str(),
                          &tp) == NATS_OK;
    {
      std::lock_guard lock(self->mu_);
      self->received_.push_back(std::move(c));
    }
    natsMsg_Destroy(msg);
  }
  static void OnMembers(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<RawPeer*>(closure);
    std::string subject = natsMsg_GetSubject(msg);
    std::string room = subject.substr(std::string("room.members.").size());
    contracts::RoomMembersReply reply;
    {
      std::lock_guard lock(self->mu_);
      ++self->member_requests_;
      auto it = self->members_.find(room);
      if (it != self->members_.end()) reply.users = it->second;
      auto t = self->types_.find(room);
      if (t != self->types_.end()) reply.type = t->second;
    }
    std::string json = contracts::ToJson(reply);
    if (natsMsg_GetReply(msg) != nullptr) {
      natsConnection_Publish(nc, natsMsg_GetReply(msg), json.data(), static_cast<int>(json.size()));
    }
    natsMsg_Destroy(msg);
  }

  static void OnStickers(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<RawPeer*>(closure);
    std::string subject = natsMsg_GetSubject(msg);
    std::string json;
    {
      std::lock_guard lock(self->mu_);
      if (subject == "stickers.products") {
        ++self->sticker_product_requests_;
        contracts::StickerProductList list;
        for (const auto& [id, urls] : self->stickers_) {
          list.products.push_back({id, id, "/stickers/" + id + "/thumb.svg"});
        }
        json = contracts::ToJson(list);
      } else {
        contracts::StickerList list;
        const std::string id = subject.substr(std::string("stickers.product.").size());
        int n = 0;
        for (const auto& url : self->stickers_[id]) {
          list.stickers.push_back({id + "-" + std::to_string(n++), url});
        }
        json = contracts::ToJson(list);
      }
    }
    if (natsMsg_GetReply(msg) != nullptr) {
      natsConnection_Publish(nc, natsMsg_GetReply(msg), json.data(), static_cast<int>(json.size()));
    }
    natsMsg_Destroy(msg);
  }

  natsConnection* nc_ = nullptr;
  std::vector<natsSubscription*> subs_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> members_;
  std::map<std::string, std::optional<contracts::RoomType>> types_;
  int member_requests_ = 0;
  std::map<std::string, std::vector<std::string>> stickers_;
  int sticker_product_requests_ = 0;
  std::vector<Captured> received_;
};

std::string Msg(const std::string& user, const std::string& room, int64_t ts,
                const std::string& text = "hi") {
  contracts::ChatMessage m;
  m.user = user;
  m.room = room;
  m.timestamp = ts;
  m.text = text;
  return contracts::ToJson(m);
}

class FanoutServiceTest : public chat::testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    peer_ = std::make_unique<RawPeer>(server_->url());
    peer_->ServeMembers();
    peer_->Observe("chat.>");
    peer_->Observe("room.notify.>");
    peer_->Observe("deliver.*.notify.>");
    peer_->Observe("deliver.*.admin.>");
    peer_->Observe("deliver.*.app.>");
    peer_->Flush();
    peer_->SetMembers("general", {"alice", "bob"});
    service_conn_ = Connect("fanout-service", "");
    service_bus_ = std::make_unique<chat::runtime::NatsBus>(*service_conn_);
  }

  void StartService(fanout::FanoutConfig config = {}) {
    config.workers = 2;
    config.kv_timeout = 300ms;
    auto svc = fanout::FanoutService::Create(config, *service_bus_, clock_);
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    service_ = std::move(*svc);
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& line : tel_.LogLines()) std::fprintf(stderr, "log: %s\n", line.c_str());
      for (const auto& span : tel_.Spans()) {
        std::fprintf(stderr, "span: %s status=%d\n", span.name.c_str(),
                     static_cast<int>(span.status_code));
      }
    }
    if (service_) service_->Drain(5s);
    service_.reset();
  }

  // The browser's ingest publish, traced like the web client's.
  void Send(natsx::Connection& client, const std::string& user, const std::string& room,
            const std::string& payload, const std::string& thread = "") {
    chat::core::Status s =
        thread.empty()
            ? client.Publish(subjects::kDeliverSend, {user, room}, payload, tel::SpanContext{})
            : client.Publish(subjects::kDeliverSendThread, {user, room, thread}, payload,
                             tel::SpanContext{});
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(client.Flush(5s).ok());
  }

  double Counter(const std::string& name, const std::string& label, std::string_view value) {
    return tel_.metrics().AddCounter(name, "", {label}).With({value}).Value();
  }
  double Gauge(const std::string& name) {
    return tel_.metrics().AddGauge(name, "").Default().Value();
  }
  bool WaitCounter(const std::string& name, const std::string& label, std::string_view value,
                   double at_least) {
    return WaitFor([&] { return Counter(name, label, value) >= at_least; }, 10s);
  }
  // Waits: the dispatcher counts a request before it writes the request's log line, so a
  // counter seen by WaitCounter does not mean the line is there yet.
  bool HasWarn(std::string_view body, std::string_view reason) {
    return WaitFor(
        [&] {
          for (const auto& r : tel_.LogRecords()) {
            if (r.level != tel::LogLevel::kWarn || r.body != body) continue;
            const auto* v = sdk::FindAttribute(r.attributes, "chat.reason");
            if (reason.empty() || (v != nullptr && std::get<std::string>(*v) == reason)) {
              return true;
            }
          }
          return false;
        },
        10s);
  }
  chat::core::Result<std::string> MsgGet(natsx::Connection& client, const std::string& id) {
    contracts::MsgGetRequest req;
    req.notify_id = id;
    CHAT_ASSIGN_OR_RETURN(auto reply, client.Request(subjects::kMsgGet, {}, contracts::ToJson(req),
                                                     5s, tel::SpanContext{}));
    std::string body(reply.payload());
    if (contracts::IsErrorReply(body)) {
      CHAT_ASSIGN_OR_RETURN(auto err, contracts::FromJson<contracts::ErrorReply>(body));
      return contracts::ToStatus(err);
    }
    return body;
  }
  std::optional<tel::SpanData> WaitSpan(std::string_view name) {
    if (!WaitFor([&] { return !tel_.FindSpans(name).empty(); }, 10s)) return std::nullopt;
    return tel_.FindSpans(name).front();
  }

  chat::core::FakeClock clock_;
  std::unique_ptr<RawPeer> peer_;
  std::unique_ptr<natsx::Connection> service_conn_;
  std::unique_ptr<chat::runtime::NatsBus> service_bus_;  // over service_conn_
  std::unique_ptr<fanout::FanoutService> service_;
};

std::string Str(const tel::SpanData& s, std::string_view key) {
  return sdk::StringAttribute(s, key).value_or("<absent>");
}

// The README's "Routes" table lists what the dispatcher really registers (issue 12): subject,
// kind, queue group and identity.
TEST_F(FanoutServiceTest, RoutesMatchTheReadme) {
  StartService();
  ASSERT_NE(service_, nullptr);
  EXPECT_EQ(::chat::testing::RouteRows(service_->Routes()),
            ::chat::testing::ReadmeRouteRows("services/fanout/README.md"));
}

TEST_F(FanoutServiceTest, AcceptedIngestRepublishesIdenticalBytesAndNotifiesPublicRoom) {
  StartService();
  auto alice = Connect("alice", "_INBOX.alice");
  const std::string payload = Msg("alice", "general", 1740650000123);
  Send(*alice, "alice", "general", payload);

  auto chat_msg = peer_->WaitOne("chat.general");
  ASSERT_TRUE(chat_msg.has_value());
  EXPECT_EQ(chat_msg->payload, payload);
  EXPECT_TRUE(chat_msg->has_traceparent);

  auto notify = peer_->WaitOne("room.notify.general");
  ASSERT_TRUE(notify.has_value());
  auto n = contracts::FromJson<contracts::Notification>(notify->payload);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->room, "general");
  EXPECT_EQ(n->user, "alice");
  EXPECT_EQ(n->timestamp, 1740650000123);
  EXPECT_EQ(notify->payload.find("\"hi\""), std::string::npos) << "a notification carries no text";
  EXPECT_TRUE(n->notify_id.rfind("general.1." + service_->instance_id() + ".", 0) == 0)
      << n->notify_id;

  // msg.get returns the very bytes.
  auto got = MsgGet(*alice, n->notify_id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, payload);

  EXPECT_TRUE(WaitCounter("fanout_ingest_total", "result", "accepted", 1));
  EXPECT_TRUE(WaitCounter("fanout_messages_total", "kind", "room", 1));
  EXPECT_TRUE(WaitCounter("fanout_deliveries_total", "kind", "room", 1));
  EXPECT_EQ(Counter("fanout_cache_lookups_total", "result", "miss"), 1);
  EXPECT_EQ(Counter("fanout_fetches_total", "result", "found"), 1);
  EXPECT_EQ(peer_->member_requests(), 1);

  // A second message hits the LRU: no second room.members request.
  Send(*alice, "alice", "general", Msg("alice", "general", 1740650000999));
  ASSERT_TRUE(peer_->WaitOne("chat.general", 1).has_value());
  EXPECT_TRUE(WaitCounter("fanout_cache_lookups_total", "result", "hit", 1));
  EXPECT_EQ(peer_->member_requests(), 1);
}

TEST_F(FanoutServiceTest, SpanShapeOfTheSendPath) {
  StartService();
  auto alice = Connect("alice", "_INBOX.alice");
  Send(*alice, "alice", "general", Msg("alice", "general", 1740650000123));
  ASSERT_TRUE(peer_->WaitOne("room.notify.general").has_value());

  auto ingest = WaitSpan("process deliver.{user}.send.{room}");
  auto republish = WaitSpan("publish chat.{room}");
  auto notify = WaitSpan("process chat.{room}");
  auto put = WaitSpan("put MSG_CACHE");
  auto room_notify = WaitSpan("publish room.notify.{room}");
  auto members = WaitSpan("request room.members.{room}");
  ASSERT_TRUE(ingest && republish && notify && put && room_notify && members);

  EXPECT_EQ(ingest->kind, tel::SpanKind::kConsumer);
  EXPECT_EQ(ingest->status_code, tel::StatusCode::kUnset);
  EXPECT_EQ(Str(*ingest, "chat.ingest.result"), "accepted");
  EXPECT_EQ(Str(*ingest, "chat.action"), "send");
  EXPECT_EQ(Str(*ingest, "chat.message_id"), "1740650000123-alice");
  EXPECT_EQ(Str(*ingest, "chat.room"), "general");
  EXPECT_EQ(Str(*ingest, "chat.user"), "alice");
  EXPECT_EQ(Str(*ingest, "chat.cache.result"), "miss");
  EXPECT_NE(sdk::FindEvent(*ingest, "cache_miss"), nullptr);
  EXPECT_EQ(members->parent_span_id, ingest->span_id);

  EXPECT_EQ(republish->kind, tel::SpanKind::kProducer);
  EXPECT_EQ(republish->parent_span_id, ingest->span_id);
  EXPECT_EQ(notify->kind, tel::SpanKind::kConsumer);
  EXPECT_EQ(notify->parent_span_id, republish->span_id);
  EXPECT_EQ(notify->trace_id, ingest->trace_id);
  EXPECT_EQ(Str(*notify, "chat.fanout.kind"), "room");
  EXPECT_EQ(put->kind, tel::SpanKind::kClient);
  EXPECT_EQ(put->parent_span_id, notify->span_id);
  EXPECT_EQ(room_notify->kind, tel::SpanKind::kProducer);
  EXPECT_EQ(room_notify->parent_span_id, notify->span_id);

  // The notifyId is a capability: never on a span.
  auto n =
      contracts::FromJson<contracts::Notification>(peer_->WaitOne("room.notify.general")->payload);
  ASSERT_TRUE(n.ok());
  for (const auto& span : tel_.Spans()) {
    for (const auto& a : span.attributes) {
      if (const auto* s = std::get_if<std::string>(&a.value)) {
        EXPECT_EQ(s->find(n->notify_id), std::string::npos) << span.name << " " << a.key;
      }
    }
  }
  for (const auto& line : tel_.LogLines()) EXPECT_EQ(line.find(n->notify_id), std::string::npos);

  // fanout_duration_seconds{kind=room} observed with the notify span as exemplar.
  auto& hist = tel_.metrics()
                   .AddHistogram("fanout_duration_seconds", "", tel::kBucketsNats, {"kind"})
                   .With({"room"});
  EXPECT_TRUE(WaitFor([&] { return hist.Count() == 1; }, 5s));
  std::string exposition = tel_.metrics().Expose(tel::ExpositionFormat::kOpenMetrics);
  EXPECT_NE(exposition.find(notify->trace_id.Hex()), std::string::npos);
}

TEST_F(FanoutServiceTest, ThreadIngestGoesToTheThreadSubject) {
  StartService();
  auto alice = Connect("alice", "_INBOX.alice");
  contracts::ChatMessage m;
  m.user = "alice";
  m.room = "general";
  m.timestamp = 1740650000500;
  m.text = "reply";
  m.parent_timestamp = 1740650000123;
  m.thread_id = contracts::ThreadId("general", 1740650000123);
  const std::string payload = contracts::ToJson(m);
  Send(*alice, "alice", "general", payload, m.thread_id);

  auto got = peer_->WaitOne("chat.general.thread." + m.thread_id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->payload, payload);
  auto notify = peer_->WaitOne("room.notify.general");
  ASSERT_TRUE(notify.has_value());
  auto n = contracts::FromJson<contracts::Notification>(notify->payload);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->thread_id, m.thread_id);
  EXPECT_TRUE(WaitSpan("process chat.{room}.thread.{thread_id}").has_value());
}

TEST_F(FanoutServiceTest, RefusedIngestPublishesNothingAndIsCountedAndLogged) {
  StartService();
  auto alice = Connect("alice", "_INBOX.alice");
  auto carol = Connect("carol", "_INBOX.carol");

  Send(*alice, "alice", "general", Msg("bob", "general", 1));  // sender mismatch
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "rejected_sender", 1));
  Send(*carol, "carol", "general", Msg("carol", "general", 2));  // not a member
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "rejected_membership", 1));
  Send(*alice, "alice", "general", "{not json");  // malformed
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "invalid", 1));
  Send(*alice, "alice", "general", Msg("alice", "random", 3));  // payload names another room
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "invalid", 2));
  // A thread subject whose payload names no thread.
  Send(*alice, "alice", "general", Msg("alice", "general", 5),
       contracts::ThreadId("general", 1740650000123));
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "invalid", 3));

  // Barrier: a valid message published after the refusals is the only one republished.
  Send(*alice, "alice", "general", Msg("alice", "general", 4));
  ASSERT_TRUE(peer_->WaitOne("chat.general").has_value());
  ASSERT_TRUE(peer_->WaitOne("room.notify.general").has_value());
  EXPECT_EQ(peer_->Received("chat.").size(), 1u);
  EXPECT_EQ(peer_->Received("room.notify.").size(), 1u);

  EXPECT_TRUE(HasWarn("message rejected", "sender_mismatch"));
  EXPECT_TRUE(HasWarn("message rejected", "not_member"));
  EXPECT_TRUE(HasWarn("message rejected", "invalid_payload"));
  EXPECT_TRUE(HasWarn("message rejected", "room_mismatch"));
  EXPECT_TRUE(HasWarn("message rejected", "thread_mismatch"));
  for (const auto& s : tel_.FindSpans("process deliver.{user}.send.{room}")) {
    EXPECT_EQ(s.status_code, tel::StatusCode::kUnset) << Str(s, "chat.ingest.result");
  }
  bool saw_rejected_event = false;
  for (const auto& s : tel_.FindSpans("process deliver.{user}.send.{room}")) {
    if (Str(s, "chat.ingest.result") == "rejected_sender") {
      saw_rejected_event = sdk::FindEvent(s, "rejected") != nullptr;
    }
  }
  EXPECT_TRUE(saw_rejected_event);
}

TEST_F(FanoutServiceTest, RateLimitRefusesOverTheLimit) {
  fanout::FanoutConfig config;
  config.rate_limit_per_minute = 2;
  StartService(config);
  auto alice = Connect("alice", "_INBOX.alice");
  for (int i = 0; i < 3; ++i) Send(*alice, "alice", "general", Msg("alice", "general", 10 + i));
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "rate_limited", 1));
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "accepted", 2));
  ASSERT_TRUE(peer_->WaitOne("chat.general", 1).has_value());
  EXPECT_TRUE(HasWarn("message rejected", "rate_limited"));
  EXPECT_EQ(Counter("fanout_ingest_total", "result", "accepted"), 2);
  EXPECT_EQ(Counter("fanout_rate_limit_errors_total", "operation", "get"), 0);

  // The next minute is a new window.
  clock_.Advance(60s);
  Send(*alice, "alice", "general", Msg("alice", "general", 20));
  EXPECT_TRUE(WaitCounter("fanout_ingest_total", "result", "accepted", 3));
  EXPECT_TRUE(peer_->WaitOne("chat.general", 2).has_value());
  EXPECT_EQ(peer_->Received("chat.").size(), 3u);
}

TEST_F(FanoutServiceTest, RateLimitCountsLocallyBetweenWritesAndExactlyNearTheLimit) {
  fanout::FanoutConfig config;
  config.rate_limit_per_minute = 100;  // writes every 5 messages, then every message from 81
  StartService(config);
  auto alice = Connect("alice", "_INBOX.alice");
  for (int i = 0; i < 120; ++i) Send(*alice, "alice", "general", Msg("alice", "general", 1000 + i));
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "rate_limited", 20));
  EXPECT_EQ(Counter("fanout_ingest_total", "result", "accepted"), 100);
  const size_t writes =
      tel_.FindSpans("update RATE_LIMIT").size() + tel_.FindSpans("create RATE_LIMIT").size();
  EXPECT_GT(writes, 20u);  // every message of the last fifth is written
  EXPECT_LT(writes, 60u);  // but not every message before it
}

TEST_F(FanoutServiceTest, RateLimitStoreOutageFallsBackAndOpensTheBreaker) {
  fanout::FanoutConfig config;
  config.rate_limit_fallback = fanout::RateLimitFallback::kWarn;
  StartService(config);
  auto alice = Connect("alice", "_INBOX.alice");
  auto js = natsx::JetStream::Create(*alice);
  ASSERT_TRUE(js.ok());
  ASSERT_TRUE((*js)->DeleteStream("KV_RATE_LIMIT").ok());

  for (int i = 0; i < 6; ++i) {
    Send(*alice, "alice", "general", Msg("alice", "general", 100 + i));
    ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "accepted", i + 1)) << i;
  }
  EXPECT_EQ(Gauge("fanout_rate_limit_circuit_open"), 1);
  EXPECT_TRUE(service_->rate_limiter().circuit_open());
  EXPECT_GE(Counter("fanout_rate_limit_errors_total", "operation", "circuit_open"), 1);
  double kv_errors = Counter("fanout_rate_limit_errors_total", "operation", "get") +
                     Counter("fanout_rate_limit_errors_total", "operation", "create") +
                     Counter("fanout_rate_limit_errors_total", "operation", "update");
  EXPECT_EQ(kv_errors, 5);
  // The counter moves before the handler's span ends: wait for the sixth span, not the count.
  auto fallbacks = [&] {
    int n = 0;
    for (const auto& s : tel_.FindSpans("process deliver.{user}.send.{room}")) {
      if (sdk::FindEvent(s, "kv_fallback") != nullptr) ++n;
    }
    return n;
  };
  EXPECT_TRUE(WaitFor([&] { return fallbacks() == 6; }, 5s)) << fallbacks();
  for (const auto& s : tel_.FindSpans("process deliver.{user}.send.{room}")) {
    EXPECT_EQ(s.status_code, tel::StatusCode::kUnset);
  }
  EXPECT_TRUE(HasWarn("rate limit store unavailable, fallback applied", ""));
  EXPECT_TRUE(peer_->WaitOne("chat.general", 5).has_value());
  EXPECT_EQ(peer_->Received("chat.").size(), 6u);

  // The bucket comes back; after the open period one probe closes the breaker.
  natsx::KeyValueConfig kv;
  kv.bucket = "RATE_LIMIT";
  kv.ttl = 120s;
  kv.memory_storage = true;
  ASSERT_TRUE((*js)->CreateKeyValue(kv).ok());
  clock_.Advance(31s);
  Send(*alice, "alice", "general", Msg("alice", "general", 200));
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "accepted", 7));
  EXPECT_EQ(Gauge("fanout_rate_limit_circuit_open"), 0);
  EXPECT_FALSE(service_->rate_limiter().circuit_open());
}

TEST_F(FanoutServiceTest, DmNotificationsGoPerMemberAndMsgGetChecksMembership) {
  StartService();
  auto alice = Connect("alice", "_INBOX.alice");
  auto bob = Connect("bob", "_INBOX.bob");
  auto mallory = Connect("mallory", "_INBOX.mallory");
  const std::string dm = "dm-alice-bob";
  const std::string payload = Msg("alice", dm, 1740650000777, "secret");
  Send(*alice, "alice", dm, payload);

  auto to_alice = peer_->WaitOne("deliver.alice.notify." + dm);
  auto to_bob = peer_->WaitOne("deliver.bob.notify." + dm);
  ASSERT_TRUE(to_alice && to_bob);
  EXPECT_TRUE(to_bob->has_traceparent);
  EXPECT_TRUE(peer_->Received("room.notify.").empty());
  EXPECT_EQ(peer_->member_requests(), 0) << "DM members come from the key";
  auto n = contracts::FromJson<contracts::Notification>(to_bob->payload);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(to_bob->payload.find("secret"), std::string::npos);

  auto as_bob = MsgGet(*bob, n->notify_id);
  ASSERT_TRUE(as_bob.ok()) << as_bob.status().ToString();
  EXPECT_EQ(*as_bob, payload);
  auto as_mallory = MsgGet(*mallory, n->notify_id);
  ASSERT_FALSE(as_mallory.ok());
  EXPECT_EQ(as_mallory.status().code(), chat::core::ErrorCode::kPermissionDenied);

  EXPECT_TRUE(WaitCounter("fanout_deliveries_total", "kind", "private", 2));
  EXPECT_EQ(Counter("fanout_messages_total", "kind", "private"), 1);
  auto deliver = WaitSpan("deliver_members");
  auto notify = WaitSpan("process chat.{room}");
  ASSERT_TRUE(deliver && notify);
  EXPECT_EQ(deliver->parent_span_id, notify->span_id);
  EXPECT_EQ(sdk::IntAttribute(*deliver, "chat.fanout.recipients").value_or(-1), 2);
  EXPECT_EQ(Str(*notify, "chat.fanout.kind"), "private");
  ASSERT_TRUE(WaitFor(
      [&] { return tel_.FindSpans("publish deliver.{user}.notify.{room}").size() == 2; }, 5s));
  for (const auto& copy : tel_.FindSpans("publish deliver.{user}.notify.{room}")) {
    EXPECT_EQ(copy.parent_span_id, deliver->span_id);
  }
}

TEST_F(FanoutServiceTest, PrivateRoomLearnedFromRoomChangedGoesPerMember) {
  StartService();
  peer_->SetMembers("secret-club", {"alice", "bob"});
  contracts::RoomChanged change;
  change.room = "secret-club";
  change.action = contracts::RoomChangeAction::kJoin;
  change.user_id = "bob";
  change.type = contracts::RoomType::kPrivate;
  peer_->Publish("room.changed.secret-club", contracts::ToJson(change));
  ASSERT_TRUE(WaitFor(
      [&] { return service_->Classify("secret-club") == fanout::RoomClass::kPrivate; }, 10s));

  auto alice = Connect("alice", "_INBOX.alice");
  auto mallory = Connect("mallory", "_INBOX.mallory");
  Send(*alice, "alice", "secret-club", Msg("alice", "secret-club", 5));
  auto to_alice = peer_->WaitOne("deliver.alice.notify.secret-club");
  auto to_bob = peer_->WaitOne("deliver.bob.notify.secret-club");
  ASSERT_TRUE(to_alice && to_bob);
  EXPECT_TRUE(peer_->Received("room.notify.").empty());

  // A leave delta updates the cached set: bob no longer gets copies.
  change.action = contracts::RoomChangeAction::kLeave;
  peer_->Publish("room.changed.secret-club", contracts::ToJson(change));
  ASSERT_TRUE(WaitFor([&] { return Gauge("fanout_cached_members") == 1; }, 10s));
  Send(*alice, "alice", "secret-club", Msg("alice", "secret-club", 6));
  ASSERT_TRUE(peer_->WaitOne("deliver.alice.notify.secret-club", 1).has_value());
  EXPECT_EQ(peer_->Received("deliver.bob.").size(), 1u);
  EXPECT_EQ(peer_->member_requests(), 1);

  auto n = contracts::FromJson<contracts::Notification>(to_alice->payload);
  ASSERT_TRUE(n.ok());
  auto denied = MsgGet(*mallory, n->notify_id);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), chat::core::ErrorCode::kPermissionDenied);
}

TEST_F(FanoutServiceTest, MsgGetUnknownIdIsNotFound) {
  StartService();
  auto alice = Connect("alice", "_INBOX.alice");
  auto got = MsgGet(*alice, "general.1.deadbeef.0123456789abcdef");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), chat::core::ErrorCode::kNotFound);
  EXPECT_EQ(Counter("fanout_fetches_total", "result", "not_found"), 1);
  auto bad = MsgGet(*alice, "no dots or spaces");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), chat::core::ErrorCode::kInvalidArgument);
  auto span = WaitSpan("process msg.get");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->kind, tel::SpanKind::kServer);
  EXPECT_EQ(Str(*span, "chat.fetch.result"), "not_found");
}

TEST_F(FanoutServiceTest, AdminAndAppEventsGoToMembers) {
  StartService();
  peer_->SetMembers("__admin__chat", {"root", "ops"});
  peer_->SetMembers("general", {"alice", "bob"});
  contracts::ChatMessage m;
  m.user = "root";
  m.room = "__admin__";
  m.timestamp = 42;
  m.text = "maintenance";
  const std::string admin_payload = contracts::ToJson(m);
  peer_->Publish("admin.chat.root", admin_payload);
  auto to_root = peer_->WaitOne("deliver.root.admin.chat");
  auto to_ops = peer_->WaitOne("deliver.ops.admin.chat");
  ASSERT_TRUE(to_root && to_ops);
  EXPECT_EQ(to_ops->payload, admin_payload);

  peer_->Publish("app.poll.general.updated", R"({"pollId":1})");
  auto a = peer_->WaitOne("deliver.alice.app.poll.general.updated");
  auto b = peer_->WaitOne("deliver.bob.app.poll.general.updated");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->payload, R"({"pollId":1})");
  EXPECT_TRUE(WaitCounter("fanout_deliveries_total", "kind", "admin", 2));
  EXPECT_TRUE(WaitCounter("fanout_deliveries_total", "kind", "app", 2));
  EXPECT_EQ(Counter("fanout_messages_total", "kind", "admin"), 1);
  EXPECT_EQ(Counter("fanout_messages_total", "kind", "app"), 1);
}

// Issue 11 item 2: a private room created before this fanout instance started (no room.changed
// delta seen) was treated as public: its notifications went to room.notify.{room}, which every
// user may subscribe to, and msg.get skipped the membership check. The room.members reply now
// carries the type, and a room whose type is unknown is restricted.
TEST_F(FanoutServiceTest, PrivateRoomCreatedBeforeStartUpNeverReachesRoomNotify) {
  peer_->SetMembers("secret-club", {"alice", "bob"}, contracts::RoomType::kPrivate);
  StartService();  // no delta for secret-club will ever arrive
  EXPECT_EQ(service_->Classify("secret-club"), fanout::RoomClass::kUnknown);
  auto alice = Connect("alice", "_INBOX.alice");
  auto charlie = Connect("charlie", "_INBOX.charlie");
  const std::string payload = Msg("alice", "secret-club", 7, "the plan");
  Send(*alice, "alice", "secret-club", payload);
  auto to_bob = peer_->WaitOne("deliver.bob.notify.secret-club");
  ASSERT_TRUE(to_bob.has_value());
  EXPECT_EQ(service_->Classify("secret-club"), fanout::RoomClass::kPrivate);
  ASSERT_TRUE(peer_->WaitOne("chat.secret-club").has_value());
  EXPECT_TRUE(peer_->Received("room.notify.").empty())
      << "a private room's notification was public";

  auto n = contracts::FromJson<contracts::Notification>(to_bob->payload);
  ASSERT_TRUE(n.ok());
  auto as_charlie = MsgGet(*charlie, n->notify_id);
  ASSERT_FALSE(as_charlie.ok()) << "a non-member read " << *as_charlie;
  EXPECT_EQ(as_charlie.status().code(), chat::core::ErrorCode::kPermissionDenied);
}

// When room-service cannot tell the type (no `type` in the reply), the room stays restricted:
// per-member delivery and msg.get only for members — and msg.get on a room fanout has never
// looked up checks membership before anything else.
TEST_F(FanoutServiceTest, RoomOfUnknownTypeIsRestricted) {
  peer_->SetMembers("lab", {"alice"}, std::nullopt);
  StartService();
  auto alice = Connect("alice", "_INBOX.alice");
  auto charlie = Connect("charlie", "_INBOX.charlie");
  const std::string payload = Msg("alice", "lab", 8, "results");
  peer_->Publish("chat.lab", payload);  // as fanout's own republish would arrive
  auto to_alice = peer_->WaitOne("deliver.alice.notify.lab");
  ASSERT_TRUE(to_alice.has_value());
  EXPECT_EQ(service_->Classify("lab"), fanout::RoomClass::kUnknown);
  EXPECT_TRUE(peer_->Received("room.notify.").empty());
  auto n = contracts::FromJson<contracts::Notification>(to_alice->payload);
  ASSERT_TRUE(n.ok());
  auto as_charlie = MsgGet(*charlie, n->notify_id);
  ASSERT_FALSE(as_charlie.ok());
  EXPECT_EQ(as_charlie.status().code(), chat::core::ErrorCode::kPermissionDenied);
  auto as_alice = MsgGet(*alice, n->notify_id);
  ASSERT_TRUE(as_alice.ok()) << as_alice.status().ToString();
  EXPECT_EQ(*as_alice, payload);
}

// A public room is still announced on room.notify once room-service says it is public.
TEST_F(FanoutServiceTest, PublicTypeFromMembersReplyKeepsRoomNotify) {
  StartService();
  auto alice = Connect("alice", "_INBOX.alice");
  Send(*alice, "alice", "general", Msg("alice", "general", 9));
  ASSERT_TRUE(peer_->WaitOne("room.notify.general").has_value());
  EXPECT_EQ(service_->Classify("general"), fanout::RoomClass::kPublic);
  EXPECT_TRUE(peer_->Received("deliver.").empty());
}

// Issue 11 item 3: the admin channel's author is the subject's user; a body naming another user
// is refused (nothing delivered), counted and logged.
TEST_F(FanoutServiceTest, AdminMessageNamingAnotherAuthorIsRefused) {
  StartService();
  peer_->SetMembers("__admin__chat", {"root", "ops"});
  contracts::ChatMessage m;
  m.user = "ops";  // root pretends to be ops
  m.room = "__admin__";
  m.timestamp = 43;
  m.text = "rotate the keys";
  peer_->Publish("admin.chat.root", contracts::ToJson(m));
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "rejected_sender", 1));
  EXPECT_TRUE(HasWarn("message rejected", "sender_mismatch"));
  m.user = "root";
  m.timestamp = 44;
  peer_->Publish("admin.chat.root", contracts::ToJson(m));
  auto to_ops = peer_->WaitOne("deliver.ops.admin.chat");
  ASSERT_TRUE(to_ops.has_value());
  EXPECT_NE(to_ops->payload.find("\"timestamp\":44"), std::string::npos) << to_ops->payload;
  EXPECT_EQ(peer_->Received("deliver.ops.admin.").size(), 1u);
}

// Issue 11 item 14: a stickerUrl outside the sticker base URL is refused at ingest.
TEST_F(FanoutServiceTest, StickerUrlOutsideTheStickerBaseIsRefused) {
  peer_->SetStickers({{"cats", {"/stickers/cats/wave.svg"}}});
  peer_->ServeStickers();
  peer_->Flush();
  StartService();
  auto alice = Connect("alice", "_INBOX.alice");
  contracts::ChatMessage m;
  m.user = "alice";
  m.room = "general";
  m.timestamp = 50;
  m.sticker_url = "https://tracker.example/pixel.gif";
  Send(*alice, "alice", "general", contracts::ToJson(m));
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "invalid", 1));
  EXPECT_TRUE(HasWarn("message rejected", "sticker_url"));
  m.timestamp = 51;
  m.sticker_url = "/stickers/cats/wave.svg";
  Send(*alice, "alice", "general", contracts::ToJson(m));
  auto republished = peer_->WaitOne("chat.general");
  ASSERT_TRUE(republished.has_value());
  EXPECT_NE(republished->payload.find("/stickers/cats/wave.svg"), std::string::npos);
  EXPECT_EQ(peer_->Received("chat.general").size(), 1u);
}

// Issue 14: a sticker message must name an image sticker-service knows. The catalogue is
// loaded once and reused; an unknown image reloads it (rate limited), so a pack added since is
// accepted; with no catalogue at all stickers are refused (fail closed) while text still flows.
TEST_F(FanoutServiceTest, OnlyStickersTheCatalogueKnowsAreAccepted) {
  peer_->SetStickers({{"cats", {"/stickers/cats/wave.svg", "/stickers/cats/nap.svg"}}});
  peer_->ServeStickers();
  peer_->Flush();
  fanout::FanoutConfig config;
  config.sticker_catalogue_miss_reload = 0ms;  // every miss may reload here
  StartService(config);
  auto alice = Connect("alice", "_INBOX.alice");
  contracts::ChatMessage m;
  m.user = "alice";
  m.room = "general";
  m.timestamp = 60;
  m.sticker_url = "/stickers/cats/wave.svg";
  Send(*alice, "alice", "general", contracts::ToJson(m));
  ASSERT_TRUE(peer_->WaitOne("chat.general").has_value());
  m.timestamp = 61;
  m.sticker_url = "/stickers/cats/nap.svg";
  Send(*alice, "alice", "general", contracts::ToJson(m));
  ASSERT_TRUE(peer_->WaitOne("chat.general", 1).has_value());
  EXPECT_EQ(peer_->sticker_product_requests(), 1) << "known stickers reuse the loaded catalogue";

  m.timestamp = 62;
  m.sticker_url = "/stickers/cats/made-up.svg";  // the right shape, but no such sticker
  Send(*alice, "alice", "general", contracts::ToJson(m));
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "invalid", 1));
  EXPECT_TRUE(HasWarn("message rejected", "unknown_sticker"));

  // A pack added to the catalogue is accepted without waiting for the ttl.
  peer_->SetStickers(
      {{"cats", {"/stickers/cats/wave.svg"}}, {"dogs", {"/stickers/dogs/bark.svg"}}});
  m.timestamp = 63;
  m.sticker_url = "/stickers/dogs/bark.svg";
  Send(*alice, "alice", "general", contracts::ToJson(m));
  ASSERT_TRUE(peer_->WaitOne("chat.general", 2).has_value());
  EXPECT_EQ(peer_->Received("chat.general").size(), 3u);
}

TEST_F(FanoutServiceTest, StickersAreRefusedWhileNoCatalogueCanBeLoaded) {
  StartService();  // nobody answers stickers.*
  auto alice = Connect("alice", "_INBOX.alice");
  contracts::ChatMessage m;
  m.user = "alice";
  m.room = "general";
  m.timestamp = 70;
  m.sticker_url = "/stickers/cats/wave.svg";
  Send(*alice, "alice", "general", contracts::ToJson(m));
  ASSERT_TRUE(WaitCounter("fanout_ingest_total", "result", "invalid", 1));
  EXPECT_TRUE(HasWarn("message rejected", "sticker_catalogue_unavailable"));
  Send(*alice, "alice", "general", Msg("alice", "general", 71));
  ASSERT_TRUE(peer_->WaitOne("chat.general").has_value());
  EXPECT_EQ(peer_->Received("chat.general").size(), 1u);
  EXPECT_NE(peer_->Received("chat.general")[0].payload.find("\"timestamp\":71"), std::string::npos);
}

// Manual throughput probe (not a CI assertion: the machine is shared and noisy). Run with
// --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'.
TEST_F(FanoutServiceTest, DISABLED_ThroughputProbe) {
  fanout::FanoutConfig config;
  config.rate_limit_per_minute = 1'000'000;
  StartService(config);
  auto alice = Connect("alice", "_INBOX.alice");
  constexpr int kMessages = 5000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(alice
                    ->Publish(subjects::kDeliverSend, {"alice", "general"},
                              Msg("alice", "general", 1000 + i), tel::SpanContext{})
                    .ok());
  }
  ASSERT_TRUE(alice->Flush(10s).ok());
  bool all = WaitFor([&] { return peer_->Received("room.notify.").size() >= kMessages; }, 30s);
  std::fprintf(stderr, "received chat=%zu notify=%zu accepted=%.0f rate_limited=%.0f\n",
               peer_->Received("chat.").size(), peer_->Received("room.notify.").size(),
               Counter("fanout_ingest_total", "result", "accepted"),
               Counter("fanout_ingest_total", "result", "rate_limited"));
  ASSERT_TRUE(all);
  std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
  std::fprintf(stderr, "fanout throughput: %d messages ingest+notify in %.2f s = %.0f msg/s\n",
               kMessages, d.count(), kMessages / d.count());
}

TEST(FanoutConfigTest, DefaultsAndLimits) {
  chat::core::MapEnv env;
  auto c = fanout::FanoutConfig::FromEnv(env);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->rate_limit_per_minute, 60);
  EXPECT_EQ(c->workers, 32);
  EXPECT_EQ(c->lru_capacity, 100);
  chat::core::MapEnv high({{"CHAT_FANOUT_RATE_LIMIT_PER_MINUTE", "1000000"},
                           {"CHAT_FANOUT_RATE_LIMIT_FALLBACK", "block"}});
  auto h = fanout::FanoutConfig::FromEnv(high);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->rate_limit_per_minute, 1000000);
  EXPECT_EQ(h->rate_limit_fallback, fanout::RateLimitFallback::kBlock);
  chat::core::MapEnv bad(
      {{"CHAT_FANOUT_RATE_LIMIT_PER_MINUTE", "0"}, {"CHAT_FANOUT_RATE_LIMIT_FALLBACK", "maybe"}});
  EXPECT_FALSE(fanout::FanoutConfig::FromEnv(bad).ok());
}

TEST(FanoutKeysTest, EscapingRoundTrips) {
  EXPECT_EQ(fanout::RateLimitKey("alice", 29000000), "alice.29000000");
  EXPECT_EQ(fanout::EscapeKeyPart("a@b"), "a=40b");
  EXPECT_EQ(fanout::UnescapeKeyPart(fanout::EscapeKeyPart("we!rd=x")), "we!rd=x");
}

}  // namespace
