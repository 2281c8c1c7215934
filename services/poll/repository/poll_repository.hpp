// SQL of poll-service (system.md §5.3 with 0004_apps.sql's narrowed grants): polls and
// poll_votes, and the read of room_apps that tells whether the app is installed (0005). Each call
// is one libs/pg statement and one CLIENT span (`INSERT polls`, `SELECT polls`, `UPDATE polls`,
// `INSERT poll_votes`, `SELECT poll_votes`, `SELECT room_apps`). Every statement is scoped to the
// room of the request's subject: a poll of another room is "not found".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/polls.hpp"
#include "chat/core/result.hpp"
#include "chat/pg/pool.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace_context.hpp"
#include "config.hpp"

namespace chat::poll_service {

// Votes per option index and the caller's own vote.
struct Tally {
  std::map<std::int64_t, std::int64_t> counts;
  std::optional<std::int64_t> user_vote;
};

class PollRepository {
 public:
  explicit PollRepository(std::unique_ptr<pg::Pool> pool);

  // One eager connection attempt. Errors: unavailable, invalid_argument (bad DSN).
  static core::Result<std::unique_ptr<PollRepository>> Connect(
      const PollConfig& config, const telemetry::Telemetry& telemetry);

  // Whether app-registry-service has installed the poll app in `room` (a room_apps row).
  core::Result<bool> IsInstalled(const telemetry::SpanContext& parent, std::string_view room);
  // Inserts an open poll (id, room, question, options, created_by); created_at is the database's.
  core::Status Insert(const telemetry::SpanContext& parent, const contracts::Poll& poll);
  // The room's newest `limit` polls, newest first.
  core::Result<std::vector<contracts::Poll>> List(const telemetry::SpanContext& parent,
                                                  std::string_view room, std::int64_t limit);
  core::Result<std::optional<contracts::Poll>> Get(const telemetry::SpanContext& parent,
                                                   std::string_view room, std::string_view poll_id);
  // Upserts the user's vote only while the poll is open and `option_idx` is one of its options
  // (checked in the same statement): false when nothing was written.
  core::Result<bool> Vote(const telemetry::SpanContext& parent, std::string_view room,
                          std::string_view poll_id, std::string_view user, std::int64_t option_idx);
  core::Result<Tally> Count(const telemetry::SpanContext& parent, std::string_view poll_id,
                            std::string_view user);
  // Closes the poll if `user` created it and it is open: false when nothing changed.
  core::Result<bool> Close(const telemetry::SpanContext& parent, std::string_view room,
                           std::string_view poll_id, std::string_view user);

 private:
  std::unique_ptr<pg::Pool> pool_;
};

}  // namespace chat::poll_service
