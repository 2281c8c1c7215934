// PresenceConfig: presence-service settings, read and validated in one pass so a bad value stops
// the process with exit code 2 and one sentence naming every problem (style rule 11). The NATS
// settings are read by runtime::ServiceMain.
#pragma once

#include <chrono>

#include "chat/contracts/quotas.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::presence_service {

struct PresenceConfig {
  // PRESENCE_CONN bucket TTL: a connection that sends no heartbeat for this long is expired.
  // Browsers heartbeat every 10 s; tests shorten it.
  std::chrono::seconds conn_ttl{45};
  // How often the expiry sweeper looks for connections past their TTL.
  std::chrono::milliseconds sweep_interval{1000};
  // Live connection ids one user may hold (issue 11 item 6): a heartbeat with a new connId
  // beyond this is refused (presence_rejected_total{reason="too_many_connections"}).
  int max_connections_per_user = contracts::quotas::kPresenceMaxConnectionsPerUser;
  // Bucket bounds: CHAT_KV_PRESENCE_*, CHAT_KV_PRESENCE_CONN_*, CHAT_KV_ROOMS_* (_MAX_BYTES,
  // _MAX_VALUE_SIZE).
  contracts::quotas::BucketLimits presence_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketPresence);
  contracts::quotas::BucketLimits conn_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketPresenceConn);
  contracts::quotas::BucketLimits rooms_limits =
      contracts::quotas::DefaultLimits(contracts::jetstream::kBucketRooms);

  // CHAT_PRESENCE_CONN_TTL_SECONDS (1..3600, default 45), CHAT_PRESENCE_SWEEP_INTERVAL_MS
  // (50..60000, default min(1000, ttl/4)), CHAT_PRESENCE_MAX_CONNECTIONS_PER_USER (1..1000, default
  // 8), the bucket bounds above.
  static core::Result<PresenceConfig> FromEnv(const core::Env& env);

  // Extra time past the TTL before a connection counts as expired, so a heartbeat that is
  // slightly late (or still in flight to another instance) does not flap the user offline.
  std::chrono::milliseconds ExpiryGrace() const;
};

}  // namespace chat::presence_service
