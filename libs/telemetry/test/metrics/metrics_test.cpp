// MetricRegistry: bucket math, exposition in both formats (checked by promtool where it can),
// exemplars, escaping, the series cap and zero-initialised series.
#include "chat/telemetry/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "chat/testing/process.hpp"

namespace chat::telemetry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

SpanContext MakeContext(bool sampled) {
  SpanContext ctx;
  for (size_t i = 0; i < ctx.trace_id.bytes.size(); ++i) {
    ctx.trace_id.bytes[i] = static_cast<uint8_t>(0xa0 + i);
  }
  for (size_t i = 0; i < ctx.span_id.bytes.size(); ++i) {
    ctx.span_id.bytes[i] = static_cast<uint8_t>(0x10 + i);
  }
  ctx.trace_flags = sampled ? kTraceFlagSampled : 0;
  return ctx;
}
constexpr std::string_view kTraceHex = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
constexpr std::string_view kSpanHex = "1011121314151617";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The sample line starting with `prefix ` (name plus labels), without any exemplar.
std::string SampleValue(const std::string& text, const std::string& prefix) {
  for (const std::string& line : Lines(text)) {
    if (line.rfind(prefix + " ", 0) == 0) {
      std::string rest = line.substr(prefix.size() + 1);
      return rest.substr(0, rest.find(' '));
    }
  }
  return "<missing>";
}

std::string SampleLine(const std::string& text, const std::string& prefix) {
  for (const std::string& line : Lines(text)) {
    if (line.rfind(prefix + " ", 0) == 0) return line;
  }
  return "<missing>";
}

// A registry with one of everything, exemplars included.
void Populate(MetricRegistry& registry) {
  auto requests =
      registry.AddCounter("chat_test_requests_total", "Requests handled.", {"result", "action"});
  requests.With({"ok", "create"}).Add(3);
  requests.With({"error", "create"});  // zero-initialised
  SpanContext sampled = MakeContext(true);
  requests.With({"ok", "list"}).Add(1, &sampled);
  auto connected = registry.AddGauge("chat_test_connected", "1 when connected.");
  connected.Default().Set(1);
  auto depth = registry.AddUpDownCounter("chat_test_queue_depth", "Items queued.", {"queue"});
  depth.With({"main"}).Add(5);
  depth.With({"main"}).Add(-2);
  auto latency = registry.AddHistogram("chat_test_duration_seconds", "Handler duration.",
                                       kBucketsNats, {"action"});
  latency.With({"create"}).Record(0.003, &sampled);
  latency.With({"create"}).Record(0.2);
  latency.With({"create"}).Record(7);
  latency.With({"list"});
}

TEST(HistogramCellTest, BoundIsAnInclusiveUpperBound) {
  HistogramCell cell(kBucketsNats);
  cell.Record(0.005);      // == bound 2 (0.005)
  cell.Record(0.0050001);  // just above: bucket 3 (0.01)
  cell.Record(0);          // bucket 0
  cell.Record(-1);         // below everything: bucket 0
  cell.Record(5);          // == last bound
  cell.Record(5.5);        // +Inf
  EXPECT_EQ(cell.BucketCount(0), 2u);
  EXPECT_EQ(cell.BucketCount(1), 0u);
  EXPECT_EQ(cell.BucketCount(2), 1u);
  EXPECT_EQ(cell.BucketCount(3), 1u);
  EXPECT_EQ(cell.BucketCount(11), 1u);
  EXPECT_EQ(cell.BucketCount(12), 1u);
  EXPECT_EQ(cell.Count(), 6u);
  EXPECT_DOUBLE_EQ(cell.Sum(), 0.005 + 0.0050001 + 0 - 1 + 5 + 5.5);
}

TEST(HistogramCellTest, NanIsIgnored) {
  HistogramCell cell(kBucketsSlow);
  cell.Record(std::nan(""));
  EXPECT_EQ(cell.Count(), 0u);
  EXPECT_EQ(cell.Sum(), 0);
}

TEST(HistogramCellTest, ConcurrentRecordsAreAllCounted) {
  HistogramCell cell(kBucketsLag);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) cell.Record(0.5);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(cell.Count(), 40000u);
  EXPECT_EQ(cell.BucketCount(4), 40000u);  // 0.5 is bound 4 of B_LAG
  EXPECT_DOUBLE_EQ(cell.Sum(), 20000);
}

TEST(MetricRegistryTest, HistogramExpositionIsCumulativeWithSumAndCount) {
  MetricRegistry registry;
  auto h = registry.AddHistogram("chat_test_duration_seconds", "d", kBucketsNats, {"action"});
  auto& cell = h.With({"a"});
  for (double v : {0.001, 0.001, 0.004, 0.3, 1.0, 9.0}) cell.Record(v);
  for (auto format : {ExpositionFormat::kPrometheusText, ExpositionFormat::kOpenMetrics}) {
    std::string text = registry.Expose(format);
    const std::string p = R"(chat_test_duration_seconds_bucket{action="a",le=")";
    EXPECT_EQ(SampleValue(text, p + "0.001\"}"), "2");
    EXPECT_EQ(SampleValue(text, p + "0.0025\"}"), "2");
    EXPECT_EQ(SampleValue(text, p + "0.005\"}"), "3");
    EXPECT_EQ(SampleValue(text, p + "0.25\"}"), "3");
    EXPECT_EQ(SampleValue(text, p + "0.5\"}"), "4");
    EXPECT_EQ(SampleValue(text, p + "1\"}"), "5");
    EXPECT_EQ(SampleValue(text, p + "5\"}"), "5");
    EXPECT_EQ(SampleValue(text, p + "+Inf\"}"), "6");
    EXPECT_EQ(SampleValue(text, "chat_test_duration_seconds_count{action=\"a\"}"), "6");
    EXPECT_EQ(std::stod(SampleValue(text, "chat_test_duration_seconds_sum{action=\"a\"}")),
              0.001 + 0.001 + 0.004 + 0.3 + 1.0 + 9.0);
  }
}

TEST(MetricRegistryTest, ExemplarOnlyWithValidSampledContext) {
  MetricRegistry registry;
  auto h = registry.AddHistogram("chat_test_duration_seconds", "d", kBucketsNats);
  auto c = registry.AddCounter("chat_test_events_total", "e");
  SpanContext unsampled = MakeContext(false);
  SpanContext invalid;  // all-zero ids
  invalid.trace_flags = kTraceFlagSampled;
  h.Default().Record(0.02, &unsampled);
  h.Default().Record(0.02, &invalid);
  h.Default().Record(0.02);
  c.Default().Add(1, &unsampled);
  c.Default().Add(1, &invalid);
  std::string om = registry.Expose(ExpositionFormat::kOpenMetrics);
  EXPECT_THAT(om, Not(HasSubstr(" # {")));

  SpanContext sampled = MakeContext(true);
  h.Default().Record(0.02, &sampled);
  c.Default().Add(2, &sampled);
  om = registry.Expose(ExpositionFormat::kOpenMetrics);
  const std::string ex =
      " # {trace_id=\"" + std::string(kTraceHex) + "\",span_id=\"" + std::string(kSpanHex) + "\"} ";
  std::string bucket = SampleLine(om, "chat_test_duration_seconds_bucket{le=\"0.025\"}");
  EXPECT_THAT(bucket, HasSubstr("} 4" + ex + "0.02 "));
  std::string counter = SampleLine(om, "chat_test_events_total");
  EXPECT_THAT(counter, HasSubstr(" 4" + ex + "2 "));
  // Other buckets carry no exemplar (each bucket keeps its own).
  EXPECT_THAT(SampleLine(om, "chat_test_duration_seconds_bucket{le=\"0.05\"}"),
              Not(HasSubstr("#")));
  // Exemplar timestamps are seconds with millisecond precision.
  std::string ts = counter.substr(counter.rfind(' ') + 1);
  ASSERT_EQ(ts.size(), 14u) << counter;
  EXPECT_EQ(ts[10], '.');

  // Prometheus text 0.0.4 has no exemplar syntax.
  EXPECT_THAT(registry.Expose(ExpositionFormat::kPrometheusText), Not(HasSubstr("trace_id")));
}

TEST(MetricRegistryTest, LabelValuesAreEscaped) {
  MetricRegistry registry;
  auto c = registry.AddCounter("chat_test_events_total", "Help with \\ and\nnewline.", {"v"});
  c.With({"a\"b\\c\nd"}).Add();
  std::string prom = registry.Expose(ExpositionFormat::kPrometheusText);
  EXPECT_THAT(prom, HasSubstr("chat_test_events_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
  EXPECT_THAT(prom, HasSubstr("# HELP chat_test_events_total Help with \\\\ and\\nnewline.\n"));
  std::string om = registry.Expose(ExpositionFormat::kOpenMetrics);
  EXPECT_THAT(om, HasSubstr("chat_test_events_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricRegistryTest, SeriesCapSendsExtraCombinationsToAnUnexposedOverflowCell) {
  MetricRegistry registry(2);
  auto c = registry.AddCounter("chat_test_events_total", "e", {"k"});
  c.With({"a"}).Add(1);
  c.With({"b"}).Add(1);
  auto& overflow = c.With({"c"});
  overflow.Add(5);
  auto& overflow2 = c.With({"d"});
  EXPECT_EQ(&overflow, &overflow2);           // one shared cell
  EXPECT_EQ(&c.With({"a"}), &c.With({"a"}));  // existing series still resolve
  EXPECT_EQ(registry.series_dropped(), 2u);
  std::string text = registry.Expose(ExpositionFormat::kPrometheusText);
  EXPECT_THAT(text, HasSubstr("chat_test_events_total{k=\"a\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("chat_test_events_total{k=\"b\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("k=\"c\"")));
  EXPECT_THAT(text, Not(HasSubstr("k=\"\"")));
  EXPECT_EQ(SampleValue(text, "otel_sdk_metric_series_dropped_total"), "2");
}

TEST(MetricRegistryTest, ZeroInitialisedSeriesAreExposedWithZero) {
  MetricRegistry registry;
  auto c = registry.AddCounter("chat_test_errors_total", "e", {"reason"});
  for (auto reason : {"db_unavailable", "timeout"}) c.With({reason});
  registry.AddCounter("chat_test_reconnects_total", "r");  // no labels: exists at once
  registry.AddGauge("chat_test_up", "u");
  std::string text = registry.Expose(ExpositionFormat::kPrometheusText);
  EXPECT_EQ(SampleValue(text, "chat_test_errors_total{reason=\"db_unavailable\"}"), "0");
  EXPECT_EQ(SampleValue(text, "chat_test_errors_total{reason=\"timeout\"}"), "0");
  EXPECT_EQ(SampleValue(text, "chat_test_reconnects_total"), "0");
  EXPECT_EQ(SampleValue(text, "chat_test_up"), "0");
}

TEST(MetricRegistryTest, FloatsRoundTripWithoutExponentNoise) {
  MetricRegistry registry;
  auto g = registry.AddGauge("chat_test_value", "v", {"k"});
  g.With({"int"}).Set(1000000);
  g.With({"neg"}).Set(-3);
  g.With({"frac"}).Set(0.1);
  g.With({"third"}).Set(1.0 / 3);
  g.With({"inf"}).Set(std::numeric_limits<double>::infinity());
  g.With({"ninf"}).Set(-std::numeric_limits<double>::infinity());
  g.With({"nan"}).Set(std::nan(""));
  std::string text = registry.Expose(ExpositionFormat::kPrometheusText);
  EXPECT_EQ(SampleValue(text, "chat_test_value{k=\"int\"}"), "1000000");
  EXPECT_EQ(SampleValue(text, "chat_test_value{k=\"neg\"}"), "-3");
  EXPECT_EQ(SampleValue(text, "chat_test_value{k=\"frac\"}"), "0.1");
  EXPECT_EQ(std::stod(SampleValue(text, "chat_test_value{k=\"third\"}")), 1.0 / 3);
  EXPECT_EQ(SampleValue(text, "chat_test_value{k=\"inf\"}"), "+Inf");
  EXPECT_EQ(SampleValue(text, "chat_test_value{k=\"ninf\"}"), "-Inf");
  EXPECT_EQ(SampleValue(text, "chat_test_value{k=\"nan\"}"), "NaN");
}

TEST(MetricRegistryTest, CountersIgnoreNegativeIncrements) {
  MetricRegistry registry;
  auto& cell = registry.AddCounter("chat_test_events_total", "e").Default();
  cell.Add(2);
  cell.Add(-1);
  cell.Add(std::nan(""));
  EXPECT_EQ(cell.Value(), 2);
}

TEST(MetricRegistryTest, OrderIsRegistrationThenSeriesCreation) {
  MetricRegistry registry;
  auto b = registry.AddGauge("chat_test_b", "b", {"k"});
  auto a = registry.AddGauge("chat_test_a", "a", {"k"});
  b.With({"z"});
  b.With({"y"});
  a.With({"x"});
  EXPECT_EQ(registry.FamilyNames(), (std::vector<std::string>{"chat_test_b", "chat_test_a"}));
  std::string text = registry.Expose(ExpositionFormat::kPrometheusText);
  size_t z = text.find("chat_test_b{k=\"z\"}");
  size_t y = text.find("chat_test_b{k=\"y\"}");
  size_t x = text.find("chat_test_a{k=\"x\"}");
  ASSERT_NE(z, std::string::npos);
  EXPECT_LT(z, y);
  EXPECT_LT(y, x);
}

TEST(MetricRegistryTest, SameRegistrationReturnsTheSameFamily) {
  MetricRegistry registry;
  auto c1 = registry.AddCounter("chat_test_events_total", "e", {"k"});
  auto c2 = registry.AddCounter("chat_test_events_total", "e", {"k"});
  EXPECT_EQ(&c1.With({"v"}), &c2.With({"v"}));
  EXPECT_EQ(registry.FamilyNames().size(), 1u);
}

TEST(MetricRegistryTest, VectorAndInitializerListLookupsAgree) {
  MetricRegistry registry;
  auto h = registry.AddHistogram("chat_test_duration_seconds", "d", kBucketsSlow, {"a", "b"});
  std::vector<std::string> values = {"x", "y"};
  EXPECT_EQ(&h.With(values), &h.With({"x", "y"}));
  EXPECT_NE(&h.With({"xy", ""}), &h.With({"x", "y"}));  // no ambiguity from concatenation
}

TEST(MetricRegistryTest, CollectCallbacksRunBeforeExposition) {
  MetricRegistry registry;
  auto g = registry.AddGauge("chat_test_queue_size", "q");
  int calls = 0;
  registry.AddCollectCallback([&] { g.Default().Set(++calls * 10); });
  EXPECT_EQ(SampleValue(registry.Expose(ExpositionFormat::kPrometheusText), "chat_test_queue_size"),
            "10");
  EXPECT_EQ(SampleValue(registry.Expose(ExpositionFormat::kOpenMetrics), "chat_test_queue_size"),
            "20");
}

TEST(MetricRegistryDeathTest, InvalidRegistrationsAreProgrammingErrors) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        MetricRegistry r;
        r.AddCounter("chat_test_events", "no _total suffix");
      },
      "");
  EXPECT_DEATH(
      {
        MetricRegistry r;
        r.AddGauge("9bad", "bad name");
      },
      "");
  EXPECT_DEATH(
      {
        MetricRegistry r;
        r.AddGauge("chat_test_g", "h", {"__reserved"});
      },
      "");
  EXPECT_DEATH(
      {
        MetricRegistry r;
        r.AddGauge("chat_test_g", "h", {"bad-label"});
      },
      "");
  EXPECT_DEATH(
      {
        MetricRegistry r;
        r.AddHistogram("chat_test_h", "h", kBucketsNats, {"le"});
      },
      "");
  EXPECT_DEATH(
      {
        MetricRegistry r;
        r.AddGauge("chat_test_g", "h", {"a"});
        r.AddGauge("chat_test_g", "h", {"b"});
      },
      "");
  EXPECT_DEATH(
      {
        MetricRegistry r;
        r.AddCounter("chat_test_x_total", "h");
        r.AddGauge("chat_test_x", "clashes with the counter's OpenMetrics family");
      },
      "");
  EXPECT_DEATH(
      {
        MetricRegistry r;
        r.AddGauge("chat_test_g", "h", {"a"}).With({"1", "2"});
      },
      "");
}

TEST(MetricRegistryTest, OpenMetricsStructure) {
  MetricRegistry registry;
  Populate(registry);
  std::string om = registry.Expose(ExpositionFormat::kOpenMetrics);
  auto lines = Lines(om);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "# EOF");
  EXPECT_EQ(om.back(), '\n');
  // Counter family is named without _total, samples carry it.
  EXPECT_THAT(om, HasSubstr("# TYPE chat_test_requests counter\n# HELP chat_test_requests "));
  EXPECT_THAT(om, HasSubstr("\nchat_test_requests_total{result=\"ok\",action=\"create\"} 3\n"));
  EXPECT_THAT(om, HasSubstr("# TYPE chat_test_queue_depth gauge\n"));
  EXPECT_THAT(om, HasSubstr("chat_test_queue_depth{queue=\"main\"} 3\n"));
  EXPECT_THAT(om, HasSubstr("# TYPE chat_test_duration_seconds histogram\n"));
  // Every non-comment line is `name{labels} value[ # exemplar]`, and each family's samples
  // follow its TYPE line.
  std::string family;
  for (const std::string& line : lines) {
    if (line.rfind("# TYPE ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line[0] == '#') continue;
    ASSERT_FALSE(family.empty()) << line;
    EXPECT_EQ(line.rfind(family, 0), 0u) << "sample outside its family: " << line;
  }
  // Prometheus text names the counter family with _total and has no EOF.
  std::string prom = registry.Expose(ExpositionFormat::kPrometheusText);
  EXPECT_THAT(prom, HasSubstr("# TYPE chat_test_requests_total counter\n"));
  EXPECT_THAT(prom, Not(HasSubstr("# EOF")));
}

constexpr const char* kPromtool = "/usr/bin/promtool";

TEST(MetricRegistryPromtoolTest, PrometheusTextPassesPromtool) {
  if (access(kPromtool, X_OK) != 0) GTEST_SKIP() << "promtool not installed";
  MetricRegistry registry;
  Populate(registry);
  std::string text = registry.Expose(ExpositionFormat::kPrometheusText);
  chat::testing::CommandResult r =
      chat::testing::RunCommand(std::string(kPromtool) + " check metrics", text);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n---\n" << text;
}

// promtool 2.42 `check metrics` only parses Prometheus text (it rejects the exemplar syntax), so
// the OpenMetrics output is checked structurally above and by a real Prometheus scrape in
// admin_server_test.cpp (AdminServerPrometheusTest).

}  // namespace
}  // namespace chat::telemetry
