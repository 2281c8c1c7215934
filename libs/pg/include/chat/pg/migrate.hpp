// Forward-only schema migrations from db/migrations (docs: db/README.md).
//
// Files are named NNNN_description.sql and applied in version order, each once, in its own
// transaction, and recorded in schema_migrations(version, name, checksum) with the SHA-256 of the
// file. A file whose content changed after it was applied is an error (failed_precondition);
// concurrent runners are serialised with pg_advisory_lock, so running twice or in parallel is safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace_context.hpp"

namespace chat::pg {

struct MigrationFile {
  int64_t version = 0;
  std::string name;      // file name, e.g. "0001_schema.sql"
  std::string checksum;  // lowercase hex SHA-256 of the content
  std::string sql;
};

// Reads and orders the migration files of `directory` (invalid_argument for a *.sql file with a
// bad name or a duplicate version; not_found when the directory does not exist).
core::Result<std::vector<MigrationFile>> LoadMigrations(const std::filesystem::path& directory);

// Applies pending migrations; returns how many were applied (0 when up to date).
core::Result<int> Migrate(Pool& pool, const std::filesystem::path& directory,
                          const telemetry::SpanContext& parent = {});
// Same, over a temporary single-connection pool on `dsn`.
core::Result<int> Migrate(const std::string& dsn, const std::filesystem::path& directory,
                          const telemetry::Telemetry& telemetry,
                          const telemetry::SpanContext& parent = {});

// Lowercase hex SHA-256 (the schema_migrations checksum).
std::string Sha256Hex(std::string_view data);

}  // namespace chat::pg
