#!/bin/sh
# The dialog event package (RFC 4235) fed by the proxy, against SIPp over
# loopback UDP: carol subscribes to bob's dialogs and gets an empty
# dialog-info document at once; bob registers and answers; alice calls bob
# through the proxy (407, retry, 180, 200, ACK, BYE along the
# Record-Route). carol's NOTIFYs must show bob's one dialog as the callee
# (direction="recipient") going trying -> early -> confirmed -> terminated
# by alice's BYE, each a full document with a growing version; a second
# subscription of carol's, to alice, shows the caller's side (initiator,
# ended by her own BYE). Every SIPp
# run is bounded by `timeout`; the background ones are killed by PID on
# exit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
SCEN=$(dirname "$0")/scenarios
DOMAIN=example.test
BG=""

dialog_cleanup() {
    for p in $BG; do
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    cleanup
}
trap dialog_cleanup EXIT

mkdir -p "$TMP/data"
for u in alice bob carol; do
    printf '%spw' "$u" | "$SIPKIT" users add "$u" --password-stdin --data-dir "$TMP/data" \
        --domain "$DOMAIN" >/dev/null || { echo "FAIL: users add $u"; exit 1; }
done
start_server --dialog-policy domain

base=$(peer_port)
A=$base; B=$((base + 1)); W=$((base + 2))

# carol watches bob's dialogs.
printf 'SEQUENTIAL\ncarol;[authentication username=carol password=carolpw];bob\n' >"$TMP/watch.csv"
timeout 40 sipp 127.0.0.1:"$PORT" -sf "$SCEN/events_dialog_watch.xml" -inf "$TMP/watch.csv" \
    -t u1 -auth_uri bob@"$DOMAIN" -i 127.0.0.1 -p "$W" -m 1 -timeout 35s -nostdin -trace_msg \
    -message_file "$TMP/watch.msg" -trace_logs -log_file "$TMP/watch.log" -trace_err \
    -error_file "$TMP/watch.err" >"$TMP/watch.out" 2>&1 &
WATCHER=$!
BG="$BG $WATCHER"
# ... and alice's, to see the caller's side.
printf 'SEQUENTIAL\ncarol;[authentication username=carol password=carolpw];alice\n' \
    >"$TMP/watcha.csv"
timeout 40 sipp 127.0.0.1:"$PORT" -sf "$SCEN/events_dialog_watch.xml" -inf "$TMP/watcha.csv" \
    -t u1 -auth_uri alice@"$DOMAIN" -i 127.0.0.1 -p $((W + 1)) -m 1 -timeout 35s -nostdin \
    -trace_msg -message_file "$TMP/watcha.msg" -trace_logs -log_file "$TMP/watcha.log" \
    -trace_err -error_file "$TMP/watcha.err" >"$TMP/watcha.out" 2>&1 &
WATCHER_A=$!
BG="$BG $WATCHER_A"
for _ in $(seq 1 100); do
    grep -q notify1 "$TMP/watch.log" 2>/dev/null && grep -q notify1 "$TMP/watcha.log" 2>/dev/null &&
        break
    sleep 0.1
done
check_match "first NOTIFY at once, active, dialog-info" "$(cat "$TMP/watch.log" 2>/dev/null)" \
    'notify1 state=active;expires=1[12][0-9] type=application/dialog-info\+xml'

# bob registers, then answers on the same port.
timeout 25 sipp 127.0.0.1:"$PORT" -sf "$SCEN/proxy_register.xml" -t u1 -i 127.0.0.1 -p "$B" \
    -m 1 -set domain "$DOMAIN" -s bob -au bob -ap bobpw -auth_uri "$DOMAIN" -timeout 20s \
    -recv_timeout 8000 -nostdin -trace_err -error_file "$TMP/reg.err" >"$TMP/reg.out" 2>&1
check "bob registers" "$?" 0
timeout 25 sipp -sf "$SCEN/proxy_uas_answer.xml" -t u1 -i 127.0.0.1 -p "$B" -m 1 -s bob \
    -timeout 20s -nostdin -trace_err -error_file "$TMP/bob.err" >"$TMP/bob.out" 2>&1 &
UAS=$!
BG="$BG $UAS"
sleep 0.5

# alice calls bob: 407, retry with credentials, 180, 200, ACK, BYE.
timeout 25 sipp 127.0.0.1:"$PORT" -sf "$SCEN/proxy_uac_call.xml" -t u1 -i 127.0.0.1 -p "$A" \
    -m 1 -set domain "$DOMAIN" -s bob -au alice -ap alicepw -auth_uri bob@"$DOMAIN" -timeout 20s \
    -recv_timeout 8000 -nostdin -trace_err -error_file "$TMP/alice.err" >"$TMP/alice.out" 2>&1
check "alice's call to bob" "$?" 0
wait "$UAS"
check "bob's answering scenario" "$?" 0
wait "$WATCHER"
check "carol's watcher scenario (bob)" "$?" 0
wait "$WATCHER_A"
check "carol's watcher scenario (alice)" "$?" 0

# The NOTIFYs a watcher received, in order: one line per NOTIFY with the
# version and every <dialog .../> and <state ...> of its body.
notifies() { # message file
    tr -d '\r' <"$1" 2>/dev/null | awk '
    /^NOTIFY sip:/ { if (n) print line; n = 1; line = ""; next }
    /^(SIP\/2\.0|SUBSCRIBE) / { if (n) print line; n = 0; next }
    n && /<dialog-info/ { match($0, /version="[0-9]+"/); line = line substr($0, RSTART, RLENGTH) }
    n && /<dialog id=/ { line = line " dialog" }
    n && /direction=/ { match($0, /direction="[a-z]+"/); line = line " " substr($0, RSTART, RLENGTH) }
    n && /<state/ { s = $0; sub(/^ */, "", s); line = line " " s }
    END { if (n) print line }'
}
msgs=$(tr -d '\r' <"$TMP/watch.msg" 2>/dev/null)
notes=$(notifies "$TMP/watch.msg")
printf '%s\n' "$notes" | sed 's/^/    notify: /'
first=$(printf '%s\n' "$notes" | head -n 1)
check "first NOTIFY: empty dialog-info" "$first" 'version="0"'
check_match "a NOTIFY shows bob's dialog trying" "$notes" \
    'direction="recipient" <state>trying</state>'
check_match "a NOTIFY shows bob's dialog early on the 180" "$notes" \
    'direction="recipient" <state code="180">early</state>'
check_match "a NOTIFY shows it confirmed by the 200" "$notes" \
    'direction="recipient" <state code="200">confirmed</state>'
check_match "the last call NOTIFY shows it terminated by alice's BYE" \
    "$(printf '%s\n' "$notes" | sed -n '$p')" \
    'direction="recipient" <state event="remote-bye">terminated</state>'
# Order: trying, then early, then confirmed, then terminated.
order=$(printf '%s\n' "$notes" | sed -n 's/.*>\([a-z]*\)<\/state>.*/\1/p' | uniq | tr '\n' ' ')
check "bob's dialog states in order" "$order" "trying early confirmed terminated "
check "one dialog in each call NOTIFY" \
    "$(printf '%s\n' "$notes" | sed 1d | grep -vc '^version="[0-9]*" dialog direction')" 0
versions=$(printf '%s\n' "$notes" | sed -n 's/^version="\([0-9]*\)".*/\1/p' | tr '\n' ' ')
check_match "versions count up from 0" "$versions" '^0 1 2 3 '
ids=$(printf '%s\n' "$msgs" | sed -n 's/.*<dialog id="\([0-9a-f]*\)".*/\1/p' | sort -u | wc -l)
check "the same dialog id throughout" "$ids" 1
check_match "bob's dialog names alice as the peer" "$msgs" \
    '<identity>sip:alice@example\.test</identity>'
check_match "dialog-info entity is bob" "$msgs" 'entity="sip:bob@example\.test"'

# alice's side: the same call as the caller (direction="initiator"), its
# states from what went back to her: trying, early, confirmed, terminated
# by her own BYE.
notes=$(notifies "$TMP/watcha.msg")
printf '%s\n' "$notes" | sed 's/^/    alice notify: /'
order=$(printf '%s\n' "$notes" | sed -n 's/.*direction="initiator" <state[^>]*>\([a-z]*\)<\/state>.*/\1/p' |
    uniq | tr '\n' ' ')
check "alice's dialog states in order, as initiator" "$order" "trying early confirmed terminated "
check_match "alice's dialog ends by her own BYE" "$notes" \
    'direction="initiator" <state event="local-bye">terminated</state>'
check_match "alice's dialog names bob as the peer" "$(tr -d '\r' <"$TMP/watcha.msg")" \
    '<identity>sip:bob@example\.test</identity>'

stop_server
finish
