#!/bin/sh
# A dead flow drops its binding (RFC 5626 §5.5) through a real NAT
# (lib/nat.sh): bob, behind the NAT, registers over TCP with sipkit's UA
# and exits, closing the connection, his only way in: the binding goes at
# once (event=flow_closed) instead of staying until it expires. carol, on
# the WAN side and reachable at her Contact, registers over TCP with SIPp
# and keeps her binding when SIPp exits: a new connection reaches her.
# Runs as root; without namespaces the test fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nat.sh"
need sipp
SCEN=$(dirname "$0")/scenarios

register_tcp() { # NS-RUNNER USER IP
    local run=$1 user=$2 ip=$3
    $run "$SIPKIT" register "sip:$user@$DOMAIN" --user "sip:$user@$DOMAIN" \
        --password "$user-secret" --proxy "$SERVER_IP:$PORT" --transport tcp \
        --local "$ip:0" --expires 600 --timeout 10 >"$TMP/reg-$user.out" 2>&1
    check "$user registers over TCP" "$?" 0
}

bindings() { # USER: how many bindings the registrar holds for USER
    "$SIPKIT" location list "$1@$DOMAIN" --data-dir "$TMP/data" 2>/dev/null | grep -c "sip:$1@"
}

nat_setup
add_user bob bob-secret
add_user carol carol-secret
nat_server

register_tcp lan bob "$LAN_UA_IP"
for _ in $(seq 1 100); do
    grep -q 'event=flow_closed aor="bob@' "$LOG" && break
    sleep 0.1
done
check_match "bob's closed TCP flow removed his binding" \
    "$(grep 'event=flow_closed aor="bob@' "$LOG")" 'removed=true'
check "bob has no binding left" "$(bindings bob)" 0

# SIPp binds its TCP socket to -i, so carol's source is her Contact's host.
timeout 25 ip netns exec "$WAN_NS" sipp "$SERVER_IP:$PORT" -sf "$SCEN/proxy_register.xml" -t t1 \
    -i "$WAN_UA_IP" -p "$(peer_port)" -m 1 -timeout 12s -nostdin -s carol -au carol \
    -ap carol-secret -auth_uri "$DOMAIN" -set domain "$DOMAIN" >"$TMP/reg-carol.out" 2>&1
check "carol registers over TCP (SIPp)" "$?" 0
sleep 1
check "carol (not behind NAT) keeps her binding after her connection closed" \
    "$(bindings carol)" 1
check "no flow_closed event for carol" "$(grep -c 'event=flow_closed aor="carol@' "$LOG")" 0
stop_server
finish
