#include "chat/telemetry/sdk/config.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>

#include "chat/telemetry/semconv.hpp"

#ifndef CHAT_VERSION
#define CHAT_VERSION "0.0.0+unknown"
#endif

namespace chat::telemetry::sdk {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; a '%' not followed by two hex digits is kept literally.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexDigit(s[i + 1]);
      int lo = HexDigit(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>((hi << 4) | lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string JoinUrl(std::string_view base, std::string_view path) {
  std::string out(base);
  while (!out.empty() && out.back() == '/') out.pop_back();
  out.append(path);
  return out;
}

LogLevel ReadLevel(const core::Env& env, std::string_view name, LogLevel def,
                   std::vector<std::string>& warnings) {
  auto raw = env.Get(name);
  if (!raw) return def;
  std::string_view v = Trim(*raw);
  if (v.empty()) return def;
  if (auto l = ParseLogLevel(v)) return *l;
  warnings.push_back(std::string(name) + " \"" + std::string(v) +
                     "\" is not one of debug, info, warn, error");
  return def;
}

void SetDefault(Resource& r, std::string_view key, std::string value) {
  if (r.Find(key) == nullptr) r.attributes.push_back({std::string(key), std::move(value)});
}

BatchOptions ReadBatch(core::EnvReader& reader, std::string_view prefix, BatchOptions def) {
  const std::string p(prefix);
  BatchOptions o;
  o.schedule_delay = reader.Millis(p + "_SCHEDULE_DELAY", def.schedule_delay);
  o.export_timeout = reader.Millis(p + "_EXPORT_TIMEOUT", def.export_timeout);
  o.max_queue_size = static_cast<size_t>(
      reader.Int(p + "_MAX_QUEUE_SIZE", static_cast<int64_t>(def.max_queue_size), 1, 1'000'000));
  o.max_export_batch_size = static_cast<size_t>(reader.Int(
      p + "_MAX_EXPORT_BATCH_SIZE", static_cast<int64_t>(def.max_export_batch_size), 1, 1'000'000));
  if (o.max_export_batch_size > o.max_queue_size) {
    reader.AddProblem(p + "_MAX_EXPORT_BATCH_SIZE " + std::to_string(o.max_export_batch_size) +
                      " exceeds " + p + "_MAX_QUEUE_SIZE " + std::to_string(o.max_queue_size) +
                      "; using the queue size");
    o.max_export_batch_size = o.max_queue_size;
  }
  return o;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseKeyValueList(
    std::string_view list, std::string_view variable, std::vector<std::string>& problems) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view member = Trim(list.substr(pos, comma - pos));
    pos = comma + 1;
    if (member.empty()) continue;
    size_t eq = member.find('=');
    std::string_view key = eq == std::string_view::npos ? member : Trim(member.substr(0, eq));
    if (eq == std::string_view::npos || key.empty()) {
      // Only the key part is quoted: the value may be a credential.
      problems.push_back(std::string(variable) + " member \"" + std::string(key) +
                         "\" is not key=value; ignored");
      continue;
    }
    out.emplace_back(PercentDecode(key), PercentDecode(Trim(member.substr(eq + 1))));
  }
  return out;
}

std::string NewUuidV4() {
  std::array<uint8_t, 16> b{};
  if (getrandom(b.data(), b.size(), 0) != static_cast<ssize_t>(b.size())) {
    TraceId t = NewTraceId();  // fallback: still random, from the id generator
    b = t.bytes;
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

TelemetryConfig TelemetryConfig::FromEnv(const core::Env& env,
                                         std::string_view default_service_name,
                                         uint16_t default_metrics_port) {
  TelemetryConfig c;
  core::EnvReader r(env);
  std::vector<std::string> extra;

  c.sdk_disabled = r.Bool("OTEL_SDK_DISABLED", false);

  // Resource: OTEL_RESOURCE_ATTRIBUTES first, OTEL_SERVICE_NAME wins for service.name.
  std::string attrs = r.String("OTEL_RESOURCE_ATTRIBUTES", "");
  // Not a structured binding: clang 14 cannot capture one in the lambda below.
  for (auto& kv : ParseKeyValueList(attrs, "OTEL_RESOURCE_ATTRIBUTES", extra)) {
    const std::string& k = kv.first;
    std::string& v = kv.second;
    auto it = std::find_if(c.resource.attributes.begin(), c.resource.attributes.end(),
                           [&](const OwnedAttribute& a) { return a.key == k; });
    if (it != c.resource.attributes.end()) {
      it->value = v;
    } else {
      c.resource.attributes.push_back({k, v});
    }
  }
  std::string service = r.String("OTEL_SERVICE_NAME", "");
  if (service.empty()) {
    const AttributeValue* from_attrs = c.resource.Find(semconv::kServiceName);
    const auto* s = from_attrs != nullptr ? std::get_if<std::string>(from_attrs) : nullptr;
    service = s != nullptr && !s->empty() ? *s : std::string(default_service_name);
  }
  c.service_name = service;
  std::erase_if(c.resource.attributes,
                [](const OwnedAttribute& a) { return a.key == semconv::kServiceName; });
  c.resource.attributes.insert(c.resource.attributes.begin(),
                               OwnedAttribute{std::string(semconv::kServiceName), service});
  SetDefault(c.resource, semconv::kServiceNamespace, "nats-chat");
  SetDefault(c.resource, semconv::kServiceVersion, CHAT_VERSION);
  SetDefault(c.resource, semconv::kServiceInstanceId, NewUuidV4());
  SetDefault(c.resource, semconv::kDeploymentEnvironmentName, "dev");
  SetDefault(c.resource, semconv::kTelemetrySdkName, "nats-chat-telemetry");
  SetDefault(c.resource, semconv::kTelemetrySdkLanguage, "cpp");
  SetDefault(c.resource, semconv::kTelemetrySdkVersion, CHAT_VERSION);
  if (c.resource.Find("deployment.environment") != nullptr) {
    extra.push_back(
        {"OTEL_RESOURCE_ATTRIBUTES uses deployment.environment; use deployment.environment.name"});
  }

  c.traces_sampler = r.Enum("OTEL_TRACES_SAMPLER", "parentbased_traceidratio",
                            {"always_on", "always_off", "traceidratio", "parentbased_always_on",
                             "parentbased_always_off", "parentbased_traceidratio"});
  c.traces_sampler_arg = r.Double("OTEL_TRACES_SAMPLER_ARG", 1.0, 0.0, 1.0);

  if (auto props = env.Get("OTEL_PROPAGATORS"); props && !Trim(*props).empty()) {
    c.propagators.clear();
    std::string_view list = *props;
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t comma = list.find(',', pos);
      if (comma == std::string_view::npos) comma = list.size();
      std::string_view p = Trim(list.substr(pos, comma - pos));
      pos = comma + 1;
      if (p.empty()) continue;
      if (p == "tracecontext" || p == "baggage") {
        if (std::find(c.propagators.begin(), c.propagators.end(), p) == c.propagators.end()) {
          c.propagators.emplace_back(p);
        }
      } else {
        extra.push_back("OTEL_PROPAGATORS \"" + std::string(p) +
                        "\" is not supported (only tracecontext, baggage); ignored");
      }
    }
  }

  c.traces_exporter = r.Enum("OTEL_TRACES_EXPORTER", "otlp", {"otlp", "console", "none"});
  c.logs_exporter = r.Enum("OTEL_LOGS_EXPORTER", "otlp", {"otlp", "console", "none"});
  c.metrics_exporter = r.Enum("OTEL_METRICS_EXPORTER", "prometheus", {"prometheus", "none"});

  c.otlp_endpoint = r.Url("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318");
  c.traces_endpoint =
      r.Url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", JoinUrl(c.otlp_endpoint, "/v1/traces"));
  c.logs_endpoint = r.Url("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", JoinUrl(c.otlp_endpoint, "/v1/logs"));
  c.otlp_protocol =
      r.Enum("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", {"http/protobuf", "http/json"});
  c.otlp_timeout = r.Millis("OTEL_EXPORTER_OTLP_TIMEOUT", std::chrono::milliseconds(10000));
  c.otlp_compression = r.Enum("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", {"gzip", "none"});
  c.otlp_headers = ParseKeyValueList(r.String("OTEL_EXPORTER_OTLP_HEADERS", ""),
                                     "OTEL_EXPORTER_OTLP_HEADERS", extra);

  c.prometheus_host = r.String("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1");
  c.prometheus_port = r.Port("OTEL_EXPORTER_PROMETHEUS_PORT", default_metrics_port);

  c.span_batch = ReadBatch(r, "OTEL_BSP", c.span_batch);
  c.log_batch = ReadBatch(r, "OTEL_BLRP", c.log_batch);

  c.span_limits.attribute_value_length =
      static_cast<uint32_t>(r.Int("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", 2048, 1, 1 << 24));
  c.span_limits.attribute_count =
      static_cast<uint32_t>(r.Int("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", 64, 0, 100'000));
  c.span_limits.event_count =
      static_cast<uint32_t>(r.Int("OTEL_SPAN_EVENT_COUNT_LIMIT", 32, 0, 100'000));
  c.span_limits.link_count =
      static_cast<uint32_t>(r.Int("OTEL_SPAN_LINK_COUNT_LIMIT", 8, 0, 100'000));

  c.semconv_stability_opt_in = r.String("OTEL_SEMCONV_STABILITY_OPT_IN", "database/dup");
  c.otel_log_level = ReadLevel(env, "OTEL_LOG_LEVEL", LogLevel::kWarn, extra);
  c.log_level = ReadLevel(env, "LOG_LEVEL", LogLevel::kInfo, extra);
  c.trace_link_age =
      std::chrono::seconds(r.Int("CHAT_TRACE_LINK_AGE_SECONDS", 30, 0, int64_t{7} * 86'400));

  c.warnings = r.problems();
  c.warnings.insert(c.warnings.end(), extra.begin(), extra.end());
  return c;
}

}  // namespace chat::telemetry::sdk
