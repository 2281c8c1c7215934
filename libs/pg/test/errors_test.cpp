// Pure unit checks: the SQLSTATE mapping table, span names and array literals.
#include "chat/pg/errors.hpp"

#include <gtest/gtest.h>

#include "chat/pg/batch.hpp"
#include "chat/pg/statement.hpp"

namespace chat::pg {
namespace {

using core::ErrorCode;

TEST(PgErrors, MappingTable) {
  struct Case {
    const char* sqlstate;
    bool bad;
    ErrorCode code;
    const char* span_type;
    const char* metric_type;
  };
  const Case cases[] = {
      {"23505", false, ErrorCode::kAlreadyExists, "23505", "23"},
      {"23503", false, ErrorCode::kFailedPrecondition, "23503", "23"},
      {"23502", false, ErrorCode::kInvalidArgument, "23502", "23"},
      {"23514", false, ErrorCode::kInvalidArgument, "23514", "23"},
      {"22P02", false, ErrorCode::kInvalidArgument, "22P02", "22"},
      {"57014", false, ErrorCode::kDeadlineExceeded, "timeout", "timeout"},
      {"08006", false, ErrorCode::kUnavailable, "connection_error", "connection_error"},
      {"57P01", false, ErrorCode::kUnavailable, "connection_error", "connection_error"},
      {"", true, ErrorCode::kUnavailable, "connection_error", "connection_error"},
      {"42601", true, ErrorCode::kUnavailable, "connection_error", "connection_error"},
      {"40001", false, ErrorCode::kUnavailable, "40001", "40"},
      {"40P01", false, ErrorCode::kUnavailable, "40P01", "40"},
      {"53300", false, ErrorCode::kResourceExhausted, "53300", "53"},
      {"25P02", false, ErrorCode::kFailedPrecondition, "25P02", "25"},
      {"42601", false, ErrorCode::kInternal, "42601", "42"},
      {"XX000", false, ErrorCode::kInternal, "XX000", "XX"},
  };
  for (const Case& c : cases) {
    DbError e = ClassifyError(c.sqlstate, c.bad);
    EXPECT_EQ(ErrorCodeFor(e), c.code) << c.sqlstate;
    EXPECT_EQ(SpanErrorType(e), c.span_type) << c.sqlstate;
    EXPECT_EQ(MetricErrorType(e), c.metric_type) << c.sqlstate;
  }
}

TEST(PgErrors, StatusMessageNamesOperationAndSqlstateOnly) {
  DbError e = ClassifyError("23505", false);
  e.constraint = "messages_room_timestamp_username_key";
  core::Status s = ToStatus(e, "INSERT messages");
  EXPECT_EQ(s.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(s.message(),
            "INSERT messages failed: unique constraint violated (SQLSTATE 23505, constraint "
            "messages_room_timestamp_username_key)");
}

TEST(PgStatement, SpanNames) {
  EXPECT_EQ(SpanName(Statement{"n", "INSERT ...", "INSERT", "messages"}), "INSERT messages");
  EXPECT_EQ(SpanName(Statement{"", "COMMIT", "COMMIT", ""}), "COMMIT");
}

TEST(PgStatement, ParamsFormatAsText) {
  EXPECT_EQ(Param(int64_t{-42}).text(), "-42");
  EXPECT_EQ(Param(true).text(), "true");
  EXPECT_EQ(Param(false).text(), "false");
  EXPECT_EQ(Param(0.5).text(), "0.5");
  EXPECT_TRUE(Param(std::nullopt).is_null());
  EXPECT_TRUE(Param(std::optional<int64_t>()).is_null());
  EXPECT_EQ(Param(std::optional<std::string>("x")).text(), "x");
}

TEST(PgBatch, ArrayLiteralEscapesAndNulls) {
  EXPECT_EQ(ArrayLiteral({Param("a"), Param(std::nullopt), Param("q\"b\\c"), Param(""),
                          Param("NULL"), Param("{x,y}")}),
            "{\"a\",NULL,\"q\\\"b\\\\c\",\"\",\"NULL\",\"{x,y}\"}");
  EXPECT_EQ(ArrayLiteral({}), "{}");
}

TEST(PgBatch, GeneratedSqlIsParameterised) {
  BatchInsert insert("n", "messages", {{"room", "text"}, {"timestamp", "bigint"}},
                     "(room, \"timestamp\") DO NOTHING");
  EXPECT_EQ(insert.statement().sql,
            "INSERT INTO messages (\"room\", \"timestamp\") SELECT * FROM unnest($1::text[], "
            "$2::bigint[]) ON CONFLICT (room, \"timestamp\") DO NOTHING");
  EXPECT_EQ(insert.statement().operation, "INSERT");
  EXPECT_EQ(insert.statement().collection, "messages");
}

}  // namespace
}  // namespace chat::pg
