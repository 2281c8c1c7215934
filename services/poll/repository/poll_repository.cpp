#include "repository/poll_repository.hpp"

#include <nlohmann/json.hpp>
#include <utility>

#include "chat/contracts/apps.hpp"
#include "chat/pg/statement.hpp"

namespace chat::poll_service {
namespace {

constexpr pg::Statement kInstalled{"poll_app_installed", contracts::kAppInstalledSql, "SELECT",
                                   "room_apps"};
constexpr pg::Statement kInsert{
    "poll_insert",
    "INSERT INTO polls (id, room, question, options, created_by) VALUES ($1, $2, $3, $4::jsonb, "
    "$5)",
    "INSERT", "polls"};
constexpr pg::Statement kList{
    "poll_list",
    "SELECT id, room, question, options::text, created_by, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), closed "
    "FROM polls WHERE room = $1 ORDER BY created_at DESC, id LIMIT $2",
    "SELECT", "polls"};
constexpr pg::Statement kGet{
    "poll_get",
    "SELECT id, room, question, options::text, created_by, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), closed "
    "FROM polls WHERE id = $1 AND room = $2",
    "SELECT", "polls"};
constexpr pg::Statement kVote{
    "poll_vote",
    "INSERT INTO poll_votes (poll_id, user_id, option_idx) SELECT p.id, $3::text, $4::int FROM "
    "polls p "
    "WHERE p.id = $1 AND p.room = $2 AND p.closed IS NOT TRUE AND $4::int >= 0 AND "
    "$4::int < jsonb_array_length(p.options) "
    "ON CONFLICT (poll_id, user_id) DO UPDATE SET option_idx = EXCLUDED.option_idx, "
    "voted_at = now()",
    "INSERT", "poll_votes"};
constexpr pg::Statement kCount{
    "poll_count",
    "SELECT option_idx, count(*), bool_or(user_id = $2) FROM poll_votes WHERE poll_id = $1 "
    "GROUP BY option_idx",
    "SELECT", "poll_votes"};
constexpr pg::Statement kClose{
    "poll_close",
    "UPDATE polls SET closed = true WHERE id = $1 AND room = $2 AND created_by = $3 AND "
    "closed IS NOT TRUE",
    "UPDATE", "polls"};

contracts::Poll PollRow(const pg::Rows& rows, int i) {
  contracts::Poll p;
  p.id = std::string(rows.Text(i, 0));
  p.room = std::string(rows.Text(i, 1));
  p.question = std::string(rows.Text(i, 2));
  auto options = nlohmann::json::parse(rows.Text(i, 3), nullptr, /*allow_exceptions=*/false);
  if (options.is_array()) {
    for (const auto& o : options) {
      if (o.is_string()) p.options.push_back(o.get<std::string>());
    }
  }
  p.created_by = std::string(rows.Text(i, 4));
  p.created_at = std::string(rows.Text(i, 5));
  p.closed = rows.Bool(i, 6);
  return p;
}

}  // namespace

PollRepository::PollRepository(std::unique_ptr<pg::Pool> pool) : pool_(std::move(pool)) {}

core::Result<std::unique_ptr<PollRepository>> PollRepository::Connect(
    const PollConfig& config, const telemetry::Telemetry& telemetry) {
  pg::PoolOptions options;
  options.dsn = config.database_url;
  options.size = config.db_pool_size;
  options.connect_eagerly = true;
  options.application_name = "poll-service";
  CHAT_ASSIGN_OR_RETURN(auto pool, pg::Pool::Create(std::move(options), telemetry));
  return std::make_unique<PollRepository>(std::move(pool));
}

core::Result<bool> PollRepository::IsInstalled(const telemetry::SpanContext& parent,
                                               std::string_view room) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kInstalled, {room, "poll"}));
  return rows.RowCount() > 0;
}

core::Status PollRepository::Insert(const telemetry::SpanContext& parent,
                                    const contracts::Poll& poll) {
  const std::string options =
      nlohmann::json(poll.options).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return pool_
      ->Execute(parent, kInsert, {poll.id, poll.room, poll.question, options, poll.created_by})
      .status();
}

core::Result<std::vector<contracts::Poll>> PollRepository::List(
    const telemetry::SpanContext& parent, std::string_view room, std::int64_t limit) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kList, {room, limit}));
  std::vector<contracts::Poll> out;
  out.reserve(static_cast<size_t>(rows.RowCount()));
  for (int i = 0; i < rows.RowCount(); ++i) out.push_back(PollRow(rows, i));
  return out;
}

core::Result<std::optional<contracts::Poll>> PollRepository::Get(
    const telemetry::SpanContext& parent, std::string_view room, std::string_view poll_id) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kGet, {poll_id, room}));
  if (rows.RowCount() == 0) return std::optional<contracts::Poll>();
  return std::optional<contracts::Poll>(PollRow(rows, 0));
}

core::Result<bool> PollRepository::Vote(const telemetry::SpanContext& parent, std::string_view room,
                                        std::string_view poll_id, std::string_view user,
                                        std::int64_t option_idx) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows,
                        pool_->Execute(parent, kVote, {poll_id, room, user, option_idx}));
  return rows.RowsAffected() > 0;
}

core::Result<Tally> PollRepository::Count(const telemetry::SpanContext& parent,
                                          std::string_view poll_id, std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kCount, {poll_id, user}));
  Tally t;
  for (int i = 0; i < rows.RowCount(); ++i) {
    t.counts[rows.Int64(i, 0)] = rows.Int64(i, 1);
    if (rows.Bool(i, 2)) t.user_vote = rows.Int64(i, 0);
  }
  return t;
}

core::Result<bool> PollRepository::Close(const telemetry::SpanContext& parent,
                                         std::string_view room, std::string_view poll_id,
                                         std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_->Execute(parent, kClose, {poll_id, room, user}));
  return rows.RowsAffected() > 0;
}

}  // namespace chat::poll_service
