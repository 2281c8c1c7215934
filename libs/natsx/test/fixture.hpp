// Shared fixture for natsx integration tests: a real nats-server (testing::NatsServer), an
// in-memory telemetry bundle and a connected natsx::Connection.
#pragma once

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <string>

#include "chat/natsx/connection.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/wait_for.hpp"

namespace natsx_test {

using namespace std::chrono_literals;
namespace natsx = chat::natsx;
namespace tel = chat::telemetry;
namespace sdk = chat::telemetry::sdk;

class NatsxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = chat::testing::NatsServer::Create(ServerOptions());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    conn_ = Connect("natsx-test");
    ASSERT_NE(conn_, nullptr);
  }

  virtual chat::testing::NatsServer::Options ServerOptions() { return {}; }

  std::unique_ptr<natsx::Connection> Connect(const std::string& name,
                                             natsx::ConnectionOptions o = {}) {
    o.urls = {server_->url()};
    o.name = name;
    auto c = natsx::Connection::Connect(o, tel_.telemetry());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::optional<tel::SpanData> WaitSpan(std::string_view name, size_t count = 1) {
    bool ok = chat::testing::WaitFor([&] { return tel_.FindSpans(name).size() >= count; }, 10s);
    if (!ok) return std::nullopt;
    return tel_.FindSpans(name)[count - 1];
  }

  double CounterValue(const std::string& name, std::initializer_list<std::string_view> labels,
                      std::vector<std::string> label_names) {
    return tel_.metrics().AddCounter(name, "", std::move(label_names)).With(labels).Value();
  }
  double GaugeValue(const std::string& name) {
    return tel_.metrics().AddGauge(name, "").Default().Value();
  }

  // Publishes with hand-made headers, bypassing natsx (to simulate foreign publishers).
  void RawPublish(const std::string& subject, std::string_view payload,
                  const std::vector<std::pair<std::string, std::string>>& headers) {
    natsMsg* m = nullptr;
    ASSERT_EQ(natsMsg_Create(&m, subject.c_str(), nullptr, payload.data(),
                             static_cast<int>(payload.size())),
              NATS_OK);
    for (const auto& [k, v] : headers) {
      ASSERT_EQ(natsMsgHeader_Add(m, k.c_str(), v.c_str()), NATS_OK);
    }
    EXPECT_EQ(natsConnection_PublishMsg(conn_->native(), m), NATS_OK);
    natsMsg_Destroy(m);
  }

  sdk::InMemoryTelemetry tel_;
  std::unique_ptr<chat::testing::NatsServer> server_;
  std::unique_ptr<natsx::Connection> conn_;
};

inline std::string Str(const tel::SpanData& s, std::string_view key) {
  return sdk::StringAttribute(s, key).value_or("<absent>");
}
inline int64_t Int(const tel::SpanData& s, std::string_view key) {
  return sdk::IntAttribute(s, key).value_or(-1);
}

}  // namespace natsx_test
