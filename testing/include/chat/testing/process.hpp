// Child processes for end-to-end tests and benches: spawn a binary with our environment plus
// overrides (what `./nats-chat up` does for each service), stop it with SIGTERM and a deadline,
// read its resident memory; run a shell command and capture what it prints. One implementation
// for ChatStack, PeerProcess, the benches and the tests that shell out to promtool.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace chat::testing {

// posix_spawn of argv[0] (a path) with this process's environment, `env` entries added or
// replacing ours; the child's stdout/stderr are dup'ed from the given fds (-1 = inherit).
// Returns the pid, or -1 when the spawn failed.
pid_t SpawnWithEnv(const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env, int stdout_fd, int stderr_fd);

// SIGTERM, then wait up to `timeout` for the exit (a graceful shutdown); SIGKILL after that.
// The exit code, or -1 when it had to be killed or did not exit normally.
int TerminateAndWait(pid_t pid, std::chrono::milliseconds timeout);

struct CommandResult {
  int exit_code = -1;  // -1 when the command could not run or did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs `command` with /bin/sh, `input` on its stdin (through a temp file), and captures what it
// prints.
CommandResult RunCommand(const std::string& command, const std::string& input = "");

// Resident set size in KiB from /proc/<pid>/status (pid 0 = this process); 0 when unknown.
long RssKib(pid_t pid = 0);

}  // namespace chat::testing
