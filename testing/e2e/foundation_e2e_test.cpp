// Foundation end-to-end: two real processes and the telemetry sink (issue: foundation §6).
// Process A (chat-peer producer) publishes, requests and JetStream-publishes under one root
// span; process B (chat-peer consumer) consumes, answers, pulls from a durable consumer and
// queries Postgres. The sink must then hold ONE trace per round with the contract's parentage
// and attributes, and the log line B wrote inside its span must carry that trace id.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "chat/pg/migrate.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/pg_cluster.hpp"
#include "chat/testing/ports.hpp"
#include "chat/testing/sink_process.hpp"
#include "chat/testing/wait_for.hpp"
#include "peer_process.hpp"
#include "trace_json.hpp"

namespace chat::testing {
namespace {

using nlohmann::json;
namespace semconv = telemetry::semconv;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The value of one sample line ("name{labels} value") in a Prometheus text exposition.
double Sample(const std::string& text, const std::string& series) {
  size_t pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(text.substr(pos + series.size() + 2));
}

std::map<std::string, std::string> PeerEnv(const std::string& nats_url, const std::string& otlp,
                                           const std::string& mode) {
  return {{"CHAT_PEER_MODE", mode},
          {"NATS_URL", nats_url},
          {"OTEL_EXPORTER_OTLP_ENDPOINT", otlp},
          {"OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"},
          {"OTEL_EXPORTER_PROMETHEUS_PORT", "0"},
          {"OTEL_BSP_SCHEDULE_DELAY", "200"},
          {"OTEL_BLRP_SCHEDULE_DELAY", "200"},
          {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=ci"}};
}

class FoundationE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto nats = NatsServer::Create();
    ASSERT_TRUE(nats.ok()) << nats.status().ToString();
    nats_ = std::move(nats).value();
  }
  std::unique_ptr<NatsServer> nats_;
};

TEST_F(FoundationE2E, OneTracePerRoundAcrossProcessesWithDbSpanAndLogs) {
  SinkProcess sink;
  ASSERT_TRUE(sink.Start().ok());
  PgCluster::Options pg_options;
  pg_options.prepare_template = [](const std::string& dsn) {
    return pg::Migrate(dsn, CHAT_SOURCE_DIR "/db/migrations", telemetry::Telemetry::Noop())
        .status();
  };
  auto pg = PgCluster::Create(std::move(pg_options));
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  auto db = (*pg)->CreateDatabase();
  ASSERT_TRUE(db.ok()) << db.status().ToString();

  PeerProcess consumer;
  auto cenv = PeerEnv(nats_->url(), sink.BaseUrl(), "consumer");
  cenv["CHAT_PEER_PG_DSN"] = (*pg)->Dsn(*db);
  ASSERT_TRUE(consumer.Start(CHAT_PEER_BINARY, cenv));
  ASSERT_TRUE(consumer.WaitForEvent("ready", seconds(20)).has_value());

  PeerProcess producer;
  auto penv = PeerEnv(nats_->url(), sink.BaseUrl(), "producer");
  penv["CHAT_PEER_COUNT"] = "2";
  ASSERT_TRUE(producer.Start(CHAT_PEER_BINARY, penv));
  ASSERT_TRUE(producer.WaitForEvent("done", seconds(30)).has_value());
  EXPECT_EQ(producer.Stop(seconds(25)), 0) << "graceful shutdown must exit 0";

  std::vector<std::string> trace_ids;
  for (const auto& l : producer.Lines()) {
    if (l.value("event", "") != "round") continue;
    EXPECT_TRUE(l["publish_ok"].get<bool>());
    EXPECT_TRUE(l["request_ok"].get<bool>());
    EXPECT_TRUE(l["js_ok"].get<bool>());
    trace_ids.push_back(l["trace_id"].get<std::string>());
  }
  ASSERT_EQ(trace_ids.size(), 2u);
  EXPECT_NE(trace_ids[0], trace_ids[1]);

  for (const auto& id : trace_ids) {
    SCOPED_TRACE(id);
    // 1 root + 3 producer-side spans + 3 consumer-side process spans + 2 SELECTs.
    auto trace = sink.WaitForTrace(
        id, [](const json& t) { return t["spans"].size() >= 9; }, seconds(30));
    ASSERT_TRUE(trace.ok()) << trace.status().ToString();
    const json& t = *trace;

    auto root = FindSpan(t, "e2e_round", "e2e-producer");
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ((*root)["parent_span_id"].get<std::string>().find_first_not_of('0'),
              std::string::npos)
        << "root has no parent";

    struct Hop {
      std::string out_name, out_kind, in_name, in_kind, subject;
    };
    for (const Hop& hop : {Hop{"publish e2e.{room}", "SPAN_KIND_PRODUCER", "process e2e.{room}",
                               "SPAN_KIND_CONSUMER", "e2e.general"},
                           Hop{"request e2e.echo.{room}", "SPAN_KIND_CLIENT",
                               "process e2e.echo.{room}", "SPAN_KIND_SERVER", "e2e.echo.general"},
                           Hop{"publish e2e.js.{room}", "SPAN_KIND_PRODUCER",
                               "process e2e.js.{room}", "SPAN_KIND_CONSUMER", "e2e.js.general"}}) {
      SCOPED_TRACE(hop.out_name);
      auto out = FindSpan(t, hop.out_name, "e2e-producer");
      auto in = FindSpan(t, hop.in_name, "e2e-consumer");
      ASSERT_TRUE(out.has_value());
      ASSERT_TRUE(in.has_value());
      EXPECT_EQ((*out)["kind"], hop.out_kind);
      EXPECT_EQ((*in)["kind"], hop.in_kind);
      EXPECT_EQ((*out)["parent_span_id"], (*root)["span_id"]);
      EXPECT_EQ((*in)["parent_span_id"], (*out)["span_id"]) << "consumer is a child of producer";
      for (const auto* s : {&*out, &*in}) {
        EXPECT_EQ(Attr(*s, semconv::kMessagingSystem), "nats");
        EXPECT_NE(Attr(*s, semconv::kMessagingDestinationTemplate), "<absent>");
        EXPECT_NE(Attr(*s, semconv::kMessagingOperationType), "<absent>");
        EXPECT_NE(Attr(*s, semconv::kMessagingMessageBodySize), "<absent>");
        EXPECT_EQ((*s)["status"]["code"], "STATUS_CODE_UNSET") << s->dump();
      }
      EXPECT_EQ(Attr(*out, semconv::kMessagingDestinationName), hop.subject);
      EXPECT_EQ(Attr(*in, semconv::kMessagingDestinationName), hop.subject);
      EXPECT_EQ(Attr(*out, semconv::kMessagingDestinationTemplate),
                hop.out_name.substr(hop.out_name.find(' ') + 1));
      EXPECT_NE(Attr(*out, semconv::kServerAddress), "<absent>");
    }
    auto core_in = FindSpan(t, "process e2e.{room}", "e2e-consumer");
    EXPECT_EQ(Attr(*core_in, semconv::kMessagingConsumerGroupName), "e2e-workers");
    auto js_in = FindSpan(t, "process e2e.js.{room}", "e2e-consumer");
    EXPECT_EQ(Attr(*js_in, semconv::kMessagingDestinationSubscriptionName), "e2e-worker");
    EXPECT_EQ(Attr(*js_in, semconv::kChatJetstreamDeliveryCount), "1");

    // A Postgres query under each consumer span yields a child db span.
    int selects = 0;
    for (const auto& s : t["spans"]) {
      if (s["name"] != "SELECT messages") continue;
      ++selects;
      EXPECT_EQ(s["kind"], "SPAN_KIND_CLIENT");
      EXPECT_EQ(s["status"]["code"], "STATUS_CODE_UNSET") << s.dump();
      EXPECT_EQ(Attr(s, semconv::kDbSystemName), "postgresql");
      EXPECT_EQ(Attr(s, semconv::kDbSystem), "postgresql");
      EXPECT_EQ(Attr(s, semconv::kDbCollectionName), "messages");
      EXPECT_EQ(Attr(s, semconv::kDbOperationName), "SELECT");
      EXPECT_EQ(Attr(s, semconv::kDbQueryText), "SELECT count(*) FROM messages WHERE room = $1");
      EXPECT_NE(Attr(s, semconv::kServerAddress), "<absent>");
      EXPECT_TRUE(s["parent_span_id"] == (*core_in)["span_id"] ||
                  s["parent_span_id"] == (*js_in)["span_id"]);
    }
    EXPECT_EQ(selects, 2);

    // The consumer's log lines written inside its spans carry this trace id.
    bool found_log = WaitFor(
        [&] {
          auto logs = sink.Logs("trace_id=" + id + "&service=e2e-consumer");
          if (!logs.ok()) return false;
          int n = 0;
          for (const auto& r : (*logs)["logs"]) {
            if (r.value("msg", "") == "e2e message processed" && r.value("trace_id", "") == id &&
                r.value("level", "") == "INFO") {
              ++n;
            }
          }
          return n >= 2;
        },
        seconds(20));
    EXPECT_TRUE(found_log) << "consumer log lines with the trace id reach the sink";
  }
  EXPECT_EQ(consumer.Stop(seconds(25)), 0);
}

// Fault drill: the exporter endpoint is down. The process keeps working, memory stays bounded,
// drops and export failures are counted; when an endpoint appears, export resumes.
TEST_F(FoundationE2E, ExporterDownKeepsWorkingBoundedThenResumes) {
  int port = FreePort();
  std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
  PeerProcess producer;
  auto env = PeerEnv(nats_->url(), endpoint, "producer");
  env["CHAT_PEER_RATE_SPANS"] = "20000";
  env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "500";
  env["OTEL_BSP_EXPORT_TIMEOUT"] = "1000";  // retries of one batch give up after a second
  ASSERT_TRUE(producer.Start(CHAT_PEER_BINARY, env));
  auto ready = producer.WaitForEvent("ready", seconds(20));
  ASSERT_TRUE(ready.has_value());
  int metrics_port = (*ready)["metrics_port"].get<int>();

  // Warm-up: the queue fills within the first second; measure RSS after that.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto l = producer.Last("spans");
        return l && (*l)["count"].get<int64_t>() >= 20000;
      },
      seconds(20)));
  [[maybe_unused]] long rss_start = producer.RssKib();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto l = producer.Last("spans");
        return l && (*l)["count"].get<int64_t>() >= 100000;
      },
      seconds(40)))
      << "span production keeps going while the exporter is down";
  [[maybe_unused]] long rss_end = producer.RssKib();
// ASan keeps freed memory in quarantine, so RSS is only meaningful without it.
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(rss_end - rss_start, 20 * 1024) << "RSS growth must stay within the queue bounds";
#endif

  auto scrape = [&]() -> std::string {
    std::string cmd = "curl -s http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
  };
  std::string text;
  WaitFor(
      [&] {
        text = scrape();
        return Sample(text,
                      "otel_sdk_exporter_span_exported_total{error_type=\"connection_error\"}") > 0;
      },
      seconds(20));
  EXPECT_GT(Sample(text, "otel_sdk_processor_span_processed_total{error_type=\"queue_full\"}"), 0)
      << text.substr(0, 4000);
  EXPECT_GT(Sample(text, "otel_sdk_exporter_span_exported_total{error_type=\"connection_error\"}"),
            0)
      << text.substr(text.find("otel_sdk_exporter"), 1500);

  // The endpoint comes back: spans arrive again.
  SinkProcess sink;
  SinkProcessOptions opts;
  opts.env["SINK_PORT"] = std::to_string(port);
  ASSERT_TRUE(sink.Start(opts).ok());
  ASSERT_EQ(sink.port(), port);
  bool resumed = WaitFor(
      [&] {
        auto r = sink.SearchTraces("service=e2e-producer&name=e2e_load&limit=5");
        return r.ok() && r->contains("traces") && !(*r)["traces"].empty();
      },
      seconds(30));
  EXPECT_TRUE(resumed) << "export resumes when the endpoint is back";
  EXPECT_EQ(producer.Stop(seconds(25)), 0);
}

}  // namespace
}  // namespace chat::testing
