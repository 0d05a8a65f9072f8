#!/bin/sh
# Floods (docs/security.md). First, challenges cost no memory: REGISTERs
# without credentials at 10k/s for a few seconds (bench/attack_flood.sh
# runs it longer) leave no transaction behind and keep the peak RSS
# (VmHWM) under 128 MB. Then the per-address rate limit: a flood from
# 127.0.0.1 is mostly dropped and the address banned, while 127.0.0.2
# keeps registering and a trusted address is not limited at all.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
ATTACK="python3 $(dirname "$0")/lib/sipattack.py"
SECONDS_FLOOD=${FLOOD_SECONDS:-4}

hwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status"; }

# A sanitizer build keeps freed memory in quarantine (256 MB by default):
# shrink it so the peak measures what the server holds.
if ldd "$SIPKIT" 2>/dev/null | grep -q libasan; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8:thread_local_quarantine_size_kb=64"
fi

printf 'bob-pw\n' | "$SIPKIT" users add bob --password-stdin --data-dir "$TMP/data" \
    --domain example.test >/dev/null 2>&1

# ---- challenges cost no memory (rate limit off to let the flood in) ----
start_server --rate-limit 0
out=$($ATTACK flood --port "$PORT" --rate 10000 --seconds "$SECONDS_FLOOD")
echo "flood: $out, VmHWM $(hwm_kb) kB"
received=$(printf '%s' "$out" | sed -n 's/.*received=\([0-9]*\).*/\1/p')
check "the flood was answered (challenges)" "$([ "${received:-0}" -gt 1000 ] && echo yes)" yes
check "peak RSS under 128 MB" "$([ "$(hwm_kb)" -lt 131072 ] && echo yes)" yes
stop_server
check_match "no transaction kept for the challenges" "$(cat "$LOG")" \
    'event=draining timeout_s=[0-9]+ transactions=0'

# ---- per-address rate limit, ban, trusted exemption ----
rm -f "$LOG"
start_server --rate-limit 100 --rate-window 1 --rate-ban-windows 2 --trusted 127.0.0.3
(
    while [ ! -e "$TMP/stop" ]; do
        $ATTACK register --src 127.0.0.2 --port "$PORT" --user bob --password bob-pw \
            --timeout 3 >>"$TMP/bob.out"
        sleep 0.2
    done
) &
BOB=$!
out=$($ATTACK flood --port "$PORT" --rate 1000 --seconds 3)
echo "limited flood: $out"
sent=$(printf '%s' "$out" | sed -n 's/sent=\([0-9]*\).*/\1/p')
received=$(printf '%s' "$out" | sed -n 's/.*received=\([0-9]*\).*/\1/p')
check "over the limit is dropped (under a third answered)" \
    "$([ "$((received * 3))" -lt "$sent" ] && echo yes)" yes
check_match "a sustained flood bans the address" "$(cat "$LOG")" \
    'event=ban src=127\.0\.0\.1 reason=flood'
check_match "drops are summarised" "$(cat "$LOG")" \
    'event=dropped_summary src=127\.0\.0\.1 count=[0-9]+ reason=(rate_limit|banned)'
out=$($ATTACK flood --src 127.0.0.3 --port "$PORT" --rate 500 --seconds 2)
echo "trusted flood: $out"
sent=$(printf '%s' "$out" | sed -n 's/sent=\([0-9]*\).*/\1/p')
received=$(printf '%s' "$out" | sed -n 's/.*received=\([0-9]*\).*/\1/p')
check "a trusted address is not limited (9 in 10 answered)" \
    "$([ "$((received * 10))" -ge "$((sent * 9))" ] && echo yes)" yes
touch "$TMP/stop"
wait "$BOB"
n=$(grep -c . "$TMP/bob.out")
check "bob registered from 127.0.0.2 throughout" "$([ "$n" -ge 3 ] && echo yes)" yes
check "... every time with 200" "$(grep -vc '^200$' "$TMP/bob.out")" 0
stop_server
finish
