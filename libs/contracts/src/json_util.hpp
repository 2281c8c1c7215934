// Internal helpers for the contracts codecs: bounded non-throwing parse, a field reader that
// records the first problem as "<Type>: field '<key>' <problem>", and canonical dumping.
// ordered_json keeps insertion order, which is how ToJson fixes the key order.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/ids.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts::internal {

using Json = nlohmann::ordered_json;

inline constexpr std::size_t kMaxShortFieldBytes = 256;  // ids, names, languages
inline constexpr std::size_t kMaxUrlBytes = 2048;

// Parses `text` (≤ kMaxPayloadBytes). `allow_empty`: an empty/whitespace body decodes as `{}`
// (requests whose body is optional, e.g. chat.history.{room}).
core::Result<Json> ParsePayload(std::string_view text, std::string_view type,
                                bool allow_empty = false);

// Canonical text; invalid UTF-8 inside strings built in code is replaced, never thrown.
std::string Dump(const Json& j);

enum class Need { kOptional, kRequired, kNonEmpty };

class Reader {
 public:
  // `path` names the value for messages ("ChatMessage", "HistoryPage.messages[3]").
  Reader(const Json& j, std::string path);

  bool ok() const { return status_.ok(); }
  const core::Status& status() const { return status_; }
  const std::string& path() const { return path_; }

  // Present and not null; records "is required" when `need` is not kOptional.
  const Json* Find(std::string_view key, Need need);

  void Str(std::string_view key, std::string& out, Need need,
           std::size_t max_bytes = kMaxShortFieldBytes);
  // Integer (no fraction, no exponent float) >= `min`.
  void Int(std::string_view key, std::int64_t& out, Need need, std::int64_t min = 0);
  void Bool(std::string_view key, bool& out, Need need);
  void StrList(std::string_view key, std::vector<std::string>& out, Need need,
               std::size_t max_items = 1000);
  void User(std::string_view key, std::string& out, Need need);
  void Room(std::string_view key, std::string& out, Need need);

  // Records `problem` for `key` unless a problem is already recorded.
  void Fail(std::string_view key, std::string_view problem);
  // Records a failed validation (its message) for `key`.
  void Check(std::string_view key, const core::Status& s);

  // A nested object or array element path ("HistoryPage.messages[3]").
  std::string Sub(std::string_view key) const;

 private:
  const Json& j_;
  std::string path_;
  core::Status status_;
};

// The value must be an object (every struct except the bare-array replies).
core::Status ExpectObject(const Json& j, const std::string& path);

// Bare JSON arrays of T (list replies), decoded with the caller's element decoder.
template <typename T, typename Fn>
core::Status DecodeArray(const Json& j, const std::string& path, std::vector<T>& out, Fn decode,
                         std::size_t max_items = 10000) {
  if (!j.is_array()) return core::InvalidArgument(path + ": must be an array");
  if (j.size() > max_items) return core::InvalidArgument(path + ": too many elements");
  out.clear();
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    T item{};
    auto s = decode(j[i], path + "[" + std::to_string(i) + "]", item);
    if (!s.ok()) return s;
    out.push_back(std::move(item));
  }
  return core::Status::Ok();
}

// Parse + decode helper used by every FromJson specialisation.
template <typename T, typename Fn>
core::Result<T> DecodeTop(std::string_view text, std::string_view type, Fn decode,
                          bool allow_empty = false) {
  auto parsed = ParsePayload(text, type, allow_empty);
  if (!parsed.ok()) return parsed.status();
  T out{};
  auto s = decode(*parsed, std::string(type), out);
  if (!s.ok()) return s;
  return out;
}

// Writers: omit the key when the value is empty/zero/false (system.md conventions).
inline void PutStr(Json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}
inline void PutInt(Json& j, const char* key, std::int64_t v) {
  if (v != 0) j[key] = v;
}
inline void PutBool(Json& j, const char* key, bool v) {
  if (v) j[key] = true;
}
inline void PutStrList(Json& j, const char* key, const std::vector<std::string>& v) {
  if (!v.empty()) j[key] = v;
}

}  // namespace chat::contracts::internal
