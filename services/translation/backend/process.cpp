#include "backend/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <thread>

extern char** environ;  // NOLINT(readability-redundant-declaration): posix_spawn's environment

namespace chat::translation_service {
namespace {

constexpr std::size_t kMaxStderrBytes = 2048;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void Reset(int fd) {
    Close();
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
  bool Open() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) return false;
    read.Reset(fds[0]);
    write.Reset(fds[1]);
    return true;
  }
};

std::string Errno(std::string_view what, int err) {
  return std::string(what) + ": " + core::ErrnoMessage(err);
}

// write() to a pipe whose reader has gone raises SIGPIPE, which would end this whole process
// (the child may exit before reading its input: a failing program, a killed pipeline). The
// signal is blocked on this thread for the write, and a pending one it caused is consumed, so
// the write just fails with EPIPE; the rest of the process keeps its SIGPIPE disposition.
ssize_t WriteWithoutSigpipe(int fd, const char* data, std::size_t size) {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t w = ::write(fd, data, size);
  const int saved = errno;
  if (w < 0 && saved == EPIPE && !was_pending) {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return w;
}

// Kills the child's process group and waits for the child (never left a zombie).
void KillAndReap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Waits for the child to exit until `deadline` (it has closed its output); false on timeout.
bool WaitExit(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status) {
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // already reaped (ECHILD): nothing to wait for
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

core::Result<ProcessExit> RunProcess(const ProcessRun& run) {
  if (run.argv.empty()) return core::InvalidArgument("no program to run");
  Pipe in;
  Pipe out;
  Pipe err;
  if (!in.Open() || !out.Open() || !err.Open()) {
    return core::Unavailable(Errno("cannot create pipes", errno));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), STDERR_FILENO);
  // Apertium gets its three pipes and nothing else: not the NATS or HTTP sockets (or any other
  // descriptor a library opened without O_CLOEXEC) of this process.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group (so a timeout kills the whole pipeline the apertium script starts),
  // default signal dispositions and an empty mask whatever this process has set up.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGHUP);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                                     POSIX_SPAWN_SETSIGMASK));
  std::vector<char*> argv;
  argv.reserve(run.argv.size() + 1);
  for (const auto& a : run.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return core::Unavailable(Errno("cannot start " + run.argv[0], rc));
  in.read.Close();
  out.write.Close();
  err.write.Close();
  ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);

  ProcessExit result;
  std::size_t written = 0;
  std::size_t output = 0;
  if (run.input.empty()) in.write.Close();
  std::array<char, 4096> buf{};
  while (out.read.get() >= 0 || err.read.get() >= 0) {
    auto now = std::chrono::steady_clock::now();
    if (now >= run.deadline) {
      KillAndReap(pid);
      return core::DeadlineExceeded(run.argv[0] + " did not finish in time");
    }
    constexpr std::size_t kNone = 3;
    std::array<pollfd, 3> fds{};
    std::size_t n = 0;
    const std::size_t out_at = out.read.get() >= 0 ? n++ : kNone;
    if (out_at != kNone) fds[out_at] = {out.read.get(), POLLIN, 0};
    const std::size_t err_at = err.read.get() >= 0 ? n++ : kNone;
    if (err_at != kNone) fds[err_at] = {err.read.get(), POLLIN, 0};
    const std::size_t in_at = in.write.get() >= 0 ? n++ : kNone;
    if (in_at != kNone) fds[in_at] = {in.write.get(), POLLOUT, 0};
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(run.deadline - now).count();
    int ready = ::poll(fds.data(), static_cast<nfds_t>(n),
                       static_cast<int>(std::min<int64_t>(wait + 1, 60000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      KillAndReap(pid);
      return core::Unavailable(Errno("poll", e));
    }
    if (in_at != kNone && fds[in_at].revents != 0) {
      if ((fds[in_at].revents & POLLOUT) != 0) {
        ssize_t w = WriteWithoutSigpipe(in.write.get(), run.input.data() + written,
                                        run.input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == run.input.size()) {
          in.write.Close();
        }
      } else {
        in.write.Close();  // the child closed its stdin (POLLERR/POLLHUP)
      }
    }
    if (out_at != kNone && fds[out_at].revents != 0) {
      ssize_t r = ::read(out.read.get(), buf.data(), buf.size());
      if (r > 0) {
        output += static_cast<std::size_t>(r);
        if (output > run.max_output_bytes) {
          KillAndReap(pid);
          return core::ResourceExhausted(run.argv[0] + " wrote more than " +
                                         std::to_string(run.max_output_bytes) + " bytes");
        }
        if (run.on_output &&
            !run.on_output(std::string_view(buf.data(), static_cast<std::size_t>(r)))) {
          KillAndReap(pid);
          return core::Unavailable("stopped by the reader");
        }
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        out.read.Close();
      }
    }
    if (err_at != kNone && fds[err_at].revents != 0) {
      ssize_t r = ::read(err.read.get(), buf.data(), buf.size());
      if (r > 0) {
        std::size_t room = kMaxStderrBytes - std::min(kMaxStderrBytes, result.stderr_text.size());
        result.stderr_text.append(buf.data(), std::min(room, static_cast<std::size_t>(r)));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        err.read.Close();
      }
    }
  }
  int status = 0;
  if (!WaitExit(pid, run.deadline, status)) {
    KillAndReap(pid);
    return core::DeadlineExceeded(run.argv[0] + " did not exit in time");
  }
  // Whatever the script left behind in its group (it has exited) goes too.
  ::kill(-pid, SIGKILL);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

}  // namespace chat::translation_service
