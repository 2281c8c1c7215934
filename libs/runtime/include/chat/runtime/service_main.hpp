// ServiceMain: the lifecycle every nats-chat process shares, so each main.cpp only wires things.
// It validates configuration before connecting anywhere (exit 2 with one sentence), builds the
// telemetry SDK, starts the admin server (/metrics, /healthz, /readyz), connects to NATS, runs
// the service's setup, waits for SIGTERM/SIGINT (ShutdownSignal, which start-up waits honour
// too: a signal during setup ends the process at once, exit 0), then shuts down in the fixed order of
// docs/style.md rule 13: drain subscriptions and in-flight handlers, drain the connection, let
// the service release its resources, flush telemetry last (so shutdown itself is observed).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "chat/core/clock.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/runtime/shutdown.hpp"
#include "chat/telemetry/sdk/admin_server.hpp"
#include "chat/telemetry/sdk/sdk.hpp"

namespace chat::runtime {

struct ServiceInfo {
  std::string name;        // service.name (docs/observability.md §2.1)
  uint16_t metrics_port;   // default /metrics port; OTEL_EXPORTER_PROMETHEUS_PORT overrides
  bool needs_nats = true;  // false for processes that only speak HTTP
};

// NATS settings every service reads: NATS_URL (comma-separated), NATS_CREDS (a .creds file),
// NATS_CONNECT_TIMEOUT_MS, NATS_CONNECT_ATTEMPTS (start-up attempts, default 15) and
// NATS_CONNECT_RETRY_MS (wait between them, default 1000); TLS: NATS_TLS_CA (PEM CA file that
// signed the server certificate; setting it turns TLS on, as a tls:// URL does), NATS_TLS_CERT
// and NATS_TLS_KEY (client certificate and key, both or neither, for servers that verify
// clients), NATS_TLS_HOSTNAME (the name the server certificate must carry, when not the URL's).
// Each TLS file must exist and be readable at start-up (exit 2 otherwise).
struct NatsConfig {
  std::vector<std::string> urls;
  std::string creds_file;
  natsx::TlsOptions tls;
  std::chrono::milliseconds connect_timeout{2000};
  int connect_attempts = 15;
  std::chrono::milliseconds connect_retry_wait{1000};
  static NatsConfig FromEnv(core::EnvReader& reader);
};

// Handed to the service's setup; valid until ServiceMain returns.
class ServiceContext {
 public:
  ServiceContext(const core::Env& env, const core::Clock& clock,
                 telemetry::sdk::TelemetrySdk& sdk, telemetry::sdk::AdminServer& admin,
                 natsx::Connection* nats, const ShutdownSignal& shutdown)
      : env_(env), clock_(clock), sdk_(sdk), admin_(admin), nats_(nats), shutdown_(shutdown) {}

  const core::Env& env() const { return env_; }
  const core::Clock& clock() const { return clock_; }
  telemetry::sdk::TelemetrySdk& sdk() { return sdk_; }
  const telemetry::Telemetry& telemetry() const { return sdk_.telemetry(); }
  telemetry::sdk::AdminServer& admin() { return admin_; }
  // CHAT_CHECKs that the service asked for NATS.
  natsx::Connection& nats();
  // Fired by SIGTERM/SIGINT, from before setup runs until the process ends: every wait in the
  // service (start-up retries, back-offs) waits on it with its deadline, never in a bare sleep.
  const ShutdownSignal& shutdown() const { return shutdown_; }

 private:
  const core::Env& env_;
  const core::Clock& clock_;
  telemetry::sdk::TelemetrySdk& sdk_;
  telemetry::sdk::AdminServer& admin_;
  natsx::Connection* nats_;
  const ShutdownSignal& shutdown_;
};

// What setup returns: owns the service's subscriptions, pools and workers.
class Service {
 public:
  virtual ~Service() = default;
  // Stop taking new work and finish what is in flight (subscriptions, consumers, workers)
  // within `timeout`. Called before the NATS connection is drained; JetStream pull consumers
  // must be released here, or the connection's drain cannot complete.
  virtual void Drain(std::chrono::milliseconds timeout) = 0;
};

using SetupFn = std::function<core::Result<std::unique_ptr<Service>>(ServiceContext&)>;

// Exit codes: 0 after a graceful shutdown (also when SIGTERM/SIGINT cut start-up short), 1 when
// start-up failed (dependency unreachable), 2 for invalid configuration.
int ServiceMain(const ServiceInfo& info, const SetupFn& setup);
int ServiceMain(const ServiceInfo& info, const SetupFn& setup, const core::Env& env,
                const core::Clock& clock);

// The total shutdown budget: below an orchestrator's usual 30 s grace period.
inline constexpr std::chrono::seconds kShutdownBudget{20};

}  // namespace chat::runtime
