// natskeys: operator-mode keys for the local nats-server.
//   natskeys init --dir var/nats
//   natskeys user --account-seed FILE|SEED --user-pub U… --name NAME
//                 [--allow-pub S,S] [--allow-sub S,S] [--deny-pub S,S] [--deny-sub S,S]
//                 [--expires SECONDS] [--issuer-account A…] [--bearer]
// Seeds are never printed by `init`; `user` prints only the JWT.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/env.hpp"
#include "chat/core/strings.hpp"
#include "chat/nkeys/local_operator.hpp"

namespace {

using chat::nkeys::KeyPair;

constexpr std::string_view kUsage =
    "usage:\n"
    "  natskeys init --dir DIR\n"
    "      create (or reuse) the operator, SYS and CHAT accounts, the CHAT signing key,\n"
    "      resolver.conf and one .creds file per service account plus dev-admin; CHAT account\n"
    "      quotas from CHAT_ACCOUNT_MAX_CONNECTIONS, CHAT_ACCOUNT_JS_MEMORY_BYTES,\n"
    "      CHAT_ACCOUNT_JS_DISK_BYTES, CHAT_ACCOUNT_JS_STREAMS, CHAT_ACCOUNT_JS_CONSUMERS,\n"
    "      CHAT_ACCOUNT_JS_MEMORY_STREAM_MAX_BYTES, CHAT_ACCOUNT_JS_DISK_STREAM_MAX_BYTES\n"
    "  natskeys user --account-seed FILE|SEED --user-pub U... --name NAME\n"
    "                [--allow-pub S1,S2] [--allow-sub S1,S2] [--deny-pub ..] [--deny-sub ..]\n"
    "                [--expires SECONDS_FROM_NOW] [--issuer-account A...] [--bearer]\n"
    "      print one user JWT signed by the account (signing) key\n";

int Fail(const std::string& message) {
  std::fprintf(stderr, "natskeys: %s\n", message.c_str());
  return 1;
}

// Parses "--key value" pairs; flags listed in `booleans` take no value.
bool ParseFlags(int argc, char** argv, int start, const std::vector<std::string>& booleans,
                std::map<std::string, std::string>& out, std::string& error) {
  for (int i = start; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) {
      error = "unexpected argument " + key;
      return false;
    }
    key = key.substr(2);
    if (std::find(booleans.begin(), booleans.end(), key) != booleans.end()) {
      out[key] = "true";
      continue;
    }
    if (i + 1 >= argc) {
      error = "--" + key + " needs a value";
      return false;
    }
    out[key] = argv[++i];
  }
  return true;
}

// The CHAT account's quotas (ChatAccountLimits), each overridable from the environment.
chat::core::Result<chat::nkeys::AccountLimits> AccountLimitsFromEnv() {
  chat::core::ProcessEnv env;
  chat::core::EnvReader reader(env);
  chat::nkeys::AccountLimits l = chat::nkeys::ChatAccountLimits();
  constexpr int64_t kMax = int64_t{1} << 50;
  l.conn = reader.Int("CHAT_ACCOUNT_MAX_CONNECTIONS", l.conn, 1, 10'000'000);
  auto& js = l.jetstream;
  js.mem_storage = reader.Int("CHAT_ACCOUNT_JS_MEMORY_BYTES", js.mem_storage, 1 << 20, kMax);
  js.disk_storage = reader.Int("CHAT_ACCOUNT_JS_DISK_BYTES", js.disk_storage, 1 << 20, kMax);
  js.streams = reader.Int("CHAT_ACCOUNT_JS_STREAMS", js.streams, 1, 100'000);
  js.consumer = reader.Int("CHAT_ACCOUNT_JS_CONSUMERS", js.consumer, 1, 1'000'000);
  js.mem_max_stream_bytes =
      reader.Int("CHAT_ACCOUNT_JS_MEMORY_STREAM_MAX_BYTES", js.mem_max_stream_bytes, 1 << 20, kMax);
  js.disk_max_stream_bytes =
      reader.Int("CHAT_ACCOUNT_JS_DISK_STREAM_MAX_BYTES", js.disk_max_stream_bytes, 1 << 20, kMax);
  if (js.mem_max_stream_bytes > js.mem_storage) {
    reader.AddProblem(
        "CHAT_ACCOUNT_JS_MEMORY_STREAM_MAX_BYTES exceeds CHAT_ACCOUNT_JS_MEMORY_BYTES");
  }
  if (js.disk_max_stream_bytes > js.disk_storage) {
    reader.AddProblem("CHAT_ACCOUNT_JS_DISK_STREAM_MAX_BYTES exceeds CHAT_ACCOUNT_JS_DISK_BYTES");
  }
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return l;
}

int Init(const std::map<std::string, std::string>& flags) {
  auto dir = flags.find("dir");
  if (dir == flags.end()) return Fail("init needs --dir");
  auto limits = AccountLimitsFromEnv();
  if (!limits.ok()) return Fail(limits.status().ToString());
  chat::nkeys::OperatorSetupOptions options;
  options.chat_limits = *limits;
  auto setup =
      chat::nkeys::InitOperatorDir(dir->second, chat::core::SystemClock::Instance(), options);
  if (!setup.ok()) return Fail(setup.status().ToString());
  std::printf("operator        %s\n", setup->operator_public_key.c_str());
  std::printf("system account  %s\n", setup->system_account_public_key.c_str());
  std::printf("chat account    %s (signing key %s)\n", setup->chat_account_public_key.c_str(),
              setup->chat_signing_public_key.c_str());
  std::printf("resolver        %s\n", setup->resolver_conf.c_str());
  std::printf("creds           %s\n", (setup->dir / "creds").c_str());
  std::printf("chat quotas     %lld connections, JetStream %lld MiB memory / %lld MiB disk\n",
              static_cast<long long>(limits->conn),
              static_cast<long long>(limits->jetstream.mem_storage >> 20),
              static_cast<long long>(limits->jetstream.disk_storage >> 20));
  std::printf("%s\n", setup->generated_keys ? "new keys generated" : "existing keys reused");
  return 0;
}

int User(const std::map<std::string, std::string>& flags) {
  for (const char* required : {"account-seed", "user-pub", "name"}) {
    if (!flags.contains(required)) return Fail(std::string("user needs --") + required);
  }
  std::string seed_arg = flags.at("account-seed");
  std::string seed = seed_arg;
  if (seed_arg.rfind("SA", 0) != 0) {
    auto text = chat::nkeys::ReadTextFile(seed_arg);
    if (!text.ok()) return Fail(text.status().ToString());
    seed = *text;
    while (!seed.empty() && (seed.back() == '\n' || seed.back() == '\r')) seed.pop_back();
  }
  auto signer = KeyPair::FromSeed(seed);
  if (!signer.ok()) return Fail("--account-seed: " + signer.status().message());
  chat::nkeys::UserClaims claims;
  claims.subject = flags.at("user-pub");
  claims.name = flags.at("name");
  auto list = [&](const char* key) {
    auto it = flags.find(key);
    return it == flags.end() ? std::vector<std::string>{} : chat::core::SplitComma(it->second);
  };
  claims.pub = {list("allow-pub"), list("deny-pub")};
  claims.sub = {list("allow-sub"), list("deny-sub")};
  claims.bearer_token = flags.contains("bearer");
  if (auto it = flags.find("issuer-account"); it != flags.end()) claims.issuer_account = it->second;
  if (auto it = flags.find("expires"); it != flags.end()) {
    char* end = nullptr;
    long long secs = std::strtoll(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0' || secs <= 0) {
      return Fail("--expires takes a positive number of seconds");
    }
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   chat::core::SystemClock::Instance().Now().time_since_epoch())
                   .count();
    // Saturate instead of overflowing: libs/nkeys clamps to the end of year 9999 anyway.
    claims.expires = secs >= chat::nkeys::kMaxJwtTimeSeconds - now ? chat::nkeys::kMaxJwtTimeSeconds
                                                                   : now + secs;
  }
  auto jwt = chat::nkeys::EncodeUserJwt(claims, *signer, chat::core::SystemClock::Instance());
  if (!jwt.ok()) return Fail(jwt.status().ToString());
  std::printf("%s\n", jwt->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage.data(), stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage.data(), stdout);
    return 0;
  }
  std::map<std::string, std::string> flags;
  std::string error;
  if (!ParseFlags(argc, argv, 2, {"bearer"}, flags, error)) return Fail(error);
  if (cmd == "init") return Init(flags);
  if (cmd == "user") return User(flags);
  std::fputs(kUsage.data(), stderr);
  return 2;
}
