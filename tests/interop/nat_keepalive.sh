#!/bin/sh
# Keep-alives through a real NAT (lib/nat.sh, a 4 s UDP conntrack
# timeout): a CRLF CRLF ping on TCP gets a CRLF pong (RFC 5626 §4.4.1); a
# STUN Binding request on the SIP UDP port gets the NAT's public address
# back (RFC 5389, XOR-MAPPED-ADDRESS); with nat.keepalive_interval and
# CRLF keep-alives (which need no answer: SIPp is not there to answer
# OPTIONS between its scenarios) the server keeps a UDP binding's NAT
# mapping open, so bob is still called well past the NAT timeout, and
# with keep-alives off the same call is lost in the NAT. OPTIONS
# keep-alives, the default, are nat_dead.sh's. Runs as root; without namespaces the test fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
NAT_UDP_TIMEOUT=4
. "$(dirname "$0")/lib/nat.sh"
need sipp
need python3
SCEN=$(dirname "$0")/scenarios
DOMAIN=example.test

sipp_in() { # NS NAME IP PORT SCENARIO [args]
    local ns=$1 name=$2 ip=$3 port=$4 scen=$5
    shift 5
    timeout 25 ip netns exec "$ns" sipp "$SERVER_IP:$PORT" -sf "$scen" -t u1 -i "$ip" \
        -p "$port" -m 1 -timeout 12s -recv_timeout 6000 -nostdin -trace_err \
        -error_file "$TMP/$name.err" "$@" >"$TMP/$name.out" 2>&1
}

# call_bob_after SECONDS LABEL: bob registers from behind the NAT, nothing
# is sent for SECONDS, then alice calls him. Prints SIPp's exit status.
call_bob_after() {
    local port
    port=$(peer_port)
    sipp_in "$LAN_NS" "reg-$2" "$LAN_UA_IP" "$port" "$SCEN/proxy_register.xml" -s bob -au bob \
        -ap bob-secret -auth_uri "$DOMAIN" -set domain "$DOMAIN"
    check "bob registers ($2)" "$?" 0
    sleep "$1"
    sipp_in "$LAN_NS" "bob-$2" "$LAN_UA_IP" "$port" "$TMP/uas_answer.xml" -s bob &
    local uas=$!
    BG="$BG $uas"
    sleep 0.5
    sipp_in "$WAN_NS" "alice-$2" "$WAN_UA_IP" "$((port + 1))" "$TMP/uac_call.xml" -s bob \
        -au alice -ap alice-secret -auth_uri "bob@$DOMAIN" -set domain "$DOMAIN"
    CALL_RC=$?
    kill -KILL "$uas" 2>/dev/null
    wait "$uas" 2>/dev/null
}

nat_setup
add_user alice alice-secret
add_user bob bob-secret
sed -e 's/{32}&gt;/{32}/' -e 's/127\\\.0\\\.0\\\.1/198\\.51\\.100\\.1/' \
    "$SCEN/proxy_uac_call.xml" >"$TMP/uac_call.xml"
sed -e 's/127\\\.0\\\.0\\\.1/198\\.51\\.100\\.1/' "$SCEN/proxy_uas_answer.xml" >"$TMP/uas_answer.xml"
nat_server --nat-keepalive-interval 2 --nat-keepalive-method crlf --log-level debug

# -- TCP: CRLF CRLF ping, CRLF pong --------------------------------------
pong=$(lan timeout 5 bash -c "exec 3<>/dev/tcp/$SERVER_IP/$PORT; printf '\r\n\r\n' >&3;
    timeout 3 head -c 2 <&3 | od -An -tx1 | tr -d ' \n'")
check "a CRLF CRLF ping over TCP gets a CRLF pong" "$pong" "0d0a"

# -- STUN Binding on the SIP UDP port, through the NAT -------------------
sport=$(peer_port)
mapped=$(lan timeout 5 python3 "$(dirname "$0")/lib/stun_binding.py" "$SERVER_IP" "$PORT" \
    "$LAN_UA_IP" "$sport")
check_match "STUN Binding answers with the NAT's public address" "$mapped" \
    "^$NAT_PUBLIC_IP:[0-9]+\$"
check "SIP still served after STUN" "$(lan "$SIPKIT" options "sip:$SERVER_IP:$PORT" \
    --timeout 5 >/dev/null 2>&1; echo $?)" 0

# -- keep-alives hold the NAT mapping open past its timeout --------------
call_bob_after 10 keepalive
check "bob is called 10 s after registering (NAT timeout 4 s, keep-alives every 2 s)" \
    "$CALL_RC" 0
check_match "keep-alives were sent" "$(grep -c 'event=keepalives method=crlf sent=' "$LOG")" '^[1-9]'

# -- without keep-alives, the NAT forgets bob ------------------------------
stop_server
nat_server --nat-keepalive-interval 0
call_bob_after 10 silent
check "without keep-alives the call is lost in the NAT" "$([ "$CALL_RC" != 0 ] && echo lost)" \
    lost
stop_server
finish
