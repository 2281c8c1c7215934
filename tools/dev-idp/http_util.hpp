// HTTP helpers shared by the endpoints: escaping, form parameters, PKCE value syntax, status
// classes, loopback and issuer-host checks, and the error responses (HTML page, OAuth JSON error)
// and OAuth redirects. No state.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httplib {
struct Response;
}  // namespace httplib

namespace chat::devidp {

using Params = std::map<std::string, std::string, std::less<>>;

// Escapes regex metacharacters (cpp-httplib routes are regexes; ours are literal paths).
std::string RegexEscape(std::string_view s);
std::string HtmlEscape(std::string_view s);
// The value of form parameter `key`, empty when absent.
std::string Get(const Params& p, std::string_view key);
// RFC 7636 code_verifier / code_challenge syntax: unreserved characters, min..max long.
bool ValidPkceValue(std::string_view v, size_t min_len, size_t max_len);
bool IsLoopback(const std::string& addr);
// The host part of the default issuer URL for a listen host (wildcards become 127.0.0.1).
std::string DefaultIssuerHost(const std::string& host);

// A small HTML page with `title` and `message` (escaped), not cacheable, not framable.
void ErrorPage(httplib::Response& res, int status, std::string_view title,
               std::string_view message);
// Appends OAuth response parameters to a redirect URI in the query or the fragment.
std::string WithParams(const std::string& uri,
                       const std::vector<std::pair<std::string, std::string>>& params,
                       bool fragment);
// An OAuth 2.0 error response (RFC 6749 §5.2): JSON body, no-store.
void TokenError(httplib::Response& res, int status, std::string_view error,
                std::string_view description);

}  // namespace chat::devidp
