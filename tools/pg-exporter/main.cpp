// pg-exporter entry point: parse config, serve until SIGINT/SIGTERM.
// Exit codes: 0 stopped by a signal, 1 the listen address cannot be bound, 2 bad configuration.
#include <cstdio>
#include <string>
#include <vector>

#include "chat/core/clock.hpp"
#include "chat/runtime/shutdown.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "exporter.hpp"

int main(int argc, char** argv) {
  using namespace chat;
  std::vector<std::string> args(argv + 1, argv + argc);
  core::ProcessEnv env;
  auto config = pg_exporter::Config::FromArgs(args, env);
  if (!config.ok()) {
    std::fprintf(stderr, "pg-exporter: %s\n", config.status().message().c_str());
    return 2;
  }
  // Logs as JSON lines on stderr under service "pg-exporter" (no OTLP: a tool, not a service).
  // The registry only absorbs libs/pg's db_client_* metrics; /metrics does not expose it.
  telemetry::Logger logger("pg-exporter", telemetry::LogLevel::kInfo, nullptr,
                           core::SystemClock::Instance());
  telemetry::MetricRegistry registry;
  const telemetry::Telemetry tel{telemetry::Tracer(), &logger, &registry};
  auto collector = pg_exporter::Collector::Create(*config, tel);
  if (!collector.ok()) {
    std::fprintf(stderr, "pg-exporter: %s\n", collector.status().message().c_str());
    return 2;
  }
  // Block the stop signals before any thread starts so only the Wait() below receives them.
  const runtime::TerminationSignals stop_signals;

  pg_exporter::ExporterServer server(**collector, *config);
  core::Status st = server.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "pg-exporter: %s\n", st.ToString().c_str());
    return 1;
  }
  logger.Info("pg-exporter serving /metrics",
              {{"server", config->server_label},
               {"listen", config->host + ":" + std::to_string(server.port())}});
  stop_signals.Wait();
  server.Stop();
  logger.Info("pg-exporter stopped");
  return 0;
}
