#!/bin/sh
# A subscription over TLS stays on TLS (RFC 3261 §26.2): `sipkit subscribe
# --transport tls` to the reg package through the TLS listener gets a 200
# whose Contact names the TLS listener with ;transport=tls, and NOTIFYs
# that come back over its connection with a TLS Via naming the TLS port
# (not the UDP/TCP one), so the subscriber's refresh or unsubscribe,
# sent to that Contact, arrives over TLS where TLS is spoken.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tls.sh"

make_ca
make_cert server IP:127.0.0.1,DNS:localhost
mkdir -p "$TMP/data"
printf 'bobpw\n' | "$SIPKIT" users add bob --password-stdin --data-dir "$TMP/data" \
    --domain example.test >/dev/null 2>&1
start_tls_server --trace

out=$(timeout 20 "$SIPKIT" subscribe sip:bob@example.test --event reg --count 1 \
    --user sip:bob@example.test --password bobpw --proxy "localhost:$TLS_PORT" \
    --transport tls --tls-ca "$TMP/ca.pem" 2>&1)
check "subscribe over TLS gets a NOTIFY" "$?" 0
check_match "... with the reg body" "$out" '<reginfo'
sent=$(grep -E '^>>> tls ' -A14 "$TRACE" | tr -d '\r')
check_match "the 200 to SUBSCRIBE names the TLS listener, transport=tls" \
    "$(echo "$sent" | grep -A12 '^SIP/2.0 200' | grep '^Contact:' | head -n 1)" \
    "^Contact: <sip:127\.0\.0\.1:$TLS_PORT;transport=tls>"
check_match "the NOTIFY's Via names the TLS port" \
    "$(echo "$sent" | grep -A2 '^NOTIFY ' | grep '^Via:' | head -n 1)" \
    "^Via: SIP/2.0/TLS 127\.0\.0\.1:$TLS_PORT;branch="
check_match "... and its Contact too" \
    "$(echo "$sent" | grep -A12 '^NOTIFY ' | grep '^Contact:' | head -n 1)" \
    "^Contact: <sip:127\.0\.0\.1:$TLS_PORT;transport=tls>"
check_match "the unsubscribe came over TLS" "$(grep -E '^<<< tls ' -A14 "$TRACE" | tr -d '\r')" \
    '^Expires: 0'
stop_server
finish
