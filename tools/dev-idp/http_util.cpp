// HTTP helpers shared by the endpoints (see http_util.hpp).
#include "http_util.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>

#include "chat/core/strings.hpp"

namespace chat::devidp {

using nlohmann::json;

std::string RegexEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::strchr(".^$|()[]{}*+?\\-/", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Get(const Params& p, std::string_view key) {
  auto it = p.find(key);
  return it == p.end() ? std::string() : it->second;
}

bool ValidPkceValue(std::string_view v, size_t min_len, size_t max_len) {
  if (v.size() < min_len || v.size() > max_len) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~';
  });
}

bool IsLoopback(const std::string& addr) {
  return addr == "127.0.0.1" || addr == "::1" || addr == "::ffff:127.0.0.1" ||
         addr.starts_with("127.");
}

std::string DefaultIssuerHost(const std::string& host) {
  if (host == "0.0.0.0" || host == "::" || host.empty()) return "127.0.0.1";
  if (host.find(':') != std::string::npos) return "[" + host + "]";
  return host;
}

void ErrorPage(httplib::Response& res, int status, std::string_view title,
               std::string_view message) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Frame-Options", "DENY");
  std::string html =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      HtmlEscape(title) +
      "</title></head><body><main>"
      "<h1>" +
      HtmlEscape(title) + "</h1><p role=\"alert\">" + HtmlEscape(message) +
      "</p></main></body></html>\n";
  res.set_content(html, "text/html; charset=utf-8");
}

std::string WithParams(const std::string& uri,
                       const std::vector<std::pair<std::string, std::string>>& params,
                       bool fragment) {
  std::string out = uri;
  char sep = fragment ? '#' : (uri.find('?') == std::string::npos ? '?' : '&');
  for (const auto& [k, v] : params) {
    out += sep;
    out += core::PercentEncode(k) + "=" + core::PercentEncode(v);
    sep = '&';
  }
  return out;
}

void TokenError(httplib::Response& res, int status, std::string_view error,
                std::string_view description) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
  json body = {{"error", error}, {"error_description", description}};
  res.set_content(body.dump(), "application/json");
}

}  // namespace chat::devidp
