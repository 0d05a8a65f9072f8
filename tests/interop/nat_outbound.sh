#!/bin/sh
# Outbound (RFC 5626) through a real NAT (lib/nat.sh): bob's phone
# registers two flows of one instance (reg-id 1 and 2, two ports) with
# Supported and Require: outbound. No 420; the 200 says Require: outbound
# with a Flow-Timer. A call goes to one flow of the instance only, the
# most recent (the other is kept for failover), and reaches bob through
# the NAT. Runs as root; without namespaces the test fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nat.sh"
need sipp
SCEN=$(dirname "$0")/scenarios

sipp_in() { # NS NAME IP PORT SCENARIO [args]
    local ns=$1 name=$2 ip=$3 port=$4 scen=$5
    shift 5
    timeout 25 ip netns exec "$ns" sipp "$SERVER_IP:$PORT" -sf "$scen" -t u1 -i "$ip" \
        -p "$port" -m 1 -timeout 12s -recv_timeout 8000 -nostdin -trace_msg -trace_err \
        -trace_logs -log_file "$TMP/$name.log" -message_file "$TMP/$name.msg" \
        -error_file "$TMP/$name.err" "$@" >"$TMP/$name.out" 2>&1
}

register_flow() { # PORT REG-ID
    sipp_in "$LAN_NS" "reg-$2" "$LAN_UA_IP" "$1" "$SCEN/nat_register_outbound.xml" -s bob \
        -au bob -ap bob-secret -auth_uri "$DOMAIN" -set domain "$DOMAIN" -set regid "$2"
    check "bob's flow reg-id=$2 registers with Require: outbound (no 420)" "$?" 0
    check_match "the 200 requires outbound and gives a Flow-Timer ($2)" \
        "$(cat "$TMP/reg-$2.log" 2>/dev/null)" 'outbound require=outbound flow-timer=25'
}

nat_setup
add_user alice alice-secret
add_user bob bob-secret
sed -e 's/{32}&gt;/{32}/' -e 's/127\\\.0\\\.0\\\.1/198\\.51\\.100\\.1/' \
    "$SCEN/proxy_uac_call.xml" >"$TMP/uac_call.xml"
sed -e 's/127\\\.0\\\.0\\\.1/198\\.51\\.100\\.1/' "$SCEN/proxy_uas_answer.xml" >"$TMP/uas_answer.xml"
nat_server

B1=$(peer_port)
B2=$((B1 + 1))
A=$((B1 + 2))
register_flow "$B1" 1
sleep 1.2 # binding times are in seconds: reg-id 2 is then the most recent
register_flow "$B2" 2
check_match "two flows, two bindings" "$(grep 'event=registered aor="bob@' "$LOG" | tail -n 1)" \
    'bindings=2'

# The older flow must stay silent: its listener sees nothing during the call.
sipp_in "$LAN_NS" flow1 "$LAN_UA_IP" "$B1" "$TMP/uas_answer.xml" -s bob -timeout 10s &
F1=$!
BG="$BG $F1"
sipp_in "$LAN_NS" flow2 "$LAN_UA_IP" "$B2" "$TMP/uas_answer.xml" -s bob &
F2=$!
BG="$BG $F2"
sleep 0.5
sipp_in "$WAN_NS" alice "$WAN_UA_IP" "$A" "$TMP/uac_call.xml" -s bob -au alice \
    -ap alice-secret -auth_uri "bob@$DOMAIN" -set domain "$DOMAIN"
check "alice's call to bob's outbound instance completes" "$?" 0
wait "$F2"
check "the most recent flow (reg-id 2) answered" "$?" 0
wait "$F1"
check "the other flow (reg-id 1) got no INVITE" \
    "$(grep -c '^INVITE ' "$TMP/flow1.msg" 2>/dev/null || true)" 0
stop_server
finish
