# shellcheck shell=bash
# nats-chat part: the offline checks (`check`, and the first stage of `test`): promtool, grep
# lints, script syntax, the layering check.

# Grep lints from docs/style.md rules 6 and 14. Each prints offending lines and fails.
lint_no_sleep_in_tests() {
  local hits
  hits=$(grep -rnE 'sleep_for|(^|[^_a-zA-Z])sleep\(' --include='*.cpp' --include='*.hpp' \
    --include='*.h' --include='*.cc' libs services tools testing bench 2>/dev/null |
    grep -E '(/test/|_test\.|^testing/)' |
    grep -v '^testing/include/chat/testing/wait_for.hpp:' || true)
  if [[ -n $hits ]]; then
    echo "$hits"
    return 1
  fi
}

lint_semconv_literals() {
  local hits
  hits=$(grep -rnE '"traceparent|"messaging\.|"db\.' --include='*.cpp' --include='*.hpp' \
    --include='*.h' --include='*.cc' libs services tools testing bench 2>/dev/null |
    grep -vE '^(libs/natsx|libs/pg|libs/telemetry|tools/telemetry-sink)/' || true)
  if [[ -n $hits ]]; then
    echo "$hits"
    return 1
  fi
}

check_prometheus_config() {
  local tmp rc=0
  tmp=$(mktemp -d)
  render_prometheus_config "$tmp/prometheus.yml"
  promtool check config "$tmp/prometheus.yml" || rc=$?
  rm -rf "$tmp"
  return $rc
}

check_prometheus_rules() {
  promtool check rules "$ROOT"/deploy/local/rules/*.yaml "$ROOT/deploy/prometheus/rules/chat.yaml"
}

# The promtool unit tests of observability.md §9.3 (every alert fires and stays silent as listed).
check_prometheus_rule_tests() { promtool test rules "$ROOT"/deploy/prometheus/tests/*.yaml; }

# The entry point, each of its parts and the CI script.
check_scripts_syntax() {
  local f
  for f in "$ROOT/nats-chat" "$ROOT"/tools/nats-chat/*.sh "$ROOT/.ci/run"; do
    bash -n "$f" || return 1
  done
}
# style.md §2 dependency direction (tools/layering/README.md); the self-test proves it can fail.
check_layering() {
  node "$ROOT/tools/layering/check.mjs" && node "$ROOT/tools/layering/check.mjs" --self-test
}
# Every service README has the same H2 skeleton and a routes table (tools/docs/README.md).
check_service_readmes() { local c="$ROOT/tools/docs/check-service-readmes.mjs"; node "$c" && node "$c" --self-test; }

run_check() {
  local name=$1
  shift
  if "$@" >"$LOG_DIR/check-$name.log" 2>&1; then
    log "check $name: ok"
    PASSED=$((PASSED + 1))
  else
    log "check $name: FAILED"
    cat "$LOG_DIR/check-$name.log"
    FAILED=$((FAILED + 1))
  fi
}

# The offline checks: cheap, independent of the build; `check` and `test` both run them.
run_offline_checks() {
  run_check prometheus-config check_prometheus_config
  run_check prometheus-rules check_prometheus_rules
  run_check prometheus-rule-tests check_prometheus_rule_tests
  run_check no-sleep-in-tests lint_no_sleep_in_tests
  run_check semconv-literals lint_semconv_literals
  run_check script-syntax check_scripts_syntax
  run_check layering check_layering
  run_check service-readmes check_service_readmes
  run_check cpp-format "$ROOT/tools/lint/cpp.sh" format-check
  run_check web-eslint web_check lint
  run_check web-prettier web_check format:check
}

# clang-tidy over every tracked unit of the asan build's compile database (tools/lint/tidy.mjs,
# cached per preprocessed unit). It needs the configured build and the protoc outputs that a
# bench includes, not a compiled tree; `test` runs it after the asan build.
check_cpp_tidy() {
  cmake --preset asan >/dev/null &&
    cmake --build --preset asan --target otlp_proto_sources >/dev/null &&
    node "$ROOT/tools/lint/tidy.mjs" --build "$ROOT/build/asan" --jobs "$(jobs_count)"
}

cmd_check() { # the offline part of `test` (no build: clang-tidy only configures)
  mkdir -p "$LOG_DIR"
  PASSED=0
  FAILED=0
  run_offline_checks
  run_check cpp-tidy check_cpp_tidy
  run_node_suite deploy-configs "$ROOT/deploy/grafana" test
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
