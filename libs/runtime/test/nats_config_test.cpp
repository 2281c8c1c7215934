// NatsConfig's TLS settings (issue 11 item 10): NATS_TLS_CA/CERT/KEY/HOSTNAME are read from the
// environment and a bad path is a configuration error at start-up — ServiceMain exits 2 before
// it connects anywhere or runs the service's setup.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "chat/core/clock.hpp"
#include "chat/core/env.hpp"
#include "chat/runtime/service_main.hpp"

namespace {

namespace fs = std::filesystem;
using chat::core::EnvReader;
using chat::core::MapEnv;
using chat::runtime::NatsConfig;

class NatsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "natscfg-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/ca.crt") << "-----BEGIN CERTIFICATE-----\n";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(NatsConfigTest, TlsSettingsAreReadIntoTheConnectionOptions) {
  MapEnv env{{"NATS_URL", "tls://nats-1:4222,tls://nats-2:4222"},
             {"NATS_TLS_CA", dir_ + "/ca.crt"},
             {"NATS_TLS_CERT", dir_ + "/ca.crt"},
             {"NATS_TLS_KEY", dir_ + "/ca.crt"},
             {"NATS_TLS_HOSTNAME", "nats.internal"}};
  EnvReader reader(env);
  NatsConfig c = NatsConfig::FromEnv(reader);
  ASSERT_TRUE(reader.Finish().ok()) << reader.Finish().ToString();
  EXPECT_EQ(c.tls.ca_file, dir_ + "/ca.crt");
  EXPECT_EQ(c.tls.cert_file, dir_ + "/ca.crt");
  EXPECT_EQ(c.tls.key_file, dir_ + "/ca.crt");
  EXPECT_EQ(c.tls.expected_hostname, "nats.internal");
}

TEST_F(NatsConfigTest, NoTlsSettingsMeansNone) {
  MapEnv env{};
  EnvReader reader(env);
  NatsConfig c = NatsConfig::FromEnv(reader);
  EXPECT_TRUE(reader.Finish().ok());
  EXPECT_FALSE(c.tls.configured());
}

TEST_F(NatsConfigTest, MissingTlsFilesAndHalfAPairAreProblems) {
  MapEnv env{{"NATS_TLS_CA", dir_ + "/missing-ca.crt"}, {"NATS_TLS_CERT", dir_ + "/ca.crt"}};
  EnvReader reader(env);
  (void)NatsConfig::FromEnv(reader);
  auto st = reader.Finish();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("NATS_TLS_CA \"" + dir_ + "/missing-ca.crt\" is not a readable file"),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("NATS_TLS_CERT and NATS_TLS_KEY must be set together"),
            std::string::npos)
      << st.message();
}

// Before NATS_TLS_CA existed the variable was ignored and the service went on to connect in
// plain text; now the bad path stops it with exit code 2 and setup never runs.
TEST_F(NatsConfigTest, ServiceMainExitsWithConfigErrorOnAnUnreadableCa) {
  MapEnv env{{"NATS_URL", "tls://127.0.0.1:1"},
             {"NATS_TLS_CA", dir_ + "/missing-ca.crt"},
             {"NATS_CONNECT_ATTEMPTS", "1"},
             {"NATS_CONNECT_TIMEOUT_MS", "200"},
             {"OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"},
             {"OTEL_EXPORTER_PROMETHEUS_PORT", "0"},
             {"OTEL_TRACES_EXPORTER", "none"},
             {"OTEL_METRICS_EXPORTER", "none"},
             {"OTEL_LOGS_EXPORTER", "none"}};
  bool setup_ran = false;
  int code = chat::runtime::ServiceMain(
      {"natscfg-test", 0},
      [&](chat::runtime::ServiceContext&)
          -> chat::core::Result<std::unique_ptr<chat::runtime::Service>> {
        setup_ran = true;
        return chat::core::Internal("unreachable");
      },
      env, chat::core::SystemClock::Instance());
  EXPECT_EQ(code, 2);
  EXPECT_FALSE(setup_ran);
}

}  // namespace
