#!/bin/sh
# Presence (RFC 3856, RFC 6665, PUBLISH RFC 3903) against SIPp: alice
# subscribes to bob (401, then 200 with Expires, Contact and Record-Route)
# and gets a NOTIFY at once saying closed (no publication), routed by her
# Record-Route; bob publishes open (401, 200 with SIP-ETag), alice gets the
# new PIDF; bob refreshes (new SIP-ETag), a stale tag gets 412, a text body
# 415 with Accept, a broken PIDF 400; alice unsubscribes and gets
# terminated;reason=timeout. Then the refusals before authentication: 489
# for an unknown or missing Event (those after it, 403/404/406/423, and
# the fetch are in events_refusals.sh).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
SCEN=$(dirname "$0")/scenarios

mkdir -p "$TMP/data"
for u in alice bob; do
    printf '%spw' "$u" | "$SIPKIT" users add "$u" --password-stdin --data-dir "$TMP/data" \
        --domain example.test >/dev/null || { echo "FAIL: users add $u"; exit 1; }
done
start_server --sub-min-expires 30

# SIPp takes the [authentication] keyword itself from a field.
authf() { printf '[authentication username=%s password=%spw]' "$1" "$1"; }
printf 'SEQUENTIAL\nalice;%s;bob;presence;application/pidf+xml\n' "$(authf alice)" >"$TMP/watch.csv"
printf 'SEQUENTIAL\nbob;%s\n' "$(authf bob)" >"$TMP/pub.csv"
wp=$(peer_port)
timeout 40 sipp 127.0.0.1:"$PORT" -sf "$SCEN/events_watch.xml" -inf "$TMP/watch.csv" -t u1 \
    -auth_uri bob@example.test \
    -i 127.0.0.1 -p "$wp" -m 1 -timeout 35s -nostdin -trace_msg -message_file "$TMP/watch.msg" \
    -trace_logs -log_file "$TMP/watch.log" >"$TMP/watch.out" 2>&1 &
WATCHER=$!
for _ in $(seq 1 100); do
    grep -q notify1 "$TMP/watch.log" 2>/dev/null && break
    sleep 0.1
done
check_match "first NOTIFY at once, active" "$(cat "$TMP/watch.log" 2>/dev/null)" \
    'notify1 cseq=[0-9]+ state=active;expires=1[12][0-9]'

timeout 30 sipp 127.0.0.1:"$PORT" -sf "$SCEN/events_publish.xml" -inf "$TMP/pub.csv" -t u1 \
    -auth_uri bob@example.test \
    -i 127.0.0.1 -p $((wp + 1)) -m 1 -timeout 25s -nostdin -trace_msg \
    -message_file "$TMP/pub.msg" -trace_logs -log_file "$TMP/pub.log" >"$TMP/pub.out" 2>&1
check "SIPp PUBLISH scenario" "$?" 0
wait "$WATCHER"
check "SIPp watcher scenario" "$?" 0

log=$(cat "$TMP/watch.log" "$TMP/pub.log" 2>/dev/null)
pub=$(tr -d '\r' <"$TMP/pub.msg")
tags=$(printf '%s\n' "$pub" | sed -n 's/^SIP-ETag: \([a-v0-9]\{16\}\)$/\1/p')
check "two 200s with an entity-tag each, all different" \
    "$(printf '%s\n' "$tags" | sort -u | wc -l)" 2
first=$(printf '%s\n' "$tags" | head -n 1)
check_match "refresh names the first entity-tag" "$pub" "^SIP-If-Match: $first\$"
check_match "PUBLISH 200 with Expires 60" "$pub" '^Expires: 60$'
check_match "refresh 200 with Expires 90" "$pub" '^Expires: 90$'
check_match "stale entity-tag 412" "$log" 'stale-etag-412'
check_match "text body 415 with Accept" "$log" 'text-415 accept=application/pidf\+xml'
check_match "broken PIDF 400" "$log" 'bad-pidf-400'
check_match "final NOTIFY terminated" "$log" 'notify3 cseq=[0-9]+ state=terminated;reason=timeout'
n1=$(sed -n 's/.*notify1 cseq=\([0-9]*\).*/\1/p' "$TMP/watch.log")
n2=$(sed -n 's/.*notify2 cseq=\([0-9]*\).*/\1/p' "$TMP/watch.log")
n3=$(sed -n 's/.*notify3 cseq=\([0-9]*\).*/\1/p' "$TMP/watch.log")
check "NOTIFY CSeqs increase by one" "$n1 $n2 $n3" "1 2 3"
msgs=$(tr -d '\r' <"$TMP/watch.msg")
check_match "first NOTIFY says closed" "$msgs" '<basic>closed</basic>'
check_match "second NOTIFY carries the published PIDF" "$msgs" 'In the &lt;office&gt;'
check_match "NOTIFY routed by the Record-Route" "$msgs" "Route: <sip:127\\.0\\.0\\.1:$wp;lr>"
check_match "NOTIFY body type" "$msgs" 'Content-Type: application/pidf\+xml'

# Refusals, answered before or after authentication.
sub() { # event expires user -> status line of the first response
    sip_request SUBSCRIBE "sip:$3@example.test" "$RANDOM$RANDOM" \
        "${1:+Event: $1\r\n}Contact: <sip:x@127.0.0.1:9>\r\nExpires: $2\r\n" |
        CSEQ_METHOD=SUBSCRIBE udp_exchange
}
out=$(sub message-summary 60 bob)
check_match "489 for a package not served" "$out" '^SIP/2.0 489 Bad Event$'
check_match "489 carries Allow-Events" "$out" '^Allow-Events: presence, reg, dialog$'
out=$(sub "" 60 bob)
check_match "489 for a missing Event" "$out" '^SIP/2.0 489 Bad Event \(Missing Event Header\)'
out=$(sub presence 60 bob)
check_match "401 before anything else" "$out" '^SIP/2.0 401'

stop_server
finish
