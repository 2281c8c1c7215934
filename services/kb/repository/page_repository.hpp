// SQL of kb-service (system.md §5.3: kb_pages; and, since 0005, a read of room_apps: is the app
// installed). Each call is one libs/pg statement and one CLIENT span (`SELECT kb_pages`,
// `INSERT kb_pages`, `UPDATE kb_pages`, `DELETE kb_pages`, `SELECT room_apps`).
// Every statement is scoped to the page's room: a page id from another room is "no such page".
// Timestamps are formatted by Postgres as RFC 3339 UTC with milliseconds.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/kb.hpp"
#include "chat/core/result.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "config.hpp"

namespace chat::kb_service {

class PageRepository {
 public:
  explicit PageRepository(std::unique_ptr<pg::Pool> pool);

  // A repository over its own pool, connected eagerly per `config` (one attempt). Errors:
  // unavailable when Postgres is unreachable, invalid_argument for a bad DSN.
  static core::Result<std::unique_ptr<PageRepository>> Connect(
      const KbConfig& config, const telemetry::Telemetry& telemetry);

  // Whether app-registry-service has installed the kb app in `room` (a room_apps row).
  core::Result<bool> IsInstalled(const telemetry::SpanContext& parent, std::string_view room);
  // The room's pages, most recently updated first.
  core::Result<std::vector<contracts::KbPageSummary>> List(const telemetry::SpanContext& parent,
                                                           std::string_view room);
  // A new empty page with a random UUID; nullopt when the room already has `max_pages` pages.
  core::Result<std::optional<contracts::KbPageCreated>> Create(const telemetry::SpanContext& parent,
                                                               std::string_view room,
                                                               std::string_view title,
                                                               std::string_view user,
                                                               int64_t max_pages);
  // The page without its editors; nullopt when there is no such page in the room.
  core::Result<std::optional<contracts::KbPage>> Load(const telemetry::SpanContext& parent,
                                                      std::string_view room,
                                                      std::string_view page_id);
  core::Result<bool> Exists(const telemetry::SpanContext& parent, std::string_view room,
                            std::string_view page_id);
  // False when no page matched.
  core::Result<bool> Save(const telemetry::SpanContext& parent, std::string_view room,
                          std::string_view page_id, std::string_view title,
                          std::string_view content, std::string_view user);
  core::Result<bool> Delete(const telemetry::SpanContext& parent, std::string_view room,
                            std::string_view page_id);

 private:
  std::unique_ptr<pg::Pool> pool_;
};

}  // namespace chat::kb_service
