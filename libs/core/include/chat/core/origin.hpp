// Web origins (RFC 6454 serialisation, scheme://host[:port]) for CORS allow-lists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chat::core {

// True for "http://host[:port]" or "https://host[:port]": a non-empty authority and no path,
// query, fragment, userinfo or space.
bool IsHttpOrigin(std::string_view s);

// True when the request's Origin header value is non-empty and listed exactly in `allowed`
// (an entry "*" allows any origin). An empty Origin (same-origin or non-browser) is never
// "allowed": no CORS headers are added for it.
bool OriginAllowed(std::string_view origin, const std::vector<std::string>& allowed);

}  // namespace chat::core
