// Status and ErrorCode: the one error vocabulary every library and service shares.
// Codes are API (clients branch on them): never rename or reuse an enumerator. Each comment
// says whether the caller may retry, which is how a code is chosen (Abseil's rule).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chat::core {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     // the request itself is bad: do not retry unchanged
  kUnauthenticated,     // missing/invalid credentials: retry only with new credentials
  kPermissionDenied,    // authenticated but not allowed: do not retry
  kNotFound,            // the named thing does not exist: do not retry
  kAlreadyExists,       // create of an existing thing: do not retry
  kFailedPrecondition,  // system not in the required state: retry after fixing the state
  kResourceExhausted,   // quota/queue/size limit: retry later with backoff
  kDeadlineExceeded,    // took too long, outcome unknown: retry if idempotent
  kUnavailable,         // transient (dependency down): retry with backoff
  kInternal,            // a bug or broken invariant: do not retry
};

// Stable wire spelling ("not_found"); kOk is "ok".
std::string_view ErrorCodeName(ErrorCode code);
// Inverse of ErrorCodeName; unknown strings map to nullopt (callers treat them as internal).
std::optional<ErrorCode> ErrorCodeFromName(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_found: room not found"
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {ErrorCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {ErrorCode::kPermissionDenied, std::move(m)};
}
inline Status NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {ErrorCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {ErrorCode::kResourceExhausted, std::move(m)};
}
inline Status DeadlineExceeded(std::string m) {
  return {ErrorCode::kDeadlineExceeded, std::move(m)};
}
inline Status Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

// The text of an errno value, safe to call from any thread (strerror is not).
std::string ErrnoMessage(int err);

}  // namespace chat::core

// Aborts with file:line when a broken invariant is found (never for expected failures).
#define CHAT_CHECK(cond)                                                         \
  do {                                                                           \
    if (!(cond)) ::chat::core::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (false)

namespace chat::core::internal {
[[noreturn]] void CheckFailed(const char* expr, const char* file, int line);
}
