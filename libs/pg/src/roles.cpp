#include "chat/pg/roles.hpp"

#include <libpq-fe.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "chat/pg/errors.hpp"

namespace chat::pg {
namespace {

using ConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string FirstLine(const char* message) {
  std::string s = message == nullptr ? "" : message;
  if (const size_t nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

// Runs one statement; `what` names it in the status (never the SQL: it may hold a verifier).
core::Result<ResultPtr> Exec(PGconn* conn, const std::string& sql,
                             const std::vector<std::string>& params, std::string_view what) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  ResultPtr res(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0),
                &PQclear);
  const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return res;
  const char* sqlstate = res ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
  const DbError error =
      ClassifyError(sqlstate == nullptr ? "" : sqlstate, PQstatus(conn) == CONNECTION_BAD);
  return ToStatus(error, what);
}

// Exec for a statement whose result is not needed.
core::Status Run(PGconn* conn, const std::string& sql, std::string_view what) {
  return Exec(conn, sql, {}, what).status();
}

}  // namespace

core::Result<RolePasswords> LoadRolePasswords(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return core::NotFound("role password directory " + dir.string() + " does not exist");
  }
  RolePasswords out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || entry.is_directory(ec)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    if (!in) return core::Internal("cannot read role password file " + entry.path().string());
    std::ostringstream content;
    content << in.rdbuf();
    std::string password = content.str();
    if (!password.empty() && password.back() == '\n') password.pop_back();
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) {
      return core::InvalidArgument("role password file " + entry.path().string() + " is empty");
    }
    out.emplace(name, std::move(password));
  }
  if (ec) return core::Internal("cannot list " + dir.string() + ": " + ec.message());
  return out;
}

core::Status SetRolePasswords(const std::string& dsn, const RolePasswords& passwords) {
  if (passwords.empty()) return core::Status::Ok();
  for (const auto& [role, password] : passwords) {
    if (role.empty() || password.empty()) {
      return core::InvalidArgument("a role name and its password must not be empty");
    }
  }
  ConnPtr conn(PQconnectdb(dsn.c_str()), &PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    return core::Unavailable("connecting to set role passwords: " +
                             FirstLine(conn ? PQerrorMessage(conn.get()) : "out of memory"));
  }
  CHAT_RETURN_IF_ERROR(Run(conn.get(), "BEGIN", "BEGIN"));
  // Check every role first, so a typo in one file changes nothing.
  for (const auto& [role, password] : passwords) {
    CHAT_ASSIGN_OR_RETURN(ResultPtr r,
                          Exec(conn.get(),
                               "SELECT rolcanlogin, rolsuper, rolname = current_user FROM pg_roles "
                               "WHERE rolname = $1",
                               {role}, "SELECT pg_roles"));
    if (PQntuples(r.get()) != 1) {
      return core::FailedPrecondition(
          "database role \"" + role +
          "\" does not exist (db/migrations creates the service roles)");
    }
    const auto flag = [&](int col) { return std::string_view(PQgetvalue(r.get(), 0, col)) == "t"; };
    if (!flag(0)) return core::FailedPrecondition("database role \"" + role + "\" cannot log in");
    if (flag(1) || flag(2)) {
      return core::FailedPrecondition("refusing to set the password of \"" + role +
                                      "\": a superuser or the connected role, not a service role");
    }
  }
  for (const auto& [role, password] : passwords) {
    std::unique_ptr<char, decltype(&PQfreemem)> verifier(
        PQencryptPasswordConn(conn.get(), password.c_str(), role.c_str(), "scram-sha-256"),
        &PQfreemem);
    if (!verifier) {
      return core::Internal("computing the SCRAM verifier for \"" + role +
                            "\": " + FirstLine(PQerrorMessage(conn.get())));
    }
    std::unique_ptr<char, decltype(&PQfreemem)> ident(
        PQescapeIdentifier(conn.get(), role.c_str(), role.size()), &PQfreemem);
    std::unique_ptr<char, decltype(&PQfreemem)> literal(
        PQescapeLiteral(conn.get(), verifier.get(), std::string_view(verifier.get()).size()),
        &PQfreemem);
    if (!ident || !literal) return core::Internal("escaping the role name failed");
    // ALTER ROLE takes no bind parameters: both parts are escaped by libpq above.
    CHAT_RETURN_IF_ERROR(
        Run(conn.get(), std::string("ALTER ROLE ") + ident.get() + " PASSWORD " + literal.get(),
            "ALTER ROLE"));
  }
  return Run(conn.get(), "COMMIT", "COMMIT");
}

}  // namespace chat::pg
