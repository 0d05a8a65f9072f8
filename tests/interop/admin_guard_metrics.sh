#!/bin/sh
# /metrics counts what the guard does (docs/api.md, docs/security.md):
# failed authentications whether logged or summarised, guesses the
# per-user slow-down answered unchecked, bans by reason and in force, and
# messages dropped from banned or flooding addresses. Sources: 127.0.0.1
# guesses alice's password until banned, 127.0.0.4 and .5 guess carol's in
# parallel, 127.0.0.2 floods. GET /api/v1/bans lists the bans, DELETE
# lifts one in the running server.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need curl
need python3
ATTACK="python3 $(dirname "$0")/lib/sipattack.py"

users() { "$SIPKIT" users "$@" --data-dir "$TMP/data" --domain example.test >/dev/null 2>&1; }
printf 'alice-pw\n' | users add alice --password-stdin
printf 'carol-pw\n' | users add carol --password-stdin
umask 077
head -c 32 /dev/urandom | base64 >"$TMP/token"
start_server --admin 127.0.0.1:0 --admin-token-file "$TMP/token" --auth-fail-limit 3 \
    --user-delay-after 2 --user-delay-max 1000 --rate-limit 100 --rate-window 1 \
    --rate-ban-windows 2 --log-summary-interval 60
for _ in $(seq 1 100); do
    APORT=$(sed -n 's/.*event=listening transport=http addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG")
    [ -n "$APORT" ] && break
    sleep 0.1
done
[ -n "$APORT" ] || { echo "FAIL: no admin listening line"; cat "$LOG"; exit 1; }
metrics() {
    curl -s -m 10 -H "Authorization: Bearer $(cat "$TMP/token")" "http://127.0.0.1:$APORT/metrics"
}
value() { # metric line prefix -> its value
    metrics | awk -v k="$1" 'index($0, k " ") == 1 { print $2 }'
}

m=$(metrics)
check_match "no bans at start" "$m" '^sipkit_guard_bans_active 0$'
check_match "nothing dropped at start" "$m" '^sipkit_guard_dropped_total\{reason="banned"\} 0$'

# ---- a ban for failed authentications ----
g=$($ATTACK guess --port "$PORT" --user alice --count 4 --timeout 2 | tr '\n' ' ')
check "3 wrong guesses are answered, the 4th is dropped (banned)" "$g" "401 401 401 timeout "
m=$(metrics)
check_match "the ban counted by reason" "$m" '^sipkit_guard_bans_total\{reason="auth_failures"\} 1$'
check_match "the ban in force" "$m" '^sipkit_guard_bans_active 1$'
check_match "the banned address's request counted as dropped" "$m" \
    '^sipkit_guard_dropped_total\{reason="banned"\} [1-9]'
check_match "every wrong password counted (none summarised away)" "$m" \
    '^sipkit_auth_failures_total\{cause="wrong_password"\} 3$'

# ---- the per-user slow-down: carol's guesses from two addresses ----
$ATTACK guess --src 127.0.0.3 --port "$PORT" --user carol --count 2 --timeout 3 >/dev/null
throttled=0
for _ in 1 2 3; do
    $ATTACK guess --src 127.0.0.4 --port "$PORT" --user carol --count 2 --timeout 3 >/dev/null &
    G4=$!
    $ATTACK guess --src 127.0.0.5 --port "$PORT" --user carol --count 2 --timeout 3 >/dev/null
    wait "$G4"
    throttled=$(value sipkit_auth_throttled_total)
    [ "${throttled:-0}" -gt 0 ] && break
done
check "parallel guesses answered unchecked are counted" \
    "$([ "${throttled:-0}" -gt 0 ] && echo yes)" yes
check_match "... in the log too" "$(cat "$LOG")" 'outcome=throttled|last_cause=user_throttled'

# ---- the flood limit ----
out=$($ATTACK flood --src 127.0.0.2 --port "$PORT" --rate 1000 --seconds 3)
echo "flood: $out"
m=$(metrics)
check_match "messages over the flood limit counted as dropped" "$m" \
    '^sipkit_guard_dropped_total\{reason="rate_limit"\} [1-9]'
check_match "the flood ban counted by reason" "$m" '^sipkit_guard_bans_total\{reason="flood"\} 1$'
check_match "two bans in force" "$m" '^sipkit_guard_bans_active 2$'

# ---- the bans through the JSON API ----
api() { # METHOD PATH -> "STATUS BODY" (body on one line)
    curl -s -m 10 -o "$TMP/body" -w '%{http_code}' -X "$1" \
        -H "Authorization: Bearer $(cat "$TMP/token")" "http://127.0.0.1:$APORT$2" >"$TMP/code"
    printf '%s %s' "$(cat "$TMP/code")" "$(tr -d '\n' <"$TMP/body")"
}
out=""
for _ in $(seq 1 100); do # the guard writes its bans to the store every second or two
    out=$(api GET /api/v1/bans)
    printf '%s' "$out" | grep -q '127.0.0.2' && break
    sleep 0.1
done
check_match "GET /api/v1/bans lists the auth ban" "$out" \
    '^200 .*"address": ?"127.0.0.1", *"reason": ?"auth_failures", *"level": ?1'
check_match "... and the flood ban" "$out" '"address": ?"127.0.0.2", *"reason": ?"flood"'
check_match "POST /api/v1/bans: 405" "$(api POST /api/v1/bans)" '^405 '
check_match "DELETE a ban that is not there: 404 in JSON" "$(api DELETE /api/v1/bans/192.0.2.1)" \
    "^404 .*\"error\": ?\"no ban of '192.0.2.1'\""
check_match "DELETE /api/v1/bans/127.0.0.1: 200" "$(api DELETE /api/v1/bans/127.0.0.1)" \
    '^200 .*"deleted": ?"127.0.0.1"'
n=""
for _ in $(seq 1 100); do
    n=$(value sipkit_guard_bans_active)
    [ "$n" = 1 ] && break
    sleep 0.1
done
check "the running server lifts it: one ban left in force" "$n" 1
r=$($ATTACK register --port "$PORT" --user alice --password alice-pw --timeout 3)
check "127.0.0.1 is served again" "$r" 200

if command -v promtool >/dev/null; then
    metrics | promtool check metrics >"$TMP/promtool.out" 2>&1
    check "promtool check metrics accepts the guard's families" "$?" 0
    [ -s "$TMP/promtool.out" ] && sed 's/^/    promtool: /' "$TMP/promtool.out"
fi
stop_server
finish
