#!/bin/sh
# SIP over WebSocket (RFC 7118) against a client that is not sipkit's:
# tests/interop/lib/ws_client.py writes RFC 6455 and digest out on a plain
# (or ssl) socket. Over ws and wss (a test CA made with openssl): the
# upgrade (accept key, the sip subprotocol answered), refusals (no or
# another subprotocol, an Origin off the allow-list, not an upgrade,
# version 8), a message over the size limit (close 1009), REGISTER with
# digest (401, then 200) with a .invalid Contact, ping/pong both ways and
# the CRLF keepalive, a client that never answers pings closed; then a
# MESSAGE from sipsak and a call from SIPp, both over UDP, reach the
# WebSocket user over its socket, the call with a Record-Route value per
# leg (transport=ws above the UDP one), and nothing reaches it once its
# socket is closed (480). A MESSAGE to the wss user goes over TLS. Every client run is bounded by timeout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
need sipp
need sipsak
. "$(dirname "$0")/lib/tls.sh"
. "$(dirname "$0")/lib/proxy_peers.sh"
WSC="python3 $(dirname "$0")/lib/ws_client.py"

make_ca
make_cert server IP:127.0.0.1,DNS:sip.example.test
add_user alice alice-secret
add_user bob bob-secret
add_user dave dave-secret
start_server --listen-ws 127.0.0.1:0 --listen-wss 127.0.0.1:0 --tls-cert "$TMP/server.pem" \
    --tls-key "$TMP/server.key" --ws-origins "https://app.example.test" --ws-ping-interval 1 \
    --drain-timeout 1
port_of() { sed -n "s/.*event=listening transport=$1 addr=127\.0\.0\.1:\([0-9]*\).*/\1/p" "$LOG" | head -n 1; }
WS_PORT=$(port_of ws)
WSS_PORT=$(port_of wss)
check "ws and wss listeners are up" "$([ -n "$WS_PORT" ] && [ -n "$WSS_PORT" ] && echo yes)" yes

# -- the upgrade ----------------------------------------------------------------
out=$(timeout 10 $WSC upgrade --port "$WS_PORT" --origin https://app.example.test)
check_match "an allowed Origin upgrades: 101" "$out" 'status=101'
check_match "... Sec-WebSocket-Accept is right" "$out" 'accept_ok=yes'
check_match "... and the sip subprotocol is answered" "$out" 'protocol=sip'
out=$(timeout 10 $WSC upgrade --port "$WS_PORT")
check_match "no Origin (not a browser) upgrades too" "$out" 'status=101'
out=$(timeout 10 $WSC upgrade --port "$WS_PORT" --origin https://evil.example)
check_match "an Origin off the allow-list gets 403" "$out" 'status=403'
check_match "... saying why" "$out" 'body=Origin not allowed'
out=$(timeout 10 $WSC upgrade --port "$WS_PORT" --protocol "")
check_match "no Sec-WebSocket-Protocol gets 400" "$out" 'status=400'
check_match "... naming the sip subprotocol" "$out" 'body=missing Sec-WebSocket-Protocol: sip'
out=$(timeout 10 $WSC upgrade --port "$WS_PORT" --protocol chat)
check_match "a subprotocol other than sip gets 400" "$out" 'status=400'
out=$(timeout 10 $WSC upgrade --port "$WS_PORT" --no-upgrade)
check_match "a plain GET gets 426" "$out" 'status=426'
out=$(timeout 10 $WSC upgrade --port "$WS_PORT" --version 8)
check_match "another WebSocket version gets 426" "$out" 'status=426'
check_match "the refusals are logged with their reason" "$(cat "$LOG")" \
    'event=ws_upgrade_refused .*status=403 origin="https://evil.example"'
out=$(timeout 10 $WSC oversize --port "$WS_PORT" --size 70000)
check_match "a message over max_message_size is closed with 1009" "$out" 'close=1009'

out=$(timeout 15 $WSC silent --port "$WS_PORT" --wait 8)
check_match "a client that never answers pings gets some (ping_interval 1 s)" "$out" 'pings=[1-9]'
check_match "... and is closed" "$out" 'closed=yes'

# -- bob registers over ws, then is reached from UDP -------------------------
timeout 30 $WSC register --port "$WS_PORT" --user bob --password bob-secret --wait 20 \
    --until 4 >"$TMP/bob.out" 2>&1 &
BOB=$!
BG="$BG $BOB"
for _ in $(seq 1 100); do grep -q '^registered' "$TMP/bob.out" && break; sleep 0.1; done
out=$(cat "$TMP/bob.out")
check_match "REGISTER over ws: 401 first" "$out" 'register1=401'
check_match "... then 200" "$out" 'register2=200'
check_match "... listing the .invalid Contact" "$out" 'register_contact=<sip:bob@[0-9a-f]+\.invalid;transport=ws>'
check_match "a ping is answered with its pong" "$out" 'pong=yes'
check_match "a CRLF CRLF keepalive gets CRLF" "$out" 'crlf_pong=yes'
# A quiet connection gets the server's ping (ping_interval 1 s).
sleep 2.5

A=$(peer_port)
printf 'MESSAGE sip:bob@%s SIP/2.0\r\nFrom: <sip:alice@%s>;tag=ws1\r\nTo: <sip:bob@%s>\r\nCall-ID: ws-msg@127.0.0.1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello browser' \
    "$DOMAIN" "$DOMAIN" "$DOMAIN" >"$TMP/msg.txt"
timeout 15 sipsak -f "$TMP/msg.txt" -s "sip:bob@127.0.0.1:$PORT" -u alice -a alice-secret \
    -vv >"$TMP/sipsak.out" 2>&1
check "sipsak MESSAGE over UDP to the ws user: 407, then 200" "$?" 0

# The Record-Route values carry bob's flow token after sk=.
sed -e 's/{32}&gt;/{32}/' "$SCEN/proxy_uac_call.xml" >"$TMP/uac_call.xml"
sipp_run call "$A" "$TMP/uac_call.xml" -s bob -au alice -ap alice-secret -auth_uri bob@"$DOMAIN"
check "SIPp call over UDP to the ws user: answered, ACK and BYE along the route" "$?" 0
wait "$BOB"
out=$(cat "$TMP/bob.out")
check_match "the server pinged the quiet connection" "$out" 'server_ping=yes'
check_match "the MESSAGE reached bob over his WebSocket" "$out" 'message_body=hello browser'
check_match "the INVITE reached him with a WS Via" "$out" 'invite_via=SIP/2\.0/WS 127\.0\.0\.1:'"$WS_PORT"
check_match "... and two Record-Route values: ws leg above the UDP one" "$out" \
    "invite_rr=<sip:127\.0\.0\.1:$WS_PORT;transport=ws;lr;[^>]*>, <sip:127\.0\.0\.1:$PORT;lr;"
check_match "the ACK and BYE came back to him over the socket" \
    "$(grep '^got=' "$TMP/bob.out" | tr '\n' ' ')" 'got=ACK got=BYE'
# His WebSocket is closed: nothing else reaches him (RFC 7118 §5).
for _ in $(seq 1 50); do grep -q 'event=flow_closed.*bob' "$LOG" && break; sleep 0.1; done
sed 's/ws-msg/ws-msg-late/' "$TMP/msg.txt" >"$TMP/msg3.txt"
timeout 15 sipsak -f "$TMP/msg3.txt" -s "sip:bob@127.0.0.1:$PORT" -u alice -a alice-secret \
    -vv >"$TMP/sipsak3.out" 2>&1
check_match "once his WebSocket is closed, a MESSAGE to bob gets 480" \
    "$(grep -a '^SIP/2.0' "$TMP/sipsak3.out" | tail -n 1)" '^SIP/2.0 480 '

# -- dave registers over wss and gets a MESSAGE ----------------------------------
timeout 30 $WSC register --port "$WSS_PORT" --tls --ca "$TMP/ca.pem" --user dave \
    --password dave-secret --wait 15 --until 1 >"$TMP/dave.out" 2>&1 &
DAVE=$!
BG="$BG $DAVE"
for _ in $(seq 1 100); do grep -q '^registered' "$TMP/dave.out" && break; sleep 0.1; done
out=$(cat "$TMP/dave.out")
check_match "REGISTER over wss: 401, then 200" "$(echo "$out" | tr '\n' ' ')" \
    'register1=401 register2=200'
check_match "... with a wss Contact" "$out" 'register_contact=<sip:dave@[0-9a-f]+\.invalid;transport=wss>'
sed -e 's/bob/dave/g' -e 's/ws-msg/wss-msg/' -e 's/hello browser/hello  secure/' "$TMP/msg.txt" \
    >"$TMP/msg2.txt"
timeout 15 sipsak -f "$TMP/msg2.txt" -s "sip:dave@127.0.0.1:$PORT" -u alice -a alice-secret \
    -vv >"$TMP/sipsak2.out" 2>&1
check "sipsak MESSAGE over UDP to the wss user: 200" "$?" 0
wait "$DAVE"
check_match "the MESSAGE reached dave over TLS" "$(cat "$TMP/dave.out")" 'message_body=hello  secure'

stop_server
finish
