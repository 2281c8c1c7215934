// nats-exporter entry point: parse config, serve until SIGINT/SIGTERM.
#include <cstdio>
#include <string>
#include <vector>

#include "chat/runtime/shutdown.hpp"
#include "exporter.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  chat::core::ProcessEnv env;
  auto config = chat::nats_exporter::Config::FromArgs(args, env);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 2;
  }
  // Block the stop signals before any thread starts so only the Wait() below receives them.
  const chat::runtime::TerminationSignals stop_signals;

  chat::nats_exporter::ExporterServer server(*config);
  chat::core::Status st = server.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "nats-exporter: polling %s, serving http://%s:%d/metrics\n",
               config->monitor_url.c_str(), config->host.c_str(), server.port());
  stop_signals.Wait();
  server.Stop();
  return 0;
}
