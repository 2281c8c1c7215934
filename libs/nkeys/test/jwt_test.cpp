#include "chat/nkeys/jwt.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "chat/core/base64.hpp"
#include "chat/nkeys/local_operator.hpp"

namespace chat::nkeys {
namespace {

KeyPair MustGenerate(KeyType type) {
  auto kp = KeyPair::Generate(type);
  CHAT_CHECK(kp.ok());
  return std::move(kp).value();
}

class JwtTest : public ::testing::Test {
 protected:
  core::FakeClock clock_{1'700'000'000'000'000'000};
  KeyPair op_ = MustGenerate(KeyType::kOperator);
  KeyPair sys_ = MustGenerate(KeyType::kAccount);
  KeyPair account_ = MustGenerate(KeyType::kAccount);
  KeyPair signing_ = MustGenerate(KeyType::kAccount);
  KeyPair user_ = MustGenerate(KeyType::kUser);
};

TEST_F(JwtTest, OperatorJwtIsSelfSignedWithSystemAccount) {
  auto jwt =
      EncodeOperatorJwt({op_.public_key(), "nats-chat", {}, sys_.public_key(), 0}, op_, clock_);
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  EXPECT_EQ(jwt->substr(0, jwt->find('.')), "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ");
  auto decoded = DecodeAndVerifyJwt(*jwt);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->type, "operator");
  EXPECT_EQ(decoded->issuer, op_.public_key());
  EXPECT_EQ(decoded->subject, op_.public_key());
  EXPECT_EQ(decoded->claims["name"], "nats-chat");
  EXPECT_EQ(decoded->claims["iat"], 1'700'000'000);
  EXPECT_EQ(decoded->claims["nats"]["system_account"], sys_.public_key());
  EXPECT_EQ(decoded->claims["nats"]["version"], 2);
  EXPECT_FALSE(decoded->claims.contains("exp"));
}

TEST_F(JwtTest, AccountJwtCarriesLimitsJetStreamAndSigningKeys) {
  AccountClaims claims;
  claims.subject = account_.public_key();
  claims.name = "CHAT";
  claims.limits.jetstream = JetStreamLimits::Unlimited();
  claims.signing_keys = {signing_.public_key()};
  auto jwt = EncodeAccountJwt(claims, op_, clock_);
  ASSERT_TRUE(jwt.ok());
  auto decoded = DecodeAndVerifyJwt(*jwt);
  ASSERT_TRUE(decoded.ok());
  const auto& nats = decoded->claims["nats"];
  EXPECT_EQ(nats["type"], "account");
  for (const char* key : {"subs", "data", "payload", "imports", "exports", "conn", "leaf",
                          "mem_storage", "disk_storage", "streams", "consumer"}) {
    EXPECT_EQ(nats["limits"][key], -1) << key;
  }
  EXPECT_EQ(nats["limits"]["wildcards"], true);
  EXPECT_EQ(nats["signing_keys"], nlohmann::json::array({signing_.public_key()}));

  // Without JetStream limits the keys are absent (disabled), as the Go library omits zeros.
  claims.limits.jetstream = {};
  auto plain = DecodeAndVerifyJwt(EncodeAccountJwt(claims, op_, clock_).value());
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->claims["nats"]["limits"].contains("mem_storage"));
}

// A negative exp would read as "never expires" to nats-server; a huge one is clamped so no
// consumer's arithmetic on it overflows. (UBSan in the asan preset checks the clamping.)
TEST_F(JwtTest, ExtremeExpiriesAreRefusedOrClamped) {
  UserClaims claims;
  claims.subject = user_.public_key();
  claims.name = "alice";
  claims.issuer_account = account_.public_key();
  for (int64_t bad : {int64_t{-1}, std::numeric_limits<int64_t>::min()}) {
    claims.expires = bad;
    auto jwt = EncodeUserJwt(claims, signing_, clock_);
    ASSERT_FALSE(jwt.ok()) << bad;
    EXPECT_EQ(jwt.status().code(), core::ErrorCode::kInvalidArgument);
  }
  claims.expires = std::numeric_limits<int64_t>::max();
  auto jwt = EncodeUserJwt(claims, signing_, clock_);
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  auto decoded = DecodeAndVerifyJwt(*jwt);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->claims["exp"], kMaxJwtTimeSeconds);

  // A clock far beyond year 9999 still yields a bounded iat.
  core::FakeClock far{std::numeric_limits<int64_t>::max()};
  claims.expires = 0;
  auto far_jwt = EncodeUserJwt(claims, signing_, far);
  ASSERT_TRUE(far_jwt.ok());
  auto far_decoded = DecodeAndVerifyJwt(*far_jwt);
  ASSERT_TRUE(far_decoded.ok());
  EXPECT_LE(far_decoded->claims["iat"].get<int64_t>(), kMaxJwtTimeSeconds);
  EXPECT_FALSE(far_decoded->claims.contains("exp"));
}

TEST_F(JwtTest, UserJwtCarriesPermissionsIssuerAccountAndExpiry) {
  UserClaims claims;
  claims.subject = user_.public_key();
  claims.name = "alice";
  claims.pub.allow = {"deliver.alice.send.>", "_INBOX.>"};
  claims.sub.allow = {"deliver.alice.>"};
  claims.sub.deny = {"deliver.alice.secret"};
  claims.resp = ResponsePermission{1, std::chrono::minutes(5)};
  claims.issuer_account = account_.public_key();
  claims.expires = 1'700'000'300;
  auto jwt = EncodeUserJwt(claims, signing_, clock_);
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  auto decoded = DecodeAndVerifyJwt(*jwt);
  ASSERT_TRUE(decoded.ok());
  const auto& c = decoded->claims;
  EXPECT_EQ(c["iss"], signing_.public_key());
  EXPECT_EQ(c["sub"], user_.public_key());
  EXPECT_EQ(c["exp"], 1'700'000'300);
  EXPECT_EQ(c["nats"]["type"], "user");
  EXPECT_EQ(c["nats"]["issuer_account"], account_.public_key());
  EXPECT_EQ(c["nats"]["pub"]["allow"][0], "deliver.alice.send.>");
  EXPECT_EQ(c["nats"]["sub"]["deny"][0], "deliver.alice.secret");
  EXPECT_EQ(c["nats"]["resp"]["max"], 1);
  EXPECT_EQ(c["nats"]["resp"]["ttl"], 300'000'000'000LL);
  EXPECT_EQ(c["nats"]["subs"], -1);
  EXPECT_FALSE(c["nats"].contains("bearer_token"));
  // jti: base32 (no padding) of a 32-byte digest.
  std::string jti = c["jti"];
  EXPECT_EQ(jti.size(), 52u);
  EXPECT_TRUE(Base32Decode(jti).ok());
}

TEST_F(JwtTest, JtiDependsOnStandardClaimsOnly) {
  UserClaims claims;
  claims.subject = user_.public_key();
  claims.name = "bob";
  auto a = DecodeAndVerifyJwt(EncodeUserJwt(claims, account_, clock_).value()).value();
  auto b = DecodeAndVerifyJwt(EncodeUserJwt(claims, account_, clock_).value()).value();
  EXPECT_EQ(a.claims["jti"], b.claims["jti"]);
  claims.pub.allow = {"x"};  // under "nats": not hashed, as in nats-io/jwt
  auto c = DecodeAndVerifyJwt(EncodeUserJwt(claims, account_, clock_).value()).value();
  EXPECT_EQ(a.claims["jti"], c.claims["jti"]);
  claims.name = "bob2";
  auto d = DecodeAndVerifyJwt(EncodeUserJwt(claims, account_, clock_).value()).value();
  EXPECT_NE(a.claims["jti"], d.claims["jti"]);
  // Signed by the account identity key: no issuer_account.
  EXPECT_FALSE(a.claims["nats"].contains("issuer_account"));
}

TEST_F(JwtTest, TamperedOrMalformedJwtIsRejected) {
  UserClaims claims;
  claims.subject = user_.public_key();
  claims.name = "carol";
  std::string jwt = EncodeUserJwt(claims, account_, clock_).value();
  size_t dot1 = jwt.find('.');
  size_t dot2 = jwt.find('.', dot1 + 1);
  // Swap in claims naming another user, keep the old signature.
  claims.name = "mallory";
  std::string other = EncodeUserJwt(claims, account_, clock_).value();
  size_t odot1 = other.find('.');
  size_t odot2 = other.find('.', odot1 + 1);
  std::string forged =
      jwt.substr(0, dot1 + 1) + other.substr(odot1 + 1, odot2 - odot1 - 1) + jwt.substr(dot2);
  EXPECT_EQ(DecodeAndVerifyJwt(forged).status().code(), core::ErrorCode::kUnauthenticated);
  EXPECT_FALSE(DecodeAndVerifyJwt("a.b").ok());
  EXPECT_FALSE(DecodeAndVerifyJwt("a.b.c.d").ok());
  EXPECT_FALSE(DecodeAndVerifyJwt(jwt.substr(0, jwt.size() - 4)).ok());
}

TEST_F(JwtTest, WrongSignerOrSubjectTypeIsInvalidArgument) {
  UserClaims user;
  user.subject = user_.public_key();
  EXPECT_EQ(EncodeUserJwt(user, op_, clock_).status().code(), core::ErrorCode::kInvalidArgument);
  user.subject = account_.public_key();
  EXPECT_EQ(EncodeUserJwt(user, account_, clock_).status().code(),
            core::ErrorCode::kInvalidArgument);
  AccountClaims acc;
  acc.subject = account_.public_key();
  EXPECT_FALSE(EncodeAccountJwt(acc, account_, clock_).ok());
  acc.signing_keys = {user_.public_key()};
  EXPECT_FALSE(EncodeAccountJwt(acc, op_, clock_).ok());
}

// Found by fuzz/fuzz_nkeys (kept as fuzz/corpus/fuzz_nkeys/crash-typ-not-string): a header or
// claim of another JSON type than string threw nlohmann's type_error out of the decoder.
TEST(Jwt, FieldsOfTheWrongTypeAreAnErrorNotAnException) {
  auto seg = [](std::string_view json) { return core::Base64UrlEncode(json); };
  for (const std::string& token :
       {seg(R"({"typ":1,"alg":"ed25519-nkey"})") + "." + seg("{}") + ".c2ln",
        seg(R"({"typ":"JWT","alg":["ed25519-nkey"]})") + "." + seg("{}") + ".c2ln",
        seg(R"({"typ":"JWT","alg":"ed25519-nkey"})") + "." +
            seg(R"({"iss":7,"sub":{},"nats":{"type":false}})") + ".c2ln"}) {
    core::Result<DecodedJwt> decoded = core::InvalidArgument("not run");
    EXPECT_NO_THROW(decoded = DecodeAndVerifyJwt(token)) << token;
    EXPECT_FALSE(decoded.ok()) << token;
  }
}

TEST(Creds, FormatMatchesNscAndParsesBack) {
  std::string text = FormatUserCreds("eyJhbGc.e30.c2ln", "SUAFAKE");
  EXPECT_EQ(text,
            "-----BEGIN NATS USER JWT-----\neyJhbGc.e30.c2ln\n------END NATS USER JWT------\n\n"
            "************************* IMPORTANT *************************\n"
            "NKEY Seed printed below can be used to sign and prove identity.\n"
            "NKEYs are sensitive and should be treated as secrets.\n\n"
            "-----BEGIN USER NKEY SEED-----\nSUAFAKE\n------END USER NKEY SEED------\n\n"
            "*************************************************************\n");
  auto parsed = ParseUserCreds(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->jwt, "eyJhbGc.e30.c2ln");
  EXPECT_EQ(parsed->seed, "SUAFAKE");
  EXPECT_FALSE(ParseUserCreds("-----BEGIN NATS USER JWT-----\nabc\n").ok());
}

TEST(ServiceAccounts, AllowEverythingWithoutAResponsePermission) {
  auto claims = ServiceAccountClaims("fanout-service", "UX", "AX");
  EXPECT_EQ(claims.pub.allow, std::vector<std::string>{">"});
  EXPECT_EQ(claims.sub.allow, std::vector<std::string>{">"});
  // publish ">" covers every reply; a response permission would only make nats-server track
  // (and rescan) each received reply subject.
  EXPECT_FALSE(claims.resp.has_value());
  EXPECT_EQ(DefaultServiceAccounts().size(), 14u);
}

}  // namespace
}  // namespace chat::nkeys
