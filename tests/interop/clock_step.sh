#!/bin/sh
# Timers do not follow the wall clock: with CLOCK_REALTIME read an hour
# ahead of the system's (an LD_PRELOAD shim; the same as the clock being
# stepped back an hour after being read), the server still retransmits an
# unanswered INVITE it forwarded over UDP after RFC 3261 Timer A (500 ms).
# A timer thread that waited on a wall-clock deadline slept for the hour.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
need cc
ATTACK="python3 $(dirname "$0")/lib/attack.py"

cc -shared -fPIC -o "$TMP/clockshift.so" "$(dirname "$0")/lib/clockshift.c" ||
    { echo "FAIL: cannot build the clock shim"; exit 1; }
for u in alice bob; do
    printf 'secret\n' | "$SIPKIT" users add "$u" --password-stdin --data-dir "$TMP/data" \
        --domain example.test >/dev/null
done
# ASan wants to be first in the library list; the shim does not care.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
LD_PRELOAD=$TMP/clockshift.so SK_CLOCK_SHIFT=3600 start_server --auth-algorithms MD5
check_match "the shim is in effect (log timestamps an hour ahead)" "$(head -n 1 "$LOG")" \
    "ts=($(date -u -d '+1 hour' +%Y-%m-%dT%H)|$(date -u -d '+1 hour -20 sec' +%Y-%m-%dT%H))"
r=$(timeout 20 $ATTACK timers "$PORT")
echo "timers: $r"
check_match "the INVITE was forwarded and retransmitted by Timer A" "$r" \
    '^forwarded=1 retransmitted=1 after=0\.[4-9]'
stop_server
finish
