// NATS KV buckets through natsx: every operation is a CLIENT span "{operation} {bucket}" with
// attribute set K (docs/observability.md §4.2). Not-found and already-exists are results
// (chat.kv.result=not_found/exists, status UNSET), returned as not_found/already_exists codes;
// any other failure marks the span ERROR.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "chat/core/result.hpp"
#include "chat/natsx/connection.hpp"

typedef struct __kvStore kvStore;      // NOLINT(modernize-use-using)
typedef struct __kvWatcher kvWatcher;  // NOLINT(modernize-use-using)

namespace chat::natsx {

class JetStream;

struct KeyValueConfig {
  std::string bucket{};
  int history = 1;
  std::chrono::seconds ttl{0};  // 0 = keep forever
  // Bounds (-1 = none). A put over max_value_size, or a put of a new key into a full bucket, is
  // refused by the server (resource_exhausted) unless `discard_old` is set. CreateKeyValue also
  // applies them to a bucket that already exists (created before the bound was introduced).
  int64_t max_bytes = -1;
  int32_t max_value_size = -1;
  // When full, evict the oldest entries instead of refusing new keys: right for a cache
  // (MSG_CACHE), wrong for state.
  bool discard_old = false;
  bool memory_storage = false;
  int replicas = 1;
};

struct KvEntry {
  enum class Operation { kPut, kDelete, kPurge };
  std::string key{};
  std::string value{};
  uint64_t revision = 0;
  int64_t created_unix_nano = 0;
  Operation operation = Operation::kPut;
};

// Watches keys; entries arrive in order. Not thread-safe: one reader.
class KvWatcher {
 public:
  ~KvWatcher();
  KvWatcher(const KvWatcher&) = delete;
  KvWatcher& operator=(const KvWatcher&) = delete;
  // The next entry; nullopt when the initial values have all been delivered (once) or on
  // timeout (then `timed_out` is set when given). Errors: unavailable.
  core::Result<std::optional<KvEntry>> Next(std::chrono::milliseconds timeout,
                                            bool* timed_out = nullptr);
  void Stop();

 private:
  friend class KeyValue;
  explicit KvWatcher(kvWatcher* w) : w_(w) {}
  kvWatcher* w_;
};

class KeyValue {
 public:
  ~KeyValue();
  KeyValue(const KeyValue&) = delete;
  KeyValue& operator=(const KeyValue&) = delete;

  // not_found when the key is absent or deleted.
  core::Result<KvEntry> Get(std::string_view key, const telemetry::SpanContext& parent);
  // Returns the new revision.
  core::Result<uint64_t> Put(std::string_view key, std::string_view value,
                             const telemetry::SpanContext& parent);
  // already_exists when the key has a live value.
  core::Result<uint64_t> Create(std::string_view key, std::string_view value,
                                const telemetry::SpanContext& parent);
  // Compare-and-set on `last_revision`; already_exists (chat.kv.result=exists) when a newer
  // revision is stored.
  core::Result<uint64_t> Update(std::string_view key, std::string_view value,
                                uint64_t last_revision, const telemetry::SpanContext& parent);
  core::Status Delete(std::string_view key, const telemetry::SpanContext& parent);
  // Watches `keys` (wildcards allowed, empty = all). CLIENT span "watch {bucket}" covers set-up.
  core::Result<std::unique_ptr<KvWatcher>> Watch(std::string_view keys,
                                                 const telemetry::SpanContext& parent,
                                                 bool include_history = false);

  const std::string& bucket() const { return bucket_; }

 private:
  friend class JetStream;
  KeyValue(Connection& conn, kvStore* kv, std::string bucket);

  Connection& conn_;
  kvStore* kv_;
  std::string bucket_{};
  std::string name_get_, name_put_, name_create_, name_update_, name_delete_, name_watch_;
};

}  // namespace chat::natsx
