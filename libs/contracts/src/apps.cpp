#include "chat/contracts/apps.hpp"

#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

core::Status ValidateAppId(std::string_view app_id) {
  if (app_id.empty() || app_id.size() > kMaxAppIdBytes) {
    return core::InvalidArgument("app id must be 1-64 bytes");
  }
  for (char c : app_id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return core::InvalidArgument("app id may contain only a-z, 0-9 and '-'");
    }
  }
  return core::Status();
}

core::Status AppNotInstalled(std::string_view app_id) {
  return core::FailedPrecondition("the " + std::string(app_id) +
                                  " app is not installed in this room");
}

namespace {

// An optional JSON object field kept as its canonical text.
void ConfigField(Reader& r, std::string& out) {
  const Json* v = r.Find("config", Need::kOptional);
  if (v == nullptr) return;
  if (!v->is_object()) {
    r.Fail("config", "must be an object");
    return;
  }
  std::string text = internal::Dump(*v);
  if (text.size() > kMaxAppConfigBytes) {
    r.Fail("config", "exceeds " + std::to_string(kMaxAppConfigBytes) + " bytes");
    return;
  }
  out = std::move(text);
}

void AppIdField(Reader& r, std::string& out) {
  r.Str("appId", out, Need::kNonEmpty, kMaxAppIdBytes);
  if (r.ok()) r.Check("appId", ValidateAppId(out));
}

core::Status DecodeApp(const Json& j, const std::string& path, AppInfo& v, bool installed) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.Str("id", v.id, Need::kNonEmpty, kMaxAppIdBytes);
  if (r.ok()) r.Check("id", ValidateAppId(v.id));
  r.Str("name", v.name, Need::kNonEmpty);
  r.Str("description", v.description, Need::kOptional, internal::kMaxUrlBytes);
  r.Str("iconUrl", v.icon_url, Need::kOptional, internal::kMaxUrlBytes);
  r.Str("componentUrl", v.component_url, Need::kNonEmpty, internal::kMaxUrlBytes);
  r.Str("subjectPrefix", v.subject_prefix, Need::kNonEmpty);
  if (installed) {
    r.User("installedBy", v.installed_by, Need::kRequired);
    r.Str("installedAt", v.installed_at, Need::kNonEmpty);
    ConfigField(r, v.config);
  }
  return r.status();
}

Json EncodeApp(const AppInfo& v, bool installed) {
  Json j = Json::object();
  j["id"] = v.id;
  j["name"] = v.name;
  internal::PutStr(j, "description", v.description);
  internal::PutStr(j, "iconUrl", v.icon_url);
  j["componentUrl"] = v.component_url;
  j["subjectPrefix"] = v.subject_prefix;
  if (installed) {
    j["installedBy"] = v.installed_by;
    j["installedAt"] = v.installed_at;
    if (!v.config.empty()) j["config"] = Json::parse(v.config, nullptr, false);
  }
  return j;
}

}  // namespace

std::string ToJson(const AppList& v) {
  Json a = Json::array();
  for (const auto& app : v.apps) a.push_back(EncodeApp(app, false));
  return internal::Dump(a);
}

std::string ToJson(const RoomAppList& v) {
  Json a = Json::array();
  for (const auto& app : v.apps) a.push_back(EncodeApp(app, true));
  return internal::Dump(a);
}

std::string ToJson(const AppInstallRequest& v) {
  Json j = Json::object();
  j["appId"] = v.app_id;
  if (!v.config.empty()) j["config"] = Json::parse(v.config, nullptr, false);
  internal::PutStr(j, "user", v.user);
  return internal::Dump(j);
}

std::string ToJson(const AppUninstallRequest& v) {
  Json j = Json::object();
  j["appId"] = v.app_id;
  internal::PutStr(j, "user", v.user);
  return internal::Dump(j);
}

template <>
core::Result<AppList> FromJson<AppList>(std::string_view json) {
  return internal::DecodeTop<AppList>(
      json, "AppList", [](const Json& j, const std::string& path, AppList& v) {
        return internal::DecodeArray(j, path, v.apps,
                                     [](const Json& e, const std::string& p, AppInfo& app) {
                                       return DecodeApp(e, p, app, false);
                                     });
      });
}

template <>
core::Result<RoomAppList> FromJson<RoomAppList>(std::string_view json) {
  return internal::DecodeTop<RoomAppList>(
      json, "RoomAppList", [](const Json& j, const std::string& path, RoomAppList& v) {
        return internal::DecodeArray(j, path, v.apps,
                                     [](const Json& e, const std::string& p, AppInfo& app) {
                                       return DecodeApp(e, p, app, true);
                                     });
      });
}

template <>
core::Result<AppInstallRequest> FromJson<AppInstallRequest>(std::string_view json) {
  return internal::DecodeTop<AppInstallRequest>(
      json, "AppInstallRequest", [](const Json& j, const std::string& path, AppInstallRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        AppIdField(r, v.app_id);
        ConfigField(r, v.config);
        r.User("user", v.user, Need::kOptional);
        return r.status();
      });
}

template <>
core::Result<AppUninstallRequest> FromJson<AppUninstallRequest>(std::string_view json) {
  return internal::DecodeTop<AppUninstallRequest>(
      json, "AppUninstallRequest",
      [](const Json& j, const std::string& path, AppUninstallRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        AppIdField(r, v.app_id);
        r.User("user", v.user, Need::kOptional);
        return r.status();
      });
}

}  // namespace chat::contracts
