// TLS to nats-server (issue 11 item 10): a real nats-server with `tls { cert_file, key_file }`
// and certificates from deploy/nats/make-route-certs.sh (the production tool; its certificate
// names nats-1..3, which is why the clients below expect "nats-1" while dialling 127.0.0.1).
// A client that trusts the CA connects and messages flow; a plain client, a client trusting
// another CA and a client expecting another name are refused; a missing CA file is a
// configuration error before any connect; with `verify: true` only a client with a certificate
// from the CA gets in.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "chat/natsx/connection.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/process.hpp"
#include "chat/testing/wait_for.hpp"

namespace {

using namespace std::chrono_literals;
namespace natsx = chat::natsx;
namespace fs = std::filesystem;

constexpr chat::core::SubjectTemplate kEcho{"tls.echo.{n}"};

class NatsxTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "natsx-tls-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    MakeCerts(dir_ + "/ca");
    MakeCerts(dir_ + "/other-ca");  // valid certificates for the same names, another CA
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void MakeCerts(const std::string& out) {
    auto r = chat::testing::RunCommand("bash '" NATSX_MAKE_CERTS "' '" + out + "' 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  // A server with client TLS from the CA's certificate; `verify` asks clients for one too.
  void StartServer(bool verify) {
    std::string conf = dir_ + "/server.conf";
    std::ofstream(conf) << "tls {\n  cert_file: \"" << dir_ << "/ca/tls.crt\"\n  key_file: \""
                        << dir_ << "/ca/tls.key\"\n"
                        << (verify ? "  ca_file: \"" + dir_ + "/ca/ca.crt\"\n  verify: true\n" : "")
                        << "  timeout: 3\n}\n";
    chat::testing::NatsServer::Options o;
    o.jetstream = false;
    o.config_file = conf;
    auto s = chat::testing::NatsServer::Create(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }

  std::string TlsUrl() const { return "tls://127.0.0.1:" + std::to_string(server_->port()); }

  natsx::ConnectionOptions Options(std::string url, natsx::TlsOptions tls) const {
    natsx::ConnectionOptions o;
    o.urls = {std::move(url)};
    o.name = "natsx-tls-test";
    o.allow_reconnect = false;
    o.tls = std::move(tls);
    return o;
  }
  chat::core::Result<std::unique_ptr<natsx::Connection>> Connect(natsx::ConnectionOptions o) {
    return natsx::Connection::Connect(std::move(o), tel_.telemetry());
  }

  chat::telemetry::sdk::InMemoryTelemetry tel_;
  std::string dir_;
  std::unique_ptr<chat::testing::NatsServer> server_;
};

// Subscribes and publishes over `conn`; true when the message came back.
bool RoundTrip(natsx::Connection& conn) {
  std::atomic<int> got{0};
  auto sub =
      conn.Subscribe({.templates = {kEcho}}, [&](const natsx::Message& m, natsx::MessageContext&) {
        if (m.payload() == "over tls") got.fetch_add(1);
        return chat::core::Status::Ok();
      });
  if (!sub.ok() || !conn.Flush(5s).ok()) return false;
  if (!conn.Publish(kEcho, {"1"}, "over tls", {}).ok()) return false;
  return chat::testing::WaitFor([&] { return got.load() == 1; }, 10s);
}

TEST_F(NatsxTlsTest, ClientTrustingTheCaConnectsAndMessagesFlow) {
  StartServer(false);
  auto c =
      Connect(Options(TlsUrl(), {.ca_file = dir_ + "/ca/ca.crt", .expected_hostname = "nats-1"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE((*c)->IsConnected());
  EXPECT_TRUE(RoundTrip(**c));
}

TEST_F(NatsxTlsTest, ConfiguredCaTurnsTlsOnForANatsUrl) {
  StartServer(false);
  auto c = Connect(Options("nats://127.0.0.1:" + std::to_string(server_->port()),
                           {.ca_file = dir_ + "/ca/ca.crt", .expected_hostname = "nats-1"}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(RoundTrip(**c));
}

TEST_F(NatsxTlsTest, PlainClientIsRefused) {
  StartServer(false);
  auto c = Connect(Options("nats://127.0.0.1:" + std::to_string(server_->port()), {}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), chat::core::ErrorCode::kUnavailable) << c.status().ToString();
}

TEST_F(NatsxTlsTest, ClientTrustingAnotherCaIsRefused) {
  StartServer(false);
  auto c = Connect(
      Options(TlsUrl(), {.ca_file = dir_ + "/other-ca/ca.crt", .expected_hostname = "nats-1"}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), chat::core::ErrorCode::kUnavailable) << c.status().ToString();
  EXPECT_NE(c.status().message().find("TLS"), std::string::npos) << c.status().ToString();
}

TEST_F(NatsxTlsTest, ServerCertificateForAnotherNameIsRefused) {
  StartServer(false);
  auto c = Connect(
      Options(TlsUrl(), {.ca_file = dir_ + "/ca/ca.crt", .expected_hostname = "attacker.example"}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), chat::core::ErrorCode::kUnavailable) << c.status().ToString();
}

TEST_F(NatsxTlsTest, MissingOrInvalidTlsFilesAreConfigErrors) {
  StartServer(false);
  auto missing = Connect(Options(TlsUrl(), {.ca_file = dir_ + "/nope/ca.crt"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), chat::core::ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find(dir_ + "/nope/ca.crt"), std::string::npos)
      << missing.status().ToString();

  std::ofstream(dir_ + "/garbage.crt") << "not a certificate\n";
  auto garbage = Connect(Options(TlsUrl(), {.ca_file = dir_ + "/garbage.crt"}));
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), chat::core::ErrorCode::kInvalidArgument)
      << garbage.status().ToString();

  auto half = Connect(
      Options(TlsUrl(), {.ca_file = dir_ + "/ca/ca.crt", .cert_file = dir_ + "/ca/tls.crt"}));
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.status().code(), chat::core::ErrorCode::kInvalidArgument);
}

TEST_F(NatsxTlsTest, MutualTlsNeedsAClientCertificateFromTheCa) {
  StartServer(true);
  auto with_cert = Connect(Options(TlsUrl(), {.ca_file = dir_ + "/ca/ca.crt",
                                              .cert_file = dir_ + "/ca/tls.crt",
                                              .key_file = dir_ + "/ca/tls.key",
                                              .expected_hostname = "nats-1"}));
  ASSERT_TRUE(with_cert.ok()) << with_cert.status().ToString();
  EXPECT_TRUE(RoundTrip(**with_cert));

  auto without =
      Connect(Options(TlsUrl(), {.ca_file = dir_ + "/ca/ca.crt", .expected_hostname = "nats-1"}));
  EXPECT_FALSE(without.ok());
  auto foreign = Connect(Options(TlsUrl(), {.ca_file = dir_ + "/ca/ca.crt",
                                            .cert_file = dir_ + "/other-ca/tls.crt",
                                            .key_file = dir_ + "/other-ca/tls.key",
                                            .expected_hostname = "nats-1"}));
  EXPECT_FALSE(foreign.ok());
}

}  // namespace
