// The result of one statement: rows in text format plus the affected-row count.
// Owns the libpq PGresult; movable, not copyable. Accessors take 0-based row/column indexes and
// CHAT_CHECK them (an out-of-range index is a bug in the caller's SQL/column mapping).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "chat/telemetry/trace_context.hpp"

struct pg_result;  // libpq's PGresult

namespace chat::pg {

class Rows {
 public:
  Rows() = default;  // no rows (e.g. an empty batch)
  explicit Rows(pg_result* result);
  Rows(Rows&&) noexcept = default;
  Rows& operator=(Rows&&) noexcept = default;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows() = default;

  int RowCount() const;
  int ColumnCount() const;
  // Rows inserted/updated/deleted (PQcmdTuples; 0 for statements that report none).
  int64_t RowsAffected() const;
  // Column index by name, -1 when absent.
  int ColumnIndex(std::string_view name) const;

  bool IsNull(int row, int col) const;
  // NULL reads as "" / 0 / false; use the Opt* accessors when NULL is meaningful.
  std::string_view Text(int row, int col) const;
  int64_t Int64(int row, int col) const;
  bool Bool(int row, int col) const;
  double Double(int row, int col) const;
  std::optional<std::string> OptText(int row, int col) const;
  std::optional<int64_t> OptInt64(int row, int col) const;
  std::optional<bool> OptBool(int row, int col) const;

  // The CLIENT span that ran the statement (invalid when unsampled or for a default Rows), so a
  // caller can link other spans to it: persist-worker links every message of a batch INSERT.
  const telemetry::SpanContext& span_context() const { return span_context_; }
  void set_span_context(const telemetry::SpanContext& context) { span_context_ = context; }

 private:
  struct Deleter {
    void operator()(pg_result* r) const;
  };
  void CheckCell(int row, int col) const;
  std::unique_ptr<pg_result, Deleter> result_;
  telemetry::SpanContext span_context_{};
};

}  // namespace chat::pg
