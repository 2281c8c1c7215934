// HttpBodyGuard (issue 11 §4): request bodies are bounded for chunked and compressed bodies,
// Content-Encoding is refused where no route takes it, every refusal is counted; the admin server
// of every service and the exporters' scrape server answer gzip/deflate/br bombs with 415 and
// chunked bombs with 413 while this process's peak RSS grows by at most 5 MiB. Both listeners
// bind loopback unless configured (issue 11 §15).
#include "chat/telemetry/sdk/http_body_guard.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "chat/telemetry/sdk/admin_server.hpp"
#include "chat/telemetry/sdk/http_listener.hpp"
#include "chat/telemetry/sdk/otlp.hpp"
#include "chat/telemetry/sdk/scrape_server.hpp"
#include "chat/testing/http_bomb.hpp"

namespace chat::telemetry::sdk {
namespace {

using chat::testing::BombEncoding;
using chat::testing::RawResponse;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr size_t kInflated = size_t{64} * 1024 * 1024;  // each compressed bomb inflates to 64 MiB
constexpr size_t kChunked = size_t{50} * 1024 * 1024;   // the chunked bomb
constexpr long kMaxGrowthKib = chat::testing::kBombMaxRssGrowthKib;

struct Bombs {
  std::string gzip = chat::testing::CompressedZeros(BombEncoding::kGzip, kInflated);
  std::string deflate = chat::testing::CompressedZeros(BombEncoding::kDeflate, kInflated);
  std::string br = chat::testing::CompressedZeros(BombEncoding::kBrotli, kInflated);
};

// Fires every bomb at `path` of 127.0.0.1:`port` (POST, as the attack did) and expects 415 for
// each encoding and 413 for the chunked body and a declared oversized GET body.
void ExpectBombsRefused(int port, const std::string& path, const Bombs& bombs) {
  ASSERT_FALSE(bombs.gzip.empty());
  ASSERT_LT(bombs.gzip.size(), 100u * 1024);  // the 63 KB body of the report
  ASSERT_FALSE(bombs.deflate.empty());
  ASSERT_FALSE(bombs.br.empty());
  struct Case {
    BombEncoding encoding;
    const std::string* body;
  };
  for (const Case& c :
       {Case{BombEncoding::kGzip, &bombs.gzip}, Case{BombEncoding::kDeflate, &bombs.deflate},
        Case{BombEncoding::kBrotli, &bombs.br}}) {
    const std::string token(chat::testing::EncodingToken(c.encoding));
    RawResponse r = chat::testing::SendWithLength(
        port, "POST", path, {{"Content-Encoding", token}, {"Content-Type", "text/plain"}}, *c.body);
    EXPECT_EQ(r.status, 415) << token << ": " << r.error << r.head;
    EXPECT_THAT(r.body, HasSubstr("\"error\"")) << token;
  }
  RawResponse chunked = chat::testing::SendChunked(port, "POST", path, {}, kChunked);
  EXPECT_EQ(chunked.status, 413) << chunked.error << chunked.head;
  EXPECT_LT(chunked.body_bytes_sent, kChunked) << "the server read the whole chunked body";
  RawResponse get_body =
      chat::testing::SendWithLength(port, "GET", path, {}, std::string(1024, 'x'));
  EXPECT_EQ(get_body.status, 413) << get_body.error << get_body.head;
}

double CounterValue(const std::string& exposition, const std::string& series) {
  size_t pos = exposition.find(series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(exposition.substr(pos + series.size() + 1));
}

// A non-loopback IPv4 address of this host, if it has one.
std::optional<std::string> ExternalAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    found = text;
  }
  ::freeifaddrs(list);
  return found;
}

bool Connects(const std::string& address, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

TEST(AdminServerBodyLimitTest, BombsAreRefusedWithoutInflating) {
  Bombs bombs;  // built first: their encoders' memory is not the server's
  MetricRegistry registry;
  AdminServer server(registry, AdminServerOptions{"127.0.0.1", 0});
  ASSERT_TRUE(server.Start().ok());
  httplib::Client cli("127.0.0.1", server.port());
  ASSERT_TRUE(cli.Get("/metrics"));  // threads and buffers warmed up before the baseline
  const long before = chat::testing::PeakRssKib();

  ExpectBombsRefused(server.port(), "/metrics", bombs);
  ExpectBombsRefused(server.port(), "/readyz", bombs);

  const long growth = chat::testing::PeakRssKib() - before;
  EXPECT_LE(growth, kMaxGrowthKib) << "peak RSS grew by " << growth << " KiB";
  auto metrics = cli.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(CounterValue(metrics->body,
                         "http_server_rejected_requests_total{server=\"admin\","
                         "reason=\"unsupported_encoding\"}"),
            6);
  EXPECT_EQ(
      CounterValue(metrics->body,
                   "http_server_rejected_requests_total{server=\"admin\",reason=\"too_large\"}"),
      4);
}

TEST(ScrapeServerBodyLimitTest, BombsAreRefusedWithoutInflating) {
  Bombs bombs;
  ScrapeServer server({"test-exporter", "127.0.0.1", 0, "landing"},
                      [] { return std::string("# TYPE up gauge\nup 1\n"); });
  ASSERT_TRUE(server.Start().ok());
  httplib::Client cli("127.0.0.1", server.port());
  ASSERT_TRUE(cli.Get("/metrics"));
  const long before = chat::testing::PeakRssKib();

  ExpectBombsRefused(server.port(), "/metrics", bombs);
  ExpectBombsRefused(server.port(), "/", bombs);

  const long growth = chat::testing::PeakRssKib() - before;
  EXPECT_LE(growth, kMaxGrowthKib) << "peak RSS grew by " << growth << " KiB";
  auto metrics = cli.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("up 1\n"));
  EXPECT_EQ(CounterValue(metrics->body,
                         "http_server_rejected_requests_total{server=\""
                         "test-exporter\",reason=\"unsupported_encoding\"}"),
            6);
}

TEST(AdminServerBodyLimitTest, BindsLoopbackByDefault) {
  EXPECT_EQ(AdminServerOptions{}.host, "127.0.0.1");
  EXPECT_EQ(ScrapeServerOptions{}.host, "127.0.0.1");
  MetricRegistry registry;
  AdminServer admin(registry);  // default options: the host nobody configured
  ASSERT_TRUE(admin.Start().ok());
  ScrapeServerOptions scrape_options;  // default host
  scrape_options.name = "x";
  ScrapeServer scrape(scrape_options, [] { return std::string(); });
  ASSERT_TRUE(scrape.Start().ok());
  EXPECT_TRUE(Connects("127.0.0.1", admin.port()));
  EXPECT_TRUE(Connects("127.0.0.1", scrape.port()));
  auto external = ExternalAddress();
  if (!external) GTEST_SKIP() << "no non-loopback IPv4 address to try";
  EXPECT_FALSE(Connects(*external, admin.port())) << "admin server reachable on " << *external;
  EXPECT_FALSE(Connects(*external, scrape.port())) << "scrape server reachable on " << *external;
}

// A server with one body route behind the guard, for the rules themselves.
class GuardedServer {
 public:
  GuardedServer() : guard_("test", registry_) {
    guard_.Install(server_);
    guard_.Post(server_, "/echo", BodyPolicy{1024, false},
                [](const httplib::Request& req, httplib::Response& res) {
                  std::string params;
                  for (const auto& [k, v] : req.params) {
                    params.append(k).append("=").append(v).append(";");
                  }
                  res.set_content(std::to_string(req.body.size()) + "|" + params, "text/plain");
                });
    guard_.Post(server_, "/otlp", BodyPolicy{1024, true},
                [](const httplib::Request& req, httplib::Response& res) {
                  std::string enc = HttpBodyGuard::OriginalContentEncoding(req);
                  auto plain = Gunzip(req.body, 4096);
                  res.set_content(enc + "|" + (plain.ok() ? *plain : "bad"), "text/plain");
                });
    server_.Get("/plain", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok", "text/plain");
    });
    auto port = BindExclusive(server_, "127.0.0.1", 0, "test");
    EXPECT_TRUE(port.ok());
    port_ = *port;
    EXPECT_TRUE(listener_.Start(server_, "127.0.0.1", port_).ok());
  }
  ~GuardedServer() { listener_.Stop(); }
  GuardedServer(const GuardedServer&) = delete;
  GuardedServer& operator=(const GuardedServer&) = delete;
  int port() const { return port_; }
  std::string Metrics() const { return registry_.Expose(ExpositionFormat::kPrometheusText); }

 private:
  MetricRegistry registry_;
  HttpBodyGuard guard_;
  httplib::Server server_;
  HttpListener listener_;
  int port_ = 0;
};

TEST(HttpBodyGuardTest, BodyRouteTakesBodiesUpToItsLimitOnly) {
  GuardedServer s;
  RawResponse ok = chat::testing::SendWithLength(
      s.port(), "POST", "/echo", {{"Content-Type", "application/x-www-form-urlencoded"}},
      "a=1&b=two");
  EXPECT_EQ(ok.status, 200) << ok.error;
  EXPECT_EQ(ok.body, "9|a=1;b=two;");
  RawResponse big =
      chat::testing::SendWithLength(s.port(), "POST", "/echo", {}, std::string(2000, 'x'));
  EXPECT_EQ(big.status, 413);
  RawResponse small_chunked = chat::testing::SendChunked(s.port(), "POST", "/echo", {}, 1000);
  EXPECT_EQ(small_chunked.status, 200) << small_chunked.error;
  EXPECT_EQ(small_chunked.body, "1000|");
  RawResponse big_chunked = chat::testing::SendChunked(s.port(), "POST", "/echo", {}, 2000);
  EXPECT_EQ(big_chunked.status, 413);
  EXPECT_THAT(big_chunked.head, HasSubstr("Connection: close"));
}

TEST(HttpBodyGuardTest, EncodingsAndFramingAreChecked) {
  GuardedServer s;
  auto gz = Gzip("hello");
  ASSERT_TRUE(gz.ok());
  RawResponse refused =
      chat::testing::SendWithLength(s.port(), "POST", "/echo", {{"Content-Encoding", "gzip"}}, *gz);
  EXPECT_EQ(refused.status, 415);
  RawResponse accepted =
      chat::testing::SendWithLength(s.port(), "POST", "/otlp", {{"Content-Encoding", "gzip"}}, *gz);
  EXPECT_EQ(accepted.status, 200) << accepted.error;
  EXPECT_EQ(accepted.body, "gzip|hello");  // raw bytes reached the handler, which inflated
  RawResponse br =
      chat::testing::SendWithLength(s.port(), "POST", "/otlp", {{"Content-Encoding", "br"}}, "x");
  EXPECT_EQ(br.status, 415);
  RawResponse identity = chat::testing::SendWithLength(s.port(), "POST", "/echo",
                                                       {{"Content-Encoding", "identity"}}, "abc");
  EXPECT_EQ(identity.status, 200);
  RawResponse te =
      chat::testing::SendWithLength(s.port(), "POST", "/echo", {{"Transfer-Encoding", "gzip"}}, "");
  EXPECT_EQ(te.status, 501);
  RawResponse both =
      chat::testing::SendChunked(s.port(), "POST", "/echo", {{"Content-Length", "5"}}, 5);
  EXPECT_EQ(both.status, 400);
  RawResponse get_body = chat::testing::SendWithLength(s.port(), "GET", "/plain", {}, "abc");
  EXPECT_EQ(get_body.status, 413);
  RawResponse get = chat::testing::SendWithLength(s.port(), "GET", "/plain", {}, "");
  EXPECT_EQ(get.status, 200);
  const std::string m = s.Metrics();
  EXPECT_EQ(
      CounterValue(
          m, R"(http_server_rejected_requests_total{server="test",reason="unsupported_encoding"})"),
      2);
  EXPECT_EQ(
      CounterValue(
          m,
          R"(http_server_rejected_requests_total{server="test",reason="unsupported_transfer_encoding"})"),
      1);
  EXPECT_EQ(
      CounterValue(m, R"(http_server_rejected_requests_total{server="test",reason="malformed"})"),
      1);
  EXPECT_EQ(
      CounterValue(m, R"(http_server_rejected_requests_total{server="test",reason="too_large"})"),
      1);
}

}  // namespace
}  // namespace chat::telemetry::sdk
