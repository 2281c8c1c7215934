// ServiceMain: the lifecycle every nats-chat process shares, so each main.cpp only wires things.
// It validates configuration before connecting anywhere (exit 2 with one sentence), builds the
// telemetry SDK, starts the admin server (/metrics, /healthz, /readyz), connects to NATS, runs
// the service's setup, waits for SIGTERM/SIGINT (ShutdownSignal, which start-up waits honour
// too: a signal during setup ends the process at once, exit 0), then shuts down in the fixed order
// of docs/style.md rule 13: drain subscriptions and in-flight handlers, drain the connection, let
// the service release its resources, flush telemetry last (so shutdown itself is observed).
//
// A service's main.cpp is one call: ServiceMain<Config>(info, factory), where Config has
// `static core::Result<Config> FromEnv(const core::Env&)` and the factory builds the service from
// the context and the validated Config. The SDK stays behind ServiceContext (runtime links it
// privately): services see the telemetry API types only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/core/env.hpp"
#include "chat/core/result.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/shutdown.hpp"
#include "chat/telemetry/log.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::telemetry::sdk {
class AdminServer;
class TelemetrySdk;
}  // namespace chat::telemetry::sdk

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
  ServiceContext(const core::Env& env, const core::Clock& clock, telemetry::sdk::TelemetrySdk& sdk,
                 telemetry::sdk::AdminServer& admin, natsx::Connection* nats,
                 const ShutdownSignal& shutdown)
      : env_(env), clock_(clock), sdk_(sdk), admin_(admin), nats_(nats), shutdown_(shutdown) {}

  const core::Env& env() const { return env_; }
  const core::Clock& clock() const { return clock_; }
  const telemetry::Telemetry& telemetry() const;
  telemetry::Logger& logger();
  // A named /readyz check (503 with its message while it fails), beside "service" and "nats".
  void AddReadinessCheck(std::string name, std::function<core::Status()> check);
  // The bound port of the admin server (/metrics, /healthz, /readyz).
  int admin_port() const;
  // CHAT_TRACE_LINK_AGE_SECONDS: a first delivery older than this is traced as a linked root
  // (observability.md §3.4).
  std::chrono::seconds trace_link_age() const;
  // CHAT_CHECKs that the service asked for NATS.
  natsx::Connection& nats();
  // The same connection as a runtime::Bus (publishes, reconnect listeners, JetStream and KV,
  // Dispatcher construction): what services use. CHAT_CHECKs that the service asked for NATS.
  Bus& bus();
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
  std::unique_ptr<Bus> bus_;  // made by the first bus()
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
// Reads and validates the service's own settings; an error is a configuration error (exit 2).
using ConfigureFn = std::function<core::Status(const core::Env&)>;

// Exit codes: 0 after a graceful shutdown (also when SIGTERM/SIGINT cut start-up short), 1 when
// start-up failed (dependency unreachable), 2 for invalid configuration. The env handed to
// `configure` and to the context resolves the deprecated names of kRenamedVariables.
int ServiceMain(const ServiceInfo& info, const SetupFn& setup);
int ServiceMain(const ServiceInfo& info, const SetupFn& setup, const core::Env& env,
                const core::Clock& clock);
int ServiceMain(const ServiceInfo& info, const ConfigureFn& configure, const SetupFn& setup,
                const core::Env& env, const core::Clock& clock);

// The process environment (never destroyed, so it outlives every thread).
const core::Env& ProcessEnvironment();

// ServiceMain<Config>(info, factory): Config::FromEnv(env) runs before anything connects (exit 2
// with its one sentence), then factory(ServiceContext&, Config&) builds the service; it returns
// core::Result<std::unique_ptr<T>> for any T derived from Service.
template <typename Config, typename Factory>
int ServiceMain(const ServiceInfo& info, Factory factory, const core::Env& env,
                const core::Clock& clock) {
  std::optional<Config> config;
  return ServiceMain(
      info,
      [&config](const core::Env& e) -> core::Status {
        auto parsed = Config::FromEnv(e);
        if (!parsed.ok()) return parsed.status();
        config.emplace(std::move(*parsed));
        return core::Status::Ok();
      },
      [&config, &factory](ServiceContext& ctx) -> core::Result<std::unique_ptr<Service>> {
        auto made = factory(ctx, *config);
        if (!made.ok()) return made.status();
        return std::unique_ptr<Service>(std::move(*made));
      },
      env, clock);
}

template <typename Config, typename Factory>
int ServiceMain(const ServiceInfo& info, Factory factory) {
  return ServiceMain<Config>(info, std::move(factory), ProcessEnvironment(),
                             core::SystemClock::Instance());
}

// Configuration names follow CHAT_<SERVICE>_… (beside OTEL_*, NATS_* and DATABASE_URL). The
// names below were renamed; for one release the old one still works when the new one is unset,
// and ServiceMain logs a WARN at start-up naming the replacement.
struct RenamedVariable {
  std::string_view deprecated;
  std::string_view replacement;
};
const std::vector<RenamedVariable>& RenamedVariables();

// An Env that answers a renamed variable from its deprecated name when the new one is unset.
class RenamedEnv final : public core::Env {
 public:
  explicit RenamedEnv(const core::Env& base) : base_(base) {}
  std::optional<std::string> Get(std::string_view name) const override;
  // The deprecated names that are set in the base environment (whether or not they are used).
  std::vector<RenamedVariable> DeprecatedInUse() const;

 private:
  const core::Env& base_;
};

// The total shutdown budget: below an orchestrator's usual 30 s grace period.
inline constexpr std::chrono::seconds kShutdownBudget{20};

}  // namespace chat::runtime
