// Trace-derived metrics under the names and labels of Tempo's metrics-generator
// (docs/observability.md §6.5): span metrics for every span, and a service graph built by pairing
// a CLIENT/PRODUCER span with its SERVER/CONSUMER child from another process within a wait window.
//
// Pairing follows grafana/tempo modules/generator/processor/servicegraphs (edge key = trace id +
// the client's span id; database and virtual-node edges; "user" client for root server spans);
// the README lists where the sink deliberately differs. Thread-safe; Expire() is driven by the
// owner's housekeeping thread (and by tests with a FakeClock).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/receiver/otlp_decode.hpp"

namespace chat::sink {

struct ServiceGraphOptions {
  std::chrono::nanoseconds wait = std::chrono::seconds(10);
  size_t max_items = 10000;  // waiting halves; beyond this a span is dropped and counted
};

// Approximate protobuf size of one Span message (what Tempo adds to traces_spanmetrics_size_total).
uint64_t SpanProtoSize(const telemetry::sdk::DecodedSpan& span);

class DerivedMetrics {
 public:
  // `registry` must outlive this object; the caller configures its exemplar and constant labels.
  DerivedMetrics(telemetry::MetricRegistry& registry, ServiceGraphOptions options,
                 const core::Clock& clock);

  void Observe(const std::vector<telemetry::sdk::DecodedSpan>& spans);
  // Settles halves that waited longer than `wait`: virtual-node edges or unpaired counts.
  void Expire();
  // Settles everything now, whatever its age (shutdown, tests).
  void ExpireAll();

  size_t waiting() const;
  uint64_t expired_total() const;

 private:
  struct Half {
    std::string service;
    telemetry::TraceId trace_id;
    telemetry::SpanId span_id;
    int64_t start = 0;
    int64_t end = 0;
    bool failed = false;
    bool messaging = false;  // PRODUCER or CONSUMER
    bool root = false;       // server half without a parent
    std::string peer_node;   // client half: peer.service / db.name / db.system
  };
  struct Pending {
    std::optional<Half> client;
    std::vector<Half> servers;
    int pairs = 0;
    uint64_t generation = 0;
  };
  struct ExpiryItem {
    int64_t deadline = 0;  // steady nanoseconds
    std::string key;
    uint64_t generation = 0;
  };

  void ObserveSpanMetrics(const telemetry::sdk::DecodedSpan& span);
  void ObserveGraphLocked(const telemetry::sdk::DecodedSpan& span, int64_t now);
  void EmitEdge(const Half& client, const Half& server, const std::string& client_name,
                const std::string& server_name, const char* connection_type);
  void EmitDatabaseEdge(const telemetry::sdk::DecodedSpan& span, const std::string& server);
  void SettleLocked(Pending& p);
  void ExpireLocked(int64_t now, bool all);

  const ServiceGraphOptions options_;
  const core::Clock& clock_;

  telemetry::Counter calls_;
  telemetry::Histogram latency_;
  telemetry::Counter size_;
  telemetry::Counter request_total_;
  telemetry::Counter request_failed_;
  telemetry::Histogram server_seconds_;
  telemetry::Histogram client_seconds_;
  telemetry::Histogram messaging_seconds_;
  telemetry::Counter unpaired_;
  telemetry::Counter dropped_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, Pending> pending_;
  std::deque<ExpiryItem> expiry_;
  uint64_t next_generation_ = 1;
  uint64_t expired_total_ = 0;
};

}  // namespace chat::sink
