// nats-exporter entry point: parse config, serve until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "exporter.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  chat::core::ProcessEnv env;
  auto config = chat::nats_exporter::Config::FromArgs(args, env);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 2;
  }
  // Block the stop signals before any thread starts so only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  chat::nats_exporter::ExporterServer server(*config);
  chat::core::Status st = server.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "nats-exporter: polling %s, serving http://%s:%d/metrics\n",
               config->monitor_url.c_str(), config->host.c_str(), server.port());
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.Stop();
  return 0;
}
