// Identifier rules shared by every service and the web client (system.md §3.1, ADR 0001):
// usernames, room keys, DM keys, thread ids and message ids. They are embedded in NATS subject
// tokens and KV keys, so a value that breaks these rules could address another user's subject;
// every decoder in contracts validates with these functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "chat/core/result.hpp"

namespace chat::contracts {

inline constexpr std::size_t kMaxUsernameBytes = 64;
inline constexpr std::size_t kMaxRoomKeyBytes = 64;  // public/private keys; DM keys may be longer
inline constexpr std::size_t kMaxTextBytes = 4000;   // ChatMessage/HistoryMessage text
inline constexpr std::size_t kMaxPayloadBytes = 65536;  // any JSON payload (64 KiB)
inline constexpr std::string_view kAdminRoom = "__admin__";
// The ROOMS membership key of the admin channel (system.md §3.1): admins join it; fanout
// delivers admin.chat to its members; history and read state check it.
inline constexpr std::string_view kAdminMembershipRoom = "__admin__chat";
inline constexpr std::string_view kSystemUser = "__system__";
inline constexpr std::string_view kDmPrefix = "dm-";

// A username (the IdP's preferred_username) is non-empty, at most 64 bytes, and contains no
// '.', '*', '>' or whitespace (it becomes a subject token). invalid_argument otherwise; the
// message never contains the value.
core::Status ValidateUsername(std::string_view user);

// A room key is one of: a plain key of 1-64 bytes in [a-z0-9-] that does not start with "dm-";
// a DM key "dm-{a}-{b}" (see DmParticipants); "__admin__" or "__admin__chat".
core::Status ValidateRoomKey(std::string_view room);

bool IsDmRoom(std::string_view room);  // the "dm-" prefix (system.md §3.1)
bool IsAdminRoom(std::string_view room);

// "dm-{a}-{b}" with the two usernames sorted ascending (byte order), so both sides compute the
// same key. invalid_argument when a username is invalid or when the key would be ambiguous
// (usernames may contain '-', so "dm-a-b-c" could be a/b-c or a-b/c; such keys are refused
// rather than letting two different pairs share a room).
core::Result<std::string> DmRoomKey(std::string_view a, std::string_view b);

// The two participants of a DM key, in key order. invalid_argument when the key is not a DM key,
// a part is not a valid username, the parts are not sorted, or the split is ambiguous.
core::Result<std::pair<std::string, std::string>> DmParticipants(std::string_view room);

// True when `user` is one of the two participants of the DM key `room` (ADR 0001: only they may
// join it). False for non-DM or invalid keys.
bool IsDmParticipant(std::string_view room, std::string_view user);

// "{timestamp}-{user}": the browser's message key and the chat.message_id attribute.
std::string MessageId(std::int64_t timestamp_ms, std::string_view user);

// "{room}-{parent_timestamp}" (system.md §3.6).
std::string ThreadId(std::string_view room, std::int64_t parent_timestamp_ms);

// A thread id is "{room}-{digits}" with a valid room key and a positive parent timestamp.
core::Status ValidateThreadId(std::string_view thread_id);

// The room and parent timestamp of a valid thread id.
core::Result<std::pair<std::string, std::int64_t>> ParseThreadId(std::string_view thread_id);

}  // namespace chat::contracts
