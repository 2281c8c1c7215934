# shellcheck shell=bash
# nats-chat part: what every other part uses. Logging with elapsed seconds, warn/die, the job
# count, and process bookkeeping: pid files, spawning a component, waiting for it to be healthy.

# Elapsed seconds since the command started: CI logs then show where a run spends its time.
log() { printf '==> [%5ss] %s\n' "$SECONDS" "$*"; }
warn() { printf 'nats-chat: %s\n' "$*" >&2; }
die() {
  warn "$*"
  exit 1
}

jobs_count() { nproc 2>/dev/null || echo 2; }

# Dies unless every DIR's filesystem has MIN_GIB free. Short of space, nothing fails where the
# cause is: nats-server refuses streams ("insufficient JetStream storage"), Postgres stops
# writing, the linker dies mid-file; a run then reports dozens of unrelated test failures.
require_free_space() {
  local min_gib=$1 dir avail_kib
  shift
  for dir in "$@"; do
    mkdir -p "$dir"
    avail_kib=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
    [[ $avail_kib =~ ^[0-9]+$ ]] || continue
    if ((avail_kib < min_gib * 1024 * 1024)); then
      die "only $((avail_kib / 1024)) MiB free for $dir (this needs ${min_gib} GiB: builds, JetStream and the throwaway Postgres clusters); free some space and run again"
    fi
  done
}

# ---- process bookkeeping ---------------------------------------------------------------------
pid_file() { echo "$RUN_DIR/$1.pid"; }

# Prints the pid of a live component (pid file + process alive + expected binary), else fails.
component_pid() {
  local name=$1 file pid exe
  file=$(pid_file "$name")
  [[ -f $file ]] || return 1
  pid=$(head -n1 "$file" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: the process must still be the binary we started.
  exe=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  case $name in
    nats) [[ $exe == *nats-server* ]] ;;
    postgres) [[ $exe == *postgres* ]] ;;
    telemetry-sink) [[ $exe == *telemetry-sink* ]] ;;
    dev-idp) [[ $exe == *dev-idp* ]] ;;
    nats-exporter) [[ $exe == *nats-exporter* ]] ;;
    pg-exporter) [[ $exe == *pg-exporter* ]] ;;
    prometheus) [[ $exe == *prometheus* ]] ;;
    web) [[ $exe == *nginx* ]] ;;
    *) [[ $exe == *"$name"* ]] ;;
  esac || return 1
  echo "$pid"
}

# Starts "$@" detached, logging to var/log/<name>.log, and records its pid.
spawn() {
  local name=$1
  shift
  local logf="$LOG_DIR/$name.log"
  printf '\n---- %s start %s\n' "$name" "$(date -u +%FT%TZ)" >>"$logf"
  setsid "$@" >>"$logf" 2>&1 </dev/null &
  echo $! >"$(pid_file "$name")"
  # Components outlive this script; without disown bash reports a killed one ("Killed …")
  # when a drill SIGKILLs it.
  disown $! 2>/dev/null || true
}

# Polls a check command until it succeeds or the deadline passes.
wait_healthy() {
  local name=$1
  shift
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    # Alive, not "is the expected binary": right after spawn the child may not have exec'd yet
    # (its command line is still this script's), and that is no reason to give up on it.
    if ! kill -0 "$(head -n1 "$(pid_file "$name")" 2>/dev/null || echo none)" 2>/dev/null; then
      warn "$name exited during start-up"
      break
    fi
    sleep 0.3
  done
  warn "$name did not become healthy within ${START_TIMEOUT}s; last lines of $LOG_DIR/$name.log:"
  tail -n 30 "$LOG_DIR/$name.log" >&2 || true
  return 1
}

http_ok() { curl -fsS --max-time 2 -o /dev/null "$1"; }
