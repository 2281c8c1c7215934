#include "chat/contracts/kb.hpp"

#include "chat/contracts/ids.hpp"
#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

namespace {

// Editors of one page: bounded like any short list (one entry per user editing it).
constexpr std::size_t kMaxEditors = 1000;

core::Status DecodeSummary(const Json& j, const std::string& path, KbPageSummary& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.Str("id", v.id, Need::kNonEmpty);
  r.Str("title", v.title, Need::kRequired, kMaxPayloadBytes);
  r.User("updatedBy", v.updated_by, Need::kRequired);
  r.Str("updatedAt", v.updated_at, Need::kNonEmpty);
  return r.status();
}

Json EncodeSummary(const KbPageSummary& v) {
  Json j = Json::object();
  j["id"] = v.id;
  j["title"] = v.title;
  j["updatedBy"] = v.updated_by;
  j["updatedAt"] = v.updated_at;
  return j;
}

// Editors are usernames (they come from subjects, never from bodies).
void ReadEditors(Reader& r, std::vector<std::string>& out) {
  r.StrList("editors", out, Need::kRequired, kMaxEditors);
  if (!r.ok()) return;
  for (const auto& e : out) {
    r.Check("editors", ValidateUsername(e));
    if (!r.ok()) return;
  }
}

}  // namespace

std::string ToJson(const KbRequest& v) {
  Json j = Json::object();
  internal::PutStr(j, "pageId", v.page_id);
  internal::PutStr(j, "title", v.title);
  internal::PutStr(j, "content", v.content);
  internal::PutStr(j, "user", v.user);
  return internal::Dump(j);
}

std::string ToJson(const KbPageSummary& v) { return internal::Dump(EncodeSummary(v)); }

std::string ToJson(const KbPageList& v) {
  Json j = Json::object();
  Json pages = Json::array();
  for (const auto& p : v.pages) pages.push_back(EncodeSummary(p));
  j["pages"] = std::move(pages);
  return internal::Dump(j);
}

std::string ToJson(const KbPageCreated& v) {
  Json j = Json::object();
  j["id"] = v.id;
  j["title"] = v.title;
  return internal::Dump(j);
}

std::string ToJson(const KbPage& v) {
  Json j = Json::object();
  j["id"] = v.id;
  j["title"] = v.title;
  j["content"] = v.content;
  j["createdBy"] = v.created_by;
  j["updatedBy"] = v.updated_by;
  j["createdAt"] = v.created_at;
  j["updatedAt"] = v.updated_at;
  j["editors"] = v.editors;
  return internal::Dump(j);
}

std::string ToJson(const KbPresence& v) {
  Json j = Json::object();
  j["pageId"] = v.page_id;
  j["editors"] = v.editors;
  return internal::Dump(j);
}

template <>
core::Result<KbRequest> FromJson<KbRequest>(std::string_view json) {
  return internal::DecodeTop<KbRequest>(
      json, "KbRequest", [](const Json& j, const std::string& path, KbRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Str("pageId", v.page_id, Need::kOptional);
        r.Str("title", v.title, Need::kOptional, kMaxPayloadBytes);
        r.Str("content", v.content, Need::kOptional, kMaxPayloadBytes);
        r.User("user", v.user, Need::kOptional);
        return r.status();
      });
}

template <>
core::Result<KbPageSummary> FromJson<KbPageSummary>(std::string_view json) {
  return internal::DecodeTop<KbPageSummary>(json, "KbPageSummary", DecodeSummary);
}

template <>
core::Result<KbPageList> FromJson<KbPageList>(std::string_view json) {
  return internal::DecodeTop<KbPageList>(
      json, "KbPageList", [](const Json& j, const std::string& path, KbPageList& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        const Json* pages = r.Find("pages", Need::kRequired);
        if (!r.ok()) return r.status();
        return internal::DecodeArray(*pages, r.Sub("pages"), v.pages, DecodeSummary);
      });
}

template <>
core::Result<KbPageCreated> FromJson<KbPageCreated>(std::string_view json) {
  return internal::DecodeTop<KbPageCreated>(
      json, "KbPageCreated", [](const Json& j, const std::string& path, KbPageCreated& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Str("id", v.id, Need::kNonEmpty);
        r.Str("title", v.title, Need::kRequired, kMaxPayloadBytes);
        return r.status();
      });
}

template <>
core::Result<KbPage> FromJson<KbPage>(std::string_view json) {
  return internal::DecodeTop<KbPage>(
      json, "KbPage", [](const Json& j, const std::string& path, KbPage& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Str("id", v.id, Need::kNonEmpty);
        r.Str("title", v.title, Need::kRequired, kMaxPayloadBytes);
        r.Str("content", v.content, Need::kRequired, kMaxPayloadBytes);
        r.User("createdBy", v.created_by, Need::kRequired);
        r.User("updatedBy", v.updated_by, Need::kRequired);
        r.Str("createdAt", v.created_at, Need::kNonEmpty);
        r.Str("updatedAt", v.updated_at, Need::kNonEmpty);
        ReadEditors(r, v.editors);
        return r.status();
      });
}

template <>
core::Result<KbPresence> FromJson<KbPresence>(std::string_view json) {
  return internal::DecodeTop<KbPresence>(json, "KbPresence",
                                         [](const Json& j, const std::string& path, KbPresence& v) {
                                           CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
                                           Reader r(j, path);
                                           r.Str("pageId", v.page_id, Need::kNonEmpty);
                                           ReadEditors(r, v.editors);
                                           return r.status();
                                         });
}

}  // namespace chat::contracts
