# chat_stack_test(TARGET): wires an end-to-end test that runs testing/e2e/chat_stack.hpp's
# ChatStack — the binaries of the identity provider and the chat core as compile definitions
# (read by ChatStackBinaries::FromBuild()), the testing/e2e headers, and a build dependency on
# every process the stack starts. CHAT_STACK_TARGETS lists them; chat_stack_ready(VAR) sets VAR
# to TRUE only when each of them exists in this build.
set(CHAT_STACK_TARGETS dev-idp auth-service room-service fanout-service persist-worker
  history-service presence-service read-receipt-service telemetry-sink)

function(chat_stack_ready out_var)
  set(ready TRUE)
  foreach(t ${CHAT_STACK_TARGETS} chat_client)
    if(NOT TARGET ${t})
      set(ready FALSE)
    endif()
  endforeach()
  set(${out_var} ${ready} PARENT_SCOPE)
endfunction()

function(chat_stack_test target)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/testing/e2e)
  target_compile_definitions(${target} PRIVATE
    CHAT_DEV_IDP_BIN="$<TARGET_FILE:dev-idp>"
    CHAT_AUTH_BIN="$<TARGET_FILE:auth-service>"
    CHAT_ROOM_BIN="$<TARGET_FILE:room-service>"
    CHAT_FANOUT_BIN="$<TARGET_FILE:fanout-service>"
    CHAT_PERSIST_BIN="$<TARGET_FILE:persist-worker>"
    CHAT_HISTORY_BIN="$<TARGET_FILE:history-service>"
    CHAT_PRESENCE_BIN="$<TARGET_FILE:presence-service>"
    CHAT_READ_RECEIPT_BIN="$<TARGET_FILE:read-receipt-service>")
  add_dependencies(${target} ${CHAT_STACK_TARGETS})
endfunction()
