#!/bin/sh
# Calls through the proxy whose two legs differ, with SIPp at both ends:
# a UDP caller to a TCP callee and an IPv6 ([::1]) caller to an IPv4
# callee, each hung up once by the caller and once by the callee, so ACK
# and BYE cross the proxy in both directions. The proxy must put two
# Record-Route values in (RFC 5658), the TCP one with ;transport=tcp, and
# take both out again when a request comes back. The server serves the
# domain 127.0.0.1 and the callees' Contacts have no user part
# (sip:127.0.0.1:PORT): a BYE to such a Contact shares the server's
# address and domain but not its port, and must be forwarded, not
# answered by the server itself. An ACK for a 2xx sent without Route is
# routed like any in-dialog request (to the callee's binding).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
SCEN=$(dirname "$0")/scenarios
DOMAIN=127.0.0.1
BG=""

if [ "$(cat /proc/sys/net/ipv6/conf/lo/disable_ipv6 2>/dev/null)" = 1 ]; then
    echo "FAIL: IPv6 is disabled on loopback"; exit 1
fi

legs_cleanup() {
    for p in $BG; do
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    cleanup
}
trap legs_cleanup EXIT

# One server on 127.0.0.1 and [::1], the same port (retried if taken).
start_dual() {
    LOG=$TMP/server.log
    TRACE=$TMP/trace.out
    for _ in 1 2 3 4 5; do
        PORT=$(peer_port)
        "$SIPKIT" serve --listen "127.0.0.1:$PORT" --listen "[::1]:$PORT" --data-dir "$TMP/data" \
            --domain "$DOMAIN" --workers 2 --auth-algorithms MD5 >"$TRACE" 2>"$LOG" &
        SERVER_PID=$!
        for _ in $(seq 1 100); do
            grep -q 'event=started' "$LOG" 2>/dev/null && return 0
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=""
    done
    echo "FAIL: the server did not start on 127.0.0.1 and [::1]"; cat "$LOG"; exit 1
}

# uac NAME LOCAL-IP REMOTE PORT SCENARIO CALLEE: a bounded caller run as alice.
uac() {
    local name=$1 ip=$2 remote=$3 port=$4 scen=$5 callee=$6
    timeout 25 sipp "$remote" -sf "$scen" -t u1 -i "$ip" -p "$port" -m 1 -s "$callee" \
        -set domain "$DOMAIN" -au alice -ap alice-secret -auth_uri "$callee@$DOMAIN" \
        -timeout 20s -recv_timeout 8000 -nostdin -trace_logs -trace_err \
        -log_file "$TMP/$name.log" -error_file "$TMP/$name.err" >"$TMP/$name.out" 2>&1
}

register() { # name port user password transport(u1|t1)
    timeout 25 sipp "127.0.0.1:$PORT" -sf "$SCEN/proxy_register.xml" -t "$5" -i 127.0.0.1 \
        -p "$2" -m 1 -s "$3" -au "$3" -ap "$4" -auth_uri "$DOMAIN" -set domain "$DOMAIN" \
        -timeout 20s -recv_timeout 8000 -nostdin -trace_err -error_file "$TMP/$1.err" \
        >"$TMP/$1.out" 2>&1
    check "$3 registers from port $2 ($5)" "$?" 0
}

# uas_start NAME PORT SCENARIO TRANSPORT: a callee in the background (UAS_PID).
uas_start() {
    timeout 25 sipp -sf "$3" -t "$4" -i 127.0.0.1 -p "$2" -m 1 -s bob -timeout 20s -nostdin \
        -trace_logs -trace_err -log_file "$TMP/$1.log" -error_file "$TMP/$1.err" \
        >"$TMP/$1.out" 2>&1 &
    UAS_PID=$!
    BG="$BG $UAS_PID"
    sleep 0.5
}

uas_wait() { # name pid
    wait "$2"
    check "callee $1 scenario completed" "$?" 0
}

logged() { cat "$TMP/$1.log" 2>/dev/null; }

add_user alice alice-secret
add_user bob bob-secret
add_user erin erin-secret
start_dual

base=$(peer_port)
A=$base; B=$((base + 1)); E=$((base + 2)); A6=$((base + 3))
TOK='sk=[0-9a-f]{32}'
V4="127\\.0\\.0\\.1:$PORT"
V6="\\[::1\\]:$PORT"

register reg-bob "$B" bob bob-secret u1
register reg-erin "$E" erin erin-secret t1

# -- same legs: one Record-Route value; the BYE to sip:127.0.0.1:B goes on
uas_start bob1 "$B" "$SCEN/proxy_uas_legs.xml" u1
uac call1 127.0.0.1 "127.0.0.1:$PORT" "$A" "$SCEN/proxy_uac_legs.xml" bob
check "UDP alice calls UDP bob, hangs up to sip:127.0.0.1:$B" "$?" 0
uas_wait bob1 "$UAS_PID"
check_match "one Record-Route value when both legs are UDP over IPv4" "$(logged bob1)" \
    "callee-rr= *<sip:$V4;lr;$TOK>\$"
check_match "bob got the caller's BYE" "$(logged bob1)" 'callee-bye'

# -- an ACK for the 2xx without Route, to sip:bob@127.0.0.1:B: like the BYE
# without Route would be, it goes to bob's binding
uas_start bob0 "$B" "$SCEN/proxy_uas_answer.xml" u1
uac call0 127.0.0.1 "127.0.0.1:$PORT" "$A" "$SCEN/proxy_uac_noroute_ack.xml" bob
check "alice's ACK without Route and her BYE reach bob" "$?" 0
uas_wait bob0 "$UAS_PID"
check_match "bob got the ACK" "$(logged bob0)" 'callee-ack'

# -- UDP caller, TCP callee --------------------------------------------------
uas_start erin1 "$E" "$SCEN/proxy_uas_legs.xml" t1
uac call2 127.0.0.1 "127.0.0.1:$PORT" "$A" "$SCEN/proxy_uac_legs.xml" erin
check "UDP alice calls TCP erin and hangs up" "$?" 0
uas_wait erin1 "$UAS_PID"
check_match "erin sees two values, the TCP leg's on top with ;transport=tcp" "$(logged erin1)" \
    "callee-rr= *<sip:$V4;transport=tcp;lr;$TOK>, <sip:$V4;lr;$TOK>"
check_match "alice sees the same two values" "$(logged call2)" \
    "caller-rr= *<sip:$V4;transport=tcp;lr;$TOK>, <sip:$V4;lr;$TOK>"
check_match "erin got the ACK and the BYE" "$(logged erin1)" 'callee-bye'

uas_start erin2 "$E" "$SCEN/proxy_uas_hangup.xml" t1
uac call3 127.0.0.1 "127.0.0.1:$PORT" "$A" "$SCEN/proxy_uac_hungup.xml" erin
check "UDP alice calls TCP erin, erin hangs up over TCP" "$?" 0
uas_wait erin2 "$UAS_PID"
check_match "erin's BYE reached alice over UDP through the proxy" "$(logged call3)" \
    "caller-got-bye via= *SIP/2.0/UDP $V4;branch="
check_match "alice's 200 reached erin" "$(logged erin2)" 'callee-bye-answered'

# -- IPv6 caller, IPv4 callee ------------------------------------------------
uas_start bob2 "$B" "$SCEN/proxy_uas_legs.xml" u1
uac call4 ::1 "[::1]:$PORT" "$A6" "$SCEN/proxy_uac_legs.xml" bob
check "IPv6 alice calls IPv4 bob and hangs up" "$?" 0
uas_wait bob2 "$UAS_PID"
check_match "bob sees our IPv4 address on top, the IPv6 one below" "$(logged bob2)" \
    "callee-rr= *<sip:$V4;lr;$TOK>, <sip:$V6;lr;$TOK>"
check_match "alice sees the same two values" "$(logged call4)" \
    "caller-rr= *<sip:$V4;lr;$TOK>, <sip:$V6;lr;$TOK>"
check_match "bob got the ACK and the BYE" "$(logged bob2)" 'callee-bye'

uas_start bob3 "$B" "$SCEN/proxy_uas_hangup.xml" u1
uac call5 ::1 "[::1]:$PORT" "$A6" "$SCEN/proxy_uac_hungup.xml" bob
check "IPv6 alice calls IPv4 bob, bob hangs up" "$?" 0
uas_wait bob3 "$UAS_PID"
check_match "bob's BYE reached alice over IPv6 through the proxy" "$(logged call5)" \
    "caller-got-bye via= *SIP/2.0/UDP $V6;branch="
check_match "alice's 200 reached bob" "$(logged bob3)" 'callee-bye-answered'

stop_server
finish
