# shellcheck shell=bash
# nats-chat part: settings. State directories, ports (docs/ports.md), Postgres roles and
# secrets, binary paths and the components `up` runs, each overridable from the environment.
# Sourced first: every other part reads these.

# State, pid files and logs; a second stack (the test command's browser stack) uses its own.
VAR="${NATS_CHAT_VAR_DIR:-$ROOT/var}"
RUN_DIR="$VAR/run"
LOG_DIR="$VAR/log"
HOST=127.0.0.1

# ---- ports (docs/ports.md); every one can be overridden from the environment ----------------
# NATS_CHAT_PORT_OFFSET shifts every default (services' metrics ports included), so a second
# stack can run beside the developer's own.
PORT_OFFSET="${NATS_CHAT_PORT_OFFSET:-0}"
[[ $PORT_OFFSET =~ ^[0-9]+$ ]] || { echo "nats-chat: NATS_CHAT_PORT_OFFSET must be a number" >&2; exit 2; }
NATS_PORT="${NATS_CHAT_NATS_PORT:-$((4222 + PORT_OFFSET))}"
NATS_WS_PORT="${NATS_CHAT_NATS_WS_PORT:-$((4223 + PORT_OFFSET))}"
NATS_MONITOR_PORT="${NATS_CHAT_NATS_MONITOR_PORT:-$((8222 + PORT_OFFSET))}"
PG_PORT="${NATS_CHAT_PG_PORT:-$((5433 + PORT_OFFSET))}"
SINK_PORT="${NATS_CHAT_SINK_PORT:-$((4318 + PORT_OFFSET))}"
NATS_EXPORTER_PORT="${NATS_CHAT_NATS_EXPORTER_PORT:-$((7777 + PORT_OFFSET))}"
PG_EXPORTER_PORT="${NATS_CHAT_PG_EXPORTER_PORT:-$((9187 + PORT_OFFSET))}"
PROMETHEUS_PORT="${NATS_CHAT_PROMETHEUS_PORT:-$((9090 + PORT_OFFSET))}"
IDP_PORT="${NATS_CHAT_IDP_PORT:-$((8080 + PORT_OFFSET))}"
IDP_METRICS_PORT="${NATS_CHAT_IDP_METRICS_PORT:-$((9420 + PORT_OFFSET))}"
WEB_PORT="${NATS_CHAT_WEB_PORT:-$((3000 + PORT_OFFSET))}"
START_TIMEOUT="${NATS_CHAT_START_TIMEOUT:-60}"

PG_DB=chatdb
PG_SUPERUSER=postgres
PG_DSN="postgresql://${PG_SUPERUSER}@${HOST}:${PG_PORT}/${PG_DB}"
# Postgres authenticates with scram-sha-256 only (no trust). Passwords are generated on first
# `up`, 0600 under var/pg-secrets/: the superuser's (superuser.password; superuser.pgpass is the
# PGPASSFILE of this script's own psql, db-migrate, chat-load and the browser suite), and one per
# service role (roles/<role>, set by db-migrate; <role>.pgpass is that service's PGPASSFILE).
PG_SECRETS="$VAR/pg-secrets"
export PGPASSFILE="$PG_SECRETS/superuser.pgpass"
# libpq prefers these to PGPASSFILE and to the DSN's defaults: a PGPASSWORD left in the caller's
# shell would make every service log in with it and fail authentication as its own role.
unset PGPASSWORD PGSERVICE PGSERVICEFILE PGOPTIONS PGSSLMODE PGTARGETSESSIONATTRS
# Components that use Postgres, each as its own least-privilege role of the same name
# (db/migrations/0003_service_roles.sql); the other services get no DATABASE_URL.
PG_SERVICE_ROLES=(room-service persist-worker history-service read-receipt-service pg-exporter
  app-registry-service poll-service kb-service whiteboard-service sticker-service)
# Binaries the stack runs: the release build by default; the test command's browser stack runs
# the ASan build it has just built and tested (NATS_CHAT_BIN_DIR, NATS_CHAT_SKIP_BUILD=1).
RELEASE_BIN="${NATS_CHAT_BIN_DIR:-$ROOT/build/release}"
SKIP_BUILD="${NATS_CHAT_SKIP_BUILD:-0}"
WEB_DIR="${NATS_CHAT_WEB_DIR:-$ROOT/web}"
NATSKEYS="$RELEASE_BIN/tools/natskeys/natskeys"
SINK_BIN="$RELEASE_BIN/tools/telemetry-sink/telemetry-sink"
EXPORTER_BIN="$RELEASE_BIN/tools/nats-exporter/nats-exporter"
PG_EXPORTER_BIN="$RELEASE_BIN/tools/pg-exporter/pg-exporter"
IDP_BIN="$RELEASE_BIN/tools/dev-idp/dev-idp"
IDP_ISSUER="http://$HOST:$IDP_PORT/realms/nats-chat"
# dev-idp's master realm administrator (Keycloak's KEYCLOAK_ADMIN / KEYCLOAK_ADMIN_PASSWORD; the
# demo admin/admin of system.md §2.6): user-search-service gets its admin-API token with these.
IDP_ADMIN_USER="${NATS_CHAT_IDP_ADMIN_USER:-admin}"
IDP_ADMIN_PASSWORD="${NATS_CHAT_IDP_ADMIN_PASSWORD:-admin}"
DB_MIGRATE_BIN="$RELEASE_BIN/tools/db-migrate/db-migrate"
SERVICES_LIST="$ROOT/deploy/local/services.list"

# The chat services `up` runs (name → binary under build/release/services/). Metrics ports come
# from deploy/local/services.list.
declare -A SERVICE_BINS=(
  [auth-service]=auth/auth-service
  [room-service]=room/room-service
  [persist-worker]=persist-worker/persist-worker
  [fanout-service]=fanout/fanout-service
  [history-service]=history/history-service
  [presence-service]=presence/presence-service
  [read-receipt-service]=read-receipt/read-receipt-service
  [app-registry-service]=app-registry/app-registry-service
  [poll-service]=poll/poll-service
  [kb-service]=kb/kb-service
  [whiteboard-service]=whiteboard/whiteboard-service
  [sticker-service]=sticker/sticker-service
  [translation-service]=translation/translation-service
  [user-search-service]=user-search/user-search-service
)
CHAT_SERVICES=(auth-service room-service persist-worker fanout-service history-service
  presence-service read-receipt-service app-registry-service poll-service kb-service
  whiteboard-service sticker-service translation-service
  user-search-service)
AUTH_HTTP_PORT="${NATS_CHAT_AUTH_PORT:-$((9430 + PORT_OFFSET))}"
# Extra KEY=VALUE settings for every chat service (the load generator restarts services with
# OTEL_SDK_DISABLED=true or a higher fanout rate limit through this).
SERVICE_EXTRA_ENV="${NATS_CHAT_SERVICE_ENV:-}"

# Components in start order; `down` stops them in reverse.
COMPONENTS=(nats postgres pg-exporter telemetry-sink dev-idp nats-exporter "${CHAT_SERVICES[@]}"
  prometheus web)
