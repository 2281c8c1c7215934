// chat::client::Session end to end: dev-idp runs in-process and the auth-service binary as a child
// process (exporting to a telemetry-sink process), both on random ports; a real nats-server in
// operator mode enforces the minted JWTs, and an observer connected with the dev-admin creds sees
// (and answers) what actually reaches the bus.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chat/client/session.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/presence.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/nkeys/local_operator.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/sdk/sampler.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/process.hpp"
#include "chat/testing/sink_process.hpp"
#include "chat/testing/wait_for.hpp"
#include "config.hpp"
#include "server.hpp"

namespace chat::client {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace subjects = contracts::subjects;

std::string MakeTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "client-test-XXXXXX").string();
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

// What the observer saw: subject, payload and traceparent of each message.
struct Seen {
  std::string subject;
  std::string payload;
  std::string traceparent;
  std::string reply_to;
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    auto setup = nkeys::InitOperatorDir(fs::path(dir_) / "nats", core::SystemClock::Instance());
    ASSERT_TRUE(setup.ok()) << setup.status().ToString();
    operator_ = *setup;

    devidp::IdpConfig idp_config;
    idp_config.port = 0;
    idp_config.state_dir = dir_ + "/idp";
    idp_config.pbkdf2_iterations = 1000;  // quick tests; the binary uses 600000
    auto idp =
        devidp::IdpServer::Create(idp_config, idp_tel_.telemetry(), core::SystemClock::Instance());
    ASSERT_TRUE(idp.ok()) << idp.status().ToString();
    idp_ = std::move(idp).value();
    ASSERT_TRUE(idp_->Start().ok());

    StartAuthService();
    if (HasFatalFailure()) return;

    fs::path conf = operator_.dir / "server.conf";
    std::ofstream(conf) << "include \"resolver.conf\"\n";
    testing::NatsServer::Options options;
    options.jetstream = false;
    options.config_file = conf.string();
    auto server = testing::NatsServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();

    natsx::ConnectionOptions o;
    o.urls = {server_->url()};
    o.name = "observer";
    o.credentials =
        natsx::Credentials::FromCredsFile(operator_.CredsFile(nkeys::kDevAdminUser).string());
    auto obs = natsx::Connection::Connect(std::move(o), observer_tel_.telemetry());
    ASSERT_TRUE(obs.ok()) << obs.status().ToString();
    observer_ = std::move(obs).value();
  }

  void TearDown() override {
    observer_subs_.clear();
    observer_.reset();
    server_.reset();
    StopAuthService();
    sink_.Stop();
    if (idp_) idp_->Stop();
    idp_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // The auth-service binary, configured as `./nats-chat up` does, exporting to sink_; ready once
  // its own /readyz answers 200 (a JWKS key is cached).
  void StartAuthService() {
    auto sink = sink_.Start();
    ASSERT_TRUE(sink.ok()) << sink.ToString();
    auth_port_ = testing::FreePort();
    const std::map<std::string, std::string> env = {
        {"CHAT_AUTH_ISSUER_URL", idp_->issuer()},
        {"CHAT_AUTH_HTTP_HOST", "127.0.0.1"},
        {"CHAT_AUTH_HTTP_PORT", std::to_string(auth_port_)},
        {"CHAT_AUTH_ACCOUNT_SIGNING_SEED_FILE", operator_.chat_signing_seed_file.string()},
        {"CHAT_AUTH_RATE_LIMIT_PER_SECOND", "1000"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT", sink_.BaseUrl()},
        {"OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"},
        {"OTEL_EXPORTER_PROMETHEUS_PORT", std::to_string(testing::FreePort())},
        {"OTEL_BSP_SCHEDULE_DELAY", "100"},
        {"OTEL_BLRP_SCHEDULE_DELAY", "100"},
    };
    auth_log_ = dir_ + "/auth-service.log";
    int fd = ::open(auth_log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    auth_pid_ = testing::SpawnWithEnv({CHAT_AUTH_BIN}, env, fd, fd);
    ::close(fd);
    ASSERT_GT(auth_pid_, 0);
    httplib::Client probe("127.0.0.1", auth_port_);
    probe.set_connection_timeout(1);
    ASSERT_TRUE(testing::WaitFor(
        [&] {
          auto r = probe.Get("/readyz");
          return r && r->status == 200;
        },
        20s))
        << "auth-service not ready; log:\n"
        << AuthLog();
  }
  void StopAuthService() {
    if (auth_pid_ > 0) testing::TerminateAndWait(auth_pid_, 10s);
    auth_pid_ = -1;
  }
  std::string AuthLog() const {
    std::ifstream in(auth_log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  LoginOptions Options(const std::string& user, const std::string& password) const {
    LoginOptions o;
    o.idp_base = idp_->issuer();
    o.auth_url = "http://127.0.0.1:" + std::to_string(auth_port_);
    o.nats_urls = {server_->url()};
    o.user = user;
    o.password = password;
    o.client_name = "client-test";
    o.request_timeout = 3s;
    return o;
  }

  core::Result<std::unique_ptr<Session>> LoginAs(const std::string& user) {
    return Session::Login(Options(user, user + "123"), client_tel_.telemetry());
  }

  // Records every message on `pattern` (observer side).
  void Observe(std::vector<core::SubjectTemplate> templates, std::string pattern) {
    natsx::SubscribeOptions so;
    so.templates = std::move(templates);
    so.pattern = std::move(pattern);
    auto sub = observer_->Subscribe(
        std::move(so), [this](const natsx::Message& m, natsx::MessageContext&) {
          std::lock_guard lock(mu_);
          seen_.push_back(
              {std::string(m.subject()), std::string(m.payload()),
               std::string(m.Header(chat::telemetry::semconv::kTraceparentHeader).value_or("")),
               std::string(m.reply_to())});
          return core::Status::Ok();
        });
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
    observer_subs_.push_back(std::move(sub).value());
    ASSERT_TRUE(observer_->Flush(5s).ok());
  }

  std::vector<Seen> SeenSnapshot() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  bool SawSubject(const std::string& subject) {
    for (const auto& s : SeenSnapshot()) {
      if (s.subject == subject) return true;
    }
    return false;
  }

  std::string dir_;
  nkeys::OperatorSetup operator_;
  telemetry::sdk::InMemoryTelemetry idp_tel_;
  telemetry::sdk::InMemoryTelemetry observer_tel_;
  telemetry::sdk::InMemoryTelemetry client_tel_;
  std::unique_ptr<devidp::IdpServer> idp_;
  testing::SinkProcess sink_;  // auth-service's spans
  int auth_port_ = 0;
  pid_t auth_pid_ = -1;
  std::string auth_log_;
  std::unique_ptr<testing::NatsServer> server_;
  std::unique_ptr<natsx::Connection> observer_;
  std::vector<std::unique_ptr<natsx::Subscription>> observer_subs_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

TEST_F(ClientTest, LoginConnectsPublishesOwnSubjectAndRepliesReachItsInbox) {
  Observe({subjects::kDeliverSend, subjects::kDeliverSendThread}, "deliver.*.send.>");
  // A stand-in room-service answers room.list so the request/reply path over _INBOX.alice is
  // exercised for real.
  std::string reply_to;
  std::mutex reply_mu;
  natsx::SubscribeOptions so;
  so.templates = {subjects::kRoomList};
  so.kind = natsx::ProcessKind::kServer;
  auto responder =
      observer_->Subscribe(std::move(so), [&](const natsx::Message& m, natsx::MessageContext& ctx) {
        {
          std::lock_guard lock(reply_mu);
          reply_to = std::string(m.reply_to());
        }
        contracts::RoomListReply rooms;
        rooms.rooms.push_back({"ops", "Ops", "alice", contracts::RoomType::kPrivate, 2, {}});
        return ctx.Respond(contracts::ToJson(rooms));
      });
  ASSERT_TRUE(responder.ok());
  ASSERT_TRUE(observer_->Flush(5s).ok());

  auto session = LoginAs("alice");
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ((*session)->user(), "alice");
  EXPECT_EQ((*session)->tier(), "admin");

  auto rooms = (*session)->Rooms();
  ASSERT_TRUE(rooms.ok()) << rooms.status().ToString();
  ASSERT_EQ(rooms->rooms.size(), 1u);
  EXPECT_EQ(rooms->rooms[0].name, "ops");
  {
    std::lock_guard lock(reply_mu);
    EXPECT_EQ(reply_to.rfind("_INBOX.alice.", 0), 0u) << reply_to;
  }

  // The login made the browser's spans: a root `login` with the two IdP calls (no traceparent
  // sent) and the credential call, as CLIENT spans with attribute set H.
  auto login = client_tel_.FindSpan("login");
  ASSERT_TRUE(login.has_value());
  auto token_span = client_tel_.FindSpan("POST /realms/{realm}/protocol/openid-connect/token");
  ASSERT_TRUE(token_span.has_value());
  EXPECT_EQ(token_span->kind, telemetry::SpanKind::kClient);
  EXPECT_EQ(token_span->parent_span_id, login->span_id);
  EXPECT_EQ(telemetry::sdk::StringAttribute(*token_span, "url.template"),
            "/realms/{realm}/protocol/openid-connect/token");
  EXPECT_EQ(telemetry::sdk::IntAttribute(*token_span, "http.response.status_code"), 200);
  auto cred_span = client_tel_.FindSpan("POST /auth/v1/credentials");
  ASSERT_TRUE(cred_span.has_value());
  EXPECT_EQ(telemetry::sdk::StringAttribute(*cred_span, "peer.service"), "auth-service");
  // auth-service continued the client's trace (traceparent sent on that call only): its SERVER
  // span is in the sink under the client's trace id.
  const std::string trace_id = cred_span->trace_id.Hex();
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto trace = sink_.GetTrace(trace_id);
        if (!trace.ok()) return false;
        for (const auto& span : (*trace)["spans"]) {
          if (span.value("name", "") == "POST /auth/v1/credentials" &&
              span.value("service_name", "") == "auth-service") {
            return true;
          }
        }
        return false;
      },
      15s))
      << "no auth-service SERVER span in trace " << trace_id;
  auto idp_token = idp_tel_.FindSpan("POST /realms/{realm}/protocol/openid-connect/token");
  ASSERT_TRUE(idp_token.has_value());
  EXPECT_NE(idp_token->trace_id, token_span->trace_id);

  auto sent = (*session)->Send("general", "hello @bob and @bob");
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  ASSERT_TRUE((*session)->Flush(5s).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return !SeenSnapshot().empty(); }, 5s));
  Seen got = SeenSnapshot().front();
  EXPECT_EQ(got.subject, "deliver.alice.send.general");
  auto msg = contracts::FromJson<contracts::ChatMessage>(got.payload);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->user, "alice");
  EXPECT_EQ(msg->room, "general");
  EXPECT_EQ(msg->text, "hello @bob and @bob");
  EXPECT_EQ(msg->timestamp, sent->timestamp);
  EXPECT_EQ(msg->action, contracts::MessageAction::kSend);
  EXPECT_EQ(msg->mentions, std::vector<std::string>{"bob"});
  EXPECT_EQ(sent->message_id, contracts::MessageId(sent->timestamp, "alice"));
  // traceparent: 00-<trace id>-<span id>-01, the trace of the send_message root.
  ASSERT_EQ(got.traceparent.size(), 55u) << got.traceparent;
  EXPECT_EQ(got.traceparent.substr(3, 32), sent->trace_id);

  auto span = client_tel_.FindSpan("send_message");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->kind, telemetry::SpanKind::kInternal);
  EXPECT_FALSE(span->parent_span_id.IsValid());
  EXPECT_EQ(span->trace_id.Hex(), sent->trace_id);
  EXPECT_EQ(telemetry::sdk::StringAttribute(*span, "chat.room"), "general");
  EXPECT_EQ(telemetry::sdk::StringAttribute(*span, "chat.action"), "send");
  EXPECT_EQ(telemetry::sdk::StringAttribute(*span, "chat.message_id"), sent->message_id);
  EXPECT_EQ(telemetry::sdk::StringAttribute(*span, "chat.message.kind"), "text");
  auto publish = client_tel_.FindSpan("publish deliver.{user}.send.{room}");
  ASSERT_TRUE(publish.has_value());
  EXPECT_EQ(publish->parent_span_id, span->span_id);

  // Two sends in a row never share a timestamp (messages are keyed by it).
  auto a = (*session)->Send("general", "one");
  auto b = (*session)->Send("general", "two");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(a->timestamp, b->timestamp);

  // A thread reply goes to the thread subject with its parent timestamp.
  std::string thread = contracts::ThreadId("general", sent->timestamp);
  auto reply = (*session)->Send("general", "in thread", thread);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE((*session)->Flush(5s).ok());
  std::string thread_subject = "deliver.alice.send.general.thread." + thread;
  ASSERT_TRUE(testing::WaitFor([&] { return SawSubject(thread_subject); }, 5s));
  EXPECT_EQ((*session)->PermissionErrors(), 0);
}

// Every client takes part in presence like a browser tab (system.md §7.3): a heartbeat with its
// own connection id at once and on every interval, and presence.disconnect with that id on Close.
TEST_F(ClientTest, SessionHeartbeatsLikeABrowserTabAndDisconnectsOnClose) {
  Observe({subjects::kPresenceHeartbeat, subjects::kPresenceDisconnect}, "presence.>");
  LoginOptions o = Options("bob", "bob123");
  o.presence_heartbeat_interval = 100ms;
  // The SDK's default sampler (parent-based), which the tools use.
  telemetry::sdk::InMemoryTelemetryOptions to;
  to.sampler = telemetry::sdk::MakeParentBasedSampler(telemetry::sdk::MakeAlwaysOnSampler());
  telemetry::sdk::InMemoryTelemetry tel(std::move(to), core::SystemClock::Instance());
  auto session = Session::Login(o, tel.telemetry());
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  const std::string conn_id = (*session)->conn_id();
  ASSERT_EQ(conn_id.size(), 8u);
  EXPECT_EQ(conn_id.find_first_not_of("0123456789abcdef"), std::string::npos) << conn_id;
  auto count = [&](const std::string& subject) {
    int n = 0;
    for (const auto& seen : SeenSnapshot()) {
      if (seen.subject != subject) continue;
      auto hb = contracts::FromJson<contracts::PresenceHeartbeat>(seen.payload);
      EXPECT_TRUE(hb.ok()) << seen.payload;
      if (hb.ok() && hb->user_id == "bob" && hb->conn_id == conn_id) ++n;
    }
    return n;
  };
  // The first heartbeat at login, then one per interval.
  ASSERT_TRUE(testing::WaitFor([&] { return count("presence.heartbeat.bob") >= 3; }, 10s))
      << count("presence.heartbeat.bob");
  EXPECT_EQ(count("presence.disconnect.bob"), 0);
  ASSERT_TRUE((*session)->Close(5s).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return count("presence.disconnect.bob") == 1; }, 5s));
  // Heartbeats are never traced (observability §4.5): no publish span was recorded for them,
  // and what they carry is an unsampled context.
  EXPECT_FALSE(tel.FindSpan("publish presence.heartbeat.{user}").has_value());
  EXPECT_FALSE(tel.FindSpan("publish presence.disconnect.{user}").has_value());
  EXPECT_TRUE(tel.FindSpan("login").has_value());
  for (const auto& seen : SeenSnapshot()) {
    EXPECT_TRUE(seen.traceparent.empty() || seen.traceparent.substr(53) == "00")
        << seen.traceparent;
  }
  // A second session of the same user is a second connection id.
  auto other = Session::Login(Options("bob", "bob123"), client_tel_.telemetry());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_NE((*other)->conn_id(), conn_id);
}

TEST_F(ClientTest, BadPasswordIsUnauthenticatedWithAHumanMessage) {
  auto s = Session::Login(Options("alice", "wrong"), client_tel_.telemetry());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), core::ErrorCode::kUnauthenticated);
  EXPECT_NE(s.status().message().find("wrong username or password"), std::string::npos)
      << s.status().message();
  EXPECT_EQ(s.status().message().find("wrong\""), std::string::npos) << "password leaked";
  auto login = client_tel_.FindSpan("login");
  ASSERT_TRUE(login.has_value());
  EXPECT_EQ(login->status_code, telemetry::StatusCode::kError);
}

TEST_F(ClientTest, AuthServiceDownIsUnavailable) {
  LoginOptions o = Options("alice", "alice123");
  StopAuthService();
  auto s = Session::Login(o, client_tel_.telemetry());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), core::ErrorCode::kUnavailable);
  EXPECT_NE(s.status().message().find("auth-service unreachable"), std::string::npos)
      << s.status().message();
}

TEST_F(ClientTest, ServerRefusesWhatTheJwtDoesNotAllow) {
  Observe({subjects::kDeliverSend, subjects::kDeliverSendThread}, "deliver.*.send.>");
  Observe({subjects::kAdminRoom}, "admin.*.*");
  Observe({subjects::kRoomCreate}, "room.create.*");

  auto alice = LoginAs("alice");
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  // alice may not speak for bob.
  ASSERT_TRUE(
      (*alice)->connection().Publish(subjects::kDeliverSend, {"bob", "general"}, "{}", {}).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return (*alice)->PermissionErrors() >= 1; }, 5s));
  EXPECT_NE((*alice)->LastError().find("Permissions Violation"), std::string::npos)
      << (*alice)->LastError();
  // …nor read bob's deliveries.
  natsx::SubscribeOptions so;
  so.templates = {subjects::kDeliverNotify};
  so.pattern = "deliver.bob.>";
  auto sub = (*alice)->connection().Subscribe(
      std::move(so),
      [](const natsx::Message&, natsx::MessageContext&) { return core::Status::Ok(); });
  ASSERT_TRUE(sub.ok());
  EXPECT_TRUE(testing::WaitFor([&] { return (*alice)->PermissionErrors() >= 2; }, 5s));
  EXPECT_NE((*alice)->LastError().find("Subscription"), std::string::npos) << (*alice)->LastError();

  auto bob = LoginAs("bob");
  ASSERT_TRUE(bob.ok()) << bob.status().ToString();
  EXPECT_EQ((*bob)->tier(), "user");
  ASSERT_TRUE((*bob)->connection().Publish(subjects::kAdminRoom, {"chat", "bob"}, "{}", {}).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return (*alice)->PermissionErrors() >= 3; }, 5s))
      << "bob's admin.chat publish was not refused";

  auto charlie = LoginAs("charlie");
  ASSERT_TRUE(charlie.ok()) << charlie.status().ToString();
  EXPECT_EQ((*charlie)->tier(), "none");
  ASSERT_TRUE((*charlie)->connection().Publish(subjects::kRoomCreate, {"charlie"}, "{}", {}).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return (*alice)->PermissionErrors() >= 4; }, 5s))
      << "charlie's room.create publish was not refused";
  auto refused_send = (*charlie)->Send("general", "read-only users cannot send");
  ASSERT_TRUE(refused_send.ok());  // the publish is asynchronous; the server refuses it
  EXPECT_TRUE(testing::WaitFor([&] { return (*alice)->PermissionErrors() >= 5; }, 5s));

  // Nothing refused reached the bus; an allowed publish after them does.
  auto ok = (*alice)->Send("general", "allowed");
  ASSERT_TRUE(ok.ok());
  ASSERT_TRUE((*alice)->Flush(5s).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return SawSubject("deliver.alice.send.general"); }, 5s));
  for (const auto& s : SeenSnapshot()) {
    EXPECT_NE(s.subject, "deliver.bob.send.general");
    EXPECT_NE(s.subject, "admin.chat");
    EXPECT_NE(s.subject, "room.create.charlie");
    EXPECT_NE(s.subject, "deliver.charlie.send.general");
  }
}

TEST_F(ClientTest, WatchFetchesNotifiedMessagesAndTakesAdminCopies) {
  // The observer plays fanout: it answers msg.get with the full message.
  contracts::ChatMessage stored;
  stored.user = "bob";
  stored.room = "general";
  stored.text = "hi alice";
  stored.timestamp = 1700000000123;
  std::atomic<int> gets{0};
  natsx::SubscribeOptions so;
  so.templates = {subjects::kMsgGet};
  so.kind = natsx::ProcessKind::kServer;
  auto responder =
      observer_->Subscribe(std::move(so), [&](const natsx::Message& m, natsx::MessageContext& ctx) {
        auto req = contracts::FromJson<contracts::MsgGetRequest>(m.payload());
        EXPECT_TRUE(req.ok());
        if (req.ok()) {
          EXPECT_EQ(req->notify_id, "n-1");
        }
        EXPECT_EQ(std::string(m.reply_to()).rfind("_INBOX.alice.", 0), 0u);
        gets.fetch_add(1);
        return ctx.Respond(contracts::ToJson(stored));
      });
  ASSERT_TRUE(responder.ok());
  ASSERT_TRUE(observer_->Flush(5s).ok());

  auto alice = LoginAs("alice");
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  std::mutex mu;
  std::vector<Delivery> got;
  auto watch = (*alice)->WatchRooms({"general", "__admin__"}, [&](const Delivery& d) {
    std::lock_guard lock(mu);
    got.push_back(d);
  });
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();

  contracts::Notification n;
  n.notify_id = "n-1";
  n.room = "general";
  n.user = "bob";
  n.timestamp = stored.timestamp;
  ASSERT_TRUE(
      observer_->Publish(subjects::kRoomNotify, {"general"}, contracts::ToJson(n), {}).ok());
  // Another room's notification is not ours to show.
  contracts::Notification other = n;
  other.room = "random";
  ASSERT_TRUE(
      observer_
          ->Publish(subjects::kDeliverNotify, {"alice", "random"}, contracts::ToJson(other), {})
          .ok());
  contracts::ChatMessage admin_msg;
  admin_msg.user = "diana";
  admin_msg.room = "__admin__";
  admin_msg.text = "admins only";
  admin_msg.timestamp = 1700000000999;
  ASSERT_TRUE(
      observer_
          ->Publish(subjects::kDeliverAdmin, {"alice", "chat"}, contracts::ToJson(admin_msg), {})
          .ok());
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return got.size() >= 2;
      },
      5s));
  std::lock_guard lock(mu);
  ASSERT_EQ(got.size(), 2u);
  const Delivery* room = got[0].via == "room" ? got.data() : &got[1];
  const Delivery* admin = got[0].via == "admin" ? got.data() : &got[1];
  EXPECT_EQ(room->via, "room");
  EXPECT_TRUE(room->fetched);
  EXPECT_EQ(room->message, stored);
  EXPECT_EQ(admin->via, "admin");
  EXPECT_EQ(admin->message, admin_msg);
  EXPECT_EQ(gets.load(), 1);
  EXPECT_EQ((*watch)->notifications(), 2u);
  EXPECT_EQ((*watch)->fetch_failures(), 0u);
}

// ---- confirmed actions: the echo ----

bool HasEvent(const telemetry::SpanData& span, std::string_view name) {
  for (const auto& e : span.events) {
    if (e.name == name) return true;
  }
  return false;
}

// The action span with this message id (several sends share the span name).
std::optional<telemetry::SpanData> ActionSpan(const telemetry::sdk::InMemoryTelemetry& tel,
                                              std::string_view name,
                                              const std::string& message_id) {
  for (auto& s : tel.FindSpans(name)) {
    if (telemetry::sdk::StringAttribute(s, "chat.message_id") == message_id) return s;
  }
  return std::nullopt;
}

// The observer plays fanout-service for the echo path: every accepted publish on
// deliver.*.send.> becomes a notification on room.notify.{room} whose msg.get returns the
// payload. A decoy is a copy with the same key but other text (another process of the same user
// in the same millisecond, or an older edit): it must not count as the echo.
enum class Echo { kReal, kDecoyThenReal, kDecoyOnly };

class FanoutStandIn {
 public:
  FanoutStandIn(natsx::Connection& observer, bool serve_msg_get, Echo echo)
      : observer_(observer), echo_(echo) {
    natsx::SubscribeOptions so;
    so.templates = {subjects::kDeliverSend, subjects::kDeliverSendThread};
    so.pattern = "deliver.*.send.>";
    auto ingest =
        observer_.Subscribe(std::move(so), [this](const natsx::Message& m, natsx::MessageContext&) {
          auto msg = contracts::FromJson<contracts::ChatMessage>(m.payload());
          if (!msg.ok()) return msg.status();
          if (echo_ != Echo::kReal && (msg->action == contracts::MessageAction::kSend ||
                                       msg->action == contracts::MessageAction::kEdit)) {
            contracts::ChatMessage other = *msg;
            other.text = "someone else's text";
            Notify(other);
          }
          if (echo_ != Echo::kDecoyOnly) Notify(*msg);
          return core::Status::Ok();
        });
    EXPECT_TRUE(ingest.ok()) << ingest.status().ToString();
    if (ingest.ok()) subs_.push_back(std::move(ingest).value());
    if (serve_msg_get) {
      natsx::SubscribeOptions get;
      get.templates = {subjects::kMsgGet};
      get.kind = natsx::ProcessKind::kServer;
      auto responder = observer_.Subscribe(
          std::move(get), [this](const natsx::Message& m, natsx::MessageContext& ctx) {
            auto req = contracts::FromJson<contracts::MsgGetRequest>(m.payload());
            if (!req.ok()) return req.status();
            std::string payload;
            {
              std::lock_guard lock(mu_);
              auto it = cache_.find(req->notify_id);
              if (it == cache_.end()) return core::NotFound("no such notification");
              payload = it->second;
            }
            return ctx.Respond(payload);
          });
      EXPECT_TRUE(responder.ok()) << responder.status().ToString();
      if (responder.ok()) subs_.push_back(std::move(responder).value());
    }
    EXPECT_TRUE(observer_.Flush(5s).ok());
  }
  int notified() const { return notified_.load(); }

 private:
  void Notify(const contracts::ChatMessage& msg) {
    contracts::Notification n;
    n.notify_id = "n-" + std::to_string(next_id_.fetch_add(1));
    n.room = msg.room;
    n.user = msg.user;
    n.timestamp = msg.timestamp;
    n.thread_id = msg.thread_id;
    n.action = msg.action;
    n.emoji = msg.emoji;
    n.target_user = msg.target_user;
    {
      std::lock_guard lock(mu_);
      cache_[n.notify_id] = contracts::ToJson(msg);
    }
    EXPECT_TRUE(
        observer_.Publish(subjects::kRoomNotify, {msg.room}, contracts::ToJson(n), {}).ok());
    notified_.fetch_add(1);
  }

  natsx::Connection& observer_;
  Echo echo_;
  std::mutex mu_;
  std::map<std::string, std::string> cache_;
  std::atomic<int> next_id_{1};
  std::atomic<int> notified_{0};
  std::vector<std::unique_ptr<natsx::Subscription>> subs_;
};

TEST_F(ClientTest, SendAndConfirmEndsTheSpanAtTheOwnEcho) {
  FanoutStandIn fanout(*observer_, /*serve_msg_get=*/true, Echo::kDecoyThenReal);
  auto alice = LoginAs("alice");
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();

  auto sent = (*alice)->SendAndConfirm("general", "hello echo", {}, 10s);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_TRUE(sent->confirmed);
  EXPECT_GE(sent->echo_latency.count(), 0);
  EXPECT_EQ(sent->message_id, contracts::MessageId(sent->timestamp, "alice"));
  EXPECT_EQ(fanout.notified(), 2);  // the decoy and the real copy

  auto span = ActionSpan(client_tel_, "send_message", sent->message_id);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->trace_id.Hex(), sent->trace_id);
  EXPECT_EQ(span->status_code, telemetry::StatusCode::kUnset);
  EXPECT_TRUE(HasEvent(*span, "echo_rendered"));
  EXPECT_FALSE(HasEvent(*span, "exception"));
  EXPECT_EQ(telemetry::sdk::StringAttribute(*span, "chat.action"), "send");
  EXPECT_EQ(telemetry::sdk::StringAttribute(*span, "chat.room"), "general");
  // The echo was handled as the browser handles every notification (§5.2): its own root
  // `process room.notify.{room}` with a `request msg.get` child, both before the action ended.
  ASSERT_TRUE(testing::WaitFor(
      [&] { return client_tel_.FindSpans("process room.notify.{room}").size() >= 2; }, 5s));
  bool rendered_before_end = false;
  for (const auto& p : client_tel_.FindSpans("process room.notify.{room}")) {
    EXPECT_FALSE(p.parent_span_id.IsValid());
    EXPECT_NE(p.trace_id, span->trace_id);  // never inside the send trace
    if (HasEvent(p, "message_rendered") && p.start_unix_nano <= span->end_unix_nano) {
      rendered_before_end = true;
    }
  }
  EXPECT_TRUE(rendered_before_end);
  EXPECT_GE(client_tel_.FindSpans("request msg.get").size(), 2u);

  // A thread reply is confirmed by the echo that carries its thread id.
  std::string thread = contracts::ThreadId("general", sent->timestamp);
  auto reply = (*alice)->SendAndConfirm("general", "in thread", thread, 10s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  auto reply_span = ActionSpan(client_tel_, "send_message", reply->message_id);
  ASSERT_TRUE(reply_span.has_value());
  EXPECT_EQ(telemetry::sdk::StringAttribute(*reply_span, "chat.thread_id"), thread);
  EXPECT_TRUE(HasEvent(*reply_span, "echo_rendered"));

  // Edit, react and delete are confirmed by their own echoes too.
  auto edit = (*alice)->EditAndConfirm("general", sent->timestamp, "hello echo (edited)", {}, 10s);
  ASSERT_TRUE(edit.ok()) << edit.status().ToString();
  auto react = (*alice)->ReactAndConfirm("general", sent->timestamp, "alice", ":+1:", {}, 10s);
  ASSERT_TRUE(react.ok()) << react.status().ToString();
  auto del = (*alice)->DeleteAndConfirm("general", sent->timestamp, {}, 10s);
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  for (std::string_view name : {"edit_message", "react_message", "delete_message"}) {
    auto s = ActionSpan(client_tel_, name, sent->message_id);
    ASSERT_TRUE(s.has_value()) << name;
    EXPECT_TRUE(HasEvent(*s, "echo_rendered")) << name;
    EXPECT_EQ(s->status_code, telemetry::StatusCode::kUnset) << name;
  }
}

TEST_F(ClientTest, SendAndConfirmWithoutEchoTimesOutWithDeliveryTimeout) {
  // Nobody plays fanout: the publish reaches the bus and nothing comes back — what a sender
  // who is not a member of the room sees.
  Observe({subjects::kDeliverSend}, "deliver.*.send.>");
  auto alice = LoginAs("alice");
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  auto sent = (*alice)->SendAndConfirm("general", "into the void", {}, 1500ms);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().code(), core::ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(SawSubject("deliver.alice.send.general"));  // it was published, just not echoed
  const std::string& text = sent.status().message();
  EXPECT_NE(text.find("no echo of message "), std::string::npos) << text;
  EXPECT_NE(text.find("within 1500 ms"), std::string::npos) << text;
  EXPECT_EQ(text.find("into the void"), std::string::npos) << "message text leaked";

  auto spans = client_tel_.FindSpans("send_message");
  ASSERT_EQ(spans.size(), 1u);
  const auto& span = spans[0];
  EXPECT_NE(text.find("trace_id=" + span.trace_id.Hex()), std::string::npos) << text;
  EXPECT_EQ(span.status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(telemetry::sdk::StringAttribute(span, "error.type"), "delivery_timeout");
  EXPECT_TRUE(HasEvent(span, "exception"));
  EXPECT_FALSE(HasEvent(span, "echo_rendered"));
  EXPECT_GE(span.end_unix_nano - span.start_unix_nano, 1'400'000'000);  // waited the timeout
  for (const auto& e : span.events) {
    for (const auto& a : e.attributes) {
      if (auto* v = std::get_if<std::string>(&a.value)) {
        EXPECT_EQ(v->find("into the void"), std::string::npos);
      }
    }
  }

  // Our notification arrives but msg.get cannot return it: the browser renders nothing, so
  // this is still a delivery timeout, and the error says what was seen.
  {
    FanoutStandIn notify_only(*observer_, /*serve_msg_get=*/false, Echo::kReal);
    auto half = (*alice)->SendAndConfirm("general", "notified only", {}, 1500ms);
    ASSERT_FALSE(half.ok());
    EXPECT_EQ(half.status().code(), core::ErrorCode::kDeadlineExceeded);
    EXPECT_NE(half.status().message().find("msg.get failed"), std::string::npos)
        << half.status().message();
    EXPECT_EQ(notify_only.notified(), 1);
  }

  // A copy with our key but another text is not our echo.
  FanoutStandIn decoy_only(*observer_, /*serve_msg_get=*/true, Echo::kDecoyOnly);
  auto decoyed = (*alice)->SendAndConfirm("general", "mine", {}, 1500ms);
  ASSERT_FALSE(decoyed.ok());
  EXPECT_EQ(decoyed.status().code(), core::ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(decoyed.status().message().find("msg.get failed"), std::string::npos);
  EXPECT_EQ(decoy_only.notified(), 1);
}

TEST_F(ClientTest, SendAndConfirmRefusedByThePermissionsFailsAtOnce) {
  auto charlie = LoginAs("charlie");  // no realm role: may not send at all
  ASSERT_TRUE(charlie.ok()) << charlie.status().ToString();
  auto sent = (*charlie)->SendAndConfirm("general", "read-only", {}, 10s);
  ASSERT_FALSE(sent.ok());
  // Not a timeout: the refusal is known after the publish's flush.
  EXPECT_EQ(sent.status().code(), core::ErrorCode::kPermissionDenied) << sent.status().ToString();
  EXPECT_NE(sent.status().message().find("Permissions Violation"), std::string::npos);
  auto span = client_tel_.FindSpan("send_message");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(telemetry::sdk::StringAttribute(*span, "error.type"), "permission_denied");
}

TEST(ClientHelpersTest, MentionsAndLoopback) {
  EXPECT_EQ(ExtractMentions("@bob hi @alice, @bob! mail@x"),
            (std::vector<std::string>{"bob", "alice", "x"}));
  EXPECT_TRUE(ExtractMentions("no mentions @").empty());
  EXPECT_TRUE(IsLoopbackUrl("http://127.0.0.1:8080/realms/nats-chat"));
  EXPECT_TRUE(IsLoopbackUrl("nats://localhost:4222"));
  EXPECT_TRUE(IsLoopbackUrl("postgresql://postgres@127.0.0.1:5433/chatdb"));
  EXPECT_TRUE(IsLoopbackUrl("http://[::1]:9430"));
  EXPECT_FALSE(IsLoopbackUrl("http://10.0.0.1:9430"));
  EXPECT_FALSE(IsLoopbackUrl("nats://nats.example.com:4222"));
  EXPECT_FALSE(IsLoopbackUrl("http://127.0.0.1.evil.example/"));
}

}  // namespace
}  // namespace chat::client
