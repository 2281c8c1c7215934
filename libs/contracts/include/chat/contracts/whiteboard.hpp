// whiteboard-service wire types (system.md §3.3.10 "Whiteboard", requests on
// app.whiteboard.{room}.{action}.{user} per docs/adr/0001). Elements are Excalidraw objects:
// opaque JSON objects with at least a non-empty string `id` and a positive integer `version`,
// kept byte for byte as the client sent them (key order included).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

inline constexpr std::size_t kMaxWhiteboardNameBytes = 100;       // board name
inline constexpr std::size_t kMaxWhiteboardIdBytes = 64;          // board id
inline constexpr std::size_t kMaxWhiteboardElementIdBytes = 128;  // element id
inline constexpr std::size_t kMaxWhiteboardElementBytes = 16384;  // one element's JSON
inline constexpr std::string_view kDefaultWhiteboardName = "Untitled";

// One element: its id and version, and the whole object as canonical JSON text.
struct WhiteboardElement {
  std::string id;
  std::int64_t version = 0;
  std::string json;

  friend bool operator==(const WhiteboardElement&, const WhiteboardElement&) = default;
};

// create: {"name"?,"user"?} (name absent or empty = "Untitled", applied by the service).
struct WhiteboardCreateRequest {
  std::string name;
  std::string user;

  friend bool operator==(const WhiteboardCreateRequest&, const WhiteboardCreateRequest&) = default;
};

// load and delete: {"boardId","user"?}.
struct WhiteboardBoardRequest {
  std::string board_id;
  std::string user;

  friend bool operator==(const WhiteboardBoardRequest&, const WhiteboardBoardRequest&) = default;
};

// delta: {"boardId","elements":[Element],"user"?}.
struct WhiteboardDeltaRequest {
  std::string board_id;
  std::vector<WhiteboardElement> elements;
  std::string user;

  friend bool operator==(const WhiteboardDeltaRequest&, const WhiteboardDeltaRequest&) = default;
};

// A board in the list reply: {"id","name","createdBy","createdAt"(RFC 3339)}.
struct WhiteboardSummary {
  std::string id;
  std::string name;
  std::string created_by;
  std::string created_at;

  friend bool operator==(const WhiteboardSummary&, const WhiteboardSummary&) = default;
};

// list reply: {"boards":[…]} newest first.
struct WhiteboardListReply {
  std::vector<WhiteboardSummary> boards;

  friend bool operator==(const WhiteboardListReply&, const WhiteboardListReply&) = default;
};

// create reply: {"id","name","createdBy"}.
struct WhiteboardCreateReply {
  std::string id;
  std::string name;
  std::string created_by;

  friend bool operator==(const WhiteboardCreateReply&, const WhiteboardCreateReply&) = default;
};

// load reply: {"id","name","elements":[…],"createdBy"}.
struct WhiteboardBoard {
  std::string id;
  std::string name;
  std::vector<WhiteboardElement> elements;
  std::string created_by;

  friend bool operator==(const WhiteboardBoard&, const WhiteboardBoard&) = default;
};

// app.whiteboard.{room}.sync: {"boardId","elements": only the changed ones,"sender"}.
struct WhiteboardSync {
  std::string board_id;
  std::vector<WhiteboardElement> elements;
  std::string sender;

  friend bool operator==(const WhiteboardSync&, const WhiteboardSync&) = default;
};

// Board ids: 1-64 characters of [A-Za-z0-9_-] (the service mints 8 base-36 characters).
core::Status ValidateWhiteboardId(std::string_view id);

// A JSON array of elements as stored in whiteboard_boards.elements (no payload cap: the stored
// board is bounded by the service's configured board size). Each element is validated.
core::Result<std::vector<WhiteboardElement>> WhiteboardElementsFromJson(std::string_view json);
// The JSON array of `elements` (each element's own text, comma-joined).
std::string WhiteboardElementsToJson(const std::vector<WhiteboardElement>& elements);

std::string ToJson(const WhiteboardElement& v);
std::string ToJson(const WhiteboardCreateRequest& v);
std::string ToJson(const WhiteboardBoardRequest& v);
std::string ToJson(const WhiteboardDeltaRequest& v);
std::string ToJson(const WhiteboardSummary& v);
std::string ToJson(const WhiteboardListReply& v);
std::string ToJson(const WhiteboardCreateReply& v);
std::string ToJson(const WhiteboardBoard& v);
std::string ToJson(const WhiteboardSync& v);

template <>
core::Result<WhiteboardElement> FromJson<WhiteboardElement>(std::string_view json);
template <>
core::Result<WhiteboardCreateRequest> FromJson<WhiteboardCreateRequest>(std::string_view json);
template <>
core::Result<WhiteboardBoardRequest> FromJson<WhiteboardBoardRequest>(std::string_view json);
template <>
core::Result<WhiteboardDeltaRequest> FromJson<WhiteboardDeltaRequest>(std::string_view json);
template <>
core::Result<WhiteboardSummary> FromJson<WhiteboardSummary>(std::string_view json);
template <>
core::Result<WhiteboardListReply> FromJson<WhiteboardListReply>(std::string_view json);
template <>
core::Result<WhiteboardCreateReply> FromJson<WhiteboardCreateReply>(std::string_view json);
template <>
core::Result<WhiteboardBoard> FromJson<WhiteboardBoard>(std::string_view json);
template <>
core::Result<WhiteboardSync> FromJson<WhiteboardSync>(std::string_view json);

}  // namespace chat::contracts
