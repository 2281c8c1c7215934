#include "chat/contracts/replies.hpp"

#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

namespace {
constexpr std::size_t kMaxErrorMessageBytes = 1024;
}  // namespace

ErrorReply ErrorReplyFromStatus(const core::Status& status) {
  if (status.ok()) return {core::ErrorCode::kInternal, "error reply built from an OK status"};
  return {status.code(), status.message()};
}

core::Status ToStatus(const ErrorReply& reply) {
  if (reply.code == core::ErrorCode::kOk) return core::Internal(reply.message);
  return {reply.code, reply.message};
}

std::string ToJson(const ErrorReply& v) {
  Json err = Json::object();
  err["code"] =
      core::ErrorCodeName(v.code == core::ErrorCode::kOk ? core::ErrorCode::kInternal : v.code);
  err["message"] = v.message;
  Json j = Json::object();
  j["error"] = std::move(err);
  return internal::Dump(j);
}

std::string ToJson(const OkReply& v) {
  Json j = Json::object();
  j["ok"] = v.ok;
  internal::PutBool(j, "deleted", v.deleted);
  return internal::Dump(j);
}

template <>
core::Result<ErrorReply> FromJson<ErrorReply>(std::string_view json) {
  return internal::DecodeTop<ErrorReply>(
      json, "ErrorReply", [](const Json& j, const std::string& path, ErrorReply& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        const Json* err = r.Find("error", Need::kRequired);
        if (err == nullptr) return r.status();
        if (!err->is_object()) {
          r.Fail("error", "must be an object {code, message}");
          return r.status();
        }
        Reader er(*err, r.Sub("error"));
        std::string code;
        er.Str("code", code, Need::kNonEmpty);
        er.Str("message", v.message, Need::kRequired, kMaxErrorMessageBytes);
        if (!er.ok()) return er.status();
        auto parsed = core::ErrorCodeFromName(code);
        if (parsed.has_value() && *parsed == core::ErrorCode::kOk) {
          er.Fail("code", "must not be ok");
          return er.status();
        }
        // Codes added after this client was built are handled as internal (style.md §4).
        v.code = parsed.value_or(core::ErrorCode::kInternal);
        return core::Status::Ok();
      });
}

template <>
core::Result<OkReply> FromJson<OkReply>(std::string_view json) {
  return internal::DecodeTop<OkReply>(json, "OkReply",
                                      [](const Json& j, const std::string& path, OkReply& v) {
                                        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
                                        Reader r(j, path);
                                        r.Bool("ok", v.ok, Need::kRequired);
                                        r.Bool("deleted", v.deleted, Need::kOptional);
                                        return r.status();
                                      });
}

bool IsErrorReply(std::string_view json) {
  auto parsed = internal::ParsePayload(json, "reply");
  if (!parsed.ok() || !parsed->is_object()) return false;
  auto it = parsed->find("error");
  return it != parsed->end() && it->is_object();
}

}  // namespace chat::contracts
