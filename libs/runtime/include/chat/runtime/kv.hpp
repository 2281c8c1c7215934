// runtime::KeyValue: a NATS KV bucket as a service sees it (docs/style.md §2: services reach KV
// through runtime, never through natsx). The implementation ServiceContext hands out
// (runtime::NatsBus → JetStream → KeyValue) delegates to natsx::KeyValue, so every operation
// is still a CLIENT span "{operation} {bucket}" with attribute set K (observability §4.2);
// not-found and already-exists are results (not_found / already_exists codes, span UNSET).
// The interface is abstract so a service's unit tests can hand in an in-memory bucket.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::runtime {

// A bucket's settings for JetStream::CreateKeyValue.
struct KeyValueConfig {
  std::string bucket{};
  int history = 1;
  std::chrono::seconds ttl{0};  // 0 = keep forever
  // Bounds (-1 = none). A put over max_value_size, or a put of a new key into a full bucket, is
  // refused (resource_exhausted) unless `discard_old` is set. CreateKeyValue also applies them to
  // a bucket that already exists.
  int64_t max_bytes = -1;
  int32_t max_value_size = -1;
  // When full, evict the oldest entries instead of refusing new keys: right for a cache, wrong
  // for state.
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
  virtual ~KvWatcher() = default;
  // The next entry; nullopt when the initial values have all been delivered (once) or on
  // timeout (then `timed_out` is set when given). Errors: unavailable.
  virtual core::Result<std::optional<KvEntry>> Next(std::chrono::milliseconds timeout,
                                                    bool* timed_out = nullptr) = 0;
  virtual void Stop() = 0;
};

class KeyValue {
 public:
  virtual ~KeyValue() = default;

  // not_found when the key is absent or deleted.
  virtual core::Result<KvEntry> Get(std::string_view key, const telemetry::SpanContext& parent) = 0;
  // Returns the new revision.
  virtual core::Result<uint64_t> Put(std::string_view key, std::string_view value,
                                     const telemetry::SpanContext& parent) = 0;
  // already_exists when the key has a live value.
  virtual core::Result<uint64_t> Create(std::string_view key, std::string_view value,
                                        const telemetry::SpanContext& parent) = 0;
  // Compare-and-set on `last_revision`; already_exists when a newer revision is stored.
  virtual core::Result<uint64_t> Update(std::string_view key, std::string_view value,
                                        uint64_t last_revision,
                                        const telemetry::SpanContext& parent) = 0;
  virtual core::Status Delete(std::string_view key, const telemetry::SpanContext& parent) = 0;
  // Watches `keys` (wildcards allowed, empty = all). A CLIENT span "watch {bucket}" covers
  // set-up.
  virtual core::Result<std::unique_ptr<KvWatcher>> Watch(std::string_view keys,
                                                         const telemetry::SpanContext& parent,
                                                         bool include_history = false) = 0;

  virtual const std::string& bucket() const = 0;
};

// Calls `each` with the key of every live (put) entry matching `keys` (empty = all), reading the
// watch's initial values until they end. Errors (unavailable): "watch failed: …", "read
// failed: …", "read timed out" (no entry within `next_timeout`).
core::Status ReadLiveKeys(KeyValue& kv, std::string_view keys, const telemetry::SpanContext& parent,
                          std::chrono::milliseconds next_timeout,
                          const std::function<void(std::string_view key)>& each);

// ReadLiveKeys of every key of `kv` as a callable taking `each` (the key reader of
// membership::MembershipMirror::Hydrate). `kv` must outlive it.
using KeyReader =
    std::function<core::Status(const std::function<void(std::string_view key)>& each)>;
KeyReader LiveKeys(KeyValue& kv, const telemetry::SpanContext& parent,
                   std::chrono::milliseconds next_timeout = std::chrono::seconds(5));

}  // namespace chat::runtime
