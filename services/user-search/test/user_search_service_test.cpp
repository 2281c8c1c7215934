// user-search-service against a real nats-server (one per test) and a real dev-idp (in-process
// IdpServer on a random port, its own in-memory telemetry and FakeClock). The service runs
// in-process on an InMemoryTelemetry with a FakeClock of its own, so token expiry and the rate
// limit's refill are driven by the test; users request over natsx connections whose inbox
// prefix is _INBOX.{user} (docs/adr/0001).
#include "handlers/user_search_service.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nats/nats.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chat/contracts/ids.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/contracts/users.hpp"
#include "chat/core/env.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/readme_routes.hpp"
#include "chat/testing/service_fixture.hpp"
#include "chat/testing/wait_for.hpp"
#include "config.hpp"
#include "server.hpp"

namespace chat::user_search_service {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace sdk = telemetry::sdk;
namespace subjects = contracts::subjects;
namespace fs = std::filesystem;
using core::ErrorCode;

class UserSearchServiceTest : public testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    std::string tmpl = (fs::temp_directory_path() / "user-search-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    service_conn_ = Connect("user-search-service", "");
    ASSERT_NE(service_conn_, nullptr);
    service_bus_ = std::make_unique<runtime::NatsBus>(*service_conn_);
  }

  void StartIdp(const std::string& users_file = "") {
    devidp::IdpConfig c;
    c.port = 0;
    c.state_dir = dir_ + "/idp";
    c.pbkdf2_iterations = 1000;  // keeps tests quick; the binary uses 600000
    c.users_file = users_file;
    auto idp = devidp::IdpServer::Create(c, idp_tel_.telemetry(), idp_clock_);
    ASSERT_TRUE(idp.ok()) << idp.status().ToString();
    idp_ = std::move(*idp);
    ASSERT_TRUE(idp_->Start().ok());
  }

  UserSearchConfig Config() const {
    UserSearchConfig c;
    c.idp_url = "http://127.0.0.1:" + std::to_string(idp_->port());
    c.admin_password = "admin";
    c.startup_attempts = 1;
    return c;
  }

  void StartService(const UserSearchConfig& config) {
    auto service = UserSearchService::Create(config, *service_bus_, clock_);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    ASSERT_TRUE(service_conn_->Flush(5s).ok());
  }
  void StartService() { StartService(Config()); }

  void TearDown() override {
    if (service_ != nullptr) service_->Drain(2s);
    service_.reset();
    service_bus_.reset();
    service_conn_.reset();
    if (idp_) idp_->Stop();
    idp_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  core::Result<natsx::Message> Raw(const std::string& body, const std::string& user = "alice") {
    auto client = User(user);
    if (client == nullptr) return core::Unavailable("no client");
    return client->Request(subjects::kUsersSearch, {user}, body, 5s, telemetry::SpanContext{});
  }
  core::Result<contracts::UserSearchReply> Search(const std::string& body,
                                                  const std::string& user = "alice") {
    auto msg = Raw(body, user);
    if (!msg.ok()) return msg.status();
    return contracts::FromReply<contracts::UserSearchReply>(msg->payload());
  }
  static std::vector<std::string> Names(const contracts::UserSearchReply& r) {
    std::vector<std::string> out;
    for (const auto& u : r.users) out.push_back(u.username);
    return out;
  }

  double Counter(std::string_view result) {
    return tel_.metrics()
        .AddCounter("user_search_requests_total", "", {"result"})
        .With({result})
        .Value();
  }
  // The dispatcher counts a request after it sent the reply.
  bool WaitCounter(std::string_view result, double value) {
    return testing::WaitFor([&] { return Counter(result) >= value; }, 10s);
  }
  double AdminTokensIssued() {
    return idp_tel_.metrics().AddCounter("idp_admin_tokens_issued_total", "").Default().Value();
  }
  std::vector<telemetry::SpanData> Children(const telemetry::SpanData& parent,
                                            std::string_view name) {
    std::vector<telemetry::SpanData> out;
    for (const auto& s : tel_.FindSpans(name)) {
      if (s.parent_span_id == parent.span_id) out.push_back(s);
    }
    return out;
  }

  std::string dir_;
  core::FakeClock clock_;      // the service's: token cache and rate limit
  core::FakeClock idp_clock_;  // dev-idp's: token lifetimes as the IdP sees them
  sdk::InMemoryTelemetry idp_tel_;
  std::unique_ptr<devidp::IdpServer> idp_;
  std::unique_ptr<natsx::Connection> service_conn_;
  std::unique_ptr<runtime::NatsBus> service_bus_;
  std::unique_ptr<UserSearchService> service_;
};

TEST_F(UserSearchServiceTest, RoutesMatchTheReadme) {
  StartIdp();
  StartService();
  EXPECT_EQ(::chat::testing::RouteRows(service_->Routes()),
            ::chat::testing::ReadmeRouteRows("services/user-search/README.md"));
}

TEST_F(UserSearchServiceTest, FioFindsFionaWithOnlyHerUsernameAndNames) {
  StartIdp();
  StartService();
  auto msg = Raw("  fio \n");
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  // The wire: exactly the three fields, nothing of the IdP's UserRepresentation (id, email, …).
  json reply = json::parse(msg->payload());
  ASSERT_TRUE(reply.is_array());
  ASSERT_EQ(reply.size(), 1u);
  std::set<std::string> keys;
  for (const auto& [k, v] : reply[0].items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"username", "firstName", "lastName"}));
  EXPECT_EQ(reply[0]["username"], "fiona");
  EXPECT_EQ(reply[0]["firstName"], "Fiona");
  EXPECT_EQ(reply[0]["lastName"], "Designer");
  auto decoded = contracts::FromJson<contracts::UserSearchReply>(msg->payload());
  ASSERT_TRUE(decoded.ok());

  // Last names match too, case-insensitively (e-mail addresses do not: see
  // AMatchOnlyInTheEmailAddressIsLeftOut).
  auto by_last = Search("ENGINEER");
  ASSERT_TRUE(by_last.ok()) << by_last.status().ToString();
  EXPECT_EQ(Names(*by_last), std::vector<std::string>{"george"});
  auto none = Search("nobody-like-this");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->users.empty());

  ASSERT_TRUE(WaitCounter("ok", 3));
  auto span = tel_.FindSpan("process users.search.{user}");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->kind, telemetry::SpanKind::kServer);
  auto gets = Children(*span, "GET /admin/realms/{realm}/users");
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].kind, telemetry::SpanKind::kClient);
  EXPECT_EQ(sdk::StringAttribute(gets[0], "peer.service"), "idp");
  EXPECT_EQ(sdk::IntAttribute(gets[0], "http.response.status_code"), 200);
  // No query string (the search text) in url.full.
  auto url = sdk::StringAttribute(gets[0], "url.full");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->find('?'), std::string::npos) << *url;
  // The traceparent reached dev-idp: its SERVER span is the child of our CLIENT span.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (const auto& s : idp_tel_.FindSpans("GET /admin/realms/{realm}/users")) {
          if (s.parent_span_id == gets[0].span_id && s.trace_id == gets[0].trace_id) return true;
        }
        return false;
      },
      10s));
}

TEST_F(UserSearchServiceTest, AtMostTwentyUsers) {
  json users = json::array();
  for (int i = 0; i < 30; ++i) {
    std::string n = (i < 10 ? "tester0" : "tester") + std::to_string(i);
    users.push_back({{"username", n},
                     {"password", n + "-pw"},
                     {"firstName", "Test"},
                     {"lastName", "Number " + std::to_string(i)},
                     {"roles", json::array({"user"})}});
  }
  std::string file = dir_ + "/users.json";
  std::ofstream(file) << json{{"users", users}}.dump();
  StartIdp(file);
  StartService();
  auto many = Search("tester");
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  ASSERT_EQ(many->users.size(), contracts::kMaxUserSearchResults);
  EXPECT_EQ(many->users.front().username, "tester00");
  EXPECT_EQ(many->users.back().username, "tester19");
  EXPECT_EQ(many->users.front().last_name, "Number 0");
}

TEST_F(UserSearchServiceTest, BadQueriesGetAClearErrorAreCountedAndLogged) {
  StartIdp();
  StartService();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "search query is empty"},
      {"   \t ", "search query is empty"},
      {std::string(contracts::kMaxUserSearchQueryBytes + 1, 'a'),
       "search query is longer than 100 bytes"},
      {R"({"query":"fio")", "search query must be plain text, not JSON"},
      {R"({"query":"fio"})", "search query must be plain text, not JSON"},
      {"[\"fio\"]", "search query must be plain text, not JSON"},
      {"fi\x01o", "search query contains a control character"},
      {"fi\xff", "search query is not UTF-8 text"},
      {std::string(kMaxBodyBytes + 1, ' ') + "fio", "search request body exceeds 1024 bytes"},
  };
  for (const auto& [body, want] : cases) {
    auto msg = Raw(body);
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    auto reply = contracts::FromJson<contracts::ErrorReply>(msg->payload());
    ASSERT_TRUE(reply.ok()) << msg->payload();
    EXPECT_EQ(reply->code, ErrorCode::kInvalidArgument) << want;
    EXPECT_EQ(reply->message, want);
  }
  ASSERT_TRUE(WaitCounter("invalid", static_cast<double>(cases.size())));
  EXPECT_EQ(Counter("ok"), 0);
  // Nothing reached the IdP beyond the start-up token.
  EXPECT_EQ(service_->idp().token_requests(), 1u);
  EXPECT_TRUE(idp_tel_.FindSpans("GET /admin/realms/{realm}/users").empty());
  int warns = 0;
  for (const auto& r : tel_.LogRecords()) warns += r.level == telemetry::LogLevel::kWarn ? 1 : 0;
  EXPECT_GE(warns, static_cast<int>(cases.size()));
  for (const auto& s : tel_.FindSpans("process users.search.{user}")) {
    EXPECT_NE(s.status_code, telemetry::StatusCode::kError);
    EXPECT_TRUE(sdk::StringAttribute(s, telemetry::semconv::kErrorType).has_value());
  }
}

// The answer goes only to the subject user's own inbox: a raw request on users.search.alice whose
// reply subject is not _INBOX.alice.… gets no directory entries, is counted `denied` and never
// reaches the IdP.
TEST_F(UserSearchServiceTest, AReplySubjectThatIsNotAUserInboxIsDenied) {
  StartIdp();
  StartService();
  natsSubscription* sub = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub, service_conn_->native(), "spy.replies"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishRequestString(service_conn_->native(), "users.search.alice",
                                                "spy.replies", "fio"),
            NATS_OK);
  ASSERT_TRUE(WaitCounter("denied", 1));
  natsMsg* reply = nullptr;
  if (natsSubscription_NextMsg(&reply, sub, 200) == NATS_OK) {
    std::string body(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
    natsMsg_Destroy(reply);
    EXPECT_EQ(body.find("fiona"), std::string::npos) << body;
  }
  natsSubscription_Destroy(sub);
  EXPECT_EQ(Counter("ok"), 0);
  EXPECT_TRUE(idp_tel_.FindSpans("GET /admin/realms/{realm}/users").empty());
}

// Review finding: the searcher keys the rate-limit bucket, so it must not be forgeable. In
// production only bob may publish users.search.bob (auth-service's permissions, PermissionsTest);
// this harness has no permissions, so it proves the service's side: a request under bob's name
// whose reply inbox is alice's (or that has no reply subject at all) is refused without touching
// bob's budget or the IdP, and a subject user that is not a valid username (an invented name,
// even with a matching inbox) is refused before the limiter sees it.
TEST_F(UserSearchServiceTest, ASearchUnderSomeoneElsesNameSpendsNoBudget) {
  StartIdp();
  UserSearchConfig config = Config();
  config.rate_burst = 1;
  config.rate_per_minute = 1;
  StartService(config);
  natsConnection* nc = service_conn_->native();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(natsConnection_PublishRequestString(nc, "users.search.bob", "_INBOX.alice.x", "fio"),
              NATS_OK);
  }
  ASSERT_EQ(natsConnection_PublishString(nc, "users.search.bob", "fio"), NATS_OK);
  ASSERT_TRUE(WaitCounter("denied", 4));
  const std::string invented(contracts::kMaxUsernameBytes + 1, 'z');
  ASSERT_EQ(natsConnection_PublishRequestString(nc, ("users.search." + invented).c_str(),
                                                ("_INBOX." + invented + ".x").c_str(), "fio"),
            NATS_OK);
  ASSERT_TRUE(WaitCounter("invalid", 1));
  EXPECT_EQ(Counter("rate_limited"), 0);
  EXPECT_TRUE(idp_tel_.FindSpans("GET /admin/realms/{realm}/users").empty());
  // bob's one search is still his, and alice's own bucket is untouched too.
  auto bob = Search("fio", "bob");
  ASSERT_TRUE(bob.ok()) << bob.status().ToString();
  EXPECT_EQ(Names(*bob), std::vector<std::string>{"fiona"});
  EXPECT_TRUE(Search("fio", "alice").ok());
  EXPECT_EQ(Search("fio", "bob").status().code(), ErrorCode::kResourceExhausted);
}

TEST_F(UserSearchServiceTest, EachUsersSearchesAreRateLimited) {
  StartIdp();
  UserSearchConfig config = Config();
  config.rate_burst = 3;
  config.rate_per_minute = 6;  // one more every 10 s
  StartService(config);
  for (int i = 0; i < 3; ++i) {
    auto ok = Search("fio");
    ASSERT_TRUE(ok.ok()) << i << ": " << ok.status().ToString();
  }
  auto limited = Search("fio");
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(limited.status().message(), "too many user searches; retry in 10 s");
  // Another user has a bucket of their own.
  auto bob = Search("fio", "bob");
  EXPECT_TRUE(bob.ok()) << bob.status().ToString();
  ASSERT_TRUE(WaitCounter("rate_limited", 1));
  ASSERT_TRUE(WaitCounter("ok", 4));
  auto span = tel_.FindSpans("process users.search.{user}");
  bool event = false;
  for (const auto& s : span) {
    for (const auto& e : s.events) event |= e.name == "rate_limited";
  }
  EXPECT_TRUE(event);
  // The bucket refills with time.
  clock_.Advance(10s);
  EXPECT_TRUE(Search("fio").ok());
  EXPECT_EQ(Search("fio").status().code(), ErrorCode::kResourceExhausted);
  ASSERT_TRUE(WaitCounter("rate_limited", 2));
}

// Review finding: the IdP's `search` also matches e-mail addresses (dev-idp as Keycloak), so a
// query naming someone's address would reveal their username. A user is kept only when the query
// is in their username, first or last name.
TEST_F(UserSearchServiceTest, AMatchOnlyInTheEmailAddressIsLeftOut) {
  json users = json::array();
  users.push_back({{"username", "carol"},
                   {"password", "carol-pw"},
                   {"firstName", "Carol"},
                   {"lastName", "Private"},
                   {"email", "boss@corp.example"},
                   {"roles", json::array({"user"})}});
  users.push_back({{"username", "bossman"},
                   {"password", "bossman-pw"},
                   {"firstName", "Big"},
                   {"lastName", "Boss"},
                   {"email", "bm@corp.example"},
                   {"roles", json::array({"user"})}});
  std::string file = dir_ + "/users.json";
  std::ofstream(file) << json{{"users", users}}.dump();
  StartIdp(file);
  StartService();
  for (const char* query : {"boss@corp.example", "@corp.example", "corp", "bm@"}) {
    auto r = Search(query);
    ASSERT_TRUE(r.ok()) << query << ": " << r.status().ToString();
    EXPECT_TRUE(r->users.empty()) << query << ": " << Names(*r).front();
  }
  // dev-idp answers both users for "BOSS" (carol by her e-mail); only bossman is returned.
  auto boss = Search("BOSS");
  ASSERT_TRUE(boss.ok()) << boss.status().ToString();
  EXPECT_EQ(Names(*boss), std::vector<std::string>{"bossman"});
  auto carol = Search("private");
  ASSERT_TRUE(carol.ok());
  EXPECT_EQ(Names(*carol), std::vector<std::string>{"carol"});
}

TEST_F(UserSearchServiceTest, TheAdminTokenIsCachedAcrossSearches) {
  StartIdp();
  StartService();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Search(i % 2 == 0 ? "fio" : "bob").ok());
  ASSERT_TRUE(WaitCounter("ok", 5));
  EXPECT_EQ(AdminTokensIssued(), 1);  // the start-up token, counted by dev-idp
  EXPECT_EQ(service_->idp().token_requests(), 1u);
}

TEST_F(UserSearchServiceTest, TheAdminTokenIsRefreshedBeforeItExpires) {
  StartIdp();
  StartService();
  ASSERT_TRUE(Search("fio").ok());
  EXPECT_EQ(AdminTokensIssued(), 1);
  // dev-idp's admin tokens live 60 s; the service refreshes 30 s before.
  clock_.Advance(29s);
  ASSERT_TRUE(Search("fio").ok());
  EXPECT_EQ(AdminTokensIssued(), 1);
  clock_.Advance(2s);
  ASSERT_TRUE(Search("fio").ok());
  EXPECT_EQ(AdminTokensIssued(), 2);
  ASSERT_TRUE(Search("fio").ok());
  EXPECT_EQ(AdminTokensIssued(), 2);
  // The refresh is a child of the search that needed it.
  ASSERT_TRUE(WaitCounter("ok", 4));
  bool child = false;
  for (const auto& s : tel_.FindSpans("process users.search.{user}")) {
    child |= !Children(s, "POST /realms/{realm}/protocol/openid-connect/token").empty();
  }
  EXPECT_TRUE(child);
}

TEST_F(UserSearchServiceTest, ARejectedTokenIsReplacedAndTheSearchRetriedOnce) {
  StartIdp();
  StartService();
  ASSERT_TRUE(Search("fio").ok());
  // The IdP's clock passes the token's expiry while the service still holds it as fresh.
  idp_clock_.Advance(61s);
  auto again = Search("fio");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Names(*again), std::vector<std::string>{"fiona"});
  EXPECT_EQ(AdminTokensIssued(), 2);
  EXPECT_EQ(idp_tel_.metrics()
                .AddCounter("idp_admin_requests_total", "", {"result"})
                .With({"unauthorized"})
                .Value(),
            1);
  ASSERT_TRUE(WaitCounter("ok", 2));
  // The second search: GET (401), POST token, GET (200), all its children.
  bool retried = false;
  for (const auto& s : tel_.FindSpans("process users.search.{user}")) {
    retried |= Children(s, "GET /admin/realms/{realm}/users").size() == 2 &&
               Children(s, "POST /realms/{realm}/protocol/openid-connect/token").size() == 1;
  }
  EXPECT_TRUE(retried);
}

TEST_F(UserSearchServiceTest, AnUnreachableIdpIsAnUnavailableError) {
  StartIdp();
  StartService();
  ASSERT_TRUE(Search("fio").ok());
  idp_->Stop();
  auto down = Search("fio");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(down.status().message().find("user directory unavailable"), std::string::npos)
      << down.status().message();
  ASSERT_TRUE(WaitCounter("unavailable", 1));
  bool logged = false;
  for (const auto& r : tel_.LogRecords()) logged |= r.level == telemetry::LogLevel::kError;
  EXPECT_TRUE(logged);
  auto span = tel_.FindSpans("process users.search.{user}");
  ASSERT_EQ(span.size(), 2u);
  EXPECT_EQ(span.back().status_code, telemetry::StatusCode::kError);
}

// While the IdP is down, a failed token fetch is not repeated by every search (each would wait
// for its own timeout behind the single-flight lock): for a second the failure is answered at
// once, then the next search tries again.
TEST_F(UserSearchServiceTest, AFailedTokenFetchIsNotRepeatedForASecond) {
  StartIdp();
  StartService();
  idp_->Stop();
  clock_.Advance(31s);  // the start-up token is due for refresh
  auto first = Search("fio");
  EXPECT_EQ(first.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(first.status().message().find("identity provider unreachable (admin token)"),
            std::string::npos)
      << first.status().message();
  EXPECT_EQ(service_->idp().token_requests(), 2u);
  auto second = Search("fio");
  EXPECT_EQ(second.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(second.status().message(), first.status().message());
  EXPECT_EQ(service_->idp().token_requests(), 2u);  // answered from the failure, no new fetch
  clock_.Advance(1s);
  EXPECT_EQ(Search("fio").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(service_->idp().token_requests(), 3u);
  ASSERT_TRUE(WaitCounter("unavailable", 3));
}

TEST_F(UserSearchServiceTest, StartUpFailsClearlyWithWrongAdminCredentials) {
  StartIdp();
  UserSearchConfig config = Config();
  config.admin_password = "wrong";
  auto service = UserSearchService::Create(config, *service_bus_, clock_);
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(service.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(service.status().message().find("refused the admin token request (HTTP 401)"),
            std::string::npos)
      << service.status().message();
  // The password never reaches a log line.
  for (const auto& r : tel_.LogRecords()) {
    EXPECT_EQ(r.body.find("wrong"), std::string::npos);
    for (const auto& a : r.attributes) {
      const auto* text = std::get_if<std::string>(&a.value);
      if (text != nullptr) {
        EXPECT_EQ(text->find("wrong"), std::string::npos) << a.key;
      }
    }
  }
}

TEST(UserSearchConfigTest, ReadsAndValidatesTheEnvironment) {
  core::MapEnv env{{"CHAT_USER_SEARCH_IDP_URL", "http://keycloak:8080/"},
                   {"CHAT_USER_SEARCH_ADMIN_PASSWORD", "pw"}};
  auto c = UserSearchConfig::FromEnv(env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->idp_url, "http://keycloak:8080");
  EXPECT_EQ(c->realm, "nats-chat");
  EXPECT_EQ(c->admin_user, "admin");
  EXPECT_EQ(c->rate_burst, 10);

  core::MapEnv empty;
  auto missing = UserSearchConfig::FromEnv(empty);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("CHAT_USER_SEARCH_IDP_URL"), std::string::npos);
  EXPECT_NE(missing.status().message().find("CHAT_USER_SEARCH_ADMIN_PASSWORD"), std::string::npos);

  for (const char* bad : {"keycloak:8080", "ftp://x", "http://user:pw@x", "http://x/?a=1"}) {
    env.Set("CHAT_USER_SEARCH_IDP_URL", bad);
    EXPECT_EQ(UserSearchConfig::FromEnv(env).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  env.Set("CHAT_USER_SEARCH_IDP_URL", "https://idp.example");
  env.Set("CHAT_USER_SEARCH_REALM", "../master");
  EXPECT_EQ(UserSearchConfig::FromEnv(env).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace chat::user_search_service
