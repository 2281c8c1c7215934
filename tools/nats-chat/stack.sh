# shellcheck shell=bash
# nats-chat part: the stack commands. `up` (build, start every component in order, summary),
# `down` (stop in reverse order) and `status`.

cmd_up() {
  [[ $# -eq 0 ]] || die "up takes no arguments"
  ensure_packages
  require_free_space 3 "$ROOT" "${TMPDIR:-/tmp}"
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  local failed=() name pid rc
  # Keep going on a failed build: components whose binaries exist still start, and the
  # failure is reported (and makes `up` exit non-zero) at the end.
  if [[ $SKIP_BUILD != 1 ]] && ! build_preset release; then
    warn "release build failed; starting the components that were built"
    failed+=("build")
  fi
  if [[ $SKIP_BUILD != 1 ]] && ! build_web; then
    warn "web client build failed"
    failed+=("web-build")
  fi
  for name in "${COMPONENTS[@]}"; do
    if pid=$(component_pid "$name") && ! binary_rebuilt "$name"; then
      log "$name: already running (pid $pid)"
    else
      # A binary built after its process started (a pull, then `up`) would keep serving the old
      # code: restarted, like a component that was not running.
      [[ -n ${pid:-} ]] && { log "$name: rebuilt since it started; restarting"; stop_component "$name"; }
      log "$name: starting"
      # A subshell with errexit on: any failing step stops this component only.
      set +e
      (set -e; start_component "$name")
      rc=$?
      set -e
      if [[ $rc -ne 0 ]]; then
        failed+=("$name")
        continue
      fi
    fi
    if [[ $name == postgres ]]; then
      set +e
      (set -e; migrate_db)
      rc=$?
      set -e
      [[ $rc -eq 0 ]] || failed+=("db-migrate")
    fi
  done
  print_summary
  if [[ ${#failed[@]} -gt 0 ]]; then
    warn "FAILED: ${failed[*]} (logs under $LOG_DIR/)"
    exit 1
  fi
}

print_summary() {
  echo
  printf '%-16s %-8s %s\n' COMPONENT STATE URL
  local name pid
  for name in "${COMPONENTS[@]}"; do
    if pid=$(component_pid "$name"); then
      printf '%-16s %-8s %s\n' "$name" "up" "$(component_url "$name")"
    else
      printf '%-16s %-8s %s\n' "$name" "DOWN" "$(component_url "$name")"
    fi
  done
  cat <<EOF

  >>> Open the chat:  http://$HOST:$WEB_PORT/   (log in as alice / alice123; bob / bob123 in a
      second browser profile or private window sees the messages live)

  telemetry sink UI   http://$HOST:$SINK_PORT/
  Prometheus          http://$HOST:$PROMETHEUS_PORT/
  NATS client         nats://$HOST:$NATS_PORT  (creds: $VAR/nats/creds/dev-admin.creds)
  NATS websocket      ws://$HOST:$NATS_WS_PORT
  NATS monitoring     http://$HOST:$NATS_MONITOR_PORT/
  Postgres            $PG_DSN  (scram: PGPASSFILE=$PGPASSFILE)

  Identity provider   $IDP_ISSUER  (login page: $IDP_ISSUER/protocol/openid-connect/auth)

Seeded logins (docs/system.md §2.6), served by the development identity provider. A token by
hand:
  curl -s -d grant_type=password -d client_id=nats-chat-app -d username=alice -d password=alice123 \
    $IDP_ISSUER/protocol/openid-connect/token
  alice/alice123 (admin, user)   bob/bob123 (user)         charlie/charlie123 (no role)
  diana/diana123 (admin, user)   evan/evan123 (user)       fiona/fiona123 (user)
  george/george123 (user)        hannah/hannah123 (user)   ivan/ivan123 (user)
  julia/julia123 (admin, user)   kevin/kevin123 (user)     laura/laura123 (user)
  mike/mike123 (no role)
EOF
}

# True when the project built `name`'s binary after its running process was spawned (the pid
# file is written at spawn). Components from Debian packages (nats, postgres, prometheus, web)
# have no project binary and are never "rebuilt".
binary_rebuilt() {
  local bin
  bin=$(component_binary "$1") || return 1
  [[ $bin -nt $(pid_file "$1") ]]
}

stop_component() {
  local name=$1 pid sig=TERM
  if ! pid=$(component_pid "$name"); then
    rm -f "$(pid_file "$name")"
    return 0
  fi
  # Postgres: SIGINT is its "fast" shutdown (SIGTERM would wait for every client to leave).
  [[ $name == postgres ]] && sig=INT
  log "$name: stopping pid $pid"
  kill "-$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$name did not stop in 20s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$name")"
}

cmd_down() {
  local wipe=false
  case "${1:-}" in
    "") ;;
    --wipe) wipe=true ;;
    *) die "down: unknown option $1 (only --wipe)" ;;
  esac
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    stop_component "${COMPONENTS[i]}"
  done
  if $wipe; then
    log "wiping var/"
    rm -rf "$VAR"
  fi
}

cmd_status() {
  local json=false
  case "${1:-}" in
    "") ;;
    --json) json=true ;;
    *) die "status: unknown option $1 (only --json)" ;;
  esac
  local name pid
  if $json; then
    local first=true
    printf '{"components":['
    for name in "${COMPONENTS[@]}"; do
      $first || printf ','
      first=false
      if pid=$(component_pid "$name"); then
        printf '{"name":"%s","running":true,"pid":%s,"url":"%s"}' "$name" "$pid" "$(component_url "$name")"
      else
        printf '{"name":"%s","running":false,"pid":null,"url":"%s"}' "$name" "$(component_url "$name")"
      fi
    done
    printf '],"ports":{"nats":%s,"nats_websocket":%s,"nats_monitoring":%s,"postgres":%s,' \
      "$NATS_PORT" "$NATS_WS_PORT" "$NATS_MONITOR_PORT" "$PG_PORT"
    printf '"telemetry_sink":%s,"dev_idp":%s,"nats_exporter":%s,"pg_exporter":%s,"prometheus":%s}}\n' \
      "$SINK_PORT" "$IDP_PORT" "$NATS_EXPORTER_PORT" "$PG_EXPORTER_PORT" "$PROMETHEUS_PORT"
    return 0
  fi
  printf '%-16s %-8s %-8s %s\n' COMPONENT STATE PID URL
  for name in "${COMPONENTS[@]}"; do
    if pid=$(component_pid "$name"); then
      printf '%-16s %-8s %-8s %s\n' "$name" running "$pid" "$(component_url "$name")"
    else
      printf '%-16s %-8s %-8s %s\n' "$name" stopped - "$(component_url "$name")"
    fi
  done
}
