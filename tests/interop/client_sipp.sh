#!/bin/sh
# The client commands against SIPp UAS scenarios over loopback: OPTIONS,
# REGISTER with a 401 challenge, wrong password (401 twice -> exit 5),
# stale nonce, a call answered (SIPp expects the ACK and the BYE), a call
# rejected with 486, a call cancelled by SIGINT while ringing, no answer
# (CANCEL at --timeout, exit 3), no response at all (exit 3 naming the
# address), and SUBSCRIBE with two NOTIFYs. Every peer runs under timeout
# and is killed by PID.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
SCEN=$(dirname "$0")/scenarios
UAS_PID=""
ANS_PID=""

kill_uas() {
    if [ -n "$ANS_PID" ] && kill -0 "$ANS_PID" 2>/dev/null; then
        kill -KILL "$ANS_PID" 2>/dev/null
    fi
    if [ -n "$UAS_PID" ] && kill -0 "$UAS_PID" 2>/dev/null; then
        kill -TERM "$UAS_PID" 2>/dev/null
        sleep 0.2
        kill -KILL "$UAS_PID" 2>/dev/null
    fi
    UAS_PID=""
}
trap 'kill_uas; cleanup' EXIT

# start_uas SCENARIO: SIPp answers one call on a free port (UAS_PORT).
start_uas() {
    UAS_PORT=$(peer_port)
    UAS_LOG=$TMP/$1.log
    timeout 30 sipp -sf "$SCEN/$1" -i 127.0.0.1 -p "$UAS_PORT" -m 1 -nostdin -timeout 25s \
        -trace_logs -log_file "$UAS_LOG" -trace_err -error_file "$TMP/$1.err" \
        >"$TMP/$1.out" 2>&1 &
    UAS_PID=$!
    sleep 0.4
}

# wait_uas: SIPp's exit status (0: the scenario ran as written).
wait_uas() {
    wait "$UAS_PID"; UAS_RC=$?
    UAS_PID=""
    if [ "$UAS_RC" != 0 ]; then
        echo "  SIPp said:"; sed 's/^/    /' "$TMP"/*.err 2>/dev/null | tail -n 5
    fi
}

# 1. OPTIONS answered 200: status and capability headers printed.
start_uas uas_options.xml
out=$(timeout 20 "$SIPKIT" options "sip:127.0.0.1:$UAS_PORT" 2>&1); rc=$?
wait_uas
check "options: exit 0" "$rc" 0
check_match "options: status printed" "$out" '^200 OK from 127\.0\.0\.1:[0-9]+'
check_match "options: Allow printed" "$out" '^Allow: INVITE, ACK, CANCEL, BYE, OPTIONS$'
check_match "options: Supported printed" "$out" '^Supported: replaces, timer$'
check_match "options: Server printed" "$out" '^Server: sipp-uas-test$'
check "options: SIPp scenario passed" "$UAS_RC" 0

# 2. REGISTER: 401 -> credentials (the strongest algorithm offered) -> 200.
start_uas uas_register_auth.xml
out=$(echo secret | timeout 20 "$SIPKIT" register "sip:alice@127.0.0.1:$UAS_PORT" --password-stdin \
    --expires 120 2>&1); rc=$?
wait_uas
check "register 401/200: exit 0" "$rc" 0
check_match "register: our binding shown" "$out" 'expires in 120 s \(this one\)'
check_match "register: the other binding shown" "$out" '<sip:alice@192\.0\.2\.7:5060> expires in 3000 s'
check "register: SIPp saw Authorization (SHA-256) and CSeq 2" "$UAS_RC" 0

# 3. Wrong password: a second 401 is not answered again.
start_uas uas_register_wrong.xml
out=$(SIPKIT_PASSWORD=wrong timeout 20 "$SIPKIT" register "sip:alice@127.0.0.1:$UAS_PORT" -v 2>&1)
rc=$?
wait_uas
check "wrong password: exit 5" "$rc" 5
check_match "wrong password: said in those words" "$out" 'wrong credentials: .*realm .example\.test.'
check "wrong password: two REGISTERs, no third" "$(printf '%s\n' "$out" | grep -c '|-- REGISTER')" 2
check_match "wrong password: each 401 explained in the ladder" "$out" '^ +\|   401 Unauthorized: '
check "wrong password: SIPp scenario passed" "$UAS_RC" 0

# 4. Stale nonce: 401, 401 stale=true, 200.
start_uas uas_register_stale.xml
out=$(echo secret | timeout 20 "$SIPKIT" register "sip:alice@127.0.0.1:$UAS_PORT" --password-stdin \
    2>&1); rc=$?
wait_uas
check "stale nonce: exit 0" "$rc" 0
check "stale nonce: SIPp saw the fresh nonce with CSeq 3" "$UAS_RC" 0

# 5. No password at all: exit 5 with advice.
start_uas uas_register_wrong.xml
out=$(timeout 20 "$SIPKIT" register "sip:alice@127.0.0.1:$UAS_PORT" 2>&1 </dev/null); rc=$?
kill_uas
check "no password: exit 5" "$rc" 5
check_match "no password: says how to give one" "$out" 'asks for credentials.*--password-stdin'

# 6. Call answered: 1xx shown, ACK for the 2xx, BYE after --duration.
start_uas uas_call_answer.xml
out=$(timeout 20 "$SIPKIT" call "sip:uas@127.0.0.1:$UAS_PORT" --duration 1 2>&1); rc=$?
wait_uas
check "call answered: exit 0" "$rc" 0
check_match "call answered: progress shown" "$out" 'progress: 180 Ringing'
check_match "call answered: hung up with BYE" "$out" 'hung up: 200'
check "call answered: SIPp got the ACK (to the Contact, CSeq 1) and the BYE" "$UAS_RC" 0

# 7. Call rejected: 486, exit 1, named.
start_uas uas_call_busy.xml
out=$(timeout 20 "$SIPKIT" call "sip:uas@127.0.0.1:$UAS_PORT" 2>&1); rc=$?
wait_uas
check "call rejected: exit 1" "$rc" 1
check_match "call rejected: message names Busy Here" "$out" '486 Busy Here'
check "call rejected: SIPp got the ACK for the 486" "$UAS_RC" 0

# 7b. A forked call answered twice: the first 200 is the call, the second
# (another To tag) gets its ACK and a BYE at once (RFC 3261 §13.2.2.4).
start_uas uas_call_fork.xml
out=$(timeout 20 "$SIPKIT" call "sip:uas@127.0.0.1:$UAS_PORT" --duration 1 2>&1); rc=$?
wait_uas
check "forked call: exit 0" "$rc" 0
check_match "forked call: the other answer named" "$out" \
    "another branch answered: 200 OK from <sip:uas-b@127\\.0\\.0\\.1:$UAS_PORT>; hanging it up"
check_match "forked call: the other answer hung up" "$out" 'hung up the other answer: 200'
check_match "forked call: the call hung up after its duration" "$out" '^hung up: 200'
check "forked call: SIPp got ACK A, ACK B, BYE B, then BYE A" "$UAS_RC" 0

# 7c. `sipkit answer` resends its 200 until the ACK (§13.3.1.4): SIPp
# acknowledges only 1.2 s after the 200 OK.
ANS_PORT=$(peer_port)
timeout 20 "$SIPKIT" answer --local "127.0.0.1:$ANS_PORT" --ring 0 --timeout 15 -v \
    >"$TMP/late.out" 2>&1 &
ANS_PID=$!
sleep 0.4
timeout 20 sipp -sf "$SCEN/uac_call_late_ack.xml" "127.0.0.1:$ANS_PORT" -i 127.0.0.1 \
    -p "$(peer_port)" -m 1 -nostdin -timeout 15s -trace_err -error_file "$TMP/late.err" \
    >/dev/null 2>&1; UAS_RC=$?
for _ in $(seq 1 50); do kill -0 "$ANS_PID" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$ANS_PID" 2>/dev/null
wait "$ANS_PID"; rc=$?
ANS_PID=""
late=$(cat "$TMP/late.out")
check "late ACK: answer exit 0" "$rc" 0
check "late ACK: SIPp scenario passed" "$UAS_RC" 0
n200=$(printf '%s\n' "$late" | grep -c -- '|-- 200 OK (INVITE)')
check "late ACK: the 200 went out again before the ACK" "$([ "$n200" -ge 2 ] && echo yes)" yes
check "late ACK: no 200 after the ACK" \
    "$(printf '%s\n' "$late" | sed -n '/ACK (CSeq 1)/,$p' | grep -c -- '|-- 200 OK (INVITE)')" 0

# 8. Call cancelled: SIGINT while ringing sends CANCEL; 487, exit 1.
start_uas uas_call_ringing.xml
"$SIPKIT" call "sip:uas@127.0.0.1:$UAS_PORT" >"$TMP/cancel.out" 2>&1 &
CALL_PID=$!
for _ in $(seq 1 50); do
    grep -q 'progress: 180' "$TMP/cancel.out" 2>/dev/null && break
    sleep 0.1
done
kill -INT "$CALL_PID"
for _ in $(seq 1 100); do kill -0 "$CALL_PID" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$CALL_PID" 2>/dev/null
wait "$CALL_PID"; rc=$?
wait_uas
check "call cancelled: exit 1" "$rc" 1
check_match "call cancelled: 487 reported" "$(cat "$TMP/cancel.out")" '487 Request Terminated'
check "call cancelled: SIPp got CANCEL and the ACK for the 487" "$UAS_RC" 0

# 9. No answer: ringing past --timeout -> CANCEL, exit 3.
start_uas uas_call_ringing.xml
out=$(timeout 20 "$SIPKIT" call "sip:uas@127.0.0.1:$UAS_PORT" --timeout 2 2>&1); rc=$?
wait_uas
check "no answer: exit 3" "$rc" 3
check_match "no answer: says so, with the address" "$out" "no answer from 127\\.0\\.0\\.1:$UAS_PORT"
check "no answer: SIPp got the CANCEL" "$UAS_RC" 0

# 10. No response at all: exit 3 naming the address tried.
silent=$(peer_port)
out=$(timeout 20 "$SIPKIT" options "sip:127.0.0.1:$silent" --timeout 1 2>&1); rc=$?
check "no response: exit 3" "$rc" 3
check_match "no response: the address tried" "$out" "no response from 127\\.0\\.0\\.1:$silent \\(udp\\)"

# 11. SUBSCRIBE: two NOTIFYs printed, then unsubscribe.
start_uas uas_subscribe.xml
out=$(timeout 20 "$SIPKIT" subscribe "sip:alice@127.0.0.1:$UAS_PORT" --event presence --count 2 \
    2>&1); rc=$?
wait_uas
check "subscribe: exit 0" "$rc" 0
check_match "subscribe: first NOTIFY" "$out" 'NOTIFY 1 \(active;expires=600\)'
check_match "subscribe: second NOTIFY" "$out" 'NOTIFY 2 \(active;expires=590\)'
check "subscribe: both bodies printed, in order" \
    "$(printf '%s\n' "$out" | grep -o '<basic>[a-z]*</basic>' | tr '\n' ' ')" \
    '<basic>open</basic> <basic>closed</basic> '
check_match "subscribe: final NOTIFY terminated" "$out" 'NOTIFY 3 \(terminated'
check "subscribe: SIPp got 200s and the unsubscribe" "$UAS_RC" 0

[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
