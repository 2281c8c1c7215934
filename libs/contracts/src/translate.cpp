#include "chat/contracts/translate.hpp"

#include "chat/contracts/ids.hpp"
#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

namespace {

constexpr std::size_t kMaxMsgKeyBytes = internal::kMaxShortFieldBytes;
constexpr std::size_t kMaxPairs = 1000;

void ReadLang(Reader& r, std::string_view key, std::string& out, Need need) {
  r.Str(key, out, need, kMaxTranslateLangBytes);
  if (!r.ok() || out.empty()) return;
  if (!IsValidLanguageTag(out)) r.Fail(key, "must match [A-Za-z-]");
}

core::Status DecodePair(const Json& j, const std::string& path, TranslatePair& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  ReadLang(r, "source", v.source, Need::kNonEmpty);
  ReadLang(r, "target", v.target, Need::kNonEmpty);
  return r.status();
}

}  // namespace

bool IsValidLanguageTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTranslateLangBytes) return false;
  for (char c : tag) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')) return false;
  }
  return true;
}

TranslateEcho EchoTranslateFields(std::string_view json) {
  TranslateEcho echo;
  auto parsed = internal::ParsePayload(json, "TranslateRequest");
  if (!parsed.ok() || !parsed->is_object()) return echo;
  auto lang = parsed->find("targetLang");
  if (lang != parsed->end() && lang->is_string() &&
      IsValidLanguageTag(lang->get_ref<const std::string&>())) {
    echo.target_lang = lang->get<std::string>();
  }
  auto key = parsed->find("msgKey");
  if (key != parsed->end() && key->is_string()) {
    const auto& s = key->get_ref<const std::string&>();
    if (s.size() <= kMaxMsgKeyBytes) echo.msg_key = s;
  }
  return echo;
}

std::string ToJson(const TranslateRequest& v) {
  Json j = Json::object();
  j["text"] = v.text;
  j["targetLang"] = v.target_lang;
  internal::PutStr(j, "sourceLang", v.source_lang);
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
  if (v.error) j["error"] = Json::parse(ToJson(*v.error))["error"];
  return internal::Dump(j);
}

std::string ToJson(const TranslatePingReply& v) {
  Json j = Json::object();
  j["available"] = v.available;
  Json langs = Json::array();
  for (const auto& p : v.languages) {
    Json e = Json::object();
    e["source"] = p.source;
    e["target"] = p.target;
    langs.push_back(std::move(e));
  }
  j["languages"] = std::move(langs);
  return internal::Dump(j);
}

template <>
core::Result<TranslateRequest> FromJson<TranslateRequest>(std::string_view json) {
  return internal::DecodeTop<TranslateRequest>(
      json, "TranslateRequest", [](const Json& j, const std::string& path, TranslateRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Str("text", v.text, Need::kNonEmpty, kMaxTextBytes);
        ReadLang(r, "targetLang", v.target_lang, Need::kNonEmpty);
        ReadLang(r, "sourceLang", v.source_lang, Need::kOptional);
        r.User("user", v.user, Need::kOptional);
        r.Str("msgKey", v.msg_key, Need::kNonEmpty, kMaxMsgKeyBytes);
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
        ReadLang(r, "targetLang", v.target_lang, Need::kRequired);
        r.Str("msgKey", v.msg_key, Need::kRequired, kMaxMsgKeyBytes);
        r.Bool("done", v.done, Need::kRequired);
        if (!r.ok()) return r.status();
        if (const Json* err = r.Find("error", Need::kOptional)) {
          Json wrapped = Json::object();
          wrapped["error"] = *err;
          auto decoded = FromJson<ErrorReply>(internal::Dump(wrapped));
          if (!decoded.ok()) {
            r.Check("error", decoded.status());
            return r.status();
          }
          if (!v.done) {
            r.Fail("error", "is only allowed on the final chunk (done:true)");
            return r.status();
          }
          v.error = std::move(*decoded);
        }
        return r.status();
      });
}

template <>
core::Result<TranslatePingReply> FromJson<TranslatePingReply>(std::string_view json) {
  return internal::DecodeTop<TranslatePingReply>(
      json, "TranslatePingReply",
      [](const Json& j, const std::string& path, TranslatePingReply& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Bool("available", v.available, Need::kRequired);
        const Json* langs = r.Find("languages", Need::kRequired);
        if (!r.ok()) return r.status();
        return internal::DecodeArray(*langs, r.Sub("languages"), v.languages, &DecodePair,
                                     kMaxPairs);
      });
}

}  // namespace chat::contracts
