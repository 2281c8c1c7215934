#include "chat/natsx/kv.hpp"

#include <nats/nats.h>

#include "chat/natsx/jetstream.hpp"
#include "chat/telemetry/semconv.hpp"
#include "internal.hpp"

namespace chat::natsx {

namespace semconv = telemetry::semconv;
using telemetry::Span;
using telemetry::SpanContext;
using telemetry::SpanKind;

namespace {

constexpr std::string_view kKvSystem = "nats_kv";

KvEntry ToEntry(kvEntry* e) {
  KvEntry out;
  if (const char* k = kvEntry_Key(e); k != nullptr) out.key = k;
  const void* v = kvEntry_Value(e);
  int n = kvEntry_ValueLen(e);
  if (v != nullptr && n > 0) out.value.assign(static_cast<const char*>(v), static_cast<size_t>(n));
  out.revision = kvEntry_Revision(e);
  out.created_unix_nano = kvEntry_Created(e);
  switch (kvEntry_Operation(e)) {
    case kvOp_Delete: out.operation = KvEntry::Operation::kDelete; break;
    case kvOp_Purge: out.operation = KvEntry::Operation::kPurge; break;
    default: out.operation = KvEntry::Operation::kPut; break;
  }
  return out;
}

// libnats reports a failed compare-and-set (create of a live key, update of a stale revision) as
// a generic error whose text names the JetStream "wrong last sequence" condition.
bool IsWrongLastSequence(natsStatus s) {
  if (s == NATS_OK) return false;
  const char* last = nats_GetLastError(nullptr);
  return last != nullptr &&
         std::string_view(last).find("wrong last sequence") != std::string_view::npos;
}

}  // namespace

KeyValue::KeyValue(Connection& conn, kvStore* kv, std::string bucket)
    : conn_(conn), kv_(kv), bucket_(std::move(bucket)) {
  name_get_ = "get " + bucket_;
  name_put_ = "put " + bucket_;
  name_create_ = "create " + bucket_;
  name_update_ = "update " + bucket_;
  name_delete_ = "delete " + bucket_;
  name_watch_ = "watch " + bucket_;
}

KeyValue::~KeyValue() {
  if (kv_ != nullptr) kvStore_Destroy(kv_);
}

namespace {
Span StartKvSpan(Connection& conn, const std::string& name, std::string_view bucket,
                 std::string_view operation, const SpanContext& parent) {
  Span span = conn.telemetry().tracer.StartSpan(name, SpanKind::kClient, parent);
  if (span.IsRecording()) {
    span.SetAttribute(semconv::kDbSystemName, kKvSystem)
        .SetAttribute(semconv::kDbSystem, kKvSystem)
        .SetAttribute(semconv::kDbCollectionName, bucket)
        .SetAttribute(semconv::kDbOperationName, operation);
    auto addr = conn.server_address();
    if (!addr.host.empty()) {
      span.SetAttribute(semconv::kServerAddress, addr.host)
          .SetAttribute(semconv::kServerPort, addr.port);
    }
  }
  return span;
}

// The server's refusals for a bucket's bounds (max_bytes with discard-new, max_value_size)
// arrive as a generic error whose text names the limit.
bool IsQuotaRefusal(natsStatus s) {
  if (s == NATS_OK) return false;
  const char* last = nats_GetLastError(nullptr);
  if (last == nullptr) return false;
  std::string_view text(last);
  return text.find("maximum bytes exceeded") != std::string_view::npos ||
         text.find("message size exceeds maximum") != std::string_view::npos ||
         text.find("maximum messages exceeded") != std::string_view::npos ||
         text.find("insufficient resources") != std::string_view::npos;
}

core::Status KvFailure(Span& span, natsStatus s, std::string_view what) {
  core::Status st =
      IsQuotaRefusal(s)
          ? core::ResourceExhausted(std::string(what) + ": " + internal::NatsErrorText(s))
          : internal::ToStatus(s, what);
  span.RecordError(s == NATS_TIMEOUT ? "timeout" : core::ErrorCodeName(st.code()),
                   internal::NatsErrorText(s), "nats", "kv operation failed");
  return st;
}
}  // namespace

core::Result<KvEntry> KeyValue::Get(std::string_view key, const SpanContext& parent) {
  Span span = StartKvSpan(conn_, name_get_, bucket_, "get", parent);
  kvEntry* e = nullptr;
  natsStatus s = kvStore_Get(&e, kv_, std::string(key).c_str());
  if (s == NATS_NOT_FOUND) {
    span.SetAttribute(semconv::kChatKvResult, "not_found");
    return core::NotFound("key not found");
  }
  if (s != NATS_OK) return KvFailure(span, s, "kv get");
  KvEntry out = ToEntry(e);
  kvEntry_Destroy(e);
  span.SetAttribute(semconv::kChatKvResult, "ok");
  return out;
}

core::Result<uint64_t> KeyValue::Put(std::string_view key, std::string_view value,
                                     const SpanContext& parent) {
  Span span = StartKvSpan(conn_, name_put_, bucket_, "put", parent);
  uint64_t rev = 0;
  natsStatus s = kvStore_Put(&rev, kv_, std::string(key).c_str(), value.data(),
                             static_cast<int>(value.size()));
  if (s != NATS_OK) return KvFailure(span, s, "kv put");
  span.SetAttribute(semconv::kChatKvResult, "ok");
  return rev;
}

core::Result<uint64_t> KeyValue::Create(std::string_view key, std::string_view value,
                                        const SpanContext& parent) {
  Span span = StartKvSpan(conn_, name_create_, bucket_, "create", parent);
  uint64_t rev = 0;
  natsStatus s = kvStore_Create(&rev, kv_, std::string(key).c_str(), value.data(),
                                static_cast<int>(value.size()));
  if (IsWrongLastSequence(s)) {
    span.SetAttribute(semconv::kChatKvResult, "exists");
    return core::AlreadyExists("key already exists");
  }
  if (s != NATS_OK) return KvFailure(span, s, "kv create");
  span.SetAttribute(semconv::kChatKvResult, "ok");
  return rev;
}

core::Result<uint64_t> KeyValue::Update(std::string_view key, std::string_view value,
                                        uint64_t last_revision, const SpanContext& parent) {
  Span span = StartKvSpan(conn_, name_update_, bucket_, "update", parent);
  uint64_t rev = 0;
  natsStatus s = kvStore_Update(&rev, kv_, std::string(key).c_str(), value.data(),
                                static_cast<int>(value.size()), last_revision);
  if (IsWrongLastSequence(s)) {
    span.SetAttribute(semconv::kChatKvResult, "exists");
    return core::AlreadyExists("a newer revision exists");
  }
  if (s != NATS_OK) return KvFailure(span, s, "kv update");
  span.SetAttribute(semconv::kChatKvResult, "ok");
  return rev;
}

core::Status KeyValue::Delete(std::string_view key, const SpanContext& parent) {
  Span span = StartKvSpan(conn_, name_delete_, bucket_, "delete", parent);
  natsStatus s = kvStore_Delete(kv_, std::string(key).c_str());
  if (s != NATS_OK) return KvFailure(span, s, "kv delete");
  span.SetAttribute(semconv::kChatKvResult, "ok");
  return core::Status::Ok();
}

core::Result<std::unique_ptr<KvWatcher>> KeyValue::Watch(std::string_view keys,
                                                         const SpanContext& parent,
                                                         bool include_history) {
  Span span = StartKvSpan(conn_, name_watch_, bucket_, "watch", parent);
  kvWatchOptions o;
  kvWatchOptions_Init(&o);
  o.IncludeHistory = include_history;
  kvWatcher* w = nullptr;
  natsStatus s = keys.empty() ? kvStore_WatchAll(&w, kv_, &o)
                              : kvStore_Watch(&w, kv_, std::string(keys).c_str(), &o);
  if (s != NATS_OK) return KvFailure(span, s, "kv watch");
  span.SetAttribute(semconv::kChatKvResult, "ok");
  return std::unique_ptr<KvWatcher>(new KvWatcher(w));
}

KvWatcher::~KvWatcher() {
  if (w_ != nullptr) kvWatcher_Destroy(w_);
}

void KvWatcher::Stop() { kvWatcher_Stop(w_); }

core::Result<std::optional<KvEntry>> KvWatcher::Next(std::chrono::milliseconds timeout,
                                                     bool* timed_out) {
  if (timed_out != nullptr) *timed_out = false;
  kvEntry* e = nullptr;
  natsStatus s = kvWatcher_Next(&e, w_, timeout.count());
  if (s == NATS_TIMEOUT) {
    if (timed_out != nullptr) *timed_out = true;
    return std::optional<KvEntry>();
  }
  if (s != NATS_OK) return internal::ToStatus(s, "kv watch next");
  if (e == nullptr) return std::optional<KvEntry>();
  KvEntry out = ToEntry(e);
  kvEntry_Destroy(e);
  return std::optional<KvEntry>(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// Bucket creation lives on JetStream (a bucket is a stream).

core::Result<std::unique_ptr<KeyValue>> JetStream::CreateKeyValue(const KeyValueConfig& config) {
  if (config.bucket.empty()) return core::InvalidArgument("bucket name required");
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = config.bucket.c_str();
  cfg.History =
      static_cast<uint8_t>(config.history < 1 ? 1 : (config.history > 64 ? 64 : config.history));
  cfg.TTL = std::chrono::duration_cast<std::chrono::nanoseconds>(config.ttl).count();
  cfg.MaxBytes = config.max_bytes;
  cfg.MaxValueSize = config.max_value_size;
  cfg.StorageType = config.memory_storage ? js_MemoryStorage : js_FileStorage;
  cfg.Replicas = config.replicas;
  kvStore* kv = nullptr;
  natsStatus s = js_CreateKeyValue(&kv, js_, &cfg);
  if (s != NATS_OK) {
    // Exists with a different configuration: bind to it rather than fail start-up.
    s = js_KeyValue(&kv, js_, config.bucket.c_str());
  }
  if (s != NATS_OK) return internal::ToStatus(s, "create kv bucket");
  auto handle = std::unique_ptr<KeyValue>(new KeyValue(conn_, kv, config.bucket));
  CHAT_RETURN_IF_ERROR(ApplyBucketLimits(config));
  return handle;
}

core::Status JetStream::ApplyBucketLimits(const KeyValueConfig& config) {
  // libnats creates buckets discard-new and cannot set the discard policy; a bucket created
  // before its bounds existed keeps its old configuration. Both are fixed on the stream itself.
  const std::string stream = "KV_" + config.bucket;
  jsStreamInfo* si = nullptr;
  auto jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return internal::ToStatus(s, "kv bucket info");
  std::unique_ptr<jsStreamInfo, void (*)(jsStreamInfo*)> info(si, &jsStreamInfo_Destroy);
  jsStreamConfig* cfg = si->Config;
  const jsDiscardPolicy discard = config.discard_old ? js_DiscardOld : js_DiscardNew;
  if (cfg->MaxBytes == config.max_bytes && cfg->MaxMsgSize == config.max_value_size &&
      cfg->Discard == discard) {
    return core::Status::Ok();
  }
  const int64_t old_max_bytes = cfg->MaxBytes;
  cfg->MaxBytes = config.max_bytes;
  cfg->MaxMsgSize = config.max_value_size;
  cfg->Discard = discard;
  jsStreamInfo* updated = nullptr;
  jerr = static_cast<jsErrCode>(0);
  s = js_UpdateStream(&updated, js_, cfg, nullptr, &jerr);
  if (updated != nullptr) jsStreamInfo_Destroy(updated);
  if (s != NATS_OK) {
    conn_.telemetry().logger->Warn(
        "kv bucket limits not applied",
        {{"chat.kv.bucket", std::string_view(config.bucket)},
         {"error", telemetry::AttributeValue(internal::NatsErrorText(s))},
         {"js_error_code", static_cast<int>(jerr)}});
    return internal::ToStatus(s, "kv bucket limits");
  }
  conn_.telemetry().logger->Info(
      "kv bucket limits applied",
      {{"chat.kv.bucket", std::string_view(config.bucket)},
       {"chat.kv.max_bytes", config.max_bytes},
       {"chat.kv.previous_max_bytes", old_max_bytes},
       {"chat.kv.max_value_size", static_cast<int64_t>(config.max_value_size)},
       {"chat.kv.discard_old", config.discard_old}});
  return core::Status::Ok();
}

core::Result<std::unique_ptr<KeyValue>> JetStream::BindKeyValue(const std::string& bucket) {
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, js_, bucket.c_str());
  if (s != NATS_OK) return internal::ToStatus(s, "bind kv bucket");
  return std::unique_ptr<KeyValue>(new KeyValue(conn_, kv, bucket));
}

}  // namespace chat::natsx
