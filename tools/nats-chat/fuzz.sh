# shellcheck shell=bash
# nats-chat part: fuzzing (`fuzz`, and a short run in `test`).

# libFuzzer targets (fuzz/, the `fuzz` preset, clang-14): each runs on a scratch corpus seeded
# from fuzz/corpus/<target>/, which also keeps every input that once crashed (regressions run
# first, every time). A crash leaves its input in var/log/fuzz/<target>-crash-*.
FUZZ_TEST_SECONDS="${NATS_CHAT_FUZZ_SECONDS:-15}"
fuzz_targets() { (cd "$ROOT/fuzz/corpus" && ls -d fuzz_* | sort); }

# Runs one target for $2 seconds on a scratch copy of its corpus; its exit code goes to
# $LOG_DIR/fuzz/<target>.rc (a missing binary is 127).
fuzz_one() {
  local t=$1 seconds=$2 bin="$ROOT/build/fuzz/fuzz/$1" out="$LOG_DIR/fuzz/$1.log" work rc=0
  if [[ ! -x $bin ]]; then
    echo 127 >"$LOG_DIR/fuzz/$t.rc"
    return
  fi
  work=$(mktemp -d /tmp/nats-chat-fuzz.XXXXXX)
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a bounded parser never needs 2 GB.
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$LOG_DIR/fuzz/$t-" "$work" "$ROOT/fuzz/corpus/$t" >"$out" 2>&1 || rc=$?
  rm -rf "$work"
  echo "$rc" >"$LOG_DIR/fuzz/$t.rc"
}

# Runs every fuzz target for $1 seconds, as many at once as there are cores (each fuzzer is one
# single-threaded process); adds one passed/failed per target to PASSED/FAILED.
run_fuzzers() {
  local seconds=$1 t out rc running=0
  mkdir -p "$LOG_DIR/fuzz"
  rm -f "$LOG_DIR"/fuzz/*.rc
  for t in $(fuzz_targets); do
    fuzz_one "$t" "$seconds" &
    running=$((running + 1))
    if [[ $running -ge $(jobs_count) ]]; then
      wait -n || true
      running=$((running - 1))
    fi
  done
  wait || true
  for t in $(fuzz_targets); do
    out="$LOG_DIR/fuzz/$t.log"
    rc=$(cat "$LOG_DIR/fuzz/$t.rc" 2>/dev/null || echo 1)
    if [[ $rc -eq 127 ]]; then
      warn "fuzz $t: no binary (build --preset fuzz failed?)"
      FAILED=$((FAILED + 1))
    elif [[ $rc -eq 0 ]]; then
      log "fuzz $t: ok ($(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$out") runs in ${seconds}s)"
      PASSED=$((PASSED + 1))
    else
      log "fuzz $t: FAILED (exit $rc; log $out)"
      grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' "$out" | head -n 20 || tail -n 30 "$out"
      FAILED=$((FAILED + 1))
    fi
  done
}

build_fuzzers() {
  log "build: fuzz (clang-14, libFuzzer + ASan + UBSan, fuzz targets only)"
  cmake --preset fuzz >/dev/null && cmake --build --preset fuzz -j "$(jobs_count)" -- -k 0
}

cmd_fuzz() {
  local seconds=300
  while [[ $# -gt 0 ]]; do
    case $1 in
      --seconds)
        [[ ${2:-} =~ ^[0-9]+$ ]] || die "fuzz: --seconds needs a number"
        seconds=$2
        shift 2
        ;;
      *) die "fuzz: unknown option $1 (only --seconds N)" ;;
    esac
  done
  ensure_packages
  mkdir -p "$LOG_DIR"
  PASSED=0
  FAILED=0
  if build_fuzzers; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    run_fuzzers "$seconds"
  else
    warn "build of fuzz failed"
    FAILED=$((FAILED + 1))
  fi
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
