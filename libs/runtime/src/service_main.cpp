#include "chat/runtime/service_main.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <deque>
#include <memory>
#include <thread>
#include <utility>

#include "chat/contracts/quotas.hpp"
#include "chat/core/strings.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/sdk/admin_server.hpp"
#include "chat/telemetry/sdk/sdk.hpp"

namespace chat::runtime {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

milliseconds Remaining(Steady::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Steady::now());
  return left.count() > 0 ? left : milliseconds(0);
}

// The thread that turns SIGTERM/SIGINT into ShutdownSignal::Request, from the first moment on:
// start-up retries and service loops wait on the signal, so a termination during start-up or in
// the middle of a back-off ends the process promptly. Ending ServiceMain without a signal (a
// failed start-up) wakes the watcher with a signal aimed at its own thread.
class SignalWatcher {
 public:
  SignalWatcher(const TerminationSignals& signals, ShutdownSignal& shutdown)
      : shutdown_(shutdown),
        thread_([&signals, &stop = shutdown] { stop.Request(signals.Wait()); }) {}
  ~SignalWatcher() {
    // SIGTERM is blocked in every thread and taken by sigwait in this one: this wakes the waiter,
    // it does not terminate the process.
    if (!shutdown_.requested()) {
      pthread_kill(thread_.native_handle(), SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
    }
    thread_.join();
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  ShutdownSignal& shutdown_;
  std::thread thread_;
};

}  // namespace

NatsConfig NatsConfig::FromEnv(core::EnvReader& reader) {
  NatsConfig c;
  std::string urls = reader.String("NATS_URL", "nats://127.0.0.1:4222");
  c.urls = core::SplitComma(urls);
  if (c.urls.empty()) reader.AddProblem("NATS_URL is empty");
  for (const auto& u : c.urls) {
    if (u.find("://") == std::string::npos) {
      reader.AddProblem("NATS_URL \"" + u + "\" is not a URL");
    }
  }
  c.creds_file = reader.String("NATS_CREDS", "");
  // TLS files are checked here, not at connect time: a wrong path is a configuration error
  // (exit 2, one sentence), not a dependency to retry.
  c.tls.ca_file = reader.String("NATS_TLS_CA", "");
  c.tls.cert_file = reader.String("NATS_TLS_CERT", "");
  c.tls.key_file = reader.String("NATS_TLS_KEY", "");
  c.tls.expected_hostname = reader.String("NATS_TLS_HOSTNAME", "");
  for (auto [name, path] :
       {std::pair<const char*, const std::string*>{"NATS_TLS_CA", &c.tls.ca_file},
        {"NATS_TLS_CERT", &c.tls.cert_file},
        {"NATS_TLS_KEY", &c.tls.key_file}}) {
    if (!path->empty() && ::access(path->c_str(), R_OK) != 0) {
      reader.AddProblem(std::string(name) + " \"" + *path + "\" is not a readable file");
    }
  }
  if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
    reader.AddProblem("NATS_TLS_CERT and NATS_TLS_KEY must be set together");
  }
  c.connect_timeout = reader.Millis("NATS_CONNECT_TIMEOUT_MS", milliseconds(2000));
  c.connect_attempts = static_cast<int>(reader.Int("NATS_CONNECT_ATTEMPTS", 15, 1, 1000));
  c.connect_retry_wait = reader.Millis("NATS_CONNECT_RETRY_MS", milliseconds(1000));
  return c;
}

const std::vector<RenamedVariable>& RenamedVariables() {
  // Renamed in issue 12 ("one plumbing owner"); drop the aliases one release later.
  static const std::vector<RenamedVariable> kRenamed = [] {
    std::vector<RenamedVariable> renamed = {
        {"FANOUT_LRU_CAPACITY", "CHAT_FANOUT_LRU_CAPACITY"},
        {"FANOUT_WORKERS", "CHAT_FANOUT_WORKERS"},
        {"FANOUT_QUEUE_CAPACITY", "CHAT_FANOUT_QUEUE_CAPACITY"},
        {"FANOUT_RATE_LIMIT_PER_MINUTE", "CHAT_FANOUT_RATE_LIMIT_PER_MINUTE"},
        {"FANOUT_RATE_LIMIT_FALLBACK", "CHAT_FANOUT_RATE_LIMIT_FALLBACK"},
        {"FANOUT_HANDLER_CONCURRENCY", "CHAT_FANOUT_HANDLER_CONCURRENCY"},
        {"FANOUT_INGEST_CONCURRENCY", "CHAT_FANOUT_INGEST_CONCURRENCY"},
        {"FANOUT_MEMBERS_TIMEOUT_MS", "CHAT_FANOUT_MEMBERS_TIMEOUT_MS"},
        {"FANOUT_KV_TIMEOUT_MS", "CHAT_FANOUT_KV_TIMEOUT_MS"},
        {"FANOUT_STICKER_BASE_URL", "CHAT_FANOUT_STICKER_BASE_URL"},
        // system.md §6.9 names the reference's variable STICKER_BASE_URL.
        {"STICKER_BASE_URL", "CHAT_STICKER_BASE_URL"},
        {"HISTORY_DB_POOL_SIZE", "CHAT_HISTORY_DB_POOL_SIZE"},
        {"HISTORY_STATEMENT_TIMEOUT_MS", "CHAT_HISTORY_STATEMENT_TIMEOUT_MS"},
        {"PERSIST_BATCH_SIZE", "CHAT_PERSIST_BATCH_SIZE"},
        {"PERSIST_FETCH_TIMEOUT_MS", "CHAT_PERSIST_FETCH_TIMEOUT_MS"},
        {"PERSIST_WORKERS", "CHAT_PERSIST_WORKERS"},
        {"PERSIST_NAK_DELAY_MS", "CHAT_PERSIST_NAK_DELAY_MS"},
        {"PERSIST_NAK_DELAY_MAX_MS", "CHAT_PERSIST_NAK_DELAY_MAX_MS"},
        {"PERSIST_STREAM_MAX_MSGS", "CHAT_PERSIST_STREAM_MAX_MSGS"},
        {"PERSIST_STREAM_MAX_BYTES", "CHAT_PERSIST_STREAM_MAX_BYTES"},
        {"PERSIST_STREAM_MAX_MSG_SIZE", "CHAT_PERSIST_STREAM_MAX_MSG_SIZE"},
        {"PERSIST_MAX_ACK_PENDING", "CHAT_PERSIST_MAX_ACK_PENDING"},
        {"PERSIST_STATEMENT_TIMEOUT_MS", "CHAT_PERSIST_STATEMENT_TIMEOUT_MS"},
        {"PRESENCE_CONN_TTL_SECONDS", "CHAT_PRESENCE_CONN_TTL_SECONDS"},
        {"PRESENCE_SWEEP_INTERVAL_MS", "CHAT_PRESENCE_SWEEP_INTERVAL_MS"},
        {"PRESENCE_MAX_CONNECTIONS_PER_USER", "CHAT_PRESENCE_MAX_CONNECTIONS_PER_USER"},
        {"READ_RECEIPT_DB_POOL_SIZE", "CHAT_READ_RECEIPT_DB_POOL_SIZE"},
        {"READ_RECEIPT_FLUSH_INTERVAL_MS", "CHAT_READ_RECEIPT_FLUSH_INTERVAL_MS"},
        {"ROOM_DB_POOL_SIZE", "CHAT_ROOM_DB_POOL_SIZE"},
        {"ROOM_DB_CONNECT_ATTEMPTS", "CHAT_ROOM_DB_CONNECT_ATTEMPTS"},
        {"ROOM_DB_CONNECT_INTERVAL_MS", "CHAT_ROOM_DB_CONNECT_INTERVAL_MS"},
        {"ROOM_DB_STATEMENT_TIMEOUT_MS", "CHAT_ROOM_DB_STATEMENT_TIMEOUT_MS"},
    };
    // Bucket bounds are shared by every service that creates the bucket, so they are
    // CHAT_KV_<BUCKET>_… rather than one service's; they were KV_<BUCKET>_…. The names live as
    // long as the process (a deque never moves its strings).
    static std::deque<std::string> names;
    for (const auto& bucket : contracts::jetstream::kBuckets) {
      for (std::string_view suffix : {"MAX_BYTES", "MAX_VALUE_SIZE"}) {
        std::string replacement = contracts::quotas::BucketEnvName(bucket.name, suffix);
        names.push_back(replacement.substr(std::string_view("CHAT_").size()));
        const std::string& deprecated = names.back();
        names.push_back(std::move(replacement));
        renamed.push_back({deprecated, names.back()});
      }
    }
    return renamed;
  }();
  return kRenamed;
}

std::optional<std::string> RenamedEnv::Get(std::string_view name) const {
  if (auto value = base_.Get(name)) return value;
  for (const auto& r : RenamedVariables()) {
    if (r.replacement == name) return base_.Get(r.deprecated);
  }
  return std::nullopt;
}

std::vector<RenamedVariable> RenamedEnv::DeprecatedInUse() const {
  std::vector<RenamedVariable> used;
  for (const auto& r : RenamedVariables()) {
    if (base_.Get(r.deprecated).has_value()) used.push_back(r);
  }
  return used;
}

const telemetry::Telemetry& ServiceContext::telemetry() const { return sdk_.telemetry(); }

telemetry::Logger& ServiceContext::logger() { return sdk_.logger(); }

void ServiceContext::AddReadinessCheck(std::string name, std::function<core::Status()> check) {
  admin_.AddReadinessCheck(std::move(name), std::move(check));
}

int ServiceContext::admin_port() const { return admin_.port(); }

std::chrono::seconds ServiceContext::trace_link_age() const { return sdk_.config().trace_link_age; }

natsx::Connection& ServiceContext::nats() {
  CHAT_CHECK(nats_ != nullptr);
  return *nats_;
}

Bus& ServiceContext::bus() {
  if (bus_ == nullptr) bus_ = std::make_unique<NatsBus>(nats());
  return *bus_;
}

const core::Env& ProcessEnvironment() {
  static const core::ProcessEnv kProcessEnv;  // trivially destructible wrapper over getenv
  return kProcessEnv;
}

int ServiceMain(const ServiceInfo& info, const SetupFn& setup) {
  return ServiceMain(info, setup, ProcessEnvironment(), core::SystemClock::Instance());
}

int ServiceMain(const ServiceInfo& info, const SetupFn& setup, const core::Env& env,
                const core::Clock& clock) {
  return ServiceMain(
      info, [](const core::Env&) { return core::Status::Ok(); }, setup, env, clock);
}

int ServiceMain(const ServiceInfo& info, const ConfigureFn& configure, const SetupFn& setup,
                const core::Env& base_env, const core::Clock& clock) {
  // Blocked before any other thread exists, so only the watcher's sigwait() ever sees them.
  const TerminationSignals signals;
  ShutdownSignal stop;
  SignalWatcher watcher(signals, stop);
  const RenamedEnv env(base_env);

  // 1. Configuration, validated before anything connects: the service's own settings, then NATS.
  if (core::Status s = configure(env); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", info.name.c_str(), s.message().c_str());
    return 2;
  }
  core::EnvReader reader(env);
  NatsConfig nats_config;
  if (info.needs_nats) nats_config = NatsConfig::FromEnv(reader);
  if (core::Status s = reader.Finish(); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", info.name.c_str(), s.message().c_str());
    return 2;
  }
  auto telemetry_config =
      telemetry::sdk::TelemetryConfig::FromEnv(env, info.name, info.metrics_port);

  // 2. Telemetry first, so every later failure is logged with the service's resource.
  auto sdk = telemetry::sdk::TelemetrySdk::Create(telemetry_config, clock);
  telemetry::Logger& log = sdk->logger();
  for (const auto& r : env.DeprecatedInUse()) {
    log.Warn("deprecated configuration variable; use " + std::string(r.replacement),
             {{"chat.config.deprecated", std::string(r.deprecated)},
              {"chat.config.replacement", std::string(r.replacement)}});
  }

  telemetry::sdk::AdminServer admin(
      sdk->metrics(), {telemetry_config.prometheus_host, telemetry_config.prometheus_port, &log});
  // /readyz answers 503 until setup has finished (streams, buckets and subscriptions exist) and
  // again from the moment draining begins. Ready on "NATS connected" alone let a restarted
  // fanout-service look ready before it subscribed to ingest, and a restarted persist-worker
  // before its stream existed: what was published in between reached nobody.
  auto phase = std::make_shared<std::atomic<int>>(0);  // 0 starting, 1 serving, 2 draining
  admin.AddReadinessCheck("service", [phase] {
    switch (phase->load()) {
      case 1: return core::Status::Ok();
      case 2: return core::Unavailable("draining");
      default: return core::Unavailable("starting");
    }
  });
  if (core::Status s = admin.Start(); !s.ok()) {
    log.Error("admin server failed to start",
              {{"error.type", "admin_bind"}, {"exception.message", s.message()}});
    sdk->Shutdown(milliseconds(2000));
    return 1;
  }

  // 3. NATS.
  std::unique_ptr<natsx::Connection> nats;
  if (info.needs_nats) {
    natsx::ConnectionOptions opts;
    opts.urls = nats_config.urls;
    opts.name = info.name;
    opts.connect_timeout = nats_config.connect_timeout;
    opts.tls = nats_config.tls;
    if (!nats_config.creds_file.empty()) {
      opts.credentials = natsx::Credentials::FromCredsFile(nats_config.creds_file);
    }
    // A dependency that is not there yet is retried (system.md §6.0: bounded attempts), and a
    // refused handshake too: nats-server has been seen to refuse a valid nkey signature once in
    // a while right after a restart. A termination signal during the wait ends start-up.
    auto conn = natsx::Connection::Connect(opts, sdk->telemetry());
    for (int attempt = 2; !conn.ok() && attempt <= nats_config.connect_attempts; ++attempt) {
      log.Warn("nats connect failed, retrying", {{"error.type", "nats_connect"},
                                                 {"exception.message", conn.status().message()},
                                                 {"attempt", static_cast<int64_t>(attempt)}});
      if (stop.WaitFor(nats_config.connect_retry_wait)) break;  // SIGTERM/SIGINT: give up now
      conn = natsx::Connection::Connect(opts, sdk->telemetry());
    }
    if (!conn.ok() && stop.requested()) {
      log.Info("stopped during start-up", {{"chat.signal", SignalName(stop.signal())}});
      admin.Stop();
      sdk->Shutdown(milliseconds(2000));
      return 0;
    }
    if (!conn.ok()) {
      log.Error("nats connect failed",
                {{"error.type", "nats_connect"}, {"exception.message", conn.status().message()}});
      admin.Stop();
      sdk->Shutdown(milliseconds(2000));
      return 1;
    }
    nats = std::move(conn).value();
    natsx::Connection* raw = nats.get();
    admin.AddReadinessCheck("nats", [raw] {
      return raw->IsConnected() ? core::Status::Ok() : core::Unavailable("nats disconnected");
    });
  }

  // 4. The service itself.
  ServiceContext ctx(env, clock, *sdk, admin, nats.get(), stop);
  auto service = setup(ctx);
  if (!service.ok() && stop.requested()) {
    // A termination signal cut a start-up wait short (e.g. room-service's database retry):
    // not a failure, the orchestrator asked us to stop.
    log.Info("stopped during start-up", {{"chat.signal", SignalName(stop.signal())},
                                         {"exception.message", service.status().message()}});
    if (nats) (void)nats->Drain(milliseconds(2000));
    admin.Stop();
    sdk->Shutdown(milliseconds(2000));
    return 0;
  }
  if (!service.ok()) {
    log.Error("service setup failed",
              {{"error.type", std::string(core::ErrorCodeName(service.status().code()))},
               {"exception.message", service.status().message()}});
    if (nats) (void)nats->Drain(milliseconds(2000));
    admin.Stop();
    sdk->Shutdown(milliseconds(2000));
    return 1;
  }
  phase->store(1);
  log.Info("service started", {{"chat.service.metrics_port", admin.port()}});

  // 5. Wait for SIGTERM/SIGINT (it may have come already, during start-up).
  stop.Wait();
  phase->store(2);
  auto deadline = Steady::now() + kShutdownBudget;
  log.Info("draining", {{"chat.signal", SignalName(stop.signal())}});

  // 6. Shutdown in order; telemetry goes last.
  (*service)->Drain(Remaining(deadline) / 2);
  if (nats) {
    if (core::Status s = nats->Drain(Remaining(deadline) / 2); !s.ok()) {
      log.Warn("nats drain incomplete", {{"exception.message", s.message()}});
    }
  }
  service->reset();
  nats.reset();
  log.Info("stopped");
  admin.Stop();
  sdk->Shutdown(Remaining(deadline));
  return 0;
}

}  // namespace chat::runtime
