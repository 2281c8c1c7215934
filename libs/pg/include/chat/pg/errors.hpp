// The one place where database failures become core::Status codes and telemetry error types
// (docs/style.md rule 4, docs/observability.md §4.2 set D and §6.2).
//
// | failure                                             | ErrorCode            | span error.type |
// metric error_type |
// |-----------------------------------------------------|----------------------|--------------------|-------------------|
// | connection lost, class 08, 57P01/57P02/57P03        | unavailable          | connection_error
// | connection_error  | | 57014 query_canceled (statement_timeout)            | deadline_exceeded
// | timeout            | timeout           | | 23505 unique_violation | already_exists       |
// 23505              | 23                | | 23503 foreign_key, 23001 restrict, 23P01 exclusion  |
// failed_precondition  | SQLSTATE           | 23                | | 23502 not_null, 23514 check,
// other 23xxx, 22xxx     | invalid_argument     | SQLSTATE           | 23 / 22           | | 40001
// serialization, 40P01 deadlock (class 40)      | unavailable          | SQLSTATE           | 40 |
// | 53xxx insufficient resources                        | resource_exhausted   | SQLSTATE | 53 | |
// 25xxx invalid transaction state                     | failed_precondition  | SQLSTATE           |
// 25                | | anything else (42xxx syntax, XX000, ...)            | internal | SQLSTATE
// | class             |
//
// Why: a referenced row that is missing (23503) is a state problem the caller can fix and retry,
// while NOT NULL/CHECK violations mean the request itself is bad. Serialization failures and
// deadlocks are transient: retrying the whole transaction succeeds. Status messages name the
// operation and the SQLSTATE, never SQL values.
#pragma once

#include <string>
#include <string_view>

#include "chat/core/status.hpp"

namespace chat::pg {

enum class FailureKind {
  kServer,      // the server rejected the statement with a SQLSTATE
  kTimeout,     // 57014: statement_timeout or cancel
  kConnection,  // the connection is unusable (lost, refused, shut down)
};

struct DbError {
  FailureKind kind = FailureKind::kServer;
  std::string sqlstate;    // may be empty (client-side connection failure)
  std::string constraint;  // violated constraint name when the server reported one
};

// Classifies a SQLSTATE (and whether libpq reports the connection as bad).
DbError ClassifyError(std::string_view sqlstate, bool connection_bad);
// The ErrorCode for a classified failure (table above).
core::ErrorCode ErrorCodeFor(const DbError& error);
// Span attribute error.type: the SQLSTATE, "timeout" or "connection_error".
std::string SpanErrorType(const DbError& error);
// Metric label error_type: the SQLSTATE class ("23"), "timeout" or "connection_error".
std::string MetricErrorType(const DbError& error);
// A short human description ("unique constraint violated"), no values.
std::string_view DescribeError(const DbError& error);
// Status for a failed operation named `what` (the span name, e.g. "INSERT messages"):
// "INSERT messages failed: unique constraint violated (SQLSTATE 23505, constraint messages_idem)".
core::Status ToStatus(const DbError& error, std::string_view what);

}  // namespace chat::pg
