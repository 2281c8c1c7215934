#include "chat/contracts/whiteboard.hpp"

#include <utility>

#include "json_util.hpp"

namespace chat::contracts {

using internal::Json;
using internal::Need;
using internal::Reader;

namespace {

core::Status DecodeElement(const Json& j, const std::string& path, WhiteboardElement& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.Str("id", v.id, Need::kNonEmpty, kMaxWhiteboardElementIdBytes);
  r.Int("version", v.version, Need::kRequired, 1);
  CHAT_RETURN_IF_ERROR(r.status());
  v.json = internal::Dump(j);
  if (v.json.size() > kMaxWhiteboardElementBytes) {
    return core::InvalidArgument(path + ": exceeds " + std::to_string(kMaxWhiteboardElementBytes) +
                                 " bytes");
  }
  return core::Status();
}

// The element's stored text as a JSON value (it was validated when decoded).
Json ElementValue(const WhiteboardElement& e) {
  Json j = Json::parse(e.json, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? Json::object() : j;
}

Json ElementArray(const std::vector<WhiteboardElement>& elements) {
  Json a = Json::array();
  for (const auto& e : elements) a.push_back(ElementValue(e));
  return a;
}

core::Status DecodeElements(const Json& j, const std::string& path, std::string_view key,
                            std::vector<WhiteboardElement>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return core::InvalidArgument(path + ": field '" + std::string(key) + "' is required");
  }
  return internal::DecodeArray(*it, path + "." + std::string(key), out, DecodeElement);
}

void BoardId(Reader& r, std::string& out) {
  r.Str("boardId", out, Need::kNonEmpty, kMaxWhiteboardIdBytes);
  if (r.ok()) r.Check("boardId", ValidateWhiteboardId(out));
}

core::Status DecodeSummary(const Json& j, const std::string& path, WhiteboardSummary& v) {
  CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
  Reader r(j, path);
  r.Str("id", v.id, Need::kNonEmpty, kMaxWhiteboardIdBytes);
  r.Str("name", v.name, Need::kRequired, kMaxWhiteboardNameBytes);
  r.Str("createdBy", v.created_by, Need::kRequired);
  r.Str("createdAt", v.created_at, Need::kRequired);
  return r.status();
}

Json EncodeSummary(const WhiteboardSummary& v) {
  Json j = Json::object();
  j["id"] = v.id;
  j["name"] = v.name;
  j["createdBy"] = v.created_by;
  j["createdAt"] = v.created_at;
  return j;
}

}  // namespace

core::Status ValidateWhiteboardId(std::string_view id) {
  if (id.empty() || id.size() > kMaxWhiteboardIdBytes) {
    return core::InvalidArgument("board id must be 1-64 characters");
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return core::InvalidArgument("board id may hold only letters, digits, '-' and '_'");
  }
  return core::Status();
}

core::Result<std::vector<WhiteboardElement>> WhiteboardElementsFromJson(std::string_view json) {
  Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return core::InvalidArgument("whiteboard elements: not valid JSON");
  std::vector<WhiteboardElement> out;
  CHAT_RETURN_IF_ERROR(
      internal::DecodeArray(j, "elements", out, DecodeElement, static_cast<std::size_t>(-1)));
  return out;
}

std::string WhiteboardElementsToJson(const std::vector<WhiteboardElement>& elements) {
  std::string out = "[";
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ',';
    out += elements[i].json;
  }
  out += ']';
  return out;
}

std::string ToJson(const WhiteboardElement& v) { return v.json; }

std::string ToJson(const WhiteboardCreateRequest& v) {
  Json j = Json::object();
  internal::PutStr(j, "name", v.name);
  internal::PutStr(j, "user", v.user);
  return internal::Dump(j);
}

std::string ToJson(const WhiteboardBoardRequest& v) {
  Json j = Json::object();
  j["boardId"] = v.board_id;
  internal::PutStr(j, "user", v.user);
  return internal::Dump(j);
}

std::string ToJson(const WhiteboardDeltaRequest& v) {
  Json j = Json::object();
  j["boardId"] = v.board_id;
  j["elements"] = ElementArray(v.elements);
  internal::PutStr(j, "user", v.user);
  return internal::Dump(j);
}

std::string ToJson(const WhiteboardSummary& v) { return internal::Dump(EncodeSummary(v)); }

std::string ToJson(const WhiteboardListReply& v) {
  Json a = Json::array();
  for (const auto& b : v.boards) a.push_back(EncodeSummary(b));
  Json j = Json::object();
  j["boards"] = std::move(a);
  return internal::Dump(j);
}

std::string ToJson(const WhiteboardCreateReply& v) {
  Json j = Json::object();
  j["id"] = v.id;
  j["name"] = v.name;
  j["createdBy"] = v.created_by;
  return internal::Dump(j);
}

std::string ToJson(const WhiteboardBoard& v) {
  Json j = Json::object();
  j["id"] = v.id;
  j["name"] = v.name;
  j["elements"] = ElementArray(v.elements);
  j["createdBy"] = v.created_by;
  return internal::Dump(j);
}

std::string ToJson(const WhiteboardSync& v) {
  Json j = Json::object();
  j["boardId"] = v.board_id;
  j["elements"] = ElementArray(v.elements);
  j["sender"] = v.sender;
  return internal::Dump(j);
}

template <>
core::Result<WhiteboardElement> FromJson<WhiteboardElement>(std::string_view json) {
  return internal::DecodeTop<WhiteboardElement>(json, "WhiteboardElement", DecodeElement);
}

template <>
core::Result<WhiteboardCreateRequest> FromJson<WhiteboardCreateRequest>(std::string_view json) {
  return internal::DecodeTop<WhiteboardCreateRequest>(
      json, "WhiteboardCreateRequest",
      [](const Json& j, const std::string& path, WhiteboardCreateRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Str("name", v.name, Need::kOptional, kMaxWhiteboardNameBytes);
        r.User("user", v.user, Need::kOptional);
        return r.status();
      });
}

template <>
core::Result<WhiteboardBoardRequest> FromJson<WhiteboardBoardRequest>(std::string_view json) {
  return internal::DecodeTop<WhiteboardBoardRequest>(
      json, "WhiteboardBoardRequest",
      [](const Json& j, const std::string& path, WhiteboardBoardRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        BoardId(r, v.board_id);
        r.User("user", v.user, Need::kOptional);
        return r.status();
      });
}

template <>
core::Result<WhiteboardDeltaRequest> FromJson<WhiteboardDeltaRequest>(std::string_view json) {
  return internal::DecodeTop<WhiteboardDeltaRequest>(
      json, "WhiteboardDeltaRequest",
      [](const Json& j, const std::string& path, WhiteboardDeltaRequest& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        BoardId(r, v.board_id);
        r.User("user", v.user, Need::kOptional);
        CHAT_RETURN_IF_ERROR(r.status());
        return DecodeElements(j, path, "elements", v.elements);
      });
}

template <>
core::Result<WhiteboardSummary> FromJson<WhiteboardSummary>(std::string_view json) {
  return internal::DecodeTop<WhiteboardSummary>(json, "WhiteboardSummary", DecodeSummary);
}

template <>
core::Result<WhiteboardListReply> FromJson<WhiteboardListReply>(std::string_view json) {
  return internal::DecodeTop<WhiteboardListReply>(
      json, "WhiteboardListReply",
      [](const Json& j, const std::string& path, WhiteboardListReply& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        auto it = j.find("boards");
        if (it == j.end() || it->is_null()) {
          return core::InvalidArgument(path + ": field 'boards' is required");
        }
        return internal::DecodeArray(*it, path + ".boards", v.boards, DecodeSummary);
      });
}

template <>
core::Result<WhiteboardCreateReply> FromJson<WhiteboardCreateReply>(std::string_view json) {
  return internal::DecodeTop<WhiteboardCreateReply>(
      json, "WhiteboardCreateReply",
      [](const Json& j, const std::string& path, WhiteboardCreateReply& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Str("id", v.id, Need::kNonEmpty, kMaxWhiteboardIdBytes);
        r.Str("name", v.name, Need::kRequired, kMaxWhiteboardNameBytes);
        r.Str("createdBy", v.created_by, Need::kRequired);
        return r.status();
      });
}

template <>
core::Result<WhiteboardBoard> FromJson<WhiteboardBoard>(std::string_view json) {
  return internal::DecodeTop<WhiteboardBoard>(
      json, "WhiteboardBoard", [](const Json& j, const std::string& path, WhiteboardBoard& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        r.Str("id", v.id, Need::kNonEmpty, kMaxWhiteboardIdBytes);
        r.Str("name", v.name, Need::kRequired, kMaxWhiteboardNameBytes);
        r.Str("createdBy", v.created_by, Need::kRequired);
        CHAT_RETURN_IF_ERROR(r.status());
        return DecodeElements(j, path, "elements", v.elements);
      });
}

template <>
core::Result<WhiteboardSync> FromJson<WhiteboardSync>(std::string_view json) {
  return internal::DecodeTop<WhiteboardSync>(
      json, "WhiteboardSync", [](const Json& j, const std::string& path, WhiteboardSync& v) {
        CHAT_RETURN_IF_ERROR(internal::ExpectObject(j, path));
        Reader r(j, path);
        BoardId(r, v.board_id);
        r.Str("sender", v.sender, Need::kNonEmpty);
        CHAT_RETURN_IF_ERROR(r.status());
        return DecodeElements(j, path, "elements", v.elements);
      });
}

}  // namespace chat::contracts
