// room-service against a real nats-server and a throwaway PostgreSQL cluster: the service is
// built in-process (RoomService::Create, as main() does) on an InMemoryTelemetry, and users talk
// to it over natsx connections whose inbox prefix is _INBOX.{user} (docs/adr/0001). Each test
// gets its own nats-server (the ROOMS bucket must start empty) and its own database.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/membership/room_index.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/natsx/kv.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/readme_routes.hpp"
#include "chat/testing/service_fixture.hpp"
#include "chat/testing/wait_for.hpp"
#include "service.hpp"

namespace chat::room_service {
namespace {

using namespace std::chrono_literals;
namespace sdk = telemetry::sdk;
namespace subjects = contracts::subjects;
using contracts::RoomChangeAction;
using contracts::RoomChanged;
using contracts::RoomType;
using core::ErrorCode;
using Strings = std::vector<std::string>;

struct Seen {
  std::string subject;
  std::string payload;
};

class RoomServiceTest : public testing::PgServiceTest {
 protected:
  void SetUp() override {
    PgServiceTest::SetUp();
    if (HasFatalFailure()) return;

    // Observer of everything the service announces.
    observer_ = Connect("observer", "");
    ASSERT_NE(observer_, nullptr);
    auto sub = observer_->Subscribe(
        {.templates = {subjects::kRoomChanged, subjects::kChatRoom}},
        [this](const natsx::Message& m, natsx::MessageContext&) {
          std::lock_guard lock(seen_mu_);
          seen_.push_back({std::string(m.subject()), std::string(m.payload())});
          return core::Status();
        });
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
    observer_sub_ = std::move(*sub);
    ASSERT_TRUE(observer_->Flush(2s).ok());

    StartService();
  }

  void StartService() {
    service_conn_ = Connect("room-service", "");
    ASSERT_NE(service_conn_, nullptr);
    RoomConfig config;
    config.database_url = ServiceDsn("room-service");  // its own role, as deployed
    config.db_pool_size = 2;
    config.db_connect_attempts = 1;
    service_bus_ = std::make_unique<runtime::NatsBus>(*service_conn_);
    auto service =
        RoomService::Create(config, *service_bus_, tel_.telemetry(), core::SystemClock::Instance());
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    ASSERT_TRUE(service_conn_->Flush(2s).ok());
  }

  void TearDown() override {
    if (service_ != nullptr) service_->Drain(2s);
    service_.reset();
    service_bus_.reset();
    service_conn_.reset();
    observer_sub_.reset();
    observer_.reset();
    clients_.clear();
  }

  // A connection acting as `user` (replies come back to _INBOX.{user}.…), cached per user.
  natsx::Connection& As(const std::string& user) {
    for (auto& [name, conn] : clients_) {
      if (name == user) return *conn;
    }
    clients_.emplace_back(user, User(user));
    return *clients_.back().second;
  }

  core::Result<natsx::Message> Ask(const std::string& user, const core::SubjectTemplate& tmpl,
                                   natsx::Args args, std::string_view body = "") {
    return As(user).Request(tmpl, args, body, 5s, telemetry::SpanContext{});
  }
  template <typename T>
  core::Result<T> AskFor(const std::string& user, const core::SubjectTemplate& tmpl,
                         natsx::Args args, std::string_view body = "") {
    auto msg = Ask(user, tmpl, args, body);
    if (!msg.ok()) return msg.status();
    return contracts::FromReply<T>(msg->payload());
  }
  ErrorCode AskCode(const std::string& user, const core::SubjectTemplate& tmpl, natsx::Args args,
                    std::string_view body = "") {
    auto r = AskFor<contracts::OkReply>(user, tmpl, args, body);
    return r.ok() ? ErrorCode::kOk : r.status().code();
  }

  // Publishes a join/leave as `user` and waits until the service counted it as `result`.
  void Membership(const core::SubjectTemplate& tmpl, const std::string& room,
                  const std::string& user, std::string_view expect_result,
                  std::string_view body = "") {
    const bool join = tmpl == subjects::kRoomJoin;
    double before = join ? Joins(expect_result) : Leaves(expect_result);
    ASSERT_TRUE(As(user).Publish(tmpl, {room, user}, body, telemetry::SpanContext{}).ok());
    ASSERT_TRUE(testing::WaitFor(
        [&] { return (join ? Joins(expect_result) : Leaves(expect_result)) >= before + 1; }, 10s))
        << (join ? "join" : "leave") << " of " << user << " to " << room << " not counted as "
        << expect_result;
  }

  contracts::RoomMembersReply MembersReply(const std::string& room) {
    auto r = service_conn_->Request(subjects::kRoomMembers, {room}, "{}", 5s, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    auto reply = contracts::FromJson<contracts::RoomMembersReply>(r->payload());
    EXPECT_TRUE(reply.ok()) << r->payload();
    return reply.ok() ? *reply : contracts::RoomMembersReply{};
  }

  Strings MembersOf(const std::string& room) {
    auto r = service_conn_->Request(subjects::kRoomMembers, {room}, "{}", 5s, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    auto reply = contracts::FromJson<contracts::RoomMembersReply>(r->payload());
    EXPECT_TRUE(reply.ok()) << r->payload();
    return reply.ok() ? reply->users : Strings{};
  }

  // Query's output without its trailing newline.
  std::string Sql(const std::string& sql) {
    std::string out = Query(sql);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }

  bool KvHas(const std::string& room, const std::string& user) {
    auto js = natsx::JetStream::Create(*observer_);
    EXPECT_TRUE(js.ok());
    auto kv = (*js)->BindKeyValue(std::string(contracts::jetstream::kBucketRooms));
    EXPECT_TRUE(kv.ok());
    return (*kv)->Get(membership::RoomsKey(room, user), {}).ok();
  }

  std::vector<Seen> SeenOn(std::string_view subject) {
    std::lock_guard lock(seen_mu_);
    std::vector<Seen> out;
    for (const auto& s : seen_) {
      if (s.subject == subject) out.push_back(s);
    }
    return out;
  }
  std::vector<RoomChanged> Deltas(const std::string& room) {
    std::vector<RoomChanged> out;
    for (const auto& s : SeenOn("room.changed." + room)) {
      auto d = contracts::FromJson<RoomChanged>(s.payload);
      EXPECT_TRUE(d.ok()) << s.payload;
      if (d.ok()) out.push_back(*d);
    }
    return out;
  }
  std::vector<contracts::ChatMessage> SystemMessages(const std::string& room) {
    std::vector<contracts::ChatMessage> out;
    for (const auto& s : SeenOn("chat." + room)) {
      auto m = contracts::FromJson<contracts::ChatMessage>(s.payload);
      EXPECT_TRUE(m.ok()) << s.payload;
      if (m.ok()) out.push_back(*m);
    }
    return out;
  }
  bool WaitSystemMessages(const std::string& room, size_t n) {
    return testing::WaitFor([&] { return SeenOn("chat." + room).size() >= n; }, 10s);
  }
  bool WaitDeltas(const std::string& room, size_t n) {
    return testing::WaitFor([&] { return SeenOn("room.changed." + room).size() >= n; }, 10s);
  }

  double Joins(std::string_view result) { return Counter("room_joins_total", {result}); }
  double Leaves(std::string_view result) { return Counter("room_leaves_total", {result}); }
  double Requests(std::string_view action, std::string_view result) {
    return tel_.metrics()
        .AddCounter("room_requests_total", "", {"action", "result"})
        .With({action, result})
        .Value();
  }
  double Counter(const std::string& name, std::initializer_list<std::string_view> result) {
    return tel_.metrics().AddCounter(name, "", {"result"}).With(result).Value();
  }
  uint64_t DurationCount(std::string_view action) {
    return tel_.metrics()
        .AddHistogram("room_request_duration_seconds", "", telemetry::kBucketsNats, {"action"})
        .With({action})
        .Count();
  }
  double Gauge(const std::string& name) {
    return tel_.metrics().AddGauge(name, "").Default().Value();
  }

  // The value of `f` once it equals `want` (metrics are recorded and spans end just after the
  // reply is sent), or its last value when the deadline passes.
  template <typename F>
  static auto Settled(F f, decltype(f()) want) {
    testing::WaitFor([&] { return f() == want; }, 5s);
    return f();
  }

  // Finished spans of `name` whose chat.user is `user`, waiting until there are `n`.
  std::vector<telemetry::SpanData> WaitSpans(std::string_view name, std::string_view user,
                                             size_t n) {
    testing::WaitFor([&] { return SpansOf(name, user).size() >= n; }, 5s);
    return SpansOf(name, user);
  }

  // Server/consumer spans of `name` whose chat.user is `user`.
  std::vector<telemetry::SpanData> SpansOf(std::string_view name, std::string_view user) {
    std::vector<telemetry::SpanData> out;
    for (auto& s : tel_.FindSpans(name)) {
      if (sdk::StringAttribute(s, contracts::attr::kUser).value_or("") == user) out.push_back(s);
    }
    return out;
  }
  std::vector<telemetry::SpanData> ChildrenOf(const telemetry::SpanData& parent) {
    std::vector<telemetry::SpanData> out;
    for (auto& s : tel_.Spans()) {
      if (s.trace_id == parent.trace_id && s.parent_span_id == parent.span_id) out.push_back(s);
    }
    return out;
  }
  static bool HasChild(const std::vector<telemetry::SpanData>& children, std::string_view name,
                       telemetry::SpanKind kind) {
    return std::any_of(children.begin(), children.end(),
                       [&](const auto& c) { return c.name == name && c.kind == kind; });
  }

  void CreateRoom(const std::string& owner, const std::string& room) {
    auto info = AskFor<contracts::RoomInfo>(owner, subjects::kRoomCreate, {owner},
                                            R"({"name":")" + room + R"("})");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
  }

  std::unique_ptr<natsx::Connection> observer_;
  std::unique_ptr<natsx::Subscription> observer_sub_;
  std::mutex seen_mu_;
  std::vector<Seen> seen_;
  std::unique_ptr<natsx::Connection> service_conn_;
  std::unique_ptr<runtime::NatsBus> service_bus_;
  std::unique_ptr<RoomService> service_;
  std::vector<std::pair<std::string, std::unique_ptr<natsx::Connection>>> clients_;
};

// ---- create / list / info ----

// The README's "Routes" table lists what the dispatcher really registers (issue 12): subject,
// kind, queue group and identity.
TEST_F(RoomServiceTest, RoutesMatchTheReadme) {
  EXPECT_EQ(::chat::testing::RouteRows(service_->Routes()),
            ::chat::testing::ReadmeRouteRows("services/room/README.md"));
}

TEST_F(RoomServiceTest, CreateStoresRoomOwnerAndLiveMembershipAndAnnouncesIt) {
  auto info = AskFor<contracts::RoomInfo>("alice", subjects::kRoomCreate, {"alice"},
                                          R"({"name":"project","displayName":"Project X"})");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->name, "project");
  EXPECT_EQ(info->display_name, "Project X");
  EXPECT_EQ(info->creator, "alice");
  EXPECT_EQ(info->type, RoomType::kPrivate);

  EXPECT_EQ(Sql("SELECT name, display_name, creator, type FROM rooms"),
            "project|Project X|alice|private");
  EXPECT_EQ(Sql("SELECT username, role FROM room_members WHERE room_name = 'project'"),
            "alice|owner");
  EXPECT_TRUE(KvHas("project", "alice"));
  EXPECT_EQ(MembersOf("project"), (Strings{"alice"}));

  ASSERT_TRUE(WaitSystemMessages("project", 1));
  auto sys = SystemMessages("project");
  ASSERT_EQ(sys.size(), 1u);
  EXPECT_EQ(sys[0].user, "__system__");
  EXPECT_EQ(sys[0].action, contracts::MessageAction::kSystem);
  EXPECT_EQ(sys[0].text, "alice created the room");
  EXPECT_EQ(sys[0].room, "project");
  EXPECT_GT(sys[0].timestamp, 0);
  ASSERT_TRUE(WaitDeltas("project", 1));
  EXPECT_EQ(Deltas("project")[0],
            (RoomChanged{"project", RoomChangeAction::kJoin, "alice", RoomType::kPrivate}));

  // Spans: SERVER process span with SQL, KV, delta and system-message children.
  ASSERT_TRUE(testing::WaitFor(
      [&] { return !SpansOf("process room.create.{user}", "alice").empty(); }, 5s));
  auto span = SpansOf("process room.create.{user}", "alice")[0];
  EXPECT_EQ(span.kind, telemetry::SpanKind::kServer);
  EXPECT_EQ(span.status_code, telemetry::StatusCode::kUnset);
  EXPECT_EQ(sdk::StringAttribute(span, contracts::attr::kRoom), "project");
  EXPECT_EQ(sdk::StringAttribute(span, contracts::attr::kRoomType), "private");
  auto children = ChildrenOf(span);
  EXPECT_TRUE(HasChild(children, "INSERT rooms", telemetry::SpanKind::kClient));
  EXPECT_TRUE(HasChild(children, "INSERT room_members", telemetry::SpanKind::kClient));
  EXPECT_TRUE(HasChild(children, "create ROOMS", telemetry::SpanKind::kClient));
  EXPECT_TRUE(HasChild(children, "publish room.changed.{room}", telemetry::SpanKind::kProducer));
  EXPECT_TRUE(HasChild(children, "publish chat.{room}", telemetry::SpanKind::kProducer));

  EXPECT_EQ(Settled([&] { return Requests("create", "ok"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Requests("create", "error"); }, 0), 0);
  EXPECT_EQ(Settled([&] { return DurationCount("create"); }, 1u), 1u);
  EXPECT_EQ(Gauge("room_memberships"), 1);
  EXPECT_EQ(Gauge("room_active_rooms"), 1);
}

TEST_F(RoomServiceTest, CreateRefusesBadInputAndStoresNothing) {
  EXPECT_EQ(AskCode("alice", subjects::kRoomCreate, {"alice"}, "{not json"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(AskCode("alice", subjects::kRoomCreate, {"alice"}, R"({"name":"x","user":"bob"})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(AskCode("alice", subjects::kRoomCreate, {"alice"}, R"({"name":"general"})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(AskCode("alice", subjects::kRoomCreate, {"alice"}, R"({"name":"Bad Name"})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(AskCode("alice", subjects::kRoomCreate, {"alice"}, R"({"name":"dm-alice-bob"})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Sql("SELECT count(*) FROM rooms"), "0");
  EXPECT_EQ(Sql("SELECT count(*) FROM room_members"), "0");
  EXPECT_FALSE(KvHas("x", "alice"));
  EXPECT_TRUE(SeenOn("chat.x").empty());
  EXPECT_EQ(Settled([&] { return Requests("create", "denied"); }, 5), 5);
  EXPECT_EQ(Settled([&] { return Requests("create", "ok"); }, 0), 0);

  CreateRoom("alice", "project");
  auto dup =
      AskFor<contracts::RoomInfo>("bob", subjects::kRoomCreate, {"bob"}, R"({"name":"project"})");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Sql("SELECT creator FROM rooms"), "alice");
  EXPECT_EQ(Sql("SELECT count(*) FROM room_members"), "1");
  // A refused request is a business result, not a failure (observability §1.3): UNSET, with
  // its result on the span.
  auto spans = WaitSpans("process room.create.{user}", "bob", 1);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].status_code, telemetry::StatusCode::kUnset);
  EXPECT_EQ(telemetry::sdk::StringAttribute(spans[0], contracts::attr::kReplyResult).value_or(""),
            "denied");
}

TEST_F(RoomServiceTest, ListAndInfoAnswerMembersOnly) {
  CreateRoom("alice", "beta");
  CreateRoom("alice", "alpha");
  CreateRoom("carol", "gamma");
  ASSERT_EQ(AskCode("alice", subjects::kRoomInvite, {"alpha", "alice"}, R"({"target":"bob"})"),
            ErrorCode::kOk);

  auto list = AskFor<contracts::RoomListReply>("alice", subjects::kRoomList, {});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->rooms.size(), 2u);
  EXPECT_EQ(list->rooms[0].name, "alpha");
  EXPECT_EQ(list->rooms[0].member_count, 2);
  EXPECT_EQ(list->rooms[1].name, "beta");
  EXPECT_EQ(list->rooms[1].member_count, 1);
  auto bob_list = AskFor<contracts::RoomListReply>("bob", subjects::kRoomList, {});
  ASSERT_TRUE(bob_list.ok());
  ASSERT_EQ(bob_list->rooms.size(), 1u);
  EXPECT_EQ(bob_list->rooms[0].name, "alpha");
  // A body naming someone else is refused (ADR 0001).
  auto forged =
      AskFor<contracts::RoomListReply>("bob", subjects::kRoomList, {}, R"({"user":"alice"})");
  EXPECT_EQ(forged.status().code(), ErrorCode::kInvalidArgument);

  auto info = AskFor<contracts::RoomInfo>("bob", subjects::kRoomInfo, {"alpha"});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->creator, "alice");
  EXPECT_EQ(info->member_count, 2);
  ASSERT_EQ(info->members.size(), 2u);
  EXPECT_EQ(info->members[0], (contracts::RoomMember{"alice", contracts::RoomRole::kOwner}));
  EXPECT_EQ(info->members[1], (contracts::RoomMember{"bob", contracts::RoomRole::kMember}));

  auto private_info = AskFor<contracts::RoomInfo>("bob", subjects::kRoomInfo, {"gamma"});
  EXPECT_EQ(private_info.status().code(), ErrorCode::kPermissionDenied);
  auto unknown = AskFor<contracts::RoomInfo>("bob", subjects::kRoomInfo, {"nowhere"});
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Settled([&] { return Requests("info", "ok"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Requests("info", "denied"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Requests("info", "not_found"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Requests("list", "ok"); }, 2), 2);

  // A read request without a per-user inbox is refused before the handler runs.
  auto anon = Connect("anonymous", "");
  auto r = anon->Request(subjects::kRoomInfo, {"alpha"}, "", 5s, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(contracts::FromReply<contracts::RoomInfo>(r->payload()).ok());
}

// ---- invite / kick / depart ----

TEST_F(RoomServiceTest, InviteKickAndDepartManageMembersAndPostSystemMessages) {
  CreateRoom("alice", "project");
  ASSERT_EQ(AskCode("alice", subjects::kRoomInvite, {"project", "alice"}, R"({"target":"bob"})"),
            ErrorCode::kOk);
  ASSERT_EQ(AskCode("alice", subjects::kRoomInvite, {"project", "alice"}, R"({"target":"carol"})"),
            ErrorCode::kOk);
  EXPECT_EQ(Sql("SELECT username, role, invited_by FROM room_members WHERE username = 'bob'"),
            "bob|member|alice");
  EXPECT_TRUE(KvHas("project", "bob"));
  EXPECT_EQ(MembersOf("project"), (Strings{"alice", "bob", "carol"}));

  // A plain member may not invite or kick.
  EXPECT_EQ(AskCode("bob", subjects::kRoomInvite, {"project", "bob"}, R"({"target":"dave"})"),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(AskCode("bob", subjects::kRoomKick, {"project", "bob"}, R"({"target":"carol"})"),
            ErrorCode::kPermissionDenied);
  // Nobody kicks the owner; unknown rooms and non-member targets are not found.
  EXPECT_EQ(AskCode("alice", subjects::kRoomKick, {"project", "alice"}, R"({"target":"alice"})"),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(AskCode("alice", subjects::kRoomKick, {"project", "alice"}, R"({"target":"zed"})"),
            ErrorCode::kNotFound);
  EXPECT_EQ(AskCode("alice", subjects::kRoomInvite, {"nowhere", "alice"}, R"({"target":"bob"})"),
            ErrorCode::kNotFound);
  // Wrong user in the body.
  EXPECT_EQ(AskCode("alice", subjects::kRoomKick, {"project", "alice"},
                    R"({"target":"bob","user":"carol"})"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Sql("SELECT count(*) FROM room_members"), "3");
  EXPECT_FALSE(KvHas("project", "dave"));

  ASSERT_EQ(AskCode("alice", subjects::kRoomKick, {"project", "alice"}, R"({"target":"bob"})"),
            ErrorCode::kOk);
  EXPECT_EQ(Sql("SELECT count(*) FROM room_members WHERE username = 'bob'"), "0");
  EXPECT_FALSE(KvHas("project", "bob"));
  EXPECT_EQ(MembersOf("project"), (Strings{"alice", "carol"}));

  ASSERT_EQ(AskCode("carol", subjects::kRoomDepart, {"project", "carol"}), ErrorCode::kOk);
  EXPECT_EQ(Sql("SELECT username FROM room_members"), "alice");
  EXPECT_FALSE(KvHas("project", "carol"));

  ASSERT_TRUE(WaitSystemMessages("project", 5));
  Strings texts;
  for (const auto& m : SystemMessages("project")) texts.push_back(m.text);
  EXPECT_EQ(texts, (Strings{"alice created the room", "bob was invited by alice",
                            "carol was invited by alice", "bob was removed by alice",
                            "carol left the room"}));

  auto kick = WaitSpans("process room.kick.{room}.{user}", "alice", 4);
  ASSERT_FALSE(kick.empty());
  // Refused kicks are business results (observability §1.3): UNSET like the accepted one, with
  // a `rejected` event that the accepted one does not have.
  for (const auto& s : kick) EXPECT_EQ(s.status_code, telemetry::StatusCode::kUnset);
  auto ok_kick = std::find_if(kick.begin(), kick.end(), [](const auto& s) {
    return sdk::FindEvent(s, "rejected") == nullptr;
  });
  ASSERT_NE(ok_kick, kick.end());
  EXPECT_EQ(sdk::StringAttribute(*ok_kick, contracts::attr::kTargetUser), "bob");
  auto children = ChildrenOf(*ok_kick);
  EXPECT_TRUE(HasChild(children, "DELETE room_members", telemetry::SpanKind::kClient));
  EXPECT_TRUE(HasChild(children, "delete ROOMS", telemetry::SpanKind::kClient));
  EXPECT_TRUE(HasChild(children, "publish room.changed.{room}", telemetry::SpanKind::kProducer));

  EXPECT_EQ(Settled([&] { return Requests("invite", "ok"); }, 2), 2);
  EXPECT_EQ(Settled([&] { return Requests("invite", "denied"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Requests("invite", "not_found"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Requests("kick", "ok"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Requests("kick", "denied"); }, 3), 3);
  EXPECT_EQ(Settled([&] { return Requests("kick", "not_found"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Requests("depart", "ok"); }, 1), 1);

  // The last member departs: the room is deleted and the reply says so.
  auto last = AskFor<contracts::OkReply>("alice", subjects::kRoomDepart, {"project", "alice"});
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_TRUE(last->deleted);
  EXPECT_EQ(Sql("SELECT count(*) FROM rooms"), "0");
  EXPECT_FALSE(KvHas("project", "alice"));
  EXPECT_TRUE(MembersOf("project").empty());
}

TEST_F(RoomServiceTest, OwnerDepartingHandsOwnershipToAnAdminFirst) {
  CreateRoom("alice", "project");
  ASSERT_EQ(AskCode("alice", subjects::kRoomInvite, {"project", "alice"}, R"({"target":"bob"})"),
            ErrorCode::kOk);
  ASSERT_EQ(AskCode("alice", subjects::kRoomInvite, {"project", "alice"}, R"({"target":"carol"})"),
            ErrorCode::kOk);
  Sql("UPDATE room_members SET role = 'admin' WHERE username = 'carol'");
  auto r = AskFor<contracts::OkReply>("alice", subjects::kRoomDepart, {"project", "alice"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->deleted);
  EXPECT_EQ(Sql("SELECT username, role FROM room_members ORDER BY username"),
            "bob|member\ncarol|owner");
  // An admin may manage the room; a non-member departing changes nothing.
  EXPECT_EQ(AskCode("carol", subjects::kRoomKick, {"project", "carol"}, R"({"target":"bob"})"),
            ErrorCode::kOk);
  EXPECT_EQ(AskCode("dave", subjects::kRoomDepart, {"project", "dave"}), ErrorCode::kOk);
  EXPECT_EQ(AskCode("dave", subjects::kRoomDepart, {"nowhere", "dave"}), ErrorCode::kNotFound);
  EXPECT_EQ(Sql("SELECT username FROM room_members"), "carol");
}

// ---- join / leave ----

TEST_F(RoomServiceTest, JoinAndLeavePublicRoomWithNoops) {
  Membership(subjects::kRoomJoin, "general", "alice", "ok");
  EXPECT_TRUE(KvHas("general", "alice"));
  ASSERT_TRUE(WaitDeltas("general", 1));
  Membership(subjects::kRoomJoin, "general", "alice", "noop");
  Membership(subjects::kRoomJoin, "general", "bob", "ok", R"({"userId":"bob"})");
  ASSERT_TRUE(WaitDeltas("general", 2));
  // The no-op announced nothing: the deltas are alice's join, then bob's.
  auto deltas = Deltas("general");
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(deltas[0],
            (RoomChanged{"general", RoomChangeAction::kJoin, "alice", RoomType::kPublic}));
  EXPECT_EQ(deltas[1], (RoomChanged{"general", RoomChangeAction::kJoin, "bob", RoomType::kPublic}));
  EXPECT_EQ(SeenOn("room.changed.general")[0].payload.find("\"type\""), std::string::npos);
  EXPECT_EQ(MembersOf("general"), (Strings{"alice", "bob"}));
  EXPECT_EQ(Gauge("room_memberships"), 2);

  auto joins = WaitSpans("process room.join.{room}.{user}", "alice", 2);
  ASSERT_EQ(joins.size(), 2u);
  EXPECT_EQ(joins[0].kind, telemetry::SpanKind::kConsumer);
  EXPECT_EQ(joins[0].status_code, telemetry::StatusCode::kUnset);
  EXPECT_EQ(sdk::StringAttribute(joins[0], contracts::attr::kRoom), "general");
  EXPECT_EQ(sdk::StringAttribute(joins[0], contracts::attr::kRoomType), "public");
  auto children = ChildrenOf(joins[0]);
  EXPECT_TRUE(HasChild(children, "create ROOMS", telemetry::SpanKind::kClient));
  EXPECT_TRUE(HasChild(children, "publish room.changed.{room}", telemetry::SpanKind::kProducer));
  auto noop_children = ChildrenOf(joins[1]);
  EXPECT_TRUE(HasChild(noop_children, "create ROOMS", telemetry::SpanKind::kClient));
  EXPECT_FALSE(
      HasChild(noop_children, "publish room.changed.{room}", telemetry::SpanKind::kProducer));

  Membership(subjects::kRoomLeave, "general", "alice", "ok");
  EXPECT_FALSE(KvHas("general", "alice"));
  Membership(subjects::kRoomLeave, "general", "alice", "noop");
  ASSERT_TRUE(WaitDeltas("general", 3));
  EXPECT_EQ(Deltas("general")[2],
            (RoomChanged{"general", RoomChangeAction::kLeave, "alice", RoomType::kPublic}));
  EXPECT_EQ(MembersOf("general"), (Strings{"bob"}));
  auto leave = WaitSpans("process room.leave.{room}.{user}", "alice", 2);
  ASSERT_FALSE(leave.empty());
  EXPECT_TRUE(HasChild(ChildrenOf(leave[0]), "delete ROOMS", telemetry::SpanKind::kClient));

  EXPECT_EQ(Settled([&] { return Joins("ok"); }, 2), 2);
  EXPECT_EQ(Settled([&] { return Joins("noop"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Leaves("ok"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Leaves("noop"); }, 1), 1);
  EXPECT_EQ(Settled([&] { return Counter("room_member_queries_total", {"ok"}); }, 2), 2);
}

TEST_F(RoomServiceTest, PrivateRoomJoinNeedsMembershipRow) {
  CreateRoom("alice", "secret");
  Membership(subjects::kRoomJoin, "secret", "bob", "denied");
  EXPECT_FALSE(KvHas("secret", "bob"));
  auto denied = WaitSpans("process room.join.{room}.{user}", "bob", 1);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].status_code, telemetry::StatusCode::kUnset);
  EXPECT_NE(sdk::FindEvent(denied[0], "access_denied"), nullptr);
  EXPECT_FALSE(HasChild(ChildrenOf(denied[0]), "create ROOMS", telemetry::SpanKind::kClient));

  ASSERT_EQ(AskCode("alice", subjects::kRoomInvite, {"secret", "alice"}, R"({"target":"bob"})"),
            ErrorCode::kOk);
  Membership(subjects::kRoomLeave, "secret", "bob", "ok");
  Membership(subjects::kRoomJoin, "secret", "bob", "ok");
  ASSERT_TRUE(WaitDeltas("secret", 4));  // alice join, bob invite-join, bob leave, bob join
  auto deltas = Deltas("secret");
  EXPECT_EQ(deltas.back(),
            (RoomChanged{"secret", RoomChangeAction::kJoin, "bob", RoomType::kPrivate}));
  EXPECT_EQ(deltas[2],
            (RoomChanged{"secret", RoomChangeAction::kLeave, "bob", RoomType::kPrivate}));
  EXPECT_EQ(Settled([&] { return Joins("denied"); }, 1), 1);
}

// Issue 11 item 2: room.members tells fanout each room's type, so a fanout instance that never
// saw a room's deltas (it restarted) still knows a private room is private.
TEST_F(RoomServiceTest, MembersReplyCarriesTheRoomType) {
  CreateRoom("alice", "secret");
  Membership(subjects::kRoomJoin, "general", "bob", "ok");
  auto secret = MembersReply("secret");
  EXPECT_EQ(secret.users, (Strings{"alice"}));
  ASSERT_TRUE(secret.type.has_value());
  EXPECT_EQ(*secret.type, RoomType::kPrivate);
  auto general = MembersReply("general");
  EXPECT_EQ(general.users, (Strings{"bob"}));
  ASSERT_TRUE(general.type.has_value());
  EXPECT_EQ(*general.type, RoomType::kPublic);
  auto dm = MembersReply("dm-alice-bob");
  ASSERT_TRUE(dm.type.has_value());
  EXPECT_EQ(*dm.type, RoomType::kDm);
  auto admin = MembersReply(std::string(contracts::kAdminMembershipRoom));
  ASSERT_TRUE(admin.type.has_value());
  EXPECT_EQ(*admin.type, RoomType::kPrivate);
}

TEST_F(RoomServiceTest, DmJoinOnlyForTheTwoParticipants) {
  Membership(subjects::kRoomJoin, "dm-alice-bob", "carol", "denied");
  EXPECT_FALSE(KvHas("dm-alice-bob", "carol"));
  Membership(subjects::kRoomJoin, "dm-alice-bob", "alice", "ok");
  ASSERT_TRUE(WaitDeltas("dm-alice-bob", 1));
  auto deltas = Deltas("dm-alice-bob");
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0],
            (RoomChanged{"dm-alice-bob", RoomChangeAction::kJoin, "alice", RoomType::kDm}));
  auto span = WaitSpans("process room.join.{room}.{user}", "carol", 1);
  ASSERT_EQ(span.size(), 1u);
  EXPECT_EQ(sdk::StringAttribute(span[0], contracts::attr::kRoomType), "dm");
  EXPECT_NE(sdk::FindEvent(span[0], "access_denied"), nullptr);
  EXPECT_EQ(MembersOf("dm-alice-bob"), (Strings{"alice"}));
}

TEST_F(RoomServiceTest, JoinBadInputIsCountedAndStoresNothing) {
  // Body user differs from the subject's user, and a body that is not JSON.
  Membership(subjects::kRoomJoin, "general", "alice", "denied", R"({"userId":"bob"})");
  Membership(subjects::kRoomJoin, "general", "alice", "denied", "{oops");
  Membership(subjects::kRoomJoin, "general", "alice", "denied", R"({"userId":"a.b"})");
  Membership(subjects::kRoomJoin, "Not_Valid", "alice", "denied");
  EXPECT_FALSE(KvHas("general", "alice"));
  EXPECT_FALSE(KvHas("general", "bob"));
  EXPECT_TRUE(MembersOf("general").empty());
  EXPECT_TRUE(SeenOn("room.changed.general").empty());
  EXPECT_EQ(Settled([&] { return Joins("ok"); }, 0), 0);
  EXPECT_EQ(Settled([&] { return Joins("denied"); }, 4), 4);
}

// ---- the mirror ----

TEST_F(RoomServiceTest, HydratesFromRoomsAtStartAndFollowsOtherInstancesDeltas) {
  // Another instance's join arrives as a delta only.
  RoomChanged d{"lobby", RoomChangeAction::kJoin, "zoe", RoomType::kPublic};
  ASSERT_TRUE(observer_->Publish(subjects::kRoomChanged, {"lobby"}, contracts::ToJson(d), {}).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return MembersOf("lobby") == Strings{"zoe"}; }, 5s));

  // A second instance started now hydrates what the first wrote to ROOMS.
  Membership(subjects::kRoomJoin, "general", "alice", "ok");
  Membership(subjects::kRoomJoin, "dm-alice-bob", "bob", "ok");
  auto conn = Connect("room-service-2", "");
  RoomConfig config;
  config.database_url = ServiceDsn("room-service");
  config.db_pool_size = 1;
  config.db_connect_attempts = 1;
  runtime::NatsBus bus(*conn);
  auto second = RoomService::Create(config, bus, tel_.telemetry(), core::SystemClock::Instance());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const auto& idx = (*second)->mirror().index();
  EXPECT_EQ(idx.Members("general"), (Strings{"alice"}));
  EXPECT_EQ(idx.Members("dm-alice-bob"), (Strings{"bob"}));
  EXPECT_TRUE(idx.Members("lobby").empty());  // never in ROOMS
  EXPECT_TRUE(tel_.FindSpan("hydrate_membership").has_value());
  (*second)->Drain(2s);
}

TEST_F(RoomServiceTest, RehydratesMembershipAfterNatsReconnect) {
  Membership(subjects::kRoomJoin, "general", "alice", "ok");
  Membership(subjects::kRoomJoin, "general", "carol", "ok");
  ASSERT_EQ(MembersOf("general"), (Strings{"alice", "carol"}));

  // ROOMS changes whose deltas the service never sees (as when they are published while it is
  // disconnected): a key written and one deleted directly, no room.changed.
  {
    auto js = natsx::JetStream::Create(*observer_);
    ASSERT_TRUE(js.ok());
    auto kv = (*js)->BindKeyValue(std::string(contracts::jetstream::kBucketRooms));
    ASSERT_TRUE(kv.ok());
    ASSERT_TRUE((*kv)->Put(membership::RoomsKey("general", "bob"), "{}", {}).ok());
    ASSERT_TRUE((*kv)->Delete(membership::RoomsKey("general", "carol"), {}).ok());
  }
  ASSERT_TRUE(observer_->Flush(2s).ok());
  EXPECT_EQ(MembersOf("general"), (Strings{"alice", "carol"}));  // stale until a rebuild

  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(testing::WaitFor([&] { return !service_conn_->IsConnected(); }, 10s));
  ASSERT_TRUE(server_->Start().ok());

  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return service_->mirror().index().Members("general") == Strings{"alice", "bob"};
      },
      15s))
      << "mirror not re-hydrated after the reconnect";
  EXPECT_EQ(MembersOf("general"), (Strings{"alice", "bob"}));
  EXPECT_EQ(service_->rebuilder().runs(), 1u);
  EXPECT_EQ(service_->rebuilder().failures(), 0u);

  // Start-up hydration plus the reconnect one: a root INTERNAL span marked as reconnect-driven.
  ASSERT_TRUE(
      testing::WaitFor([&] { return tel_.FindSpans("hydrate_membership").size() >= 2; }, 5s));
  auto spans = tel_.FindSpans("hydrate_membership");
  const auto& rebuilt = spans.back();
  EXPECT_EQ(rebuilt.kind, telemetry::SpanKind::kInternal);
  EXPECT_FALSE(rebuilt.parent_span_id.IsValid());
  EXPECT_EQ(sdk::StringAttribute(rebuilt, "chat.trigger").value_or(""), "nats_reconnect");
  EXPECT_NE(rebuilt.status_code, telemetry::StatusCode::kError);
  bool logged = false;
  for (const auto& r : tel_.LogRecords()) {
    if (r.body == "Membership hydrated from ROOMS" && r.trace_id == rebuilt.trace_id) {
      logged = r.level == telemetry::LogLevel::kInfo;
    }
  }
  EXPECT_TRUE(logged) << "no INFO hydration log in the reconnect span's trace";

  // Deltas flow into the re-hydrated mirror as before.
  Membership(subjects::kRoomJoin, "general", "dave", "ok");
  EXPECT_EQ(MembersOf("general"), (Strings{"alice", "bob", "dave"}));
}

TEST(RoomConfigTest, DatabaseUrlIsRequiredAndKnobsAreValidated) {
  core::MapEnv empty;
  auto missing = RoomConfig::FromEnv(empty);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("DATABASE_URL"), std::string::npos);

  core::MapEnv bad{{"DATABASE_URL", "postgresql://x@h/db"}, {"CHAT_ROOM_DB_POOL_SIZE", "0"}};
  auto invalid = RoomConfig::FromEnv(bad);
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.status().message().find("CHAT_ROOM_DB_POOL_SIZE"), std::string::npos);

  core::MapEnv good{{"DATABASE_URL", "postgresql://x@h/db"},
                    {"CHAT_ROOM_DB_CONNECT_ATTEMPTS", "3"}};
  auto ok = RoomConfig::FromEnv(good);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->db_connect_attempts, 3);
  EXPECT_EQ(ok->db_pool_size, 4u);
}

}  // namespace
}  // namespace chat::room_service
