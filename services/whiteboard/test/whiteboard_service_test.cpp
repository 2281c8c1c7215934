// whiteboard-service against a real nats-server (one per test) and a throwaway PostgreSQL
// database. The service is built in-process (WhiteboardService::Create, as main() does) on an
// InMemoryTelemetry; users request over natsx connections whose inbox prefix is _INBOX.{user}
// (docs/adr/0001). The race tests run two service instances on separate connections, each with
// several subscriptions in whiteboard-workers, against one board. The whiteboard app is installed
// in general (a room_apps row, as app-registry-service writes it), not in offtopic.
#include "handlers/whiteboard_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/contracts/whiteboard.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/natsx/kv.hpp"
#include "chat/pg/pool.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/readme_routes.hpp"
#include "chat/testing/service_fixture.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::whiteboard_service {
namespace {

using namespace std::chrono_literals;
namespace sdk = telemetry::sdk;
namespace subjects = contracts::subjects;

constexpr std::string_view kProcessSpan = "process app.whiteboard.{room}.{action}.{user}";

// An element as a client sends it: id, version and opaque Excalidraw fields.
std::string Element(const std::string& id, int64_t version, const std::string& extra = "") {
  return R"({"id":")" + id + R"(","type":"rectangle","version":)" + std::to_string(version) +
         R"(,"x":10,"y":20)" + extra + "}";
}

nlohmann::json Json(const std::string& text) { return nlohmann::json::parse(text); }

std::string Delta(const std::string& board, const std::vector<std::string>& elements) {
  std::string body = R"({"boardId":")" + board + R"(","elements":[)";
  for (size_t i = 0; i < elements.size(); ++i) body += (i > 0 ? "," : "") + elements[i];
  return body + "]}";
}

// One whiteboard service instance on its own connection.
struct Instance {
  std::unique_ptr<natsx::Connection> conn;
  std::unique_ptr<runtime::NatsBus> bus;
  std::unique_ptr<WhiteboardService> service;
};

// Sync broadcasts seen by a plain subscriber (as fanout would receive them).
class SyncCollector {
 public:
  void Add(std::string payload, std::string traceparent) {
    std::lock_guard lock(mu_);
    payloads_.push_back(std::move(payload));
    traceparents_.push_back(std::move(traceparent));
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return payloads_.size();
  }
  std::string payload(size_t i) const {
    std::lock_guard lock(mu_);
    return payloads_.at(i);
  }
  std::string traceparent(size_t i) const {
    std::lock_guard lock(mu_);
    return traceparents_.at(i);
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> payloads_;
  std::vector<std::string> traceparents_;
};

class WhiteboardServiceTest : public testing::PgServiceTest {
 protected:
  void SetUp() override {
    PgServiceTest::SetUp();
    if (HasFatalFailure()) return;
    admin_conn_ = Connect("test-admin", "");
    ASSERT_NE(admin_conn_, nullptr);
    auto js = natsx::JetStream::Create(*admin_conn_);
    ASSERT_TRUE(js.ok()) << js.status().ToString();
    js_ = std::move(*js);
    natsx::KeyValueConfig rooms;
    rooms.bucket = std::string(contracts::jetstream::kBucketRooms);
    auto kv = js_->CreateKeyValue(rooms);
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    rooms_ = std::move(*kv);
    Sql("INSERT INTO room_apps (room, app_id, installed_by) VALUES ('general', 'whiteboard', "
        "'alice')");
    config_.database_url = ServiceDsn("whiteboard-service");  // its own role, as deployed
    config_.concurrency = 4;
  }

  void TearDown() override {
    sync_sub_.reset();
    for (auto& i : instances_) {
      if (i.service != nullptr) i.service->Drain(2s);
      i.service.reset();
      i.bus.reset();
      i.conn.reset();
    }
    rooms_.reset();
    js_.reset();
    admin_conn_.reset();
  }

  // Starts one more instance; its spans and metrics go to `t` (tel_ by default).
  void StartService(sdk::InMemoryTelemetry* t = nullptr) {
    Instance i;
    i.conn = Connect("whiteboard-service", "", t != nullptr ? *t : tel_);
    ASSERT_NE(i.conn, nullptr);
    i.bus = std::make_unique<runtime::NatsBus>(*i.conn);
    auto service = WhiteboardService::Create(config_, *i.bus, core::SystemClock::Instance());
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    i.service = std::move(*service);
    // The routes' SUBs are processed by the server once a flush round-trip completes.
    ASSERT_TRUE(i.conn->Flush(5s).ok());
    instances_.push_back(std::move(i));
  }

  // Membership as room-service writes it (before the service starts: the mirror hydrates).
  void Join(const std::string& room, const std::string& user) {
    ASSERT_TRUE(rooms_->Put(room + "." + user, "{}", telemetry::SpanContext{}).ok());
  }

  void SubscribeSync() {
    natsx::SubscribeOptions o;
    o.templates = {subjects::kAppEvent};
    o.pattern = "app.whiteboard.*.sync";
    auto sub = admin_conn_->Subscribe(o, [this](const natsx::Message& m, natsx::MessageContext&) {
      syncs_.Add(std::string(m.payload()),
                 std::string(m.Header(telemetry::semconv::kTraceparentHeader).value_or("")));
      return core::Status();
    });
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
    sync_sub_ = std::move(*sub);
    ASSERT_TRUE(admin_conn_->Flush(5s).ok());
  }

  // The raw reply of `action` in `room` by `user` over `client`.
  std::string Call(natsx::Connection& client, const std::string& room, const std::string& action,
                   const std::string& user, const std::string& body,
                   std::chrono::milliseconds timeout = 10s) {
    auto msg = client.Request(subjects::kAppRequest, {"whiteboard", room, action, user}, body,
                              timeout, telemetry::SpanContext{});
    if (!msg.ok()) return "<" + std::string(core::ErrorCodeName(msg.status().code())) + ">";
    return std::string(msg->payload());
  }
  // The error code of a reply, "ok" when it is not an error reply.
  static std::string Code(const std::string& reply) {
    auto ok = contracts::FromReply<contracts::OkReply>(reply);
    if (ok.ok()) return "ok";
    return std::string(core::ErrorCodeName(ok.status().code()));
  }

  std::string CreateBoard(natsx::Connection& client, const std::string& room,
                          const std::string& user, const std::string& name = "plan") {
    auto reply = contracts::FromReply<contracts::WhiteboardCreateReply>(
        Call(client, room, "create", user, R"({"name":")" + name + R"("})"));
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? reply->id : "";
  }

  contracts::WhiteboardBoard LoadBoard(natsx::Connection& client, const std::string& room,
                                       const std::string& user, const std::string& board) {
    auto reply = contracts::FromReply<contracts::WhiteboardBoard>(
        Call(client, room, "load", user, R"({"boardId":")" + board + R"("})"));
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? *reply : contracts::WhiteboardBoard{};
  }

  double Requests(std::string_view action, std::string_view result,
                  sdk::InMemoryTelemetry* t = nullptr) {
    return (t != nullptr ? *t : tel_)
        .metrics()
        .AddCounter("whiteboard_requests_total", "", {"action", "result"})
        .With({action, result})
        .Value();
  }
  std::string Stored(const std::string& sql) { return Query(sql); }

  WhiteboardConfig config_;
  sdk::InMemoryTelemetry second_tel_;  // the race test's second instance (outlives it)
  std::unique_ptr<natsx::Connection> admin_conn_;
  std::unique_ptr<natsx::JetStream> js_;
  std::unique_ptr<natsx::KeyValue> rooms_;
  std::vector<Instance> instances_;
  SyncCollector syncs_;
  std::unique_ptr<natsx::Subscription> sync_sub_;
};

// The README's "Routes" table lists what the dispatcher really registers.
TEST_F(WhiteboardServiceTest, RoutesMatchTheReadme) {
  StartService();
  ASSERT_FALSE(instances_.empty());
  EXPECT_EQ(::chat::testing::RouteRows(instances_[0].service->Routes()),
            ::chat::testing::ReadmeRouteRows("services/whiteboard/README.md"));
}

TEST_F(WhiteboardServiceTest, CreateListLoadAndDeleteBoards) {
  Join("general", "alice");
  Join("general", "bob");
  StartService();
  auto alice = User("alice");
  auto bob = User("bob");

  const std::string plan = CreateBoard(*alice, "general", "alice", "plan");
  ASSERT_EQ(plan.size(), 8u);
  for (char c : plan) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << plan;
  // No name: "Untitled"; the body's user may repeat the subject's.
  auto untitled = contracts::FromReply<contracts::WhiteboardCreateReply>(
      Call(*bob, "general", "create", "bob", R"({"user":"bob"})"));
  ASSERT_TRUE(untitled.ok()) << untitled.status().ToString();
  EXPECT_EQ(untitled->name, "Untitled");
  EXPECT_EQ(untitled->created_by, "bob");

  auto list = contracts::FromReply<contracts::WhiteboardListReply>(
      Call(*alice, "general", "list", "alice", ""));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->boards.size(), 2u);
  EXPECT_EQ(list->boards[0].id, untitled->id);  // newest first
  EXPECT_EQ(list->boards[1].id, plan);
  EXPECT_EQ(list->boards[1].name, "plan");
  EXPECT_EQ(list->boards[1].created_by, "alice");
  const std::string& at = list->boards[1].created_at;  // RFC 3339, UTC
  ASSERT_EQ(at.size(), 24u) << at;
  EXPECT_EQ(at[10], 'T');
  EXPECT_EQ(at.back(), 'Z');

  auto board = LoadBoard(*bob, "general", "bob", plan);
  EXPECT_EQ(board.id, plan);
  EXPECT_EQ(board.name, "plan");
  EXPECT_EQ(board.created_by, "alice");
  EXPECT_TRUE(board.elements.empty());

  EXPECT_EQ(Call(*bob, "general", "delete", "bob", R"({"boardId":")" + plan + R"("})"),
            R"({"ok":true})");
  // Deleting again (nothing left) is still ok, as in the reference.
  EXPECT_EQ(Call(*bob, "general", "delete", "bob", R"({"boardId":")" + plan + R"("})"),
            R"({"ok":true})");
  EXPECT_EQ(Stored("SELECT id FROM whiteboard_boards"), untitled->id + "\n");

  EXPECT_EQ(Requests("create", "ok"), 2);
  EXPECT_EQ(Requests("list", "ok"), 1);
  EXPECT_EQ(Requests("load", "ok"), 1);
  EXPECT_EQ(Requests("delete", "ok"), 2);

  auto spans = tel_.FindSpans(kProcessSpan);
  ASSERT_EQ(spans.size(), 6u);
  for (const auto& s : spans) {
    EXPECT_EQ(s.kind, telemetry::SpanKind::kServer);
    EXPECT_EQ(sdk::StringAttribute(s, contracts::attr::kAppId), "whiteboard");
    EXPECT_EQ(sdk::StringAttribute(s, contracts::attr::kRoom), "general");
    EXPECT_EQ(sdk::StringAttribute(s, contracts::attr::kReplyResult), "ok");
  }
  EXPECT_EQ(sdk::StringAttribute(spans[0], contracts::attr::kAppAction), "create");
  EXPECT_FALSE(tel_.FindSpans("INSERT whiteboard_boards").empty());
  EXPECT_FALSE(tel_.FindSpans("DELETE whiteboard_boards").empty());
}

TEST_F(WhiteboardServiceTest, DeltaMergesLastWriterWinsAndBroadcastsOnlyTheChangedElements) {
  Join("general", "alice");
  Join("general", "bob");
  StartService();
  SubscribeSync();
  auto alice = User("alice");
  auto bob = User("bob");
  const std::string board = CreateBoard(*alice, "general", "alice");

  // Two new elements: both stored and broadcast, with the board and the sender.
  EXPECT_EQ(Call(*alice, "general", "delta", "alice",
                 Delta(board, {Element("a", 1, R"(,"strokeColor":"#1e1e1e")"), Element("b", 1)})),
            R"({"ok":true})");
  ASSERT_TRUE(testing::WaitFor([&] { return syncs_.size() >= 1; }, 10s));
  auto sync = contracts::FromJson<contracts::WhiteboardSync>(syncs_.payload(0));
  ASSERT_TRUE(sync.ok()) << sync.status().ToString();
  EXPECT_EQ(sync->board_id, board);
  EXPECT_EQ(sync->sender, "alice");
  ASSERT_EQ(sync->elements.size(), 2u);
  EXPECT_EQ(sync->elements[0].json, Element("a", 1, R"(,"strokeColor":"#1e1e1e")"));

  // The broadcast is published in the request's trace.
  auto parsed = telemetry::ParseTraceparent(syncs_.traceparent(0));
  ASSERT_TRUE(parsed.context.has_value()) << syncs_.traceparent(0);
  auto process = tel_.FindSpans(kProcessSpan);
  bool same_trace = false;
  for (const auto& s : process) {
    if (sdk::StringAttribute(s, contracts::attr::kAppAction) == "delta") {
      same_trace = s.trace_id == parsed.context->trace_id;
    }
  }
  EXPECT_TRUE(same_trace);
  auto publish = tel_.FindSpan("publish app.{app}.{room}.{event}");
  ASSERT_TRUE(publish.has_value());
  EXPECT_EQ(publish->trace_id, parsed.context->trace_id);

  // a unchanged (same version), b newer, c new: only b and c are broadcast.
  EXPECT_EQ(Call(*bob, "general", "delta", "bob",
                 Delta(board, {Element("a", 1, R"(,"x2":1)"), Element("b", 2, R"(,"w":5)"),
                               Element("c", 7)})),
            R"({"ok":true})");
  ASSERT_TRUE(testing::WaitFor([&] { return syncs_.size() >= 2; }, 10s));
  sync = contracts::FromJson<contracts::WhiteboardSync>(syncs_.payload(1));
  ASSERT_TRUE(sync.ok()) << sync.status().ToString();
  EXPECT_EQ(sync->sender, "bob");
  ASSERT_EQ(sync->elements.size(), 2u);
  EXPECT_EQ(sync->elements[0].id, "b");
  EXPECT_EQ(sync->elements[1].id, "c");

  // Older versions and a deletion: the deletion (isDeleted, higher version) wins.
  EXPECT_EQ(Call(*alice, "general", "delta", "alice",
                 Delta(board, {Element("b", 1), Element("c", 8, R"(,"isDeleted":true)")})),
            R"({"ok":true})");
  // Nothing newer at all: ok, nothing written, no broadcast.
  EXPECT_EQ(Call(*alice, "general", "delta", "alice", Delta(board, {Element("a", 1)})),
            R"({"ok":true})");
  ASSERT_TRUE(testing::WaitFor([&] { return syncs_.size() >= 3; }, 10s));
  EXPECT_EQ(Requests("delta", "ok"), 4);
  ASSERT_TRUE(admin_conn_->Flush(5s).ok());
  EXPECT_EQ(syncs_.size(), 3u);

  // Stored as sent (Postgres jsonb may reorder an object's keys: compared as JSON values).
  auto loaded = LoadBoard(*bob, "general", "bob", board);
  ASSERT_EQ(loaded.elements.size(), 3u);
  EXPECT_EQ(Json(loaded.elements[0].json), Json(Element("a", 1, R"(,"strokeColor":"#1e1e1e")")));
  EXPECT_EQ(Json(loaded.elements[1].json), Json(Element("b", 2, R"(,"w":5)")));
  EXPECT_EQ(Json(loaded.elements[2].json), Json(Element("c", 8, R"(,"isDeleted":true)")));
  EXPECT_FALSE(tel_.FindSpans("UPDATE whiteboard_boards").empty());
}

// Every refusal: a clear error reply, counted with its action, logged, nothing stored.
TEST_F(WhiteboardServiceTest, RefusalsAreClearCountedLoggedAndStoreNothing) {
  Join("general", "alice");
  Join("dm-alice-bob", "alice");
  Join("dm-alice-bob", "bob");
  config_.max_delta_elements = 3;
  config_.max_board_bytes = 1024;
  config_.max_boards_per_room = 2;
  StartService();
  SubscribeSync();
  auto alice = User("alice");
  auto carol = User("carol");
  const std::string board = CreateBoard(*alice, "general", "alice");
  ASSERT_EQ(Call(*alice, "general", "delta", "alice", Delta(board, {Element("a", 1)})),
            R"({"ok":true})");
  ASSERT_TRUE(testing::WaitFor([&] { return syncs_.size() >= 1; }, 10s));
  const std::string stored_before =
      Stored("SELECT elements::text FROM whiteboard_boards WHERE id = '" + board + "'");

  struct Case {
    std::string who, room, action, body, code, label_action, label_result;
  };
  const std::string long_name(contracts::kMaxWhiteboardNameBytes + 1, 'n');
  const std::string big(contracts::kMaxWhiteboardElementBytes, 'x');
  const std::vector<Case> cases = {
      // Not a member (carol), a DM room (even for its members).
      {"carol", "general", "list", "", "permission_denied", "list", "denied"},
      {"carol", "general", "create", R"({"name":"x"})", "permission_denied", "create", "denied"},
      {"carol", "general", "delta", Delta(board, {Element("z", 1)}), "permission_denied", "delta",
       "denied"},
      {"alice", "dm-alice-bob", "create", "{}", "failed_precondition", "create", "denied"},
      // Malformed bodies and fields.
      {"alice", "general", "create", "{nope", "invalid_argument", "create", "invalid"},
      {"alice", "general", "delta", "{nope", "invalid_argument", "delta", "invalid"},
      {"alice", "general", "create", R"({"name":")" + long_name + R"("})", "invalid_argument",
       "create", "invalid"},
      {"alice", "general", "create", R"({"user":"bob"})", "invalid_argument", "create", "invalid"},
      {"alice", "general", "load", "{}", "invalid_argument", "load", "invalid"},
      {"alice", "general", "load", R"({"boardId":"a.b"})", "invalid_argument", "load", "invalid"},
      {"alice", "general", "delta", R"({"boardId":")" + board + R"("})", "invalid_argument",
       "delta", "invalid"},
      {"alice", "general", "delta", Delta(board, {R"({"version":2})"}), "invalid_argument", "delta",
       "invalid"},
      {"alice", "general", "delta", Delta(board, {R"({"id":"","version":2})"}), "invalid_argument",
       "delta", "invalid"},
      {"alice", "general", "delta", Delta(board, {Element("q", 0)}), "invalid_argument", "delta",
       "invalid"},
      {"alice", "general", "delta", Delta(board, {R"({"id":"q","version":1.5})"}),
       "invalid_argument", "delta", "invalid"},
      {"alice", "general", "delta", Delta(board, {R"({"id":"q","version":"2"})"}),
       "invalid_argument", "delta", "invalid"},
      {"alice", "general", "delta",
       Delta(board, {R"({"id":")" + std::string(contracts::kMaxWhiteboardElementIdBytes + 1, 'i') +
                     R"(","version":1})"}),
       "invalid_argument", "delta", "invalid"},
      {"alice", "general", "delta", Delta(board, {R"(["not an object"])"}), "invalid_argument",
       "delta", "invalid"},
      {"alice", "general", "delta", Delta(board, {Element("q", 1, R"(,"big":")" + big + R"(")")}),
       "invalid_argument", "delta", "invalid"},
      // Over the 64 KiB request limit of every contract payload.
      {"alice", "general", "delta",
       Delta(board, {Element("q", 1, R"(,"pad":")" + std::string(70000, 'p') + R"(")")}),
       "invalid_argument", "delta", "invalid"},
      // Limits: elements per delta, bytes per board.
      {"alice", "general", "delta",
       Delta(board, {Element("p", 1), Element("q", 1), Element("r", 1), Element("s", 1)}),
       "invalid_argument", "delta", "invalid"},
      {"alice", "general", "delta",
       Delta(board, {Element("p", 1, R"(,"t":")" + std::string(500, 't') + R"(")"),
                     Element("q", 1, R"(,"t":")" + std::string(500, 't') + R"(")")}),
       "resource_exhausted", "delta", "denied"},
      // Unknown boards (also another room's board id), unknown action.
      {"alice", "general", "load", R"({"boardId":"nosuch01"})", "not_found", "load", "denied"},
      {"alice", "general", "delta", Delta("nosuch01", {Element("z", 1)}), "not_found", "delta",
       "denied"},
      {"alice", "general", "explode", "{}", "invalid_argument", "unknown", "invalid"},
  };
  std::map<std::pair<std::string, std::string>, double> expected;
  for (const auto& c : cases) {
    auto& client = c.who == "carol" ? *carol : *alice;
    std::string reply = Call(client, c.room, c.action, c.who, c.body);
    EXPECT_EQ(Code(reply), c.code) << c.action << " " << c.body.substr(0, 80) << " → " << reply;
    EXPECT_NE(reply.find(R"("message":")"), std::string::npos) << reply;
    expected[{c.label_action, c.label_result}] += 1;
  }
  for (const auto& [key, n] : expected) {
    EXPECT_EQ(Requests(key.first, key.second), n) << key.first << "/" << key.second;
  }
  // The boards-per-room limit: the second board is fine, the third is refused.
  EXPECT_FALSE(CreateBoard(*alice, "general", "alice", "second").empty());
  EXPECT_EQ(Code(Call(*alice, "general", "create", "alice", R"({"name":"third"})")),
            "resource_exhausted");
  const double create_denied = expected[{"create", "denied"}];
  EXPECT_EQ(Requests("create", "denied"), create_denied + 1);

  // Nothing stored: two boards of general, the first one's elements unchanged, no DM board, no
  // broadcast beyond the first delta's.
  EXPECT_EQ(Stored("SELECT room || ':' || count(*) FROM whiteboard_boards GROUP BY room"),
            "general:2\n");
  EXPECT_EQ(Stored("SELECT elements::text FROM whiteboard_boards WHERE id = '" + board + "'"),
            stored_before);
  ASSERT_TRUE(admin_conn_->Flush(5s).ok());
  EXPECT_EQ(syncs_.size(), 1u);

  // A refusal leaves the span UNSET with the reason; each is one WARN log line.
  bool saw_denied = false;
  for (const auto& s : tel_.FindSpans(kProcessSpan)) {
    if (sdk::StringAttribute(s, contracts::attr::kReplyResult) == "denied") saw_denied = true;
    EXPECT_NE(s.status_code, telemetry::StatusCode::kError) << s.name;
  }
  EXPECT_TRUE(saw_denied);
  // (The logger passes 10 equal lines per window and counts the rest as suppressed.)
  size_t warns = 0;
  for (const auto& r : tel_.LogRecords()) {
    if (r.level == telemetry::LogLevel::kWarn && r.body == "request rejected") ++warns;
  }
  EXPECT_EQ(warns + tel_.telemetry().logger->suppressed(telemetry::LogLevel::kWarn),
            cases.size() + 1);
}

// Members of a room where no manager installed the whiteboard app (or one uninstalled it) cannot
// use it: every action is refused before anything is read, stored or broadcast.
TEST_F(WhiteboardServiceTest, RefusedWhereTheWhiteboardAppIsNotInstalled) {
  Join("offtopic", "alice");
  StartService();
  SubscribeSync();
  auto alice = User("alice");
  // The dispatcher counts a request after sending its reply.
  auto counted = [this](std::string_view action, std::string_view result, double n) {
    return testing::WaitFor([&] { return Requests(action, result) == n; }, 10s);
  };
  const std::string refused = Call(*alice, "offtopic", "create", "alice", R"({"name":"x"})");
  EXPECT_EQ(Code(refused), "failed_precondition") << refused;
  EXPECT_NE(refused.find("the whiteboard app is not installed in this room"), std::string::npos)
      << refused;
  EXPECT_EQ(Code(Call(*alice, "offtopic", "list", "alice", "")), "failed_precondition");
  EXPECT_EQ(Stored("SELECT count(*) FROM whiteboard_boards"), "0\n");
  EXPECT_TRUE(counted("create", "denied", 1));
  EXPECT_TRUE(counted("list", "denied", 1));
  EXPECT_FALSE(tel_.FindSpans("SELECT room_apps").empty());

  // Installed: it works; uninstalled again (the registry deletes the row): refused again, also
  // for the board created meanwhile.
  Sql("INSERT INTO room_apps (room, app_id, installed_by) VALUES ('offtopic', 'whiteboard', "
      "'alice')");
  const std::string board = CreateBoard(*alice, "offtopic", "alice");
  ASSERT_FALSE(board.empty());
  Sql("DELETE FROM room_apps WHERE room = 'offtopic' AND app_id = 'whiteboard'");
  const std::string delta =
      Call(*alice, "offtopic", "delta", "alice", Delta(board, {Element("a", 1)}));
  EXPECT_EQ(Code(delta), "failed_precondition") << delta;
  EXPECT_NE(delta.find("the whiteboard app is not installed in this room"), std::string::npos);
  EXPECT_EQ(Code(Call(*alice, "offtopic", "load", "alice", R"({"boardId":")" + board + R"("})")),
            "failed_precondition");
  EXPECT_EQ(Code(Call(*alice, "offtopic", "delete", "alice", R"({"boardId":")" + board + R"("})")),
            "failed_precondition");
  EXPECT_EQ(Stored("SELECT elements::text FROM whiteboard_boards"), "[]\n");
  EXPECT_TRUE(counted("create", "ok", 1));
  EXPECT_TRUE(counted("delta", "denied", 1));
  EXPECT_TRUE(counted("load", "denied", 1));
  EXPECT_TRUE(counted("delete", "denied", 1));
  ASSERT_TRUE(admin_conn_->Flush(5s).ok());
  EXPECT_EQ(syncs_.size(), 0u);
}

// A request whose reply subject is not the subject user's own inbox is refused (ADR 0001).
TEST_F(WhiteboardServiceTest, RepliesGoOnlyToTheSubjectUsersInbox) {
  Join("general", "alice");
  StartService();
  auto mallory = User("mallory");
  // No reply can come: the request times out (1 s), and the refusal is counted.
  EXPECT_EQ(Call(*mallory, "general", "create", "alice", "{}", 1s), "<deadline_exceeded>");
  ASSERT_TRUE(testing::WaitFor([&] { return Requests("create", "denied") == 1; }, 10s));
  EXPECT_EQ(Stored("SELECT count(*) FROM whiteboard_boards"), "0\n");
}

// THE RACE (issue 13 ★): two service instances, each with 4 subscriptions in whiteboard-workers,
// and two writers with 4 concurrent request streams each, all sending deltas of new elements to
// one board. No element may be lost: the board ends with exactly every id. Meanwhile every
// stream bumps one shared element; the highest version sent must win.
TEST_F(WhiteboardServiceTest, ConcurrentDeltasFromTwoInstancesNeverLoseAnElement) {
  Join("general", "alice");
  Join("general", "bob");
  StartService();
  StartService(&second_tel_);
  auto alice = User("alice");
  auto bob = User("bob");
  const std::string board = CreateBoard(*alice, "general", "alice");

  constexpr int kStreamsPerWriter = 4;
  constexpr int kDeltasPerStream = 25;
  constexpr int kElementsPerDelta = 2;
  // Each stream has its own connection: requests really run side by side.
  std::vector<std::unique_ptr<natsx::Connection>> clients;
  for (int w = 0; w < 2; ++w) {
    for (int s = 0; s < kStreamsPerWriter; ++s) {
      clients.push_back(User(w == 0 ? "alice" : "bob"));
      ASSERT_NE(clients.back(), nullptr);
    }
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    for (int s = 0; s < kStreamsPerWriter; ++s) {
      natsx::Connection* client = clients[threads.size()].get();
      threads.emplace_back([&, w, s, client] {
        const std::string user = w == 0 ? "alice" : "bob";
        for (int d = 0; d < kDeltasPerStream; ++d) {
          std::vector<std::string> elements;
          elements.reserve(kElementsPerDelta + 1);
          for (int e = 0; e < kElementsPerDelta; ++e) {
            elements.push_back(Element(
                user + "-" + std::to_string(s) + "-" + std::to_string(d) + "-" + std::to_string(e),
                1));
          }
          // The shared element: versions interleave across streams; the largest is 100 * 25 + 7.
          elements.push_back(Element("shared", (d + 1) * 100 + w * 4 + s));
          if (Call(*client, "general", "delta", user, Delta(board, elements)) != R"({"ok":true})") {
            failures++;
          }
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);

  auto loaded = LoadBoard(*alice, "general", "alice", board);
  const size_t expected = 2 * kStreamsPerWriter * kDeltasPerStream * kElementsPerDelta + 1;
  EXPECT_EQ(loaded.elements.size(), expected);
  std::set<std::string> ids;
  int64_t shared_version = 0;
  for (const auto& e : loaded.elements) {
    ids.insert(e.id);
    if (e.id == "shared") shared_version = e.version;
  }
  EXPECT_EQ(ids.size(), expected);  // no duplicates either
  for (int w = 0; w < 2; ++w) {
    for (int s = 0; s < kStreamsPerWriter; ++s) {
      for (int d = 0; d < kDeltasPerStream; ++d) {
        for (int e = 0; e < kElementsPerDelta; ++e) {
          std::string id = std::string(w == 0 ? "alice" : "bob") + "-" + std::to_string(s) + "-" +
                           std::to_string(d) + "-" + std::to_string(e);
          EXPECT_TRUE(ids.count(id) == 1) << id;
        }
      }
    }
  }
  EXPECT_EQ(shared_version, kDeltasPerStream * 100 + 1 * 4 + (kStreamsPerWriter - 1));

  // Both instances took part (queue group whiteboard-workers spreads the requests).
  const double first = Requests("delta", "ok");
  const double second = Requests("delta", "ok", &second_tel_);
  EXPECT_GT(first, 0);
  EXPECT_GT(second, 0);
  EXPECT_EQ(first + second, 2 * kStreamsPerWriter * kDeltasPerStream);
}

// Group commit per board: while a transaction on the board runs, deltas reaching the instance
// queue and are merged together in the next one. The test holds the board's row lock from its
// own connection so the first delta's transaction waits inside Postgres, sends a burst, waits
// until every other subscription's delta is queued, then lets go. The queued ones share one
// UPDATE; each still gets its own reply and sync, the event board_merged, and (all but the one
// that ran the batch) a link to that UPDATE. A delta over the byte limit in the burst is refused
// alone.
TEST_F(WhiteboardServiceTest, BatchedDeltasShareOneTransactionAndLinkToIt) {
  Join("general", "alice");
  config_.max_board_bytes = 4096;
  StartService();
  SubscribeSync();
  auto alice = User("alice");
  const std::string board = CreateBoard(*alice, "general", "alice");

  sdk::InMemoryTelemetry lock_tel;
  pg::PoolOptions po;
  po.dsn = Dsn();
  po.size = 1;
  auto pool = pg::Pool::Create(std::move(po), lock_tel.telemetry());
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  auto lease = (*pool)->Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  auto tx = lease->Begin(telemetry::SpanContext{});
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  constexpr pg::Statement kHold{"hold_board",
                                "SELECT 1 FROM whiteboard_boards WHERE id = $1 FOR UPDATE",
                                "SELECT", "whiteboard_boards"};
  ASSERT_TRUE(tx->Execute(kHold, {board}).ok());

  // The first delta, in its own transaction, waits for the row lock.
  std::vector<std::unique_ptr<natsx::Connection>> clients;
  // After the first: each other subscription gets one of the burst unless the queue group's
  // random pick skips it 40 times (3 · 0.75^40 ≈ 3e-5).
  constexpr size_t kBurst = 40;
  for (int i = 0; i < 8; ++i) clients.push_back(User("alice"));
  std::vector<std::string> replies(kBurst + 1);
  std::vector<std::thread> threads;
  auto send = [&](size_t i) {
    // Delta 7 alone is too big for the board: 5 KiB of padding.
    const std::string extra = i == 7 ? R"(,"pad":")" + std::string(5000, 'x') + "\"" : "";
    replies[i] = Call(*clients[i % clients.size()], "general", "delta", "alice",
                      Delta(board, {Element("e" + std::to_string(i), 1, extra)}), 30s);
  };
  threads.emplace_back(send, size_t{0});
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return Query(
                   "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
                   "application_name = 'whiteboard-service'") == "1\n";
      },
      10s));
  for (size_t i = 1; i <= kBurst; ++i) threads.emplace_back(send, i);
  // config_.concurrency subscriptions: one runs the blocked batch, the others each hold a delta.
  const auto queued = static_cast<size_t>(config_.concurrency - 1);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return instances_[0].service->QueuedDeltas("general", board) == queued; }, 10s));
  ASSERT_TRUE(tx->Commit().ok());
  for (auto& t : threads) t.join();

  for (size_t i = 0; i <= kBurst; ++i) {
    EXPECT_EQ(Code(replies[i]), i == 7 ? "resource_exhausted" : "ok") << i << ": " << replies[i];
  }
  auto loaded = LoadBoard(*alice, "general", "alice", board);
  EXPECT_EQ(loaded.elements.size(), kBurst);  // all but delta 7
  ASSERT_TRUE(testing::WaitFor([&] { return syncs_.size() == kBurst; }, 10s));

  // Fewer UPDATEs than stored deltas, and every batched request finds its UPDATE.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        size_t deltas = 0;
        for (const auto& s : tel_.FindSpans(kProcessSpan)) {
          if (sdk::StringAttribute(s, contracts::attr::kAppAction) == "delta") deltas++;
        }
        return deltas == kBurst + 1;
      },
      10s));
  const auto updates = tel_.FindSpans("UPDATE whiteboard_boards");
  EXPECT_LE(updates.size(), kBurst - queued + 1);
  std::set<std::string> update_ids;
  for (const auto& u : updates) update_ids.insert(u.span_id.Hex());
  size_t merged = 0;
  size_t linked = 0;
  for (const auto& s : tel_.FindSpans(kProcessSpan)) {
    if (sdk::StringAttribute(s, contracts::attr::kAppAction) != "delta") continue;
    const telemetry::SpanEvent* ev = sdk::FindEvent(s, "board_merged");
    if (ev == nullptr) continue;
    merged++;
    const auto* size = sdk::FindAttribute(ev->attributes, contracts::attr::kBatchSize);
    ASSERT_NE(size, nullptr);
    EXPECT_GE(std::get<int64_t>(*size), 2);
    for (const auto& link : s.links) {
      if (update_ids.count(link.context.span_id.Hex()) == 0) continue;
      ASSERT_EQ(link.attributes.size(), 1u);
      EXPECT_EQ(link.attributes[0].key, telemetry::semconv::kChatLinkReason);
      EXPECT_EQ(std::get<std::string>(link.attributes[0].value), "batch");
      linked++;
    }
  }
  // At least the batch of the queued ones; all but its leader link (delta 7, if among them,
  // was refused and links to the UPDATE of the others all the same).
  EXPECT_GE(merged, queued);
  EXPECT_GE(linked, queued - 1);
  EXPECT_EQ(Requests("delta", "ok"), static_cast<double>(kBurst));
}

}  // namespace
}  // namespace chat::whiteboard_service
