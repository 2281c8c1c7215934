#include "chat/core/env.hpp"

#include <gtest/gtest.h>

namespace chat::core {
namespace {

TEST(EnvReaderTest, DefaultsWhenUnsetOrEmpty) {
  MapEnv env({{"EMPTY", "  "}});
  EnvReader r(env);
  EXPECT_EQ(r.String("EMPTY", "d"), "d");
  EXPECT_EQ(r.Int("MISSING", 7, 0, 10), 7);
  EXPECT_TRUE(r.Bool("MISSING", true));
  EXPECT_TRUE(r.Finish().ok());
}

TEST(EnvReaderTest, CollectsEveryProblem) {
  MapEnv env({{"N", "abc"}, {"U", "nats//x"}, {"E", "maybe"}, {"R", "1.5"}});
  EnvReader r(env);
  r.RequiredString("CHAT_PG_DSN");
  EXPECT_EQ(r.Int("N", 3, 0, 10), 3);
  r.Url("U", "http://localhost");
  r.Enum("E", "on", {"on", "off"});
  r.Double("R", 1.0, 0.0, 1.0);
  Status s = r.Finish();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "config: CHAT_PG_DSN is required; N \"abc\" is not an integer; U \"nats//x\" is not a "
            "URL; E \"maybe\" is not one of on, off; R \"1.5\" is outside [0.000000, 1.000000]");
}

TEST(EnvReaderTest, ParsesValidValues) {
  MapEnv env({{"B", "TRUE"}, {"U", "nats://127.0.0.1:4222"}, {"E", "Always_On"}, {"P", "9401"}});
  EnvReader r(env);
  EXPECT_TRUE(r.Bool("B", false));
  EXPECT_EQ(r.Url("U", ""), "nats://127.0.0.1:4222");
  EXPECT_EQ(r.Enum("E", "x", {"always_on"}), "always_on");
  EXPECT_EQ(r.Port("P", 1), 9401);
  EXPECT_TRUE(r.Finish().ok());
}

}  // namespace
}  // namespace chat::core
