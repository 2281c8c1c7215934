#include "chat/contracts/receipts.hpp"

#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

namespace {

core::Status DecodeEntry(const Json& j, const std::string& path, ReadStateEntry& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.User("userId", v.user_id, Need::kRequired);
  r.Int("lastRead", v.last_read, Need::kRequired, 1);
  if (r.Find("unread", Need::kOptional) != nullptr) {
    std::int64_t unread = 0;
    r.Int("unread", unread, Need::kOptional, 0);
    if (r.ok()) v.unread = unread;
  }
  return r.status();
}

Json EncodeEntry(const ReadStateEntry& v) {
  Json j = Json::object();
  j["userId"] = v.user_id;
  j["lastRead"] = v.last_read;
  if (v.unread.has_value()) j["unread"] = *v.unread;
  return j;
}

}  // namespace

std::string ToJson(const ReadUpdate& v) {
  Json j = Json::object();
  internal::PutStr(j, "userId", v.user_id);
  j["lastRead"] = v.last_read;
  return internal::Dump(j);
}

std::string ToJson(const ReadStateEntry& v) { return internal::Dump(EncodeEntry(v)); }

std::string ToJson(const ReadStateReply& v) {
  Json a = Json::array();
  for (const auto& e : v.entries) a.push_back(EncodeEntry(e));
  return internal::Dump(a);
}

template <>
core::Result<ReadUpdate> FromJson<ReadUpdate>(std::string_view json) {
  return internal::DecodeTop<ReadUpdate>(json, "ReadUpdate",
                                         [](const Json& j, const std::string& path, ReadUpdate& v) {
                                           CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
                                           Reader r(j, path);
                                           r.User("userId", v.user_id, Need::kOptional);
                                           r.Int("lastRead", v.last_read, Need::kRequired, 1);
                                           return r.status();
                                         });
}

template <>
core::Result<ReadStateEntry> FromJson<ReadStateEntry>(std::string_view json) {
  return internal::DecodeTop<ReadStateEntry>(json, "ReadStateEntry", DecodeEntry);
}

template <>
core::Result<ReadStateReply> FromJson<ReadStateReply>(std::string_view json) {
  return internal::DecodeTop<ReadStateReply>(
      json, "ReadStateReply", [](const Json& j, const std::string& path, ReadStateReply& v) {
        return internal::DecodeArray(j, path, v.entries, DecodeEntry);
      });
}

}  // namespace chat::contracts
