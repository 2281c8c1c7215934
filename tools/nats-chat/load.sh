# shellcheck shell=bash
# nats-chat part: the `load` command. The load generator against the running stack, with the
# services restarted for the run and, with --drill, a fault injected during it.

# CPU seconds (user + system) used so far by the running chat services.
services_cpu_seconds() {
  local name pid ticks=0 hz
  hz=$(getconf CLK_TCK)
  for name in "${CHAT_SERVICES[@]}"; do
    pid=$(component_pid "$name") || continue
    ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.3f", t / hz }'
}

# Restarts every chat service with SERVICE_EXTRA_ENV="$1".
restart_services() {
  SERVICE_EXTRA_ENV=$1
  local name
  for name in "${CHAT_SERVICES[@]}"; do stop_component "$name" >/dev/null; done
  for name in "${CHAT_SERVICES[@]}"; do
    start_service "$name" || die "$name did not restart (see $LOG_DIR/$name.log)"
  done
}

# Messages the persist-worker consumer still has to process (pending + unacknowledged), from
# nats-server's monitoring endpoint; empty when it cannot be read.
persist_backlog() {
  curl -fsS --max-time 3 "http://$HOST:$NATS_MONITOR_PORT/jsz?consumers=true&accounts=true" |
    jq '[.account_details[]?.stream_detail[]? | select(.name == "CHAT_MESSAGES")
         | .consumer_detail[]? | select(.name == "persist-worker")
         | .num_pending + .num_ack_pending] | add // 0' 2>/dev/null
}

# Waits (bounded) until persist-worker has caught up, so one phase's backlog does not count
# against the next.
wait_persist_backlog() {
  local deadline=$((SECONDS + ${1:-180})) backlog
  while ((SECONDS < deadline)); do
    backlog=$(persist_backlog)
    [[ $backlog == 0 ]] && return 0
    sleep 1
  done
  warn "persist-worker still has a backlog of ${backlog:-?} messages"
}

# The fault of `load --drill`, run beside chat-load: waits for its "sending started" line, then
# SIGKILLs persist-worker (restarted after the outage) or stops Postgres for the outage. Each
# step is appended to $5 with a timestamp; the load's JSON carries them.
run_drill() {
  local drill=$1 at=$2 outage=$3 err=$4 events=$5
  event() { echo "$(date -u +%H:%M:%S.%3N) $*" >>"$events"; }
  local deadline=$((SECONDS + 180))
  until grep -q "sending started" "$err" 2>/dev/null; do
    ((SECONDS < deadline)) || { event "chat-load never started sending: no fault injected"; return 1; }
    sleep 0.2
  done
  event "sending started; fault in ${at}s"
  sleep "$at"
  case $drill in
    kill-persist)
      local pid
      pid=$(component_pid persist-worker) || { event "persist-worker is not running"; return 1; }
      kill -KILL "$pid"
      event "persist-worker pid $pid killed with SIGKILL; restart in ${outage}s"
      sleep "$outage"
      start_service persist-worker >/dev/null || { event "persist-worker did not restart"; return 1; }
      event "persist-worker restarted (pid $(component_pid persist-worker))"
      ;;
    stop-postgres)
      stop_component postgres >/dev/null
      event "postgres stopped; start in ${outage}s"
      sleep "$outage"
      start_postgres >/dev/null || { event "postgres did not start"; return 1; }
      event "postgres started (pid $(component_pid postgres))"
      ;;
  esac
}

# One load phase: runs chat-load, adds the services' CPU seconds and the throughput figures.
load_phase() {
  local phase=$1 out=$2
  shift 2
  wait_persist_backlog 180
  local cpu0 cpu1
  cpu0=$(services_cpu_seconds)
  : >"$out.err"
  : >"$out.drill"
  local drill_pid=""
  if [[ -n ${DRILL:-} ]]; then
    run_drill "$DRILL" "$DRILL_AT" "$DRILL_OUTAGE" "$out.err" "$out.drill" &
    drill_pid=$!
  fi
  "$RELEASE_BIN/tools/chat-load/chat-load" --json --phase "$phase" --db "$PG_DSN" \
    --idp "$IDP_ISSUER" --auth "http://$HOST:$AUTH_HTTP_PORT" --nats "nats://$HOST:$NATS_PORT" \
    "$@" >"$out.raw" 2> >(tee -a "$out.err" >&2) || true
  if [[ -n $drill_pid ]]; then
    wait "$drill_pid" || warn "the drill did not complete (see its events in the output)"
  fi
  cpu1=$(services_cpu_seconds)
  jq --argjson cpu "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.3f", b - a }')" \
    --arg drill "${DRILL:-}" --rawfile events "$out.drill" '
    . + (if $drill == "" then {} else
         {drill: {name: $drill, events: ($events | split("\n") | map(select(. != "")))}} end)
      + {services_cpu_seconds: $cpu}
      + (if .scenario == "apps" then
           {requests_per_service_cpu_second: (if $cpu > 0 then .ok / $cpu else null end)}
         else
           {delivered_per_s: (.delivered_to_sender / .duration_s),
            persisted_per_s: (.persisted / .duration_s),
            messages_per_service_cpu_second: (if $cpu > 0 then .persisted / $cpu else null end)}
         end)' \
    "$out.raw" >"$out" || die "chat-load produced no JSON (see $out.raw)"
}

# The load generator against the running local stack. The services are restarted with a rate
# limit that does not throttle the run (and, for --compare-tracing, once more with the SDK
# disabled), then restored to their normal settings.
cmd_load() {
  local compare=false json=false args=() a drill="" drill_at=10 drill_outage="" scenario=chat
  while (($#)); do
    a=$1
    shift
    case $a in
      --compare-tracing) compare=true ;;
      --scenario)
        (($#)) || die "--scenario needs chat or apps"
        scenario=$1
        args+=(--scenario "$1")
        shift
        ;;
      --json) json=true ;;
      --drill | --drill-at | --drill-outage)
        (($#)) || die "$a needs a value"
        case $a in
          --drill) drill=$1 ;;
          --drill-at) drill_at=$1 ;;
          --drill-outage) drill_outage=$1 ;;
        esac
        shift
        ;;
      *) args+=("$a") ;;
    esac
  done
  case $drill in
    "") ;;
    kill-persist) drill_outage=${drill_outage:-5} ;;
    stop-postgres) drill_outage=${drill_outage:-10} ;;
    *) die "--drill must be kill-persist or stop-postgres, not '$drill'" ;;
  esac
  [[ $drill_at =~ ^[0-9]+$ && ${drill_outage:-0} =~ ^[0-9]+$ ]] ||
    die "--drill-at and --drill-outage take whole seconds"
  [[ -n $drill ]] && $compare && die "--drill and --compare-tracing are separate runs"
  [[ $scenario == chat || $scenario == apps ]] || die "--scenario must be chat or apps"
  [[ $scenario == apps ]] && { $compare || [[ -n $drill ]]; } &&
    die "--compare-tracing and --drill measure the chat scenario"
  # A drill's backlog (messages queued in the stream during the outage) must be given time to
  # land before rows are counted; chat-load stops waiting as soon as every row is there.
  [[ -n $drill ]] && args=(--drain 120 "${args[@]}")
  [[ -x $RELEASE_BIN/tools/chat-load/chat-load ]] || die "chat-load not built: run ./nats-chat up"
  local name
  for name in nats postgres dev-idp "${CHAT_SERVICES[@]}"; do
    component_pid "$name" >/dev/null || die "$name is not running: run ./nats-chat up first"
  done
  local tmp
  tmp=$(mktemp -d)
  local base="CHAT_FANOUT_RATE_LIMIT_PER_MINUTE=1000000 ${NATS_CHAT_SERVICE_ENV:-}"
  trap "restart_services '' >/dev/null 2>&1 || true; rm -rf '$tmp'" EXIT
  log "load: restarting the chat services without a rate limit (tracing on)" >&2
  restart_services "$base" >/dev/null
  DRILL=$drill DRILL_AT=$drill_at DRILL_OUTAGE=$drill_outage \
    load_phase traced "$tmp/traced.json" "${args[@]}"
  local result="$tmp/traced.json"
  if $compare; then
    log "load: restarting the chat services with OTEL_SDK_DISABLED=true" >&2
    restart_services "$base OTEL_SDK_DISABLED=true" >/dev/null
    load_phase untraced "$tmp/untraced.json" "${args[@]}"
    jq -s '{traced: .[0], untraced: .[1],
            throughput_ratio: (if .[1].persisted_per_s > 0
                               then .[0].persisted_per_s / .[1].persisted_per_s else null end),
            cpu_efficiency_ratio: (if (.[1].messages_per_service_cpu_second // 0) > 0
                                   then .[0].messages_per_service_cpu_second
                                        / .[1].messages_per_service_cpu_second else null end)}' \
      "$tmp/traced.json" "$tmp/untraced.json" >"$tmp/compare.json"
    result="$tmp/compare.json"
  fi
  log "load: restoring the chat services' normal settings" >&2
  if $json; then
    jq -c . "$result"
  elif [[ $scenario == apps ]]; then
    jq -r '"apps: \(.sessions) sessions in \(.rooms) rooms, \(.rate_target) req/s for \(.duration_s) s",
           "  requests \(.sent), ok \(.ok) (\(.ok_per_s|floor)/s), errors \(.errors)",
           "  due→reply ms p50 \(.latency_ms.p50 // "-"|tostring|.[0:6]) p95 \(.latency_ms.p95 // "-"|tostring|.[0:6]) p99 \(.latency_ms.p99 // "-"|tostring|.[0:6]) (votes p99 \(.vote.latency_ms.p99 // "-"|tostring|.[0:6]), deltas p99 \(.delta.latency_ms.p99 // "-"|tostring|.[0:6]))",
           "  due→own sync ms p50 \(.sync_ms.p50 // "-"|tostring|.[0:6]) p99 \(.sync_ms.p99 // "-"|tostring|.[0:6])",
           "  lost: votes \(.lost_votes), elements \(.lost_elements), syncs \(.lost_syncs)",
           "  services cpu s \(.services_cpu_seconds), ok requests per service cpu s \(.requests_per_service_cpu_second|floor)",
           (.problems[] | "  problem: \(.)")' "$result"
  else
    jq -r 'def row(p): [p.phase // "run", p.sent, p.delivered_to_sender, p.persisted,
             p.lost_persist, p.duplicated, (p.persisted_per_s|floor),
             (p.delivered_ms.p50 // 0 |.*10|round/10), (p.delivered_ms.p95 // 0 |.*10|round/10),
             (p.delivered_ms.p99 // 0 |.*10|round/10), (p.persisted_ms.p50 // 0 |.*10|round/10),
             (p.persisted_ms.p99 // 0 |.*10|round/10), p.services_cpu_seconds] | @tsv;
           "phase\tsent\tdelivered\tpersisted\tlost\tdup\tpersisted/s\tdeliv p50 ms\tp95\tp99\tpersist p50 ms\tp99\tservices cpu s",
           (if .traced then row(.traced), row(.untraced),
              "throughput ratio traced/untraced: \(.throughput_ratio)",
              "CPU efficiency ratio traced/untraced: \(.cpu_efficiency_ratio)"
            else row(.) end)' "$result" | column -t -s $'\t'
    jq -r 'select(.drill) | "drill \(.drill.name):", (.drill.events[] | "  \(.)")' "$result"
  fi
}
