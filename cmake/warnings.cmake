# Warnings are errors for our own targets only; third-party headers come in as SYSTEM.
add_library(chat_warnings INTERFACE)
target_compile_options(chat_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough -Werror)
