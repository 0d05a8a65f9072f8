#!/bin/sh
# A subscription flood (RFC 6665 §5.2): one watcher, then one address,
# cannot hold more subscriptions than events.max_subs_per_user and
# events.max_subs_per_address; past the cap each new SUBSCRIBE gets 403
# naming it, while a watcher on another address keeps subscribing, and
# nothing past the cap is stored. The subscriber is an independent digest
# client (lib/digest_uac.py).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
need sqlite3
DOMAIN=example.test

mkdir -p "$TMP/data"
for u in alice carol dave bob; do
    printf 'pw-%s\n' "$u" | "$SIPKIT" users add "$u" --password-stdin \
        --data-dir "$TMP/data" --domain "$DOMAIN" >/dev/null
done
start_server --max-subs-per-user 5 --max-subs-per-address 8 --listen 127.0.0.2:0
# sub USER [BIND]: a new presence subscription to bob; prints the status.
# The watcher stays (answering its NOTIFYs) in the background until the
# test ends, so the subscription lives.
# sub runs in a command substitution, a subshell: its output file comes
# from mktemp and the watcher PIDs go to a file, not to shell variables.
sub() {
    out=$(mktemp "$TMP/sub.XXXXXX")
    timeout 60 python3 "$(dirname "$0")/lib/digest_uac.py" --port "$PORT" --domain "$DOMAIN" \
        --method SUBSCRIBE --uri "sip:bob@$DOMAIN" --user "$1" --password "pw-$1" \
        --bind "${2:-127.0.0.1}" --linger 45 >"$out" 2>&1 &
    echo "$!" >>"$TMP/watchers"
    # digest_uac.py gives up after Timer B (32 s) and prints status=timeout.
    for _ in $(seq 1 400); do
        grep -q '^status=' "$out" 2>/dev/null && break
        sleep 0.1
    done
    sed -n 's/^status=//p' "$out"
}
sub_cleanup() {
    [ -f "$TMP/watchers" ] && for p in $(cat "$TMP/watchers"); do kill "$p" 2>/dev/null; done
    cleanup
}
trap sub_cleanup EXIT

got=""
for i in 1 2 3 4 5 6 7; do got="$got $(sub alice)"; done
check "alice: 5 subscriptions, then 403" "$got" " 200 200 200 200 200 403 403"
check_match "... the reason names the per-user cap" "$(cat "$LOG")" \
    'status=403 reason="Forbidden \(Too Many Subscriptions For User\)"'
got=""
for i in 1 2 3 4; do got="$got $(sub carol)"; done
check "carol, same address: 3 more, then the address cap" "$got" " 200 200 200 403"
check_match "... the reason names the per-address cap" "$(cat "$LOG")" \
    'reason="Forbidden \(Too Many Subscriptions From Address\)"'
check "dave from another address is served" "$(sub dave 127.0.0.2)" 200
check "stored: only what was accepted" \
    "$(sqlite3 "$TMP/data/sipkit.db" 'SELECT count(*) FROM subscriptions')" 9

# The caps hold after a restart: the stored subscriptions count again.
stop_server
start_server --max-subs-per-user 5 --max-subs-per-address 8 --listen 127.0.0.2:0
check "after a restart alice is still at her cap" "$(sub alice)" 403
stop_server
if [ "$FAILS" -ne 0 ]; then
    for f in "$TMP"/sub.*; do echo "== $f"; cat "$f"; done
    echo "$FAILS check(s) failed"; tail -30 "$LOG"; exit 1
fi
echo "attack_subscribe: all checks passed"
