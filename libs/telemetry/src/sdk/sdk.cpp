#include "chat/telemetry/sdk/sdk.hpp"

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/telemetry/sdk/otlp_http_exporter.hpp"
#include "chat/telemetry/sdk/sampler.hpp"

#ifndef CHAT_VERSION
#define CHAT_VERSION "0.0.0+unknown"
#endif

namespace chat::telemetry::sdk {
namespace {

constexpr std::array<ExportResult, 5> kExportResults = {
    ExportResult::kSuccess, ExportResult::kTimeout, ExportResult::kHttp4xx, ExportResult::kHttp5xx,
    ExportResult::kConnectionError};
constexpr std::array<LogLevel, 4> kLevels = {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn,
                                             LogLevel::kError};

// OTEL_TRACES_EXPORTER=none: spans are still sampled and get ids (so logs and downstream
// services see this service's span ids) but go nowhere.
class DiscardSpanExporter final : public SpanExporter {
 public:
  ExportResult Export(const std::vector<std::unique_ptr<SpanData>>&,
                      std::chrono::milliseconds) override {
    return ExportResult::kSuccess;
  }
};

nlohmann::json ValueJson(const AttributeValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::get<bool>(v);
}

nlohmann::json AttrsJson(const std::vector<Attribute>& attrs) {
  nlohmann::json o = nlohmann::json::object();
  for (const Attribute& a : attrs) o[std::string(a.key)] = ValueJson(a.value);
  return o;
}

// OTEL_TRACES_EXPORTER=console: one JSON line per span on stderr.
class ConsoleSpanExporter final : public SpanExporter {
 public:
  explicit ConsoleSpanExporter(std::string service) : service_(std::move(service)) {}
  ExportResult Export(const std::vector<std::unique_ptr<SpanData>>& batch,
                      std::chrono::milliseconds) override {
    for (const auto& s : batch) {
      nlohmann::json j;
      j["service"] = service_;
      j["name"] = s->name;
      j["trace_id"] = s->trace_id.Hex();
      j["span_id"] = s->span_id.Hex();
      if (s->parent_span_id.IsValid()) j["parent_span_id"] = s->parent_span_id.Hex();
      j["kind"] = SpanKindName(s->kind);
      j["start_unix_nano"] = s->start_unix_nano;
      j["end_unix_nano"] = s->end_unix_nano;
      j["status"] = StatusCodeName(s->status_code);
      if (!s->status_message.empty()) j["status_message"] = s->status_message;
      j["attributes"] = AttrsJson(s->attributes);
      nlohmann::json events = nlohmann::json::array();
      for (const SpanEvent& e : s->events) {
        events.push_back({{"name", std::string(e.name)},
                          {"time_unix_nano", e.time_unix_nano},
                          {"attributes", AttrsJson(e.attributes)}});
      }
      j["events"] = std::move(events);
      nlohmann::json links = nlohmann::json::array();
      for (const SpanLink& l : s->links) {
        links.push_back({{"trace_id", l.context.trace_id.Hex()},
                         {"span_id", l.context.span_id.Hex()},
                         {"attributes", AttrsJson(l.attributes)}});
      }
      j["links"] = std::move(links);
      std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stderr);
    }
    return ExportResult::kSuccess;
  }

 private:
  std::string service_;
};

OtlpHttpOptions OtlpOptions(const TelemetryConfig& c, const std::string& url) {
  OtlpHttpOptions o;
  o.url = url;
  o.json = c.otlp_protocol == "http/json";
  o.gzip = c.otlp_compression == "gzip";
  o.headers = c.otlp_headers;
  return o;
}

std::string HeaderNames(const TelemetryConfig& c) {
  std::string out;
  for (const auto& [k, v] : c.otlp_headers) {
    if (!out.empty()) out.push_back(',');
    out.append(k);  // names only: values are credentials
  }
  return out;
}

std::string ResourceString(const Resource& r, std::string_view key) {
  const AttributeValue* v = r.Find(key);
  if (v == nullptr) return {};
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  return {};
}

}  // namespace

struct TelemetrySdk::SelfMetrics {
  std::mutex mu;
  Counter span_processed, log_processed, span_exported, log_exported, span_limit_dropped,
      log_suppressed;
  Gauge span_queue_size, span_queue_capacity, log_queue_size, log_queue_capacity;
  // Last values pushed into the counters (counters only take deltas).
  uint64_t last_span_processed[2] = {};
  uint64_t last_log_processed[2] = {};
  uint64_t last_span_exported[5] = {};
  uint64_t last_log_exported[5] = {};
  uint64_t last_limit[3] = {};
  uint64_t last_suppressed[4] = {};
};

namespace {
void Sync(CounterCell& cell, uint64_t now, uint64_t& last) {
  if (now > last) {
    cell.Add(static_cast<double>(now - last));
    last = now;
  }
}
}  // namespace

TelemetrySdk::TelemetrySdk(TelemetryConfig config, const core::Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      self_(std::make_unique<SelfMetrics>()),
      metrics_(std::make_unique<MetricRegistry>()) {}

TelemetrySdk::~TelemetrySdk() { Shutdown(std::chrono::seconds(5)); }

std::unique_ptr<TelemetrySdk> TelemetrySdk::Create(const TelemetryConfig& config,
                                                   const core::Clock& clock,
                                                   SdkOverrides overrides) {
  std::unique_ptr<TelemetrySdk> sdk(new TelemetrySdk(config, clock));
  const TelemetryConfig& c = sdk->config_;
  const std::string version = CHAT_VERSION;
  const InstrumentationScope scope{"nats-chat", version};

  // ---- traces ----
  std::unique_ptr<SpanProcessor> span_processor;
  if (!c.sdk_disabled) {
    std::unique_ptr<SpanExporter> exporter = std::move(overrides.span_exporter);
    if (exporter == nullptr) {
      if (c.traces_exporter == "otlp") {
        exporter = MakeOtlpHttpSpanExporter(OtlpOptions(c, c.traces_endpoint), c.resource, scope);
      } else if (c.traces_exporter == "console") {
        exporter = std::make_unique<ConsoleSpanExporter>(c.service_name);
      } else {
        exporter = std::make_unique<DiscardSpanExporter>();
      }
    }
    if (exporter != nullptr) {
      auto p = std::make_unique<BatchSpanProcessor>(std::move(exporter), c.span_batch);
      sdk->span_processor_ = p.get();
      span_processor = std::move(p);
    }
  }
  std::unique_ptr<Sampler> sampler = MakeSampler(c.traces_sampler, c.traces_sampler_arg);
  if (sampler == nullptr) sampler = MakeParentBasedSampler(MakeTraceIdRatioSampler(1.0));
  sdk->provider_ = std::make_unique<TracerProvider>(
      c.resource, std::move(sampler), std::move(span_processor), c.span_limits, clock);

  // ---- logs ---- (stderr JSON lines stay on in every mode; console adds nothing to them)
  std::unique_ptr<LogProcessor> log_processor;
  if (!c.sdk_disabled) {
    std::unique_ptr<LogExporter> exporter = std::move(overrides.log_exporter);
    if (exporter == nullptr && c.logs_exporter == "otlp") {
      exporter = MakeOtlpHttpLogExporter(OtlpOptions(c, c.logs_endpoint), c.resource, scope);
    }
    if (exporter != nullptr) {
      auto p = std::make_unique<BatchLogProcessor>(std::move(exporter), c.log_batch);
      sdk->log_processor_ = p.get();
      log_processor = std::move(p);
    }
  }
  sdk->logger_ = std::make_unique<Logger>(c.service_name, c.log_level, std::move(log_processor),
                                          clock, std::move(overrides.log_writer));

  sdk->telemetry_.tracer = sdk->provider_->GetTracer();
  sdk->telemetry_.logger = sdk->logger_.get();
  sdk->telemetry_.metrics = sdk->metrics_.get();
  sdk->RegisterSelfMetrics();

  Logger& log = *sdk->logger_;
  if (c.otel_log_level <= LogLevel::kWarn) {
    for (const std::string& w : c.warnings) {
      log.Warn("telemetry configuration value ignored", {{"chat.config.problem", w}});
    }
  }
  log.Info(
      "telemetry configured",
      {{"service.name", c.service_name},
       {"service.version", ResourceString(c.resource, "service.version")},
       {"service.instance.id", ResourceString(c.resource, "service.instance.id")},
       {"deployment.environment.name", ResourceString(c.resource, "deployment.environment.name")},
       {"otel.sdk.disabled", AttributeValue(c.sdk_disabled)},
       {"otel.traces.sampler", c.traces_sampler},
       {"otel.traces.sampler.arg", AttributeValue(c.traces_sampler_arg)},
       {"otel.traces.exporter", c.traces_exporter},
       {"otel.logs.exporter", c.logs_exporter},
       {"otel.metrics.exporter", c.metrics_exporter},
       {"otel.exporter.otlp.traces.endpoint", c.traces_endpoint},
       {"otel.exporter.otlp.logs.endpoint", c.logs_endpoint},
       {"otel.exporter.otlp.protocol", c.otlp_protocol},
       {"otel.exporter.otlp.compression", c.otlp_compression},
       {"otel.exporter.otlp.timeout_ms", AttributeValue(int64_t{c.otlp_timeout.count()})},
       {"otel.exporter.otlp.header_names", HeaderNames(c)},
       {"otel.bsp.max_queue_size",
        AttributeValue(static_cast<int64_t>(c.span_batch.max_queue_size))},
       {"otel.blrp.max_queue_size",
        AttributeValue(static_cast<int64_t>(c.log_batch.max_queue_size))},
       {"log.level", std::string(LogLevelName(c.log_level))}});
  return sdk;
}

void TelemetrySdk::RegisterSelfMetrics() {
  MetricRegistry& m = *metrics_;
  SelfMetrics& s = *self_;

  // chat_build_info{version,commit} = 1: "0.1.0+3f2a9c1" → version 0.1.0, commit 3f2a9c1.
  const std::string full = CHAT_VERSION;
  const size_t plus = full.find('+');
  const std::string version = full.substr(0, plus);
  const std::string commit = plus == std::string::npos ? "unknown" : full.substr(plus + 1);
  m.AddGauge("chat_build_info", "Build version and commit of this binary; always 1.",
             {"version", "commit"})
      .With({version, commit})
      .Set(1);

  s.span_processed =
      m.AddCounter("otel_sdk_processor_span_processed_total",
                   "Spans handed to the exporter or dropped by the processor.", {"error_type"});
  s.log_processed = m.AddCounter("otel_sdk_processor_log_processed_total",
                                 "Log records handed to the exporter or dropped by the processor.",
                                 {"error_type"});
  s.span_exported = m.AddCounter("otel_sdk_exporter_span_exported_total",
                                 "Spans whose export finished, by outcome.", {"error_type"});
  s.log_exported = m.AddCounter("otel_sdk_exporter_log_exported_total",
                                "Log records whose export finished, by outcome.", {"error_type"});
  s.span_limit_dropped =
      m.AddCounter("otel_sdk_span_limit_dropped_total",
                   "Span attributes, events and links dropped by limits.", {"what"});
  s.log_suppressed =
      m.AddCounter("log_records_suppressed_total",
                   "Log records suppressed as repeats (over 10/s per level+msg).", {"level"});
  s.span_queue_size = m.AddGauge("otel_sdk_processor_span_queue_size", "Spans queued for export.");
  s.span_queue_capacity =
      m.AddGauge("otel_sdk_processor_span_queue_capacity", "Capacity of the span export queue.");
  s.log_queue_size =
      m.AddGauge("otel_sdk_processor_log_queue_size", "Log records queued for export.");
  s.log_queue_capacity =
      m.AddGauge("otel_sdk_processor_log_queue_capacity", "Capacity of the log export queue.");

  // Every enumerated series exists from start-up with value 0 (§6.1).
  for (std::string_view e : {std::string_view(""), std::string_view("queue_full")}) {
    s.span_processed.With({e});
    s.log_processed.With({e});
  }
  for (ExportResult r : kExportResults) {
    s.span_exported.With({ExportErrorType(r)});
    s.log_exported.With({ExportErrorType(r)});
  }
  for (std::string_view w : {"attribute", "event", "link"}) s.span_limit_dropped.With({w});
  for (LogLevel l : kLevels) s.log_suppressed.With({LogLevelName(l)});
  s.span_queue_size.Default().Set(0);
  s.log_queue_size.Default().Set(0);
  s.span_queue_capacity.Default().Set(
      span_processor_ != nullptr ? static_cast<double>(span_processor_->queue_capacity()) : 0);
  s.log_queue_capacity.Default().Set(
      log_processor_ != nullptr ? static_cast<double>(log_processor_->queue_capacity()) : 0);

  metrics_->AddCollectCallback([this] { CollectSelfMetrics(); });
}

void TelemetrySdk::CollectSelfMetrics() {
  SelfMetrics& s = *self_;
  std::lock_guard lock(s.mu);
  if (span_processor_ != nullptr) {
    const ProcessorStats& st = span_processor_->stats();
    Sync(s.span_processed.With({""}), st.processed(), s.last_span_processed[0]);
    Sync(s.span_processed.With({"queue_full"}), st.dropped_queue_full(), s.last_span_processed[1]);
    for (size_t i = 0; i < kExportResults.size(); ++i) {
      Sync(s.span_exported.With({ExportErrorType(kExportResults[i])}),
           st.exported(kExportResults[i]), s.last_span_exported[i]);
    }
    s.span_queue_size.Default().Set(static_cast<double>(span_processor_->queue_size()));
  }
  if (log_processor_ != nullptr) {
    const ProcessorStats& st = log_processor_->stats();
    Sync(s.log_processed.With({""}), st.processed(), s.last_log_processed[0]);
    Sync(s.log_processed.With({"queue_full"}), st.dropped_queue_full(), s.last_log_processed[1]);
    for (size_t i = 0; i < kExportResults.size(); ++i) {
      Sync(s.log_exported.With({ExportErrorType(kExportResults[i])}),
           st.exported(kExportResults[i]), s.last_log_exported[i]);
    }
    s.log_queue_size.Default().Set(static_cast<double>(log_processor_->queue_size()));
  }
  Sync(s.span_limit_dropped.With({"attribute"}), provider_->dropped_attributes(), s.last_limit[0]);
  Sync(s.span_limit_dropped.With({"event"}), provider_->dropped_events(), s.last_limit[1]);
  Sync(s.span_limit_dropped.With({"link"}), provider_->dropped_links(), s.last_limit[2]);
  for (size_t i = 0; i < kLevels.size(); ++i) {
    Sync(s.log_suppressed.With({LogLevelName(kLevels[i])}), logger_->suppressed(kLevels[i]),
         s.last_suppressed[i]);
  }
}

bool TelemetrySdk::Shutdown(std::chrono::milliseconds budget) {
  std::lock_guard lock(shutdown_mu_);
  if (shut_down_) return true;
  shut_down_ = true;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  auto left = [&] {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return std::max(d, std::chrono::milliseconds(0));
  };
  bool ok = provider_->ForceFlush(left());
  ok = provider_->Shutdown(left()) && ok;
  ok = logger_->ForceFlush(left()) && ok;
  ok = logger_->Shutdown(left()) && ok;
  return ok;
}

}  // namespace chat::telemetry::sdk
