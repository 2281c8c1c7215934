// DeliveryPool against a real nats-server: copies are published as children of the job's parent
// with deliveries counted per kind, and a full queue refuses jobs instead of blocking.
#include "delivery_pool.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "chat/contracts/subjects.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/wait_for.hpp"

namespace {

using namespace std::chrono_literals;
namespace fanout = chat::fanout;

TEST(DeliveryPoolTest, PublishesCopiesAndRefusesWhenFull) {
  auto server = chat::testing::NatsServer::Create();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  chat::telemetry::sdk::InMemoryTelemetry tel;
  chat::natsx::ConnectionOptions o;
  o.urls = {(*server)->url()};
  o.name = "pool-test";
  auto conn = chat::natsx::Connection::Connect(o, tel.telemetry());
  ASSERT_TRUE(conn.ok());
  auto metrics = fanout::FanoutMetrics::Create(tel.metrics());
  chat::runtime::NatsBus bus(**conn);
  fanout::DeliveryPool pool(bus, metrics, 1, 1);

  auto parent = tel.tracer().StartSpan("deliver_members");
  auto job = [&](size_t members) {
    fanout::DeliveryJob j;
    j.tmpl = &chat::contracts::subjects::kDeliverNotify;
    for (size_t i = 0; i < members; ++i) j.members.push_back("u" + std::to_string(i));
    j.tail = {"room"};
    j.payload = "{}";
    j.parent = parent.Context();
    j.kind = fanout::kKindPrivate;
    return j;
  };
  // One worker busy with a large job; the one-slot queue takes at most one more.
  ASSERT_TRUE(pool.TryEnqueue(job(20000)));
  bool second = pool.TryEnqueue(job(3));
  bool third = pool.TryEnqueue(job(3));
  EXPECT_FALSE(second && third);

  pool.Stop(30s);
  double expected = 20000 + (second ? 3 : 0) + (third ? 3 : 0);
  EXPECT_EQ(metrics.deliveries.With({fanout::kKindPrivate}).Value(), expected);
  EXPECT_EQ(metrics.queue_depth.Default().Value(), 0);
  auto copies = tel.FindSpans("publish deliver.{user}.notify.{room}");
  ASSERT_FALSE(copies.empty());
  EXPECT_EQ(copies.front().parent_span_id, parent.Context().span_id);
  EXPECT_FALSE(pool.TryEnqueue(job(1))) << "a stopped pool takes no work";
}

}  // namespace
