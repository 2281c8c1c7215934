// application/x-www-form-urlencoded parsing (POST bodies and query strings of every dev-idp
// endpoint): its own file so the fuzz target fuzz/fuzz_dev_idp_form reaches it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "chat/core/result.hpp"

namespace chat::devidp {

using FormParams = std::map<std::string, std::string, std::less<>>;

// '+' is a space, %XX a byte; nullopt on a truncated or non-hex escape.
std::optional<std::string> PercentDecode(std::string_view s);

// A parameter given twice is an error (RFC 6749 §3.1, §3.2): which value would win is exactly
// the ambiguity attackers use. Bodies over 64 KiB, empty names and bad escapes are
// invalid_argument.
core::Result<FormParams> ParseForm(std::string_view body);

}  // namespace chat::devidp
