# shellcheck shell=bash
# nats-chat part: the `bench` command. Google Benchmark binaries, then the load generator's
# figures when the local stack is running.

cmd_bench() {
  local json=false
  case "${1:-}" in
    "") ;;
    --json) json=true ;;
    *) die "bench: unknown option $1 (only --json)" ;;
  esac
  ensure_packages >&2
  build_preset release >&2
  local out_dir="$VAR/bench" exe name files=()
  mkdir -p "$out_dir"
  shopt -s nullglob
  for exe in "$RELEASE_BIN"/bench/*_bench; do
    [[ -x $exe ]] || continue
    name=$(basename "$exe")
    log "bench: $name" >&2
    # --benchmark_out: benches with their own main print ratio tables on stdout; the JSON goes
    # to the file whatever the console reporter does.
    "$exe" --benchmark_out="$out_dir/$name.json" --benchmark_out_format=json \
      --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
      >"$out_dir/$name.log" 2>&1 || die "$name failed (see $out_dir/$name.log)"
    files+=("$out_dir/$name.json")
  done
  shopt -u nullglob
  if [[ ${#files[@]} -eq 0 ]]; then
    if $json; then echo '{"benchmarks":{},"ratios":{},"counters":{}}'; else echo "no benchmarks built"; fi
    return 0
  fi
  # Medians of the repetitions (aggregate "median" rows; a benchmark that pins one repetition,
  # like the 30 s exporter-down run, contributes its single row); ratios pair .../baseline with
  # .../candidate of the same family; user counters (e.g. trace_overhead_ratio) pass through.
  local summary
  summary=$(jq -s '
    [ .[] | .benchmarks[] | select((.run_type == "aggregate" and .aggregate_name == "median")
        or (.run_type == "iteration" and (.repetitions // 1) <= 1)) ]
    | (map({key: .run_name, value: {real_time: .real_time, cpu_time: .cpu_time,
                                    time_unit: .time_unit}}) | from_entries) as $bench
    | (map(. as $b | ($b | to_entries
          | map(select(.key as $k | ["name","family_index","per_family_instance_index","run_name",
              "run_type","repetitions","threads","aggregate_name","aggregate_unit","iterations",
              "real_time","cpu_time","time_unit","repetition_index","label","error_occurred",
              "error_message"] | index($k) | not))
          | map(select(.value | type == "number"))
          | map({key: ($b.run_name + ":" + .key), value: .value}))) | add // [] | from_entries)
      as $counters
    | ($bench | to_entries | map(select(.key | test("/baseline(/|$)")))
       | map(.key as $k | ($k | sub("/baseline"; "/candidate")) as $c
             | select($bench[$c] != null)
             | {key: ($k | sub("/baseline"; "")),
                value: ($bench[$c].real_time / $bench[$k].real_time)})
       | from_entries) as $ratios
    | {benchmarks: $bench, ratios: $ratios, counters: $counters}' "${files[@]}")
  # The end-to-end figures of the load generator (issue 4 targets) need the running stack:
  # with it, a 1,000 msg/s latency run and a 5,000 msg/s traced-vs-untraced run are added.
  local load_json='{"skipped":"the local stack is not running (./nats-chat up)"}' stack_up=true
  for name in nats postgres dev-idp "${CHAT_SERVICES[@]}"; do
    component_pid "$name" >/dev/null || stack_up=false
  done
  if $stack_up; then
    log "bench: load generator at 1000 msg/s (latency), 5000 msg/s (--compare-tracing) and the" \
      "two fault drills at 5000 msg/s" >&2
    local latency throughput kill_persist stop_postgres
    latency=$("$ROOT/nats-chat" load --users 11 --rooms 3 --rate 1000 --duration 20 --json) ||
      latency='{"error":"load run failed"}'
    throughput=$("$ROOT/nats-chat" load --users 11 --rooms 3 --rate 5000 --duration 20 \
      --compare-tracing --json) || throughput='{"error":"load run failed"}'
    kill_persist=$("$ROOT/nats-chat" load --users 11 --rooms 3 --rate 5000 --duration 30 \
      --drill kill-persist --json 2>/dev/null) || kill_persist='{"error":"load run failed"}'
    stop_postgres=$("$ROOT/nats-chat" load --users 11 --rooms 3 --rate 5000 --duration 30 \
      --drill stop-postgres --json 2>/dev/null) || stop_postgres='{"error":"load run failed"}'
    load_json=$(jq -n --argjson l "$latency" --argjson t "$throughput" \
      --argjson k "$kill_persist" --argjson p "$stop_postgres" \
      '{latency_1000: $l, compare_tracing_5000: $t, drill_kill_persist_5000: $k,
        drill_stop_postgres_5000: $p}')
  fi
  summary=$(echo "$summary" | jq --argjson load "$load_json" '. + {load: $load}')
  if $json; then
    echo "$summary"
    return 0
  fi
  echo "$summary" | jq -r '
    "BENCHMARK (median of 5)                                    REAL         CPU",
    (.benchmarks | to_entries[] |
      "\(.key | .[0:56] | . + " " * (56 - length)) \(.value.real_time | floor) \(.value.time_unit)  \(.value.cpu_time | floor) \(.value.time_unit)"),
    "", "RATIOS (candidate / baseline, real time)",
    (.ratios | to_entries[] | "  \(.key): \(.value * 1000 | round / 1000)"),
    "", "COUNTERS",
    (.counters | to_entries[] | "  \(.key): \(.value)"),
    "", "LOAD (./nats-chat load)", (.load | tostring)'
}
