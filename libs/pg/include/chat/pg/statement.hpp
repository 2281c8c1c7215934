// Statement declarations and typed text-format parameters for libs/pg.
//
// A Statement is declared once (usually `inline constexpr` next to the repository code) with
// its span identity: the span is named "{operation} {collection}" ("COMMIT" alone when there is
// no table). SQL text is never parsed to guess that identity. Parameters are sent in text format;
// their values are never recorded anywhere (only the parameterised SQL is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::pg {

struct Statement {
  // Prepared-statement name, unique per pool ("insert_message"). Empty: the statement is sent
  // unprepared with PQexecParams (one-off or utility statements such as BEGIN).
  std::string_view name;
  // Parameterised SQL ($1, $2, ...). Recorded as db.query.text (truncated at 2048 characters),
  // so it must never contain literal values.
  std::string_view sql;
  // db.operation.name: "SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", ...
  // SELECT records db.response.returned_rows; INSERT/UPDATE/DELETE record chat.db.rows_affected.
  std::string_view operation;
  // db.collection.name: the main table ("messages"); empty for statements without a table.
  std::string_view collection;
};

// "{operation} {collection}", or "{operation}" when the collection is empty.
std::string SpanName(const Statement& statement);

// One text-format parameter value, or SQL NULL. Implicit constructors keep call sites short:
// `lease.Execute(ctx, kInsert, {room, user, int64_t{ts}, std::nullopt})`.
class Param {
 public:
  Param(std::nullopt_t) {}  // NOLINT(google-explicit-constructor): SQL NULL
  Param(std::string_view v) : text_(std::string(v)) {}  // NOLINT(google-explicit-constructor)
  Param(const std::string& v) : text_(v) {}             // NOLINT(google-explicit-constructor)
  Param(std::string&& v) : text_(std::move(v)) {}       // NOLINT(google-explicit-constructor)
  Param(const char* v) : text_(std::string(v)) {}       // NOLINT(google-explicit-constructor)
  Param(int64_t v) : text_(std::to_string(v)) {}        // NOLINT(google-explicit-constructor)
  Param(int32_t v) : text_(std::to_string(v)) {}        // NOLINT(google-explicit-constructor)
  Param(bool v) : text_(v ? "true" : "false") {}        // NOLINT(google-explicit-constructor)
  Param(double v);                                      // NOLINT(google-explicit-constructor)
  // An empty optional is NULL.
  template <typename T>
  Param(const std::optional<T>& v) {  // NOLINT(google-explicit-constructor)
    if (v.has_value()) *this = Param(*v);
  }

  static Param Null() { return Param(std::nullopt); }

  bool is_null() const { return !text_.has_value(); }
  // The text-format value; precondition: !is_null().
  const std::string& text() const { return *text_; }

 private:
  std::optional<std::string> text_;
};

}  // namespace chat::pg
