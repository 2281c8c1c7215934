#include "config.hpp"

#include <algorithm>
#include <cctype>

#include "chat/core/strings.hpp"

namespace chat::devidp {
namespace {

bool HasScheme(std::string_view s) { return s.starts_with("http://") || s.starts_with("https://"); }

// Splits "scheme://authority/rest" → authority end offset.
size_t AuthorityEnd(std::string_view url) {
  size_t start = url.find("://");
  if (start == std::string_view::npos) return std::string_view::npos;
  start += 3;
  size_t end = url.find_first_of("/?#", start);
  return end == std::string_view::npos ? url.size() : end;
}

}  // namespace

core::Result<std::string> UrlPath(std::string_view url) {
  if (!HasScheme(url)) return core::InvalidArgument("not an http(s) URL");
  size_t end = AuthorityEnd(url);
  if (end == url.size() || url[end] != '/') return core::InvalidArgument("URL has no path");
  std::string_view path = url.substr(end);
  if (path.find_first_of("?#") != std::string_view::npos) {
    return core::InvalidArgument("URL has a query or fragment");
  }
  if (path.size() < 2 || path.back() == '/') {
    return core::InvalidArgument("URL path must name the realm and not end in '/'");
  }
  return std::string(path);
}

bool RedirectAllowed(std::string_view uri, const std::vector<std::string>& prefixes) {
  if (!HasScheme(uri)) return false;
  if (uri.find_first_of("#\r\n\t ") != std::string_view::npos) return false;
  size_t auth_end = AuthorityEnd(uri);
  std::string_view authority = uri.substr(uri.find("://") + 3, auth_end - uri.find("://") - 3);
  if (authority.find('@') != std::string_view::npos || authority.empty()) return false;
  for (const auto& p : prefixes) {
    if (!uri.starts_with(p)) continue;
    std::string_view rest = uri.substr(p.size());
    size_t p_auth_end = AuthorityEnd(p);
    bool prefix_is_origin_without_port =
        p_auth_end == p.size() && p.find(':', p.find("://") + 3) == std::string::npos;
    if (prefix_is_origin_without_port) {
      // Any port: ":<digits>" then end, '/' or '?'.
      if (!rest.empty() && rest.front() == ':') {
        size_t i = 1;
        while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
        if (i == 1 || i > 6) continue;
        rest = rest.substr(i);
      }
      if (rest.empty() || rest.front() == '/' || rest.front() == '?') return true;
      continue;
    }
    if (rest.empty() || p.back() == '/' || rest.front() == '/' || rest.front() == '?') return true;
  }
  return false;
}

IdpConfig IdpConfig::FromEnv(core::EnvReader& reader) {
  IdpConfig c;
  c.host = reader.String("CHAT_IDP_HOST", c.host);
  if (c.host.empty()) reader.AddProblem("CHAT_IDP_HOST is empty");
  c.port = reader.Port("CHAT_IDP_PORT", c.port);
  c.issuer = reader.Url("CHAT_IDP_ISSUER", "");
  if (!c.issuer.empty()) {
    if (!HasScheme(c.issuer)) {
      reader.AddProblem("CHAT_IDP_ISSUER \"" + c.issuer + "\" must be an http(s) URL");
    } else if (auto path = UrlPath(c.issuer); !path.ok()) {
      reader.AddProblem("CHAT_IDP_ISSUER \"" + c.issuer + "\": " + path.status().message());
    }
  }
  c.state_dir = reader.String("CHAT_IDP_STATE_DIR", c.state_dir);
  if (c.state_dir.empty()) reader.AddProblem("CHAT_IDP_STATE_DIR is empty");
  c.token_ttl = std::chrono::seconds(reader.Int("CHAT_IDP_TOKEN_TTL_SECONDS", 300, 10, 86400));
  c.client_id = reader.String("CHAT_IDP_CLIENT_ID", c.client_id);
  if (c.client_id.empty()) reader.AddProblem("CHAT_IDP_CLIENT_ID is empty");
  std::string origins =
      reader.String("CHAT_IDP_REDIRECT_ORIGINS", "http://127.0.0.1,http://localhost");
  c.redirect_origins = core::SplitComma(origins);
  if (c.redirect_origins.empty()) reader.AddProblem("CHAT_IDP_REDIRECT_ORIGINS is empty");
  for (const auto& o : c.redirect_origins) {
    if (!HasScheme(o) || AuthorityEnd(o) == o.find("://") + 3) {
      reader.AddProblem("CHAT_IDP_REDIRECT_ORIGINS entry \"" + o + "\" is not an http(s) URL");
    }
  }
  c.users_file = reader.String("CHAT_IDP_USERS_FILE", "");
  c.pbkdf2_iterations =
      static_cast<int>(reader.Int("CHAT_IDP_PBKDF2_ITERATIONS", 600000, 1000, 10'000'000));
  c.login_failures_per_user_per_minute =
      static_cast<int>(reader.Int("CHAT_IDP_LOGIN_FAILURES_PER_USER_PER_MINUTE", 10, 1, 100000));
  c.login_failures_per_address_per_minute =
      static_cast<int>(reader.Int("CHAT_IDP_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE", 30, 1, 100000));
  c.admin_username = reader.String("KEYCLOAK_ADMIN", c.admin_username);
  c.admin_password = reader.String("KEYCLOAK_ADMIN_PASSWORD", c.admin_password);
  c.admin_token_ttl =
      std::chrono::seconds(reader.Int("CHAT_IDP_ADMIN_TOKEN_TTL_SECONDS", 60, 1, 86400));
  return c;
}

core::Result<IdpConfig> IdpConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  IdpConfig c = FromEnv(reader);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::devidp
