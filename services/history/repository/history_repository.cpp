#include "repository/history_repository.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "chat/contracts/ids.hpp"
#include "chat/pg/statement.hpp"

namespace chat::history_service {

core::Result<std::unique_ptr<HistoryRepository>> HistoryRepository::Connect(
    const HistoryConfig& config, const telemetry::Telemetry& telemetry) {
  pg::PoolOptions options;
  options.dsn = config.database_url;
  options.size = config.db_pool_size;
  options.connect_eagerly = true;
  options.statement_timeout = config.statement_timeout;
  options.application_name = "history-service";
  CHAT_ASSIGN_OR_RETURN(auto pool, pg::Pool::Create(std::move(options), telemetry));
  return std::make_unique<HistoryRepository>(std::move(pool));
}

namespace {

// One round trip per page: reply counts and reactions are correlated sub-selects, served by
// idx_messages_thread and idx_reactions_lookup. $2 = 0 means "newest page".
constexpr pg::Statement kRoomPage{
    "history_room_page",
    "SELECT m.username, m.text, m.\"timestamp\", m.thread_id, m.parent_timestamp, m.is_deleted, "
    "m.edited_at, m.sticker_url, "
    "(SELECT count(*) FROM messages t WHERE t.thread_id = m.room || '-' || m.\"timestamp\"::text) "
    "AS reply_count, "
    "(SELECT json_agg(json_build_array(r.emoji, r.user_id) ORDER BY r.created_at, r.id) "
    "FROM message_reactions r WHERE r.room = m.room AND r.message_timestamp = m.\"timestamp\") "
    "AS reactions "
    "FROM messages m "
    "WHERE m.room = $1 AND m.thread_id IS NULL AND ($2::bigint = 0 OR m.\"timestamp\" < "
    "$2::bigint) "
    "ORDER BY m.\"timestamp\" DESC, m.id DESC LIMIT $3",
    "SELECT", "messages"};

constexpr pg::Statement kThread{
    "history_thread",
    "SELECT m.username, m.text, m.\"timestamp\", m.thread_id, m.parent_timestamp, m.is_deleted, "
    "m.edited_at, m.sticker_url, 0::bigint AS reply_count, "
    "(SELECT json_agg(json_build_array(r.emoji, r.user_id) ORDER BY r.created_at, r.id) "
    "FROM message_reactions r WHERE r.room = m.room AND r.message_timestamp = m.\"timestamp\") "
    "AS reactions "
    "FROM messages m WHERE m.thread_id = $1 AND m.room = $2 "
    "ORDER BY m.\"timestamp\" ASC, m.id ASC LIMIT $3",
    "SELECT", "messages"};

// Candidates by prefix/suffix; the exact participant check is contracts::IsDmParticipant.
constexpr pg::Statement kDmRooms{
    "history_dm_rooms",
    "SELECT DISTINCT room FROM messages WHERE left(room, 3) = 'dm-' AND "
    "(left(room, length($1::text)) = $1::text OR right(room, length($2::text)) = $2::text)",
    "SELECT", "messages"};

constexpr pg::Statement kAccess{
    "history_room_access",
    "SELECT r.type, EXISTS (SELECT 1 FROM room_members rm WHERE rm.room_name = r.name AND "
    "rm.username = $2) AS is_member FROM rooms r WHERE r.name = $1",
    "SELECT", "rooms"};

std::vector<contracts::HistoryMessage> ToMessages(const pg::Rows& rows, std::string_view room) {
  std::vector<contracts::HistoryMessage> out;
  out.reserve(static_cast<size_t>(rows.RowCount()));
  for (int i = 0; i < rows.RowCount(); ++i) {
    contracts::HistoryMessage m;
    m.user = std::string(rows.Text(i, 0));
    m.timestamp = rows.Int64(i, 2);
    m.room = std::string(room);
    m.thread_id = std::string(rows.Text(i, 3));
    m.parent_timestamp = rows.Int64(i, 4);
    m.is_deleted = rows.Bool(i, 5);
    m.edited_at = rows.Int64(i, 6);
    m.reply_count = rows.Int64(i, 8);
    if (!rows.IsNull(i, 9)) m.reactions = AggregateReactions(rows.Text(i, 9));
    if (m.is_deleted) {
      // A deleted message keeps its place and reactions but none of its content (§3.5).
      m.text.clear();
    } else {
      m.text = std::string(rows.Text(i, 1));
      m.sticker_url = std::string(rows.Text(i, 7));
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

std::vector<contracts::Reaction> AggregateReactions(std::string_view json_pairs) {
  std::vector<contracts::Reaction> pills;
  auto parsed = nlohmann::json::parse(json_pairs, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_array()) return pills;
  for (const auto& pair : parsed) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      continue;
    }
    const auto& emoji = pair[0].get_ref<const std::string&>();
    const auto& user = pair[1].get_ref<const std::string&>();
    auto it = std::find_if(pills.begin(), pills.end(),
                           [&](const contracts::Reaction& r) { return r.emoji == emoji; });
    if (it == pills.end()) {
      pills.push_back(contracts::Reaction{emoji, {user}});
    } else {
      it->users.push_back(user);
    }
  }
  return pills;
}

core::Result<contracts::HistoryPage> HistoryRepository::RoomPage(
    const telemetry::SpanContext& parent, std::string_view room, std::int64_t before,
    std::int64_t limit) {
  // One extra row tells whether an older page exists.
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kRoomPage, {room, before, limit + 1}));
  contracts::HistoryPage page;
  page.messages = ToMessages(rows, room);
  if (static_cast<std::int64_t>(page.messages.size()) > limit) {
    page.has_more = true;
    page.messages.resize(static_cast<size_t>(limit));
  }
  std::reverse(page.messages.begin(), page.messages.end());  // oldest first on the wire
  return page;
}

core::Result<std::vector<contracts::HistoryMessage>> HistoryRepository::Thread(
    const telemetry::SpanContext& parent, std::string_view room, std::string_view thread_id,
    std::int64_t limit) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kThread, {thread_id, room, limit}));
  return ToMessages(rows, room);
}

core::Result<std::vector<std::string>> HistoryRepository::DmRooms(
    const telemetry::SpanContext& parent, std::string_view user) {
  std::string prefix = std::string(contracts::kDmPrefix) + std::string(user) + "-";
  std::string suffix = "-" + std::string(user);
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kDmRooms, {prefix, suffix}));
  std::vector<std::string> rooms;
  for (int i = 0; i < rows.RowCount(); ++i) {
    std::string room(rows.Text(i, 0));
    // The prefix/suffix match also catches "dm-alice-x" for user "alice-x"'s neighbours; only
    // the exact participant rule decides.
    if (contracts::IsDmParticipant(room, user)) rooms.push_back(std::move(room));
  }
  std::sort(rooms.begin(), rooms.end());
  return rooms;
}

core::Result<RoomAccess> HistoryRepository::Access(const telemetry::SpanContext& parent,
                                                   std::string_view room, std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(pg::Rows rows, pool_.Execute(parent, kAccess, {room, user}));
  RoomAccess access;
  if (rows.RowCount() > 0) {
    // Only 'private' is ever written (system.md §5.2); a 'public' row stays open to everyone.
    access.managed = rows.Text(0, 0) != "public";
    access.is_member = rows.Bool(0, 1);
  }
  return access;
}

}  // namespace chat::history_service
