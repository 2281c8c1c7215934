// dev-idp's Keycloak admin API subset over real HTTP (admin.cpp): the master realm's admin-cli
// password grant and GET /admin/realms/{realm}/users with Keycloak's shapes, 401s and 403s and
// search semantics. The server runs in-process on a random port with a FakeClock, so a token can
// be made to expire without waiting.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chat/core/base64.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/env.hpp"
#include "chat/core/strings.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "config.hpp"
#include "server.hpp"

namespace chat::devidp {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kForm = "application/x-www-form-urlencoded";
constexpr const char* kMasterToken = "/realms/master/protocol/openid-connect/token";
constexpr const char* kRealmToken = "/realms/nats-chat/protocol/openid-connect/token";
constexpr const char* kUsers = "/admin/realms/nats-chat/users";

std::string Enc(std::string_view s) { return core::PercentEncode(s); }

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "dev-idp-admin-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void Start(IdpConfig c) {
    c.port = 0;
    c.state_dir = dir_ + "/state";
    c.pbkdf2_iterations = 1000;  // keeps tests quick; the binary uses 600000
    auto server = IdpServer::Create(c, tel_.telemetry(), clock_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void Start() { Start(IdpConfig{}); }
  void TearDown() override {
    client_.reset();
    if (server_) server_->Stop();
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  httplib::Result PostForm(const std::string& path, const std::string& body) {
    return client_->Post(path, body, kForm);
  }
  httplib::Result MasterToken(const std::string& user = "admin",
                              const std::string& password = "admin",
                              const std::string& client = "admin-cli",
                              const std::string& grant = "password") {
    return PostForm(kMasterToken, "grant_type=" + grant + "&client_id=" + Enc(client) +
                                      "&username=" + Enc(user) + "&password=" + Enc(password));
  }
  std::string AdminToken() {
    auto res = MasterToken();
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    if (!res || res->status != 200) return {};
    return json::parse(res->body)["access_token"].get<std::string>();
  }
  httplib::Result Users(const std::string& query, const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client_->Get(std::string(kUsers) + query, headers);
  }
  std::vector<std::string> Usernames(const std::string& query) {
    auto res = Users(query, AdminToken());
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    std::vector<std::string> out;
    if (!res || res->status != 200) return out;
    for (const auto& u : json::parse(res->body)) out.push_back(u["username"].get<std::string>());
    return out;
  }
  double Counter(const std::string& name, std::vector<std::string> labels,
                 const std::vector<std::string>& values) {
    return tel_.metrics().AddCounter(name, "", std::move(labels)).With(values).Value();
  }

  std::string dir_;
  core::FakeClock clock_;
  telemetry::sdk::InMemoryTelemetry tel_;
  std::unique_ptr<IdpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(AdminApiTest, MasterRealmIssuesAnAdminTokenToAdminCliWithKeycloaksResponseShape) {
  Start();
  auto res = MasterToken();
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json body = json::parse(res->body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 60);  // Keycloak's master realm default
  EXPECT_TRUE(body.contains("session_state"));
  EXPECT_TRUE(body.contains("not-before-policy"));
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  std::string token = body["access_token"].get<std::string>();
  size_t d1 = token.find('.');
  size_t d2 = token.find('.', d1 + 1);
  auto claims = json::parse(*core::Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1)));
  EXPECT_EQ(claims["iss"], server_->master_issuer());
  EXPECT_TRUE(server_->master_issuer().ends_with("/realms/master"));
  EXPECT_EQ(claims["azp"], "admin-cli");
  EXPECT_EQ(claims["preferred_username"], "admin");
  EXPECT_EQ(Counter("idp_admin_tokens_issued_total", {}, {}), 1);
}

TEST_F(AdminApiTest, MasterTokenRefusalsUseKeycloaksErrors) {
  Start();
  auto bad_password = MasterToken("admin", "wrong");
  ASSERT_TRUE(bad_password);
  EXPECT_EQ(bad_password->status, 401);
  EXPECT_EQ(json::parse(bad_password->body)["error"], "invalid_grant");
  // A realm user is not a master realm user.
  auto realm_user = MasterToken("alice", "alice123");
  ASSERT_TRUE(realm_user);
  EXPECT_EQ(realm_user->status, 401);
  auto other_client = MasterToken("admin", "admin", "nats-chat-app");
  ASSERT_TRUE(other_client);
  EXPECT_EQ(other_client->status, 401);
  EXPECT_EQ(json::parse(other_client->body)["error"], "invalid_client");
  auto other_grant = MasterToken("admin", "admin", "admin-cli", "client_credentials");
  ASSERT_TRUE(other_grant);
  EXPECT_EQ(other_grant->status, 400);
  EXPECT_EQ(json::parse(other_grant->body)["error"], "unsupported_grant_type");
  // The admin is not a nats-chat realm user either.
  auto realm_grant = PostForm(kRealmToken,
                              "grant_type=password&client_id=nats-chat-app&username=admin&"
                              "password=admin");
  ASSERT_TRUE(realm_grant);
  EXPECT_EQ(realm_grant->status, 401);
  EXPECT_EQ(Counter("idp_admin_tokens_issued_total", {}, {}), 0);
  EXPECT_GE(Counter("idp_login_failures_total", {"reason"}, {"bad_password"}), 1);
}

TEST_F(AdminApiTest, AdminCredentialsComeFromKeycloakAdminVariables) {
  core::MapEnv env{{"KEYCLOAK_ADMIN", "root"}, {"KEYCLOAK_ADMIN_PASSWORD", "s3cret"}};
  auto config = IdpConfig::FromEnv(env);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->admin_username, "root");
  Start(*config);
  auto old = MasterToken("admin", "admin");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->status, 401);
  auto res = MasterToken("root", "s3cret");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  core::MapEnv defaults;
  auto d = IdpConfig::FromEnv(defaults);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->admin_username, "admin");
  EXPECT_EQ(d->admin_password, "admin");
}

TEST_F(AdminApiTest, UsersNeedAValidUnexpiredAdminToken) {
  Start();
  auto none = Users("?search=fio", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(json::parse(none->body)["error"], "HTTP 401 Unauthorized");
  auto garbage = Users("?search=fio", "not.a.token");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 401);

  std::string token = AdminToken();
  auto ok = Users("?search=fio", token);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  // A forged copy (a signature character changed; not the last one, whose low bits are padding)
  // is not a token.
  std::string forged = token;
  char& c = forged[forged.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  auto bad_sig = Users("?search=fio", forged);
  ASSERT_TRUE(bad_sig);
  EXPECT_EQ(bad_sig->status, 401);

  clock_.Advance(61s);  // past the 60 s lifespan
  auto expired = Users("?search=fio", token);
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->status, 401);
  EXPECT_EQ(Counter("idp_admin_requests_total", {"result"}, {"unauthorized"}), 4);
  EXPECT_EQ(Counter("idp_admin_requests_total", {"result"}, {"ok"}), 1);
}

TEST_F(AdminApiTest, ARealmUsersTokenIsForbidden) {
  Start();
  // alice holds the realm role admin, which is not an administrator of the IdP.
  auto login = PostForm(kRealmToken,
                        "grant_type=password&client_id=nats-chat-app&username=alice&"
                        "password=alice123");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200) << login->body;
  std::string alice = json::parse(login->body)["access_token"].get<std::string>();
  auto res = Users("?search=fio", alice);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(json::parse(res->body)["error"], "HTTP 403 Forbidden");
  EXPECT_EQ(Counter("idp_admin_requests_total", {"result"}, {"forbidden"}), 1);
}

TEST_F(AdminApiTest, UserRepresentationsHaveKeycloaksFields) {
  Start();
  auto res = Users("?search=fio&max=20", AdminToken());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  json users = json::parse(res->body);
  ASSERT_EQ(users.size(), 1u);
  const json& fiona = users[0];
  EXPECT_EQ(fiona["username"], "fiona");
  EXPECT_EQ(fiona["firstName"], "Fiona");
  EXPECT_EQ(fiona["lastName"], "Designer");
  EXPECT_EQ(fiona["email"], "fiona@example.com");
  EXPECT_EQ(fiona["enabled"], true);
  EXPECT_EQ(fiona["id"], server_->users().FindByUsername("fiona")->id);
  for (const char* key : {"createdTimestamp", "emailVerified", "totp", "requiredActions",
                          "disableableCredentialTypes", "notBefore", "access"}) {
    EXPECT_TRUE(fiona.contains(key)) << key;
  }
}

TEST_F(AdminApiTest, SearchIsACaseInsensitiveSubstringOfUsernameNamesAndEmail) {
  Start();
  EXPECT_EQ(Usernames("?search=FIO"), std::vector<std::string>{"fiona"});
  EXPECT_EQ(Usernames("?search=designer"), std::vector<std::string>{"fiona"});  // last name
  EXPECT_EQ(Usernames("?search=Ops"), std::vector<std::string>{"kevin"});
  // Substring, not prefix: "an" is inside diana (and Manager), evan, hannah, ivan.
  EXPECT_EQ(Usernames("?search=an"), (std::vector<std::string>{"diana", "evan", "hannah", "ivan"}));
  EXPECT_EQ(Usernames("?search=hannah%40example"), std::vector<std::string>{"hannah"});  // e-mail
  EXPECT_EQ(Usernames("?search=*fio*"), std::vector<std::string>{"fiona"});  // Keycloak wildcard
  EXPECT_TRUE(Usernames("?search=nobody").empty());
  // No search: every user, by username; max and first page through them.
  auto all = Usernames("");
  ASSERT_EQ(all.size(), 13u);
  EXPECT_EQ(all.front(), "alice");
  EXPECT_EQ(all.back(), "mike");
  EXPECT_EQ(Usernames("?search=example.com&max=5").size(), 5u);
  EXPECT_EQ(Usernames("?search=example.com&first=10&max=20"),
            (std::vector<std::string>{"kevin", "laura", "mike"}));
  EXPECT_TRUE(Usernames("?max=0").empty());
}

TEST_F(AdminApiTest, MalformedPagingAndOverlongSearchAreRefused) {
  Start();
  std::string token = AdminToken();
  const std::vector<std::string> queries = {"?max=abc", "?first=-1", "?max=1e3",
                                            "?search=" + std::string(300, 'a')};
  for (const auto& q : queries) {
    auto res = Users(q, token);
    ASSERT_TRUE(res) << q;
    EXPECT_EQ(res->status, 400) << q;
  }
  EXPECT_EQ(Counter("idp_admin_requests_total", {"result"}, {"invalid"}), 4);
}

}  // namespace
}  // namespace chat::devidp
