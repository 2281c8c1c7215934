// The local operator: everything nats-server 2.9 needs to run in operator (decentralized JWT)
// mode, generated into one directory and reused on later runs. `natskeys init` and the
// integration tests call InitOperatorDir; auth-service later reads the CHAT signing seed it
// writes. Seeds and .creds files are written with mode 0600, the keys/ and creds/ dirs 0700.
//
// Layout under `dir`:
//   keys/{operator,SYS,CHAT,CHAT-signing}.seed   secrets, 0600
//   operator.jwt, accounts/{SYS,CHAT}.jwt, accounts.json (public keys and file paths)
//   resolver.conf   nats-server include: operator, system_account, resolver MEMORY, preload
//   creds/<name>.creds   one per service account plus dev-admin (publish/subscribe ">")
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/nkeys/jwt.hpp"

namespace chat::nkeys {

// The service accounts of docs/system.md §2.5 plus auth-service, which holds the account
// signing key (decisions.md §4) and still needs its own NATS connection.
const std::vector<std::string>& DefaultServiceAccounts();

inline constexpr std::string_view kDevAdminUser = "dev-admin";

// The CHAT account's quotas (issue 11 item 6), enforced by nats-server for everything in the
// account: at most 10,000 connections; JetStream 128 MiB memory and 1.5 GiB disk in all, 32
// streams, 1,024 consumers; one memory stream at most 64 MiB and one file stream at most 1 GiB;
// and every stream must declare max_bytes, so no bucket can grow into the shared pool unbounded
// (the buckets' own bounds are in contracts::jetstream::kBuckets). `natskeys init` overrides them
// from CHAT_ACCOUNT_* (tools/natskeys). nats-server enables JetStream for the account only when
// these fit its own max_memory_store / max_file_store (deploy/*/nats-server.conf: 256MB and
// 2GB or more).
AccountLimits ChatAccountLimits();

struct OperatorSetupOptions {
  std::string operator_name = "nats-chat";
  std::string system_account_name = "SYS";
  std::string chat_account_name = "CHAT";
  std::vector<std::string> service_accounts = DefaultServiceAccounts();
  AccountLimits chat_limits = ChatAccountLimits();
};

struct OperatorSetup {
  std::filesystem::path dir;
  std::string operator_public_key;
  std::string system_account_public_key;
  std::string chat_account_public_key;
  std::string chat_signing_public_key;
  std::filesystem::path resolver_conf;           // include this from nats-server.conf
  std::filesystem::path chat_signing_seed_file;  // auth-service signs user JWTs with it
  // True when this call generated new keys (first run, or a key file was missing).
  bool generated_keys = false;

  std::filesystem::path CredsFile(std::string_view user) const {
    return dir / "creds" / (std::string(user) + ".creds");
  }
};

// Idempotent: existing seeds are loaded and kept; derived files (JWTs, resolver.conf, creds)
// are rewritten only when missing, when a key was generated in this call, or when the CHAT
// account JWT on disk carries other limits than options.chat_limits (and creds also when they
// still carry the response permission that older versions issued). nats-server reads
// resolver.conf at start: restart it (or reload) to apply new account limits.
core::Result<OperatorSetup> InitOperatorDir(const std::filesystem::path& dir,
                                            const core::Clock& clock,
                                            const OperatorSetupOptions& options = {});

// Service-account permissions (system.md §2.5): publish and subscribe ">". No response
// permission: ">" already covers replies, and nats-server pays per delivered message for one.
// Signed by the CHAT signing key, no expiry (local stack only).
UserClaims ServiceAccountClaims(std::string_view name, std::string_view user_public_key,
                                std::string_view chat_account_public_key);

// Writes `content` atomically (temp file + rename) with the given mode.
core::Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content,
                             std::filesystem::perms mode);
core::Result<std::string> ReadTextFile(const std::filesystem::path& path);

}  // namespace chat::nkeys
