#include "chat/nkeys/local_operator.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "chat/core/status.hpp"

namespace chat::nkeys {
namespace fs = std::filesystem;
namespace {

constexpr fs::perms kSecret = fs::perms::owner_read | fs::perms::owner_write;
constexpr fs::perms kPublic = kSecret | fs::perms::group_read | fs::perms::others_read;
constexpr fs::perms kPrivateDir = fs::perms::owner_all;

core::Status EnsureDir(const fs::path& path, std::optional<fs::perms> mode) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return core::Internal("cannot create " + path.string() + ": " + ec.message());
  if (mode) {
    fs::permissions(path, *mode, fs::perm_options::replace, ec);
    if (ec) return core::Internal("cannot chmod " + path.string() + ": " + ec.message());
  }
  return core::Status::Ok();
}

// Loads the seed at `path`, or generates and stores a new one. `generated` is set when new.
core::Result<KeyPair> LoadOrCreateKey(const fs::path& path, KeyType type, bool& generated) {
  if (fs::exists(path)) {
    CHAT_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    auto kp = KeyPair::FromSeed(text);
    if (!kp.ok()) {
      return core::FailedPrecondition(path.string() +
                                      " does not hold a valid seed: " + kp.status().message());
    }
    if (kp->type() != type) {
      return core::FailedPrecondition(path.string() + " holds a seed of the wrong type");
    }
    return kp;
  }
  CHAT_ASSIGN_OR_RETURN(KeyPair kp, KeyPair::Generate(type));
  CHAT_RETURN_IF_ERROR(WriteFileAtomic(path, kp.Seed() + "\n", kSecret));
  generated = true;
  return kp;
}

core::Status WriteIfNeeded(const fs::path& path, bool force, std::string_view content,
                           fs::perms mode) {
  if (!force && fs::exists(path)) return core::Status::Ok();
  return WriteFileAtomic(path, content, mode);
}

// Credentials issued before service accounts lost their response permission (see
// ServiceAccountClaims) are re-issued: an existing var/ would otherwise keep the slow path.
bool StaleServiceCreds(const fs::path& creds_path) {
  auto text = ReadTextFile(creds_path);
  if (!text.ok()) return true;
  auto creds = ParseUserCreds(*text);
  if (!creds.ok()) return true;
  auto decoded = DecodeAndVerifyJwt(creds->jwt);
  if (!decoded.ok()) return true;
  const nlohmann::json& nats = decoded->claims.value("nats", nlohmann::json::object());
  return nats.contains("resp");
}

// True when the account JWT at `path` does not carry exactly `want_jwt`'s limits.
bool AccountLimitsDiffer(const fs::path& path, const std::string& want_jwt) {
  auto text = ReadTextFile(path);
  if (!text.ok()) return true;
  std::string have = *text;
  while (!have.empty() && (have.back() == '\n' || have.back() == '\r')) have.pop_back();
  auto have_claims = DecodeAndVerifyJwt(have);
  auto want_claims = DecodeAndVerifyJwt(want_jwt);
  if (!have_claims.ok() || !want_claims.ok()) return true;
  auto limits = [](const nlohmann::json& claims) {
    auto nats = claims.find("nats");
    if (nats == claims.end() || !nats->is_object()) return nlohmann::json();
    auto l = nats->find("limits");
    return l == nats->end() ? nlohmann::json() : *l;
  };
  return limits(have_claims->claims) != limits(want_claims->claims);
}

}  // namespace

AccountLimits ChatAccountLimits() {
  AccountLimits l;
  l.conn = 10'000;
  l.jetstream.mem_storage = int64_t{128} << 20;
  l.jetstream.disk_storage = int64_t{3} << 29;  // 1.5 GiB
  l.jetstream.streams = 32;
  l.jetstream.consumer = 1024;
  l.jetstream.mem_max_stream_bytes = int64_t{64} << 20;
  l.jetstream.disk_max_stream_bytes = int64_t{1} << 30;
  l.jetstream.max_bytes_required = true;
  return l;
}

const std::vector<std::string>& DefaultServiceAccounts() {
  static const std::vector<std::string> kAccounts = {"auth-service",         "persist-worker",
                                                     "history-service",      "fanout-service",
                                                     "presence-service",     "read-receipt-service",
                                                     "user-search-service",  "room-service",
                                                     "translation-service",  "sticker-service",
                                                     "app-registry-service", "poll-service",
                                                     "whiteboard-service",   "kb-service"};
  return kAccounts;
}

UserClaims ServiceAccountClaims(std::string_view name, std::string_view user_public_key,
                                std::string_view chat_account_public_key) {
  UserClaims c;
  c.subject = std::string(user_public_key);
  c.name = std::string(name);
  c.pub.allow = {">"};
  c.sub.allow = {">"};
  // No response permission (system.md §2.3 gives the reference's services "responses unlimited
  // for 5 minutes"): publish ">" already allows every reply, so it grants nothing, and it is not
  // free. nats-server 2.9 records the reply subject of every message delivered to a client that
  // has one and, past 4,096 entries, rescans that whole map on each delivery; with a 5 minute
  // TTL a persist-worker receiving JetStream messages (each with its own ack subject) at
  // 4,000/s made nats-server spend over half its CPU in that scan (pprof: pruneReplyPerms).
  c.issuer_account = std::string(chat_account_public_key);
  return c;
}

core::Status WriteFileAtomic(const fs::path& path, std::string_view content, fs::perms mode) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return core::Internal("cannot write " + tmp.string() + ": " + core::ErrnoMessage(errno));
  }
  // fchmod after open: the umask cannot widen or narrow what we ask for.
  bool ok = ::fchmod(fd, static_cast<mode_t>(mode)) == 0;
  size_t done = 0;
  while (ok && done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = core::ErrnoMessage(errno);
    ::unlink(tmp.c_str());
    return core::Internal("cannot write " + path.string() + ": " + err);
  }
  return core::Status::Ok();
}

core::Result<std::string> ReadTextFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::NotFound("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

core::Result<OperatorSetup> InitOperatorDir(const fs::path& dir, const core::Clock& clock,
                                            const OperatorSetupOptions& options) {
  OperatorSetup out;
  out.dir = dir;
  CHAT_RETURN_IF_ERROR(EnsureDir(dir, std::nullopt));
  CHAT_RETURN_IF_ERROR(EnsureDir(dir / "keys", kPrivateDir));
  CHAT_RETURN_IF_ERROR(EnsureDir(dir / "creds", kPrivateDir));
  CHAT_RETURN_IF_ERROR(EnsureDir(dir / "accounts", std::nullopt));

  bool gen = false;
  CHAT_ASSIGN_OR_RETURN(KeyPair op,
                        LoadOrCreateKey(dir / "keys" / "operator.seed", KeyType::kOperator, gen));
  CHAT_ASSIGN_OR_RETURN(KeyPair sys,
                        LoadOrCreateKey(dir / "keys" / (options.system_account_name + ".seed"),
                                        KeyType::kAccount, gen));
  CHAT_ASSIGN_OR_RETURN(KeyPair chat,
                        LoadOrCreateKey(dir / "keys" / (options.chat_account_name + ".seed"),
                                        KeyType::kAccount, gen));
  out.chat_signing_seed_file = dir / "keys" / (options.chat_account_name + "-signing.seed");
  CHAT_ASSIGN_OR_RETURN(KeyPair chat_signing,
                        LoadOrCreateKey(out.chat_signing_seed_file, KeyType::kAccount, gen));
  out.generated_keys = gen;
  out.operator_public_key = op.public_key();
  out.system_account_public_key = sys.public_key();
  out.chat_account_public_key = chat.public_key();
  out.chat_signing_public_key = chat_signing.public_key();

  CHAT_ASSIGN_OR_RETURN(
      std::string op_jwt,
      EncodeOperatorJwt({op.public_key(), options.operator_name, {}, sys.public_key(), 0}, op,
                        clock));
  AccountClaims sys_claims;
  sys_claims.subject = sys.public_key();
  sys_claims.name = options.system_account_name;
  CHAT_ASSIGN_OR_RETURN(std::string sys_jwt, EncodeAccountJwt(sys_claims, op, clock));
  AccountClaims chat_claims;
  chat_claims.subject = chat.public_key();
  chat_claims.name = options.chat_account_name;
  chat_claims.limits = options.chat_limits;
  chat_claims.signing_keys = {chat_signing.public_key()};
  CHAT_ASSIGN_OR_RETURN(std::string chat_jwt, EncodeAccountJwt(chat_claims, op, clock));

  fs::path op_jwt_path = dir / "operator.jwt";
  fs::path sys_jwt_path = dir / "accounts" / (options.system_account_name + ".jwt");
  fs::path chat_jwt_path = dir / "accounts" / (options.chat_account_name + ".jwt");
  out.resolver_conf = dir / "resolver.conf";
  // Derived files must all come from the same keys: if any is missing, rewrite them together.
  bool force = gen || !fs::exists(op_jwt_path) || !fs::exists(sys_jwt_path) ||
               !fs::exists(chat_jwt_path) || !fs::exists(out.resolver_conf) ||
               AccountLimitsDiffer(chat_jwt_path, chat_jwt);
  CHAT_RETURN_IF_ERROR(WriteIfNeeded(op_jwt_path, force, op_jwt + "\n", kPublic));
  CHAT_RETURN_IF_ERROR(WriteIfNeeded(sys_jwt_path, force, sys_jwt + "\n", kPublic));
  CHAT_RETURN_IF_ERROR(WriteIfNeeded(chat_jwt_path, force, chat_jwt + "\n", kPublic));

  if (force) {
    // The JWTs are inlined so the config works whatever directory nats-server starts in.
    std::string conf;
    conf += "# Generated by natskeys init; do not edit. Operator-mode trust for nats-server.\n";
    conf += "operator: \"" + op_jwt + "\"\n";
    conf += "system_account: \"" + sys.public_key() + "\"\n";
    conf += "resolver: MEMORY\n";
    conf += "resolver_preload: {\n";
    conf += "  " + sys.public_key() + ": \"" + sys_jwt + "\"\n";
    conf += "  " + chat.public_key() + ": \"" + chat_jwt + "\"\n";
    conf += "}\n";
    CHAT_RETURN_IF_ERROR(WriteFileAtomic(out.resolver_conf, conf, kPublic));

    nlohmann::ordered_json accounts = {
        {"operator",
         {{"name", options.operator_name},
          {"public_key", op.public_key()},
          {"jwt_file", op_jwt_path.string()}}},
        {"accounts",
         {{options.system_account_name,
           {{"public_key", sys.public_key()}, {"jwt_file", sys_jwt_path.string()}}},
          {options.chat_account_name,
           {{"public_key", chat.public_key()},
            {"signing_key", chat_signing.public_key()},
            {"signing_seed_file", out.chat_signing_seed_file.string()},
            {"jwt_file", chat_jwt_path.string()}}}}},
        {"system_account", sys.public_key()},
    };
    CHAT_RETURN_IF_ERROR(WriteFileAtomic(dir / "accounts.json", accounts.dump(2) + "\n", kPublic));
  }

  std::vector<std::string> users = options.service_accounts;
  users.emplace_back(kDevAdminUser);
  for (const std::string& name : users) {
    fs::path creds_path = out.CredsFile(name);
    if (!force && fs::exists(creds_path) && !StaleServiceCreds(creds_path)) continue;
    CHAT_ASSIGN_OR_RETURN(KeyPair user, KeyPair::Generate(KeyType::kUser));
    UserClaims claims = ServiceAccountClaims(name, user.public_key(), chat.public_key());
    CHAT_ASSIGN_OR_RETURN(std::string user_jwt, EncodeUserJwt(claims, chat_signing, clock));
    CHAT_RETURN_IF_ERROR(
        WriteFileAtomic(creds_path, FormatUserCreds(user_jwt, user.Seed()), kSecret));
  }
  return out;
}

}  // namespace chat::nkeys
