#include "chat/telemetry/sdk/config.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "chat/telemetry/semconv.hpp"

namespace chat::telemetry::sdk {
namespace {

using namespace std::chrono_literals;

std::string Str(const Resource& r, std::string_view key) {
  const AttributeValue* v = r.Find(key);
  if (v == nullptr) return "<absent>";
  return std::get<std::string>(*v);
}

bool HasWarning(const TelemetryConfig& c, std::string_view needle) {
  for (const auto& w : c.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(TelemetryConfigTest, DefaultsMatchTheContract) {
  core::MapEnv env;
  TelemetryConfig c = TelemetryConfig::FromEnv(env, "room-service", 9405);
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_FALSE(c.sdk_disabled);
  EXPECT_EQ(c.service_name, "room-service");
  EXPECT_EQ(c.traces_sampler, "parentbased_traceidratio");
  EXPECT_EQ(c.traces_sampler_arg, 1.0);
  EXPECT_EQ(c.propagators, (std::vector<std::string>{"tracecontext", "baggage"}));
  EXPECT_EQ(c.traces_exporter, "otlp");
  EXPECT_EQ(c.logs_exporter, "otlp");
  EXPECT_EQ(c.metrics_exporter, "prometheus");
  EXPECT_EQ(c.traces_endpoint, "http://localhost:4318/v1/traces");
  EXPECT_EQ(c.logs_endpoint, "http://localhost:4318/v1/logs");
  EXPECT_EQ(c.otlp_protocol, "http/protobuf");
  EXPECT_EQ(c.otlp_timeout, 10000ms);
  EXPECT_EQ(c.otlp_compression, "gzip");
  EXPECT_TRUE(c.otlp_headers.empty());
  EXPECT_EQ(c.prometheus_host, "127.0.0.1");  // loopback unless configured
  EXPECT_EQ(c.prometheus_port, 9405);
  EXPECT_EQ(c.span_batch.schedule_delay, 2000ms);
  EXPECT_EQ(c.span_batch.export_timeout, 10000ms);
  EXPECT_EQ(c.span_batch.max_queue_size, 2048u);
  EXPECT_EQ(c.span_batch.max_export_batch_size, 512u);
  EXPECT_EQ(c.log_batch.schedule_delay, 1000ms);
  EXPECT_EQ(c.log_batch.max_queue_size, 2048u);
  EXPECT_EQ(c.span_limits.attribute_value_length, 2048u);
  EXPECT_EQ(c.span_limits.attribute_count, 64u);
  EXPECT_EQ(c.span_limits.event_count, 32u);
  EXPECT_EQ(c.span_limits.link_count, 8u);
  EXPECT_EQ(c.semconv_stability_opt_in, "database/dup");
  EXPECT_EQ(c.otel_log_level, LogLevel::kWarn);
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.trace_link_age, 30s);

  EXPECT_EQ(Str(c.resource, semconv::kServiceName), "room-service");
  EXPECT_EQ(c.resource.attributes.front().key, "service.name");
  EXPECT_EQ(Str(c.resource, semconv::kServiceNamespace), "nats-chat");
  // semver + short sha, e.g. 0.1.0+3f2a9c1
  EXPECT_TRUE(std::regex_match(Str(c.resource, semconv::kServiceVersion),
                               std::regex("[0-9]+\\.[0-9]+\\.[0-9]+\\+[0-9a-z]+")));
  EXPECT_EQ(Str(c.resource, semconv::kDeploymentEnvironmentName), "dev");
  EXPECT_TRUE(std::regex_match(
      Str(c.resource, semconv::kServiceInstanceId),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_EQ(c.resource.Find("deployment.environment"), nullptr);
}

TEST(TelemetryConfigTest, InstanceIdsDiffer) {
  core::MapEnv env;
  auto a = TelemetryConfig::FromEnv(env, "x");
  auto b = TelemetryConfig::FromEnv(env, "x");
  EXPECT_NE(Str(a.resource, semconv::kServiceInstanceId),
            Str(b.resource, semconv::kServiceInstanceId));
}

TEST(TelemetryConfigTest, EveryVariableIsRead) {
  core::MapEnv env{
      {"OTEL_SDK_DISABLED", "true"},
      {"OTEL_SERVICE_NAME", "svc-from-env"},
      {"OTEL_RESOURCE_ATTRIBUTES",
       "service.name=ignored,deployment.environment.name=staging,team=chat%20core%2Cx"},
      {"OTEL_TRACES_SAMPLER", "TraceIdRatio"},
      {"OTEL_TRACES_SAMPLER_ARG", "0.25"},
      {"OTEL_PROPAGATORS", "tracecontext"},
      {"OTEL_TRACES_EXPORTER", "console"},
      {"OTEL_LOGS_EXPORTER", "none"},
      {"OTEL_METRICS_EXPORTER", "none"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/"},
      {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:9999/custom/v1/logs"},
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
      {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
      {"OTEL_EXPORTER_OTLP_COMPRESSION", "none"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc, x-tenant = t1"},
      {"OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"},
      {"OTEL_EXPORTER_PROMETHEUS_PORT", "19405"},
      {"OTEL_BSP_SCHEDULE_DELAY", "100"},
      {"OTEL_BSP_EXPORT_TIMEOUT", "200"},
      {"OTEL_BSP_MAX_QUEUE_SIZE", "300"},
      {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "30"},
      {"OTEL_BLRP_SCHEDULE_DELAY", "101"},
      {"OTEL_BLRP_EXPORT_TIMEOUT", "201"},
      {"OTEL_BLRP_MAX_QUEUE_SIZE", "301"},
      {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "31"},
      {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"},
      {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "10"},
      {"OTEL_SPAN_EVENT_COUNT_LIMIT", "5"},
      {"OTEL_SPAN_LINK_COUNT_LIMIT", "2"},
      {"OTEL_SEMCONV_STABILITY_OPT_IN", "database"},
      {"OTEL_LOG_LEVEL", "error"},
      {"LOG_LEVEL", "DEBUG"},
      {"CHAT_TRACE_LINK_AGE_SECONDS", "60"},
  };
  TelemetryConfig c = TelemetryConfig::FromEnv(env, "default-name", 9401);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  EXPECT_TRUE(c.sdk_disabled);
  EXPECT_EQ(c.service_name, "svc-from-env");
  EXPECT_EQ(Str(c.resource, semconv::kServiceName), "svc-from-env");
  EXPECT_EQ(Str(c.resource, semconv::kDeploymentEnvironmentName), "staging");
  EXPECT_EQ(Str(c.resource, "team"), "chat core,x");
  EXPECT_EQ(c.traces_sampler, "traceidratio");
  EXPECT_EQ(c.traces_sampler_arg, 0.25);
  EXPECT_EQ(c.propagators, (std::vector<std::string>{"tracecontext"}));
  EXPECT_EQ(c.traces_exporter, "console");
  EXPECT_EQ(c.logs_exporter, "none");
  EXPECT_EQ(c.metrics_exporter, "none");
  EXPECT_EQ(c.traces_endpoint, "https://collector:4318/v1/traces");
  EXPECT_EQ(c.logs_endpoint, "http://logs:9999/custom/v1/logs");
  EXPECT_EQ(c.otlp_protocol, "http/json");
  EXPECT_EQ(c.otlp_timeout, 2500ms);
  EXPECT_EQ(c.otlp_compression, "none");
  ASSERT_EQ(c.otlp_headers.size(), 2u);
  EXPECT_EQ(c.otlp_headers[0],
            (std::pair<std::string, std::string>{"authorization", "Bearer abc"}));
  EXPECT_EQ(c.otlp_headers[1], (std::pair<std::string, std::string>{"x-tenant", "t1"}));
  EXPECT_EQ(c.prometheus_host, "127.0.0.1");
  EXPECT_EQ(c.prometheus_port, 19405);
  EXPECT_EQ(c.span_batch.schedule_delay, 100ms);
  EXPECT_EQ(c.span_batch.export_timeout, 200ms);
  EXPECT_EQ(c.span_batch.max_queue_size, 300u);
  EXPECT_EQ(c.span_batch.max_export_batch_size, 30u);
  EXPECT_EQ(c.log_batch.schedule_delay, 101ms);
  EXPECT_EQ(c.log_batch.export_timeout, 201ms);
  EXPECT_EQ(c.log_batch.max_queue_size, 301u);
  EXPECT_EQ(c.log_batch.max_export_batch_size, 31u);
  EXPECT_EQ(c.span_limits.attribute_value_length, 100u);
  EXPECT_EQ(c.span_limits.attribute_count, 10u);
  EXPECT_EQ(c.span_limits.event_count, 5u);
  EXPECT_EQ(c.span_limits.link_count, 2u);
  EXPECT_EQ(c.semconv_stability_opt_in, "database");
  EXPECT_EQ(c.otel_log_level, LogLevel::kError);
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.trace_link_age, 60s);
}

TEST(TelemetryConfigTest, ServiceNameFromResourceAttributesWhenNoOtelServiceName) {
  core::MapEnv env{{"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs,service.version=9"}};
  TelemetryConfig c = TelemetryConfig::FromEnv(env, "default-name");
  EXPECT_EQ(c.service_name, "from-attrs");
  EXPECT_EQ(Str(c.resource, semconv::kServiceVersion), "9");
  int count = 0;
  for (const auto& a : c.resource.attributes) count += a.key == "service.name" ? 1 : 0;
  EXPECT_EQ(count, 1);
}

TEST(TelemetryConfigTest, InvalidValuesFallBackWithOneWarningEach) {
  core::MapEnv env{
      {"OTEL_SDK_DISABLED", "maybe"},
      {"OTEL_TRACES_SAMPLER", "sometimes"},
      {"OTEL_TRACES_SAMPLER_ARG", "1.5"},
      {"OTEL_PROPAGATORS", "tracecontext,b3"},
      {"OTEL_TRACES_EXPORTER", "zipkin"},
      {"OTEL_LOGS_EXPORTER", "kafka"},
      {"OTEL_METRICS_EXPORTER", "otlp"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
      {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "not a url"},
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
      {"OTEL_EXPORTER_OTLP_TIMEOUT", "-5"},
      {"OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "novalue,ok=1"},
      {"OTEL_EXPORTER_PROMETHEUS_PORT", "70000"},
      {"OTEL_BSP_SCHEDULE_DELAY", "soon"},
      {"OTEL_BSP_MAX_QUEUE_SIZE", "0"},
      {"OTEL_BLRP_MAX_QUEUE_SIZE", "100"},
      {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "200"},
      {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "x"},
      {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "-1"},
      {"OTEL_LOG_LEVEL", "verbose"},
      {"LOG_LEVEL", "trace"},
      {"CHAT_TRACE_LINK_AGE_SECONDS", "forever"},
      {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,broken"},
  };
  TelemetryConfig c = TelemetryConfig::FromEnv(env, "svc", 9402);
  EXPECT_FALSE(c.sdk_disabled);
  EXPECT_EQ(c.traces_sampler, "parentbased_traceidratio");
  EXPECT_EQ(c.traces_sampler_arg, 1.0);
  EXPECT_EQ(c.propagators, (std::vector<std::string>{"tracecontext"}));
  EXPECT_EQ(c.traces_exporter, "otlp");
  EXPECT_EQ(c.logs_exporter, "otlp");
  EXPECT_EQ(c.metrics_exporter, "prometheus");
  EXPECT_EQ(c.traces_endpoint, "http://localhost:4318/v1/traces");
  EXPECT_EQ(c.logs_endpoint, "http://localhost:4318/v1/logs");
  EXPECT_EQ(c.otlp_protocol, "http/protobuf");
  EXPECT_EQ(c.otlp_timeout, 10000ms);
  EXPECT_EQ(c.otlp_compression, "gzip");
  ASSERT_EQ(c.otlp_headers.size(), 1u);
  EXPECT_EQ(c.prometheus_port, 9402);
  EXPECT_EQ(c.span_batch.schedule_delay, 2000ms);
  EXPECT_EQ(c.span_batch.max_queue_size, 2048u);
  EXPECT_EQ(c.log_batch.max_queue_size, 100u);
  EXPECT_EQ(c.log_batch.max_export_batch_size, 100u);  // clamped to the queue
  EXPECT_EQ(c.span_limits.attribute_value_length, 2048u);
  EXPECT_EQ(c.span_limits.attribute_count, 64u);
  EXPECT_EQ(c.otel_log_level, LogLevel::kWarn);
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.trace_link_age, 30s);

  for (std::string_view var : {"OTEL_SDK_DISABLED",
                               "OTEL_TRACES_SAMPLER ",
                               "OTEL_TRACES_SAMPLER_ARG",
                               "OTEL_PROPAGATORS",
                               "OTEL_TRACES_EXPORTER",
                               "OTEL_LOGS_EXPORTER",
                               "OTEL_METRICS_EXPORTER",
                               "OTEL_EXPORTER_OTLP_ENDPOINT",
                               "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                               "OTEL_EXPORTER_OTLP_PROTOCOL",
                               "OTEL_EXPORTER_OTLP_TIMEOUT",
                               "OTEL_EXPORTER_OTLP_COMPRESSION",
                               "OTEL_EXPORTER_OTLP_HEADERS",
                               "OTEL_EXPORTER_PROMETHEUS_PORT",
                               "OTEL_BSP_SCHEDULE_DELAY",
                               "OTEL_BSP_MAX_QUEUE_SIZE",
                               "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
                               "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                               "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
                               "OTEL_LOG_LEVEL",
                               "LOG_LEVEL",
                               "CHAT_TRACE_LINK_AGE_SECONDS",
                               "OTEL_RESOURCE_ATTRIBUTES member \"broken\"",
                               "deployment.environment.name"}) {
    EXPECT_TRUE(HasWarning(c, var)) << var;
  }
  EXPECT_EQ(c.warnings.size(), 24u);
  // Header values are credentials: never echoed in a warning.
  for (const auto& w : c.warnings) EXPECT_EQ(w.find("Bearer"), std::string::npos);
}

TEST(TelemetryConfigTest, KeyValueListParsing) {
  std::vector<std::string> problems;
  auto kv = ParseKeyValueList(" a = 1 ,, b=x%3Dy ,c=%zz,=nokey", "V", problems);
  ASSERT_EQ(kv.size(), 3u);
  EXPECT_EQ(kv[0].second, "1");
  EXPECT_EQ(kv[1].second, "x=y");
  EXPECT_EQ(kv[2].second, "%zz");
  EXPECT_EQ(problems.size(), 1u);
}

}  // namespace
}  // namespace chat::telemetry::sdk
