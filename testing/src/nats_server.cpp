#include "chat/testing/nats_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chat/core/status.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::testing {

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Port of the first URL listed under `"<key>":[` in the ports file JSON, or -1.
int PortFromPortsFile(const std::string& json, const std::string& key) {
  auto k = json.find("\"" + key + "\"");
  if (k == std::string::npos) return -1;
  auto open = json.find('[', k);
  auto close = json.find(']', k);
  if (open == std::string::npos || close == std::string::npos) return -1;
  auto url_end = json.find('"', json.find('"', open) + 1);
  auto colon = json.rfind(':', url_end);
  if (colon == std::string::npos || colon < open) return -1;
  return std::atoi(json.substr(colon + 1, url_end - colon - 1).c_str());
}

bool CanConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  if (ok) {
    // A NATS server greets with INFO as soon as it accepts clients.
    char buf[5] = {};
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ok = ::recv(fd, buf, 4, MSG_WAITALL) == 4 && std::string_view(buf, 4) == "INFO";
  }
  ::close(fd);
  return ok;
}

}  // namespace

core::Result<std::unique_ptr<NatsServer>> NatsServer::Create(Options options) {
  std::unique_ptr<NatsServer> server(new NatsServer(std::move(options)));
  std::string tmpl = (std::filesystem::temp_directory_path() / "chat-nats-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return core::Internal("mkdtemp failed");
  server->dir_ = tmpl;
  CHAT_RETURN_IF_ERROR(server->Launch(-1));
  return server;
}

NatsServer::~NatsServer() {
  (void)Stop();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string NatsServer::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

std::string NatsServer::LogTail(size_t max_bytes) const {
  std::string log = ReadFile(log_path());
  return log.size() > max_bytes ? log.substr(log.size() - max_bytes) : log;
}

core::Status NatsServer::Launch(int port) {
  // Remove stale ports files so the one we read belongs to this process.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    if (e.path().extension() == ".ports") std::filesystem::remove(e.path(), ec);
  }
  std::vector<std::string> args = {
      "nats-server", "-a", "127.0.0.1", "-p", std::to_string(port), "--ports_file_dir", dir_};
  if (options_.jetstream) {
    args.insert(args.end(), {"-js", "-sd", dir_ + "/js"});
  }
  if (options_.monitoring) {
    args.insert(args.end(), {"-m", monitoring_port_ > 0 ? std::to_string(monitoring_port_) : "-1"});
  }
  if (!options_.config_file.empty()) args.insert(args.end(), {"-c", options_.config_file});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());

  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::string log = log_path();
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "nats-server", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return core::Unavailable(std::string("cannot spawn nats-server: ") + core::ErrnoMessage(rc));
  }
  pid_ = pid;

  std::string ports_file = dir_ + "/nats-server_" + std::to_string(pid) + ".ports";
  bool exited = false;
  bool ready = WaitFor(
      [&] {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          exited = true;
          return true;
        }
        std::string json = ReadFile(ports_file);
        // nats-server 2.9 names the client listener "nats"; newer releases say "client".
        int p = PortFromPortsFile(json, "nats");
        if (p <= 0) p = PortFromPortsFile(json, "nats");
        if (p <= 0) return false;
        if (options_.monitoring) {
          int m = PortFromPortsFile(json, "monitoring");
          if (m <= 0) return false;
          monitoring_port_ = m;
        }
        port_ = p;
        return CanConnect(p);
      },
      options_.ready_timeout);
  if (exited) {
    pid_ = -1;
    return core::Unavailable("nats-server exited during start-up: " + LogTail());
  }
  if (!ready) {
    (void)Stop();
    return core::Unavailable("nats-server not ready in time: " + LogTail());
  }
  return core::Status::Ok();
}

core::Status NatsServer::Stop() {
  if (pid_ <= 0) return core::Status::Ok();
  ::kill(pid_, SIGTERM);
  pid_t pid = pid_;
  bool gone = WaitFor(
      [&] {
        int status = 0;
        return ::waitpid(pid, &status, WNOHANG) == pid;
      },
      std::chrono::milliseconds(5000));
  if (!gone) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  pid_ = -1;
  return core::Status::Ok();
}

core::Status NatsServer::Start() {
  if (pid_ > 0) return core::Status::Ok();
  if (port_ <= 0) return core::FailedPrecondition("server was never started");
  // The port was just released by our own process; the kernel may still need a moment, so
  // retry the launch within the readiness deadline.
  auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  core::Status st;
  do {
    st = Launch(port_);
    if (st.ok()) return st;
  } while (std::chrono::steady_clock::now() < deadline);
  return st;
}

}  // namespace chat::testing
