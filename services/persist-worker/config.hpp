// persist-worker configuration (README.md lists every variable). Read once at start-up with
// core::EnvReader so every problem is reported together (exit 2).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "chat/contracts/subjects.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::persist_worker {

struct PersistConfig {
  std::string database_url;  // DATABASE_URL (required; never logged)
  int batch_size = 500;  // CHAT_PERSIST_BATCH_SIZE: messages per fetch, one transaction per batch
  std::chrono::milliseconds fetch_timeout{500};  // CHAT_PERSIST_FETCH_TIMEOUT_MS
  int workers = 1;  // CHAT_PERSIST_WORKERS: fetch/commit loops (each its own pull subscription)
  // NAK delay after a database failure: initial × 2^(delivery_count-1), capped at max.
  std::chrono::milliseconds nak_delay_initial{1000};  // CHAT_PERSIST_NAK_DELAY_MS
  std::chrono::milliseconds nak_delay_max{30000};     // CHAT_PERSIST_NAK_DELAY_MAX_MS
  // CHAT_MESSAGES limits (see README "Why the stream keeps 1,000,000 messages").
  int64_t stream_max_msgs = 1'000'000;  // CHAT_PERSIST_STREAM_MAX_MSGS (README: why)
  std::chrono::seconds stream_max_age{7 * 24 * 3600};
  // Byte bounds (issue 11 item 6): without them 1,000,000 messages of up to 1 MiB could hold
  // ~1 TB of disk. CHAT_PERSIST_STREAM_MAX_BYTES, CHAT_PERSIST_STREAM_MAX_MSG_SIZE (payload
  // plus headers).
  int64_t stream_max_bytes = contracts::jetstream::kChatMessagesMaxBytes;
  int32_t stream_max_msg_size = contracts::jetstream::kChatMessagesMaxMsgSize;
  int64_t max_ack_pending = 1'000;  // CHAT_PERSIST_MAX_ACK_PENDING
  std::chrono::milliseconds ack_wait{30000};
  std::chrono::milliseconds statement_timeout{5000};  // CHAT_PERSIST_STATEMENT_TIMEOUT_MS
  // CHAT_TRACE_LINK_AGE_SECONDS of the telemetry config (main copies it in): a first delivery
  // older than this is a backlog replay, traced as a linked root (observability.md §3.4).
  std::chrono::seconds trace_link_age{30};

  static PersistConfig FromEnv(core::EnvReader& reader);
  static core::Result<PersistConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::persist_worker
