// translation-service wire types (system.md §3.3.6 with ADR 0001's translate.request.{user}):
// the request and the streamed chunks sent to deliver.{user}.translate.response.
#pragma once

#include <string>
#include <string_view>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

// {"text","targetLang","user"?,"msgKey"}; text ≤ 4000 bytes; targetLang a language tag
// ([A-Za-z-], ≤ 16 bytes; whether it is supported is the service's decision); msgKey is the
// message id "{timestamp}-{author}".
struct TranslateRequest {
  std::string text;
  std::string target_lang;
  std::string user;
  std::string msg_key;

  friend bool operator==(const TranslateRequest&, const TranslateRequest&) = default;
};

// {"translatedText","targetLang","msgKey","done"}; the last chunk has done = true and may carry
// empty text, so translatedText and done are always written.
struct TranslateChunk {
  std::string translated_text;
  std::string target_lang;
  std::string msg_key;
  bool done = false;

  friend bool operator==(const TranslateChunk&, const TranslateChunk&) = default;
};

std::string ToJson(const TranslateRequest& v);
std::string ToJson(const TranslateChunk& v);

template <>
core::Result<TranslateRequest> FromJson<TranslateRequest>(std::string_view json);
template <>
core::Result<TranslateChunk> FromJson<TranslateChunk>(std::string_view json);

}  // namespace chat::contracts
