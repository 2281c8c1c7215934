// kb-service against a real nats-server (one per test: KB_EDITORS and ROOMS start empty) and a
// throwaway PostgreSQL cluster. The service is built in-process (KbService::Create, as main()
// does) on an InMemoryTelemetry, connected to Postgres as its own role; users request over natsx
// connections whose inbox prefix is _INBOX.{user} (docs/adr/0001). The kb app is installed in
// general (a room_apps row, as app-registry-service writes it), not in offtopic.
#include "handlers/kb_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/kb.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
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

namespace chat::kb_service {
namespace {

using namespace std::chrono_literals;
namespace sdk = telemetry::sdk;
namespace subjects = contracts::subjects;

// One kb-service instance with its own connection and telemetry.
struct Instance {
  std::unique_ptr<sdk::InMemoryTelemetry> tel;  // null for the first: it uses the fixture's
  sdk::InMemoryTelemetry* reports = nullptr;    // where its metrics are
  std::unique_ptr<natsx::Connection> conn;
  std::unique_ptr<runtime::NatsBus> bus;
  std::unique_ptr<KbService> service;

  void Stop() {
    if (service != nullptr) service->Drain(2s);
    service.reset();
    bus.reset();
    conn.reset();
  }
  double Editors() const {
    return reports->metrics().AddGauge("kb_active_editors", "").Default().Value();
  }
};

class KbServiceTest : public testing::PgServiceTest {
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
    Sql("INSERT INTO room_apps (room, app_id, installed_by) VALUES ('general', 'kb', 'alice')");
    config_.database_url = ServiceDsn("kb-service");  // its own role, as deployed
    config_.editors_gauge_interval = 100ms;
  }

  void TearDown() override {
    for (auto& i : instances_) i.Stop();
    instances_.clear();
    rooms_.reset();
    js_.reset();
    admin_conn_.reset();
  }

  // Starts one more instance; the first one reports into tel_ (the fixture's telemetry).
  KbService* StartInstance() {
    Instance i;
    if (instances_.empty()) {
      i.conn = Connect("kb-service", "");
      i.reports = &tel_;
    } else {
      i.tel = std::make_unique<sdk::InMemoryTelemetry>();
      i.conn = Connect("kb-service-" + std::to_string(instances_.size()), "", *i.tel);
      i.reports = i.tel.get();
    }
    if (i.conn == nullptr) return nullptr;
    i.bus = std::make_unique<runtime::NatsBus>(*i.conn);
    auto service = KbService::Create(config_, *i.bus, core::SystemClock::Instance());
    EXPECT_TRUE(service.ok()) << service.status().ToString();
    if (!service.ok()) return nullptr;
    i.service = std::move(*service);
    // The routes' SUBs are processed by the server once a flush round-trip completes.
    EXPECT_TRUE(i.conn->Flush(5s).ok());
    instances_.push_back(std::move(i));
    return instances_.back().service.get();
  }
  KbService* Start() { return StartInstance(); }

  void Join(const std::string& room, const std::string& user) {
    ASSERT_TRUE(rooms_->Put(room + "." + user, "{}", telemetry::SpanContext{}).ok());
  }

  // The raw reply payload of app.kb.{room}.{action}.{user}.
  std::string Call(natsx::Connection& client, const std::string& room, const std::string& action,
                   const std::string& user, const std::string& body) {
    auto msg = client.Request(subjects::kAppKbRequest, {room, action, user}, body, 5s,
                              telemetry::SpanContext{});
    EXPECT_TRUE(msg.ok()) << msg.status().ToString();
    return msg.ok() ? std::string(msg->payload()) : std::string();
  }
  template <typename T>
  core::Result<T> CallAs(natsx::Connection& client, const std::string& room,
                         const std::string& action, const std::string& user,
                         const std::string& body) {
    return contracts::FromReply<T>(Call(client, room, action, user, body));
  }
  core::Status Refusal(natsx::Connection& client, const std::string& room,
                       const std::string& action, const std::string& user,
                       const std::string& body) {
    return CallAs<contracts::OkReply>(client, room, action, user, body).status();
  }
  std::string CreatePage(natsx::Connection& client, const std::string& user,
                         const std::string& title = "Page") {
    auto created = CallAs<contracts::KbPageCreated>(client, "general", "create", user,
                                                    R"({"title":")" + title + R"("})");
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->id : std::string();
  }

  double Counter(std::string_view action, std::string_view result) {
    return tel_.metrics()
        .AddCounter("kb_requests_total", "", {"action", "result"})
        .With({action, result})
        .Value();
  }
  // The dispatcher counts a request after sending its reply: wait for the count.
  bool WaitCounter(std::string_view action, std::string_view result, double value) {
    return testing::WaitFor([&] { return Counter(action, result) == value; }, 10s);
  }
  std::string Rows() { return Query("SELECT count(*) FROM kb_pages"); }

  KbConfig config_;
  std::unique_ptr<natsx::Connection> admin_conn_;
  std::unique_ptr<natsx::JetStream> js_;
  std::unique_ptr<natsx::KeyValue> rooms_;
  std::vector<Instance> instances_;
};

TEST(EditorKeyTest, EncodesTheUserAndReadsItBack) {
  std::string key = EditorKey("general", "3f6c2a1e-9b1d", "alice@example");
  EXPECT_EQ(key.rfind("general.3f6c2a1e-9b1d.", 0), 0u);
  EXPECT_EQ(key.find('@'), std::string::npos);
  EXPECT_EQ(EditorOfKey(key), "alice@example");
  EXPECT_FALSE(EditorOfKey("general.page.").has_value());
  EXPECT_FALSE(EditorOfKey("general.page.!!").has_value());
}

// The README's "Routes" table lists what the dispatcher really registers.
TEST_F(KbServiceTest, RoutesMatchTheReadme) {
  KbService* service = Start();
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(::chat::testing::RouteRows(service->Routes()),
            ::chat::testing::ReadmeRouteRows("services/kb/README.md"));
}

TEST_F(KbServiceTest, EveryActionWorksForMembers) {
  Join("general", "alice");
  Join("general", "bob");
  ASSERT_NE(Start(), nullptr);
  auto alice = User("alice");
  auto bob = User("bob");

  // Every series exists before the first request.
  for (const char* action :
       {"list", "create", "load", "save", "delete", "editing", "stopedit", "unknown"}) {
    for (const char* result : {"ok", "denied", "invalid", "error"}) {
      EXPECT_EQ(Counter(action, result), 0) << action << " " << result;
    }
  }

  auto empty = CallAs<contracts::KbPageList>(*alice, "general", "list", "alice", "");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->pages.empty());

  // create: default title, then a named page.
  auto untitled =
      CallAs<contracts::KbPageCreated>(*alice, "general", "create", "alice", R"({"user":"alice"})");
  ASSERT_TRUE(untitled.ok()) << untitled.status().ToString();
  EXPECT_EQ(untitled->title, "Untitled");
  EXPECT_EQ(untitled->id.size(), 36u);  // a UUID
  std::string page = CreatePage(*bob, "bob", "Onboarding");
  ASSERT_FALSE(page.empty());

  // save (bob's page, by alice) then load.
  auto saved = CallAs<contracts::OkReply>(
      *alice, "general", "save", "alice",
      R"({"pageId":")" + page +
          R"(","title":"Onboarding v2","content":"<p>Hello <em>team</em></p>"})");
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_TRUE(saved->ok);
  auto loaded =
      CallAs<contracts::KbPage>(*bob, "general", "load", "bob", R"({"pageId":")" + page + R"("})");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->id, page);
  EXPECT_EQ(loaded->title, "Onboarding v2");
  EXPECT_EQ(loaded->content, "<p>Hello <em>team</em></p>");
  EXPECT_EQ(loaded->created_by, "bob");
  EXPECT_EQ(loaded->updated_by, "alice");
  EXPECT_TRUE(loaded->editors.empty());
  // RFC 3339 UTC with milliseconds.
  EXPECT_EQ(loaded->updated_at.size(), 24u) << loaded->updated_at;
  EXPECT_EQ(loaded->updated_at.back(), 'Z');
  EXPECT_EQ(loaded->updated_at[10], 'T');

  // list: most recently updated first.
  auto list = CallAs<contracts::KbPageList>(*bob, "general", "list", "bob", "{}");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->pages.size(), 2u);
  EXPECT_EQ(list->pages[0].id, page);
  EXPECT_EQ(list->pages[0].updated_by, "alice");
  EXPECT_EQ(list->pages[1].id, untitled->id);

  // editing / stopedit answer ok.
  auto editing = CallAs<contracts::OkReply>(*bob, "general", "editing", "bob",
                                            R"({"pageId":")" + page + R"("})");
  ASSERT_TRUE(editing.ok()) << editing.status().ToString();
  auto stop = CallAs<contracts::OkReply>(*bob, "general", "stopedit", "bob",
                                         R"({"pageId":")" + page + R"("})");
  ASSERT_TRUE(stop.ok()) << stop.status().ToString();

  // delete: ok, then {"ok":false} for a page that is gone (system.md), as is a save to it.
  auto deleted = CallAs<contracts::OkReply>(*alice, "general", "delete", "alice",
                                            R"({"pageId":")" + untitled->id + R"("})");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_TRUE(deleted->ok);
  auto again = CallAs<contracts::OkReply>(*alice, "general", "delete", "alice",
                                          R"({"pageId":")" + untitled->id + R"("})");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->ok);
  auto lost = CallAs<contracts::OkReply>(
      *alice, "general", "save", "alice",
      R"({"pageId":")" + untitled->id + R"(","title":"t","content":"<p>x</p>"})");
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_FALSE(lost->ok);
  EXPECT_EQ(Rows(), "1\n");

  EXPECT_TRUE(WaitCounter("list", "ok", 2));
  EXPECT_TRUE(WaitCounter("create", "ok", 2));
  EXPECT_TRUE(WaitCounter("save", "ok", 1));
  EXPECT_TRUE(WaitCounter("save", "invalid", 1));
  EXPECT_TRUE(WaitCounter("load", "ok", 1));
  EXPECT_TRUE(WaitCounter("delete", "ok", 1));
  EXPECT_TRUE(WaitCounter("delete", "invalid", 1));
  EXPECT_TRUE(WaitCounter("editing", "ok", 1));
  EXPECT_TRUE(WaitCounter("stopedit", "ok", 1));
  EXPECT_EQ(
      tel_.metrics()
          .AddHistogram("kb_request_duration_seconds", "", telemetry::kBucketsNats, {"action"})
          .With({"create"})
          .Count(),
      2u);

  // SERVER span per request: app attributes and the SQL child.
  std::optional<telemetry::SpanData> load_span;
  for (const auto& s : tel_.FindSpans("process app.kb.{room}.{action}.{user}")) {
    if (sdk::StringAttribute(s, contracts::attr::kAppAction) == "load") load_span = s;
  }
  ASSERT_TRUE(load_span.has_value());
  EXPECT_EQ(load_span->kind, telemetry::SpanKind::kServer);
  EXPECT_EQ(sdk::StringAttribute(*load_span, contracts::attr::kAppId), "kb");
  EXPECT_EQ(sdk::StringAttribute(*load_span, contracts::attr::kRoom), "general");
  EXPECT_EQ(sdk::StringAttribute(*load_span, contracts::attr::kUser), "bob");
  EXPECT_EQ(sdk::StringAttribute(*load_span, contracts::attr::kReplyResult), "ok");
  EXPECT_EQ(sdk::StringAttribute(*load_span, telemetry::semconv::kMessagingConsumerGroupName),
            "kb-workers");
  bool sql_child = false;
  for (const auto& s : tel_.FindSpans("SELECT kb_pages")) {
    if (s.parent_span_id == load_span->span_id) sql_child = true;
  }
  EXPECT_TRUE(sql_child);
}

TEST_F(KbServiceTest, StoredContentIsSanitised) {
  Join("general", "alice");
  ASSERT_NE(Start(), nullptr);
  auto alice = User("alice");
  std::string page = CreatePage(*alice, "alice");
  const std::string hostile =
      R"(<p onclick=\"alert(1)\">Hi<img src=x onerror=alert(1)><script>alert(2)</script></p>)"
      R"(<svg onload=alert(3)><circle/></svg><a href=\"javascript:alert(4)\">bad</a> )"
      R"(<A HREF=https://example.com/ target=_self>good</A><iframe src=x></iframe>)";
  auto saved = CallAs<contracts::OkReply>(
      *alice, "general", "save", "alice",
      R"({"pageId":")" + page + R"(","title":"t","content":")" + hostile + R"("})");
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  const std::string clean =
      "<p>Hi</p>bad <a href=\"https://example.com/\" rel=\"noopener noreferrer nofollow\" "
      "target=\"_blank\">good</a>";
  EXPECT_EQ(Query("SELECT content FROM kb_pages WHERE id = '" + page + "'"), clean + "\n");
  auto loaded = CallAs<contracts::KbPage>(*alice, "general", "load", "alice",
                                          R"({"pageId":")" + page + R"("})");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->content, clean);

  // A row written around the service is cleaned on the way out too.
  Sql("UPDATE kb_pages SET content = '<p>x</p><script>alert(5)</script>' WHERE id = '" + page +
      "'");
  loaded = CallAs<contracts::KbPage>(*alice, "general", "load", "alice",
                                     R"({"pageId":")" + page + R"("})");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->content, "<p>x</p>");
}

TEST_F(KbServiceTest, RefusalsAreClearCountedAndStoreNothing) {
  Join("general", "alice");
  config_.max_title_bytes = 10;
  config_.max_content_bytes = 100;
  config_.max_pages_per_room = 2;
  ASSERT_NE(Start(), nullptr);
  auto alice = User("alice");
  auto mallory = User("mallory");
  std::string page = CreatePage(*alice, "alice");
  ASSERT_FALSE(page.empty());
  const std::string saved_before = Query("SELECT title, content, updated_at FROM kb_pages");

  auto expect = [&](const core::Status& s, core::ErrorCode code, std::string_view text) {
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_NE(s.message().find(text), std::string::npos) << s.message();
  };
  using core::ErrorCode;
  const std::string on_page = R"({"pageId":")" + page + R"(")";

  // Not a member: every action, the page's own id included.
  expect(Refusal(*mallory, "general", "list", "mallory", ""), ErrorCode::kPermissionDenied,
         "only members");
  expect(Refusal(*mallory, "general", "save", "mallory",
                 on_page + R"(,"title":"x","content":"pwned"})"),
         ErrorCode::kPermissionDenied, "only members");
  expect(Refusal(*mallory, "general", "editing", "mallory", on_page + "}"),
         ErrorCode::kPermissionDenied, "only members");
  // DM rooms: never, even for a participant.
  Join("dm-alice-bob", "alice");
  expect(Refusal(*alice, "dm-alice-bob", "create", "alice", "{}"), ErrorCode::kFailedPrecondition,
         "direct messages");
  // Malformed JSON, a body user other than the subject's, an unknown action.
  expect(Refusal(*alice, "general", "create", "alice", "{nope"), ErrorCode::kInvalidArgument, "");
  expect(Refusal(*alice, "general", "create", "alice", R"({"user":"bob"})"),
         ErrorCode::kInvalidArgument, "does not match");
  expect(Refusal(*alice, "general", "drop", "alice", "{}"), ErrorCode::kInvalidArgument,
         "unknown action");
  // pageId missing or not a page id.
  for (const char* action : {"load", "save", "delete", "editing", "stopedit"}) {
    expect(Refusal(*alice, "general", action, "alice", "{}"), ErrorCode::kInvalidArgument,
           "pageId required");
  }
  expect(Refusal(*alice, "general", "stopedit", "alice", R"({"pageId":"a.b.>"})"),
         ErrorCode::kInvalidArgument, "not a page id");
  // Unknown page.
  expect(Refusal(*alice, "general", "load", "alice", R"({"pageId":"no-such-page"})"),
         ErrorCode::kNotFound, "page not found");
  expect(Refusal(*alice, "general", "editing", "alice", R"({"pageId":"no-such-page"})"),
         ErrorCode::kNotFound, "page not found");
  // Sizes.
  expect(Refusal(*alice, "general", "save", "alice",
                 on_page + R"(,"title":"much too long a title","content":""})"),
         ErrorCode::kInvalidArgument, "title too long: at most 10 bytes");
  expect(Refusal(*alice, "general", "save", "alice",
                 on_page + R"(,"title":"t","content":")" + std::string(101, 'x') + R"("})"),
         ErrorCode::kInvalidArgument, "content too long: at most 100 bytes");
  // A body over the 64 KiB payload limit is refused before any action runs.
  expect(Refusal(*alice, "general", "save", "alice",
                 on_page + R"(,"title":"t","content":")" + std::string(70000, 'x') + R"("})"),
         ErrorCode::kInvalidArgument, "payload exceeds 65536 bytes");
  expect(Refusal(*alice, "general", "create", "alice", R"({"title":"much too long a title"})"),
         ErrorCode::kInvalidArgument, "title too long");
  // The page cap.
  ASSERT_FALSE(CreatePage(*alice, "alice").empty());
  expect(Refusal(*alice, "general", "create", "alice", "{}"), ErrorCode::kResourceExhausted,
         "maximum of 2 pages");

  // Nothing stored by any of them.
  EXPECT_EQ(Rows(), "2\n");
  EXPECT_EQ(Query("SELECT title, content, updated_at FROM kb_pages WHERE id = '" + page + "'"),
            saved_before);
  auto editors = js_->BindKeyValue(std::string(contracts::jetstream::kBucketKbEditors));
  ASSERT_TRUE(editors.ok());
  EXPECT_FALSE((*editors)->Get(EditorKey("general", page, "mallory"), {}).ok());

  EXPECT_TRUE(WaitCounter("list", "denied", 1));
  EXPECT_TRUE(WaitCounter("save", "denied", 1));
  EXPECT_TRUE(WaitCounter("editing", "denied", 1));
  EXPECT_TRUE(WaitCounter("create", "denied", 2))  // DM room, page cap
      << Counter("create", "denied");
  EXPECT_TRUE(WaitCounter("create", "invalid", 3));  // malformed, body user, long title
  EXPECT_TRUE(WaitCounter("unknown", "invalid", 1));
  EXPECT_TRUE(WaitCounter("load", "invalid", 2));      // no pageId, unknown page
  EXPECT_TRUE(WaitCounter("editing", "invalid", 2));   // no pageId, unknown page
  EXPECT_TRUE(WaitCounter("stopedit", "invalid", 2));  // no pageId, bad pageId
  EXPECT_TRUE(WaitCounter("save", "invalid", 4));      // no pageId, title, content, payload
  EXPECT_EQ(Counter("create", "ok"), 2);

  // A refusal leaves the span UNSET with its code (observability §1.3).
  bool denied_span = false;
  for (const auto& s : tel_.FindSpans("process app.kb.{room}.{action}.{user}")) {
    if (sdk::StringAttribute(s, contracts::attr::kReplyResult) == "denied") {
      denied_span = true;
      EXPECT_EQ(s.status_code, telemetry::StatusCode::kUnset);
    }
  }
  EXPECT_TRUE(denied_span);
}

// Members of a room where no manager installed the kb app (or one uninstalled it) cannot use it:
// every action is refused before anything is read, stored or broadcast.
TEST_F(KbServiceTest, RefusedWhereTheKbAppIsNotInstalled) {
  using core::ErrorCode;
  Join("offtopic", "alice");
  ASSERT_NE(Start(), nullptr);
  auto alice = User("alice");
  core::Status refused = Refusal(*alice, "offtopic", "create", "alice", R"({"title":"T"})");
  EXPECT_EQ(refused.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(), "the kb app is not installed in this room");
  EXPECT_EQ(Refusal(*alice, "offtopic", "list", "alice", "").code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(Rows(), "0\n");
  EXPECT_TRUE(WaitCounter("create", "denied", 1));
  EXPECT_TRUE(WaitCounter("list", "denied", 1));
  EXPECT_FALSE(tel_.FindSpans("SELECT room_apps").empty());

  // Installed: it works; uninstalled again (the registry deletes the row): refused again, also
  // for the page created meanwhile, and no editing presence is published.
  Sql("INSERT INTO room_apps (room, app_id, installed_by) VALUES ('offtopic', 'kb', 'alice')");
  auto created =
      CallAs<contracts::KbPageCreated>(*alice, "offtopic", "create", "alice", R"({"title":"T"})");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Sql("DELETE FROM room_apps WHERE room = 'offtopic' AND app_id = 'kb'");
  const std::string page = R"({"pageId":")" + created->id + "\"";
  for (const char* action : {"load", "editing", "stopedit", "delete"}) {
    core::Status s = Refusal(*alice, "offtopic", action, "alice", page + "}");
    EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition) << action;
    EXPECT_EQ(s.message(), "the kb app is not installed in this room") << action;
    EXPECT_TRUE(WaitCounter(action, "denied", 1)) << action;
  }
  EXPECT_EQ(
      Refusal(*alice, "offtopic", "save", "alice", page + R"(,"title":"New","content":"<p>x</p>"})")
          .code(),
      ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(WaitCounter("save", "denied", 1));
  EXPECT_EQ(Query("SELECT title || '|' || content FROM kb_pages"), "T|\n");
  EXPECT_TRUE(WaitCounter("create", "ok", 1));
  EXPECT_TRUE(tel_.FindSpans("publish app.{app}.{room}.{event}").empty());
}

TEST_F(KbServiceTest, MembershipFollowsRoomChanged) {
  ASSERT_NE(Start(), nullptr);
  auto carol = User("carol");
  EXPECT_EQ(Refusal(*carol, "general", "list", "carol", "").code(),
            core::ErrorCode::kPermissionDenied);
  contracts::RoomChanged join{"general", contracts::RoomChangeAction::kJoin, "carol",
                              contracts::RoomType::kPublic};
  ASSERT_TRUE(admin_conn_
                  ->Publish(subjects::kRoomChanged, {"general"}, contracts::ToJson(join),
                            telemetry::SpanContext{})
                  .ok());
  EXPECT_TRUE(testing::WaitFor(
      [&] { return CallAs<contracts::KbPageList>(*carol, "general", "list", "carol", "").ok(); },
      10s));
}

// Presence lives in KB_EDITORS, not in a process: an editor recorded through one instance is
// seen by another, the broadcast continues the request's trace, and the TTL drops an editor
// whose browser stopped refreshing.
TEST_F(KbServiceTest, PresenceIsSharedBroadcastAndExpires) {
  Join("general", "alice");
  Join("general", "bob");
  config_.editing_ttl = 2s;
  ASSERT_NE(StartInstance(), nullptr);
  auto alice = User("alice");
  auto bob = User("bob");
  std::string page = CreatePage(*alice, "alice");
  ASSERT_FALSE(page.empty());

  // Everything published on app.kb.general.presence, with its trace header.
  struct Event {
    std::string payload;
    bool traceparent = false;
  };
  std::mutex mu;
  std::vector<Event> events;
  natsx::SubscribeOptions options;
  options.templates = {subjects::kAppEvent};
  options.pattern = "app.kb.general.presence";
  auto sub =
      admin_conn_->Subscribe(options, [&](const natsx::Message& msg, natsx::MessageContext&) {
        std::lock_guard lock(mu);
        events.push_back({std::string(msg.payload()),
                          msg.Header(telemetry::semconv::kTraceparentHeader).has_value()});
        return core::Status();
      });
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(admin_conn_->Flush(5s).ok());
  auto event = [&](size_t i) -> std::optional<Event> {
    std::lock_guard lock(mu);
    return i < events.size() ? std::optional<Event>(events[i]) : std::nullopt;
  };

  const std::string on_page = R"({"pageId":")" + page + R"("})";
  ASSERT_TRUE(CallAs<contracts::OkReply>(*alice, "general", "editing", "alice", on_page).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return event(0).has_value(); }, 10s));
  auto first = contracts::FromJson<contracts::KbPresence>(event(0)->payload);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->page_id, page);
  EXPECT_EQ(first->editors, std::vector<std::string>{"alice"});
  EXPECT_TRUE(event(0)->traceparent);
  // The PRODUCER span is a child of the editing request's SERVER span (same trace), and the
  // subscriber's CONSUMER span continues it. Spans are exported when they end: wait for them.
  auto traced = [&] {
    auto publishes = tel_.FindSpans("publish app.{app}.{room}.{event}");
    if (publishes.empty()) return false;
    const auto& publish = publishes.front();
    for (const auto& s : tel_.FindSpans("process app.kb.{room}.{action}.{user}")) {
      if (s.span_id == publish.parent_span_id && s.trace_id == publish.trace_id &&
          sdk::StringAttribute(s, contracts::attr::kAppAction) == "editing") {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(testing::WaitFor(traced, 5s));

  // A second instance sees alice; with the first one gone, it alone answers bob's load.
  ASSERT_NE(StartInstance(), nullptr);
  EXPECT_TRUE(testing::WaitFor([&] { return instances_[1].Editors() == 1; }, 10s));
  EXPECT_TRUE(testing::WaitFor([&] { return instances_[0].Editors() == 1; }, 10s));
  instances_[0].Stop();
  auto loaded = CallAs<contracts::KbPage>(*bob, "general", "load", "bob", on_page);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->editors, std::vector<std::string>{"alice"});

  // bob joins through the second instance; stopedit removes him at once.
  ASSERT_TRUE(CallAs<contracts::OkReply>(*bob, "general", "editing", "bob", on_page).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return event(1).has_value(); }, 10s));
  EXPECT_EQ(contracts::FromJson<contracts::KbPresence>(event(1)->payload)->editors,
            (std::vector<std::string>{"alice", "bob"}));
  ASSERT_TRUE(CallAs<contracts::OkReply>(*bob, "general", "stopedit", "bob", on_page).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return event(2).has_value(); }, 10s));
  EXPECT_EQ(contracts::FromJson<contracts::KbPresence>(event(2)->payload)->editors,
            std::vector<std::string>{"alice"});

  // alice never refreshes: the TTL (2 s) removes her, and the gauge follows.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        auto page_now = CallAs<contracts::KbPage>(*bob, "general", "load", "bob", on_page);
        return page_now.ok() && page_now->editors.empty();
      },
      15s));
  EXPECT_TRUE(testing::WaitFor([&] { return instances_[1].Editors() == 0; }, 10s));
  sub->reset();
}

}  // namespace
}  // namespace chat::kb_service
