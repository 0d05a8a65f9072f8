#!/bin/sh
# SIGTERM always ends `sipkit serve`: while it drains an unfinished call
# (a forwarded INVITE nobody answers, drain_timeout 30 s), a second
# SIGTERM ends it at once with status 1 (docs/security.md, "Stopping under
# load").
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
ATTACK="python3 $(dirname "$0")/lib/attack.py"

for u in alice bob; do
    printf 'secret\n' | "$SIPKIT" users add "$u" --password-stdin --data-dir "$TMP/data" \
        --domain example.test >/dev/null
done
start_server --auth-algorithms MD5 --drain-timeout 30
r=$(timeout 20 $ATTACK timers "$PORT")
check_match "an INVITE is left pending" "$r" '^forwarded=1 '
kill -TERM "$SERVER_PID"
for _ in $(seq 1 50); do
    grep -q 'event=draining' "$LOG" && break
    sleep 0.1
done
sleep 1
kill -0 "$SERVER_PID" 2>/dev/null
check "still draining the pending INVITE after the first SIGTERM" "$?" 0
kill -TERM "$SERVER_PID"
for _ in $(seq 1 30); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$SERVER_PID" 2>/dev/null
check "gone within 3 s of the second SIGTERM" "$?" 1
wait "$SERVER_PID"
check "exit status 1" "$?" 1
SERVER_PID=""
check_match "the forced exit is logged" "$(cat "$LOG")" \
    'event=exit status=1 reason="second signal"'
finish
