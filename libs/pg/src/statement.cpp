// Statement naming, parameter formatting and batch-insert SQL generation.
#include "chat/pg/statement.hpp"

#include <array>
#include <charconv>
#include <string>

#include "chat/pg/batch.hpp"

namespace chat::pg {

std::string SpanName(const Statement& statement) {
  std::string name(statement.operation);
  if (!statement.collection.empty()) {
    name += ' ';
    name += statement.collection;
  }
  return name;
}

Param::Param(double v) {
  std::array<char, 64> buf{};
  // Shortest round-trip representation; PostgreSQL parses it exactly.
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  text_ = std::string(buf.data(), ec == std::errc() ? end : buf.data());
}

BatchInsert::BatchInsert(std::string_view name, std::string_view table,
                         std::vector<BatchColumn> columns, std::string_view on_conflict)
    : name_(name), table_(table), columns_(std::move(columns)) {
  std::string cols;
  std::string arrays;
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) {
      cols += ", ";
      arrays += ", ";
    }
    cols += '"';
    cols += columns_[i].name;
    cols += '"';
    arrays += '$';
    arrays += std::to_string(i + 1);
    arrays += "::";
    arrays += columns_[i].type;
    arrays += "[]";
  }
  sql_ = "INSERT INTO " + table_ + " (" + cols + ") SELECT * FROM unnest(" + arrays + ")";
  if (!on_conflict.empty()) {
    sql_ += " ON CONFLICT ";
    sql_ += on_conflict;
  }
  statement_ = Statement{name_, sql_, "INSERT", table_};
}

core::Status BatchRows::AddRow(std::initializer_list<Param> values) {
  if (values.size() != columns_.size()) {
    return core::InvalidArgument("batch row has " + std::to_string(values.size()) +
                                 " values, expected " + std::to_string(columns_.size()));
  }
  size_t i = 0;
  for (const Param& v : values) columns_[i++].push_back(v);
  ++rows_;
  return core::Status::Ok();
}

std::vector<Param> BatchRows::ToParams() const {
  std::vector<Param> params;
  params.reserve(columns_.size());
  for (const auto& column : columns_) params.emplace_back(ArrayLiteral(column));
  return params;
}

std::string ArrayLiteral(const std::vector<Param>& elements) {
  std::string out = "{";
  bool first = true;
  for (const Param& e : elements) {
    if (!first) out += ',';
    first = false;
    if (e.is_null()) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : e.text()) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace chat::pg
