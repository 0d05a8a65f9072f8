#!/bin/sh
# OPTIONS keep-alives through a real NAT (lib/nat.sh, a 3 s UDP conntrack
# timeout), nat.keepalive_method = options (the default): bob registers
# over UDP from behind the NAT and answers OPTIONS like any phone. While
# the NAT works, the server's OPTIONS every second are answered through
# it and keep its mapping open past the conntrack timeout: bob's binding
# stays. Then the NAT drops all UDP: within keepalive_failures (2) + 1
# intervals the binding is logged dead and removed, and an INVITE for bob
# gets 480 at once instead of being lost in the NAT. Runs as root;
# without namespaces the test fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
NAT_UDP_TIMEOUT=3
. "$(dirname "$0")/lib/nat.sh"
need python3
need curl
UAC=$(dirname "$0")/lib/digest_uac.py

listed() { "$SIPKIT" location list --data-dir "$TMP/data" 2>&1 | grep -c '^bob@'; }

nat_setup
add_user alice alice-secret
add_user bob bob-secret
head -c 32 /dev/urandom | base64 >"$TMP/token"
nat_server --nat-keepalive-interval 1 --nat-keepalive-failures 2 --drain-timeout 1 \
    --admin 127.0.0.1:0 --admin-token-file "$TMP/token" --log-level debug
for _ in $(seq 1 50); do
    APORT=$(sed -n 's/.*event=listening transport=http addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG")
    [ -n "$APORT" ] && break
    sleep 0.1
done
metrics() {
    wan curl -s -m 5 -H "Authorization: Bearer $(cat "$TMP/token")" "http://127.0.0.1:$APORT/metrics"
}

# bob registers and then answers every request (the OPTIONS) for 30 s.
lan timeout 40 python3 "$UAC" --server "$SERVER_IP" --port "$PORT" --bind "$LAN_UA_IP" \
    --domain "$DOMAIN" --user bob --password bob-secret --expires 600 --linger 30 \
    >"$TMP/bob.out" 2>&1 &
BOB=$!
BG="$BG $BOB"
for _ in $(seq 1 50); do
    grep -q '^status=' "$TMP/bob.out" && break
    sleep 0.1
done
check "bob registers from behind the NAT" "$(grep '^status=' "$TMP/bob.out")" "status=200"

# -- the NAT works: OPTIONS answered, the binding outlives the NAT timeout --
sleep 6
answered=$(grep -c 'event=keepalive_answered status=200 counted=true' "$LOG")
check_match "OPTIONS keep-alives are answered through the NAT (answered: $answered)" \
    "$answered" '^([4-9]|[1-9][0-9]+)$'
check "bob's binding stays past the 3 s NAT timeout" "$(listed)" 1
check "no binding is declared dead while the NAT works" \
    "$(grep -c 'event=binding_dead' "$LOG")" 0

# -- the NAT starts dropping every UDP datagram -----------------------------
natns nft insert rule ip sknat sk_forward meta l4proto udp drop ||
    { echo "FAIL: nft rule in the NAT namespace"; exit 1; }
dead=""
for _ in $(seq 1 80); do
    grep -q 'event=binding_dead aor="bob@example.test"' "$LOG" && { dead=yes; break; }
    sleep 0.1
done
check "bob's binding is declared dead within 8 s of the NAT dropping" "$dead" yes
for _ in $(seq 1 20); do
    [ "$(listed)" = 0 ] && break
    sleep 0.1
done
check "sipkit location list no longer shows bob" "$(listed)" 0
m=$(metrics)
check_match "metrics count the dead binding" "$m" '^sipkit_nat_bindings_dead_total 1$'
check_match "metrics count the answered keep-alives" "$m" \
    '^sipkit_nat_keepalives_answered_total ([4-9]|[1-9][0-9]+)$'

# -- a call for bob now gets 480 at once -------------------------------------
start=$(date +%s%N)
out=$(wan timeout 10 python3 "$UAC" --server "$SERVER_IP" --port "$PORT" --bind "$WAN_UA_IP" \
    --domain "$DOMAIN" --user alice --password alice-secret --method INVITE \
    --uri "sip:bob@$DOMAIN" --header Proxy-Authorization 2>&1)
ms=$((($(date +%s%N) - start) / 1000000))
check "an INVITE for bob gets 480" "$(printf '%s\n' "$out" | grep '^status=')" "status=480"
# Lost in the NAT it would take Timer B (32 s); the margin is for load.
check "... at once, not after Timer B (took $ms ms)" "$([ "$ms" -lt 5000 ] && echo fast)" fast
stop_server
finish
