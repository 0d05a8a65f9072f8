#!/bin/sh
# The client commands against `sipkit serve` on loopback, with users made
# by `sipkit users add`: register (the acceptance contract, the binding seen
# by `sipkit location list`, wrong password, --unregister, --unregister
# --all, --keep refreshing and unregistering on SIGINT), options (direct and
# through --proxy), subscribe to a user's presence while publish changes it
# (text and --json), message between two registered users, and two sipkit
# clients calling each other through the proxy (UDP and TCP: 407 answered,
# 180, 200, ACK, BYE), a call rejected with 486, a call nobody answers
# (CANCEL at --timeout) and one cancelled by SIGINT while ringing. Every
# process is bounded by `timeout` and killed by PID.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
BG_PID=""
CALL_PID=""

kill_bg() {
    for p in "$BG_PID" "$CALL_PID"; do
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
            kill -KILL "$p" 2>/dev/null
        fi
    done
    BG_PID=""
    CALL_PID=""
}
trap 'kill_bg; cleanup' EXIT

# wait_for FILE PATTERN SECONDS: 0 once PATTERN (grep -E) is in FILE.
wait_for() {
    for _ in $(seq 1 $(($3 * 10))); do
        grep -Eq "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# wait_bg SECONDS: the background command's exit status (killed when it
# is still running after SECONDS).
wait_bg() {
    for _ in $(seq 1 $(($1 * 10))); do kill -0 "$BG_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BG_PID" 2>/dev/null
    wait "$BG_PID"; BG_RC=$?
    BG_PID=""
}

for u in alice:pw-alice bob:pw-bob; do
    echo "${u#*:}" | "$SIPKIT" users add "${u%%:*}" --password-stdin --data-dir "$TMP/data" \
        --domain example.test >/dev/null 2>&1
done
# --min-expires 2: so that --keep refreshes within the test.
start_server --min-expires 2
PX=127.0.0.1:$PORT
locations() { "$SIPKIT" location list "$1" --data-dir "$TMP/data" 2>&1; }

# ---- register -----------------------------------------------------------------
# The acceptance contract: exit 0 on the 2xx, the bindings shown.
out=$(echo pw-alice | timeout 20 "$SIPKIT" register sip:alice@example.test --password-stdin \
    --proxy "$PX" --expires 60 2>&1); rc=$?
check "register: exit 0" "$rc" 0
check_match "register: 200 named" "$out" '^registered sip:alice@example\.test \(200 OK\)$'
check_match "register: our binding shown" "$out" \
    '^  <sip:alice@127\.0\.0\.1:[0-9]+> expires in 60 s \(this one\)$'
mine=$(printf '%s\n' "$out" | sed -n 's/^  <\(sip:[^>]*\)> expires in 60 s (this one)$/\1/p')
check_match "register: location list has the binding" "$(locations alice@example.test)" \
    "^alice@example\\.test  <${mine//./\\.}>  expires=(60|5[0-9])$"

out=$(echo wrong | timeout 20 "$SIPKIT" register sip:alice@example.test --password-stdin \
    --proxy "$PX" 2>&1); rc=$?
check "register, wrong password: exit 5" "$rc" 5
check_match "register, wrong password: in those words" "$out" \
    "wrong credentials: 127\\.0\\.0\\.1:$PORT refused the password for user 'alice' in realm 'example\\.test'"

# --unregister from a new process: the same --local names the same Contact.
LP=$(peer_port)
out=$(echo pw-alice | timeout 20 "$SIPKIT" register sip:alice@example.test --password-stdin \
    --proxy "$PX" --expires 60 --local "127.0.0.1:$LP" 2>&1); rc=$?
check "register --local: exit 0" "$rc" 0
check "register --local: two bindings now" "$(locations alice@example.test | grep -c '^alice')" 2
out=$(echo pw-alice | timeout 20 "$SIPKIT" register sip:alice@example.test --password-stdin \
    --proxy "$PX" --unregister --local "127.0.0.1:$LP" 2>&1); rc=$?
check "register --unregister: exit 0" "$rc" 0
check_match "register --unregister: says so" "$out" '^unregistered sip:alice@example\.test \(200 OK\)'
check_match "register --unregister: the other binding remains" "$out" \
    "^  <${mine//./\\.}> expires in [0-9]+ s$"
check "register --unregister: location list lost that binding" \
    "$(locations alice@example.test | grep -c "127\\.0\\.0\\.1:$LP>")" 0
# --unregister --all: Contact: * removes the binding of the gone process too.
out=$(echo pw-alice | timeout 20 "$SIPKIT" register sip:alice@example.test --password-stdin \
    --proxy "$PX" --unregister --all -vv 2>&1); rc=$?
check "register --unregister --all: exit 0" "$rc" 0
check_match "register --unregister --all: Contact: * sent" "$out" '^ +\|     Contact: \*$'
check_match "register --unregister --all: no bindings left" "$out" '^  \(no bindings\)$'
check "register --unregister --all: location list empty" "$(locations alice@example.test)" \
    "no bindings for alice@example.test"
out=$(timeout 20 "$SIPKIT" register sip:alice@example.test --all --password x 2>&1); rc=$?
check "register --all without --unregister: usage error" "$rc" 2

# --keep: short lifetime, at least one refresh, SIGINT unregisters.
echo pw-alice | "$SIPKIT" register sip:alice@example.test --password-stdin --proxy "$PX" \
    --expires 2 --keep >"$TMP/keep.out" 2>&1 &
BG_PID=$!
wait_for "$TMP/keep.out" '^refreshed: expires in 2 s' 10
check_match "register --keep: refreshed" "$(cat "$TMP/keep.out")" '^refreshed: expires in 2 s$'
check "register --keep: bound meanwhile" "$(locations alice@example.test | grep -c '^alice')" 1
kill -INT "$BG_PID"
wait_bg 10
check "register --keep: exit 0 after SIGINT" "$BG_RC" 0
check_match "register --keep: unregistered on SIGINT" "$(cat "$TMP/keep.out")" \
    '^unregistered sip:alice@example\.test \(200 OK\)'
check "register --keep: location list empty" "$(locations alice@example.test)" \
    "no bindings for alice@example.test"

# ---- options ------------------------------------------------------------------
out=$(timeout 20 "$SIPKIT" options "sip:127.0.0.1:$PORT" 2>&1); rc=$?
check "options: exit 0" "$rc" 0
check_match "options: status line" "$out" "^200 OK from 127\\.0\\.0\\.1:$PORT$"
out=$(timeout 20 "$SIPKIT" options sip:example.test --proxy "$PX" 2>&1); rc=$?
check "options --proxy: exit 0" "$rc" 0
check_match "options --proxy: answered by the proxy" "$out" "^200 OK from 127\\.0\\.0\\.1:$PORT$"

# ---- subscribe / publish --------------------------------------------------------
# subscribe_publish STATUS1 STATUS2 [--json]: alice watches bob's presence;
# the first NOTIFY must say STATUS1; bob publishes STATUS2; the second says so.
subscribe_publish() {
    s_out=$TMP/sub-$2$3.out
    echo pw-alice | "$SIPKIT" subscribe sip:bob@example.test --event presence \
        --user alice@example.test --password-stdin --proxy "$PX" --count 2 --timeout 20 $3 \
        >"$s_out" 2>&1 &
    BG_PID=$!
    wait_for "$s_out" '(^NOTIFY 1|"notify":1)' 10
    out=$(echo pw-bob | timeout 20 "$SIPKIT" publish sip:bob@example.test --status "$2" \
        --user bob@example.test --password-stdin --proxy "$PX" --expires 600 2>&1); rc=$?
    check "publish $2: exit 0" "$rc" 0
    wait_bg 15
    check "subscribe$3: exit 0" "$BG_RC" 0
    check "subscribe$3: the NOTIFY bodies, in order" \
        "$(grep -o '<basic>[a-z]*</basic>' "$s_out" | head -n 2 | tr '\n' ' ')" \
        "<basic>$1</basic> <basic>$2</basic> "
}
subscribe_publish closed open
check_match "subscribe: text output" "$(cat "$TMP/sub-open.out")" '^NOTIFY 2 \(active;expires=[0-9]+\):'
subscribe_publish open closed --json
check_match "subscribe --json: one object per NOTIFY" "$(cat "$TMP/sub-closed--json.out")" \
    '^\{"notify":2,"subscription_state":"active;expires=[0-9]+","content_type":"application/pidf\+xml","body":"'

# ---- bob answers: message, then calls ---------------------------------------------
# start_bob TRANSPORT [answer args]: bob registered through the proxy.
start_bob() {
    t=$1; shift
    B_OUT=$TMP/bob-$t-$#.out
    echo pw-bob | "$SIPKIT" answer --user bob@example.test --password-stdin --register \
        --proxy "$PX" --transport "$t" --ring 0 --timeout 20 "$@" >"$B_OUT" 2>&1 &
    BG_PID=$!
    wait_for "$B_OUT" '^registered sip:bob@example\.test' 10 ||
        { echo "FAIL: bob did not register"; cat "$B_OUT"; FAILS=$((FAILS + 1)); }
}

for t in udp tcp; do
    start_bob "$t"
    out=$(echo pw-alice | timeout 20 "$SIPKIT" message sip:bob@example.test "hello bob" \
        --user alice@example.test --password-stdin --proxy "$PX" --transport "$t" 2>&1); rc=$?
    check "message alice -> bob ($t): exit 0" "$rc" 0
    check_match "message alice -> bob ($t): bob printed it" "$(cat "$B_OUT")" \
        '^message from sip:alice@example\.test: hello bob$'
    out=$(echo pw-alice | timeout 20 "$SIPKIT" call sip:bob@example.test --user alice@example.test \
        --password-stdin --proxy "$PX" --transport "$t" --duration 1 -v 2>&1); rc=$?
    wait_bg 10
    check "call alice -> bob ($t): caller exit 0" "$rc" 0
    check_match "call alice -> bob ($t): 407 answered" "$out" \
        '\|<-+ 407 Proxy Authentication Required \(INVITE\)'
    check_match "call alice -> bob ($t): ringing" "$out" '^progress: 180 Ringing$'
    check_match "call alice -> bob ($t): answered" "$out" '^answered: 200 OK$'
    check_match "call alice -> bob ($t): ACK sent" "$out" '\|-- ACK \(CSeq 2\)'
    check_match "call alice -> bob ($t): hung up" "$out" '^hung up: 200$'
    check "call alice -> bob ($t): bob exit 0" "$BG_RC" 0
    check_match "call alice -> bob ($t): bob got the ACK" "$(cat "$B_OUT")" \
        '^call established \(ACK received\)$'
    check_match "call alice -> bob ($t): bob got the BYE" "$(cat "$B_OUT")" '^the caller hung up$'
done

start_bob udp --reject 486
out=$(echo pw-alice | timeout 20 "$SIPKIT" call sip:bob@example.test --user alice@example.test \
    --password-stdin --proxy "$PX" 2>&1); rc=$?
wait_bg 10
check "call rejected: caller exit 1" "$rc" 1
check_match "call rejected: Busy Here named" "$out" "127\\.0\\.0\\.1:$PORT answered 486 Busy Here"
check "call rejected: bob exit 0" "$BG_RC" 0

# No answer: bob rings for 10 s, alice gives up after --timeout 2: CANCEL
# through the proxy, bob answers the INVITE 487, alice exits 3.
start_bob udp --ring 10
out=$(echo pw-alice | timeout 20 "$SIPKIT" call sip:bob@example.test --user alice@example.test \
    --password-stdin --proxy "$PX" --timeout 2 2>&1); rc=$?
wait_bg 10
check "no answer: caller exit 3" "$rc" 3
check_match "no answer: ringing, cancelled" "$out" \
    "no answer from 127\\.0\\.0\\.1:$PORT \\(udp\\) within 2 s \\(it is ringing; cancelled\\)"
check "no answer: bob exit 1" "$BG_RC" 1
check_match "no answer: bob saw the CANCEL" "$(cat "$B_OUT")" 'the caller cancelled the call'

# Ctrl-C while ringing: CANCEL, 487, exit 1.
start_bob udp --ring 10
echo pw-alice | "$SIPKIT" call sip:bob@example.test --user alice@example.test --password-stdin \
    --proxy "$PX" >"$TMP/cancel.out" 2>&1 &
CALL_PID=$!
wait_for "$TMP/cancel.out" '^progress: 180' 10
kill -INT "$CALL_PID"
for _ in $(seq 1 100); do kill -0 "$CALL_PID" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$CALL_PID" 2>/dev/null
wait "$CALL_PID"; rc=$?
CALL_PID=""
wait_bg 10
check "call cancelled: caller exit 1" "$rc" 1
check_match "call cancelled: 487 named" "$(cat "$TMP/cancel.out")" 'answered 487 Request Terminated'
check "call cancelled: bob exit 1" "$BG_RC" 1

stop_server
finish
