#!/bin/sh
# sipkit's own client over TLS (--transport tls): it verifies the server's
# chain against --tls-ca and the host name it was given (RFC 5922),
# refuses a server that fails either with a sentence saying so (exit 4),
# and --insecure skips the check. It registers over TLS and its binding
# says transport=tls.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/tls.sh"

make_ca
make_ca other-ca
make_cert server IP:127.0.0.1,DNS:localhost
mkdir -p "$TMP/data"
printf 'bobpw\n' | "$SIPKIT" users add bob --password-stdin --data-dir "$TMP/data" \
    --domain example.test >/dev/null 2>&1
start_tls_server

out=$("$SIPKIT" register --user sip:bob@example.test --password bobpw --transport tls \
    --proxy "localhost:$TLS_PORT" --tls-ca "$TMP/ca.pem" 2>&1)
check "register over TLS, verifying the server by name" "$?" 0
check_match "... the binding is a TLS one" "$out" ';transport=tls>'
"$SIPKIT" options "sip:127.0.0.1:$TLS_PORT" --transport tls --tls-ca "$TMP/ca.pem" >/dev/null 2>&1
check "options to an address the certificate names" "$?" 0

out=$("$SIPKIT" options "sip:127.0.0.1:$TLS_PORT" --transport tls --tls-ca "$TMP/other-ca.pem" 2>&1)
check "a server whose chain does not verify is refused" "$?" 4
check_match "... saying why" "$out" 'TLS handshake with 127\.0\.0\.1:[0-9]+ failed: its certificate does not verify'

make_cert server DNS:sip.example.test
kill -HUP "$SERVER_PID"
for _ in $(seq 1 100); do grep -q 'event=tls_reloaded' "$LOG" && break; sleep 0.1; done
"$SIPKIT" options "sip:localhost:$TLS_PORT" --transport tls --tls-ca "$TMP/ca.pem" >/dev/null 2>&1
check "a certificate for another host name is refused" "$?" 4
"$SIPKIT" options "sip:127.0.0.1:$TLS_PORT" --transport tls --tls-ca "$TMP/ca.pem" >/dev/null 2>&1
check "... as is one that does not name the address" "$?" 4
"$SIPKIT" options "sip:127.0.0.1:$TLS_PORT" --transport tls --insecure >/dev/null 2>&1
check "--insecure skips the check" "$?" 0
stop_server
finish
