# shellcheck shell=bash
# nats-chat part: race detection (`tsan`, and a stage of `test`).

# ThreadSanitizer (the `tsan` preset builds only the concurrency-heavy tests). GCC 12's TSan
# expects the address-space layout of at most 28 random mmap bits; kernels that use more (recent
# distributions set 32) make it die with "FATAL: ThreadSanitizer: unexpected memory mapping".
# Then the build (gtest discovery runs the binaries) and ctest run with randomization off.
tsan_exec() {
  local bits
  bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)
  if [[ $bits -gt 28 ]] && command -v setarch >/dev/null 2>&1; then
    setarch "$(uname -m)" -R "$@"
  else
    "$@"
  fi
}

run_tsan_stage() {
  log "build: tsan (concurrency-heavy tests only)"
  if ! (cmake --preset tsan >/dev/null && tsan_exec cmake --build --preset tsan -j "$(jobs_count)" -- -k 0); then
    warn "build of tsan failed"
    FAILED=$((FAILED + 1))
    return
  fi
  run_ctest tsan tsan_exec
}

cmd_tsan() { # only the ThreadSanitizer stage of `test`
  [[ $# -eq 0 ]] || die "tsan takes no arguments"
  ensure_packages
  mkdir -p "$LOG_DIR"
  PASSED=0
  FAILED=0
  run_tsan_stage
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
