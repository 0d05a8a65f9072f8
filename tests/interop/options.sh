#!/bin/sh
# OPTIONS to `sipkit serve` over UDP and TCP, from SIPp (our scenario, which
# checks Allow, Accept, Supported and the To tag) and from sipsak; the
# server then exits 0 on SIGTERM.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
need sipsak
SCEN=$(dirname "$0")/scenarios

start_server --trace

for t in u1 t1; do
    lp=$(peer_port)
    timeout 20 sipp 127.0.0.1:"$PORT" -sf "$SCEN/options.xml" -t "$t" -i 127.0.0.1 -p "$lp" \
        -m 5 -r 50 -timeout 15s -recv_timeout 5000 -nostdin -trace_logs \
        -log_file "$TMP/sipp-$t.log" >"$TMP/sipp-$t.out" 2>&1
    check "SIPp OPTIONS transport=$t (5 calls)" "$?" 0
    check_match "SIPp saw Allow/Accept/Supported/To-tag ($t)" "$(cat "$TMP/sipp-$t.log" 2>/dev/null)" \
        'allow=OPTIONS accept=application/sdp supported=Supported: totag=tag=[0-9a-f]+'
done

timeout 10 sipsak -s "sip:127.0.0.1:$PORT" >"$TMP/sipsak-udp.out" 2>&1
check "sipsak OPTIONS over UDP" "$?" 0
timeout 10 sipsak -E tcp -s "sip:127.0.0.1:$PORT" >"$TMP/sipsak-tcp.out" 2>&1
check "sipsak OPTIONS over TCP" "$?" 0

# RFC 3581: sipsak asks for rport; the answer fills in its value where it
# stands and adds received.
out=$(timeout 10 sipsak -v -s "sip:127.0.0.1:$PORT" 2>&1)
check_match "200 carries received and the rport value" "$out" \
    'Via: SIP/2\.0/UDP [^ ]*;rport=[0-9]+[^ ]*;received=127\.0\.0\.1'
check_match "Allow names what the server handles" "$out" '^Allow: ACK, CANCEL, OPTIONS, REGISTER, SUBSCRIBE, PUBLISH'
check_match "Allow-Events names the event packages" "$out" '^Allow-Events: presence, reg, dialog'
bare=$(printf '%s\n' "$out" | grep '^Via:' | tr -d '\r' | grep -Ec ';rport(;|$)')
check "no value-less rport left in the reply" "$bare" 0

check_match "--trace shows messages in and out with transport and peer" "$(cat "$TRACE")" \
    '<<< tcp 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:'"$PORT"
check_match "--trace shows responses" "$(cat "$TRACE")" \
    ">>> udp 127\\.0\\.0\\.1:$PORT -> 127\\.0\\.0\\.1:[0-9]+"

stop_server
finish
