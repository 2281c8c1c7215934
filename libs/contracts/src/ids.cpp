#include "chat/contracts/ids.hpp"

#include <vector>

namespace chat::contracts {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsPlainKeyChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

bool IsValidUsername(std::string_view user) { return ValidateUsername(user).ok(); }

// Every split of "dm-" + rest into two valid usernames a <= b.
std::vector<std::pair<std::string_view, std::string_view>> DmSplits(std::string_view room) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (!IsDmRoom(room)) return out;
  std::string_view rest = room.substr(kDmPrefix.size());
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '-') continue;
    std::string_view a = rest.substr(0, i);
    std::string_view b = rest.substr(i + 1);
    if (IsValidUsername(a) && IsValidUsername(b) && a <= b) out.emplace_back(a, b);
  }
  return out;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

core::Status ValidateUsername(std::string_view user) {
  if (user.empty()) return core::InvalidArgument("username is empty");
  if (user.size() > kMaxUsernameBytes) {
    return core::InvalidArgument("username is longer than 64 bytes");
  }
  for (char c : user) {
    if (c == '.' || c == '*' || c == '>' || IsSpace(c)) {
      return core::InvalidArgument("username contains '.', '*', '>' or whitespace");
    }
  }
  return core::Status::Ok();
}

bool IsDmRoom(std::string_view room) { return room.substr(0, kDmPrefix.size()) == kDmPrefix; }

bool IsAdminRoom(std::string_view room) { return room == kAdminRoom; }

core::Status ValidateRoomKey(std::string_view room) {
  if (room.empty()) return core::InvalidArgument("room key is empty");
  if (IsAdminRoom(room) || room == kAdminMembershipRoom) return core::Status::Ok();
  if (IsDmRoom(room)) return DmParticipants(room).status();
  if (room.size() > kMaxRoomKeyBytes) {
    return core::InvalidArgument("room key is longer than 64 bytes");
  }
  for (char c : room) {
    if (!IsPlainKeyChar(c)) return core::InvalidArgument("room key must match [a-z0-9-]");
  }
  return core::Status::Ok();
}

core::Result<std::string> DmRoomKey(std::string_view a, std::string_view b) {
  if (auto s = ValidateUsername(a); !s.ok()) return s;
  if (auto s = ValidateUsername(b); !s.ok()) return s;
  if (b < a) std::swap(a, b);
  std::string key;
  key.reserve(kDmPrefix.size() + a.size() + 1 + b.size());
  key.append(kDmPrefix).append(a).append("-").append(b);
  if (DmSplits(key).size() != 1) {
    return core::InvalidArgument("DM key for these usernames would be ambiguous");
  }
  return key;
}

core::Result<std::pair<std::string, std::string>> DmParticipants(std::string_view room) {
  if (!IsDmRoom(room)) return core::InvalidArgument("not a DM room key");
  auto splits = DmSplits(room);
  if (splits.empty()) {
    return core::InvalidArgument("DM room key is not dm-{a}-{b} with sorted valid usernames");
  }
  if (splits.size() > 1) return core::InvalidArgument("DM room key is ambiguous");
  return std::pair<std::string, std::string>(std::string(splits[0].first),
                                             std::string(splits[0].second));
}

bool IsDmParticipant(std::string_view room, std::string_view user) {
  auto parts = DmParticipants(room);
  return parts.ok() && (parts->first == user || parts->second == user);
}

std::string MessageId(std::int64_t timestamp_ms, std::string_view user) {
  std::string id = std::to_string(timestamp_ms);
  id.append("-").append(user);
  return id;
}

std::string ThreadId(std::string_view room, std::int64_t parent_timestamp_ms) {
  std::string id(room);
  id.append("-").append(std::to_string(parent_timestamp_ms));
  return id;
}

core::Result<std::pair<std::string, std::int64_t>> ParseThreadId(std::string_view thread_id) {
  std::size_t dash = thread_id.rfind('-');
  if (dash == std::string_view::npos) {
    return core::InvalidArgument("thread id is not {room}-{parent_timestamp}");
  }
  std::string_view room = thread_id.substr(0, dash);
  std::string_view digits = thread_id.substr(dash + 1);
  // 18 digits keep the value inside int64 without overflow checks (ms timestamps have 13).
  if (!AllDigits(digits) || digits.size() > 18) {
    return core::InvalidArgument("thread id does not end in a parent timestamp");
  }
  if (auto s = ValidateRoomKey(room); !s.ok()) {
    return core::InvalidArgument("thread id does not start with a valid room key");
  }
  std::int64_t ts = 0;
  for (char c : digits) ts = ts * 10 + (c - '0');
  if (ts <= 0) return core::InvalidArgument("thread id parent timestamp must be positive");
  return std::pair<std::string, std::int64_t>(std::string(room), ts);
}

core::Status ValidateThreadId(std::string_view thread_id) {
  return ParseThreadId(thread_id).status();
}

}  // namespace chat::contracts
