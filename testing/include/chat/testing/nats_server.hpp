// testing::NatsServer: a throwaway nats-server per test on random ports, in its own temp dir
// (docs/style.md rule 15). Start-up reads the chosen ports back from the ports file and polls
// readiness with a deadline; Stop()/Start() let fault tests take the server away and bring it
// back on the same port with the same JetStream store. The destructor kills it and removes the dir.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/core/status.hpp"

namespace chat::testing {

class NatsServer {
 public:
  struct Options {
    bool jetstream = true;
    bool monitoring = false;    // -m on a random port (/healthz, /varz)
    std::string config_file{};  // -c <file> (operator mode etc.); empty = none
    std::vector<std::string> extra_args{};
    std::chrono::milliseconds ready_timeout{15000};
  };

  // Starts a server and waits until it accepts connections. Errors: unavailable (could not
  // start or not ready in time; the server log tail is in the message), internal.
  static core::Result<std::unique_ptr<NatsServer>> Create(Options options);
  static core::Result<std::unique_ptr<NatsServer>> Create() { return Create(Options{}); }
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // Stops the process (SIGTERM, SIGKILL after a deadline) and waits for it to exit.
  core::Status Stop();
  // Starts it again on the same client port and store dir; waits for readiness.
  core::Status Start();
  bool running() const { return pid_ > 0; }

  std::string url() const;  // nats://127.0.0.1:<port>
  int port() const { return port_; }
  int monitoring_port() const { return monitoring_port_; }
  const std::string& dir() const { return dir_; }
  std::string log_path() const { return dir_ + "/server.log"; }
  std::string LogTail(size_t max_bytes = 2000) const;

 private:
  explicit NatsServer(Options options) : options_(std::move(options)) {}
  core::Status Launch(int port);

  Options options_;
  std::string dir_{};
  pid_t pid_ = -1;
  int port_ = -1;
  int monitoring_port_ = -1;
};

}  // namespace chat::testing
