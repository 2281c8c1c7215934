// PeerProcess: runs the chat-peer binary with a given environment, collects its stdout JSON
// lines on a reader thread, and stops it with SIGTERM (graceful shutdown is part of what the
// end-to-end tests check: the exit code must be 0 and telemetry must be flushed).
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

#include "chat/testing/process.hpp"
#include "chat/testing/wait_for.hpp"

namespace chat::testing {

class PeerProcess {
 public:
  PeerProcess() = default;
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;
  ~PeerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
  }

  bool Start(const std::string& binary, const std::map<std::string, std::string>& env) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    pid_ = SpawnWithEnv({binary}, env, fds[1], -1);
    ::close(fds[1]);
    if (pid_ <= 0) {
      ::close(fds[0]);
      pid_ = -1;
      return false;
    }
    int fd = fds[0];
    reader_ = std::thread([this, fd] {
      std::string buf;
      char chunk[4096];
      while (true) {
        ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n <= 0) break;
        buf.append(chunk, static_cast<size_t>(n));
        size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
          auto j = nlohmann::json::parse(buf.substr(0, nl), nullptr, false);
          buf.erase(0, nl + 1);
          if (j.is_discarded()) continue;
          std::lock_guard lock(mu_);
          lines_.push_back(std::move(j));
        }
      }
      ::close(fd);
    });
    return true;
  }

  std::vector<nlohmann::json> Lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

  // The first line whose "event" equals `event`, waiting up to `timeout`.
  std::optional<nlohmann::json> WaitForEvent(const std::string& event,
                                             std::chrono::milliseconds timeout) const {
    std::optional<nlohmann::json> found;
    WaitFor(
        [&] {
          std::lock_guard lock(mu_);
          for (const auto& l : lines_) {
            if (l.value("event", "") == event) {
              found = l;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  // The latest line with `event`.
  std::optional<nlohmann::json> Last(const std::string& event) const {
    std::lock_guard lock(mu_);
    // Reverse iterators: clang 14 cannot compile libstdc++ 12's std::ranges::reverse_view.
    // NOLINTNEXTLINE(modernize-loop-convert)
    for (auto line = lines_.rbegin(); line != lines_.rend(); ++line) {
      if (line->value("event", "") == event) return *line;
    }
    return std::nullopt;
  }

  // SIGTERM and wait; returns the exit status (or -1 when it had to be killed).
  int Stop(std::chrono::milliseconds timeout) {
    int rc = TerminateAndWait(pid_, timeout);
    pid_ = -1;
    if (reader_.joinable()) reader_.join();
    return rc;
  }

  // Resident set size in KiB from /proc (0 when unknown).
  long RssKib() const { return pid_ > 0 ? testing::RssKib(pid_) : 0; }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  mutable std::mutex mu_;
  std::vector<nlohmann::json> lines_;
  std::thread reader_;
};

}  // namespace chat::testing
