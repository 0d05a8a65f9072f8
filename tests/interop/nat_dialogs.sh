#!/bin/sh
# Phones behind a real NAT (network namespaces, nftables masquerade; see
# lib/nat.sh): bob sits on a LAN behind the NAT, alice and the server on
# the WAN side. bob registers with his private address as Contact; calls
# must reach him at the flow his REGISTER came from, and so must every
# request within the dialog (ACK, re-INVITE, BYE), whether he is the
# callee (UDP and TCP) or the caller. Runs as root (CI does); without
# namespaces the test fails with the reason.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nat.sh"
need sipp
SCEN=$(dirname "$0")/scenarios
DOMAIN=example.test

# sipp_in NS NAME IP PORT TRANSPORT SCENARIO [args]: one bounded SIPp run
# inside namespace NS towards the server.
sipp_in() {
    local ns=$1 name=$2 ip=$3 port=$4 tp=$5 scen=$6
    shift 6
    timeout 25 ip netns exec "$ns" sipp "$SERVER_IP:$PORT" -sf "$scen" -t "$tp" -i "$ip" \
        -p "$port" -m 1 -timeout 20s -recv_timeout 8000 -nostdin \
        -trace_msg -trace_err -message_file "$TMP/$name.msg" -error_file "$TMP/$name.err" \
        "$@" >"$TMP/$name.out" 2>&1
}

bg_start() { # NAME, then sipp_in arguments: sets BG_PID
    local name=$1
    shift
    sipp_in "$@" &
    BG_PID=$!
    BG="$BG $BG_PID"
    sleep 0.5
}

bg_wait() { # what pid name
    wait "$2"
    local rc=$?
    check "$1" "$rc" 0
    [ "$rc" = 0 ] || sed 's/^/    /' "$TMP/$3.err" "$TMP/$3.out" 2>/dev/null | tail -n 20
}

nat_setup
add_user alice alice-secret
add_user bob bob-secret
nat_server

B=$(peer_port)
A=$((B + 1))

# -- UDP: alice (WAN) calls bob (LAN); she re-INVITEs and hangs up ---------
sipp_in "$LAN_NS" reg-bob "$LAN_UA_IP" "$B" u1 "$SCEN/proxy_register.xml" -s bob -au bob \
    -ap bob-secret -auth_uri "$DOMAIN" -set domain "$DOMAIN"
check "bob registers over UDP from behind the NAT" "$?" 0
bg_start bob-answer "$LAN_NS" bob-answer "$LAN_UA_IP" "$B" u1 "$SCEN/nat_uas_answer.xml" -s bob
sipp_in "$WAN_NS" alice-call "$WAN_UA_IP" "$A" u1 "$SCEN/nat_uac_call.xml" -s bob \
    -set caller alice -au alice -ap alice-secret -auth_uri "bob@$DOMAIN" -set domain "$DOMAIN"
check "alice's call, re-INVITE and BYE to bob over UDP complete" "$?" 0
bg_wait "bob (UDP, behind NAT) got the INVITE, ACK, re-INVITE and BYE" "$BG_PID" bob-answer

# -- UDP: bob (LAN) calls alice (WAN); she re-INVITEs and hangs up ---------
sipp_in "$WAN_NS" reg-alice "$WAN_UA_IP" "$A" u1 "$SCEN/proxy_register.xml" -s alice -au alice \
    -ap alice-secret -auth_uri "$DOMAIN" -set domain "$DOMAIN"
check "alice registers" "$?" 0
bg_start alice-drive "$WAN_NS" alice-drive "$WAN_UA_IP" "$A" u1 "$SCEN/nat_uas_drive.xml" -s alice
sipp_in "$LAN_NS" bob-call "$LAN_UA_IP" "$B" u1 "$SCEN/nat_uac_wait.xml" -s alice \
    -set caller bob -au bob -ap bob-secret -auth_uri "alice@$DOMAIN" -set domain "$DOMAIN"
check "bob (caller behind NAT) gets alice's re-INVITE and BYE" "$?" 0
bg_wait "alice's re-INVITE and BYE towards the NAT are answered" "$BG_PID" alice-drive

# -- TCP: bob registers over TCP with sipkit's UA and answers on that
#    connection; alice calls and hangs up -----------------------------------
bob_answer_tcp 45
alice_call_tcp_scenario
sipp_in "$WAN_NS" alice-tcp "$WAN_UA_IP" "$((A + 2))" u1 "$TMP/uac_call.xml" -s bob \
    -au alice -ap alice-secret -auth_uri "bob@$DOMAIN" -set domain "$DOMAIN"
check "alice's call and BYE to bob over TCP complete" "$?" 0
wait "$BG_PID"
check "bob (TCP, behind NAT) answered and got the BYE" "$?" 0
stop_server
finish
