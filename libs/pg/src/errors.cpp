// SQLSTATE → ErrorCode / error.type mapping (the table is in chat/pg/errors.hpp).
#include "chat/pg/errors.hpp"

#include <string>

namespace chat::pg {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

DbError ClassifyError(std::string_view sqlstate, bool connection_bad) {
  DbError e;
  e.sqlstate = std::string(sqlstate);
  // A broken connection wins over whatever SQLSTATE the last message carried (a shutting-down
  // server sends 57P01 before closing the socket).
  if (connection_bad || StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03") {
    e.kind = FailureKind::kConnection;
  } else if (sqlstate == "57014") {
    e.kind = FailureKind::kTimeout;
  } else {
    e.kind = FailureKind::kServer;
  }
  return e;
}

core::ErrorCode ErrorCodeFor(const DbError& error) {
  using core::ErrorCode;
  switch (error.kind) {
    case FailureKind::kConnection: return ErrorCode::kUnavailable;
    case FailureKind::kTimeout: return ErrorCode::kDeadlineExceeded;
    case FailureKind::kServer: break;
  }
  const std::string_view s = error.sqlstate;
  if (s == "23505") return ErrorCode::kAlreadyExists;
  if (s == "23503" || s == "23001" || s == "23P01") return ErrorCode::kFailedPrecondition;
  if (StartsWith(s, "23") || StartsWith(s, "22")) return ErrorCode::kInvalidArgument;
  if (StartsWith(s, "40")) return ErrorCode::kUnavailable;
  if (StartsWith(s, "53")) return ErrorCode::kResourceExhausted;
  if (StartsWith(s, "25")) return ErrorCode::kFailedPrecondition;
  return ErrorCode::kInternal;
}

std::string SpanErrorType(const DbError& error) {
  switch (error.kind) {
    case FailureKind::kConnection: return "connection_error";
    case FailureKind::kTimeout: return "timeout";
    case FailureKind::kServer: break;
  }
  return error.sqlstate.empty() ? std::string("unknown") : error.sqlstate;
}

std::string MetricErrorType(const DbError& error) {
  switch (error.kind) {
    case FailureKind::kConnection: return "connection_error";
    case FailureKind::kTimeout: return "timeout";
    case FailureKind::kServer: break;
  }
  if (error.sqlstate.size() < 2) return "unknown";
  return error.sqlstate.substr(0, 2);
}

std::string_view DescribeError(const DbError& error) {
  switch (error.kind) {
    case FailureKind::kConnection: return "database connection lost or refused";
    case FailureKind::kTimeout: return "statement timed out or was canceled";
    case FailureKind::kServer: break;
  }
  const std::string_view s = error.sqlstate;
  if (s == "23505") return "unique constraint violated";
  if (s == "23503") return "foreign key constraint violated";
  if (s == "23502") return "not-null constraint violated";
  if (s == "23514") return "check constraint violated";
  if (s == "23P01") return "exclusion constraint violated";
  if (StartsWith(s, "23")) return "integrity constraint violated";
  if (StartsWith(s, "22")) return "invalid data";
  if (s == "40001") return "serialization failure";
  if (s == "40P01") return "deadlock detected";
  if (StartsWith(s, "40")) return "transaction rolled back";
  if (StartsWith(s, "53")) return "database out of resources";
  if (s == "25P02") return "transaction already aborted";
  if (StartsWith(s, "25")) return "invalid transaction state";
  if (StartsWith(s, "42")) return "invalid statement (syntax or access rule)";
  return "database error";
}

core::Status ToStatus(const DbError& error, std::string_view what) {
  std::string msg(what);
  msg += " failed: ";
  msg += DescribeError(error);
  if (!error.sqlstate.empty()) {
    msg += " (SQLSTATE ";
    msg += error.sqlstate;
    if (!error.constraint.empty()) {
      msg += ", constraint ";
      msg += error.constraint;
    }
    msg += ")";
  }
  return {ErrorCodeFor(error), std::move(msg)};
}

}  // namespace chat::pg
