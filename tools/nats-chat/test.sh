# shellcheck shell=bash
# nats-chat part: the `test` command. Its stages in order, and counting the results of ctest and
# the node test runners into PASSED/FAILED. Fuzzing, TSan and the browser stack have their own
# parts (fuzz.sh, tsan.sh, browser.sh).

# Runs ctest for a preset; adds its counts to PASSED/FAILED.
# Further arguments are a command to run ctest under (run_tsan_stage passes tsan_exec).
run_ctest() {
  local preset=$1 out="$LOG_DIR/ctest-$1.log" total failed rc=0
  shift
  log "ctest --preset $preset"
  "$@" ctest --preset "$preset" -j "$(jobs_count)" 2>&1 | tee "$out" || rc=$?
  total=$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/p' "$out" | tail -n1)
  failed=$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/p' "$out" | tail -n1)
  if [[ -z $total ]]; then
    if grep -q 'No tests were found' "$out"; then
      total=0 failed=0
    else
      # ctest itself failed (no summary line): count the whole run as one failure.
      total=1 failed=1
    fi
  fi
  if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1 total=$((total + 1)); fi
  PASSED=$((PASSED + total - failed))
  FAILED=$((FAILED + failed))
}

# Adds the counts of a node test runner's log (vitest, node:test, Playwright) to PASSED/FAILED;
# a non-zero exit with no failure counted is one failure.
count_node_results() {
  local out=$1 rc=$2 passed=0 failed=0 line plain
  # Runners colour their summary when they think a terminal is there: read it without escapes.
  plain=$(mktemp)
  sed -E 's/\x1b\[[0-9;]*m//g' "$out" >"$plain"
  out=$plain
  line=$(grep -E '^[[:space:]]*Tests[[:space:]]+.*\(' "$out" | tail -n1 || true)
  if [[ -n $line ]]; then # vitest: "Tests  2 failed | 40 passed (42)"
    passed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$line")
    failed=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
  elif grep -qE '^(#|ℹ) (pass|fail) [0-9]+' "$out"; then # node:test (tap or spec reporter)
    passed=$(sed -nE 's/^(#|ℹ) pass ([0-9]+)/\2/p' "$out" | tail -n1)
    failed=$(sed -nE 's/^(#|ℹ) fail ([0-9]+)/\2/p' "$out" | tail -n1)
  else # Playwright's list reporter: "  5 passed (40s)", "  1 failed", "  1 flaky"
    passed=$(sed -nE 's/^[[:space:]]+([0-9]+) passed.*/\1/p' "$out" | tail -n1)
    failed=$(sed -nE 's/^[[:space:]]+([0-9]+) (failed|flaky).*/\1/p' "$out" | awk '{ n += $1 } END { print n + 0 }')
  fi
  rm -f "$plain"
  passed=${passed:-0}
  failed=${failed:-0}
  if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi
  PASSED=$((PASSED + passed))
  FAILED=$((FAILED + failed))
  log "$(basename "$1" .log): $passed passed, $failed failed"
}

# Runs `npm run SCRIPT` in a node project (npm ci first when its lock changed) and counts.
run_node_suite() {
  local name=$1 dir=$2 script=$3 out="$LOG_DIR/$1.log" rc=0
  shift 3
  if [[ ! -f $dir/package.json ]]; then
    warn "$name: $dir/package.json missing"
    FAILED=$((FAILED + 1))
    return
  fi
  if ! npm_ci_if_needed "$dir" >"$LOG_DIR/$name-npm-ci.log" 2>&1; then
    cat "$LOG_DIR/$name-npm-ci.log"
    warn "$name: npm ci failed"
    FAILED=$((FAILED + 1))
    return
  fi
  log "$name: npm run $script"
  (cd "$dir" && env FORCE_COLOR=0 "$@" npm run --silent "$script") 2>&1 | tee "$out" || rc=$?
  count_node_results "$out" "$rc"
}

cmd_test() {
  [[ $# -eq 0 ]] || die "test takes no arguments"
  ensure_packages
  # Four builds (asan, fuzz, tsan, the browser stack's) and the tests' temp clusters.
  require_free_space 6 "$ROOT" "${TMPDIR:-/tmp}"
  mkdir -p "$LOG_DIR"
  PASSED=0
  FAILED=0
  local build_ok=true
  # Offline checks first: they are cheap and independent of the build.
  run_offline_checks
  # Every test runs once, on the ASan + UBSan build: a plain debug run of the same tests would
  # find nothing this one misses and cost a third of the time budget (build and run).
  if ! build_preset asan; then
    warn "build of asan failed"
    FAILED=$((FAILED + 1))
    build_ok=false
  fi
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  if $build_ok; then
    run_ctest asan
  fi
  run_check cpp-tidy check_cpp_tidy
  # Fuzzing and race detection: their own builds, so a failure there does not hide the rest.
  if build_fuzzers; then
    run_fuzzers "$FUZZ_TEST_SECONDS"
  else
    warn "build of fuzz failed"
    FAILED=$((FAILED + 1))
  fi
  run_tsan_stage
  run_node_suite web-unit "$WEB_DIR" test
  run_node_suite deploy-configs "$ROOT/deploy/grafana" test
  if $build_ok; then
    run_stack_suites
  fi
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
