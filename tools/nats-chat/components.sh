# shellcheck shell=bash
# nats-chat part: starting each component of the local stack but Postgres (postgres.sh):
# nats-server, the dev IdP, the telemetry sink, the exporters, Prometheus, nginx with the web
# client, the chat services; and the URL each one serves.

render() { # template output key=value...
  local template=$1 out=$2
  shift 2
  local expr=() kv
  for kv in "$@"; do
    expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
  done
  sed "${expr[@]}" "$template" >"$out.tmp"
  mv "$out.tmp" "$out"
}

start_nats() {
  [[ -x $NATSKEYS ]] || die "natskeys missing at $NATSKEYS (release build failed?)"
  mkdir -p "$VAR/nats/js"
  "$NATSKEYS" init --dir "$VAR/nats" >"$LOG_DIR/natskeys.log" 2>&1 ||
    { cat "$LOG_DIR/natskeys.log" >&2; die "natskeys init failed"; }
  render "$ROOT/deploy/local/nats-server.conf" "$VAR/nats/nats-server.conf" \
    "NATS_PORT=$NATS_PORT" "NATS_MONITOR_PORT=$NATS_MONITOR_PORT" "NATS_WS_PORT=$NATS_WS_PORT" \
    "NATS_JS_DIR=$VAR/nats/js"
  # NATS_CHAT_NATS_PROFILE_PORT: Go pprof of nats-server on that loopback port (README:
  # Performance) — how its reply-permission scan was found.
  local profile=()
  [[ -n ${NATS_CHAT_NATS_PROFILE_PORT:-} ]] && profile=(--profile "$NATS_CHAT_NATS_PROFILE_PORT")
  spawn nats nats-server -c "$VAR/nats/nats-server.conf" "${profile[@]}"
  wait_healthy nats http_ok "http://$HOST:$NATS_MONITOR_PORT/healthz"
}

# The development OIDC issuer (tools/dev-idp): stands in for Keycloak locally. Its RSA keys live
# in var/idp; it exports its traces and logs to the sink like every service.
start_idp() {
  [[ -x $IDP_BIN ]] || { warn "dev-idp not built ($IDP_BIN)"; return 1; }
  spawn dev-idp env CHAT_IDP_HOST="$HOST" CHAT_IDP_PORT="$IDP_PORT" CHAT_IDP_ISSUER="$IDP_ISSUER" \
    CHAT_IDP_STATE_DIR="$VAR/idp" KEYCLOAK_ADMIN="$IDP_ADMIN_USER" \
    KEYCLOAK_ADMIN_PASSWORD="$IDP_ADMIN_PASSWORD" OTEL_EXPORTER_OTLP_ENDPOINT="http://$HOST:$SINK_PORT" \
    OTEL_EXPORTER_PROMETHEUS_HOST="$HOST" OTEL_EXPORTER_PROMETHEUS_PORT="$IDP_METRICS_PORT" \
    OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=dev" "$IDP_BIN"
  wait_healthy dev-idp http_ok "$IDP_ISSUER/.well-known/openid-configuration"
}

start_sink() {
  [[ -x $SINK_BIN ]] || { warn "telemetry-sink not built ($SINK_BIN)"; return 1; }
  # CORS and browser posts only from the stack's own web origin and the Vite dev server
  # (web/vite.config.ts); both proxy /otlp/v1/traces, so the browser stays same-origin.
  spawn telemetry-sink env SINK_HOST="$HOST" SINK_PORT="$SINK_PORT" \
    SINK_CORS_ORIGINS="http://$HOST:$WEB_PORT,http://127.0.0.1:5173" "$SINK_BIN"
  wait_healthy telemetry-sink http_ok "http://$HOST:$SINK_PORT/healthz"
}

start_exporter() {
  [[ -x $EXPORTER_BIN ]] || { warn "nats-exporter not built ($EXPORTER_BIN)"; return 1; }
  spawn nats-exporter env NATS_EXPORTER_HOST="$HOST" NATS_EXPORTER_PORT="$NATS_EXPORTER_PORT" \
    NATS_EXPORTER_MONITOR_URL="http://$HOST:$NATS_MONITOR_PORT" "$EXPORTER_BIN"
  wait_healthy nats-exporter http_ok "http://$HOST:$NATS_EXPORTER_PORT/metrics"
}

# tools/pg-exporter: stands in for prometheus-community postgres_exporter (not in Debian 12) so
# the `postgres` scrape job has a target and pg_up/pg_stat_* exist locally. Its log is JSON on
# stderr (var/log/pg-exporter.log); healthy = /healthz answers (a down database is pg_up 0, not
# a failed start).
start_pg_exporter() {
  [[ -x $PG_EXPORTER_BIN ]] || { warn "pg-exporter not built ($PG_EXPORTER_BIN)"; return 1; }
  spawn pg-exporter env PGPASSFILE="$PG_SECRETS/pg-exporter.pgpass" \
    DATA_SOURCE_NAME="$(pg_role_dsn pg-exporter)" \
    PG_EXPORTER_WEB_LISTEN_ADDRESS="$HOST:$PG_EXPORTER_PORT" "$PG_EXPORTER_BIN"
  wait_healthy pg-exporter http_ok "http://$HOST:$PG_EXPORTER_PORT/healthz"
}

# Writes the Prometheus config from the template and deploy/local/services.list.
render_prometheus_config() {
  local out=$1 jobs="" name port
  while read -r name port; do
    [[ -z $name || $name == \#* ]] && continue
    # Only what `up` runs: a scrape job for a service that is not started would be `up == 0`
    # forever and keep ServiceDown firing in a healthy stack.
    [[ " ${CHAT_SERVICES[*]} " == *" $name "* ]] || continue
    port=$((port + PORT_OFFSET))
    jobs+="  - job_name: $name"$'\n'"    static_configs: [{targets: [\"$HOST:$port\"]}]"$'\n'
  done <"$SERVICES_LIST"
  mkdir -p "$(dirname "$out")"
  render "$ROOT/deploy/local/prometheus.yml" "$out" "ROOT=$ROOT" \
    "PROMETHEUS_PORT=$PROMETHEUS_PORT" "SINK_PORT=$SINK_PORT" \
    "NATS_EXPORTER_PORT=$NATS_EXPORTER_PORT" "PG_EXPORTER_PORT=$PG_EXPORTER_PORT"
  printf '%s' "$jobs" >>"$out"
}

# The other flags come from deploy/local/prometheus.flags, shared with the tests' Prometheus
# (testing/e2e/prometheus_process.hpp). No lifecycle API: reload with
# `kill -HUP "$(cat var/run/prometheus.pid)"`.
start_prometheus() {
  render_prometheus_config "$VAR/prometheus/prometheus.yml"
  mkdir -p "$VAR/prometheus/data"
  local flags=()
  mapfile -t flags < <(grep -Ev '^[[:space:]]*(#|$)' "$ROOT/deploy/local/prometheus.flags")
  spawn prometheus prometheus --config.file "$VAR/prometheus/prometheus.yml" \
    --storage.tsdb.path "$VAR/prometheus/data" --web.listen-address "$HOST:$PROMETHEUS_PORT" \
    "${flags[@]}"
  wait_healthy prometheus http_ok "http://$HOST:$PROMETHEUS_PORT/-/ready"
}

# ---- web client: served by nginx with the same-origin proxies ---------------------------------
# nginx workers drop root; they must be able to read web/dist (a checkout under /root is not
# readable by nobody, and then the workers keep the invoking user).
nginx_user_directive() {
  [[ $(id -u) -eq 0 ]] || return 0
  if runuser -u nobody -- test -r "$WEB_DIR/dist/index.html" 2>/dev/null; then
    echo "user nobody nogroup;"
  else
    echo "user root root;"
  fi
}

start_web() {
  [[ -f $WEB_DIR/dist/index.html ]] || { warn "web client not built (web/dist)"; return 1; }
  local dir="$VAR/nginx"
  mkdir -p "$dir/tmp"
  # The workers write proxy buffers here.
  [[ $(id -u) -eq 0 ]] && chmod 1777 "$dir/tmp"
  render "$ROOT/deploy/local/nginx.conf" "$dir/nginx.conf" "NGINX_USER=$(nginx_user_directive)" \
    "NGINX_DIR=$dir" "LOG_DIR=$LOG_DIR" "HOST=$HOST" "WEB_PORT=$WEB_PORT" \
    "WEB_ROOT=$WEB_DIR/dist" "AUTH_HTTP_PORT=$AUTH_HTTP_PORT" "SINK_PORT=$SINK_PORT" \
    "NATS_WS_PORT=$NATS_WS_PORT"
  # What the client reads at start (web/README.md): the issuer is the IdP's own origin; the
  # rest is same-origin through this nginx.
  render "$ROOT/deploy/local/web-config.json" "$dir/config.json" "IDP_ISSUER=$IDP_ISSUER" \
    "VERSION=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo dev)"
  nginx -t -p "$dir" -c "$dir/nginx.conf" -e "$LOG_DIR/web-error.log" >"$LOG_DIR/web-check.log" 2>&1 ||
    { cat "$LOG_DIR/web-check.log" >&2; warn "nginx config invalid"; return 1; }
  spawn web nginx -p "$dir" -c "$dir/nginx.conf" -e "$LOG_DIR/web-error.log" -g "daemon off;"
  wait_healthy web http_ok "http://$HOST:$WEB_PORT/config.json"
}

service_port() { awk -v n="$1" -v off="$PORT_OFFSET" '$1 == n { print $2 + off }' "$SERVICES_LIST"; }

# A chat service under the local stack: its own NATS credentials, the shared Postgres, telemetry
# to the sink, /metrics on its port from services.list.
start_service() {
  local name=$1 bin port
  bin="$RELEASE_BIN/services/${SERVICE_BINS[$name]}"
  [[ -x $bin ]] || { warn "$name not built ($bin)"; return 1; }
  port=$(service_port "$name")
  # No service sees the superuser's PGPASSFILE; one that uses Postgres logs in as its own role.
  local env_args=(-u PGPASSFILE NATS_URL="nats://$HOST:$NATS_PORT"
    NATS_CREDS="$VAR/nats/creds/$name.creds" OTEL_EXPORTER_OTLP_ENDPOINT="http://$HOST:$SINK_PORT"
    OTEL_EXPORTER_PROMETHEUS_HOST="$HOST" OTEL_EXPORTER_PROMETHEUS_PORT="$port"
    OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=dev")
  if [[ " ${PG_SERVICE_ROLES[*]} " == *" $name "* ]]; then
    env_args+=(DATABASE_URL="$(pg_role_dsn "$name")" PGPASSFILE="$PG_SECRETS/$name.pgpass")
  fi
  if [[ $name == auth-service ]]; then
    env_args+=(CHAT_AUTH_ISSUER_URL="$IDP_ISSUER" CHAT_AUTH_HTTP_HOST="$HOST"
      CHAT_AUTH_HTTP_PORT="$AUTH_HTTP_PORT"
      CHAT_AUTH_ACCOUNT_SIGNING_SEED_FILE="$VAR/nats/keys/CHAT-signing.seed"
      CHAT_AUTH_TRUSTED_PROXIES="127.0.0.1,::1")  # the web nginx proxies from loopback
  fi
  if [[ $name == user-search-service ]]; then
    # dev-idp's root URL: the service adds /realms/master/… and /admin/realms/{realm}/… itself.
    env_args+=(CHAT_USER_SEARCH_IDP_URL="http://$HOST:$IDP_PORT" CHAT_USER_SEARCH_REALM=nats-chat
      CHAT_USER_SEARCH_ADMIN_USER="$IDP_ADMIN_USER"
      CHAT_USER_SEARCH_ADMIN_PASSWORD="$IDP_ADMIN_PASSWORD")
  fi
  local kv
  for kv in $SERVICE_EXTRA_ENV; do env_args+=("$kv"); done
  spawn "$name" env "${env_args[@]}" "$bin"
  wait_healthy "$name" http_ok "http://$HOST:$port/readyz"
}

component_url() {
  case $1 in
    auth-service) echo "http://$HOST:$AUTH_HTTP_PORT/auth/v1/credentials  metrics :$(service_port "$1")" ;;
    *-service|persist-worker) echo "metrics http://$HOST:$(service_port "$1")/metrics" ;;
    nats) echo "nats://$HOST:$NATS_PORT ws://$HOST:$NATS_WS_PORT http://$HOST:$NATS_MONITOR_PORT" ;;
    postgres) echo "$PG_DSN" ;;
    telemetry-sink) echo "http://$HOST:$SINK_PORT/" ;;
    dev-idp) echo "$IDP_ISSUER" ;;
    nats-exporter) echo "http://$HOST:$NATS_EXPORTER_PORT/metrics" ;;
    pg-exporter) echo "http://$HOST:$PG_EXPORTER_PORT/metrics" ;;
    prometheus) echo "http://$HOST:$PROMETHEUS_PORT/" ;;
    web) echo "http://$HOST:$WEB_PORT/" ;;
  esac
}

# The project-built binary of a component, or failure for packaged ones.
component_binary() {
  case $1 in
    telemetry-sink) echo "$SINK_BIN" ;;
    dev-idp) echo "$IDP_BIN" ;;
    nats-exporter) echo "$EXPORTER_BIN" ;;
    pg-exporter) echo "$PG_EXPORTER_BIN" ;;
    *) [[ -n ${SERVICE_BINS[$1]:-} ]] && echo "$RELEASE_BIN/services/${SERVICE_BINS[$1]}" ;;
  esac
}

start_component() {
  case $1 in
    nats) start_nats ;;
    postgres) start_postgres ;;
    telemetry-sink) start_sink ;;
    dev-idp) start_idp ;;
    nats-exporter) start_exporter ;;
    pg-exporter) start_pg_exporter ;;
    prometheus) start_prometheus ;;
    web) start_web ;;
    *) start_service "$1" ;;
  esac
}
