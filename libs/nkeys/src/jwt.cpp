#include "chat/nkeys/jwt.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "chat/core/base64.hpp"

namespace chat::nkeys {
namespace {

using OJson = nlohmann::ordered_json;

constexpr std::string_view kHeader = R"({"typ":"JWT","alg":"ed25519-nkey"})";

// The string at `key`, or "" when it is absent or not a string. json::value(key, "") throws
// type_error when the key holds another type ({"typ":1}): found by fuzz/fuzz_nkeys.
std::string StringField(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct StdClaims {
  int64_t expires = 0;
  int64_t issued_at = 0;
  std::string issuer;
  std::string name;
  std::string subject;
};

// Standard claims in the Go struct's field order with omitempty, so the jti hash input is the
// same bytes nats-io/jwt hashes.
OJson StdClaimsJson(const StdClaims& c, std::string_view jti) {
  OJson j = OJson::object();
  if (c.expires != 0) j["exp"] = c.expires;
  if (!jti.empty()) j["jti"] = jti;
  if (c.issued_at != 0) j["iat"] = c.issued_at;
  if (!c.issuer.empty()) j["iss"] = c.issuer;
  if (!c.name.empty()) j["name"] = c.name;
  if (!c.subject.empty()) j["sub"] = c.subject;
  return j;
}

core::Result<std::string> Sha512_256Base32(std::string_view data) {
  std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md(EVP_MD_fetch(nullptr, "SHA512-256", nullptr),
                                                     &EVP_MD_free);
  if (!md) return core::Internal("SHA512-256 unavailable");
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, md.get(), nullptr) != 1) {
    return core::Internal("SHA512-256 failed");
  }
  return Base32Encode(std::span<const uint8_t>(digest, len));
}

OJson PermissionJson(const Permission& p) {
  OJson j = OJson::object();
  if (!p.allow.empty()) j["allow"] = p.allow;
  if (!p.deny.empty()) j["deny"] = p.deny;
  return j;
}

void AddNatsLimits(OJson& j, const NatsLimits& l) {
  j["subs"] = l.subs;
  j["data"] = l.data;
  j["payload"] = l.payload;
}

core::Result<std::string> Sign(StdClaims std_claims, OJson nats, const KeyPair& signer,
                               const core::Clock& clock) {
  // nats-server treats exp <= 0 as "never expires" (nats-io/jwt: `Expires > 0 && now > Expires`),
  // so a negative value that slipped through arithmetic would mint an immortal credential.
  if (std_claims.expires < 0) {
    return core::InvalidArgument("expires must be 0 (never) or a unix time in seconds");
  }
  std_claims.expires = std::min(std_claims.expires, kMaxJwtTimeSeconds);
  std_claims.issuer = signer.public_key();
  std_claims.issued_at = std::clamp<int64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count(), 0,
      kMaxJwtTimeSeconds);
  CHAT_ASSIGN_OR_RETURN(std::string jti, Sha512_256Base32(StdClaimsJson(std_claims, "").dump()));
  OJson claims = StdClaimsJson(std_claims, jti);
  nats["version"] = 2;
  claims["nats"] = std::move(nats);
  std::string signing_input =
      core::Base64UrlEncode(kHeader) + "." + core::Base64UrlEncode(claims.dump());
  CHAT_ASSIGN_OR_RETURN(Bytes sig, signer.Sign(signing_input));
  return signing_input + "." + core::Base64UrlEncode(sig);
}

core::Status RequireKey(std::string_view key, KeyType type, std::string_view what) {
  if (!IsValidPublicKey(key, type)) {
    return core::InvalidArgument(std::string(what) + " must be a " +
                                 std::string(KeyTypeName(type)) + " public key");
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<std::string> EncodeOperatorJwt(const OperatorClaims& c, const KeyPair& signer,
                                            const core::Clock& clock) {
  CHAT_RETURN_IF_ERROR(RequireKey(c.subject, KeyType::kOperator, "operator subject"));
  if (signer.type() != KeyType::kOperator) return core::InvalidArgument("signer must be operator");
  OJson nats = OJson::object();
  if (!c.signing_keys.empty()) nats["signing_keys"] = c.signing_keys;
  if (!c.system_account.empty()) {
    CHAT_RETURN_IF_ERROR(RequireKey(c.system_account, KeyType::kAccount, "system_account"));
    nats["system_account"] = c.system_account;
  }
  nats["type"] = "operator";
  return Sign({c.expires, 0, "", c.name, c.subject}, std::move(nats), signer, clock);
}

core::Result<std::string> EncodeAccountJwt(const AccountClaims& c, const KeyPair& signer,
                                           const core::Clock& clock) {
  CHAT_RETURN_IF_ERROR(RequireKey(c.subject, KeyType::kAccount, "account subject"));
  if (signer.type() != KeyType::kOperator) return core::InvalidArgument("signer must be operator");
  for (const auto& k : c.signing_keys) {
    CHAT_RETURN_IF_ERROR(RequireKey(k, KeyType::kAccount, "account signing key"));
  }
  OJson limits = OJson::object();
  AddNatsLimits(limits, c.limits.nats);
  limits["imports"] = c.limits.imports;
  limits["exports"] = c.limits.exports;
  limits["wildcards"] = c.limits.wildcards;
  limits["conn"] = c.limits.conn;
  limits["leaf"] = c.limits.leaf;
  const JetStreamLimits& js = c.limits.jetstream;
  // Zero fields are omitted (Go omitempty); all-zero means JetStream is disabled.
  if (js.mem_storage != 0) limits["mem_storage"] = js.mem_storage;
  if (js.disk_storage != 0) limits["disk_storage"] = js.disk_storage;
  if (js.streams != 0) limits["streams"] = js.streams;
  if (js.consumer != 0) limits["consumer"] = js.consumer;
  if (js.mem_max_stream_bytes != 0) limits["mem_max_stream_bytes"] = js.mem_max_stream_bytes;
  if (js.disk_max_stream_bytes != 0) limits["disk_max_stream_bytes"] = js.disk_max_stream_bytes;
  if (js.max_bytes_required) limits["max_bytes_required"] = true;
  OJson nats = OJson::object();
  nats["limits"] = std::move(limits);
  if (!c.signing_keys.empty()) nats["signing_keys"] = c.signing_keys;
  nats["type"] = "account";
  return Sign({c.expires, 0, "", c.name, c.subject}, std::move(nats), signer, clock);
}

core::Result<std::string> EncodeUserJwt(const UserClaims& c, const KeyPair& signer,
                                        const core::Clock& clock) {
  CHAT_RETURN_IF_ERROR(RequireKey(c.subject, KeyType::kUser, "user subject"));
  if (signer.type() != KeyType::kAccount) return core::InvalidArgument("signer must be account");
  if (!c.issuer_account.empty()) {
    CHAT_RETURN_IF_ERROR(RequireKey(c.issuer_account, KeyType::kAccount, "issuer_account"));
  }
  OJson nats = OJson::object();
  nats["pub"] = PermissionJson(c.pub);
  nats["sub"] = PermissionJson(c.sub);
  if (c.resp) {
    nats["resp"] = OJson{{"max", c.resp->max_msgs}, {"ttl", c.resp->ttl.count()}};
  }
  AddNatsLimits(nats, c.limits);
  if (c.bearer_token) nats["bearer_token"] = true;
  if (!c.issuer_account.empty() && c.issuer_account != signer.public_key()) {
    nats["issuer_account"] = c.issuer_account;
  }
  nats["type"] = "user";
  return Sign({c.expires, 0, "", c.name, c.subject}, std::move(nats), signer, clock);
}

core::Result<DecodedJwt> DecodeAndVerifyJwt(std::string_view token) {
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return core::InvalidArgument("jwt must have three segments");
  }
  CHAT_ASSIGN_OR_RETURN(std::string header_raw, core::Base64UrlDecode(token.substr(0, dot1)));
  CHAT_ASSIGN_OR_RETURN(std::string claims_raw,
                        core::Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1)));
  CHAT_ASSIGN_OR_RETURN(std::string sig, core::Base64UrlDecode(token.substr(dot2 + 1)));
  DecodedJwt out;
  out.header = nlohmann::json::parse(header_raw.begin(), header_raw.end(), nullptr, false);
  out.claims = nlohmann::json::parse(claims_raw.begin(), claims_raw.end(), nullptr, false);
  if (!out.header.is_object() || !out.claims.is_object()) {
    return core::InvalidArgument("jwt segments are not JSON objects");
  }
  if (StringField(out.header, "typ") != "JWT" || StringField(out.header, "alg") != "ed25519-nkey") {
    return core::InvalidArgument("jwt header is not a NATS ed25519-nkey JWT");
  }
  out.issuer = StringField(out.claims, "iss");
  out.subject = StringField(out.claims, "sub");
  if (auto it = out.claims.find("nats"); it != out.claims.end() && it->is_object()) {
    out.type = StringField(*it, "type");
  }
  CHAT_RETURN_IF_ERROR(Verify(out.issuer, token.substr(0, dot2),
                              {reinterpret_cast<const uint8_t*>(sig.data()), sig.size()}));
  return out;
}

std::string FormatUserCreds(std::string_view jwt, std::string_view seed) {
  std::string out;
  out += "-----BEGIN NATS USER JWT-----\n";
  out += jwt;
  out += "\n------END NATS USER JWT------\n\n";
  out += "************************* IMPORTANT *************************\n";
  out += "NKEY Seed printed below can be used to sign and prove identity.\n";
  out += "NKEYs are sensitive and should be treated as secrets.\n\n";
  out += "-----BEGIN USER NKEY SEED-----\n";
  out += seed;
  out += "\n------END USER NKEY SEED------\n\n";
  out += "*************************************************************\n";
  return out;
}

core::Result<UserCreds> ParseUserCreds(std::string_view text) {
  // Like the Go parser: the first non-empty line after each "-----BEGIN" line.
  auto block_after = [&](std::string_view marker) -> std::string {
    size_t pos = text.find(marker);
    if (pos == std::string_view::npos) return {};
    pos = text.find('\n', pos);
    while (pos != std::string_view::npos && pos + 1 < text.size()) {
      size_t end = text.find('\n', pos + 1);
      std::string_view line = text.substr(
          pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
      if (!line.empty()) return std::string(line);
      pos = end;
    }
    return {};
  };
  UserCreds creds{block_after("-----BEGIN NATS USER JWT-----"),
                  block_after("-----BEGIN USER NKEY SEED-----")};
  if (creds.jwt.empty() || creds.seed.empty()) {
    return core::InvalidArgument("creds text lacks a JWT or a seed block");
  }
  return creds;
}

}  // namespace chat::nkeys
