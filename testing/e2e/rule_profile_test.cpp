// The test profile of deploy/prometheus/rules/chat.yaml (prometheus_process.hpp ScaleRuleTimes):
// only time constants change, the result is a valid rule file for promtool 2.42, and the scaled
// rules still behave like the production ones on a scaled time axis (a promtool unit test).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "chat/testing/process.hpp"
#include "prometheus_process.hpp"

namespace chat::testing {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every duration replaced by a placeholder: two files equal under this mask differ only in time
// constants.
std::string MaskDurations(const std::string& text) {
  static const std::regex kFor(R"((^|\n)(\s*-?\s*(?:for|interval):) \S+)");
  static const std::regex kRange(R"(\[[0-9]+(?:ms|s|m|h|d|w|y)\])");
  std::string masked = std::regex_replace(text, kFor, "$1$2 D");
  return std::regex_replace(masked, kRange, "[D]");
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/rule-profile-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

const std::string kRulesPath = CHAT_SOURCE_DIR "/deploy/prometheus/rules/chat.yaml";

TEST(RuleProfileTest, DurationsParseAndFormat) {
  EXPECT_EQ(ParsePromDuration("30s"), 30000);
  EXPECT_EQ(ParsePromDuration("5m"), 300000);
  EXPECT_EQ(ParsePromDuration("0m"), 0);
  EXPECT_EQ(ParsePromDuration("1500ms"), 1500);
  EXPECT_EQ(ParsePromDuration("1h"), 3600000);
  EXPECT_FALSE(ParsePromDuration("1h30m"));
  EXPECT_FALSE(ParsePromDuration("5 m"));
  EXPECT_EQ(FormatPromDuration(15000), "15s");
  EXPECT_EQ(FormatPromDuration(1500), "1500ms");
}

TEST(RuleProfileTest, OnlyTimeConstantsOfChatRulesChange) {
  const std::string original = ReadFile(kRulesPath);
  ASSERT_FALSE(original.empty());
  auto profile = ScaleRuleTimes(original, RuleTimeScale{});
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  EXPECT_NE(*profile, original);
  EXPECT_EQ(MaskDurations(*profile), MaskDurations(original));
  // The expected scaled values (factor 20, floors 1 s / 5 s).
  EXPECT_NE(profile->find("interval: 1500ms"), std::string::npos);
  EXPECT_NE(profile->find("for: 3s"), std::string::npos);   // 1m
  EXPECT_NE(profile->find("for: 6s"), std::string::npos);   // 2m
  EXPECT_NE(profile->find("for: 15s"), std::string::npos);  // 5m
  EXPECT_NE(profile->find("for: 30s"), std::string::npos);  // 10m
  EXPECT_NE(profile->find("for: 45s"), std::string::npos);  // 15m
  EXPECT_NE(profile->find("for: 0s"), std::string::npos);   // FanoutDrops keeps 0
  EXPECT_NE(profile->find("[15s]"), std::string::npos);
  EXPECT_EQ(profile->find("[5m]"), std::string::npos);
  EXPECT_EQ(profile->find("for: 5m"), std::string::npos);
  // Names with durations in them are names, not durations.
  EXPECT_NE(profile->find("service:spanmetrics_calls:rate5m"), std::string::npos);
  // Annotation texts keep the production thresholds.
  EXPECT_NE(profile->find("threshold: 0 for 1m"), std::string::npos);
}

TEST(RuleProfileTest, FloorsApply) {
  auto p = ScaleRuleTimes("      - alert: X\n        expr: rate(x[1m]) > 0\n        for: 10s\n",
                          RuleTimeScale{.factor = 100});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "      - alert: X\n        expr: rate(x[5s]) > 0\n        for: 1s\n");
}

TEST(RuleProfileTest, RefusesWhatTheLineRewriteCannotHandle) {
  EXPECT_FALSE(ScaleRuleTimes("  - expr: |\n      rate(x[5m])\n", {}).ok());
  EXPECT_FALSE(ScaleRuleTimes("  - expr: max_over_time(rate(x[5m])[10m:1m])\n", {}).ok());
  EXPECT_FALSE(ScaleRuleTimes("  - expr: x offset 5m\n", {}).ok());
  EXPECT_FALSE(ScaleRuleTimes("    for: 1h30m\n", {}).ok());
}

TEST(RuleProfileTest, ProfilePassesPromtoolCheckRules) {
  auto profile = ScaleRuleTimes(ReadFile(kRulesPath), RuleTimeScale{});
  ASSERT_TRUE(profile.ok());
  TempDir dir;
  const auto path = dir.path() / "chat-test-profile.yaml";
  std::ofstream(path) << *profile;
  auto [rc, out] = RunCommand("promtool check rules " + path.string());
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("SUCCESS"), std::string::npos) << out;
}

// The config PrometheusProcess writes (jobs named like the local stack's) is valid for promtool.
TEST(RuleProfileTest, GeneratedConfigPassesPromtoolCheckConfig) {
  auto profile = ScaleRuleTimes(ReadFile(kRulesPath), RuleTimeScale{});
  ASSERT_TRUE(profile.ok());
  TempDir dir;
  const auto rules = dir.path() / "chat-test-profile.yaml";
  std::ofstream(rules) << *profile;
  PrometheusOptions o;
  o.rule_files = {rules.string()};
  o.jobs = {{"persist-worker", {"127.0.0.1:9403"}},
            {"nats", {"127.0.0.1:7777"}},
            {"telemetry-sink", {"127.0.0.1:4318"}}};
  const std::string config = PrometheusProcess::RenderConfig(o, 9090);
  EXPECT_NE(config.find("job_name: persist-worker"), std::string::npos) << config;
  EXPECT_NE(config.find("job_name: prometheus"), std::string::npos) << config;
  std::ofstream(dir.path() / "prometheus.yml") << config;
  auto [rc, out] = RunCommand("promtool check config " + (dir.path() / "prometheus.yml").string());
  EXPECT_EQ(rc, 0) << out << "\n" << config;
}

// The scaled rules fire and stay silent like §9.3's cases, on a time axis shrunk by the factor
// (1 s steps instead of 20 s): ServiceDown after `for` 3 s, a flap shorter than that silent;
// JetStreamConsumerLag warning after 6 s; PersistWorkerErrors resolves once the 15 s window
// no longer holds the error.
TEST(RuleProfileTest, ScaledRulesPassAPromtoolUnitTest) {
  auto profile = ScaleRuleTimes(ReadFile(kRulesPath), RuleTimeScale{});
  ASSERT_TRUE(profile.ok());
  TempDir dir;
  std::ofstream(dir.path() / "chat-test-profile.yaml") << *profile;
  std::ofstream(dir.path() / "profile_test.yaml") << R"yaml(rule_files: [chat-test-profile.yaml]
evaluation_interval: 1s
tests:
  - interval: 1s
    input_series:
      - series: 'up{job="persist-worker",instance="a"}'
        values: '1 1 0 0 0 0 0 0'
      - series: 'up{job="fanout-service",instance="b"}'
        values: '1 0 0 1 1 1 1 1'
    alert_rule_test:
      - eval_time: 3s
        alertname: ServiceDown
        exp_alerts: []
      - eval_time: 6s
        alertname: ServiceDown
        exp_alerts:
          - exp_labels: {severity: critical, job: persist-worker, instance: a}
            exp_annotations:
              summary: "persist-worker is down (a fails its scrapes)"
              description: "up = 0 for persist-worker at a (threshold: 0 for 1m; critical path of the chat)."
              runbook: "docs/runbooks.md#servicedown"
  - interval: 1s
    input_series:
      - series: 'jetstream_consumer_num_pending{stream_name="CHAT_MESSAGES",consumer_name="persist-worker",is_consumer_leader="true"}'
        values: '150x12'
      - series: 'jetstream_consumer_num_ack_pending{stream_name="CHAT_MESSAGES",consumer_name="persist-worker",is_consumer_leader="true"}'
        values: '0x12'
      - series: 'messages_persisted_total{job="persist-worker",action="send"}'
        values: '0+10x12'
    alert_rule_test:
      - eval_time: 3s
        alertname: JetStreamConsumerLag
        exp_alerts: []
      - eval_time: 10s
        alertname: JetStreamConsumerLag
        exp_alerts:
          - exp_labels: {severity: warning, stream_name: CHAT_MESSAGES, consumer_name: persist-worker}
            exp_annotations:
              summary: "consumer persist-worker of CHAT_MESSAGES lags by 150 messages"
              description: "Backlog (pending + ack pending, leader) of persist-worker on CHAT_MESSAGES is 150 messages (threshold: 100 for 2m)."
              runbook: "docs/runbooks.md#jetstreamconsumerlag"
  - interval: 1s
    input_series:
      - series: 'messages_persist_errors_total{job="persist-worker",action="send",reason="db_unavailable"}'
        values: '0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
    alert_rule_test:
      - eval_time: 8s
        alertname: PersistWorkerErrors
        exp_alerts:
          - exp_labels: {severity: critical, job: persist-worker, reason: db_unavailable}
            exp_annotations:
              summary: "persist-worker fails to persist messages (db_unavailable)"
              description: "1 persist errors with reason db_unavailable in the last 5m on persist-worker (threshold: > 0 for 1m)."
              runbook: "docs/runbooks.md#persistworkererrors"
      - eval_time: 25s
        alertname: PersistWorkerErrors
        exp_alerts: []
)yaml";
  auto [rc, out] =
      RunCommand("cd " + dir.path().string() + " && promtool test rules profile_test.yaml");
  EXPECT_EQ(rc, 0) << out;
}

}  // namespace
}  // namespace chat::testing
