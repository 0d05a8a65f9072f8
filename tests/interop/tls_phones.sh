#!/bin/sh
# Real phones over TLS (RFC 3261 §26.2): two baresip instances register
# through sipkit's TLS listener with a certificate from a test CA made
# here (401 then 200 over TLS), alice calls bob, bob answers and alice
# hangs up. bob is reached on the connection he registered over (RFC
# 5923 connection reuse; his Contact port is not listened on by us).
# linphonec (which verifies the server's certificate; baresip 1.0 does
# not) registers and takes a call from baresip, and refuses the server
# once its certificate names another host. The server's --trace shows
# every message on tls.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tls.sh"
. "$(dirname "$0")/lib/ua.sh"
need baresip
need linphonec

make_ca
make_cert server IP:127.0.0.1,DNS:localhost
users_add alice bob carol dave
users_md5 alice bob
start_tls_server --trace


# lp_tls_start NAME USER: linphonec registering over TLS to "localhost",
# verifying the server's certificate (chain against the test CA, name).
lp_tls_start() {
    LP_CA=$TMP/ca.pem LP_PROXY=localhost:$TLS_PORT lp_start "$1" "$2" "$(ua_port)" tls
}

bs_tls_start alice alice ca
bs_tls_start bob bob ca
ua_check alice "alice (baresip) registered over TLS" 'registered successfully'
ua_check bob "bob (baresip) registered over TLS" 'registered successfully'
check_match "the REGISTERs came over TLS" "$(grep -E '^<<< tls ' -A1 "$TRACE")" 'REGISTER sip:'
check_match "... 401 then 200 went back over TLS" \
    "$(grep -E '^>>> tls ' -A1 "$TRACE" | grep -E '^SIP/2.0 (401|200)' | sort -u | tr '\n' ' ')" \
    'SIP/2.0 200 .*SIP/2.0 401|SIP/2.0 401 .*SIP/2.0 200'

[ "$FAILS" -eq 0 ] || finish
ua_mark alice
ua_mark bob
ua_send alice "/dial sip:bob@$DOMAIN"
ua_check bob "bob is rung by alice over TLS" 'Incoming call from: .*sip:alice@'
ua_send bob /accept
ua_check bob "bob (callee) established" "Call established: sip:alice@"
ua_check alice "alice (caller) established" "Call established: sip:bob@"
ua_send alice /hangup
ua_check alice "alice hung up" "terminate call .* with sip:bob@|Call with sip:bob@[^ ]* terminated"
ua_check bob "bob saw the call end" "sip:alice@[^ ]*: session closed|Call with sip:alice@[^ ]* terminated"
check_match "the INVITE reached bob over TLS" "$(grep -E '^>>> tls ' -A1 "$TRACE")" 'INVITE sip:bob'
out=$(grep -cE '^>>> tcp |^>>> udp ' "$TRACE")
check "nothing was sent in the clear" "$out" 0
n_out=$(grep -cE 'event=tcp_connect|side=client' "$LOG")
check "bob was reached on his own connection: the server opened none" "$n_out" 0

# linphonec checks the certificate's chain and name (baresip 1.0 checks
# neither): carol registers, trusting the test CA, and takes a call from
# alice; then the server's certificate is swapped (SIGHUP) for one
# made for another name, and dave's linphonec refuses the handshake.
lp_tls_start carol carol
if lp_registered carol; then
    echo "ok: carol (linphonec, verifying the server) registered over TLS"
else
    echo "FAIL: carol (linphonec) never said it registered"; FAILS=$((FAILS + 1))
fi
ua_mark alice
ua_mark carol
ua_send alice "/dial sip:carol@$DOMAIN"
ua_check carol "carol (linphonec) is rung by alice (baresip) over TLS" \
    'Receiving new incoming call from sip:alice@'
ua_send carol answer
ua_check carol "carol (callee) connected" 'Call [0-9]+ with sip:alice@[^ ]* connected'
ua_check alice "alice (caller) established" "Call established: sip:carol@"
# linphonec settles the call (ACK, media) before a BYE is welcome.
ua_wait carol 'Media streams established with sip:alice@' 10
sleep 1
ua_send alice /hangup
ua_check alice "alice hung up on carol" "terminate call .* with sip:carol@|Call with sip:carol@[^ ]* terminated"
ua_check carol "carol saw the call end" 'Call [0-9]+ with sip:alice@[^ ]* ended' 30

make_cert server DNS:wrong.example.test
kill -HUP "$SERVER_PID"
for _ in $(seq 1 100); do grep -q 'event=tls_reloaded' "$LOG" && break; sleep 0.1; done
lp_tls_start dave dave
for _ in $(seq 1 100); do grep -q 'CN-mismatch' "$TMP/dave/log" 2>/dev/null && break; sleep 0.1; done
check_match "dave (linphonec) finds the name does not match" "$(cat "$TMP/dave/log" 2>/dev/null)" \
    'flags=\[CN-mismatch'
check_match "... and fails the handshake" "$(cat "$TMP/dave/log" 2>/dev/null)" 'SSL handshake failed'
check_match "... which the server sees as a bad-certificate alert" "$(cat "$LOG")" \
    'event=tls_handshake_failed .*side=server .*bad certificate'
check "... so no REGISTER of dave's reached the server" \
    "$(grep -A8 -E '^<<< tls ' "$TRACE" | grep -c 'From: .*dave@')" 0
finish
