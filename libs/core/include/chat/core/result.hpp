// Result<T>: a value or a non-OK Status (g++ 12 has no std::expected).
// No default constructor, [[nodiscard]]; value() on an error aborts (a bug, not a failure).
#pragma once

#include <utility>
#include <variant>

#include "chat/core/status.hpp"

namespace chat::core {

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  Result(T value) : data_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    CHAT_CHECK(!std::get<Status>(data_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }

  T& value() & {
    CHAT_CHECK(ok());
    return std::get<T>(data_);
  }
  const T& value() const& {
    CHAT_CHECK(ok());
    return std::get<T>(data_);
  }
  T&& value() && {
    CHAT_CHECK(ok());
    return std::get<T>(std::move(data_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace chat::core

#define CHAT_INTERNAL_CONCAT2(a, b) a##b
#define CHAT_INTERNAL_CONCAT(a, b) CHAT_INTERNAL_CONCAT2(a, b)

// Returns the Status from the enclosing function when expr (a Status) is not OK.
#define CHAT_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::chat::core::Status chat_status_ = (expr);  \
    if (!chat_status_.ok()) return chat_status_; \
  } while (false)

// `CHAT_ASSIGN_OR_RETURN(auto x, F());` binds the value or returns the error. `lhs` and `tmp` are
// declarations, which parentheses would turn into expressions.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CHAT_ASSIGN_OR_RETURN(lhs, expr) \
  CHAT_INTERNAL_ASSIGN_OR_RETURN(CHAT_INTERNAL_CONCAT(chat_result_, __LINE__), lhs, expr)
#define CHAT_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
