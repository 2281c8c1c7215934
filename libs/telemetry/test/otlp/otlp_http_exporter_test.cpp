// OTLP/HTTP exporter against a real in-test HTTP server (cpp-httplib on a random port): success,
// no retry on 400, retries on 503/429 honouring Retry-After, the export timeout when the server
// stalls, connection refused, gzip bodies, custom headers and JSON mode.
#include "chat/telemetry/sdk/otlp_http_exporter.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "chat/testing/wait_for.hpp"
#include "otlp_test_data.hpp"

namespace chat::telemetry::sdk {
namespace {

using namespace testdata;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

struct Received {
  std::string body;
  std::string content_type;
  std::string content_encoding;
  std::string custom;
  Steady::time_point at;
};

// An httplib server on 127.0.0.1:<random> whose reply to the n-th request comes from `reply`.
class FakeCollector {
 public:
  using Reply = std::function<void(int n, httplib::Response&)>;

  explicit FakeCollector(Reply reply) : reply_(std::move(reply)) {
    server_.Post("/v1/traces",
                 [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    server_.Post("/v1/logs",
                 [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    EXPECT_TRUE(chat::testing::WaitFor([&] { return server_.is_running(); }, 5s));
  }
  ~FakeCollector() {
    release_.Set();
    server_.stop();
    thread_.join();
  }
  FakeCollector(const FakeCollector&) = delete;
  FakeCollector& operator=(const FakeCollector&) = delete;

  std::string url(const std::string& path = "/v1/traces") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Received> received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  // Lets handlers that stall (see Stall) return.
  chat::testing::Latch& release() { return release_; }

 private:
  void Handle(const httplib::Request& req, httplib::Response& res) {
    int n = 0;
    {
      std::lock_guard lock(mu_);
      Received r;
      r.body = req.body;
      r.content_type = req.get_header_value("Content-Type");
      r.content_encoding = req.get_header_value("Content-Encoding");
      r.custom = req.get_header_value("X-Scope-OrgID");
      r.at = Steady::now();
      received_.push_back(std::move(r));
      n = static_cast<int>(received_.size());
    }
    reply_(n, res);
  }

  Reply reply_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Received> received_;
  chat::testing::Latch release_;
};

OtlpHttpOptions Options(const std::string& url) {
  OtlpHttpOptions o;
  o.url = url;
  o.headers = {{"X-Scope-OrgID", "tenant-1"}};
  return o;
}

std::unique_ptr<SpanExporter> SpanExporterFor(OtlpHttpOptions o) {
  return MakeOtlpHttpSpanExporter(std::move(o), FixtureResource(), FixtureScope());
}

// httplib (built with zlib) inflates a "Content-Encoding: gzip" request body before the handler
// runs and answers 400 when it is not valid gzip, so a successful export with that header proves
// the body was gzip; without zlib support we inflate it here.
std::string Inflated(const Received& r) {
  if (r.body.size() >= 2 && static_cast<uint8_t>(r.body[0]) == 0x1f &&
      static_cast<uint8_t>(r.body[1]) == 0x8b) {
    auto z = Gunzip(r.body, 64 << 20);
    EXPECT_TRUE(z.ok());
    return z.ok() ? *z : std::string();
  }
  return r.body;
}

TEST(OtlpHttpExporter, SuccessSendsGzippedProtobufWithHeaders) {
  FakeCollector collector([](int, httplib::Response& res) { res.status = 200; });
  auto exporter = SpanExporterFor(Options(collector.url()));
  auto spans = FixtureSpans();
  EXPECT_EQ(exporter->Export(spans, 5s), ExportResult::kSuccess);
  auto got = collector.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].content_type, "application/x-protobuf");
  EXPECT_EQ(got[0].content_encoding, "gzip");
  EXPECT_EQ(got[0].custom, "tenant-1");
  auto decoded = DecodeTracesProtobuf(Inflated(got[0]));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), spans.size());
  for (size_t i = 0; i < spans.size(); ++i) ExpectSpanEq(*spans[i], (*decoded)[i]);
  EXPECT_EQ((*decoded)[0].resource->service_name, "fixture-service");

  // The handle is reused for the next export (keep-alive); it still works.
  EXPECT_EQ(exporter->Export(spans, 5s), ExportResult::kSuccess);
  EXPECT_EQ(collector.received().size(), 2u);
}

TEST(OtlpHttpExporter, JsonModeWithoutGzip) {
  FakeCollector collector([](int, httplib::Response& res) { res.status = 202; });
  auto options = Options(collector.url("/v1/logs"));
  options.json = true;
  options.gzip = false;
  auto exporter = MakeOtlpHttpLogExporter(options, FixtureResource(), FixtureScope());
  auto logs = FixtureLogs();
  EXPECT_EQ(exporter->Export(logs, 5s), ExportResult::kSuccess);
  auto got = collector.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].content_type, "application/json");
  EXPECT_EQ(got[0].content_encoding, "");
  auto decoded = DecodeLogsJson(got[0].body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), logs.size());
  for (size_t i = 0; i < logs.size(); ++i) ExpectLogEq(*logs[i], (*decoded)[i]);
}

TEST(OtlpHttpExporter, BadRequestIsNotRetried) {
  FakeCollector collector([](int, httplib::Response& res) {
    res.status = 400;
    res.set_content("bad", "text/plain");
  });
  auto exporter = SpanExporterFor(Options(collector.url()));
  EXPECT_EQ(exporter->Export(FixtureSpans(), 5s), ExportResult::kHttp4xx);
  EXPECT_EQ(collector.received().size(), 1u);
}

TEST(OtlpHttpExporter, OtherServerErrorIsNotRetried) {
  FakeCollector collector([](int, httplib::Response& res) { res.status = 500; });
  auto exporter = SpanExporterFor(Options(collector.url()));
  EXPECT_EQ(exporter->Export(FixtureSpans(), 5s), ExportResult::kHttp5xx);
  EXPECT_EQ(collector.received().size(), 1u);
}

TEST(OtlpHttpExporter, RetriesUnavailableWithRetryAfterZero) {
  FakeCollector collector([](int n, httplib::Response& res) {
    if (n == 1) {
      res.status = 503;
      res.set_header("Retry-After", "0");
    } else {
      res.status = 200;
    }
  });
  auto exporter = SpanExporterFor(Options(collector.url()));
  EXPECT_EQ(exporter->Export(FixtureSpans(), 10s), ExportResult::kSuccess);
  EXPECT_EQ(collector.received().size(), 2u);
}

TEST(OtlpHttpExporter, HonoursRetryAfterSeconds) {
  FakeCollector collector([](int n, httplib::Response& res) {
    if (n == 1) {
      res.status = 503;
      res.set_header("Retry-After", "1");
    } else {
      res.status = 200;
    }
  });
  auto exporter = SpanExporterFor(Options(collector.url()));
  EXPECT_EQ(exporter->Export(FixtureSpans(), 10s), ExportResult::kSuccess);
  auto got = collector.received();
  ASSERT_EQ(got.size(), 2u);
  // A lower bound only: a slow machine makes the gap longer, never shorter.
  EXPECT_GE(got[1].at - got[0].at, 950ms);
}

TEST(OtlpHttpExporter, HonoursRetryAfterHttpDateAndRetries429) {
  FakeCollector collector([](int n, httplib::Response& res) {
    if (n == 1) {
      res.status = 429;
      res.set_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT");  // in the past: now
    } else if (n == 2) {
      res.status = 502;
      res.set_header("Retry-After", "0");
    } else {
      res.status = 200;
    }
  });
  auto exporter = SpanExporterFor(Options(collector.url()));
  EXPECT_EQ(exporter->Export(FixtureSpans(), 10s), ExportResult::kSuccess);
  EXPECT_EQ(collector.received().size(), 3u);
}

TEST(OtlpHttpExporter, RetryAfterBeyondDeadlineGivesUpAtOnce) {
  FakeCollector collector([](int, httplib::Response& res) {
    res.status = 503;
    res.set_header("Retry-After", "30");
  });
  auto exporter = SpanExporterFor(Options(collector.url()));
  auto start = Steady::now();
  EXPECT_EQ(exporter->Export(FixtureSpans(), 2s), ExportResult::kHttp5xx);
  EXPECT_LT(Steady::now() - start, 2s);  // it did not sleep into (or past) the deadline
  EXPECT_EQ(collector.received().size(), 1u);
}

TEST(OtlpHttpExporter, PersistentUnavailableEndsWithin5xxWithinTimeout) {
  FakeCollector collector([](int, httplib::Response& res) {
    res.status = 504;
    res.set_header("Retry-After", "0");
  });
  auto exporter = SpanExporterFor(Options(collector.url()));
  auto start = Steady::now();
  EXPECT_EQ(exporter->Export(FixtureSpans(), 500ms), ExportResult::kHttp5xx);
  EXPECT_LT(Steady::now() - start, 3s);
  EXPECT_GE(collector.received().size(), 2u);
}

TEST(OtlpHttpExporter, StalledServerTimesOut) {
  FakeCollector* self = nullptr;
  FakeCollector collector([&self](int, httplib::Response& res) {
    self->release().Wait(10s);  // stall until the test is done
    res.status = 200;
  });
  self = &collector;
  auto exporter = SpanExporterFor(Options(collector.url()));
  auto start = Steady::now();
  EXPECT_EQ(exporter->Export(FixtureSpans(), 300ms), ExportResult::kTimeout);
  EXPECT_LT(Steady::now() - start, 5s);
  collector.release().Set();
}

TEST(OtlpHttpExporter, ConnectionRefused) {
  // Take a free port from the kernel and close it again, so nothing listens there.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  auto exporter =
      SpanExporterFor(Options("http://127.0.0.1:" + std::to_string(port) + "/v1/traces"));
  auto start = Steady::now();
  EXPECT_EQ(exporter->Export(FixtureSpans(), 1s), ExportResult::kConnectionError);
  EXPECT_LT(Steady::now() - start, 5s);
}

TEST(OtlpHttpExporter, EmptyBatchSendsNothing) {
  FakeCollector collector([](int, httplib::Response& res) { res.status = 200; });
  auto exporter = SpanExporterFor(Options(collector.url()));
  std::vector<std::unique_ptr<SpanData>> none;
  EXPECT_EQ(exporter->Export(none, 1s), ExportResult::kSuccess);
  EXPECT_TRUE(collector.received().empty());
}

}  // namespace
}  // namespace chat::telemetry::sdk
