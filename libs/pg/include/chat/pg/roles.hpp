// Passwords of the services' database roles (db/migrations/0003_service_roles.sql creates the
// roles and their grants; this sets how each one logs in). Used by tools/db-migrate after the
// migrations and by the test fixtures (testing/pg_fixture.hpp).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "chat/core/result.hpp"
#include "chat/core/status.hpp"

namespace chat::pg {

// role name → password.
using RolePasswords = std::map<std::string, std::string>;

// Reads one file per role from `dir`: the file name is the role, its content the password (one
// trailing newline is dropped). Entries starting with '.' (a Kubernetes secret volume keeps its
// ..data links there) and directories are skipped. not_found when `dir` does not exist;
// invalid_argument for an empty password file.
core::Result<RolePasswords> LoadRolePasswords(const std::filesystem::path& dir);

// Sets each role's password in one transaction, as a SCRAM-SHA-256 verifier computed here: the
// server never receives the plain text, and a statement log shows only the verifier. The
// connection (`dsn`) must be allowed to ALTER ROLE (the database owner / a superuser).
// Refused with failed_precondition, before anything changes: a role that does not exist, cannot
// log in, is a superuser, or is the connected user — this sets service passwords, nothing else.
// unavailable when the database cannot be reached. Never puts a password in a status message.
core::Status SetRolePasswords(const std::string& dsn, const RolePasswords& passwords);

}  // namespace chat::pg
