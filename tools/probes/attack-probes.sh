#!/usr/bin/env bash
# The attacker's probes of issue 11, repeated against a running stack with nothing but the
# seeded users' own credentials, as the review that found the holes did. Each probe prints
# "probe <name>: ok" or "probe <name>: FAILED (<what came back>)"; the last line is
# "N passed, M failed" and the exit code is non-zero on any failure. Run it as
# `./nats-chat probe` (which sets the environment below from the stack's ports); `./nats-chat
# test` runs it against its browser stack.
#
# Environment: HOST, NATS_PORT, WEB_PORT, SINK_PORT, PROMETHEUS_PORT, IDP_ISSUER,
# AUTH_HTTP_PORT, PG_PORT, PG_DB, SERVICE_PORTS ("name:port ..." of every running service's
# admin server), CHAT_CLI (the chat-cli binary).
set -uo pipefail

: "${HOST:?}" "${NATS_PORT:?}" "${WEB_PORT:?}" "${SINK_PORT:?}" "${PROMETHEUS_PORT:?}"
: "${IDP_ISSUER:?}" "${AUTH_HTTP_PORT:?}" "${PG_PORT:?}" "${PG_DB:?}" "${SERVICE_PORTS:?}"
: "${CHAT_CLI:?}"

PASSED=0
FAILED=0
TMP=$(mktemp -d /tmp/nats-chat-probes.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

pass() {
  echo "probe $1: ok"
  PASSED=$((PASSED + 1))
}
fail() {
  echo "probe $1: FAILED ($2)"
  FAILED=$((FAILED + 1))
}

# chat-cli as USER (password USER123, the seeded convention) against this stack.
cli() {
  local user=$1
  shift
  CHAT_IDP_URL="$IDP_ISSUER" CHAT_AUTH_URL="http://$HOST:$AUTH_HTTP_PORT" \
    NATS_URL="nats://$HOST:$NATS_PORT" OTEL_SDK_DISABLED=true \
    "$CHAT_CLI" --user "$user" --password "${user}123" "$@"
}

# NATS: USER's raw publish/subscribe must come back refused by the server (chat-cli exit 3).
expect_refused() {
  local name=$1 user=$2 out rc=0
  shift 2
  out=$(cli "$user" "$@" 2>&1) || rc=$?
  if [[ $rc -eq 3 ]]; then pass "$name"; else fail "$name" "exit $rc: $(tail -n1 <<<"$out")"; fi
}
expect_allowed() {
  local name=$1 user=$2 out rc=0
  shift 2
  out=$(cli "$user" "$@" 2>&1) || rc=$?
  if [[ $rc -eq 0 ]]; then pass "$name"; else fail "$name" "exit $rc: $(tail -n1 <<<"$out")"; fi
}

# A service's own check: USER's request must come back as an error reply with CODE (chat-cli
# exit 4). Membership reaches the app services through room.changed, so a request that is
# refused with permission_denied while another code is expected is retried for a few seconds.
expect_error_reply() {
  local name=$1 user=$2 code=$3 out rc deadline=$((SECONDS + 10))
  shift 3
  while true; do
    rc=0
    out=$(cli "$user" request "$@" 2>&1) || rc=$?
    [[ $rc -eq 4 && $out == *'"code":"permission_denied"'* && $code != permission_denied &&
      $SECONDS -lt $deadline ]] || break
    sleep 0.5
  done
  if [[ $rc -eq 4 && $out == *"\"code\":\"$code\""* ]]; then
    pass "$name"
  else
    fail "$name" "exit $rc: $(tail -n1 <<<"$out")"
  fi
}
# USER's request must be answered (exit 0); prints the reply. Retried like expect_error_reply.
request_ok() {
  local user=$1 out rc deadline=$((SECONDS + 10))
  shift
  while true; do
    rc=0
    out=$(cli "$user" request "$@" 2>&1) || rc=$?
    [[ $rc -eq 4 && $out == *'"code":"permission_denied"'* && $SECONDS -lt $deadline ]] || break
    sleep 0.5
  done
  printf '%s\n' "$out"
  return "$rc"
}

# HTTP status of a curl call (000 when nothing answered).
status_of() { curl -s -o "$TMP/body" -w '%{http_code}' --max-time 30 "$@" || true; }

# ---- 1, 3, 13: identity and grants (NATS) ----------------------------------------------------
forged='{"user":"alice","room":"general","text":"written by charlie","timestamp":1700000000000,"threadId":"probe"}'
expect_allowed control-charlie-may-watch-public-notifications charlie subscribe 'room.notify.general'
expect_refused forged-thread-message-via-history-grant charlie publish 'chat.history.thread.probe' "$forged"
expect_refused direct-publish-into-the-stream charlie publish 'chat.general' "$forged"
expect_refused publish-into-another-users-inbox charlie publish '_INBOX.probe' '{}'
expect_refused read-another-users-deliveries charlie subscribe 'deliver.alice.>'
expect_refused publish-as-another-user charlie publish 'deliver.alice.send' "$forged"
expect_refused admin-channel-as-another-admin alice publish 'admin.general.diana' \
  '{"user":"diana","room":"general","text":"x","timestamp":1700000000001}'
expect_refused jetstream-api charlie publish '$JS.API.STREAM.LIST' '{}'
expect_refused kv-bucket-read charlie subscribe '$KV.>'
expect_refused system-account charlie subscribe '$SYS.>'

# ---- apps: installed apps only, members only, identity from the subject, stored HTML sanitised -
expect_refused app-request-as-another-user charlie publish 'app.poll.general.list.alice' '{}'
expect_refused app-broadcast-forged charlie publish 'app.poll.general.updated' '{"pollId":"x"}'
expect_refused app-requests-eavesdropped charlie subscribe 'app.>'
expect_refused app-events-of-another-user charlie subscribe 'deliver.alice.app.>'
private="probe-apps-$RANDOM$RANDOM"
if ! cli alice create "$private" >"$TMP/create" 2>&1; then
  fail app-private-room-setup "alice could not create $private: $(tail -n1 "$TMP/create")"
else
  # Live membership lasts as long as a connection that joined: alice's requests --join first,
  # as her browser enters the room it opens.
  # Nothing is installed in a new room: even its owner's requests are refused until she installs.
  expect_error_reply app-not-installed alice failed_precondition \
    "app.poll.$private.list.alice" '{}' --join "$private"
  # The owner installs the apps the probes below use (the services refuse the room otherwise).
  not_installed=""
  for app in poll whiteboard kb; do
    out=$(request_ok alice "apps.install.$private.alice" "{\"appId\":\"$app\"}" --join "$private") ||
      not_installed+="$app: $(tail -n1 <<<"$out"); "
  done
  if [[ -z $not_installed ]]; then
    pass app-install-private-room-owner
  else
    fail app-install-private-room-owner "$not_installed"
  fi
  expect_error_reply app-body-names-another-user alice invalid_argument \
    "app.poll.$private.list.alice" '{"user":"bob"}' --join "$private"
  expect_error_reply app-in-private-room-non-member charlie permission_denied \
    "app.poll.$private.list.charlie" '{}'
  expect_error_reply app-kb-in-private-room-non-member charlie permission_denied \
    "app.kb.$private.list.charlie" '{}'
  # bob holds the user role (charlie, with none, may not even publish apps.install.*).
  expect_error_reply app-install-private-room-non-member bob permission_denied \
    "apps.install.$private.bob" '{"appId":"poll"}'
  expect_error_reply app-unknown-action alice invalid_argument "app.poll.$private.drop.alice" '{}'
  expect_error_reply app-malformed-body alice invalid_argument \
    "app.whiteboard.$private.create.alice" '{"name":' --join "$private"
  # A stored page never carries script: the service sanitises before it stores.
  page=$(request_ok alice "app.kb.$private.create.alice" '{"title":"probe"}' --join "$private" | jq -r '.id // empty' 2>/dev/null)
  if [[ -z $page ]]; then
    fail kb-stored-html-sanitised "could not create a page"
  else
    html='<p>hi<img src=x onerror=alert(1)><script>alert(2)</script><a href=\"javascript:alert(3)\">x</a></p>'
    request_ok alice "app.kb.$private.save.alice" \
      "{\"pageId\":\"$page\",\"title\":\"probe\",\"content\":\"$html\"}" --join "$private" >/dev/null
    stored=$(request_ok alice "app.kb.$private.load.alice" "{\"pageId\":\"$page\"}" --join "$private" | jq -r '.content // empty' 2>/dev/null)
    if [[ $stored == *'<p>hi'* && $stored != *script* && $stored != *onerror* && $stored != *javascript:* ]]; then
      pass kb-stored-html-sanitised
    else
      fail kb-stored-html-sanitised "stored: ${stored:0:200}"
    fi
  fi
fi
expect_refused app-install-without-a-role charlie publish 'apps.install.general.charlie' '{"appId":"poll"}'
expect_error_reply app-install-public-room-non-admin bob permission_denied \
  'apps.install.general.bob' '{"appId":"poll"}'

# ---- 4: bounded bodies (gzip bomb, chunked flood) ---------------------------------------------
head -c 20000000 /dev/zero | gzip -9 >"$TMP/bomb.gz" # 20 MB of zeros in ~20 KB
for entry in $SERVICE_PORTS; do
  name=${entry%%:*} port=${entry##*:}
  code=$(status_of -X POST -H 'Content-Encoding: gzip' --data-binary @"$TMP/bomb.gz" \
    "http://$HOST:$port/metrics")
  if [[ $code == 413 || $code == 415 ]]; then pass "gzip-bomb-$name"; else fail "gzip-bomb-$name" "HTTP $code"; fi
done
code=$(head -c 50000000 /dev/zero | status_of -X POST -H 'Transfer-Encoding: chunked' \
  -H 'Content-Type: application/json' --data-binary @- "http://$HOST:$AUTH_HTTP_PORT/auth/v1/credentials")
if [[ $code == 413 ]]; then pass chunked-flood-auth-service; else fail chunked-flood-auth-service "HTTP $code"; fi
# Small enough for nginx's 16k body limit on /auth/, so the answer shows the encoding refusal.
head -c 1000000 /dev/zero | gzip -9 >"$TMP/small.gz"
code=$(status_of -X POST -H 'Content-Encoding: gzip' --data-binary @"$TMP/small.gz" \
  "http://$HOST:$WEB_PORT/auth/v1/credentials")
if [[ $code == 415 ]]; then pass nginx-refuses-encoded-auth-bodies; else fail nginx-refuses-encoded-auth-bodies "HTTP $code"; fi

# ---- 7: an ID token is not an access token ----------------------------------------------------
tokens=$(curl -s --max-time 10 -X POST "$IDP_ISSUER/protocol/openid-connect/token" \
  -d grant_type=password -d client_id=nats-chat-app -d username=bob -d password=bob123)
id_token=$(jq -r '.id_token // empty' <<<"$tokens" 2>/dev/null)
access_token=$(jq -r '.access_token // empty' <<<"$tokens" 2>/dev/null)
if [[ -z $id_token || -z $access_token ]]; then
  fail id-token-refused "no tokens from the IdP: ${tokens:0:200}"
else
  code=$(status_of -X POST -H "Authorization: Bearer $id_token" -H 'Content-Type: application/json' \
    --data '{}' "http://$HOST:$AUTH_HTTP_PORT/auth/v1/credentials")
  # The control: the access token gets past authentication (then fails on the empty body).
  control=$(status_of -X POST -H "Authorization: Bearer $access_token" \
    -H 'Content-Type: application/json' --data '{}' "http://$HOST:$AUTH_HTTP_PORT/auth/v1/credentials")
  if [[ $code == 401 && $control != 401 && $control != 000 ]]; then
    pass id-token-refused
  else
    fail id-token-refused "ID token HTTP $code, access token HTTP $control"
  fi
fi

# ---- 8: the telemetry sink does not answer other origins --------------------------------------
curl -s -o /dev/null -D "$TMP/cors" --max-time 10 -X OPTIONS "http://$HOST:$SINK_PORT/v1/traces" \
  -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST' || true
if grep -qi '^access-control-allow-origin: *\(\*\|https://evil.example\)' "$TMP/cors"; then
  fail sink-cors-foreign-origin "$(grep -i '^access-control-allow-origin' "$TMP/cors" | tr -d '\r')"
else
  pass sink-cors-foreign-origin
fi

# ---- 9: Postgres needs a password (no trust) ---------------------------------------------------
if ! command -v psql >/dev/null 2>&1; then
  fail postgres-without-password "psql not installed"
elif PGPASSFILE=/dev/null PGCONNECT_TIMEOUT=5 psql -w -h "$HOST" -p "$PG_PORT" -U postgres \
  -d "$PG_DB" -c 'select 1' >"$TMP/psql" 2>&1; then
  fail postgres-without-password "connected as postgres without a password"
else
  pass postgres-without-password
fi

# ---- 11: password guessing is throttled -------------------------------------------------------
throttled=false
for i in $(seq 1 30); do
  code=$(status_of -X POST "$IDP_ISSUER/protocol/openid-connect/token" -d grant_type=password \
    -d client_id=nats-chat-app -d username=mallory -d "password=guess-$i")
  if [[ $code == 429 ]]; then
    throttled=true
    break
  fi
done
if $throttled; then pass idp-throttles-guessing; else fail idp-throttles-guessing "30 wrong passwords, no 429"; fi

# ---- 12: no lifecycle API on Prometheus --------------------------------------------------------
code=$(status_of -X POST "http://$HOST:$PROMETHEUS_PORT/-/quit")
healthy=$(status_of "http://$HOST:$PROMETHEUS_PORT/-/healthy")
if [[ $code != 200 && $healthy == 200 ]]; then
  pass prometheus-quit-refused
else
  fail prometheus-quit-refused "quit HTTP $code, healthy HTTP $healthy"
fi

# ---- 15: admin servers listen on loopback only -------------------------------------------------
for entry in $SERVICE_PORTS; do
  name=${entry%%:*} port=${entry##*:}
  bound=$(ss -Hltn "sport = :$port" 2>/dev/null | awk '{ print $4 }' | sort -u | tr '\n' ' ')
  if [[ -n $bound && $bound =~ ^(127\.0\.0\.1:$port[[:space:]]*)+$ ]]; then
    pass "loopback-only-$name"
  else
    fail "loopback-only-$name" "listening on: ${bound:-nothing}"
  fi
done

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
