// read-receipt-service wire types (system.md §3.3.5 with ADR 0001's read.update.{room}.{user}).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/core/result.hpp"

namespace chat::contracts {

// read.update.{room}.{user}: {"userId"?,"lastRead": ms > 0}.
struct ReadUpdate {
  std::string user_id;
  std::int64_t last_read = 0;

  friend bool operator==(const ReadUpdate&, const ReadUpdate&) = default;
};

struct ReadStateEntry {
  std::string user_id;
  std::int64_t last_read = 0;
  // nats-chat addition: only on the caller's own entry of a read.state reply, the number of
  // main-timeline messages of others newer than last_read. Absent (nullopt) on other entries.
  std::optional<std::int64_t> unread;

  friend bool operator==(const ReadStateEntry&, const ReadStateEntry&) = default;
};

// read.state.{room} reply: a bare JSON array of {"userId","lastRead","unread"?}.
struct ReadStateReply {
  std::vector<ReadStateEntry> entries;

  friend bool operator==(const ReadStateReply&, const ReadStateReply&) = default;
};

std::string ToJson(const ReadUpdate& v);
std::string ToJson(const ReadStateEntry& v);
std::string ToJson(const ReadStateReply& v);

template <>
core::Result<ReadUpdate> FromJson<ReadUpdate>(std::string_view json);
template <>
core::Result<ReadStateEntry> FromJson<ReadStateEntry>(std::string_view json);
template <>
core::Result<ReadStateReply> FromJson<ReadStateReply>(std::string_view json);

}  // namespace chat::contracts
