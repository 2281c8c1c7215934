#include "chat/runtime/shutdown.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <chrono>

namespace chat::runtime {
namespace {

TEST(TerminationSignalsTest, TakesPendingSignalsSynchronously) {
  sigset_t before;
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, nullptr, &before), 0);
  {
    const TerminationSignals signals;
    EXPECT_EQ(signals.WaitFor(std::chrono::milliseconds(0)), 0);  // none pending
    // Blocked, so the signal stays pending instead of killing the test process.
    // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
    ASSERT_EQ(pthread_kill(pthread_self(), SIGTERM), 0);
    EXPECT_EQ(signals.WaitFor(std::chrono::seconds(10)), SIGTERM);
    ASSERT_EQ(pthread_kill(pthread_self(), SIGINT), 0);
    EXPECT_EQ(signals.Wait(), SIGINT);
    EXPECT_EQ(signals.WaitFor(std::chrono::milliseconds(0)), 0);  // each taken once
  }
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &before, nullptr), 0);
  EXPECT_EQ(SignalName(SIGINT), "SIGINT");
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
}

}  // namespace
}  // namespace chat::runtime
