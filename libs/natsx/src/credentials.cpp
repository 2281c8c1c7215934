// Credentials: how a Connection authenticates (docs/adr/0001). The Credentials factories, and
// ConfigureCredentials, which hands the chosen kind to libnats' options; JWT-and-seed logins are
// answered by callbacks that read the Connection's options, so the seed is never copied out of it.
// Secrets are never logged.
#include <nats/nats.h>

#include <cstring>
#include <string>

#include "internal.hpp"

namespace chat::natsx {

namespace {

natsStatus JwtCallback(char** user_jwt, char** custom_err, void* closure) {
  auto* conn = static_cast<Connection*>(closure);
  const std::string& jwt = conn->options().credentials.jwt;
  if (jwt.empty()) {
    *custom_err = strdup("no user JWT configured");
    return NATS_ERR;
  }
  *user_jwt = strdup(jwt.c_str());
  return *user_jwt == nullptr ? NATS_NO_MEMORY : NATS_OK;
}

natsStatus SignatureCallback(char** custom_err, unsigned char** signature, int* signature_length,
                             const char* nonce, void* closure) {
  auto* conn = static_cast<Connection*>(closure);
  natsStatus s =
      nats_Sign(conn->options().credentials.seed.c_str(), nonce, signature, signature_length);
  if (s != NATS_OK) *custom_err = strdup("could not sign the server nonce with the user seed");
  return s;
}

}  // namespace

Credentials Credentials::FromCredsFile(std::string path) {
  Credentials c;
  c.kind = Kind::kCredsFile;
  c.creds_file = std::move(path);
  return c;
}
Credentials Credentials::FromJwtAndSeed(std::string jwt, std::string seed) {
  Credentials c;
  c.kind = Kind::kJwtAndSeed;
  c.jwt = std::move(jwt);
  c.seed = std::move(seed);
  return c;
}
Credentials Credentials::FromToken(std::string token) {
  Credentials c;
  c.kind = Kind::kToken;
  c.token = std::move(token);
  return c;
}
Credentials Credentials::FromUserPassword(std::string user, std::string password) {
  Credentials c;
  c.kind = Kind::kUserPassword;
  c.user = std::move(user);
  c.password = std::move(password);
  return c;
}

namespace internal {

core::Status ConfigureCredentials(natsOptions* opts, Connection& conn) {
  const Credentials& c = conn.options().credentials;
  natsStatus s = NATS_OK;
  switch (c.kind) {
    case Credentials::Kind::kNone: break;
    case Credentials::Kind::kCredsFile:
      s = natsOptions_SetUserCredentialsFromFiles(opts, c.creds_file.c_str(), nullptr);
      if (s != NATS_OK) return core::Unauthenticated("NATS credentials file is not usable");
      break;
    case Credentials::Kind::kJwtAndSeed:
      if (c.jwt.empty() || c.seed.empty()) {
        return core::InvalidArgument("NATS JWT and seed are both required");
      }
      s = natsOptions_SetUserCredentialsCallbacks(opts, JwtCallback, &conn, SignatureCallback,
                                                  &conn);
      break;
    case Credentials::Kind::kToken: s = natsOptions_SetToken(opts, c.token.c_str()); break;
    case Credentials::Kind::kUserPassword:
      s = natsOptions_SetUserInfo(opts, c.user.c_str(), c.password.c_str());
      break;
  }
  return ToStatus(s, "configure NATS credentials");
}

}  // namespace internal
}  // namespace chat::natsx
