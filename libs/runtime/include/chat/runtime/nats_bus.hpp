// The natsx-backed implementations of runtime::Bus, runtime::JetStream and runtime::KeyValue.
// ServiceContext::bus() builds a NatsBus over the connection ServiceMain opened; tests that run a
// service's core library against a real nats-server build one over their own connection. Service
// code itself sees only bus.hpp / jetstream.hpp / kv.hpp. Dispatcher and BatchConsumer, which
// sit on natsx themselves, reach the natsx objects behind a NatsBus / NatsJetStream here.
#pragma once

#include <memory>
#include <string>

#include "chat/natsx/connection.hpp"
#include "chat/natsx/jetstream.hpp"
#include "chat/natsx/kv.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/runtime/kv.hpp"

namespace chat::runtime {

class NatsKeyValue final : public KeyValue {
 public:
  explicit NatsKeyValue(std::unique_ptr<natsx::KeyValue> kv) : kv_(std::move(kv)) {}

  core::Result<KvEntry> Get(std::string_view key, const telemetry::SpanContext& parent) override;
  core::Result<uint64_t> Put(std::string_view key, std::string_view value,
                             const telemetry::SpanContext& parent) override;
  core::Result<uint64_t> Create(std::string_view key, std::string_view value,
                                const telemetry::SpanContext& parent) override;
  core::Result<uint64_t> Update(std::string_view key, std::string_view value,
                                uint64_t last_revision,
                                const telemetry::SpanContext& parent) override;
  core::Status Delete(std::string_view key, const telemetry::SpanContext& parent) override;
  core::Result<std::unique_ptr<KvWatcher>> Watch(std::string_view keys,
                                                 const telemetry::SpanContext& parent,
                                                 bool include_history = false) override;
  const std::string& bucket() const override { return kv_->bucket(); }

  natsx::KeyValue& native() { return *kv_; }

 private:
  std::unique_ptr<natsx::KeyValue> kv_;
};

class NatsJetStream final : public JetStream {
 public:
  explicit NatsJetStream(std::unique_ptr<natsx::JetStream> js) : js_(std::move(js)) {}

  core::Status AddOrUpdateStream(const StreamConfig& config) override;
  core::Status AddOrUpdateConsumer(const ConsumerConfig& config) override;
  core::Result<std::unique_ptr<KeyValue>> CreateKeyValue(const KeyValueConfig& config) override;
  core::Result<std::unique_ptr<KeyValue>> BindKeyValue(const std::string& bucket) override;

  natsx::JetStream& native() { return *js_; }

 private:
  std::unique_ptr<natsx::JetStream> js_;
};

class NatsBus final : public Bus {
 public:
  // `conn` must outlive the bus and everything opened from it.
  explicit NatsBus(natsx::Connection& conn) : conn_(conn) {}

  core::Status Publish(const core::SubjectTemplate& tmpl, SubjectArgs args,
                       std::string_view payload, const telemetry::SpanContext& parent) override;
  core::Status Flush(std::chrono::milliseconds timeout) override;
  bool IsConnected() const override;
  uint64_t AddReconnectListener(std::function<void()> listener) override;
  void RemoveReconnectListener(uint64_t id) override;
  core::Result<std::unique_ptr<JetStream>> OpenJetStream(JetStreamOptions options) override;
  const telemetry::Telemetry& telemetry() const override;

  natsx::Connection& native() { return conn_; }

 private:
  natsx::Connection& conn_;
};

// The natsx objects behind a Bus / JetStream that runtime opened (CHAT_CHECK otherwise): for the
// runtime classes that sit on natsx (Dispatcher, BatchConsumer).
natsx::Connection& NativeConnection(Bus& bus);
natsx::JetStream& NativeJetStream(JetStream& js);

}  // namespace chat::runtime
