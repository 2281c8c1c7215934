// translation-service wire types (system.md §3.3.6 with ADR 0001's translate.request.{user}):
// the request, the streamed chunks sent to deliver.{user}.translate.response, and the
// translate.ping reply that lists the language pairs the service's backend really has.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

// Longest language tag on the wire ("zh-TW"); [A-Za-z-] only.
inline constexpr std::size_t kMaxTranslateLangBytes = 16;

// {"text","targetLang","sourceLang"?,"user"?,"msgKey"}; text ≤ 4000 bytes; targetLang and
// sourceLang are language tags ([A-Za-z-], ≤ 16 bytes; whether a pair is supported is the
// service's decision; no sourceLang = the service's default source, English); msgKey is the
// message id "{timestamp}-{author}". The acting user is the subject's {user}: a body `user`
// must equal it.
struct TranslateRequest {
  std::string text;
  std::string target_lang;
  std::string user;
  std::string msg_key;
  std::string source_lang;  // last, so existing aggregate initialisers keep their meaning

  friend bool operator==(const TranslateRequest&, const TranslateRequest&) = default;
};

// {"translatedText","targetLang","msgKey","done","error"?}; the last chunk has done = true and
// may carry empty text, so translatedText and done are always written. A refused or failed
// translation ends with one chunk {translatedText:"", done:true, error:{code,message}}; for a
// request that could not be decoded, targetLang and msgKey are whatever valid values the body
// held (possibly empty).
struct TranslateChunk {
  std::string translated_text;
  std::string target_lang;
  std::string msg_key;
  bool done = false;
  std::optional<ErrorReply> error;

  friend bool operator==(const TranslateChunk&, const TranslateChunk&) = default;
};

// One translation direction, as language tags: {"source":"en","target":"es"}.
struct TranslatePair {
  std::string source;
  std::string target;

  friend bool operator==(const TranslatePair&, const TranslatePair&) = default;
};

// translate.ping: {"available":bool,"languages":[TranslatePair…]} — the pairs the configured
// backend has (the UI offers only those); `languages` is written even when empty.
struct TranslatePingReply {
  bool available = false;
  std::vector<TranslatePair> languages;

  friend bool operator==(const TranslatePingReply&, const TranslatePingReply&) = default;
};

// The fields of a translate request that an error chunk echoes, read leniently from a body that
// did not decode: each is its value when it is a string that would be valid, else "".
struct TranslateEcho {
  std::string target_lang;
  std::string msg_key;
};
TranslateEcho EchoTranslateFields(std::string_view json);

// True when `tag` is a valid language tag on the wire (1–16 bytes of [A-Za-z-]).
bool IsValidLanguageTag(std::string_view tag);

std::string ToJson(const TranslateRequest& v);
std::string ToJson(const TranslateChunk& v);
std::string ToJson(const TranslatePingReply& v);

template <>
core::Result<TranslateRequest> FromJson<TranslateRequest>(std::string_view json);
template <>
core::Result<TranslateChunk> FromJson<TranslateChunk>(std::string_view json);
template <>
core::Result<TranslatePingReply> FromJson<TranslatePingReply>(std::string_view json);

}  // namespace chat::contracts
