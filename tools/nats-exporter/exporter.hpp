// nats-exporter: a local stand-in for prometheus-nats-exporter (`-varz -jsz=all <url>`).
// On every scrape it polls one nats-server's monitoring endpoints (/varz and
// /jsz?consumers=true&config=true) and renders the official exporter's series names, types and
// labels as Prometheus text, so the recording and alert rules of docs/observability.md §9 work
// unchanged against the local stack. Series are rebuilt per scrape: a deleted stream vanishes.
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

namespace chat::nats_exporter {

struct Config {
  std::string monitor_url = "http://127.0.0.1:8222";  // nats-server http_port
  std::string host = "127.0.0.1";                     // loopback unless configured
  uint16_t port = 7777;                               // 0: pick a free port (tests)
  // Like the official `-use_internal_server_id`: label server_id with /varz server_id instead of
  // the monitoring URL (the official default).
  bool server_id_from_varz = false;
  std::chrono::milliseconds poll_timeout{5000};

  // Environment first (NATS_EXPORTER_MONITOR_URL, NATS_EXPORTER_HOST, NATS_EXPORTER_PORT,
  // NATS_EXPORTER_SERVER_ID_FROM_VARZ), then flags (--monitor-url, --host, --port,
  // --server-id-from-varz, or the URL as the one positional argument) override it.
  // All problems are reported together as InvalidArgument.
  static core::Result<Config> FromArgs(const std::vector<std::string>& args, const core::Env& env);
};

// Polls and renders. Thread-safe: concurrent scrapes are serialised (one poll at a time).
class Collector {
 public:
  explicit Collector(Config config);
  // Prometheus text 0.0.4 of the current server state plus the exporter's own series.
  std::string Scrape();

 private:
  Config config_;
  std::mutex mu_;
  uint64_t scrapes_ = 0;
  uint64_t varz_errors_ = 0;
  uint64_t jsz_errors_ = 0;
};

// GET /metrics (Prometheus text) and /healthz on its own thread.
class ExporterServer {
 public:
  explicit ExporterServer(Config config);
  ExporterServer(const ExporterServer&) = delete;
  ExporterServer& operator=(const ExporterServer&) = delete;
  ~ExporterServer() = default;

  // kUnavailable when the listen address cannot be bound.
  core::Status Start() { return server_.Start(); }
  void Stop() { server_.Stop(); }
  int port() const { return server_.port(); }

 private:
  Config config_;
  Collector collector_;
  telemetry::sdk::ScrapeServer server_;
};

}  // namespace chat::nats_exporter
