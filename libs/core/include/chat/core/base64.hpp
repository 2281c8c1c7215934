// RFC 4648 base64, the one implementation every library and tool uses: standard alphabet with
// '=' padding (§4: signatures in tests and tools, OTLP/JSON bytes) and the URL-safe alphabet
// without padding (§5: JWT/JWS segments, JWK members, PKCE, random tokens).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "chat/core/result.hpp"

namespace chat::core {

// Standard alphabet ("+/"), padded with '='.
std::string Base64StdEncode(std::string_view data);
std::string Base64StdEncode(std::span<const uint8_t> data);

// URL-safe alphabet ("-_"), no padding.
std::string Base64UrlEncode(std::string_view data);
std::string Base64UrlEncode(std::span<const uint8_t> data);

// URL-safe alphabet only, with or without trailing '=' padding (the Go library decodes either
// way for JWTs); any other character, or a length no encoder produces, is invalid_argument.
Result<std::string> Base64UrlDecode(std::string_view text);

// Either alphabet (standard or URL-safe, even mixed), padded or not: for input whose producer
// may have picked either (OTLP/JSON bytes and ids). Errors as Base64UrlDecode.
Result<std::string> Base64AnyDecode(std::string_view text);

}  // namespace chat::core
