#!/bin/sh
# The HTTP admin listener (docs/api.md), driven with curl as an operator
# would: every request needs the bearer token (401 with a JSON message
# otherwise); /metrics is valid Prometheus text (promtool check metrics)
# and follows what real peers do (sipsak registers, a wrong password is
# counted by cause); the JSON API adds, changes and deletes users (400
# with a message for bad JSON), lists bindings and subscriptions, and
# answers 404 and 405 in JSON.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need curl
need sipsak

umask 077
head -c 32 /dev/urandom | base64 >"$TMP/token"
TOKEN=$(cat "$TMP/token")
# sipsak takes the To domain from -s and must resolve it: serve localhost.
start_server --domain localhost --admin 127.0.0.1:0 --admin-token-file "$TMP/token"
for _ in $(seq 1 100); do
    APORT=$(sed -n 's/.*event=listening transport=http addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG")
    [ -n "$APORT" ] && break
    sleep 0.1
done
[ -n "$APORT" ] || { echo "FAIL: no admin listening line"; cat "$LOG"; exit 1; }
URL=http://127.0.0.1:$APORT

# api METHOD PATH [BODY] -> "STATUS BODY" (body on one line), with the token
api() {
    local data=()
    [ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data-binary "$3")
    curl -s -m 10 -o "$TMP/body" -w '%{http_code}' -X "$1" \
        -H "Authorization: Bearer $TOKEN" "${data[@]}" "$URL$2" >"$TMP/code"
    printf '%s %s' "$(cat "$TMP/code")" "$(tr -d '\n' <"$TMP/body")"
}

# ---- the token ----
out=$(curl -s -m 10 -i "$URL/metrics")
check_match "no token: 401" "$out" '^HTTP/1.1 401'
check_match "no token: a JSON message" "$out" '"error": ?"missing Authorization: Bearer'
check_match "no token: WWW-Authenticate: Bearer" "$out" 'WWW-Authenticate: Bearer'
out=$(curl -s -m 10 -i -H "Authorization: Bearer ${TOKEN}x" "$URL/api/v1/status")
check_match "wrong token: 401" "$out" '^HTTP/1.1 401'
check_match "wrong token: a JSON message" "$out" '"error": ?"wrong token"'
out=$(curl -s -m 10 -i -H "Authorization: Basic $TOKEN" "$URL/api/v1/users")
check_match "another scheme: 401" "$out" '^HTTP/1.1 401'
check_match "refusals are logged" "$(cat "$LOG")" 'event=unauthorized .*reason=wrong'

# ---- users through the API ----
check "POST a user: 201" "$(api POST /api/v1/users '{"username":"alice","password":"apw"}' | cut -c1-3)" 201
check "POST it again: 409" "$(api POST /api/v1/users '{"username":"alice","password":"x"}' | cut -c1-3)" 409
out=$(api POST /api/v1/users '{"username":"bob",')
check_match "bad JSON: 400 saying where" "$out" '^400 .*"error": ?"bad JSON at line 1 column'
out=$(api POST /api/v1/users '{"username":"bob"}')
check_match "no password: 400 saying so" "$out" '^400 .*password.* must be a non-empty string'
out=$(api POST /api/v1/users '["bob"]')
check_match "not an object: 400" "$out" '^400 .*must be a JSON object'
out=$(api POST /api/v1/users '{"username":"bob","password":"bpw"}')
check "POST bob: 201" "${out%% *}" 201
out=$(api GET /api/v1/users)
check_match "GET lists both" "$out" '^200 .*"alice", *"bob"'
check "PUT a new password: 200" "$(api PUT /api/v1/users/alice '{"password":"apw2"}' | cut -c1-3)" 200
check "PUT for nobody: 404" "$(api PUT /api/v1/users/nobody '{"password":"x"}' | cut -c1-3)" 404
check "DELETE bob: 200" "$(api DELETE /api/v1/users/bob | cut -c1-3)" 200
out=$(api DELETE /api/v1/users/bob)
check_match "DELETE bob again: 404 in JSON" "$out" "^404 .*\"error\": ?\"no user 'bob'\""
out=$(curl -s -m 10 -i -X PATCH -H "Authorization: Bearer $TOKEN" "$URL/api/v1/users/alice")
check_match "PATCH: 405" "$out" '^HTTP/1.1 405'
check_match "405 names the methods (Allow)" "$out" 'Allow: PUT, DELETE'
check_match "unknown path: 404 in JSON" "$(api GET /api/v1/nothing)" '^404 .*"error"'
# Found by fuzz_admin: a path that decodes to bytes that are not UTF-8
# got a 404 with an empty body (jansson refuses such a string).
check_match "a path decoding to non-UTF-8: 404 in JSON all the same" \
    "$(api GET /api/v1/%FF%C0%AFx)" \
    '^404 .*"error": ?"no such resource: /api/v1/\\u00ff\\u00c0\\u00afx '
out=$(api GET /api/v1/%FF)
printf '%s' "${out#* }" | python3 -c 'import json, sys; json.loads(sys.stdin.buffer.read())'
check "... which a strict JSON parser accepts" "$?" 0

# ---- a real peer against the new password ----
lp=$(peer_port)
timeout 15 sipsak -U -C "sip:alice@127.0.0.1:$lp" -s "sip:alice@localhost:$PORT" -u alice -a apw2 \
    -x 120 >"$TMP/sipsak.out" 2>&1
check "sipsak registers alice with the password set by PUT" "$?" 0
timeout 15 sipsak -U -C "sip:alice@127.0.0.1:$lp" -s "sip:alice@localhost:$PORT" -u alice -a apw \
    -x 120 >"$TMP/sipsak_old.out" 2>&1
check "the old password is refused" "$([ $? -ne 0 ] && echo refused)" refused

out=$(api GET '/api/v1/location?aor=alice@localhost')
check_match "location?aor= shows sipsak's binding" "$out" "^200 .*\"contact\": ?\"sip:alice@127.0.0.1:$lp\""
check_match "location?aor= for another AOR is empty" "$(api GET '/api/v1/location?aor=x@localhost')" \
    '^200 .*"bindings": ?\[\]'
check_match "subscriptions: JSON lists" "$(api GET /api/v1/subscriptions)" \
    '^200 .*"subscriptions": ?\[.*"publications": ?\['
out=$(api GET /api/v1/status)
check_match "status: version, workers, listeners" "$out" \
    "^200 .*\"version\": ?\"[0-9.]+\".*\"workers\": ?2.*\"address\": ?\"127.0.0.1:$PORT\""
check_match "status: the config by section" "$out" '"registrar": ?\{.*"min_expires": ?60'
check_match "status: POST is 405" "$(api POST /api/v1/status '{}')" '^405 '

# ---- metrics ----
curl -s -m 10 -H "Authorization: Bearer $TOKEN" "$URL/metrics" >"$TMP/metrics"
if command -v promtool >/dev/null; then
    promtool check metrics <"$TMP/metrics" >"$TMP/promtool.out" 2>&1
    check "promtool check metrics accepts /metrics" "$?" 0
    [ -s "$TMP/promtool.out" ] && sed 's/^/    promtool: /' "$TMP/promtool.out"
else
    echo "FAIL: promtool missing (Debian package prometheus, scripts/deps)"; FAILS=$((FAILS + 1))
fi
m=$(cat "$TMP/metrics")
check_match "REGISTERs counted by method" "$m" 'sipkit_sip_requests_total\{method="REGISTER"\} [1-9]'
check_match "2xx responses counted" "$m" 'sipkit_sip_responses_total\{class="2xx"\} [1-9]'
check_match "4xx responses counted" "$m" 'sipkit_sip_responses_total\{class="4xx"\} [1-9]'
check_match "the wrong password counted by cause" "$m" \
    'sipkit_auth_failures_total\{cause="wrong_password"\} [1-9]'
check_match "one binding" "$m" 'sipkit_registrar_bindings 1'
check_match "transactions by kind and state" "$m" \
    'sipkit_transactions\{kind="non-invite-server",state="completed"\} [0-9]'
check_match "store commit latency histogram" "$m" 'sipkit_store_commit_seconds_count [1-9]'
check_match "event-loop lag histogram" "$m" 'sipkit_event_loop_lag_seconds_bucket\{le="\+Inf"\} [1-9]'
check_match "resident memory" "$m" 'process_resident_memory_bytes [1-9]'
check_match "subscriptions by package" "$m" 'sipkit_subscriptions\{package="presence"\} 0'

# ---- the command line through the API (--server URL --token-file FILE) ----
cli() { timeout 20 "$SIPKIT" "$@" --server "$URL" --token-file "$TMP/token"; }
out=$(cli status 2>&1)
check_match "sipkit status --server" "$out" "serving localhost, up [0-9]+s, 2 worker"
check_match "... with its listeners" "$out" "^listening: 127.0.0.1:$PORT"
printf 'dpw\n' | cli users add dave --password-stdin >/dev/null 2>&1
check "sipkit users add --server" "$?" 0
check_match "sipkit users list --server" "$(cli users list 2>&1)" 'alice.dave|alice$'
printf 'dpw\n' | cli users add dave --password-stdin >"$TMP/dup.out" 2>&1
check "adding dave twice fails (exit 1)" "$?" 1
check_match "... saying why" "$(cat "$TMP/dup.out")" "409: user 'dave' already exists"
cli users del dave >/dev/null 2>&1
check "sipkit users del --server" "$?" 0
out=$(cli location list alice@localhost 2>&1)
check_match "sipkit location list --server" "$out" "^alice@localhost  <sip:alice@127.0.0.1:$lp>  expires="
timeout 20 "$SIPKIT" status --server "$URL" --token-file /dev/null >/dev/null 2>&1
check "an empty token file: exit 4 (no request made)" "$?" 4
head -c 32 /dev/urandom | base64 >"$TMP/other"
timeout 20 "$SIPKIT" status --server "$URL" --token-file "$TMP/other" >"$TMP/wrong.out" 2>&1
check "a wrong token: exit 5" "$?" 5
check_match "... saying so" "$(cat "$TMP/wrong.out")" '401: wrong token'
check_match "sipkit status without --server reads the data directory" \
    "$("$SIPKIT" status --data-dir "$TMP/data" 2>&1)" 'users: 1'

stop_server
finish
