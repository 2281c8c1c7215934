#include "chat/contracts/translate.hpp"

#include "chat/contracts/ids.hpp"
#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

namespace {

constexpr std::size_t kMaxLangBytes = 16;

void ReadLang(Reader& r, std::string& out) {
  r.Str("targetLang", out, Need::kNonEmpty, kMaxLangBytes);
  if (!r.ok()) return;
  for (char c : out) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')) {
      r.Fail("targetLang", "must match [A-Za-z-]");
      return;
    }
  }
}

}  // namespace

std::string ToJson(const TranslateRequest& v) {
  Json j = Json::object();
  j["text"] = v.text;
  j["targetLang"] = v.target_lang;
  internal::PutStr(j, "user", v.user);
  j["msgKey"] = v.msg_key;
  return internal::Dump(j);
}

std::string ToJson(const TranslateChunk& v) {
  Json j = Json::object();
  j["translatedText"] = v.translated_text;
  j["targetLang"] = v.target_lang;
  j["msgKey"] = v.msg_key;
  j["done"] = v.done;
  return internal::Dump(j);
}

template <>
core::Result<TranslateRequest> FromJson<TranslateRequest>(std::string_view json) {
  return internal::DecodeTop<TranslateRequest>(
      json, "TranslateRequest", [](const Json& j, const std::string& path, TranslateRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Str("text", v.text, Need::kNonEmpty, kMaxTextBytes);
        ReadLang(r, v.target_lang);
        r.User("user", v.user, Need::kOptional);
        r.Str("msgKey", v.msg_key, Need::kNonEmpty);
        return r.status();
      });
}

template <>
core::Result<TranslateChunk> FromJson<TranslateChunk>(std::string_view json) {
  return internal::DecodeTop<TranslateChunk>(
      json, "TranslateChunk", [](const Json& j, const std::string& path, TranslateChunk& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Str("translatedText", v.translated_text, Need::kRequired, kMaxPayloadBytes);
        ReadLang(r, v.target_lang);
        r.Str("msgKey", v.msg_key, Need::kNonEmpty);
        r.Bool("done", v.done, Need::kRequired);
        return r.status();
      });
}

}  // namespace chat::contracts
