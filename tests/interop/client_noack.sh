#!/bin/sh
# `sipkit answer` when the caller never sends the ACK for its 200 OK (RFC
# 3261 §13.3.1.4): the 200 is resent (T1, doubling to T2) for 64*T1 = 32 s,
# then the call is ended with BYE and answer exits 3. The caller is a SIPp
# UAC scenario. A test of its own because it takes 33 s (ctest runs it
# beside the others). Every process is bounded and killed by PID.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
SCEN=$(dirname "$0")/scenarios
ANS_PID=""

kill_answer() {
    if [ -n "$ANS_PID" ] && kill -0 "$ANS_PID" 2>/dev/null; then
        kill -KILL "$ANS_PID" 2>/dev/null
    fi
    ANS_PID=""
}
trap 'kill_answer; cleanup' EXIT

ANS_PORT=$(peer_port)
timeout 60 "$SIPKIT" answer --local "127.0.0.1:$ANS_PORT" --ring 0 --timeout 20 -v \
    >"$TMP/answer.out" 2>&1 &
ANS_PID=$!
sleep 0.4
timeout 60 sipp -sf "$SCEN/uac_call_no_ack.xml" "127.0.0.1:$ANS_PORT" -i 127.0.0.1 \
    -p "$(peer_port)" -m 1 -nostdin -timeout 50s -trace_err -error_file "$TMP/sipp.err" \
    >/dev/null 2>&1; sipp_rc=$?
for _ in $(seq 1 50); do kill -0 "$ANS_PID" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$ANS_PID" 2>/dev/null
wait "$ANS_PID"; rc=$?
ANS_PID=""
out=$(cat "$TMP/answer.out")
check "no ACK: answer exit 3" "$rc" 3
check_match "no ACK: said so" "$out" 'no ACK for our 200 OK within 32 s: ending the call with BYE'
check_match "no ACK: BYE answered" "$out" '^hung up: 200$'
# Sent at 0 and resent at 0.5, 1.5, 3.5, 7.5 s and every 4 s up to 32 s.
check "no ACK: the 200 went out 11 times" \
    "$(printf '%s\n' "$out" | grep -c -- '|-- 200 OK (INVITE)')" 11
check "no ACK: SIPp got the BYE" "$sipp_rc" 0
[ "$sipp_rc" = 0 ] || sed 's/^/    /' "$TMP/sipp.err" | tail -n 20
[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
