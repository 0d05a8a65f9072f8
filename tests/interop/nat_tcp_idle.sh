#!/bin/sh
# A phone behind NAT registered over TCP stays reachable on its connection
# while the connection is open, however long it has been quiet (RFC 5626
# §5.3, RFC 3261 §18: the server keeps the connections of registered UAs).
# bob registers over UDP (a binding left to go stale: nothing answers it
# any more) and then over TCP with sipkit's UA; after NAT_TCP_IDLE_DELAY
# seconds of silence, longer than the TCP idle timeout and the NAT
# keep-alive interval the server runs with, alice calls him: the call must
# reach bob's TCP connection. Runs as root (CI does).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nat.sh"
need sipp
SCEN=$(dirname "$0")/scenarios
DELAY=${NAT_TCP_IDLE_DELAY:-6}

nat_setup
add_user alice alice-secret
add_user bob bob-secret
nat_server --tcp-idle-timeout 3 --nat-keepalive-interval 2 --log-level debug

B=$(peer_port)
A=$((B + 1))

# bob's UDP phone registers and goes away: its binding stays until the
# keep-alives give up on it.
timeout 25 ip netns exec "$LAN_NS" sipp "$SERVER_IP:$PORT" -sf "$SCEN/proxy_register.xml" -t u1 \
    -i "$LAN_UA_IP" -p "$B" -m 1 -timeout 20s -recv_timeout 8000 -nostdin -s bob -au bob \
    -ap bob-secret -auth_uri "$DOMAIN" -set domain "$DOMAIN" >"$TMP/reg-bob.out" 2>&1
check "bob registers over UDP from behind the NAT" "$?" 0

bob_answer_tcp $((DELAY + 40))
check "bob registers over TCP from behind the NAT" "$?" 0

sleep "$DELAY"
grep -q 'event=tcp_close.*reason="idle timeout"' "$LOG"
check "the connection of bob's registration is not closed for being idle" "$?" 1

alice_call_tcp_scenario
timeout 25 ip netns exec "$WAN_NS" sipp "$SERVER_IP:$PORT" -sf "$TMP/uac_call.xml" -t u1 \
    -i "$WAN_UA_IP" -p "$A" -m 1 -timeout 20s -recv_timeout 15000 -nostdin -s bob -au alice \
    -ap alice-secret -auth_uri "bob@$DOMAIN" -set domain "$DOMAIN" >"$TMP/alice.out" 2>&1
check "alice's call reaches bob over TCP after ${DELAY}s of silence" "$?" 0
wait "$BG_PID"
check "bob (TCP, behind NAT) answered and got the BYE" "$?" 0
stop_server
finish
