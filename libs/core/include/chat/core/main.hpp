// The one way a tool's main() ends on an exception (clang-tidy bugprone-exception-escape): what
// escapes the body is reported on stderr and the process exits 1, instead of std::terminate.
//
//   int main(int argc, char** argv) {
//     return chat::core::RunMain([&] { return Run(argc, argv); });
//   }
#pragma once

#include <cstdio>
#include <exception>

namespace chat::core {

template <typename F>
int RunMain(F&& run) noexcept {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fatal: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "fatal: unknown exception\n");
  }
  return 1;
}

}  // namespace chat::core
