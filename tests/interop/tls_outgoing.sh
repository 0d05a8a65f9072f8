#!/bin/sh
# TLS connections the server opens itself, and sips: (RFC 5630, RFC 5922).
#   - bob (baresip) registers over TLS and vanishes (kill -9: his binding
#     stays, his connection closes). An `openssl s_server` takes his
#     Contact's port with a certificate for 127.0.0.1 from the test CA:
#     alice's INVITE reaches it over a new TLS connection the server
#     opened and verified (chain against --tls-ca, IP subjectAltName).
#   - The same with a certificate for another address: the server refuses
#     the handshake (RFC 5922) and sends nothing.
#   - carol registers over UDP; an INVITE for sips:carol gets 480 Not
#     Reachable Over TLS: a sips: request is never forwarded in the clear.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tls.sh"
. "$(dirname "$0")/lib/ua.sh"
need baresip

make_ca
make_cert server IP:127.0.0.1,DNS:localhost
make_cert callee IP:127.0.0.1
make_cert elsewhere IP:192.0.2.7
users_add alice bob carol
users_md5 alice bob carol
# debug: the wait for bob's connection to close watches its tcp_close line.
start_tls_server --trace --log-level debug

bs_tls_start alice alice ca
bs_tls_start bob bob ca
bs_tls_start carol carol ca udp
ua_check alice "alice registered over TLS" 'registered successfully'
ua_check bob "bob registered over TLS" 'registered successfully'
ua_check carol "carol registered over UDP" 'registered successfully'
[ "$FAILS" -eq 0 ] || finish

# bob's Contact port, from the 200 OK to his REGISTER.
bport=$(grep -E '^Contact: <sip:bob-[^@]*@127\.0\.0\.1:[0-9]+;transport=tls>' "$TRACE" | head -n 1 |
    sed -n 's/.*@127\.0\.0\.1:\([0-9]*\);.*/\1/p')
bob_pid=$(tmux -S "$UA_SOCK" list-panes -t "=bob:" -F '#{pane_pid}')
kill -KILL "$bob_pid"
for _ in $(seq 1 100); do
    grep -q 'event=tcp_close .*reason="peer closed"' "$LOG" && break
    sleep 0.1
done

# tcp_listening PORT: 0 while a TCP socket listens on PORT (state 0A in
# /proc/net/tcp). Connections that used the port linger in TIME_WAIT for
# a minute; they do not keep s_server (SO_REUSEADDR) from binding it.
tcp_listening() {
    awk -v p="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
        END { exit !f }' /proc/net/tcp
}

# s_server_start CERT: openssl s_server on bob's port, its output in
# $TMP/s_server.out; S_PID set. Its stdin is a FIFO held open by a sleep
# (S_HOLD): s_server ends a connection at the end of its input. Both are
# stopped by PID, so no sleep outlives the test (CTest waits for whatever
# holds the test's output).
s_server_start() {
    for _ in $(seq 1 50); do tcp_listening "$bport" || break; sleep 0.1; done
    rm -f "$TMP/s_server.in"
    mkfifo "$TMP/s_server.in"
    openssl s_server -accept "127.0.0.1:$bport" -cert "$TMP/$1.pem" -key "$TMP/$1.key" \
        -naccept 1 <"$TMP/s_server.in" >"$TMP/s_server.out" 2>&1 &
    S_PID=$!
    sleep 30 >"$TMP/s_server.in" &
    S_HOLD=$!
    for _ in $(seq 1 50); do grep -q ACCEPT "$TMP/s_server.out" 2>/dev/null && break; sleep 0.1; done
}
s_server_stop() {
    kill "$S_PID" "$S_HOLD" 2>/dev/null
    wait "$S_PID" "$S_HOLD" 2>/dev/null
}

s_server_start callee
ua_send alice "/dial sip:bob@$DOMAIN"
for _ in $(seq 1 100); do grep -q '^INVITE sip:bob' "$TMP/s_server.out" && break; sleep 0.1; done
check_match "the INVITE for bob arrives over a TLS connection the server opened" \
    "$(tr -d '\r' <"$TMP/s_server.out")" '^INVITE sip:bob-[^ ]*;transport=tls SIP/2.0'
check_match "... with our TLS Via on top" "$(tr -d '\r' <"$TMP/s_server.out")" \
    "^Via: SIP/2.0/TLS 127\.0\.0\.1:$TLS_PORT;branch="
s_server_stop
ua_send alice /hangup
sleep 1

s_server_start elsewhere
ua_mark alice
ua_send alice "/dial sip:bob@$DOMAIN"
for _ in $(seq 1 100); do
    grep -q 'event=tls_handshake_failed .*side=client' "$LOG" && break
    sleep 0.1
done
check_match "a callee whose certificate names another address is refused" "$(cat "$LOG")" \
    'event=tls_handshake_failed .*side=client .*verify="IP address mismatch"'
check "... and gets no INVITE" "$(grep -c '^INVITE' "$TMP/s_server.out")" 0
ua_send alice /hangup
s_server_stop

# baresip 1.0 cannot dial sips: URIs; a caller from another domain sends
# the INVITE by hand (over UDP: the Request-URI, not the way in, decides).
resp=$(printf 'INVITE sips:carol@%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKsips1\r\nMax-Forwards: 70\r\nFrom: <sip:mallory@other.test>;tag=s1\r\nTo: <sips:carol@%s>\r\nCall-ID: sips1@interop\r\nCSeq: 1 INVITE\r\nContact: <sip:mallory@127.0.0.1:9>\r\nContent-Length: 0\r\n\r\n' \
    "$DOMAIN" "$DOMAIN" | udp_exchange | grep -v '^SIP/2.0 100 ' | head -n 1)
check "sips:carol, registered over UDP only, gets 480 Not Reachable Over TLS" "$resp" \
    "SIP/2.0 480 Not Reachable Over TLS"
sleep 1
check "... and carol was not rung" "$(grep -c 'Incoming call' "$TMP/carol.out")" 0
finish
