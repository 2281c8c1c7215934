# shellcheck shell=bash
# nats-chat part: the local PostgreSQL. Server binaries, the OS user it runs as, its passwords
# (var/pg-secrets/), start-up (initdb on first use, SCRAM only) and the migrations.

pg_bin_dir() {
  if [[ -n ${NATS_CHAT_PG_BIN:-} ]]; then
    echo "$NATS_CHAT_PG_BIN"
    return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [[ -n $d ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  echo "$d"
}

# PostgreSQL refuses to run as root: use the `postgres` system user, else create `natschat`.
pg_os_user() {
  if [[ $(id -u) -ne 0 ]]; then
    id -un
  elif id postgres >/dev/null 2>&1; then
    echo postgres
  else
    id natschat >/dev/null 2>&1 ||
      useradd --system --no-create-home --shell /usr/sbin/nologin natschat
    echo natschat
  fi
}

as_pg() {
  local user=$1
  shift
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# Prints the password in var/pg-secrets/FILE, generating it (48 hex digits, 0600) on first use.
pg_password() {
  local f="$PG_SECRETS/$1"
  (
    umask 077
    mkdir -p "$(dirname "$f")"
    [[ -s $f ]] || od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$f"
  )
  chmod 600 "$f"
  cat "$f"
}

# Every password of the stack, and a pgpass file (0600) per login: written before Postgres starts.
write_pg_secrets() {
  local role pw
  mkdir -p "$PG_SECRETS"
  chmod 700 "$PG_SECRETS"
  pw=$(pg_password superuser.password)
  (umask 077; printf '*:*:*:%s:%s\n' "$PG_SUPERUSER" "$pw" >"$PGPASSFILE")
  for role in "${PG_SERVICE_ROLES[@]}"; do
    pw=$(pg_password "roles/$role")
    (umask 077; printf '*:*:*:%s:%s\n' "$role" "$pw" >"$PG_SECRETS/$role.pgpass")
  done
  chmod 700 "$PG_SECRETS/roles"
}

# DSN of a service's own role; the password comes from PGPASSFILE=$PG_SECRETS/<role>.pgpass.
pg_role_dsn() { echo "postgresql://$1@$HOST:$PG_PORT/$PG_DB"; }

start_postgres() {
  local bin user
  bin=$(pg_bin_dir)
  user=$(pg_os_user)
  mkdir -p "$VAR/pg" "$RUN_DIR/pg"
  touch "$LOG_DIR/postgres.log"
  if [[ $(id -u) -eq 0 ]]; then
    chown "$user" "$VAR/pg" "$RUN_DIR/pg" "$LOG_DIR/postgres.log"
    chmod 700 "$VAR/pg"
  fi
  write_pg_secrets
  local legacy_trust=false
  if [[ ! -f $VAR/pg/PG_VERSION ]]; then
    log "postgres: initdb in var/pg (as $user, scram-sha-256)"
    # The server user may not read var/pg-secrets: initdb gets a copy in its own socket dir.
    local pwfile="$RUN_DIR/pg/initdb.pw"
    (umask 077; cat "$PG_SECRETS/superuser.password" >"$pwfile")
    [[ $(id -u) -eq 0 ]] && chown "$user" "$pwfile"
    as_pg "$user" "$bin/initdb" -D "$VAR/pg" -U "$PG_SUPERUSER" --pwfile="$pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C \
      >>"$LOG_DIR/postgres.log" 2>&1 ||
      { rm -f "$pwfile"; tail -n 30 "$LOG_DIR/postgres.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
  elif grep -qE '^[^#]*[[:space:]]trust[[:space:]]*$' "$VAR/pg/pg_hba.conf"; then
    # A cluster from before SCRAM (initdb --auth=trust): converted below, data kept.
    legacy_trust=true
  fi
  # pg_ctl daemonizes the postmaster; its pid is the first line of postmaster.pid.
  as_pg "$user" "$bin/pg_ctl" -D "$VAR/pg" -l "$LOG_DIR/postgres.log" -t "$START_TIMEOUT" -w \
    -o "-p $PG_PORT -k $RUN_DIR/pg -c listen_addresses=$HOST" start >/dev/null ||
    { tail -n 30 "$LOG_DIR/postgres.log" >&2; die "postgres failed to start"; }
  head -n1 "$VAR/pg/postmaster.pid" >"$(pid_file postgres)"
  wait_healthy postgres "$bin/pg_isready" -h "$HOST" -p "$PG_PORT" -d postgres
  if $legacy_trust; then
    log "postgres: var/pg trusted every local connection; setting the superuser password and switching pg_hba.conf to scram-sha-256"
    # Through stdin, not argv; password_encryption (scram-sha-256) hashes it on the server.
    printf "ALTER ROLE %s PASSWORD '%s';\n" "$PG_SUPERUSER" "$(cat "$PG_SECRETS/superuser.password")" |
      "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres >/dev/null
    as_pg "$user" sed -i -E 's/^([^#]*[[:space:]])trust[[:space:]]*$/\1scram-sha-256/' "$VAR/pg/pg_hba.conf"
    as_pg "$user" "$bin/pg_ctl" -D "$VAR/pg" reload >/dev/null
  fi
  if ! "$bin/psql" -h "$HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
    log "postgres: creating database $PG_DB"
    "$bin/psql" -h "$HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres -qc "CREATE DATABASE $PG_DB" >/dev/null
  fi
}

migrate_db() {
  if [[ ! -x $DB_MIGRATE_BIN ]]; then
    warn "db-migrate not built ($DB_MIGRATE_BIN): migrations NOT applied"
    return 1
  fi
  log "postgres: applying migrations (db-migrate)"
  # As the superuser (PGPASSFILE); then each service role gets its password from roles/.
  CHAT_PG_DSN="$PG_DSN" CHAT_PG_ROLE_PASSWORDS_DIR="$PG_SECRETS/roles" "$DB_MIGRATE_BIN" \
    >>"$LOG_DIR/db-migrate.log" 2>&1 ||
    { tail -n 30 "$LOG_DIR/db-migrate.log" >&2; warn "db-migrate failed"; return 1; }
}
