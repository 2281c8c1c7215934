// Reads presence-service's environment (see config.hpp).
#include "config.hpp"

#include <algorithm>

namespace chat::presence_service {

core::Result<PresenceConfig> PresenceConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  PresenceConfig config;
  config.conn_ttl = std::chrono::seconds(reader.Int("CHAT_PRESENCE_CONN_TTL_SECONDS", 45, 1, 3600));
  auto default_sweep = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(1000),
      std::chrono::duration_cast<std::chrono::milliseconds>(config.conn_ttl) / 4);
  config.sweep_interval = std::chrono::milliseconds(
      reader.Int("CHAT_PRESENCE_SWEEP_INTERVAL_MS", default_sweep.count(), 50, 60000));
  config.max_connections_per_user =
      static_cast<int>(reader.Int("CHAT_PRESENCE_MAX_CONNECTIONS_PER_USER",
                                  contracts::quotas::kPresenceMaxConnectionsPerUser, 1, 1000));
  namespace js = contracts::jetstream;
  config.presence_limits = contracts::quotas::ReadBucketLimits(reader, js::kBucketPresence);
  config.conn_limits = contracts::quotas::ReadBucketLimits(reader, js::kBucketPresenceConn);
  config.rooms_limits = contracts::quotas::ReadBucketLimits(reader, js::kBucketRooms);
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return config;
}

std::chrono::milliseconds PresenceConfig::ExpiryGrace() const {
  auto tenth = std::chrono::duration_cast<std::chrono::milliseconds>(conn_ttl) / 10;
  return std::clamp(tenth, std::chrono::milliseconds(200), std::chrono::milliseconds(5000));
}

}  // namespace chat::presence_service
