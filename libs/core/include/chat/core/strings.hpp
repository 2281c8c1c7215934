// Small string helpers shared by configuration parsers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chat::core {

// Splits a comma-separated list, trims ASCII whitespace around each item and drops empty items:
// " a, ,b " -> {"a", "b"}. Used for every list-valued environment variable.
std::vector<std::string> SplitComma(std::string_view s);

// RFC 3986 percent-encoding of every byte outside the unreserved set [A-Za-z0-9-._~], upper-case
// hex: query parameters and application/x-www-form-urlencoded values (a space is "%20").
std::string PercentEncode(std::string_view s);

}  // namespace chat::core
