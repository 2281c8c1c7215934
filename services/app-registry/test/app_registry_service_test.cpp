// app-registry-service against a real nats-server (one per test) and a throwaway PostgreSQL
// database (migrated, seeded apps). The service runs in-process as its own Postgres role on an
// InMemoryTelemetry; users request over natsx connections whose inbox prefix is _INBOX.{user}
// (docs/adr/0001). Membership is seeded in ROOMS before the service starts (hydration); private
// rooms and roles in rooms/room_members; the platform admin is a member of __admin__chat.
#include "handlers/app_registry_service.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "chat/contracts/apps.hpp"
#include "chat/contracts/attributes.hpp"
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

namespace chat::app_registry_service {
namespace {

using namespace std::chrono_literals;
namespace sdk = telemetry::sdk;
namespace subjects = contracts::subjects;
using core::ErrorCode;

class AppRegistryServiceTest : public testing::PgServiceTest {
 protected:
  void SetUp() override {
    PgServiceTest::SetUp();
    if (HasFatalFailure()) return;
    service_conn_ = Connect("app-registry-service", "");
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
    // Live membership: alice and bob in general; root is a platform admin; carol (owner), dave
    // (room admin) and erin (member) in the private room "secret".
    for (const char* key : {"general.alice", "general.bob", "__admin__chat.root", "secret.carol",
                            "secret.dave", "secret.erin"}) {
      ASSERT_TRUE(rooms_->Put(key, "{}", telemetry::SpanContext{}).ok());
    }
    Sql("INSERT INTO rooms (name, creator, type) VALUES ('secret', 'carol', 'private')");
    Sql("INSERT INTO room_members (room_name, username, role) VALUES ('secret', 'carol', "
        "'owner'), ('secret', 'dave', 'admin'), ('secret', 'erin', 'member')");
    AppRegistryConfig config;
    config.database_url = ServiceDsn("app-registry-service");  // its own role, as deployed
    auto service = AppRegistryService::Create(config, *service_bus_, core::SystemClock::Instance());
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    ASSERT_TRUE(service_conn_->Flush(5s).ok());
  }

  void TearDown() override {
    if (service_ != nullptr) service_->Drain(2s);
    service_.reset();
    rooms_.reset();
    js_.reset();
    service_bus_.reset();
    service_conn_.reset();
  }

  core::Result<natsx::Message> Raw(const core::SubjectTemplate& tmpl, natsx::Args args,
                                   const std::string& user, const std::string& body) {
    auto client = User(user);
    if (client == nullptr) return core::Unavailable("no client");
    return client->Request(tmpl, args, body, 5s, telemetry::SpanContext{});
  }
  core::Status Install(const std::string& room, const std::string& user, const std::string& body) {
    auto msg = Raw(subjects::kAppsInstall, {room, user}, user, body);
    if (!msg.ok()) return msg.status();
    return contracts::FromReply<contracts::OkReply>(msg->payload()).status();
  }
  core::Status Uninstall(const std::string& room, const std::string& user,
                         const std::string& body) {
    auto msg = Raw(subjects::kAppsUninstall, {room, user}, user, body);
    if (!msg.ok()) return msg.status();
    return contracts::FromReply<contracts::OkReply>(msg->payload()).status();
  }
  core::Result<contracts::RoomAppList> RoomApps(const std::string& room, const std::string& user) {
    auto msg = Raw(subjects::kAppsRoom, {room}, user, "");
    if (!msg.ok()) return msg.status();
    return contracts::FromReply<contracts::RoomAppList>(msg->payload());
  }

  double Counter(std::string_view action, std::string_view result) {
    return tel_.metrics()
        .AddCounter("app_registry_requests_total", "", {"action", "result"})
        .With({action, result})
        .Value();
  }
  // The dispatcher counts a request after it sent the reply.
  bool WaitCounter(std::string_view action, std::string_view result, double value) {
    return testing::WaitFor([&] { return Counter(action, result) >= value; }, 10s);
  }
  std::string Installed() {
    return Query(
        "SELECT room || ':' || app_id || ':' || installed_by FROM room_apps ORDER BY "
        "room, app_id");
  }

  std::unique_ptr<natsx::Connection> service_conn_;
  std::unique_ptr<runtime::NatsBus> service_bus_;
  std::unique_ptr<natsx::JetStream> js_;
  std::unique_ptr<natsx::KeyValue> rooms_;
  std::unique_ptr<AppRegistryService> service_;
};

TEST_F(AppRegistryServiceTest, RoutesMatchTheReadme) {
  EXPECT_EQ(::chat::testing::RouteRows(service_->Routes()),
            ::chat::testing::ReadmeRouteRows("services/app-registry/README.md"));
}

TEST_F(AppRegistryServiceTest, ListsTheCatalogueByNameWithSameOriginBundles) {
  auto msg = Raw(subjects::kAppsList, {}, "alice", "");
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  auto list = contracts::FromReply<contracts::AppList>(msg->payload());
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->apps.size(), 3u);
  EXPECT_EQ(list->apps[0].id, "kb");
  EXPECT_EQ(list->apps[0].component_url, "/apps/kb/kb-app.js");
  EXPECT_EQ(list->apps[1].id, "poll");
  EXPECT_EQ(list->apps[1].component_url, "/apps/poll/poll-app.js");
  EXPECT_EQ(list->apps[1].subject_prefix, "app.poll");
  EXPECT_EQ(list->apps[2].id, "whiteboard");
  EXPECT_EQ(list->apps[2].component_url, "/apps/whiteboard/whiteboard-app.js");
  ASSERT_TRUE(WaitCounter("list", "ok", 1));
  auto span = tel_.FindSpan("process apps.list");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->kind, telemetry::SpanKind::kServer);
  EXPECT_EQ(sdk::StringAttribute(*span, contracts::attr::kUser), "alice");
  bool child = false;
  for (const auto& s : tel_.FindSpans("SELECT apps")) child |= s.parent_span_id == span->span_id;
  EXPECT_TRUE(child);
}

TEST_F(AppRegistryServiceTest, PlatformAdminInstallsInAPublicRoomOnceAndMembersSeeIt) {
  ASSERT_TRUE(Install("general", "root", R"({"appId":"poll","config":{"anonymous":false}})").ok());
  // Re-install is a no-op: the first installation (installer, config) is kept.
  ASSERT_TRUE(Install("general", "root", R"({"appId":"poll","user":"root"})").ok());
  ASSERT_TRUE(Install("general", "root", R"({"appId":"kb"})").ok());
  EXPECT_EQ(Installed(), "general:kb:root\ngeneral:poll:root\n");

  auto apps = RoomApps("general", "alice");
  ASSERT_TRUE(apps.ok()) << apps.status().ToString();
  ASSERT_EQ(apps->apps.size(), 2u);
  EXPECT_EQ(apps->apps[0].id, "poll");  // install order
  EXPECT_EQ(apps->apps[0].installed_by, "root");
  EXPECT_EQ(apps->apps[0].config, R"({"anonymous":false})");
  EXPECT_EQ(apps->apps[0].installed_at.size(), 24u) << apps->apps[0].installed_at;  // RFC 3339
  EXPECT_EQ(apps->apps[0].installed_at.back(), 'Z');
  EXPECT_EQ(apps->apps[1].id, "kb");
  EXPECT_EQ(apps->apps[1].config, "");

  ASSERT_TRUE(Uninstall("general", "root", R"({"appId":"poll"})").ok());
  ASSERT_TRUE(Uninstall("general", "root", R"({"appId":"poll"})").ok());  // not installed: ok
  EXPECT_EQ(Installed(), "general:kb:root\n");
  ASSERT_TRUE(WaitCounter("install", "ok", 3));
  ASSERT_TRUE(WaitCounter("uninstall", "ok", 2));
  ASSERT_TRUE(WaitCounter("room", "ok", 1));

  bool logged = false;
  for (const auto& r : tel_.LogRecords()) logged |= r.body == "app installed";
  EXPECT_TRUE(logged);
  auto span = tel_.FindSpan("process apps.install.{room}.{user}");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(sdk::StringAttribute(*span, contracts::attr::kRoomType), "public");
  EXPECT_EQ(sdk::StringAttribute(*span, contracts::attr::kAppId), "poll");
}

TEST_F(AppRegistryServiceTest, PrivateRoomOwnerAndRoomAdminMayInstallOthersMayNot) {
  EXPECT_TRUE(Install("secret", "carol", R"({"appId":"poll"})").ok());  // owner
  EXPECT_TRUE(Install("secret", "dave", R"({"appId":"kb"})").ok());     // room admin
  // A plain member, a platform admin who is not the room's owner/admin, an outsider.
  EXPECT_EQ(Install("secret", "erin", R"({"appId":"whiteboard"})").code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Install("secret", "root", R"({"appId":"whiteboard"})").code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Install("secret", "alice", R"({"appId":"whiteboard"})").code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Uninstall("secret", "erin", R"({"appId":"poll"})").code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Installed(), "secret:kb:dave\nsecret:poll:carol\n");

  // Only members list a room's apps.
  auto apps = RoomApps("secret", "erin");
  ASSERT_TRUE(apps.ok()) << apps.status().ToString();
  EXPECT_EQ(apps->apps.size(), 2u);
  EXPECT_EQ(RoomApps("secret", "alice").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(RoomApps("general", "erin").status().code(), ErrorCode::kPermissionDenied);

  EXPECT_TRUE(Uninstall("secret", "dave", R"({"appId":"poll"})").ok());
  EXPECT_EQ(Installed(), "secret:kb:dave\n");
  ASSERT_TRUE(WaitCounter("install", "denied", 3));
  ASSERT_TRUE(WaitCounter("uninstall", "denied", 1));
  ASSERT_TRUE(WaitCounter("room", "denied", 2));
  EXPECT_EQ(Counter("install", "ok"), 2);
  EXPECT_EQ(Counter("uninstall", "ok"), 1);
  // A refusal is a business result: the span stays UNSET with the code as error.type.
  for (const auto& s : tel_.FindSpans("process apps.install.{room}.{user}")) {
    EXPECT_NE(s.status_code, telemetry::StatusCode::kError);
  }
}

TEST_F(AppRegistryServiceTest, RefusalsAreClearCountedAndStoreNothing) {
  // Not an admin in a public room; a DM room (even for a platform admin); unknown app;
  // malformed JSON; an oversized body; a body user that is not the subject's; a bad room key.
  EXPECT_EQ(Install("general", "alice", R"({"appId":"poll"})").code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Install("dm-alice-root", "root", R"({"appId":"poll"})").code(),
            ErrorCode::kFailedPrecondition);
  auto unknown = Raw(subjects::kAppsInstall, {"general", "root"}, "root", R"({"appId":"chess"})");
  ASSERT_TRUE(unknown.ok());
  auto reply = contracts::FromJson<contracts::ErrorReply>(unknown->payload());
  ASSERT_TRUE(reply.ok()) << unknown->payload();
  EXPECT_EQ(reply->code, ErrorCode::kNotFound);
  EXPECT_EQ(reply->message, "unknown app id");
  EXPECT_EQ(Install("general", "root", "{nope").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Install("general", "root",
                    R"({"appId":"poll","config":{"x":")" + std::string(70000, 'x') + "\"}}")
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Install("general", "root",
                    R"({"appId":"poll","config":{"x":")" + std::string(5000, 'x') + "\"}}")
                .code(),
            ErrorCode::kInvalidArgument);  // config over 4 KiB
  EXPECT_EQ(Install("general", "root", R"({"appId":"poll","user":"alice"})").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Install("General", "root", R"({"appId":"poll"})").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Uninstall("general", "root", R"({"appId":"chess"})").code(), ErrorCode::kNotFound);
  EXPECT_EQ(Uninstall("dm-alice-root", "root", R"({"appId":"poll"})").code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(RoomApps("dm-alice-root", "alice").status().code(), ErrorCode::kFailedPrecondition);

  EXPECT_EQ(Installed(), "");
  ASSERT_TRUE(WaitCounter("install", "denied", 2));
  ASSERT_TRUE(WaitCounter("install", "invalid", 6));
  ASSERT_TRUE(WaitCounter("uninstall", "invalid", 1));
  ASSERT_TRUE(WaitCounter("uninstall", "denied", 1));
  ASSERT_TRUE(WaitCounter("room", "denied", 1));
  EXPECT_EQ(Counter("install", "ok"), 0);
  EXPECT_EQ(Counter("install", "error"), 0);
  EXPECT_EQ(Counter("install", "denied"), 2);
  EXPECT_EQ(Counter("install", "invalid"), 6);
}

TEST_F(AppRegistryServiceTest, MembershipFollowsRoomChangedDeltas) {
  EXPECT_EQ(RoomApps("general", "frank").status().code(), ErrorCode::kPermissionDenied);
  contracts::RoomChanged join{"general", contracts::RoomChangeAction::kJoin, "frank",
                              contracts::RoomType::kPublic};
  ASSERT_TRUE(service_conn_
                  ->Publish(subjects::kRoomChanged, {"general"}, contracts::ToJson(join),
                            telemetry::SpanContext{})
                  .ok());
  ASSERT_TRUE(testing::WaitFor([&] { return RoomApps("general", "frank").ok(); }, 10s));
}

}  // namespace
}  // namespace chat::app_registry_service
