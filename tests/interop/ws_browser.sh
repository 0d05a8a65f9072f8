#!/bin/sh
# A real browser over secure WebSocket (RFC 7118): headless Chromium loads
# two test pages (browser/phone.html) running JsSIP, which register as alice
# and bob through sipkit's wss listener (401, then 200), and a page from an
# origin not on --ws-origins is refused. Left quiet for a while, they
# answer the server's pings and keep their connections. alice calls bob
# with WebRTC and fake media devices, bob answers, the call is confirmed on
# both sides and alice hangs up; a second call is hung up by bob (each BYE
# answered 200); alice sends bob a MESSAGE; both unregister. browser/drive.js runs the
# steps over the DevTools protocol and prints what each page reports, which
# is what is checked here. The browser trusts the test CA (in its NSS
# database) and checks the server's certificate as for any site.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tls.sh"
. "$(dirname "$0")/lib/browser.sh"
browser_need chromium
browser_need node
browser_need certutil
jssip_bundle
DOMAIN=example.test
T0=$(date +%s)

make_ca
make_cert server IP:127.0.0.1,DNS:localhost
add_user alice alicepw
add_user bob bobpw
HTTP_PORT=$(peer_port)
ORIGIN=http://127.0.0.1:$HTTP_PORT
# The calls' transactions stay 32 s in Accepted (RFC 6026 Timers L, M),
# which the default drain on SIGTERM would wait 5 s for.
start_server --trace --listen-wss 127.0.0.1:0 --tls-cert "$TMP/server.pem" \
    --tls-key "$TMP/server.key" --ws-origins "$ORIGIN" --ws-ping-interval 2 --drain-timeout 1
for _ in $(seq 1 100); do
    WSS_PORT=$(sed -n 's/.*event=listening transport=wss addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' \
        "$LOG" | head -n 1)
    [ -n "$WSS_PORT" ] && break
    sleep 0.1
done
[ -n "$WSS_PORT" ] || { echo "FAIL: no wss listener in the log"; cat "$LOG"; exit 1; }

# drive.js kills the browser when it is stopped; stop it when we are.
DRIVE_PID=""
trap '[ -z "$DRIVE_PID" ] || kill -TERM "$DRIVE_PID" 2>/dev/null; cleanup' EXIT
mkdir -p "$TMP/profile"
browser_home "$TMP/home" ca
SK_CHROMIUM=$(command -v chromium) SK_JSSIP=$JSSIP_JS SK_WS_URL=wss://127.0.0.1:$WSS_PORT \
    SK_HTTP_PORT=$HTTP_PORT SK_DOMAIN=$DOMAIN SK_PROFILE=$TMP/profile \
    SK_CHROME_LOG=$TMP/chromium.log SK_HOME=$TMP/home \
    node "$(dirname "$0")/browser/drive.js" >"$TMP/drive.out" 2>&1 &
DRIVE_PID=$!
wait "$DRIVE_PID"
rc=$?
DRIVE_PID=""
sed 's/^/    /' "$TMP/drive.out"
check "the browser ran every step" "$rc" 0
[ "$rc" -eq 0 ] || { echo "chromium's log (tail):"; tail -n 20 "$TMP/chromium.log" | sed 's/^/    /'; }
A=$(sed -n 's/^alice: //p' "$TMP/drive.out")
B=$(sed -n 's/^bob: //p' "$TMP/drive.out")
C=$(sed -n 's/^carol: //p' "$TMP/drive.out")
flat() { printf '%s\n' "$1" | tr '\n' '|'; }

for u in alice bob; do
    log=$A
    [ $u = bob ] && log=$B
    check_match "$u's page: REGISTER, 401, REGISTER with credentials, 200, registered" \
        "$(flat "$log")" '> REGISTER\|< 401 REGISTER\|> REGISTER\|< 200 REGISTER\|registered\|'
done
check_match "carol's page, from another origin, never connects" "$(flat "$C")" \
    '^started\|disconnected\|'
check "... and is never connected" "$(printf '%s\n' "$C" | grep -c '^connected$')" 0
check_match "the server refused the upgrade for its Origin" "$(cat "$LOG")" \
    'event=ws_upgrade_refused .*status=403 origin="http://localhost:'"$HTTP_PORT"'"'


check "quiet for 5 s, pinged every 2 s: the browser answered, the connections stayed" \
    "$(grep -c 'event=ws_ping_unanswered' "$LOG") $(printf '%s\n' "$A" "$B" | grep -c '^connected$')" "0 2"
check "... and no page lost its connection before it stopped" \
    "$( (printf '%s\n' "$A" | sed '/^unregistered$/,$d'
        printf '%s\n' "$B" | sed '/^unregistered$/,$d') | grep -c '^disconnected$')" 0

# Call 1, alice hangs up; call 2, bob hangs up.
check_match "bob's page is rung twice by alice" \
    "$(printf '%s\n' "$B" | grep -c '^incoming from alice$')" '^2$'
check "both pages report two confirmed calls" \
    "$(printf '%s\n' "$A" | grep -c '^confirmed$') $(printf '%s\n' "$B" | grep -c '^confirmed$')" \
    "2 2"
# JsSIP reports the end of a call by BYE as cause "Terminated"; the BYE's
# 200 reaches the hanging-up page after it says so. Events that are no SIP
# message (such as "ice connected") may come between "confirmed" and BYE.
ev='([a-z][^|]*\|)*'
bye_sent='> BYE\|ended local Terminated\|< 200 BYE\|'
bye_got='< BYE\|> 200 BYE\|ended remote Terminated\|'
check_match "alice's page: INVITE, 407, ACK, INVITE with credentials, 200, ACK, confirmed" \
    "$(flat "$A")" '> INVITE\|< 407 INVITE\|> ACK\|> INVITE\|(< 1[0-9][0-9] INVITE\||progress [0-9]+\|)*< 200 INVITE\|.*> ACK\|confirmed\|'
check_match "... and both its media tracks arrived and ICE connected (browser to browser)" \
    "$(flat "$A")" 'remote track audio\|remote track video\|.*ice connected\|'
check_match "call 1: alice's BYE is answered 200" "$(flat "$A")" "confirmed\\|$ev$bye_sent"
check_match "... bob's page got the BYE, answered it, and saw the call end" "$(flat "$B")" \
    "confirmed\\|$ev$bye_got"
check_match "call 2: bob's BYE is answered 200" "$(flat "$B")" "confirmed\\|$ev$bye_sent"
check_match "... alice's page got it, answered it, and saw the call end" "$(flat "$A")" \
    "confirmed\\|$ev$bye_got"
check "no call failed" "$(printf '%s\n%s\n' "$A" "$B" | grep -cE '^failed|^error')" 0
# The INVITEs sipkit sent bob, as its --trace shows them.
invites=$(awk '/^(<<<|>>>) / { h = $0; getline; m = h ~ /^>>> wss / && /^INVITE sip:bob@|^INVITE sip:[^ ]*\.invalid/ } m' \
    "$TRACE")
check_match "the INVITEs reached bob's page whole: WebRTC offers (ICE, DTLS-SRTP) of several KB" \
    "$(printf '%s\n' "$invites" | grep -E '^a=(fingerprint|ice-ufrag|setup)' | cut -d: -f1 | sort -u |
        tr '\n' ' ')" '^a=fingerprint a=ice-ufrag a=setup $'

check "bob's page received alice's MESSAGE with its body" \
    "$(printf '%s\n' "$B" | grep '^message from ')" "message from alice: hello bob, from a browser"
check_match "... and alice's page got the 200 for it" "$(flat "$A")" 'message sent 2[0-9][0-9]'
check_match "both pages unregistered (200 to the REGISTERs with Expires 0)" \
    "$(printf '%s\n' "$A" "$B" | grep -c '^unregistered$')" '^2$'
check "the browser took the server's certificate, chained to the test CA it trusts" \
    "$(grep -c 'event=tls_handshake_failed' "$LOG")" 0
check "nothing went in the clear" "$(grep -cE '^>>> (udp|tcp|ws) ' "$TRACE")" 0
stop_server
echo "runtime: $(($(date +%s) - T0)) s"
finish
