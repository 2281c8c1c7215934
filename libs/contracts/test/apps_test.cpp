// The installation contract of apps.hpp: the refusal every app backend sends in a room where
// its app is not installed (clients and ./nats-chat probe match the message).
#include "chat/contracts/apps.hpp"

#include <gtest/gtest.h>

namespace chat::contracts {
namespace {

TEST(AppInstallationTest, NotInstalledIsFailedPreconditionNamingTheApp) {
  const core::Status s = AppNotInstalled("poll");
  EXPECT_EQ(s.code(), core::ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "the poll app is not installed in this room");
  EXPECT_EQ(AppNotInstalled("kb").message(), "the kb app is not installed in this room");
}

}  // namespace
}  // namespace chat::contracts
