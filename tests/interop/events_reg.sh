#!/bin/sh
# The reg event package (RFC 3680) against SIPp: alice subscribes to her
# own registration and gets reginfo at once (state init, no contact);
# she registers and the next NOTIFY lists the contact active with event
# "registered"; a second subscription sees it at once, and unregistering
# gives "unregistered".
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
SCEN=$(dirname "$0")/scenarios

mkdir -p "$TMP/data"
for u in alice bob; do
    printf '%spw' "$u" | "$SIPKIT" users add "$u" --password-stdin --data-dir "$TMP/data" \
        --domain example.test >/dev/null || { echo "FAIL: users add $u"; exit 1; }
done
start_server
authf() { printf '[authentication username=%s password=%spw]' "$1" "$1"; }
printf 'SEQUENTIAL\nalice;%s;alice;reg;application/reginfo+xml\n' "$(authf alice)" >"$TMP/watch.csv"

# watch N: a watcher run in the background, logs in $TMP/watchN.*
watch() {
    timeout 40 sipp 127.0.0.1:"$PORT" -sf "$SCEN/events_watch.xml" -inf "$TMP/watch.csv" -t u1 \
        -auth_uri alice@example.test -i 127.0.0.1 -p "$(peer_port)" -m 1 -timeout 35s -nostdin \
        -trace_msg -message_file "$TMP/watch$1.msg" -trace_logs -log_file "$TMP/watch$1.log" \
        >"$TMP/watch$1.out" 2>&1 &
    WATCHER=$!
    for _ in $(seq 1 100); do
        grep -q notify1 "$TMP/watch$1.log" 2>/dev/null && return
        sleep 0.1
    done
}
# The registering UA's port: chosen free, not fixed (the machine is shared).
REGPORT=$(peer_port)
register() { # expires
    printf 'SEQUENTIAL\nalice;%s;%s\n' "$(authf alice)" "$1" >"$TMP/reg.csv"
    timeout 20 sipp 127.0.0.1:"$PORT" -sf "$SCEN/events_register.xml" -inf "$TMP/reg.csv" -t u1 \
        -auth_uri example.test -i 127.0.0.1 -p "$REGPORT" -m 1 -timeout 15s -nostdin \
        >"$TMP/reg$1.out" 2>&1
    check "REGISTER expires=$1" "$?" 0
}

watch 1
register 60
wait "$WATCHER"
check "first reg subscription" "$?" 0
msgs=$(tr -d '\r' <"$TMP/watch1.msg")
check_match "first NOTIFY: registration init" "$msgs" \
    '<registration aor="sip:alice@example.test" id="r0" state="init">'
check_match "second NOTIFY: registered contact" "$msgs" \
    '<contact id="[0-9a-f]{16}" state="active" event="registered" expires="(60|59)"'
check_match "second NOTIFY: the contact URI" "$msgs" "<uri>sip:alice@127\\.0\\.0\\.1:$REGPORT</uri>"
check_match "reginfo versions count up" "$msgs" 'version="1" state="full"'

watch 2
register 0
wait "$WATCHER"
check "second reg subscription" "$?" 0
msgs=$(tr -d '\r' <"$TMP/watch2.msg")
check_match "NOTIFY after unREGISTER: unregistered" "$msgs" \
    'state="terminated" event="unregistered"'
check_match "registration terminated" "$msgs" 'id="r0" state="terminated"'

out=$(sip_request SUBSCRIBE sip:alice@example.test "$RANDOM" \
    'Event: reg\r\nContact: <sip:x@127.0.0.1:9>\r\n' | CSEQ_METHOD=SUBSCRIBE udp_exchange)
check_match "reg SUBSCRIBE is challenged" "$out" '^SIP/2.0 401'

stop_server
finish
