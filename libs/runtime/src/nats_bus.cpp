#include "chat/runtime/nats_bus.hpp"

#include <utility>

namespace chat::runtime {
namespace {

KvEntry FromNatsx(natsx::KvEntry e) {
  KvEntry out;
  out.key = std::move(e.key);
  out.value = std::move(e.value);
  out.revision = e.revision;
  out.created_unix_nano = e.created_unix_nano;
  switch (e.operation) {
    case natsx::KvEntry::Operation::kPut: out.operation = KvEntry::Operation::kPut; break;
    case natsx::KvEntry::Operation::kDelete: out.operation = KvEntry::Operation::kDelete; break;
    case natsx::KvEntry::Operation::kPurge: out.operation = KvEntry::Operation::kPurge; break;
  }
  return out;
}

natsx::KeyValueConfig ToNatsx(const KeyValueConfig& c) {
  natsx::KeyValueConfig out;
  out.bucket = c.bucket;
  out.history = c.history;
  out.ttl = c.ttl;
  out.max_bytes = c.max_bytes;
  out.max_value_size = c.max_value_size;
  out.discard_old = c.discard_old;
  out.memory_storage = c.memory_storage;
  out.replicas = c.replicas;
  return out;
}

class NatsKvWatcher final : public KvWatcher {
 public:
  explicit NatsKvWatcher(std::unique_ptr<natsx::KvWatcher> w) : w_(std::move(w)) {}
  core::Result<std::optional<KvEntry>> Next(std::chrono::milliseconds timeout,
                                            bool* timed_out) override {
    CHAT_ASSIGN_OR_RETURN(std::optional<natsx::KvEntry> next, w_->Next(timeout, timed_out));
    if (!next) return std::optional<KvEntry>();
    return std::optional<KvEntry>(FromNatsx(std::move(*next)));
  }
  void Stop() override { w_->Stop(); }

 private:
  std::unique_ptr<natsx::KvWatcher> w_;
};

}  // namespace

// ---- NatsKeyValue ----

core::Result<KvEntry> NatsKeyValue::Get(std::string_view key,
                                        const telemetry::SpanContext& parent) {
  CHAT_ASSIGN_OR_RETURN(natsx::KvEntry e, kv_->Get(key, parent));
  return FromNatsx(std::move(e));
}

core::Result<uint64_t> NatsKeyValue::Put(std::string_view key, std::string_view value,
                                         const telemetry::SpanContext& parent) {
  return kv_->Put(key, value, parent);
}

core::Result<uint64_t> NatsKeyValue::Create(std::string_view key, std::string_view value,
                                            const telemetry::SpanContext& parent) {
  return kv_->Create(key, value, parent);
}

core::Result<uint64_t> NatsKeyValue::Update(std::string_view key, std::string_view value,
                                            uint64_t last_revision,
                                            const telemetry::SpanContext& parent) {
  return kv_->Update(key, value, last_revision, parent);
}

core::Status NatsKeyValue::Delete(std::string_view key, const telemetry::SpanContext& parent) {
  return kv_->Delete(key, parent);
}

core::Result<std::unique_ptr<KvWatcher>> NatsKeyValue::Watch(std::string_view keys,
                                                             const telemetry::SpanContext& parent,
                                                             bool include_history) {
  CHAT_ASSIGN_OR_RETURN(auto w, kv_->Watch(keys, parent, include_history));
  return std::unique_ptr<KvWatcher>(std::make_unique<NatsKvWatcher>(std::move(w)));
}

// ---- NatsJetStream ----

core::Status NatsJetStream::AddOrUpdateStream(const StreamConfig& c) {
  natsx::StreamConfig n;
  n.name = c.name;
  n.subjects = c.subjects;
  n.memory_storage = c.memory_storage;
  n.max_msgs = c.max_msgs;
  n.max_bytes = c.max_bytes;
  n.max_msg_size = c.max_msg_size;
  n.max_age = c.max_age;
  n.replicas = c.replicas;
  n.duplicate_window = c.duplicate_window;
  return js_->AddOrUpdateStream(n);
}

core::Status NatsJetStream::AddOrUpdateConsumer(const ConsumerConfig& c) {
  natsx::ConsumerConfig n;
  n.stream = c.stream;
  n.durable = c.durable;
  n.filter_subject = c.filter_subject;
  n.ack_wait = c.ack_wait;
  n.max_deliver = c.max_deliver;
  n.max_ack_pending = c.max_ack_pending;
  n.deliver_new_only = c.deliver_new_only;
  return js_->AddOrUpdateConsumer(n);
}

core::Result<std::unique_ptr<KeyValue>> NatsJetStream::CreateKeyValue(
    const KeyValueConfig& config) {
  CHAT_ASSIGN_OR_RETURN(auto kv, js_->CreateKeyValue(ToNatsx(config)));
  return std::unique_ptr<KeyValue>(std::make_unique<NatsKeyValue>(std::move(kv)));
}

core::Result<std::unique_ptr<KeyValue>> NatsJetStream::BindKeyValue(const std::string& bucket) {
  CHAT_ASSIGN_OR_RETURN(auto kv, js_->BindKeyValue(bucket));
  return std::unique_ptr<KeyValue>(std::make_unique<NatsKeyValue>(std::move(kv)));
}

// ---- NatsBus ----

core::Status NatsBus::Publish(const core::SubjectTemplate& tmpl, SubjectArgs args,
                              std::string_view payload, const telemetry::SpanContext& parent) {
  return conn_.Publish(tmpl, args, payload, parent);
}

core::Status NatsBus::Flush(std::chrono::milliseconds timeout) { return conn_.Flush(timeout); }

bool NatsBus::IsConnected() const { return conn_.IsConnected(); }

uint64_t NatsBus::AddReconnectListener(std::function<void()> listener) {
  return conn_.AddReconnectListener(std::move(listener));
}

void NatsBus::RemoveReconnectListener(uint64_t id) { conn_.RemoveReconnectListener(id); }

core::Result<std::unique_ptr<JetStream>> NatsBus::OpenJetStream(JetStreamOptions options) {
  natsx::JetStreamOptions n;
  n.api_timeout = options.api_timeout;
  n.trace_link_age = options.trace_link_age;
  n.clock = options.clock;
  CHAT_ASSIGN_OR_RETURN(auto js, natsx::JetStream::Create(conn_, n));
  return std::unique_ptr<JetStream>(std::make_unique<NatsJetStream>(std::move(js)));
}

const telemetry::Telemetry& NatsBus::telemetry() const { return conn_.telemetry(); }

natsx::Connection& NativeConnection(Bus& bus) {
  auto* nats = dynamic_cast<NatsBus*>(&bus);
  CHAT_CHECK(nats != nullptr);
  return nats->native();
}

natsx::JetStream& NativeJetStream(JetStream& js) {
  auto* nats = dynamic_cast<NatsJetStream*>(&js);
  CHAT_CHECK(nats != nullptr);
  return nats->native();
}

}  // namespace chat::runtime
