// OTLP protobuf decoding as the telemetry sink does it, two ways (issue 12, docs/adr/0004):
//   baseline  our hand-written decoder (chat::otlp_receiver: DecodeTracesProtobuf,
//             DecodeLogsProtobuf, CountMetricPointsProtobuf) into the sink's model;
//   candidate libprotobuf's ParseFromArray into the messages protoc generates from the vendored
//             libs/telemetry/test/otlp/proto, plus the conversion into the same model
//             (bench/protobuf/otlp_convert.hpp), one fresh request message per body.
// For scale, without a pair: .../protobuf_arena (the same on a fresh google::protobuf::Arena)
// and .../protobuf_parse_only (ParseFromArray alone, no conversion: a lower bound for protobuf).
// Payloads: traces are 512 spans with 10 attributes, some events, links and error statuses,
// encoded by our own SDK encoder (what services send); logs are 512 records from our encoder;
// metrics (our services are scraped, so no encoder of ours) are 64 sums/histograms with 512
// data points in all, written field by field. Before timing, both ways must produce the same
// model from each payload. The protobuf half is built only when CMake finds protobuf
// (libprotobuf-dev); without it this runs the hand decoder alone and says so.
// Counters: request_bytes, and peak_bytes / allocations of one decode (a counting global
// operator new). `otlp_decode_bench --hostile` instead prints how each way handles bodies an
// attacker could post (empty sub-messages, unknown fields, deep nesting, huge length prefixes,
// invalid UTF-8) and exits.
// Run: otlp_decode_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "baselines/naive_otlp_encoder.hpp"
#include "chat/core/main.hpp"
#include "chat/telemetry/log.hpp"
#include "chat/telemetry/receiver/otlp_decode.hpp"
#include "chat/telemetry/sdk/otlp.hpp"
#include "otlp_span_batch.hpp"

#ifdef CHAT_BENCH_PROTOBUF
#include "protobuf/otlp_convert.hpp"
#endif

// ---------- heap accounting ----------
// Replaces the global operator new/delete of this executable (and, by symbol interposition, of
// libprotobuf) with a size-prefixed malloc that tracks live and peak bytes, so each decode's peak
// heap use and allocation count can be reported. Single-threaded, like the benchmarks.
namespace heap {
constexpr size_t kHeader = alignof(std::max_align_t);
size_t live = 0;
size_t peak = 0;
size_t allocs = 0;

void* Allocate(size_t n) {
  void* p = std::malloc(n + kHeader);
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, &n, sizeof n);
  live += n;
  if (live > peak) peak = live;
  ++allocs;
  return static_cast<char*>(p) + kHeader;
}

void Free(void* p) noexcept {
  if (p == nullptr) return;
  char* base = static_cast<char*>(p) - kHeader;
  size_t n = 0;
  std::memcpy(&n, base, sizeof n);
  live -= n;
  std::free(base);
}

struct Usage {
  size_t peak_bytes = 0;
  size_t allocations = 0;
};

// Peak bytes above what was live before, and allocations, while `f` runs (its result included:
// `f` returns it and it is freed after the peak is read).
template <typename F>
Usage Measure(F&& f) {
  const size_t before = live;
  peak = live;
  const size_t allocs_before = allocs;
  auto result = f();
  Usage u{peak - before, allocs - allocs_before};
  benchmark::DoNotOptimize(result);
  return u;
}
}  // namespace heap

void* operator new(size_t n) { return heap::Allocate(n); }
void* operator new[](size_t n) { return heap::Allocate(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return heap::Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return heap::Allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { heap::Free(p); }
void operator delete[](void* p) noexcept { heap::Free(p); }
void operator delete(void* p, size_t) noexcept { heap::Free(p); }
void operator delete[](void* p, size_t) noexcept { heap::Free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { heap::Free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { heap::Free(p); }

namespace {

using chat::bench::NaiveFixed;
using chat::bench::NaiveKeyValue;
using chat::bench::NaiveLen;
using chat::bench::NaiveTag;
using chat::bench::NaiveVarint;
using chat::telemetry::AttributeValue;
using chat::telemetry::LogLevel;
using chat::telemetry::LogRecordData;
using chat::telemetry::Resource;
using chat::telemetry::SpanData;
using chat::telemetry::StatusCode;
using chat::telemetry::sdk::DecodedAttribute;
using chat::telemetry::sdk::DecodedLogRecord;
using chat::telemetry::sdk::DecodedResource;
using chat::telemetry::sdk::DecodedSpan;
namespace sdk = chat::telemetry::sdk;

constexpr size_t kBatch = chat::bench::kOtlpBatch;  // spans, log records, metric points per request

Resource MakeResource() {
  Resource r;
  r.attributes.push_back({"service.name", std::string("fanout-service")});
  r.attributes.push_back({"service.namespace", std::string("nats-chat")});
  r.attributes.push_back({"service.version", std::string("1.3.0+3f2a9c1")});
  r.attributes.push_back(
      {"service.instance.id", std::string("4b0f9f4e-5d43-4a55-9f9b-5e8c1d3b2a10")});
  return r;
}

template <typename Id>
void FillId(Id& id, size_t seed) {
  for (size_t b = 0; b < id.bytes.size(); ++b) id.bytes[b] = static_cast<uint8_t>(seed * 7 + b + 1);
}

// As bench/otlp_bench.cpp's batch, plus what real batches carry now and then: an exception event
// on every 4th span, a link on every 8th, an error status on every 16th.
std::string MakeTracesBody() {
  std::vector<std::unique_ptr<SpanData>> spans = chat::bench::MakeOtlpSpanBatch();
  for (size_t i = 0; i < spans.size(); ++i) {
    SpanData* s = spans[i].get();
    if (i % 4 == 0) {
      chat::telemetry::SpanEvent e;
      e.name = "exception";
      e.time_unix_nano = s->start_unix_nano + 1000;
      e.attributes = {{"exception.type", "chat::core::Unavailable"},
                      {"exception.message", "postgres: connection refused (attempt 2 of 3)"}};
      s->events.push_back(std::move(e));
    }
    if (i % 8 == 0) {
      chat::telemetry::SpanLink l;
      FillId(l.context.trace_id, i + 1000);
      FillId(l.context.span_id, i + 2000);
      l.context.trace_flags = 1;
      l.attributes = {{"chat.link.reason", "batch"}};
      s->links.push_back(std::move(l));
    }
    if (i % 16 == 0) {
      s->status_code = StatusCode::kError;
      s->status_message = "persist failed: unavailable";
    }
  }
  std::string out;
  sdk::EncodeTracesProtobuf(MakeResource(), {"chat.telemetry", "0.1.0"}, spans, out);
  return out;
}

std::string MakeLogsBody() {
  std::vector<std::unique_ptr<LogRecordData>> records;
  for (size_t i = 0; i < kBatch; ++i) {
    auto r = std::make_unique<LogRecordData>();
    r->time_unix_nano = 1700000000000000000 + static_cast<int64_t>(i) * 1000;
    r->level = i % 10 == 0 ? LogLevel::kWarn : LogLevel::kInfo;
    r->body = i % 10 == 0 ? "delivery retried" : "message fanned out";
    FillId(r->trace_id, i);
    FillId(r->span_id, i * 3);
    r->trace_flags = 1;
    r->attributes = {{"chat.room.id", "r-" + std::to_string(i % 97)},
                     {"chat.message.seq", static_cast<int64_t>(i) * 13},
                     {"chat.fanout.recipients", 12},
                     {"chat.user.id", "u-" + std::to_string(i % 211)},
                     {"chat.elapsed_ms", AttributeValue(1.75)}};
    records.push_back(std::move(r));
  }
  std::string out;
  sdk::EncodeLogsProtobuf(MakeResource(), {"chat.telemetry", "0.1.0"}, records, out);
  return out;
}

// ExportMetricsServiceRequest: 48 monotonic sums and 16 histograms, 8 points each (512 points),
// sums with 3 attributes per point, histograms with 12 explicit bounds.
std::string MakeMetricsBody() {
  Resource resource = MakeResource();
  std::string res;
  for (const auto& a : resource.attributes) NaiveLen(res, 1, NaiveKeyValue(a.key, a.value));
  std::string scope_metrics;
  {
    std::string sc;
    NaiveLen(sc, 1, "chat.telemetry");
    NaiveLen(scope_metrics, 1, sc);
  }
  for (size_t m = 0; m < 64; ++m) {
    const bool histogram = m % 4 == 3;
    std::string metric;
    NaiveLen(metric, 1,
             (histogram ? "chat_handler_duration_seconds_" : "chat_messages_total_") +
                 std::to_string(m));
    NaiveLen(metric, 3, histogram ? "s" : "1");
    std::string data;
    for (size_t p = 0; p < 8; ++p) {
      std::string point;
      if (histogram) {
        NaiveFixed(point, 3, 1700000000000000000 + p, 8);
        NaiveFixed(point, 4, 1000 + p, 8);
        std::string counts;
        std::string bounds;
        for (int b = 0; b < 13; ++b) {
          for (int i = 0; i < 8; ++i) counts.push_back(static_cast<char>(i == 0 ? b * 3 : 0));
        }
        for (int b = 0; b < 12; ++b) {
          double d = 0.0005 * (1 << b);
          char raw[8];
          std::memcpy(raw, &d, 8);
          bounds.append(raw, 8);
        }
        NaiveLen(point, 6, counts);  // packed repeated fixed64
        NaiveLen(point, 7, bounds);  // packed repeated double
      } else {
        NaiveLen(point, 7, NaiveKeyValue("chat.room.kind", AttributeValue(std::string("group"))));
        NaiveLen(point, 7, NaiveKeyValue("chat.service", AttributeValue(std::string("fanout"))));
        NaiveLen(point, 7, NaiveKeyValue("chat.shard", AttributeValue(static_cast<int64_t>(p))));
        NaiveFixed(point, 2, 1699999000000000000, 8);
        NaiveFixed(point, 3, 1700000000000000000 + p, 8);
        NaiveFixed(point, 6, 4000 + m * 8 + p, 8);  // as_int (sfixed64)
      }
      NaiveLen(data, 1, point);
    }
    if (!histogram) {
      NaiveTag(data, 2, 0);
      NaiveVarint(data, 2);  // cumulative
      NaiveTag(data, 3, 0);
      NaiveVarint(data, 1);  // monotonic
    } else {
      NaiveTag(data, 2, 0);
      NaiveVarint(data, 2);
    }
    NaiveLen(metric, histogram ? 9 : 7, data);
    NaiveLen(scope_metrics, 2, metric);
  }
  std::string resource_metrics;
  NaiveLen(resource_metrics, 1, res);
  NaiveLen(resource_metrics, 2, scope_metrics);
  std::string out;
  NaiveLen(out, 1, resource_metrics);
  return out;
}

struct Payloads {
  std::string traces = MakeTracesBody();
  std::string logs = MakeLogsBody();
  std::string metrics = MakeMetricsBody();
};

const Payloads& Bodies() {
  static const Payloads kPayloads;
  return kPayloads;
}

// Times `decode(body)` (which returns a core::Result whose value `ok` checks), then decodes once
// more with heap accounting for the peak_bytes and allocations counters.
template <typename Decode, typename Ok>
void Run(benchmark::State& state, const std::string& body, Decode decode, Ok ok) {
  for (auto _ : state) {
    auto out = decode(body);
    if (!out.ok() || !ok(*out)) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out);
  }
  heap::Usage u = heap::Measure([&] { return decode(body); });
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
  state.counters["request_bytes"] = static_cast<double>(body.size());
  state.counters["peak_bytes"] = static_cast<double>(u.peak_bytes);
  state.counters["allocations"] = static_cast<double>(u.allocations);
}

template <typename T>
bool IsBatch(const std::vector<T>& v) {
  return v.size() == kBatch;
}
bool IsBatchCount(uint64_t n) { return n == kBatch; }

// ---------- baseline: the hand decoder ----------

void BM_TracesHand(benchmark::State& state) {
  Run(state, Bodies().traces, sdk::DecodeTracesProtobuf, IsBatch<DecodedSpan>);
}
BENCHMARK(BM_TracesHand)->Name("otlp_decode/traces_512/baseline");

void BM_LogsHand(benchmark::State& state) {
  Run(state, Bodies().logs, sdk::DecodeLogsProtobuf, IsBatch<DecodedLogRecord>);
}
BENCHMARK(BM_LogsHand)->Name("otlp_decode/logs_512/baseline");

void BM_MetricsHand(benchmark::State& state) {
  Run(state, Bodies().metrics, sdk::CountMetricPointsProtobuf, IsBatchCount);
}
BENCHMARK(BM_MetricsHand)->Name("otlp_decode/metrics_512/baseline");

// ---------- candidate: protoc-generated parser + conversion ----------

#ifdef CHAT_BENCH_PROTOBUF
namespace pb = chat::bench::pb;
using TraceRequest = pb::collector_trace::ExportTraceServiceRequest;
using LogsRequest = pb::collector_logs::ExportLogsServiceRequest;
using MetricsRequest = pb::collector_metrics::ExportMetricsServiceRequest;

chat::core::Result<uint64_t> CountPointsResult(const MetricsRequest& r) {
  return pb::CountPoints(r);
}

// How the protobuf variants decode one body.
enum class PbWay { kHeap, kArena, kParseOnly };

template <typename Request, typename Convert>
auto PbDecoder(Convert convert, PbWay way) {
  using Out = decltype(convert(std::declval<const Request&>()));  // core::Result<T>
  using Value = std::remove_cvref_t<decltype(*std::declval<Out&>())>;
  return [convert, way](std::string_view body) -> Out {
    switch (way) {
      case PbWay::kHeap: return pb::ParseAndConvert<Request>(body, convert);
      case PbWay::kArena: return pb::ParseAndConvertArena<Request>(body, convert);
      case PbWay::kParseOnly: break;
    }
    // Parse alone: the message is destroyed here, so only an empty-looking result comes back;
    // the timed work is the parse.
    Request req;
    if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return chat::core::InvalidArgument("protobuf parse failed");
    }
    benchmark::DoNotOptimize(req);
    return Value{};
  };
}

// Registered from main (RegisterBenchmark) so the names carry no argument suffix: ./nats-chat
// bench pairs .../baseline with .../candidate by name.
void RegisterProtobufBenchmarks() {
  struct Variant {
    const char* suffix;
    PbWay way;
  };
  auto any_spans = [](const std::vector<DecodedSpan>&) { return true; };
  auto any_logs = [](const std::vector<DecodedLogRecord>&) { return true; };
  auto any_count = [](uint64_t) { return true; };
  for (Variant v : {Variant{"candidate", PbWay::kHeap}, Variant{"protobuf_arena", PbWay::kArena},
                    Variant{"protobuf_parse_only", PbWay::kParseOnly}}) {
    const PbWay way = v.way;
    const bool full = way != PbWay::kParseOnly;
    benchmark::RegisterBenchmark((std::string("otlp_decode/traces_512/") + v.suffix).c_str(),
                                 [=](benchmark::State& state) {
                                   auto decode = PbDecoder<TraceRequest>(pb::ConvertTraces, way);
                                   if (full) {
                                     Run(state, Bodies().traces, decode, IsBatch<DecodedSpan>);
                                   } else {
                                     Run(state, Bodies().traces, decode, any_spans);
                                   }
                                 });
    benchmark::RegisterBenchmark((std::string("otlp_decode/logs_512/") + v.suffix).c_str(),
                                 [=](benchmark::State& state) {
                                   auto decode = PbDecoder<LogsRequest>(pb::ConvertLogs, way);
                                   if (full) {
                                     Run(state, Bodies().logs, decode, IsBatch<DecodedLogRecord>);
                                   } else {
                                     Run(state, Bodies().logs, decode, any_logs);
                                   }
                                 });
    benchmark::RegisterBenchmark((std::string("otlp_decode/metrics_512/") + v.suffix).c_str(),
                                 [=](benchmark::State& state) {
                                   auto decode = PbDecoder<MetricsRequest>(CountPointsResult, way);
                                   if (full) {
                                     Run(state, Bodies().metrics, decode, IsBatchCount);
                                   } else {
                                     Run(state, Bodies().metrics, decode, any_count);
                                   }
                                 });
  }
}

// ---------- both ways must agree before anything is timed ----------

bool SameAttributes(const std::vector<DecodedAttribute>& a,
                    const std::vector<DecodedAttribute>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key || a[i].value != b[i].value) return false;
  }
  return true;
}

bool SameResource(const DecodedResource& a, const DecodedResource& b) {
  return a.service_name == b.service_name && SameAttributes(a.attributes, b.attributes);
}

bool SameSpan(const DecodedSpan& a, const DecodedSpan& b) {
  if (!SameResource(*a.resource, *b.resource) || a.scope_name != b.scope_name ||
      a.trace_id != b.trace_id || a.span_id != b.span_id || a.parent_span_id != b.parent_span_id ||
      a.trace_state != b.trace_state || a.flags != b.flags || a.name != b.name ||
      a.kind != b.kind || a.start_unix_nano != b.start_unix_nano ||
      a.end_unix_nano != b.end_unix_nano || !SameAttributes(a.attributes, b.attributes) ||
      a.events.size() != b.events.size() || a.links.size() != b.links.size() ||
      a.status_code != b.status_code || a.status_message != b.status_message ||
      a.dropped_attributes != b.dropped_attributes || a.dropped_events != b.dropped_events ||
      a.dropped_links != b.dropped_links) {
    return false;
  }
  for (size_t i = 0; i < a.events.size(); ++i) {
    const auto& x = a.events[i];
    const auto& y = b.events[i];
    if (x.name != y.name || x.time_unix_nano != y.time_unix_nano ||
        !SameAttributes(x.attributes, y.attributes)) {
      return false;
    }
  }
  for (size_t i = 0; i < a.links.size(); ++i) {
    const auto& x = a.links[i];
    const auto& y = b.links[i];
    if (x.trace_id != y.trace_id || x.span_id != y.span_id || x.trace_state != y.trace_state ||
        !SameAttributes(x.attributes, y.attributes)) {
      return false;
    }
  }
  return true;
}

bool SameLog(const DecodedLogRecord& a, const DecodedLogRecord& b) {
  return SameResource(*a.resource, *b.resource) && a.scope_name == b.scope_name &&
         a.time_unix_nano == b.time_unix_nano &&
         a.observed_time_unix_nano == b.observed_time_unix_nano &&
         a.severity_number == b.severity_number && a.severity_text == b.severity_text &&
         a.body == b.body && SameAttributes(a.attributes, b.attributes) &&
         a.trace_id == b.trace_id && a.span_id == b.span_id && a.flags == b.flags;
}

template <typename T, typename Same>
bool SameAll(const chat::core::Result<std::vector<T>>& a,
             const chat::core::Result<std::vector<T>>& b, Same same) {
  if (!a.ok() || !b.ok() || a->size() != b->size() || a->size() != kBatch) return false;
  for (size_t i = 0; i < a->size(); ++i) {
    if (!same((*a)[i], (*b)[i])) return false;
  }
  return true;
}

bool BothWaysAgree() {
  const Payloads& p = Bodies();
  auto hand_spans = sdk::DecodeTracesProtobuf(p.traces);
  if (!SameAll(hand_spans, pb::ParseAndConvert<TraceRequest>(p.traces, pb::ConvertTraces),
               SameSpan) ||
      !SameAll(hand_spans, pb::ParseAndConvertArena<TraceRequest>(p.traces, pb::ConvertTraces),
               SameSpan)) {
    std::fprintf(stderr, "traces: the two decoders disagree\n");
    return false;
  }
  auto hand_logs = sdk::DecodeLogsProtobuf(p.logs);
  if (!SameAll(hand_logs, pb::ParseAndConvert<LogsRequest>(p.logs, pb::ConvertLogs), SameLog) ||
      !SameAll(hand_logs, pb::ParseAndConvertArena<LogsRequest>(p.logs, pb::ConvertLogs),
               SameLog)) {
    std::fprintf(stderr, "logs: the two decoders disagree\n");
    return false;
  }
  auto hand_points = sdk::CountMetricPointsProtobuf(p.metrics);
  auto pb_points = pb::ParseAndConvert<MetricsRequest>(p.metrics, CountPointsResult);
  if (!hand_points.ok() || !pb_points.ok() || *hand_points != kBatch || *pb_points != kBatch) {
    std::fprintf(stderr, "metrics: the two decoders disagree\n");
    return false;
  }
  return true;
}
#endif  // CHAT_BENCH_PROTOBUF

// ---------- hostile inputs (--hostile) ----------

// ExportTraceServiceRequest{ResourceSpans{ScopeSpans{`spans`}}}, `spans` already field-tagged.
std::string WrapSpans(const std::string& spans) {
  std::string scope_spans;
  NaiveLen(scope_spans, 1, std::string());  // empty InstrumentationScope
  scope_spans += spans;
  std::string resource_spans;
  NaiveLen(resource_spans, 2, scope_spans);
  std::string out;
  NaiveLen(out, 1, resource_spans);
  return out;
}

std::string OneSpan(const std::string& fields) {
  std::string spans;
  NaiveLen(spans, 2, fields);
  return WrapSpans(spans);
}

// Bodies an attacker can post, 1 MiB each where size matters (the sink accepts 8 MiB by default,
// SINK_MAX_BODY_BYTES; memory grows linearly, so the amplification factor carries over).
std::vector<std::pair<std::string, std::string>> HostileBodies() {
  constexpr size_t kMiB = 1 << 20;
  std::vector<std::pair<std::string, std::string>> bodies;
  {
    std::string spans;
    while (spans.size() < kMiB) spans += std::string("\x12\x00", 2);  // empty Span
    bodies.emplace_back("1 MiB of empty spans", WrapSpans(spans));
  }
  {
    std::string fields;
    while (fields.size() < kMiB) fields += std::string("\x4a\x00", 2);  // empty KeyValue
    bodies.emplace_back("1 MiB of empty attributes", OneSpan(fields));
  }
  {
    std::string fields;
    const std::string chunk(1000, 'x');
    while (fields.size() < kMiB) NaiveLen(fields, 100, chunk);  // field 100: not in the schema
    bodies.emplace_back("1 MiB of unknown fields", OneSpan(fields));
  }
  {
    std::string value;  // AnyValue{array_value{values: AnyValue{...}}}, 5000 levels
    NaiveTag(value, 3, 0);
    NaiveVarint(value, 1);
    for (int i = 0; i < 5000; ++i) {
      std::string array;
      NaiveLen(array, 1, value);
      value.clear();
      NaiveLen(value, 5, array);
    }
    std::string kv;
    NaiveLen(kv, 1, "k");
    NaiveLen(kv, 2, value);
    std::string fields;
    NaiveLen(fields, 9, kv);
    bodies.emplace_back("AnyValue nested 5000 deep", OneSpan(fields));
  }
  {
    std::string body;
    NaiveTag(body, 1, 2);
    NaiveVarint(body, uint64_t{1} << 62);  // length prefix of 4 EiB, 3 bytes follow
    body += "abc";
    bodies.emplace_back("length prefix 2^62", body);
  }
  {
    std::string fields;
    NaiveLen(fields, 5, "bad \xff\xfe name");
    bodies.emplace_back("invalid UTF-8 in a string", OneSpan(fields));
  }
  return bodies;
}

template <typename Decode>
void ReportHostile(const char* way, const std::string& body, Decode decode) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string outcome;
  heap::Usage u = heap::Measure([&] {
    auto r = decode(body);
    outcome = r.ok() ? "accepted, " + std::to_string(r->size()) + " spans"
                     : "rejected: " + r.status().message();
    return r;
  });
  const auto t1 = std::chrono::steady_clock::now();
  std::printf("    %-15s %8.1f ms  peak %8.1f MiB (%5.1fx body)  %s\n", way,
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              static_cast<double>(u.peak_bytes) / (1 << 20),
              static_cast<double>(u.peak_bytes) / static_cast<double>(body.size()),
              outcome.substr(0, 70).c_str());
}

void HostileReport() {
  std::printf("otlp decode of hostile ExportTraceServiceRequest bodies (wall time, one run):\n");
  for (const auto& [what, body] : HostileBodies()) {
    std::printf("  %s (%zu bytes)\n", what.c_str(), body.size());
    ReportHostile("hand", body, sdk::DecodeTracesProtobuf);
#ifdef CHAT_BENCH_PROTOBUF
    ReportHostile("protobuf", body, [](std::string_view b) {
      return pb::ParseAndConvert<TraceRequest>(b, pb::ConvertTraces);
    });
    ReportHostile("protobuf_arena", body, [](std::string_view b) {
      return pb::ParseAndConvertArena<TraceRequest>(b, pb::ConvertTraces);
    });
#endif
  }
}

// Collects the median CPU time per request of each benchmark and prints, per signal, ns/request,
// MB/s and each protobuf variant's ratio to the hand decoder, after the normal console output.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      bool single = r.run_type == Run::RT_Iteration && r.repetitions <= 1;
      if (!median && !single) continue;
      // CPU time: on a shared machine, wall time also counts time spent preempted.
      ns_per_request_[r.run_name.function_name] = r.GetAdjustedCPUTime();  // ns by default
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const Payloads& p = Bodies();
    const std::pair<const char*, size_t> signals[] = {{"traces_512", p.traces.size()},
                                                      {"logs_512", p.logs.size()},
                                                      {"metrics_512", p.metrics.size()}};
    std::printf("\notlp decode, median CPU time per request (ratio = protobuf / hand):\n");
    for (const auto& [signal, bytes] : signals) {
      const std::string family = std::string("otlp_decode/") + signal + "/";
      auto hand = ns_per_request_.find(family + "baseline");
      if (hand == ns_per_request_.end()) continue;
      std::printf("  %-12s %7zu bytes  hand %9.0f ns (%6.0f MB/s)", signal, bytes, hand->second,
                  static_cast<double>(bytes) * 1e3 / hand->second);
      for (const char* variant : {"candidate", "protobuf_arena", "protobuf_parse_only"}) {
        auto it = ns_per_request_.find(family + variant);
        if (it == ns_per_request_.end()) continue;
        std::printf("\n  %-12s %13s  %-19s %9.0f ns (%6.0f MB/s)  ratio %.2f", "", "", variant,
                    it->second, static_cast<double>(bytes) * 1e3 / it->second,
                    it->second / hand->second);
      }
      std::printf("\n");
    }
#ifndef CHAT_BENCH_PROTOBUF
    std::printf("  (protobuf half skipped: built without libprotobuf-dev)\n");
#endif
  }

 private:
  std::map<std::string, double> ns_per_request_;
};

}  // namespace

static int Run(int argc, char** argv) {
  // --hostile: print the hostile-input table and exit (no benchmarks).
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--hostile") == 0) {
      HostileReport();
      return 0;
    }
  }
#ifdef CHAT_BENCH_PROTOBUF
  if (!BothWaysAgree()) return 1;
  RegisterProtobufBenchmarks();
#else
  std::fprintf(stderr,
               "otlp_decode_bench: protobuf not found at build time (apt-get install "
               "libprotobuf-dev, then reconfigure); measuring the hand decoder only\n");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

int main(int argc, char** argv) {
  return chat::core::RunMain([&] { return Run(argc, argv); });
}
