// pg-exporter: a local stand-in for prometheus-community postgres_exporter (v0.17.1, the version
// deploy/compose and deploy/k8s run), which Debian 12 does not package. On every scrape it runs a
// few cheap catalog queries over libpq (libs/pg, statement timeout on the connection) and renders
// the official exporter's series names, types and label sets as Prometheus text, so the `postgres`
// scrape job and the rules that read pg_* series work unchanged against the local stack.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/telemetry/sdk/scrape_server.hpp"

namespace chat::pg {
class Pool;
}

namespace chat::telemetry {
struct Telemetry;
class Logger;
}  // namespace chat::telemetry

namespace chat::pg_exporter {

struct Config {
  // libpq connection string or URI. Never logged or echoed (it may hold a password).
  std::string dsn;
  std::string host = "127.0.0.1";  // loopback unless configured
  uint16_t port = 9187;            // 0: pick a free port (tests)
  // Server-side statement_timeout of the exporter's connection and the libpq connect timeout.
  std::chrono::milliseconds query_timeout{5000};
  // The official exporter's `server` label on its legacy-map series (pg_stat_activity_*,
  // pg_settings_*): "<host>:<port>" from the DSN, "localhost" and "5432" when absent.
  std::string server_label;

  // Environment first (DATA_SOURCE_NAME required, PG_EXPORTER_WEB_LISTEN_ADDRESS,
  // PG_EXPORTER_QUERY_TIMEOUT_MS), then flags (--web.listen-address [host]:port, --port N)
  // override it. All problems are reported together as InvalidArgument; no message quotes the DSN.
  static core::Result<Config> FromArgs(const std::vector<std::string>& args, const core::Env& env);
};

// "<host>:<port>" as postgres_exporter's parseFingerprint builds it (DSN values only, no PG*
// environment); "" when libpq cannot parse the DSN.
std::string ServerFingerprint(const std::string& dsn);

// Queries and renders. Thread-safe: concurrent scrapes are serialised (one connection, one scrape
// at a time). A database that cannot be reached gives pg_up 0 and a normal exposition, never an
// error, so Prometheus keeps `up` at 1 for the exporter and the alert reads pg_up.
class Collector {
 public:
  // kInvalidArgument for a DSN libpq cannot parse. Does not connect (the first scrape does).
  // Logs (up/down transitions, failed queries) go to telemetry.logger; the pool's db_client_*
  // metrics to telemetry.metrics, which this exporter does not expose (they would not be
  // postgres_exporter's). `telemetry` must outlive the collector; default: Telemetry::Noop().
  static core::Result<std::unique_ptr<Collector>> Create(const Config& config);
  static core::Result<std::unique_ptr<Collector>> Create(const Config& config,
                                                         const telemetry::Telemetry& telemetry);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Prometheus text 0.0.4.
  std::string Scrape();

 private:
  Collector(Config config, telemetry::Logger& log);

  Config config_;
  telemetry::Logger& log_;
  std::unique_ptr<pg::Pool> pool_;
  std::mutex mu_;
  uint64_t scrapes_ = 0;
  bool was_up_ = true;  // for logging up/down transitions once
};

// GET /metrics (Prometheus text), /healthz and / on its own thread.
class ExporterServer {
 public:
  explicit ExporterServer(Collector& collector, Config config);
  ExporterServer(const ExporterServer&) = delete;
  ExporterServer& operator=(const ExporterServer&) = delete;
  ~ExporterServer() = default;

  // kUnavailable when the listen address cannot be bound.
  core::Status Start() { return server_.Start(); }
  void Stop() { server_.Stop(); }
  int port() const { return server_.port(); }

 private:
  Collector& collector_;
  Config config_;
  telemetry::sdk::ScrapeServer server_;
};

}  // namespace chat::pg_exporter
