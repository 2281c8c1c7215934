// SQL of whiteboard-service (system.md §5.3: whiteboard_boards; and, since 0005, a read of
// room_apps: is the app installed). Every statement is a libs/pg CLIENT span
// (`SELECT whiteboard_boards`, `INSERT whiteboard_boards`, `UPDATE …`, `DELETE …`, `BEGIN`,
// `COMMIT`, `SELECT room_apps`). Boards are always addressed by (room, id): a board id from
// another room is "not found".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/whiteboard.hpp"
#include "chat/core/result.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "config.hpp"

namespace chat::whiteboard_service {

struct StoredBoard {
  std::string id;
  std::string name;
  std::string elements;  // the stored JSON array
  std::string created_by;
};

class BoardRepository {
 public:
  explicit BoardRepository(std::unique_ptr<pg::Pool> pool);

  // A repository over its own pool, connected eagerly per `config` (one attempt).
  static core::Result<std::unique_ptr<BoardRepository>> Connect(
      const WhiteboardConfig& config, const telemetry::Telemetry& telemetry);

  // Whether app-registry-service has installed the whiteboard app in `room` (a room_apps row).
  core::Result<bool> IsInstalled(const telemetry::SpanContext& parent, std::string_view room);
  // The room's boards, newest first (createdAt in RFC 3339, UTC, milliseconds).
  core::Result<std::vector<contracts::WhiteboardSummary>> List(const telemetry::SpanContext& parent,
                                                               std::string_view room);
  // Inserts an empty board unless the room already holds `max_boards` (resource_exhausted). One
  // transaction holding the room's advisory lock, so concurrent creates cannot pass the limit.
  // already_exists when `id` is taken (the caller draws another id).
  core::Status Create(const telemetry::SpanContext& parent, std::string_view room,
                      std::string_view id, std::string_view name, std::string_view created_by,
                      int64_t max_boards);
  // not_found when the room has no such board.
  core::Result<StoredBoard> Load(const telemetry::SpanContext& parent, std::string_view room,
                                 std::string_view id);
  // Rows deleted (0 or 1).
  core::Result<int64_t> Delete(const telemetry::SpanContext& parent, std::string_view room,
                               std::string_view id);

  // The delta merge, serialised per board across threads and instances: BEGIN; SELECT … FOR
  // UPDATE on the board's row; `merge(stored elements)` returns the new array, or nullopt when
  // nothing changed (no write), or an error (rolled back); UPDATE; COMMIT. Returns the UPDATE
  // statement's span (invalid when nothing was written), which batched requests link to.
  // not_found when the room has no such board.
  using MergeFn = std::function<core::Result<std::optional<std::string>>(std::string_view)>;
  core::Result<telemetry::SpanContext> MergeElements(const telemetry::SpanContext& parent,
                                                     std::string_view room, std::string_view id,
                                                     const MergeFn& merge);

 private:
  std::unique_ptr<pg::Pool> pool_;
};

}  // namespace chat::whiteboard_service
