# shellcheck shell=bash
# nats-chat part: acting on the running stack as a user (`chat`) and as an attacker (`probe`).

# The attacker's probes of issue 11 against the running stack (tools/probes/attack-probes.sh).
cmd_probe() {
  [[ $# -eq 0 ]] || die "probe takes no arguments"
  local cli="$RELEASE_BIN/tools/chat-cli/chat-cli" name port ports=""
  [[ -x $cli ]] || die "chat-cli not built ($cli): run ./nats-chat up first"
  for name in "${CHAT_SERVICES[@]}"; do
    component_pid "$name" >/dev/null || continue
    ports+="$name:$(service_port "$name") "
  done
  ports+="dev-idp:$IDP_METRICS_PORT nats-exporter:$NATS_EXPORTER_PORT pg-exporter:$PG_EXPORTER_PORT"
  HOST=$HOST NATS_PORT=$NATS_PORT WEB_PORT=$WEB_PORT SINK_PORT=$SINK_PORT \
    PROMETHEUS_PORT=$PROMETHEUS_PORT IDP_ISSUER=$IDP_ISSUER AUTH_HTTP_PORT=$AUTH_HTTP_PORT \
    PG_PORT=$PG_PORT PG_DB=$PG_DB SERVICE_PORTS="$ports" CHAT_CLI="$cli" \
    "$ROOT/tools/probes/attack-probes.sh"
}

# The command-line client against the local stack (logs in through dev-idp and auth-service).
cmd_chat() {
  local bin="$RELEASE_BIN/tools/chat-cli/chat-cli"
  if [[ ! -x $bin && $SKIP_BUILD != 1 ]]; then
    build_preset release >/dev/null || die "release build failed"
  fi
  [[ -x $bin ]] || die "chat-cli not built ($bin)"
  CHAT_IDP_URL="$IDP_ISSUER" CHAT_AUTH_URL="http://$HOST:$AUTH_HTTP_PORT" \
    NATS_URL="nats://$HOST:$NATS_PORT" OTEL_EXPORTER_OTLP_ENDPOINT="http://$HOST:$SINK_PORT" \
    OTEL_SERVICE_NAME="${OTEL_SERVICE_NAME:-chat-cli}" exec "$bin" "$@"
}
