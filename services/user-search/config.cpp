#include "config.hpp"

namespace chat::user_search_service {
namespace {

bool ValidRealm(const std::string& realm) {
  if (realm.empty() || realm.size() > 64) return false;
  for (char c : realm) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

core::Result<UserSearchConfig> UserSearchConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  UserSearchConfig c;
  std::string url = reader.RequiredString("CHAT_USER_SEARCH_IDP_URL");
  while (!url.empty() && url.back() == '/') url.pop_back();
  c.idp_url = url;
  if (!url.empty()) {
    size_t scheme = url.find("://");
    bool http = url.starts_with("http://") || url.starts_with("https://");
    if (!http || scheme + 3 >= url.size() || url.find_first_of("?#@ ") != std::string::npos) {
      reader.AddProblem("CHAT_USER_SEARCH_IDP_URL \"" + url +
                        "\" must be an http(s) URL without credentials, query or fragment, "
                        "e.g. http://keycloak:8080");
    }
  }
  c.realm = reader.String("CHAT_USER_SEARCH_REALM", c.realm);
  if (!ValidRealm(c.realm)) {
    reader.AddProblem("CHAT_USER_SEARCH_REALM must be 1-64 characters of A-Z, a-z, 0-9, '-', '_'");
  }
  c.admin_user = reader.String("CHAT_USER_SEARCH_ADMIN_USER", c.admin_user);
  if (c.admin_user.empty()) reader.AddProblem("CHAT_USER_SEARCH_ADMIN_USER is empty");
  c.admin_password = reader.RequiredString("CHAT_USER_SEARCH_ADMIN_PASSWORD");
  c.idp_timeout = reader.Millis("CHAT_USER_SEARCH_IDP_TIMEOUT_MS", c.idp_timeout);
  if (c.idp_timeout < std::chrono::milliseconds(100) || c.idp_timeout > std::chrono::seconds(60)) {
    reader.AddProblem("CHAT_USER_SEARCH_IDP_TIMEOUT_MS must be 100-60000");
  }
  c.rate_per_minute = static_cast<int>(
      reader.Int("CHAT_USER_SEARCH_RATE_PER_MINUTE", c.rate_per_minute, 1, 100000));
  c.rate_burst =
      static_cast<int>(reader.Int("CHAT_USER_SEARCH_RATE_BURST", c.rate_burst, 1, 10000));
  c.startup_attempts = static_cast<int>(
      reader.Int("CHAT_USER_SEARCH_STARTUP_ATTEMPTS", c.startup_attempts, 1, 1000));
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::user_search_service
