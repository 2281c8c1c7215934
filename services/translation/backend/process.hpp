// One child process run to completion with bounds: started with posix_spawnp from an argv (no
// shell), in its own process group, stdin fed from a buffer, stdout streamed to a sink as it
// arrives, stderr kept (first 2 KiB) for the error message. Past the deadline, past the output
// bound or when the sink says stop, the whole group gets SIGKILL and the child is reaped.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"

namespace chat::translation_service {

struct ProcessRun {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no '/'
  std::string_view input;
  std::chrono::steady_clock::time_point deadline;
  std::size_t max_output_bytes = 32768;
  std::function<bool(std::string_view)> on_output;  // false = stop (cancelled)
};

struct ProcessExit {
  int exit_code = 0;  // when exited normally
  int signal = 0;     // when killed by a signal
  std::string stderr_text;
};

// Errors: unavailable (cannot start: no such program, no pipes), deadline_exceeded,
// resource_exhausted (output over the bound), unavailable (on_output returned false). The child
// is always reaped before this returns.
core::Result<ProcessExit> RunProcess(const ProcessRun& run);

}  // namespace chat::translation_service
