#!/bin/sh
# A 200 OK to REGISTER is a promise: four SIPp instances register four
# users with a new Contact per call (bounded: 1000 calls at most), the
# server is killed with SIGKILL in the middle of the load, and every
# binding SIPp saw acknowledged must be listed by `sipkit location list`;
# the restarted server loads them all.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
SCEN=$(dirname "$0")/scenarios

mkdir -p "$TMP/data"
USERS=4
for i in $(seq 1 $USERS); do
    printf 'pw%d\n' "$i" | "$SIPKIT" users add "load$i" --password-stdin --data-dir "$TMP/data" \
        --domain example.test >/dev/null || exit 1
done
start_server --max-contacts 256 --trusted 127.0.0.1 # a load test, not a flood

# One SIPp per user, at most 250 bindings each, all at once.
SIPP_PIDS=""
for i in $(seq 1 $USERS); do
    lp=$(( $(peer_port) + i ))
    timeout 60 sipp 127.0.0.1:"$PORT" -sf "$SCEN/register_load.xml" -s "load$i" -au "load$i" \
        -ap "pw$i" -t u1 -i 127.0.0.1 -p "$lp" -m 250 -r 100 -l 100 -timeout 40s \
        -recv_timeout 3000 -nostdin -trace_logs -log_file "$TMP/load$i.log" \
        >"$TMP/load$i.out" 2>&1 &
    SIPP_PIDS="$SIPP_PIDS $!"
done
acked_now() { cat "$TMP"/load*.log 2>/dev/null | grep -c '^acked ' || true; }
# Kill the server once a good number of registrations were acknowledged
# (within 30 s: 3 s on an idle machine, far more on a loaded CI runner).
for _ in $(seq 1 300); do
    [ "$(acked_now)" -ge 300 ] && break
    sleep 0.1
done
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""
for p in $SIPP_PIDS; do kill -TERM "$p" 2>/dev/null; done
for p in $SIPP_PIDS; do wait "$p" 2>/dev/null; done
cat "$TMP"/load*.log >"$TMP/load.log"
acked=$(grep -c '^acked ' "$TMP/load.log")
echo "acknowledged before the kill: $acked"
check "at least 300 registrations were acknowledged" "$([ "$acked" -ge 300 ] && echo yes)" yes

"$SIPKIT" location list --data-dir "$TMP/data" >"$TMP/list.txt"
grep -o '^load[0-9]*@example\.test  <sip:[^>]*>' "$TMP/list.txt" \
    | sed 's/  <sip:/ /; s/>$//; s/@127\.0\.0\.1:[0-9]*$/@/' | sort -u >"$TMP/listed.txt"
sed -n 's/^acked \([^ ]*\) \([^ ]*\)$/\1 \2/p' "$TMP/load.log" | sort -u >"$TMP/acked.txt"
missing=$(comm -23 "$TMP/acked.txt" "$TMP/listed.txt" | wc -l)
check "every acknowledged binding survived kill -9" "$missing" 0
comm -23 "$TMP/acked.txt" "$TMP/listed.txt" | head -5

# The restarted server loads them.
start_server --max-contacts 256 --trusted 127.0.0.1 # a load test, not a flood
loaded=$(sed -n 's/.*event=location_loaded bindings=\([0-9]*\).*/\1/p' "$LOG" | tail -n 1)
listed=$(wc -l <"$TMP/listed.txt")
check "the restarted server loaded at least every acknowledged binding" \
    "$([ "${loaded:-0}" -ge "$acked" ] && [ "$loaded" -ge "$listed" ] && echo yes)" yes
stop_server
finish
