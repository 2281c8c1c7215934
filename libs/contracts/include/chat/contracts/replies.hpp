// Generic replies. ErrorReply is {"error":{"code","message"}} with a core::ErrorCode name
// (docs/style.md rule 4); it replaces the reference's free-text {"error":"…"} (README.md).
// OkReply is {"ok":true} (room.depart may add "deleted":true). FromReply<T> lets a client decode
// "either T or an error reply" in one call.
#pragma once

#include <string>
#include <string_view>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"
#include "chat/core/status.hpp"

namespace chat::contracts {

struct ErrorReply {
  core::ErrorCode code = core::ErrorCode::kInternal;  // never kOk
  std::string message;  // for humans; no SQL, ids of other users or values (rule 4)

  friend bool operator==(const ErrorReply&, const ErrorReply&) = default;
};

struct OkReply {
  bool ok = true;
  bool deleted = false;  // room.depart: the room was deleted (omitted when false)

  friend bool operator==(const OkReply&, const OkReply&) = default;
};

// The reply for a failed handler. A kOk status (a caller bug) becomes internal.
ErrorReply ErrorReplyFromStatus(const core::Status& status);
core::Status ToStatus(const ErrorReply& reply);

std::string ToJson(const ErrorReply& v);
std::string ToJson(const OkReply& v);

// An unknown code string decodes as internal (clients must survive codes added later); "ok" and a
// missing code are invalid.
template <>
core::Result<ErrorReply> FromJson<ErrorReply>(std::string_view json);
template <>
core::Result<OkReply> FromJson<OkReply>(std::string_view json);

// True when `json` is an object whose "error" member is an object (an ErrorReply shape).
bool IsErrorReply(std::string_view json);

// Decodes a reply that is either T or an ErrorReply: the error reply's code and message become
// the returned Status.
template <typename T>
core::Result<T> FromReply(std::string_view json) {
  if (IsErrorReply(json)) {
    auto err = FromJson<ErrorReply>(json);
    if (!err.ok()) return err.status();
    return ToStatus(*err);
  }
  return FromJson<T>(json);
}

}  // namespace chat::contracts
