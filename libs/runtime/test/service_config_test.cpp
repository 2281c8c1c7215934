// ServiceMain<Config> (issue 12, "one plumbing owner"): the service's Config is validated before
// anything starts (exit 2, one sentence, the factory never runs), and a variable renamed to the
// CHAT_<SERVICE>_… scheme still answers to its old name for one release, with a WARN at start-up
// that names the replacement.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "chat/core/clock.hpp"
#include "chat/core/env.hpp"
#include "chat/runtime/service_main.hpp"

namespace {

using chat::core::MapEnv;
using chat::core::Result;
using chat::runtime::RenamedEnv;
using chat::runtime::Service;
using chat::runtime::ServiceContext;

// A service config that reads one renamed variable (room-service's pool size).
struct PoolConfig {
  int64_t pool_size = 0;
  static Result<PoolConfig> FromEnv(const chat::core::Env& env) {
    chat::core::EnvReader reader(env);
    PoolConfig c;
    c.pool_size = reader.Int("CHAT_ROOM_DB_POOL_SIZE", 4, 1, 64);
    CHAT_RETURN_IF_ERROR(reader.Finish());
    return c;
  }
};

MapEnv QuietEnv() {
  return MapEnv{{"OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"},
                {"OTEL_EXPORTER_PROMETHEUS_PORT", "0"},
                {"OTEL_TRACES_EXPORTER", "none"},
                {"OTEL_METRICS_EXPORTER", "none"},
                {"OTEL_LOGS_EXPORTER", "none"}};
}

TEST(RenamedEnvTest, NewNameAnswersFromTheDeprecatedOneUnlessItIsSetItself) {
  MapEnv old_only{{"ROOM_DB_POOL_SIZE", "7"}};
  RenamedEnv env(old_only);
  EXPECT_EQ(env.Get("CHAT_ROOM_DB_POOL_SIZE"), "7");
  ASSERT_EQ(env.DeprecatedInUse().size(), 1u);
  EXPECT_EQ(env.DeprecatedInUse()[0].replacement, "CHAT_ROOM_DB_POOL_SIZE");

  MapEnv both{{"ROOM_DB_POOL_SIZE", "7"}, {"CHAT_ROOM_DB_POOL_SIZE", "9"}};
  EXPECT_EQ(RenamedEnv(both).Get("CHAT_ROOM_DB_POOL_SIZE"), "9");

  MapEnv none;
  EXPECT_FALSE(RenamedEnv(none).Get("CHAT_ROOM_DB_POOL_SIZE").has_value());
  EXPECT_TRUE(RenamedEnv(none).DeprecatedInUse().empty());
}

TEST(RenamedEnvTest, BucketBoundsAnswerFromTheirOldKvNames) {
  MapEnv old_only{{"KV_ROOMS_MAX_BYTES", "65536"}};
  RenamedEnv env(old_only);
  EXPECT_EQ(env.Get("CHAT_KV_ROOMS_MAX_BYTES"), "65536");
  ASSERT_EQ(env.DeprecatedInUse().size(), 1u);
  EXPECT_EQ(env.DeprecatedInUse()[0].replacement, "CHAT_KV_ROOMS_MAX_BYTES");
  EXPECT_FALSE(env.Get("CHAT_KV_PRESENCE_MAX_VALUE_SIZE").has_value());
}

TEST(RenamedEnvTest, EveryRenamedVariableFollowsTheScheme) {
  for (const auto& r : chat::runtime::RenamedVariables()) {
    EXPECT_EQ(r.replacement, "CHAT_" + std::string(r.deprecated)) << r.deprecated;
  }
}

// The factory fails on purpose (exit 1) once it has seen the config: the point is what it saw
// and what was logged before it ran.
TEST(ServiceMainConfigTest, DeprecatedNameStillWorksAndLogsAWarnNamingTheNewOne) {
  MapEnv env = QuietEnv();
  env.Set("ROOM_DB_POOL_SIZE", "7");
  int64_t seen = 0;
  ::testing::internal::CaptureStderr();
  int code = chat::runtime::ServiceMain<PoolConfig>(
      {"svccfg-test", 0, /*needs_nats=*/false},
      [&](ServiceContext& ctx, PoolConfig& config) -> Result<std::unique_ptr<Service>> {
        seen = config.pool_size;
        EXPECT_GT(ctx.admin_port(), 0);
        return chat::core::Internal("stop here");
      },
      env, chat::core::SystemClock::Instance());
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 1);
  EXPECT_EQ(seen, 7);
  EXPECT_NE(err.find("deprecated configuration variable; use CHAT_ROOM_DB_POOL_SIZE"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("ROOM_DB_POOL_SIZE"), std::string::npos) << err;
}

TEST(ServiceMainConfigTest, NoWarnWhenOnlyTheNewNameIsSet) {
  MapEnv env = QuietEnv();
  env.Set("CHAT_ROOM_DB_POOL_SIZE", "5");
  int64_t seen = 0;
  ::testing::internal::CaptureStderr();
  int code = chat::runtime::ServiceMain<PoolConfig>(
      {"svccfg-test", 0, /*needs_nats=*/false},
      [&](ServiceContext&, PoolConfig& config) -> Result<std::unique_ptr<Service>> {
        seen = config.pool_size;
        return chat::core::Internal("stop here");
      },
      env, chat::core::SystemClock::Instance());
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 1);
  EXPECT_EQ(seen, 5);
  EXPECT_EQ(err.find("deprecated configuration variable"), std::string::npos) << err;
}

TEST(ServiceMainConfigTest, InvalidConfigExitsTwoWithOneSentenceBeforeTheFactoryRuns) {
  MapEnv env = QuietEnv();
  env.Set("ROOM_DB_POOL_SIZE", "0");
  bool factory_ran = false;
  ::testing::internal::CaptureStderr();
  int code = chat::runtime::ServiceMain<PoolConfig>(
      {"svccfg-test", 0, /*needs_nats=*/false},
      [&](ServiceContext&, PoolConfig&) -> Result<std::unique_ptr<Service>> {
        factory_ran = true;
        return chat::core::Internal("unreachable");
      },
      env, chat::core::SystemClock::Instance());
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 2);
  EXPECT_FALSE(factory_ran);
  EXPECT_EQ(err.rfind("svccfg-test: ", 0), 0u) << err;
  EXPECT_NE(err.find("CHAT_ROOM_DB_POOL_SIZE"), std::string::npos) << err;
}

}  // namespace
