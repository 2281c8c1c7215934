# shellcheck shell=bash
# nats-chat part: the browser suite of `test` (and `browser-test`): a second stack on shifted
# ports, Playwright against it, then the attacker's probes.

# Prints those of the given loopback ports that something listens on.
busy_ports() {
  local p busy=()
  for p in "$@"; do
    if (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null; then busy+=("$p"); fi
  done
  echo "${busy[*]}"
}

# The suites that need the whole stack with a browser: a second stack on ports shifted by 20000
# with its own state in a temp dir, running the asan build that ctest has just tested (no
# extra compile), the web client built once. It is always taken down again.
TEST_STACK_OFFSET=20000
# The browser stack runs the binaries the ctest stage just tested (sanitizers included).
TEST_STACK_PRESET=asan
run_stack_suites() {
  local var rc=0
  var=$(mktemp -d /tmp/nats-chat-test-stack.XXXXXX)
  chmod 755 "$var" # postgres runs as its own user under it
  local stack_env=(NATS_CHAT_VAR_DIR="$var" NATS_CHAT_PORT_OFFSET=$TEST_STACK_OFFSET
    NATS_CHAT_BIN_DIR="$ROOT/build/$TEST_STACK_PRESET" NATS_CHAT_SKIP_BUILD=1)
  log "test stack: up (offset $TEST_STACK_OFFSET, state in $var)"
  local busy
  busy=$(busy_ports $((4222 + TEST_STACK_OFFSET)) $((5433 + TEST_STACK_OFFSET)) \
    $((4318 + TEST_STACK_OFFSET)) $((8080 + TEST_STACK_OFFSET)) $((9090 + TEST_STACK_OFFSET)) \
    $((3000 + TEST_STACK_OFFSET)) $((9401 + TEST_STACK_OFFSET)))
  if [[ -n $busy ]]; then
    warn "test stack: ports already in use: $busy (another stack with NATS_CHAT_PORT_OFFSET=$TEST_STACK_OFFSET? stop it first)"
    FAILED=$((FAILED + 1))
    rm -rf "$var"
    return
  fi
  if ! build_web >"$LOG_DIR/web-build.log" 2>&1; then
    cat "$LOG_DIR/web-build.log"
    warn "web client build failed"
    FAILED=$((FAILED + 1))
  elif ! env "${stack_env[@]}" "$ROOT/nats-chat" up >"$LOG_DIR/test-stack-up.log" 2>&1; then
    cat "$LOG_DIR/test-stack-up.log"
    warn "test stack did not come up (logs: $var/log)"
    FAILED=$((FAILED + 1))
  else
    local o=$TEST_STACK_OFFSET
    # The stack's own settings too: the specs run `./nats-chat chat` against this stack.
    run_node_suite web-e2e "$WEB_DIR/e2e" e2e "${stack_env[@]}" WEB_URL="http://$HOST:$((3000 + o))" \
      SINK_URL="http://$HOST:$((4318 + o))" PROMETHEUS_URL="http://$HOST:$((9090 + o))" \
      NATS_URL="nats://$HOST:$((4222 + o))" NATS_CREDS="$var/nats/creds/dev-admin.creds" \
      PG_DSN="postgresql://$PG_SUPERUSER@$HOST:$((5433 + o))/$PG_DB" \
      PGPASSFILE="$var/pg-secrets/superuser.pgpass" \
      E2E_OUTPUT_DIR="$LOG_DIR/web-e2e" CHROMIUM_PATH="$(command -v chromium || true)"
    # Last: its password-guessing probe spends the IdP's per-address login budget.
    run_probes "${stack_env[@]}"
  fi
  env "${stack_env[@]}" "$ROOT/nats-chat" down >"$LOG_DIR/test-stack-down.log" 2>&1 || rc=$?
  # Keep the stack's component logs beside the test logs (they name what a failure was).
  rm -rf "$LOG_DIR/test-stack"
  cp -r "$var/log" "$LOG_DIR/test-stack" 2>/dev/null || true
  if [[ $rc -eq 0 ]]; then
    rm -rf "$var"
  else
    warn "test stack did not stop cleanly (state kept in $var)"
  fi
}

# `./nats-chat probe` against the stack given by the environment $@; adds its counts.
run_probes() {
  local out="$LOG_DIR/probes.log" rc=0 passed failed
  log "probes: the attacker's probes of issue 11"
  env "$@" "$ROOT/nats-chat" probe 2>&1 | tee "$out" || rc=$?
  passed=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p' "$out" | tail -n1)
  failed=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p' "$out" | tail -n1)
  if [[ -z $passed ]]; then passed=0 failed=1; fi
  if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi
  PASSED=$((PASSED + passed))
  FAILED=$((FAILED + failed))
}

cmd_browser_test() { # only the browser suite of `test`, on the asan build already there
  [[ $# -eq 0 ]] || die "browser-test takes no arguments"
  [[ -x $ROOT/build/$TEST_STACK_PRESET/services/fanout/fanout-service ]] ||
    die "no $TEST_STACK_PRESET build: run ./nats-chat test once (or cmake --build --preset $TEST_STACK_PRESET)"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  mkdir -p "$LOG_DIR"
  PASSED=0
  FAILED=0
  run_stack_suites
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
