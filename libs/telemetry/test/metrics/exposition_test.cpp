// The Prometheus text writer used directly (as tools/pg-exporter does), outside a MetricRegistry.
#include "chat/telemetry/exposition.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace chat::telemetry::exposition {
namespace {

TEST(ExpositionTest, HeaderAndSamplesInPrometheusText) {
  std::string out;
  AppendHeader(out, "pg_up", "gauge", "Whether \\ it is\nup", /*openmetrics=*/false);
  AppendSample(out, "pg_up", {}, 1);
  AppendSample(out, "pg_up", {{"datname", "a\"b\\c\nd"}, {"server", "x"}}, 0.5);
  EXPECT_EQ(out,
            "# HELP pg_up Whether \\\\ it is\\nup\n"
            "# TYPE pg_up gauge\n"
            "pg_up 1\n"
            "pg_up{datname=\"a\\\"b\\\\c\\nd\",server=\"x\"} 0.5\n");
}

TEST(ExpositionTest, NumberStyles) {
  std::string plain;
  std::string shortest;
  for (double v : {1e6, 0.25, -3.0, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()}) {
    AppendSample(plain, "m", {}, v);
    AppendSample(shortest, "m", {}, v, NumberStyle::kShortest);
  }
  EXPECT_EQ(plain, "m 1000000\nm 0.25\nm -3\nm +Inf\nm NaN\n");
  EXPECT_EQ(shortest, "m 1e+06\nm 0.25\nm -3\nm +Inf\nm NaN\n");
}

}  // namespace
}  // namespace chat::telemetry::exposition
