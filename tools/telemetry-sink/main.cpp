// telemetry-sink: the local stand-in for Collector + Tempo + Loki (docs/decisions.md §5).
// Reads SINK_* config (exit 2 on bad values), serves until SIGTERM/SIGINT, then drains the
// forwarder and exits 0. Signals are taken synchronously with sigwait on the main thread, so no
// code runs in signal-handler context.
#include <curl/curl.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "chat/core/clock.hpp"
#include "chat/core/env.hpp"
#include "chat/runtime/shutdown.hpp"
#include "config.hpp"
#include "http_server.hpp"
#include "sink.hpp"

int main() {
  // Block the shutdown signals before any thread exists; every thread inherits the mask.
  const chat::runtime::TerminationSignals signals;
  signal(SIGPIPE, SIG_IGN);

  chat::core::ProcessEnv env;
  auto config = chat::sink::SinkConfig::FromEnv(env);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  chat::sink::Sink sink(*config, chat::core::SystemClock::Instance());
  chat::sink::SinkServer server(sink);
  auto port = server.Start();
  if (!port.ok()) {
    chat::sink::LogLine("ERROR", "cannot listen", {{"error", port.status().message()}});
    return 1;
  }
  // Machine-readable for tests and scripts (SINK_PORT=0 picks a free port).
  std::printf("{\"event\":\"listening\",\"port\":%u}\n", static_cast<unsigned>(*port));
  std::fflush(stdout);
  chat::sink::LogLine("INFO", "telemetry sink started",
                      {{"host", config->host},
                       {"port", *port},
                       {"max_spans", config->max_spans},
                       {"max_logs", config->max_logs},
                       {"max_age_seconds", config->max_age.count()},
                       {"max_bytes", config->max_bytes},
                       {"max_body_bytes", config->max_body_bytes},
                       {"cors_origins", config->cors_origins},
                       {"service_graph_wait_seconds", config->service_graph_wait.count()},
                       {"forward", config->forward_endpoint.empty() ? "off" : "on"}});

  const int received = signals.Wait();
  chat::sink::LogLine("INFO", "telemetry sink stopping", {{"signal", received}});
  server.Stop();
  sink.Shutdown(std::chrono::seconds(5));
  curl_global_cleanup();
  chat::sink::LogLine("INFO", "telemetry sink stopped");
  return 0;
}
