#!/bin/sh
# Challenge flood against `sipkit serve` (docs/security.md): a python3 sender on
# loopback sends REGISTERs without credentials at RATE/s for SECONDS, each
# from a new branch and Call-ID, as a guessing or scanning tool would; the
# server answers each with a 401 and, as challenges cost no state, must
# keep its peak resident memory (VmHWM) under LIMIT_MB. Prints sent,
# answered, the transactions left at SIGTERM and VmHWM; exits 1 over the
# limit. The rate limit is off (--rate-limit 0) so that every request
# reaches the challenge.
#
#   bench/attack_flood.sh [RATE] [SECONDS]    defaults: 10000/s, 30 s
#   SIPKIT=build/sipkit LIMIT_MB=128 WORKERS=2 SK_PORT=15260
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/.."
RATE=${1:-10000}
SECS=${2:-30}
SIPKIT=${SIPKIT:-build/sipkit}
LIMIT_MB=${LIMIT_MB:-128}
WORKERS=${WORKERS:-2}
SK_PORT=${SK_PORT:-15260}
TMP=$(mktemp -d /tmp/sk-bench-flood.XXXXXX)
. bench/lib.sh

[ -x "$SIPKIT" ] || { echo "build $SIPKIT first (cmake --build build)"; exit 1; }
"$SIPKIT" serve --listen 127.0.0.1:$SK_PORT --data-dir "$TMP/data" --domain bench.test \
    --workers "$WORKERS" --rate-limit 0 2>"$TMP/sipkit.log" &
SK_PID=$!; PIDS="$PIDS $SK_PID"
for _ in $(seq 1 100); do
    grep -q 'event=listening transport=udp' "$TMP/sipkit.log" && break
    sleep 0.1
done
out=$(python3 tests/interop/lib/sipattack.py flood --port "$SK_PORT" --rate "$RATE" \
    --seconds "$SECS" --domain bench.test)
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SK_PID/status")
kill -TERM "$SK_PID"
for _ in $(seq 1 100); do kill -0 "$SK_PID" 2>/dev/null || break; sleep 0.1; done
left=$(sed -n 's/.*event=draining .*transactions=\([0-9]*\).*/\1/p' "$TMP/sipkit.log")
lines=$(wc -l <"$TMP/sipkit.log")
echo "rate=$RATE/s seconds=$SECS $out transactions_at_stop=${left:-?} log_lines=$lines" \
    "vmhwm_kb=$hwm limit_kb=$((LIMIT_MB * 1024))"
[ "${hwm:-0}" -lt $((LIMIT_MB * 1024)) ]
