// Multi-row INSERT in one statement and one round trip.
//
// The rows travel as one text-format array parameter per column and are expanded server-side
// with unnest(), so the SQL (and its prepared statement) does not depend on the row count and
// db.query.text stays parameterised. With an ON CONFLICT clause the returned count is the number
// of rows actually inserted, which is how persist-worker tells new messages from redeliveries.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/status.hpp"
#include "chat/pg/statement.hpp"

namespace chat::pg {

struct BatchColumn {
  std::string_view name;  // column name, e.g. "room" (quoted in the generated SQL)
  std::string_view type;  // element type of the array parameter: "text", "bigint", "boolean"
};

// Declared once, like a Statement. Thread-safe after construction (immutable).
class BatchInsert {
 public:
  // `on_conflict` is the text after ON CONFLICT, e.g. "(room, \"timestamp\", username) DO NOTHING";
  // empty for a plain insert. Names and types are code constants, never user input.
  BatchInsert(std::string_view name, std::string_view table, std::vector<BatchColumn> columns,
              std::string_view on_conflict = {});
  BatchInsert(const BatchInsert&) = delete;
  BatchInsert& operator=(const BatchInsert&) = delete;
  ~BatchInsert() = default;

  // The generated statement (operation INSERT, collection = table); valid while *this lives.
  const Statement& statement() const { return statement_; }
  size_t column_count() const { return columns_.size(); }

 private:
  std::string name_;
  std::string table_;
  std::vector<BatchColumn> columns_;
  std::string sql_;
  Statement statement_;
};

// Rows collected for a BatchInsert, stored column by column.
class BatchRows {
 public:
  explicit BatchRows(const BatchInsert& insert) : columns_(insert.column_count()) {}
  // Adds one row; the value count must equal the column count (else invalid_argument).
  core::Status AddRow(std::initializer_list<Param> values);
  size_t size() const { return rows_; }
  bool empty() const { return rows_ == 0; }
  // One PostgreSQL array literal per column ('{"a","b",NULL}').
  std::vector<Param> ToParams() const;

 private:
  std::vector<std::vector<Param>> columns_;
  size_t rows_ = 0;
};

// Array literal for text-format array parameters: every element double-quoted with `"` and `\`
// escaped, NULL unquoted. Exposed for tests.
std::string ArrayLiteral(const std::vector<Param>& elements);

}  // namespace chat::pg
