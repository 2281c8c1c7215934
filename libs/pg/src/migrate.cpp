// Migration runner: ordered, checksummed, each file in its own transaction, serialised across
// processes with a session-level advisory lock.
#include "chat/pg/migrate.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

namespace chat::pg {
namespace {

// "chatmig" in ASCII: an arbitrary but fixed advisory-lock key shared by every runner.
constexpr int64_t kAdvisoryLockKey = 0x636861746d6967;

constexpr Statement kLock{"chat_migrate_lock", "SELECT pg_advisory_lock($1)", "SELECT", ""};
constexpr Statement kUnlock{"chat_migrate_unlock", "SELECT pg_advisory_unlock($1)", "SELECT", ""};
constexpr Statement kCreateTable{
    "",
    "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, name text NOT "
    "NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
    "CREATE", "schema_migrations"};
constexpr Statement kSelectApplied{"chat_migrate_applied",
                                   "SELECT version, name, checksum FROM schema_migrations",
                                   "SELECT", "schema_migrations"};
constexpr Statement kRecord{
    "chat_migrate_record",
    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", "INSERT",
    "schema_migrations"};

// Releases the advisory lock on every return path.
class AdvisoryLock {
 public:
  AdvisoryLock(Lease& lease, const telemetry::SpanContext& parent)
      : lease_(lease), parent_(parent) {}
  core::Status Lock() {
    auto r = lease_.Execute(parent_, kLock, {kAdvisoryLockKey});
    locked_ = r.ok();
    return r.status();
  }
  ~AdvisoryLock() {
    // A lost connection releases the lock by itself.
    if (locked_) (void)lease_.Execute(parent_, kUnlock, {kAdvisoryLockKey});
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  Lease& lease_;
  const telemetry::SpanContext& parent_;
  bool locked_ = false;
};

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CHAT_CHECK(EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<size_t>(len) * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

core::Result<std::vector<MigrationFile>> LoadMigrations(const std::filesystem::path& directory) {
  std::error_code ec;
  if (!std::filesystem::is_directory(directory, ec)) {
    return core::NotFound("migration directory does not exist: " + directory.string());
  }
  std::vector<MigrationFile> files;
  std::map<int64_t, std::string> seen;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    const std::string name = entry.path().filename().string();
    // NNNN_description.sql: at least one digit, an underscore, a description.
    size_t digits = 0;
    while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits])) != 0) {
      ++digits;
    }
    if (digits == 0 || digits > 18 || digits >= name.size() || name[digits] != '_' ||
        name.size() <= digits + 1 + 4) {
      return core::InvalidArgument("migration file name must look like 0001_name.sql: " + name);
    }
    MigrationFile f;
    f.version = std::stoll(name.substr(0, digits));
    f.name = name;
    if (auto [it, inserted] = seen.emplace(f.version, name); !inserted) {
      return core::InvalidArgument("duplicate migration version " + std::to_string(f.version) +
                                   ": " + it->second + " and " + name);
    }
    std::ifstream in(entry.path(), std::ios::binary);
    if (!in) return core::Internal("cannot read migration file " + name);
    std::ostringstream content;
    content << in.rdbuf();
    f.sql = content.str();
    f.checksum = Sha256Hex(f.sql);
    files.push_back(std::move(f));
  }
  if (ec) return core::Internal("cannot list migration directory " + directory.string());
  std::sort(files.begin(), files.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return a.version < b.version; });
  return files;
}

core::Result<int> Migrate(Pool& pool, const std::filesystem::path& directory,
                          const telemetry::SpanContext& parent) {
  CHAT_ASSIGN_OR_RETURN(std::vector<MigrationFile> files, LoadMigrations(directory));
  CHAT_ASSIGN_OR_RETURN(Lease lease, pool.Acquire());
  AdvisoryLock lock(lease, parent);
  CHAT_RETURN_IF_ERROR(lock.Lock());
  CHAT_RETURN_IF_ERROR(lease.Execute(parent, kCreateTable).status());
  CHAT_ASSIGN_OR_RETURN(Rows applied_rows, lease.Execute(parent, kSelectApplied));
  std::map<int64_t, std::string> applied;  // version → checksum
  for (int r = 0; r < applied_rows.RowCount(); ++r) {
    applied.emplace(applied_rows.Int64(r, 0), std::string(applied_rows.Text(r, 2)));
  }
  // Verify every applied file before applying anything: a changed history is an error even
  // when nothing is pending.
  for (const MigrationFile& f : files) {
    auto it = applied.find(f.version);
    if (it != applied.end() && it->second != f.checksum) {
      return core::FailedPrecondition("migration " + f.name +
                                      " was changed after it was applied (checksum mismatch)");
    }
  }
  int count = 0;
  for (const MigrationFile& f : files) {
    if (applied.count(f.version) != 0) continue;
    const std::string identity_text = "/* migration " + f.name + " */";
    const Statement identity{"", identity_text, "MIGRATE", ""};
    CHAT_ASSIGN_OR_RETURN(Transaction tx, lease.Begin(parent));
    if (core::Status st = lease.ExecuteScript(parent, identity, f.sql); !st.ok()) {
      return core::Status(st.code(), "migration " + f.name + ": " + st.message());
    }
    CHAT_RETURN_IF_ERROR(tx.Execute(kRecord, {f.version, f.name, f.checksum}).status());
    CHAT_RETURN_IF_ERROR(tx.Commit());
    ++count;
  }
  return count;
}

core::Result<int> Migrate(const std::string& dsn, const std::filesystem::path& directory,
                          const telemetry::Telemetry& telemetry,
                          const telemetry::SpanContext& parent) {
  PoolOptions options;
  options.dsn = dsn;
  options.size = 1;
  // DDL on a busy database may wait for locks; do not let the default timeout cut it short.
  options.statement_timeout = std::chrono::milliseconds(0);
  CHAT_ASSIGN_OR_RETURN(std::unique_ptr<Pool> pool, Pool::Create(std::move(options), telemetry));
  return Migrate(*pool, directory, parent);
}

}  // namespace chat::pg
