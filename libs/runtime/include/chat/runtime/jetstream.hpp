// runtime::JetStream: what a service does with JetStream itself (docs/style.md §2: services
// reach JetStream through runtime, never through natsx): declare its streams and durable
// consumers, and open KV buckets. Consuming goes through runtime::BatchConsumer, request/event
// routes through runtime::Dispatcher. Bus::OpenJetStream hands out the natsx-backed
// implementation (the set-up calls are natsx's; KV operations keep their CLIENT spans). The
// interface is abstract so a service's unit tests can substitute an in-memory one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/runtime/kv.hpp"

namespace chat::runtime {

struct StreamConfig {
  std::string name{};
  std::vector<std::string> subjects{};  // wildcard patterns ("chat.>")
  bool memory_storage = false;
  int64_t max_msgs = -1;
  int64_t max_bytes = -1;
  int32_t max_msg_size = -1;        // payload + headers of one message; -1 = server's max_payload
  std::chrono::seconds max_age{0};  // 0 = unlimited
  int replicas = 1;
  std::chrono::seconds duplicate_window{0};  // 0 = server default
};

struct ConsumerConfig {
  std::string stream{};
  std::string durable{};
  std::string filter_subject{};  // empty = all subjects of the stream
  std::chrono::milliseconds ack_wait{30000};
  int64_t max_deliver = -1;
  int64_t max_ack_pending = 1000;
  bool deliver_new_only = false;  // false: deliver all stored messages
};

struct JetStreamOptions {
  std::chrono::milliseconds api_timeout{5000};
  // CHAT_TRACE_LINK_AGE_SECONDS: a first delivery older than this becomes a linked root
  // (observability.md §3.4); ServiceContext::trace_link_age() has the configured value.
  std::chrono::seconds trace_link_age{30};
  const core::Clock* clock = nullptr;  // nullptr → SystemClock
};

class JetStream {
 public:
  virtual ~JetStream() = default;

  // Idempotent set-up (create, or update when it exists).
  virtual core::Status AddOrUpdateStream(const StreamConfig& config) = 0;
  virtual core::Status AddOrUpdateConsumer(const ConsumerConfig& config) = 0;

  // CreateKeyValue binds to a bucket that exists with another configuration, and then still
  // applies config's bounds and discard policy to it. BindKeyValue: not_found (or another error)
  // when the bucket does not exist.
  virtual core::Result<std::unique_ptr<KeyValue>> CreateKeyValue(const KeyValueConfig& config) = 0;
  virtual core::Result<std::unique_ptr<KeyValue>> BindKeyValue(const std::string& bucket) = 0;
};

}  // namespace chat::runtime
