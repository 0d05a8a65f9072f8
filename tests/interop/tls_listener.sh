#!/bin/sh
# The TLS listener against `openssl s_client` (RFC 3261 §26.2): the
# protocol floor (TLS 1.1 refused, 1.2 and 1.3 accepted), an OPTIONS
# answered over TLS with a TLS Via, a client that checks the host name
# refusing a certificate made for another name, a client certificate
# demanded when verify_client = required (from a [tls] config file), and
# a new certificate taking effect for new connections after SIGHUP.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tls.sh"

make_ca
make_cert server IP:127.0.0.1,DNS:sip.example.test
make_cert client DNS:phone.example.test
start_tls_server

# hello [s_client args...]: the handshake's outcome as s_client reports it.
hello() {
    echo | timeout 5 openssl s_client -connect "127.0.0.1:$TLS_PORT" -CAfile "$TMP/ca.pem" \
        "$@" 2>&1 | tr -d '\r'
}

out=$(hello -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
check_match "TLS 1.1 is refused (the floor is 1.2)" "$out" 'alert protocol version|no protocols available'
check_match "... with no cipher agreed" "$out" 'Cipher is \(NONE\)'
out=$(hello -tls1_2)
check_match "TLS 1.2 is accepted" "$out" 'New, TLSv1\.2, Cipher is'
check_match "... and the chain verifies against the test CA" "$out" 'Verify return code: 0 \(ok\)'
out=$(hello -tls1_3)
check_match "TLS 1.3 is accepted" "$out" 'New, TLSv1\.3, Cipher is'

resp=$(VIA_TRANSPORT=TLS sip_request OPTIONS sip:example.test opt1 | tls_exchange)
check_match "OPTIONS over TLS gets 200" "$(echo "$resp" | head -n 1)" '^SIP/2.0 200 '
check_match "... with the TLS Via given back, received and rport filled" "$resp" \
    '^Via: SIP/2.0/TLS 127\.0\.0\.1:9;rport=[0-9]+;branch=z9hG4bKopt1;received=127\.0\.0\.1'

out=$(hello -verify_hostname wrong.example.test -verify_return_error)
check_match "a client checking the name refuses a certificate for another name" "$out" \
    'hostname mismatch'
out=$(hello -verify_hostname sip.example.test -verify_return_error)
check_match "... and accepts it for the right one" "$out" 'Verify return code: 0 \(ok\)'

serial1=$(hello | openssl x509 -noout -serial 2>/dev/null)
make_cert server IP:127.0.0.1,DNS:sip.example.test
kill -HUP "$SERVER_PID"
for _ in $(seq 1 100); do grep -q 'event=tls_reloaded' "$LOG" && break; sleep 0.1; done
serial2=$(hello | openssl x509 -noout -serial 2>/dev/null)
check "SIGHUP: new connections get the renewed certificate" \
    "$([ -n "$serial1" ] && [ -n "$serial2" ] && [ "$serial1" != "$serial2" ] && echo yes)" yes
stop_server

# verify_client = required, from the [tls] section of a config file.
cat >"$TMP/tls.conf" <<CONF
[tls]
listen = 127.0.0.1:0
cert = $TMP/server.pem
key = $TMP/server.key
ca = $TMP/ca.pem
verify_client = required
min_version = 1.2
CONF
start_server --config "$TMP/tls.conf"
TLS_PORT=$(sed -n 's/.*event=listening transport=tls addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG")
resp=$(VIA_TRANSPORT=TLS sip_request OPTIONS sip:example.test opt2 | tls_exchange)
check "verify_client=required: no answer without a client certificate" "$resp" ""
check_match "... the server logs why" "$(cat "$LOG")" \
    'event=tls_handshake_failed .*side=server .*(peer did not return a certificate|certificate required)'
resp=$(VIA_TRANSPORT=TLS sip_request OPTIONS sip:example.test opt3 |
    tls_exchange -cert "$TMP/client.pem" -key "$TMP/client.key")
check_match "... and OPTIONS is answered with one signed by the CA" "$(echo "$resp" | head -n 1)" \
    '^SIP/2.0 200 '
make_ca other-ca
make_cert stranger DNS:phone.example.test other-ca
resp=$(VIA_TRANSPORT=TLS sip_request OPTIONS sip:example.test opt4 |
    tls_exchange -cert "$TMP/stranger.pem" -key "$TMP/stranger.key")
check "... but not with one from another CA" "$resp" ""
stop_server
finish
