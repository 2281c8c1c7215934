// auth-service over real HTTP: dev-idp runs in-process on a random port and issues the tokens
// (password grant), auth-service runs in-process with in-memory telemetry, and the minted JWTs
// are checked with libs/nkeys and — end to end — by a real nats-server in operator mode.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nats/nats.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "chat/contracts/permissions.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/core/base64.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/nkeys/jwt.hpp"
#include "chat/nkeys/local_operator.hpp"
#include "chat/nkeys/nkeys.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/http_bomb.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/process.hpp"
#include "chat/testing/wait_for.hpp"
#include "config.hpp"
#include "crypto.hpp"
#include "http_api.hpp"
#include "jwks.hpp"
#include "server.hpp"

namespace chat::auth_service {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kOidc = "/realms/nats-chat/protocol/openid-connect";
constexpr const char* kForm = "application/x-www-form-urlencoded";

std::string MakeTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "auth-service-test-XXXXXX").string();
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

int64_t RealNowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string B64(std::string_view s) { return core::Base64UrlEncode(s); }

struct TokenParts {
  json header;
  json claims;
};

TokenParts SplitToken(const std::string& token) {
  size_t d1 = token.find('.');
  size_t d2 = token.find('.', d1 + 1);
  return {json::parse(*core::Base64UrlDecode(token.substr(0, d1))),
          json::parse(*core::Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1)))};
}

std::string SignToken(const json& header, const json& claims, const devidp::RsaKey& key) {
  std::string input = B64(header.dump()) + "." + B64(claims.dump());
  auto sig = key.SignRs256(input);
  EXPECT_TRUE(sig.ok());
  return input + "." + B64(*sig);
}

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    auto setup = nkeys::InitOperatorDir(fs::path(dir_) / "nats", core::SystemClock::Instance());
    ASSERT_TRUE(setup.ok()) << setup.status().ToString();
    operator_ = *setup;

    devidp::IdpConfig idp_config;
    idp_config.port = 0;
    idp_config.state_dir = dir_ + "/idp";
    idp_config.pbkdf2_iterations = 1000;  // keeps tests quick; the binary uses 600000
    auto idp =
        devidp::IdpServer::Create(idp_config, idp_tel_.telemetry(), core::SystemClock::Instance());
    ASSERT_TRUE(idp.ok()) << idp.status().ToString();
    idp_ = std::move(idp).value();
    ASSERT_TRUE(idp_->Start().ok());
    idp_client_ = std::make_unique<httplib::Client>("127.0.0.1", idp_->port());
  }

  void TearDown() override {
    client_.reset();
    if (auth_) auth_->Stop();
    auth_.reset();
    idp_client_.reset();
    if (idp_) idp_->Stop();
    idp_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  AuthConfig Config() const {
    AuthConfig c;
    c.issuer_url = idp_->issuer();
    c.account_signing_seed_file = operator_.chat_signing_seed_file.string();
    c.http_port = 0;
    c.cors_origins = {"http://localhost:3000"};
    return c;
  }

  void StartAuth(AuthConfig config) {
    auto s = AuthServer::Create(std::move(config), tel_.telemetry(), clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auth_ = std::move(s).value();
    ASSERT_TRUE(auth_->Start().ok());
    ASSERT_TRUE(testing::WaitFor([&] { return auth_->Ready(); }, 10s)) << "JWKS never loaded";
    client_ = std::make_unique<httplib::Client>("127.0.0.1", auth_->port());
  }
  void StartAuth() { StartAuth(Config()); }

  // The IdP's whole token response (access, ID and refresh token) for a password grant.
  json TokenResponse(const std::string& user) {
    auto r = idp_client_->Post(std::string(kOidc) + "/token",
                               "grant_type=password&client_id=nats-chat-app&username=" + user +
                                   "&password=" + user + "123",
                               kForm);
    EXPECT_TRUE(r);
    if (!r) return json::object();
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body, nullptr, false);
  }
  std::string Token(const std::string& user) {
    return TokenResponse(user).value("access_token", "");
  }

  httplib::Result Post(const std::string& token, const std::string& body,
                       httplib::Headers extra = {}) {
    httplib::Headers h = std::move(extra);
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return client_->Post(std::string(kCredentialsRoute), h, body, "application/json");
  }

  static std::string NkeyBody(const std::string& nkey) { return json{{"nkey", nkey}}.dump(); }

  double Counter(const std::string& name, const std::vector<std::string>& labels,
                 const std::vector<std::string>& values) {
    return tel_.metrics().AddCounter(name, "", labels).With(values).Value();
  }
  double Requests(const std::string& result) {
    return Counter("auth_requests_total", {"result", "auth_type"}, {result, "browser"});
  }
  double Refreshes(const std::string& result, const std::string& trigger) {
    return Counter("auth_jwks_refresh_total", {"result", "trigger"}, {result, trigger});
  }

  std::vector<std::string> LinesWith(const std::string& needle) const {
    std::vector<std::string> out;
    for (const auto& l : tel_.LogLines()) {
      if (l.find(needle) != std::string::npos) out.push_back(l);
    }
    return out;
  }

  // One rejected request: status, error code, reason in the span event and in one WARN line
  // that does not contain the token, and one auth_requests_total{rejected} increment.
  void ExpectRejected(const std::string& token, const std::string& body, int status,
                      const std::string& code, const std::string& reason) {
    double before = Requests("rejected");
    size_t warn_before = LinesWith("credential request rejected").size();
    auto r = Post(token, body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    json j = json::parse(r->body, nullptr, false);
    EXPECT_EQ(j["error"]["code"], code) << r->body;
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
    EXPECT_EQ(Requests("rejected"), before + 1);
    auto warns = LinesWith("credential request rejected");
    ASSERT_EQ(warns.size(), warn_before + 1);
    const std::string& line = warns.back();
    EXPECT_NE(line.find("\"WARN\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"chat.auth.reason\":\"" + reason + "\""), std::string::npos) << line;
    if (token.size() > 20) {
      EXPECT_EQ(line.find(token), std::string::npos) << "token leaked into the log";
      std::string signature = token.substr(token.rfind('.') + 1);
      if (signature.size() > 8) {  // not even the signature part
        EXPECT_EQ(line.find(signature), std::string::npos);
      }
    }
    auto spans = tel_.FindSpans("POST /auth/v1/credentials");
    ASSERT_FALSE(spans.empty());
    const auto& span = spans.back();
    EXPECT_EQ(span.status_code, telemetry::StatusCode::kUnset);
    EXPECT_EQ(telemetry::sdk::StringAttribute(span, "chat.auth.result"), "rejected");
    EXPECT_EQ(telemetry::sdk::IntAttribute(span, "http.response.status_code"), status);
    const auto* ev = telemetry::sdk::FindEvent(span, "auth.rejected");
    ASSERT_NE(ev, nullptr);
    const auto* rv = telemetry::sdk::FindAttribute(ev->attributes, "reason");
    ASSERT_NE(rv, nullptr);
    EXPECT_EQ(std::get<std::string>(*rv), reason);
  }

  const devidp::RsaKey& IdpKey() { return *idp_->keys().SigningKey(); }

  // Claims like the IdP's, signed with the IdP's real key: only what a test changes is wrong.
  json GoodClaims(const std::string& user = "alice") { return SplitToken(Token(user)).claims; }
  std::string Forge(const json& claims) {
    json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", IdpKey().kid()}};
    return SignToken(header, claims, IdpKey());
  }

  std::string dir_;
  nkeys::OperatorSetup operator_;
  core::FakeClock clock_{RealNowNanos()};
  telemetry::sdk::InMemoryTelemetry idp_tel_;
  telemetry::sdk::InMemoryTelemetry tel_{clock_};
  std::unique_ptr<devidp::IdpServer> idp_;
  std::unique_ptr<httplib::Client> idp_client_;
  std::unique_ptr<AuthServer> auth_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(AuthServiceTest, AliceGetsAnAdminJwtForHerOwnNkey) {
  StartAuth();
  std::string token = Token("alice");
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  ASSERT_TRUE(user.ok());
  double before = Requests("authorized");
  auto r = Post(token, NkeyBody(user->public_key()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  json body = json::parse(r->body);
  EXPECT_EQ(body["user"], "alice");
  EXPECT_EQ(body["tier"], "admin");

  auto decoded = nkeys::DecodeAndVerifyJwt(body["jwt"].get<std::string>());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->type, "user");
  EXPECT_EQ(decoded->subject, user->public_key());
  EXPECT_EQ(decoded->issuer, operator_.chat_signing_public_key);
  const json& c = decoded->claims;
  EXPECT_EQ(c["name"], "alice");
  EXPECT_EQ(c["nats"]["issuer_account"], operator_.chat_account_public_key);
  auto expected = contracts::PermissionsForTier("alice", contracts::Tier::kAdmin);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(c["nats"]["pub"]["allow"], json(expected->pub_allow));
  EXPECT_EQ(c["nats"]["sub"]["allow"], json(expected->sub_allow));
  EXPECT_FALSE(c["nats"]["pub"].contains("deny"));  // admins may join the admin channel
  EXPECT_EQ(c["nats"]["resp"]["max"], 1);
  EXPECT_EQ(c["nats"]["resp"]["ttl"], int64_t{300} * 1000 * 1000 * 1000);
  EXPECT_FALSE(c["nats"].value("bearer_token", false));
  // Issue 11 item 6: per-user limits nats-server enforces (subs, payload); data unlimited.
  EXPECT_EQ(c["nats"]["subs"], 500);
  EXPECT_EQ(c["nats"]["payload"], 65536);
  EXPECT_EQ(c["nats"]["data"], -1);
  int64_t token_exp = SplitToken(token).claims["exp"].get<int64_t>();
  EXPECT_LE(c["exp"].get<int64_t>(), token_exp);  // the IdP token (300 s) caps the 1 h TTL
  EXPECT_EQ(c["exp"].get<int64_t>(), token_exp);
  EXPECT_EQ(body["expires_at"].get<int64_t>(), token_exp * 1000);
  EXPECT_EQ(Requests("authorized"), before + 1);

  auto server = tel_.FindSpan("POST /auth/v1/credentials");
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(server->kind, telemetry::SpanKind::kServer);
  EXPECT_EQ(telemetry::sdk::StringAttribute(*server, "chat.auth.type"), "browser");
  EXPECT_EQ(telemetry::sdk::StringAttribute(*server, "chat.auth.result"), "authorized");
  EXPECT_EQ(telemetry::sdk::IntAttribute(*server, "http.response.status_code"), 200);
  EXPECT_EQ(server->status_code, telemetry::StatusCode::kUnset);
  auto verify = tel_.FindSpan("verify_token");
  ASSERT_TRUE(verify.has_value());
  EXPECT_EQ(verify->parent_span_id, server->span_id);
  EXPECT_EQ(telemetry::sdk::StringAttribute(*verify, "chat.auth.kid"), IdpKey().kid());

  auto info = LinesWith("credentials issued");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_NE(info[0].find("\"chat.user\":\"alice\""), std::string::npos) << info[0];
  EXPECT_NE(info[0].find("\"chat.auth.tier\":\"admin\""), std::string::npos) << info[0];
  for (const auto& l : tel_.LogLines()) {
    EXPECT_EQ(l.find(token), std::string::npos) << "token logged";
    EXPECT_EQ(l.find(body["jwt"].get<std::string>()), std::string::npos) << "JWT logged";
  }
}

TEST_F(AuthServiceTest, TtlShorterThanTheTokenWins) {
  AuthConfig config = Config();
  config.jwt_ttl = 60s;
  StartAuth(config);
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  auto r = Post(Token("bob"), NkeyBody(user->public_key()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json body = json::parse(r->body);
  EXPECT_EQ(body["tier"], "user");
  auto decoded = nkeys::DecodeAndVerifyJwt(body["jwt"].get<std::string>());
  ASSERT_TRUE(decoded.ok());
  int64_t now = clock_.NowUnixMillis() / 1000;
  EXPECT_EQ(decoded->claims["exp"].get<int64_t>(), now + 60);
}

TEST_F(AuthServiceTest, CharlieWithoutRolesGetsTheRestrictedSet) {
  StartAuth();
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  auto r = Post(Token("charlie"), NkeyBody(user->public_key()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json body = json::parse(r->body);
  EXPECT_EQ(body["tier"], "none");
  auto decoded = nkeys::DecodeAndVerifyJwt(body["jwt"].get<std::string>());
  ASSERT_TRUE(decoded.ok());
  auto expected = contracts::PermissionsForTier("charlie", contracts::Tier::kNone);
  ASSERT_TRUE(expected.ok());
  json pub = decoded->claims["nats"]["pub"]["allow"];
  EXPECT_EQ(pub, json(expected->pub_allow));
  for (const auto& s : pub) {
    EXPECT_FALSE(s.get<std::string>().starts_with("deliver.")) << s;
    EXPECT_FALSE(s.get<std::string>().starts_with("admin.")) << s;
  }
  // Joining the admin channel's membership is denied outside the admin tier.
  EXPECT_EQ(decoded->claims["nats"]["pub"]["deny"],
            json({"room.join.__admin__.charlie", "room.join.__admin__chat.charlie"}));
}

TEST_F(AuthServiceTest, TokenSignedByAnotherKeyIsBadSignature) {
  StartAuth();
  std::string token = Token("alice");
  TokenParts parts = SplitToken(token);
  auto other = devidp::RsaKey::Generate();
  ASSERT_TRUE(other.ok());
  ExpectRejected(SignToken(parts.header, parts.claims, *other), NkeyBody("x"), 401,
                 "unauthenticated", "bad_signature");
  // A tampered claim under the real signature is the same class.
  std::string tampered = token;
  parts.claims["preferred_username"] = "diana";
  std::string forged_claims = B64(parts.claims.dump());
  size_t d1 = token.find('.');
  size_t d2 = token.find('.', d1 + 1);
  tampered = token.substr(0, d1 + 1) + forged_claims + token.substr(d2);
  ExpectRejected(tampered, NkeyBody("x"), 401, "unauthenticated", "bad_signature");
}

TEST_F(AuthServiceTest, AlgNoneAndHs256AreRejected) {
  StartAuth();
  json claims = GoodClaims();
  json none = {{"alg", "none"}, {"typ", "JWT"}, {"kid", IdpKey().kid()}};
  ExpectRejected(B64(none.dump()) + "." + B64(claims.dump()) + ".", NkeyBody("x"), 401,
                 "unauthenticated", "bad_signature");
  json hs = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", IdpKey().kid()}};
  ExpectRejected(B64(hs.dump()) + "." + B64(claims.dump()) + "." + B64("mac"), NkeyBody("x"), 401,
                 "unauthenticated", "bad_signature");
}

TEST_F(AuthServiceTest, ExpiredTokenIsRejectedAfterTheSkew) {
  StartAuth();
  std::string token = Token("alice");
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  clock_.Advance(300s + 20s);  // past exp, inside the 30 s skew: still accepted
  auto ok = Post(token, NkeyBody(user->public_key()));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  clock_.Advance(15s);
  ExpectRejected(token, NkeyBody(user->public_key()), 401, "unauthenticated", "expired");
  auto line = LinesWith("credential request rejected").back();
  EXPECT_NE(line.find("\"chat.user\":\"alice\""), std::string::npos) << line;
}

TEST_F(AuthServiceTest, ClaimProblemsMapToTheirReasons) {
  StartAuth();
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  std::string nkey_body = NkeyBody(user->public_key());
  int64_t now = clock_.NowUnixMillis() / 1000;

  json c = GoodClaims();
  c["iss"] = "http://127.0.0.1:1/realms/other";
  ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "wrong_issuer");

  c = GoodClaims();
  c["aud"] = json::array({"account"});
  c["azp"] = "another-client";
  ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "wrong_audience");
  c["aud"] = "nats-chat-app";  // a string audience is accepted too
  auto r = Post(Forge(c), nkey_body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;

  c = GoodClaims();
  c["nbf"] = now + 120;
  ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "not_yet_valid");

  c = GoodClaims();
  c["preferred_username"] = "eve.admin";
  ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "bad_username");
  c.erase("preferred_username");
  ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "bad_username");

  c = GoodClaims();
  c["exp"] = now - 3600;
  ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "expired");
  c.erase("exp");
  ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "malformed");
}

// ---- only access tokens (issue 11 item 7) ----

TEST_F(AuthServiceTest, AnIdTokenIsNotAnAccessToken) {
  StartAuth();
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  std::string nkey_body = NkeyBody(user->public_key());
  json tokens = TokenResponse("alice");
  // Same issuer, same key, aud = the client id, preferred_username and roles: everything but
  // the type says "use me". It must not buy NATS credentials.
  const std::string id_token = tokens.value("id_token", "");
  ASSERT_EQ(SplitToken(id_token).claims["typ"], "ID");
  ASSERT_EQ(SplitToken(id_token).claims["aud"], "nats-chat-app");
  ExpectRejected(id_token, nkey_body, 401, "unauthenticated", "wrong_token_type");
  auto line = LinesWith("credential request rejected").back();
  EXPECT_NE(line.find("\"chat.user\":\"alice\""), std::string::npos) << line;
  auto r = Post(id_token, nkey_body);
  ASSERT_TRUE(r);
  EXPECT_NE(json::parse(r->body)["error"]["message"].get<std::string>().find("access token"),
            std::string::npos)
      << r->body;
  // The refresh token is for the IdP alone.
  ExpectRejected(tokens.value("refresh_token", ""), nkey_body, 401, "unauthenticated",
                 "wrong_token_type");

  // No type at all is no access token either; RFC 9068's header type "at+jwt" is one.
  json c = GoodClaims();
  c.erase("typ");
  ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "wrong_token_type");
  json at_header = {{"alg", "RS256"}, {"typ", "at+jwt"}, {"kid", IdpKey().kid()}};
  auto ok = Post(SignToken(at_header, c, IdpKey()), nkey_body);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  // The access token itself still works.
  auto access = Post(tokens.value("access_token", ""), nkey_body);
  ASSERT_TRUE(access);
  EXPECT_EQ(access->status, 200) << access->body;
}

TEST_F(AuthServiceTest, TheAudienceMustNameUsNotJustTheAuthorizedParty) {
  StartAuth();
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  json c = GoodClaims();
  c["aud"] = "account";  // Keycloak's default without an audience mapper
  c["azp"] = "nats-chat-app";
  ExpectRejected(Forge(c), NkeyBody(user->public_key()), 401, "unauthenticated", "wrong_audience");
}

// ---- time claims at the edges of int64 (issue 11 item 15; UBSan checks the arithmetic) ----

TEST_F(AuthServiceTest, ExtremeTimeClaimsAreClampedNeverOverflowed) {
  AuthConfig config = Config();
  config.jwt_ttl = 600s;
  StartAuth(config);
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  std::string nkey_body = NkeyBody(user->public_key());
  const int64_t now = clock_.NowUnixMillis() / 1000;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

  // A far-future exp (int64 max, uint64 max, 1e300) is the issuer's choice: the user JWT is
  // then capped by our TTL, not wrapped into the past by exp + skew.
  for (const json& exp : {json(kMax), json(std::numeric_limits<uint64_t>::max()), json(1e300)}) {
    json c = GoodClaims();
    c["exp"] = exp;
    auto r = Post(Forge(c), nkey_body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << exp.dump() << " " << r->body;
    auto decoded = nkeys::DecodeAndVerifyJwt(json::parse(r->body)["jwt"].get<std::string>());
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->claims["exp"].get<int64_t>(), now + 600) << exp.dump();
    EXPECT_EQ(json::parse(r->body)["expires_at"].get<int64_t>(), (now + 600) * 1000);
  }
  // Far-past and negative values are expired, never "no expiry".
  for (const json& exp : {json(kMin), json(-1), json(0), json(-1e300)}) {
    json c = GoodClaims();
    c["exp"] = exp;
    ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "expired");
  }
  // nbf / iat at the far future are not yet valid; at the far past they are harmless.
  for (const char* claim : {"nbf", "iat"}) {
    json c = GoodClaims();
    c[claim] = kMax;
    ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "not_yet_valid");
    c[claim] = 1e300;
    ExpectRejected(Forge(c), nkey_body, 401, "unauthenticated", "not_yet_valid");
    c[claim] = kMin;
    auto r = Post(Forge(c), nkey_body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << claim << " " << r->body;
  }
  EXPECT_EQ(Requests("error"), 0);
}

TEST_F(AuthServiceTest, MalformedRequestsAreRejectedWithoutServerErrors) {
  StartAuth();
  ExpectRejected("not-a-jwt", "{}", 401, "unauthenticated", "malformed");
  ExpectRejected("a.b.c", "{}", 401, "unauthenticated", "malformed");
  ExpectRejected("", "{}", 401, "unauthenticated", "malformed");  // no Authorization header
  std::string token = Token("alice");
  ExpectRejected(token, "this is not json", 400, "invalid_argument", "malformed");
  ExpectRejected(token, "[1,2]", 400, "invalid_argument", "malformed");
  // Above 16 KiB the body is refused before it is read (HttpBodyGuard), so before the handler.
  auto big = Post(token, std::string(kMaxBodyBytes + 1, ' '));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(json::parse(big->body, nullptr, false)["error"]["code"], "resource_exhausted");
  EXPECT_EQ(
      Counter("http_server_rejected_requests_total", {"server", "reason"}, {"auth", "too_large"}),
      1);
  auto r =
      client_->Post(std::string(kCredentialsRoute),
                    {{"Authorization", "Basic YWxpY2U6YWxpY2UxMjM="}}, "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(Requests("error"), 0);
}

TEST_F(AuthServiceTest, MissingAndBadNkeysAreInvalidArgument) {
  StartAuth();
  std::string token = Token("bob");
  ExpectRejected(token, "{}", 400, "invalid_argument", "missing_nkey");
  ExpectRejected(token, R"({"nkey":""})", 400, "invalid_argument", "missing_nkey");
  ExpectRejected(token, R"({"nkey":"UABC"})", 400, "invalid_argument", "bad_nkey");
  ExpectRejected(token, R"({"nkey":42})", 400, "invalid_argument", "bad_nkey");
  // An account key (or a seed) is not a user nkey.
  ExpectRejected(token, NkeyBody(operator_.chat_account_public_key), 400, "invalid_argument",
                 "bad_nkey");
  auto seed = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  ExpectRejected(token, NkeyBody(seed->Seed()), 400, "invalid_argument", "bad_nkey");
  for (const auto& l : tel_.LogLines()) {
    EXPECT_EQ(l.find(seed->Seed()), std::string::npos) << "seed logged";
  }
  auto line = LinesWith("credential request rejected").back();
  EXPECT_NE(line.find("\"chat.user\":\"bob\""), std::string::npos) << line;
}

TEST_F(AuthServiceTest, UnknownKidStaysUnknownAfterOneRateLimitedRefresh) {
  StartAuth();
  json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "no-such-key"}};
  std::string token = SignToken(header, GoodClaims(), IdpKey());
  double scheduled_ok = Refreshes("ok", "scheduled");
  ExpectRejected(token, NkeyBody("x"), 401, "unauthenticated", "unknown_kid");
  EXPECT_EQ(Refreshes("ok", "unknown_kid"), 1);
  auto verify = tel_.FindSpans("verify_token").back();
  EXPECT_EQ(telemetry::sdk::StringAttribute(verify, "chat.auth.kid"), "no-such-key");
  auto gets = tel_.FindSpans("GET /realms/{realm}/protocol/openid-connect/certs");
  ASSERT_FALSE(gets.empty());
  const auto& get = gets.back();
  EXPECT_EQ(get.parent_span_id, verify.span_id);  // the refresh belongs to this request

  // Within the min interval: no second refresh, same answer.
  clock_.Advance(5s);
  ExpectRejected(token, NkeyBody("x"), 401, "unauthenticated", "unknown_kid");
  EXPECT_EQ(Refreshes("ok", "unknown_kid"), 1);
  // After it: one more refresh, still unknown.
  clock_.Advance(6s);
  ExpectRejected(token, NkeyBody("x"), 401, "unauthenticated", "unknown_kid");
  EXPECT_EQ(Refreshes("ok", "unknown_kid"), 2);
  EXPECT_EQ(Refreshes("ok", "scheduled"), scheduled_ok);
  EXPECT_EQ(Refreshes("error", "unknown_kid"), 0);
}

TEST_F(AuthServiceTest, RotatedKeysArePickedUpWithoutRestart) {
  StartAuth();
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  std::string old_kid = IdpKey().kid();
  auto rot = idp_client_->Post("/admin/rotate-keys", "", "application/json");
  ASSERT_TRUE(rot);
  ASSERT_EQ(rot->status, 200) << rot->body;
  std::string new_kid = json::parse(rot->body)["kid"].get<std::string>();
  ASSERT_NE(new_kid, old_kid);
  std::string token = Token("alice");
  ASSERT_EQ(SplitToken(token).header["kid"], new_kid);
  EXPECT_EQ(auth_->jwks().Find(new_kid), nullptr);

  auto r = Post(token, NkeyBody(user->public_key()));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Refreshes("ok", "unknown_kid"), 1);
  EXPECT_NE(auth_->jwks().Find(new_kid), nullptr);
  EXPECT_NE(auth_->jwks().Find(old_kid), nullptr);  // the IdP still publishes the old key
  EXPECT_EQ(tel_.metrics().AddGauge("auth_jwks_keys", "").Default().Value(), 2);

  // The trace: SERVER → verify_token → GET certs (CLIENT, set H).
  auto server = tel_.FindSpan("POST /auth/v1/credentials");
  auto verify = tel_.FindSpan("verify_token");
  auto get = tel_.FindSpans("GET /realms/{realm}/protocol/openid-connect/certs").back();
  ASSERT_TRUE(server && verify);
  EXPECT_EQ(verify->parent_span_id, server->span_id);
  EXPECT_EQ(get.parent_span_id, verify->span_id);
  EXPECT_EQ(get.trace_id, server->trace_id);
  EXPECT_EQ(get.kind, telemetry::SpanKind::kClient);
  EXPECT_EQ(telemetry::sdk::StringAttribute(get, "http.request.method"), "GET");
  EXPECT_EQ(telemetry::sdk::StringAttribute(get, "url.full"),
            idp_->issuer() + "/protocol/openid-connect/certs");
  EXPECT_EQ(telemetry::sdk::StringAttribute(get, "url.template"),
            "/realms/{realm}/protocol/openid-connect/certs");
  EXPECT_EQ(telemetry::sdk::StringAttribute(get, "server.address"), "127.0.0.1");
  EXPECT_EQ(telemetry::sdk::IntAttribute(get, "server.port"), idp_->port());
  EXPECT_EQ(telemetry::sdk::IntAttribute(get, "http.response.status_code"), 200);
  EXPECT_EQ(telemetry::sdk::StringAttribute(get, "peer.service"), "idp");
  // The IdP continued our traceparent: its SERVER span is in the same trace under our CLIENT.
  bool continued = false;
  for (const auto& s : idp_tel_.Spans()) {
    if (s.trace_id == get.trace_id && s.parent_span_id == get.span_id) continued = true;
  }
  EXPECT_TRUE(continued);
}

TEST_F(AuthServiceTest, ScheduledRefreshIsARootSpanAndAFailureKeepsTheKeys) {
  AuthConfig config = Config();
  config.jwks_refresh = 1s;  // below the env minimum, to observe a few cycles quickly
  config.http_timeout = 1000ms;
  StartAuth(config);
  ASSERT_TRUE(testing::WaitFor([&] { return !tel_.FindSpans("jwks_refresh").empty(); }, 5s));
  auto first = tel_.FindSpans("jwks_refresh").front();
  EXPECT_FALSE(first.parent_span_id.IsValid());
  EXPECT_EQ(first.status_code, telemetry::StatusCode::kUnset);
  EXPECT_GE(Refreshes("ok", "scheduled"), 1);
  size_t keys = auth_->jwks().key_count();
  ASSERT_GE(keys, 1u);

  idp_client_.reset();
  idp_->Stop();  // the IdP goes away
  ASSERT_TRUE(testing::WaitFor([&] { return Refreshes("error", "scheduled") >= 1; }, 10s));
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (const auto& s : tel_.FindSpans("jwks_refresh")) {
          if (s.status_code == telemetry::StatusCode::kError) return true;
        }
        return false;
      },
      5s));
  for (const auto& s : tel_.FindSpans("jwks_refresh")) {
    if (s.status_code != telemetry::StatusCode::kError) continue;
    EXPECT_NE(telemetry::sdk::FindEvent(s, "stale_keys"), nullptr);
    break;
  }
  bool client_error = false;
  for (const auto& s : tel_.Spans()) {
    if (s.kind == telemetry::SpanKind::kClient && s.status_code == telemetry::StatusCode::kError &&
        telemetry::sdk::StringAttribute(s, "error.type").has_value()) {
      client_error = true;
    }
  }
  EXPECT_TRUE(client_error);
  EXPECT_EQ(auth_->jwks().key_count(), keys);
  EXPECT_TRUE(auth_->Ready());
  EXPECT_FALSE(LinesWith("jwks refresh failed; cached keys kept").empty());
}

TEST_F(AuthServiceTest, UnknownKidWithTheIdpDownIsUnavailableNotRejected) {
  AuthConfig config = Config();
  config.http_timeout = 1000ms;
  StartAuth(config);
  json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "rotated-while-down"}};
  std::string token = SignToken(header, GoodClaims(), IdpKey());
  idp_client_.reset();
  idp_->Stop();
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  auto r = Post(token, NkeyBody(user->public_key()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(json::parse(r->body)["error"]["code"], "unavailable");
  EXPECT_EQ(Requests("error"), 1);
  EXPECT_EQ(Requests("rejected"), 0);
  EXPECT_EQ(Refreshes("error", "unknown_kid"), 1);
  auto server = tel_.FindSpans("POST /auth/v1/credentials").back();
  EXPECT_EQ(server.status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(telemetry::sdk::StringAttribute(server, "chat.auth.result"), "error");
  auto verify = tel_.FindSpans("verify_token").back();
  EXPECT_EQ(verify.status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(LinesWith("token key unavailable; JWKS refresh failed").size(), 1u);
  EXPECT_GE(auth_->jwks().key_count(), 1u);  // cached keys kept
}

TEST_F(AuthServiceTest, InboundTraceparentIsContinuedAndInvalidOnesAreCounted) {
  StartAuth();
  std::string tid = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto r = Post(Token("alice"), "{}",
                {{std::string(telemetry::semconv::kTraceparentHeader),
                  "00-" + tid + "-00f067aa0ba902b7-01"}});
  ASSERT_TRUE(r);
  auto span = tel_.FindSpans("POST /auth/v1/credentials").back();
  EXPECT_EQ(span.trace_id.Hex(), tid);
  EXPECT_EQ(span.parent_span_id.Hex(), "00f067aa0ba902b7");

  double before = Counter("trace_context_invalid_total", {"reason"}, {"malformed"});
  r = Post(Token("alice"), "{}",
           {{std::string(telemetry::semconv::kTraceparentHeader), "00-XYZ-00f067aa0ba902b7-01"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Counter("trace_context_invalid_total", {"reason"}, {"malformed"}), before + 1);
  auto root = tel_.FindSpans("POST /auth/v1/credentials").back();
  EXPECT_NE(root.trace_id.Hex(), tid);
  EXPECT_FALSE(root.parent_span_id.IsValid());
}

TEST_F(AuthServiceTest, PerSourceRateLimitAnswers429) {
  AuthConfig config = Config();
  config.rate_limit_per_second = 5;
  StartAuth(config);  // the fake clock stands still: no refill during the burst
  int limited = 0;
  for (int i = 0; i < 8; ++i) {
    auto r = Post("", "{}");
    ASSERT_TRUE(r);
    if (r->status == 429) {
      ++limited;
      EXPECT_EQ(json::parse(r->body)["error"]["code"], "resource_exhausted");
      EXPECT_EQ(r->get_header_value("Retry-After"), "1");
    } else {
      EXPECT_EQ(r->status, 401);
    }
  }
  EXPECT_EQ(limited, 3);
  EXPECT_EQ(Requests("rate_limited"), 3);
  auto span = tel_.FindSpans("POST /auth/v1/credentials").back();
  EXPECT_EQ(telemetry::sdk::StringAttribute(span, "chat.auth.result"), "rate_limited");
  clock_.Advance(1s);  // refilled
  auto r = Post("", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(AuthServiceTest, MetricsAreZeroInitialisedAndHealthEndpointsAnswer) {
  StartAuth();
  std::string text = tel_.metrics().Expose(telemetry::ExpositionFormat::kPrometheusText);
  for (const char* result : {"authorized", "rejected", "rate_limited", "error"}) {
    for (const char* type : {"browser", "service"}) {
      std::string series =
          std::string("auth_requests_total{result=\"") + result + "\",auth_type=\"" + type + "\"}";
      EXPECT_NE(text.find(series), std::string::npos) << series;
    }
  }
  for (const char* series :
       {R"(auth_jwks_refresh_total{result="error",trigger="unknown_kid"} 0)",
        R"(auth_jwks_refresh_total{result="error",trigger="scheduled"} 0)",
        R"(auth_request_duration_seconds_bucket{auth_type="browser",le="0.05"} 0)",
        "auth_jwks_keys 1"}) {
    EXPECT_NE(text.find(series), std::string::npos) << series << "\n" << text;
  }
  auto h = client_->Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto ready = client_->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
}

TEST_F(AuthServiceTest, CorsPreflightOnlyForConfiguredOrigins) {
  StartAuth();
  auto ok = client_->Options(
      std::string(kCredentialsRoute),
      {{"Origin", "http://localhost:3000"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 204);
  EXPECT_EQ(ok->get_header_value("Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_NE(ok->get_header_value("Access-Control-Allow-Headers").find("authorization"),
            std::string::npos);
  auto bad = client_->Options(
      std::string(kCredentialsRoute),
      {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 403);
  EXPECT_FALSE(bad->has_header("Access-Control-Allow-Origin"));
  auto post = Post("", "{}", {{"Origin", "http://localhost:3000"}});
  ASSERT_TRUE(post);
  EXPECT_EQ(post->get_header_value("Access-Control-Allow-Origin"), "http://localhost:3000");
}

// ---- per-client and per-user limits behind a real nginx (issue 11 item 5) ----

// nginx with the local stack's own config (deploy/local/nginx.conf, rendered the way
// `nats-chat up` renders it) in front of the test's auth-service, on a random port.
class NginxFront {
 public:
  static std::unique_ptr<NginxFront> Start(const std::string& dir, int auth_port) {
    auto n = std::unique_ptr<NginxFront>(new NginxFront);
    n->dir_ = dir;
    fs::create_directories(fs::path(dir) / "tmp");
    fs::create_directories(fs::path(dir) / "www");
    std::ifstream in(std::string(CHAT_SOURCE_DIR) + "/deploy/local/nginx.conf");
    EXPECT_TRUE(in) << "deploy/local/nginx.conf not found";
    std::string conf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    n->port_ = testing::FreePort();
    const std::map<std::string, std::string> vars = {
        // As root, nginx would hand requests to workers running as nobody, who cannot enter
        // the test's 0700 directory.
        {"NGINX_USER", ::geteuid() == 0 ? "user root root;" : ""},
        {"NGINX_DIR", dir},
        {"LOG_DIR", dir},
        {"HOST", "127.0.0.1"},
        {"WEB_PORT", std::to_string(n->port_)},
        {"WEB_ROOT", dir + "/www"},
        {"AUTH_HTTP_PORT", std::to_string(auth_port)},
        {"SINK_PORT", std::to_string(testing::FreePort())},  // never reached by these tests
        {"NATS_WS_PORT", std::to_string(testing::FreePort())},
    };
    for (const auto& [key, value] : vars) {
      const std::string token = "@" + key + "@";
      for (size_t pos = conf.find(token); pos != std::string::npos; pos = conf.find(token, pos)) {
        conf.replace(pos, token.size(), value);
        pos += value.size();
      }
    }
    std::smatch left;
    EXPECT_FALSE(std::regex_search(conf, left, std::regex("@[A-Z_]+@")))
        << "an unrendered placeholder is left: " << left.str();
    std::ofstream(dir + "/nginx.conf") << conf;
    const std::string binary = fs::exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
    int log = ::open((dir + "/nginx.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    n->pid_ = testing::SpawnWithEnv({binary, "-p", dir, "-c", dir + "/nginx.conf", "-e",
                                     dir + "/web-error.log", "-g", "daemon off;"},
                                    {}, log, log);
    if (log >= 0) ::close(log);
    EXPECT_GT(n->pid_, 0) << "could not start nginx";
    httplib::Client probe("127.0.0.1", n->port_);
    probe.set_connection_timeout(1);
    bool up = testing::WaitFor([&] { return static_cast<bool>(probe.Get("/")); }, 10s);
    EXPECT_TRUE(up) << "nginx did not come up: " << n->Log();
    return up && n->pid_ > 0 ? std::move(n) : nullptr;
  }
  ~NginxFront() {
    if (pid_ > 0) testing::TerminateAndWait(pid_, 5s);
  }
  NginxFront(const NginxFront&) = delete;
  NginxFront& operator=(const NginxFront&) = delete;
  int port() const { return port_; }
  std::string Log() const {
    std::string out;
    for (const char* f : {"/nginx.out", "/web-error.log"}) {
      std::ifstream in(dir_ + f);
      out += std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    return out;
  }
  // A client of this nginx whose connections come from `source` (any 127.x address is local on
  // Linux): distinct sources are distinct clients to nginx.
  std::unique_ptr<httplib::Client> ClientFrom(const std::string& source) const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_interface(source);
    return c;
  }

 private:
  NginxFront() = default;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

class AuthBehindNginxTest : public AuthServiceTest {
 protected:
  void StartBoth(AuthConfig config) {
    ASSERT_NO_FATAL_FAILURE(StartAuth(std::move(config)));
    nginx_ = NginxFront::Start(dir_ + "/nginx", auth_->port());
    ASSERT_NE(nginx_, nullptr);
  }
  void TearDown() override {
    nginx_.reset();
    AuthServiceTest::TearDown();
  }
  httplib::Result PostVia(httplib::Client& c, const std::string& token, const std::string& body,
                          httplib::Headers extra = {}) {
    if (!token.empty()) extra.emplace("Authorization", "Bearer " + token);
    return c.Post(std::string(kCredentialsRoute), extra, body, "application/json");
  }
  std::unique_ptr<NginxFront> nginx_;
};

TEST_F(AuthBehindNginxTest, OneAbusiveClientIsLimitedWhileAnotherIsServed) {
  AuthConfig config = Config();
  config.rate_limit_per_second = 3;  // the fake clock stands still: 3 per client, no refill
  StartBoth(config);
  auto abuser = nginx_->ClientFrom("127.0.0.2");
  auto other = nginx_->ClientFrom("127.0.0.3");
  for (int i = 0; i < 3; ++i) {
    // A forged X-Forwarded-For does not buy a fresh bucket: nginx states the address it saw.
    auto r = PostVia(*abuser, "", "{}", {{"X-Forwarded-For", "10.0.0." + std::to_string(i)}});
    ASSERT_TRUE(r) << "no answer through nginx from 127.0.0.2\n" << nginx_->Log();
    EXPECT_EQ(r->status, 401) << r->body;
  }
  auto limited = PostVia(*abuser, "", "{}", {{"X-Forwarded-For", "10.0.0.99"}});
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429) << limited->body;
  EXPECT_EQ(json::parse(limited->body)["error"]["code"], "resource_exhausted");
  EXPECT_EQ(limited->get_header_value("Retry-After"), "1");
  EXPECT_EQ(Requests("rate_limited"), 1);  // auth-service's own limit answered, and counted
  auto warn = LinesWith("credential request rate limited");
  ASSERT_EQ(warn.size(), 1u);
  EXPECT_NE(warn[0].find("\"client.address\":\"127.0.0.2\""), std::string::npos) << warn[0];
  EXPECT_NE(warn[0].find("\"network.peer.address\":\"127.0.0.1\""), std::string::npos);
  EXPECT_NE(warn[0].find("\"chat.auth.limit\":\"address\""), std::string::npos);
  auto span = tel_.FindSpans("POST /auth/v1/credentials").back();
  EXPECT_EQ(telemetry::sdk::StringAttribute(span, "client.address"), "127.0.0.2");

  // Another client through the same nginx still gets its credentials.
  auto user = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  auto served = PostVia(*other, Token("bob"), NkeyBody(user->public_key()));
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200) << served->body;
  EXPECT_EQ(Requests("rate_limited"), 1);
}

TEST_F(AuthBehindNginxTest, ThePerUserLimitTripsForThatUserOnly) {
  AuthConfig config = Config();
  config.user_rate_limit_per_minute = 3;  // a burst of 3, then one every 20 s (clock frozen)
  StartBoth(config);
  auto laptop = nginx_->ClientFrom("127.0.0.2");
  auto phone = nginx_->ClientFrom("127.0.0.3");
  auto key = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
  const std::string body = NkeyBody(key->public_key());
  const std::string alice = Token("alice");
  // One user's token from two addresses shares one budget.
  EXPECT_EQ(PostVia(*laptop, alice, body)->status, 200);
  EXPECT_EQ(PostVia(*phone, alice, body)->status, 200);
  EXPECT_EQ(PostVia(*laptop, alice, body)->status, 200);
  auto limited = PostVia(*phone, alice, body);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429) << limited->body;
  EXPECT_EQ(json::parse(limited->body)["error"]["code"], "resource_exhausted");
  auto warn = LinesWith("credential request rate limited");
  ASSERT_EQ(warn.size(), 1u);
  EXPECT_NE(warn[0].find("\"chat.auth.limit\":\"user\""), std::string::npos) << warn[0];
  EXPECT_NE(warn[0].find("\"chat.user\":\"alice\""), std::string::npos) << warn[0];
  EXPECT_EQ(Requests("rate_limited"), 1);
  // bob, from the very addresses alice used, is served.
  const std::string bob = Token("bob");
  EXPECT_EQ(PostVia(*laptop, bob, body)->status, 200);
  EXPECT_EQ(PostVia(*phone, bob, body)->status, 200);
  clock_.Advance(20s);  // one unit back for alice
  EXPECT_EQ(PostVia(*phone, alice, body)->status, 200);
}

TEST_F(AuthBehindNginxTest, NginxItselfLimitsCredentialRequestsPerAddress) {
  AuthConfig config = Config();
  config.rate_limit_per_second = 100000;  // only nginx's limit_req is in play
  StartBoth(config);
  auto flood = nginx_->ClientFrom("127.0.0.4");
  int refused_by_nginx = 0;
  for (int i = 0; i < 60; ++i) {
    auto r = PostVia(*flood, "", "{}");
    ASSERT_TRUE(r);
    if (r->status == 429) {
      ++refused_by_nginx;
      // A JSON error like auth-service's, so clients handle both the same way.
      json j = json::parse(r->body, nullptr, false);
      EXPECT_EQ(j["error"]["code"], "resource_exhausted") << r->body;
      EXPECT_EQ(r->get_header_value("Retry-After"), "1");
    } else {
      EXPECT_EQ(r->status, 401) << r->body;
    }
  }
  // 60 requests sent back to back exceed nginx's 5 r/s + burst 10 unless they took > 9 s.
  EXPECT_GT(refused_by_nginx, 0);
  // What nginx refused never reached auth-service.
  EXPECT_EQ(Requests("rejected"), 60 - refused_by_nginx);
  EXPECT_EQ(Requests("rate_limited"), 0);
  // A different client address is still let through.
  auto other = nginx_->ClientFrom("127.0.0.5");
  auto r = PostVia(*other, "", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401) << r->body;
}

// ---- end to end: a real nats-server in operator mode enforces what auth-service minted ----

struct NatsConnDeleter {
  void operator()(natsConnection* nc) const { natsConnection_Destroy(nc); }
};
struct NatsSubDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};

TEST_F(AuthServiceTest, MintedJwtsAreEnforcedByARealNatsServer) {
  StartAuth();
  // resolver.conf (operator, accounts, memory resolver) sits in the operator dir; nats-server
  // resolves includes relative to the including file, so the config goes next to it.
  fs::path conf = operator_.dir / "server.conf";
  std::ofstream(conf) << "include \"resolver.conf\"\n";
  testing::NatsServer::Options options;
  options.jetstream = false;
  options.config_file = conf.string();
  auto server = testing::NatsServer::Create(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  // An observer with the dev-admin creds sees what actually got through.
  natsOptions* raw_opts = nullptr;
  ASSERT_EQ(natsOptions_Create(&raw_opts), NATS_OK);
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> opts(raw_opts, &natsOptions_Destroy);
  ASSERT_EQ(natsOptions_SetURL(opts.get(), (*server)->url().c_str()), NATS_OK);
  ASSERT_EQ(natsOptions_SetUserCredentialsFromFiles(
                opts.get(), operator_.CredsFile(nkeys::kDevAdminUser).c_str(), nullptr),
            NATS_OK);
  natsConnection* raw_nc = nullptr;
  // Retried like natsx does: nats-server 2.9 + libnats 3.4.1 refuse a valid nkey handshake now
  // and then (libs/natsx/src/connection.cpp).
  natsStatus connected = natsConnection_Connect(&raw_nc, opts.get());
  for (int retry = 0; connected == NATS_CONNECTION_AUTH_FAILED && retry < 2; ++retry) {
    connected = natsConnection_Connect(&raw_nc, opts.get());
  }
  ASSERT_EQ(connected, NATS_OK);
  std::unique_ptr<natsConnection, NatsConnDeleter> observer(raw_nc);
  natsSubscription* raw_sub = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&raw_sub, observer.get(), ">"), NATS_OK);
  std::unique_ptr<natsSubscription, NatsSubDeleter> seen(raw_sub);
  ASSERT_EQ(natsConnection_FlushTimeout(observer.get(), 5000), NATS_OK);
  auto next_subject = [&]() -> std::string {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, seen.get(), 5000) != NATS_OK) return "<none>";
    std::string subject = natsMsg_GetSubject(msg);
    natsMsg_Destroy(msg);
    return subject;
  };

  struct Client {
    telemetry::sdk::InMemoryTelemetry tel;
    std::unique_ptr<natsx::Connection> conn;
    double PermissionErrors() {
      return tel.metrics()
          .AddCounter("nats_client_errors_total", "", {"type"})
          .With({"permission"})
          .Value();
    }
  };
  auto connect_as = [&](const std::string& user, Client& client) {
    auto key = nkeys::KeyPair::Generate(nkeys::KeyType::kUser);
    ASSERT_TRUE(key.ok());
    auto r = Post(Token(user), NkeyBody(key->public_key()));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    natsx::ConnectionOptions o;
    o.urls = {(*server)->url()};
    o.name = user;
    o.allow_reconnect = false;
    o.credentials = natsx::Credentials::FromJwtAndSeed(
        json::parse(r->body)["jwt"].get<std::string>(), key->Seed());
    auto conn = natsx::Connection::Connect(std::move(o), client.tel.telemetry());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString() << "\n" << (*server)->LogTail();
    client.conn = std::move(conn).value();
  };

  Client alice;
  ASSERT_NO_FATAL_FAILURE(connect_as("alice", alice));
  ASSERT_TRUE(
      alice.conn->Publish(contracts::subjects::kDeliverSend, {"alice", "general"}, "{}", {}).ok());
  ASSERT_TRUE(alice.conn->Flush(5s).ok());
  EXPECT_EQ(next_subject(), "deliver.alice.send.general");
  EXPECT_EQ(alice.PermissionErrors(), 0);

  // alice may not speak for bob: the server refuses, the client counts a permission error,
  // and the observer's next message is alice's following (allowed) publish.
  ASSERT_TRUE(
      alice.conn->Publish(contracts::subjects::kDeliverSend, {"bob", "general"}, "{}", {}).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return alice.PermissionErrors() >= 1; }, 5s));
  ASSERT_TRUE(
      alice.conn->Publish(contracts::subjects::kAdminRoom, {"chat", "alice"}, "{}", {}).ok());
  ASSERT_TRUE(alice.conn->Flush(5s).ok());
  EXPECT_EQ(next_subject(), "admin.chat.alice");  // admins may use the admin channel

  Client charlie;
  ASSERT_NO_FATAL_FAILURE(connect_as("charlie", charlie));
  ASSERT_TRUE(
      charlie.conn->Publish(contracts::subjects::kDeliverSend, {"charlie", "general"}, "{}", {})
          .ok());
  EXPECT_TRUE(testing::WaitFor([&] { return charlie.PermissionErrors() >= 1; }, 5s));
  ASSERT_TRUE(
      charlie.conn->Publish(contracts::subjects::kAdminRoom, {"chat", "charlie"}, "{}", {}).ok());
  EXPECT_TRUE(testing::WaitFor([&] { return charlie.PermissionErrors() >= 2; }, 5s));
  // Nothing of charlie's reached the bus: the next thing the observer sees is alice again.
  ASSERT_TRUE(
      alice.conn->Publish(contracts::subjects::kDeliverSend, {"alice", "random"}, "{}", {}).ok());
  ASSERT_TRUE(alice.conn->Flush(5s).ok());
  EXPECT_EQ(next_subject(), "deliver.alice.send.random");
  EXPECT_EQ(alice.PermissionErrors(), 1);
}

// ---- which address a request comes from ----

TEST(TrustedProxiesTest, ForwardedForCountsOnlyFromATrustedPeer) {
  auto proxies = TrustedProxies::Parse("127.0.0.1, ::1, 10.0.0.0/8");
  ASSERT_TRUE(proxies.ok()) << proxies.status().ToString();
  // An untrusted peer is the client, whatever it claims.
  EXPECT_EQ(proxies->ClientAddress("203.0.113.7", "198.51.100.1"), "203.0.113.7");
  // From a trusted proxy: the rightmost hop that is not a proxy.
  EXPECT_EQ(proxies->ClientAddress("127.0.0.1", "198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(proxies->ClientAddress("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3"), "198.51.100.1");
  EXPECT_EQ(proxies->ClientAddress("::ffff:127.0.0.1", " 198.51.100.1 "), "198.51.100.1");
  EXPECT_EQ(proxies->ClientAddress("::1", "[2001:db8::1]:443"), "2001:db8::1");
  EXPECT_EQ(proxies->ClientAddress("127.0.0.1", "198.51.100.1:5555"), "198.51.100.1");
  // No header, or junk in it: the nearest address we can vouch for.
  EXPECT_EQ(proxies->ClientAddress("127.0.0.1", ""), "127.0.0.1");
  EXPECT_EQ(proxies->ClientAddress("127.0.0.1", "unknown"), "127.0.0.1");
  EXPECT_EQ(proxies->ClientAddress("127.0.0.1", "198.51.100.1, evil\r\nx, 10.0.0.2"), "10.0.0.2");
  // Trusted all the way: the leftmost hop.
  EXPECT_EQ(proxies->ClientAddress("127.0.0.1", "10.0.0.9,, 10.0.0.2"), "10.0.0.9");
  // Only the last 32 hops are read, however long the header.
  std::string longest;
  for (int i = 0; i < 10000; ++i) longest += "10.0.0.1,";
  EXPECT_EQ(proxies->ClientAddress("127.0.0.1", longest + "10.0.0.2"), "10.0.0.1");

  auto none = TrustedProxies::Parse("");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->ClientAddress("127.0.0.1", "198.51.100.1"), "127.0.0.1");
  EXPECT_FALSE(TrustedProxies::Parse("10.0.0.0/33").ok());
  EXPECT_FALSE(TrustedProxies::Parse("nginx").ok());
  EXPECT_FALSE(TrustedProxies::Parse("::/129").ok());
  auto v6 = TrustedProxies::Parse("fd00::/8");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(*IpAddress::Parse("fd12:3456::1")));
  EXPECT_FALSE(v6->Contains(*IpAddress::Parse("fe80::1")));
}

// ---- configuration ----

// Issue 11 §4: gzip, deflate and br bodies are refused unread (415) and a 50 MiB chunked body
// stops at the 16 KiB limit (413); this process's peak RSS grows by at most 5 MiB.
TEST_F(AuthServiceTest, BodyBombsAreRefusedWithoutMemory) {
  using chat::testing::BombEncoding;
  const size_t inflated = size_t{64} * 1024 * 1024;
  const std::pair<std::string, std::string> bombs[] = {
      {"gzip", chat::testing::CompressedZeros(BombEncoding::kGzip, inflated)},
      {"deflate", chat::testing::CompressedZeros(BombEncoding::kDeflate, inflated)},
      {"br", chat::testing::CompressedZeros(BombEncoding::kBrotli, inflated)}};
  StartAuth();
  ASSERT_TRUE(client_->Get("/healthz"));
  const long before = chat::testing::PeakRssKib();
  const std::string route(kCredentialsRoute);
  for (const auto& [encoding, body] : bombs) {
    auto r = chat::testing::SendWithLength(
        auth_->port(), "POST", route,
        {{"Content-Encoding", encoding}, {"Content-Type", "application/json"}}, body);
    EXPECT_EQ(r.status, 415) << encoding << " " << r.error << r.head;
    EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
  }
  auto chunked =
      chat::testing::SendChunked(auth_->port(), "POST", route,
                                 {{"Content-Type", "application/json"}}, size_t{50} * 1024 * 1024);
  EXPECT_EQ(chunked.status, 413) << chunked.error << chunked.head;
  EXPECT_LT(chunked.body_bytes_sent, 50u * 1024 * 1024);
  auto healthz_body =
      chat::testing::SendWithLength(auth_->port(), "POST", "/healthz", {}, bombs[0].second);
  EXPECT_EQ(healthz_body.status, 413);
  const long growth = chat::testing::PeakRssKib() - before;
  EXPECT_LE(growth, chat::testing::kBombMaxRssGrowthKib) << "peak RSS grew by " << growth << " KiB";
  EXPECT_EQ(Counter("http_server_rejected_requests_total", {"server", "reason"},
                    {"auth", "unsupported_encoding"}),
            3);
  EXPECT_EQ(
      Counter("http_server_rejected_requests_total", {"server", "reason"}, {"auth", "too_large"}),
      2);
  EXPECT_FALSE(LinesWith("http request refused").empty());
}

TEST(AuthConfigTest, IssuerIsRequiredAndProblemsAreReportedTogether) {
  core::MapEnv env{{"CHAT_AUTH_HTTP_PORT", "70000"},
                   {"CHAT_AUTH_CORS_ORIGINS", "not-an-origin"},
                   {"CHAT_AUTH_TRUSTED_PROXIES", "127.0.0.1,nginx"}};
  auto c = AuthConfig::FromEnv(env);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("CHAT_AUTH_TRUSTED_PROXIES"), std::string::npos);
  EXPECT_NE(c.status().message().find("CHAT_AUTH_ISSUER_URL"), std::string::npos);
  EXPECT_NE(c.status().message().find("CHAT_AUTH_HTTP_PORT"), std::string::npos);
  EXPECT_NE(c.status().message().find("CHAT_AUTH_CORS_ORIGINS"), std::string::npos);
}

TEST(AuthConfigTest, DefaultsFollowTheContract) {
  core::MapEnv env{{"CHAT_AUTH_ISSUER_URL", "http://127.0.0.1:8080/realms/nats-chat"}};
  auto c = AuthConfig::FromEnv(env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->audience, "nats-chat-app");
  EXPECT_EQ(c->clock_skew, 30s);
  EXPECT_EQ(c->jwt_ttl, 3600s);
  EXPECT_EQ(c->http_host, "127.0.0.1");
  EXPECT_EQ(c->http_port, 9430);
  EXPECT_EQ(c->jwks_refresh, 300s);
  EXPECT_EQ(c->jwks_min_refresh_interval, 10s);
  EXPECT_TRUE(c->cors_origins.empty());
  EXPECT_EQ(c->account_signing_seed_file, "var/nats/keys/CHAT-signing.seed");
  EXPECT_EQ(c->user_rate_limit_per_minute, 60);
  EXPECT_EQ(c->trusted_proxies.size(), 2u);  // loopback: nginx on this host
  EXPECT_TRUE(c->trusted_proxies.Contains(*IpAddress::Parse("127.0.0.1")));
  EXPECT_FALSE(c->trusted_proxies.Contains(*IpAddress::Parse("127.0.0.2")));
  EXPECT_EQ(c->user_max_subscriptions, 500);
  EXPECT_EQ(c->user_max_payload_bytes, 65536);
}

TEST(AuthConfigTest, AccountKeyIsDerivedFromTheOperatorDir) {
  std::string dir = MakeTempDir();
  auto setup = nkeys::InitOperatorDir(fs::path(dir) / "nats", core::SystemClock::Instance());
  ASSERT_TRUE(setup.ok());
  AuthConfig c;
  c.account_signing_seed_file = setup->chat_signing_seed_file.string();
  auto m = LoadSigningMaterial(c);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->account_public_key, setup->chat_account_public_key);
  EXPECT_EQ(m->signing_key.public_key(), setup->chat_signing_public_key);
  c.account_signing_seed_file = dir + "/missing.seed";
  EXPECT_FALSE(LoadSigningMaterial(c).ok());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace chat::auth_service
