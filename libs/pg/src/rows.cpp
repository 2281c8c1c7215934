// Rows: typed accessors over a text-format PGresult.
#include "chat/pg/rows.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>

#include "chat/core/status.hpp"

namespace chat::pg {

void Rows::Deleter::operator()(pg_result* r) const { PQclear(r); }

Rows::Rows(pg_result* result) : result_(result) {}

int Rows::RowCount() const { return result_ ? PQntuples(result_.get()) : 0; }
int Rows::ColumnCount() const { return result_ ? PQnfields(result_.get()) : 0; }

int64_t Rows::RowsAffected() const {
  if (!result_) return 0;
  const char* n = PQcmdTuples(result_.get());
  if (n == nullptr || *n == '\0') return 0;
  return std::strtoll(n, nullptr, 10);
}

int Rows::ColumnIndex(std::string_view name) const {
  if (!result_) return -1;
  return PQfnumber(result_.get(), std::string(name).c_str());
}

void Rows::CheckCell(int row, int col) const {
  CHAT_CHECK(result_ != nullptr);
  CHAT_CHECK(row >= 0 && row < RowCount());
  CHAT_CHECK(col >= 0 && col < ColumnCount());
}

bool Rows::IsNull(int row, int col) const {
  CheckCell(row, col);
  return PQgetisnull(result_.get(), row, col) == 1;
}

std::string_view Rows::Text(int row, int col) const {
  CheckCell(row, col);
  return {PQgetvalue(result_.get(), row, col),
          static_cast<size_t>(PQgetlength(result_.get(), row, col))};
}

int64_t Rows::Int64(int row, int col) const { return OptInt64(row, col).value_or(0); }
bool Rows::Bool(int row, int col) const { return OptBool(row, col).value_or(false); }

double Rows::Double(int row, int col) const {
  if (IsNull(row, col)) return 0;
  return std::strtod(PQgetvalue(result_.get(), row, col), nullptr);
}

std::optional<std::string> Rows::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return std::string(Text(row, col));
}

std::optional<int64_t> Rows::OptInt64(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  std::string_view t = Text(row, col);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
  return v;
}

std::optional<bool> Rows::OptBool(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  std::string_view t = Text(row, col);
  return t == "t" || t == "true";
}

}  // namespace chat::pg
