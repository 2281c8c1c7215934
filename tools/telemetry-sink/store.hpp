// The sink's bounded, in-memory trace and log store: what Tempo and Loki hold in production,
// reduced to what local tests and the explorer page ask of them (docs/observability.md §11.4-5).
//
// Bounded four ways (span count, log count, age since receipt, and bytes: the approximate heap
// size of every stored span and log record together, resources included once per batch); the
// oldest records go first — for the byte bound, whichever of the oldest span and the oldest log
// record arrived first — and each eviction is reported to the owner's callback so it can be
// counted. A span count alone let ten 4 MiB spans cost 200 MB (issue 11 §8). Spans are indexed by
// trace id, logs by trace id too. Thread-safe: ingest threads take the write lock, queries the
// read lock, and queries copy what they return.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/telemetry/receiver/otlp_decode.hpp"

namespace chat::sink {

using telemetry::sdk::DecodedLogRecord;
using telemetry::sdk::DecodedSpan;

// Query-string parameters as cpp-httplib hands them over (repeatable keys).
using QueryParams = std::multimap<std::string, std::string>;

struct TraceQuery {
  std::string service;
  std::string name;
  std::optional<int> status_code;  // OTLP number: 0 unset, 1 ok, 2 error
  std::vector<std::pair<std::string, std::string>> attributes;  // all must match
  int64_t since_unix_nano = 0;                                  // span start >= since
  size_t limit = 20;
};

struct LogQuery {
  std::string trace_id;  // lowercase hex; empty = any
  std::string service;
  std::string level;  // severity_text, case-insensitive; empty = any
  int64_t since_unix_nano = 0;
  size_t limit = 100;
  bool forward = false;  // oldest first (default newest first, like Loki's "backward")
};

// since= accepts unix nanoseconds, RFC 3339 ("2026-03-01T12:00:00Z", fraction and offset
// allowed) or a duration back from now ("500ms", "30s", "5m", "2h", "1d").
core::Result<int64_t> ParseSince(std::string_view text, int64_t now_unix_nano);
core::Result<TraceQuery> ParseTraceQuery(const QueryParams& params, int64_t now_unix_nano);
core::Result<LogQuery> ParseLogQuery(const QueryParams& params, int64_t now_unix_nano);

// "2026-03-01T12:00:00.123456789Z"
std::string FormatRfc3339Nanos(int64_t unix_nano);
std::string SpanKindLabel(int kind);    // "SPAN_KIND_SERVER"; 0 → "SPAN_KIND_UNSPECIFIED"
std::string StatusCodeLabel(int code);  // "STATUS_CODE_ERROR"
std::string AttributeText(const telemetry::AttributeValue& v);  // how filters compare values
nlohmann::json AttributeJson(const telemetry::AttributeValue& v);
nlohmann::json SpanJson(const DecodedSpan& span);
nlohmann::json LogJson(const DecodedLogRecord& record);

struct StoreLimits {
  size_t max_spans = 200000;
  size_t max_logs = 200000;
  std::chrono::seconds max_age{3600};
  size_t max_bytes = size_t{256} * 1024 * 1024;
};

enum class Signal { kSpans, kLogs };
enum class EvictReason { kCount, kAge, kBytes };

// Approximate heap bytes a stored record holds (strings, vectors, the record itself), without
// its resource, which is shared by the records of one request.
size_t ApproxBytes(const DecodedSpan& span);
size_t ApproxBytes(const DecodedLogRecord& record);
size_t ApproxBytes(const telemetry::sdk::DecodedResource& resource);

class TelemetryStore {
 public:
  // Called with the write lock held, once per batch of evictions: keep it cheap.
  using EvictionListener = std::function<void(Signal, EvictReason, uint64_t count)>;

  TelemetryStore(StoreLimits limits, const core::Clock& clock, EvictionListener on_evict = {});

  void AddSpans(std::vector<DecodedSpan> spans);
  void AddLogs(std::vector<DecodedLogRecord> records);
  // Drops records received more than max_age ago (also done on every Add).
  void EvictExpired();

  // nullopt when no span of that trace is stored.
  std::optional<nlohmann::json> TraceJson(const telemetry::TraceId& trace_id) const;
  // Trace summaries, newest trace start first.
  nlohmann::json SearchTraces(const TraceQuery& query) const;
  nlohmann::json SearchLogs(const LogQuery& query) const;
  std::vector<std::string> Services() const;

  size_t span_count() const;
  size_t log_count() const;
  size_t trace_count() const;
  size_t bytes() const;  // what the byte bound compares: spans and logs together

 private:
  struct StoredSpan {
    DecodedSpan span;
    int64_t received_unix_nano = 0;
    size_t bytes = 0;
  };
  struct StoredLog {
    DecodedLogRecord record;
    int64_t received_unix_nano = 0;
    size_t bytes = 0;
  };
  using SpanPtr = std::shared_ptr<const StoredSpan>;
  using LogPtr = std::shared_ptr<const StoredLog>;

  void EvictLocked(int64_t now);
  void PopSpanLocked();
  void PopLogLocked();
  void NoteServiceLocked(const std::string& service);
  nlohmann::json SummaryLocked(const std::string& trace_hex,
                               const std::deque<SpanPtr>& spans) const;

  const StoreLimits limits_;
  const core::Clock& clock_;
  EvictionListener on_evict_;

  mutable std::shared_mutex mu_;
  std::deque<SpanPtr> spans_;                                    // arrival order
  std::unordered_map<std::string, std::deque<SpanPtr>> traces_;  // hex id → arrival order
  std::deque<LogPtr> logs_;
  std::unordered_map<std::string, std::deque<LogPtr>> logs_by_trace_;
  std::set<std::string> services_;
  size_t bytes_ = 0;
};

}  // namespace chat::sink
