#!/bin/sh
# sipkit against sipkit: `sipkit call` -> `sipkit answer` directly over
# loopback (UDP and TCP: INVITE, 180, 200, ACK, BYE on both sides), a call
# rejected by `answer --reject 486`, and `sipkit options` / `message`
# against `sipkit serve`. Every process is bounded and killed by PID.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
ANS_PID=""

kill_answer() {
    if [ -n "$ANS_PID" ] && kill -0 "$ANS_PID" 2>/dev/null; then
        kill -KILL "$ANS_PID" 2>/dev/null
    fi
    ANS_PID=""
}
trap 'kill_answer; cleanup' EXIT

# start_answer TRANSPORT [args]: `sipkit answer` on a free port (ANS_PORT).
start_answer() {
    t=$1; shift
    ANS_PORT=$(peer_port)
    ANS_OUT=$TMP/answer-$t.out
    "$SIPKIT" answer --user sip:bob@127.0.0.1 --local "127.0.0.1:$ANS_PORT" --transport "$t" \
        --ring 0 --timeout 20 "$@" >"$ANS_OUT" 2>&1 &
    ANS_PID=$!
    for _ in $(seq 1 50); do
        grep -q '^listening on' "$ANS_OUT" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "FAIL: answer did not start"; cat "$ANS_OUT"; FAILS=$((FAILS + 1))
}

# wait_answer: its exit status (killed after 10 s).
wait_answer() {
    for _ in $(seq 1 100); do kill -0 "$ANS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ANS_PID" 2>/dev/null
    wait "$ANS_PID"; ANS_RC=$?
    ANS_PID=""
}

for t in udp tcp; do
    start_answer "$t"
    out=$(timeout 20 "$SIPKIT" call "sip:bob@127.0.0.1:$ANS_PORT" --transport "$t" --duration 1 \
        2>&1); rc=$?
    wait_answer
    check "call -> answer ($t): caller exit 0" "$rc" 0
    check_match "call -> answer ($t): caller saw 180 and 200" "$out" 'progress: 180 Ringing'
    check_match "call -> answer ($t): caller hung up" "$out" 'hung up: 200'
    check "call -> answer ($t): answerer exit 0" "$ANS_RC" 0
    check_match "call -> answer ($t): answerer got the ACK" "$(cat "$ANS_OUT")" \
        'call established \(ACK received\)'
    check_match "call -> answer ($t): answerer got the BYE" "$(cat "$ANS_OUT")" 'the caller hung up'
done

start_answer udp --reject 486
out=$(timeout 20 "$SIPKIT" call "sip:bob@127.0.0.1:$ANS_PORT" 2>&1); rc=$?
wait_answer
check "call rejected by answer: exit 1" "$rc" 1
check_match "call rejected by answer: Busy Here named" "$out" '486 Busy Here'

# answer with nobody calling: exit 3 after --timeout.
ANS_PORT=$(peer_port)
timeout 20 "$SIPKIT" answer --local "127.0.0.1:$ANS_PORT" --timeout 1 >/dev/null 2>"$TMP/idle.err"
check "answer with no call: exit 3" "$?" 3
check_match "answer with no call: says so" "$(cat "$TMP/idle.err")" 'no call within 1 s'

# Against sipkit serve, whose registrar verifies the digest.
echo secret | "$SIPKIT" users add alice --password-stdin --data-dir "$TMP/data" \
    --domain example.test >/dev/null 2>&1
start_server
out=$(echo secret | timeout 20 "$SIPKIT" register sip:alice@example.test --proxy "127.0.0.1:$PORT" \
    --password-stdin --expires 60 2>&1); rc=$?
check "register -> serve: exit 0" "$rc" 0
check_match "register -> serve: our binding listed" "$out" 'expires in 60 s \(this one\)'
out=$(echo wrong | timeout 20 "$SIPKIT" register sip:alice@example.test --proxy "127.0.0.1:$PORT" \
    --password-stdin 2>&1); rc=$?
check "register -> serve, wrong password: exit 5" "$rc" 5
check_match "register -> serve, wrong password: in those words" "$out" \
    "wrong credentials: .* user 'alice' in realm 'example\\.test'"
out=$(timeout 20 "$SIPKIT" options "sip:127.0.0.1:$PORT" 2>&1); rc=$?
check "options -> serve (udp): exit 0" "$rc" 0
check_match "options -> serve: Allow printed" "$out" '^Allow: .*OPTIONS'
out=$(timeout 20 "$SIPKIT" options "sip:127.0.0.1:$PORT" --transport tcp --json 2>&1); rc=$?
check "options -> serve (tcp, json): exit 0" "$rc" 0
check_match "options -> serve: JSON status" "$out" '"status":200,"reason":"OK"'
# (the proxy forwards to registered users: alice's binding above is a
# process that is gone, so a user nobody registered gets a quick 480; the
# sender names another domain, since a From with the server's own address
# claims to be a local user and is challenged)
out=$(timeout 20 "$SIPKIT" message "sip:nobody@127.0.0.1:$PORT" hello \
    --user sip:tester@elsewhere.example 2>&1); rc=$?
check "message -> serve: non-2xx exit 1" "$rc" 1
check_match "message -> serve: the final response explained" "$out" \
    "127\\.0\\.0\\.1:$PORT answered [0-9]{3} [A-Za-z ]+: "
stop_server
finish
