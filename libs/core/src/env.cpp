#include "chat/core/env.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string>

namespace chat::core {
namespace {
std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
std::string Quote(std::string_view v) { return "\"" + std::string(v) + "\""; }
std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}
}  // namespace

std::optional<std::string> ProcessEnv::Get(std::string_view name) const {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::optional<std::string> MapEnv::Get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> EnvReader::Raw(std::string_view name) const {
  auto v = env_.Get(name);
  if (!v) return std::nullopt;
  std::string t = Trim(*v);
  if (t.empty()) return std::nullopt;  // set-but-empty behaves as unset, as OTel specifies
  return t;
}

std::string EnvReader::String(std::string_view name, std::string_view def) {
  auto v = Raw(name);
  return v ? *v : std::string(def);
}

std::string EnvReader::RequiredString(std::string_view name) {
  auto v = Raw(name);
  if (!v) {
    problems_.push_back(std::string(name) + " is required");
    return {};
  }
  return *v;
}

int64_t EnvReader::Int(std::string_view name, int64_t def, int64_t min, int64_t max) {
  auto v = Raw(name);
  if (!v) return def;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size()) {
    problems_.push_back(std::string(name) + " " + Quote(*v) + " is not an integer");
    return def;
  }
  if (out < min || out > max) {
    problems_.push_back(std::string(name) + " " + Quote(*v) + " is outside [" +
                        std::to_string(min) + ", " + std::to_string(max) + "]");
    return def;
  }
  return out;
}

double EnvReader::Double(std::string_view name, double def, double min, double max) {
  auto v = Raw(name);
  if (!v) return def;
  char* end = nullptr;
  double out = std::strtod(v->c_str(), &end);
  if (end == v->c_str() || *end != '\0') {
    problems_.push_back(std::string(name) + " " + Quote(*v) + " is not a number");
    return def;
  }
  if (!(out >= min && out <= max)) {
    problems_.push_back(std::string(name) + " " + Quote(*v) + " is outside [" +
                        std::to_string(min) + ", " + std::to_string(max) + "]");
    return def;
  }
  return out;
}

bool EnvReader::Bool(std::string_view name, bool def) {
  auto v = Raw(name);
  if (!v) return def;
  std::string l = Lower(*v);
  if (l == "true" || l == "1" || l == "yes") return true;
  if (l == "false" || l == "0" || l == "no") return false;
  problems_.push_back(std::string(name) + " " + Quote(*v) + " is not true or false");
  return def;
}

std::chrono::milliseconds EnvReader::Millis(std::string_view name, std::chrono::milliseconds def) {
  return std::chrono::milliseconds(Int(name, def.count(), 0, 86'400'000));
}

std::string EnvReader::Enum(std::string_view name, std::string_view def,
                            const std::vector<std::string_view>& allowed) {
  auto v = Raw(name);
  if (!v) return std::string(def);
  std::string l = Lower(*v);
  for (auto a : allowed) {
    if (l == a) return l;
  }
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  problems_.push_back(std::string(name) + " " + Quote(*v) + " is not one of " + list);
  return std::string(def);
}

std::string EnvReader::Url(std::string_view name, std::string_view def) {
  auto v = Raw(name);
  if (!v) return std::string(def);
  std::string_view s = *v;
  size_t scheme_end = s.find("://");
  bool ok = scheme_end != std::string_view::npos && scheme_end > 0 && s.size() > scheme_end + 3 &&
            s[scheme_end + 3] != '/';
  if (ok) {
    std::string scheme = Lower(s.substr(0, scheme_end));
    ok = scheme == "http" || scheme == "https" || scheme == "nats" || scheme == "tls" ||
         scheme == "ws" || scheme == "wss" || scheme == "postgresql" || scheme == "postgres";
  }
  if (!ok) {
    problems_.push_back(std::string(name) + " " + Quote(*v) + " is not a URL");
    return std::string(def);
  }
  return *v;
}

uint16_t EnvReader::Port(std::string_view name, uint16_t def) {
  return static_cast<uint16_t>(Int(name, def, 0, 65535));
}

Status EnvReader::Finish() const {
  if (problems_.empty()) return Status::Ok();
  std::string msg = "config: ";
  for (size_t i = 0; i < problems_.size(); ++i) {
    if (i > 0) msg += "; ";
    msg += problems_[i];
  }
  return InvalidArgument(std::move(msg));
}

}  // namespace chat::core
