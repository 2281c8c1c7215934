// Reconnect listeners: they run once per reconnect on the Connection's own worker thread, may
// make NATS requests from there, and can be removed (also from inside themselves).
#include <atomic>
#include <string>
#include <thread>

#include "fixture.hpp"

namespace natsx_test {
namespace {

using chat::testing::WaitFor;

constexpr chat::core::SubjectTemplate kPing{"svc.ping"};

class ReconnectTest : public NatsxTest {
 protected:
  // Takes the server away and brings it back on the same port; waits for the reconnect.
  void Bounce() {
    double before = CounterValue("nats_client_reconnects_total", {}, {});
    ASSERT_TRUE(server_->Stop().ok());
    ASSERT_TRUE(WaitFor([&] { return !conn_->IsConnected(); }, 10s));
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_TRUE(WaitFor(
        [&] { return CounterValue("nats_client_reconnects_total", {}, {}) >= before + 1; }, 15s));
  }
};

TEST_F(ReconnectTest, ListenerRunsOnceAfterReconnectOnItsOwnThreadAndCanRequest) {
  auto sub = conn_->Subscribe(
      {.templates = {kPing}, .kind = natsx::ProcessKind::kServer},
      [](const natsx::Message&, natsx::MessageContext& ctx) { return ctx.Respond("pong"); });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->Flush(2s).ok());

  std::atomic<int> runs{0};
  std::mutex mu;
  std::string reply;
  std::thread::id listener_thread;
  uint64_t id = conn_->AddReconnectListener([&] {
    // A blocking request from inside the listener: would deadlock on a libnats callback thread.
    auto r = conn_->Request(kPing, {}, "ping", 5s, {});
    {
      std::lock_guard lock(mu);
      reply = r.ok() ? std::string(r->payload()) : r.status().ToString();
      listener_thread = std::this_thread::get_id();
    }
    runs.fetch_add(1);
  });
  EXPECT_NE(id, 0u);
  // Nothing runs without a reconnect.
  ASSERT_TRUE(conn_->Flush(2s).ok());
  EXPECT_EQ(runs.load(), 0);

  Bounce();
  ASSERT_TRUE(WaitFor([&] { return runs.load() >= 1; }, 10s));
  // A round trip after the run: a second, spurious run would have been queued by now.
  ASSERT_TRUE(conn_->Request(kPing, {}, "ping", 5s, {}).ok());
  EXPECT_EQ(runs.load(), 1);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(reply, "pong");
    EXPECT_NE(listener_thread, std::this_thread::get_id());
  }

  // Every further reconnect runs it again.
  Bounce();
  ASSERT_TRUE(WaitFor([&] { return runs.load() >= 2; }, 10s));
  conn_->RemoveReconnectListener(id);
}

TEST_F(ReconnectTest, RemovedListenerDoesNotRunAndOthersStillDo) {
  std::atomic<int> removed_runs{0};
  std::atomic<int> kept_runs{0};
  uint64_t removed = conn_->AddReconnectListener([&] { removed_runs.fetch_add(1); });
  uint64_t kept = conn_->AddReconnectListener([&] { kept_runs.fetch_add(1); });
  EXPECT_NE(removed, kept);
  conn_->RemoveReconnectListener(removed);
  conn_->RemoveReconnectListener(12345);  // unknown ids are ignored

  Bounce();
  ASSERT_TRUE(WaitFor([&] { return kept_runs.load() >= 1; }, 10s));
  EXPECT_EQ(removed_runs.load(), 0);
  conn_->RemoveReconnectListener(kept);
}

TEST_F(ReconnectTest, ListenerCanRemoveItselfAndThrowingListenerIsContained) {
  std::atomic<int> self_runs{0};
  std::atomic<int> after_runs{0};
  std::atomic<uint64_t> self_id{0};
  (void)conn_->AddReconnectListener([] { throw std::runtime_error("boom"); });
  self_id = conn_->AddReconnectListener([&] {
    self_runs.fetch_add(1);
    conn_->RemoveReconnectListener(self_id.load());  // must not deadlock
  });
  (void)conn_->AddReconnectListener([&] { after_runs.fetch_add(1); });

  Bounce();
  ASSERT_TRUE(WaitFor([&] { return after_runs.load() >= 1; }, 10s));
  EXPECT_EQ(self_runs.load(), 1);
  bool logged = false;
  for (const auto& r : tel_.LogRecords()) {
    if (r.body == "nats reconnect listener threw") logged = r.level == tel::LogLevel::kError;
  }
  EXPECT_TRUE(logged);

  Bounce();
  ASSERT_TRUE(WaitFor([&] { return after_runs.load() >= 2; }, 10s));
  EXPECT_EQ(self_runs.load(), 1);  // removed itself during the first run
}

TEST_F(ReconnectTest, DestroyingTheConnectionJoinsTheWorker) {
  auto other = Connect("natsx-other");
  ASSERT_NE(other, nullptr);
  std::atomic<int> runs{0};
  (void)other->AddReconnectListener([&] { runs.fetch_add(1); });
  other.reset();  // joins an idle worker without hanging
  EXPECT_EQ(runs.load(), 0);
}

}  // namespace
}  // namespace natsx_test
