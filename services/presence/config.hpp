// PresenceConfig: presence-service settings, read and validated in one pass so a bad value stops
// the process with exit code 2 and one sentence naming every problem (style rule 11). The NATS
// settings are read by runtime::ServiceMain.
#pragma once

#include <chrono>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::presence_service {

struct PresenceConfig {
  // PRESENCE_CONN bucket TTL: a connection that sends no heartbeat for this long is expired.
  // Browsers heartbeat every 10 s; tests shorten it.
  std::chrono::seconds conn_ttl{45};
  // How often the expiry sweeper looks for connections past their TTL.
  std::chrono::milliseconds sweep_interval{1000};

  // PRESENCE_CONN_TTL_SECONDS (1..3600, default 45), PRESENCE_SWEEP_INTERVAL_MS (50..60000,
  // default min(1000, ttl/4)).
  static core::Result<PresenceConfig> FromEnv(const core::Env& env);

  // Extra time past the TTL before a connection counts as expired, so a heartbeat that is
  // slightly late (or still in flight to another instance) does not flap the user offline.
  std::chrono::milliseconds ExpiryGrace() const;
};

}  // namespace chat::presence_service
