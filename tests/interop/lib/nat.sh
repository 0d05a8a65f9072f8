# Network namespaces with a real NAT between a LAN and a WAN, for the
# nat_*.sh tests (sourced after common.sh; not a test itself). Builds:
#
#   LAN ns   lan0 203.0.113.10/24, default route via the NAT
#   NAT ns   nl 203.0.113.1/24 | nw 198.51.100.2/24, forwarding, nftables
#            masquerade out of nw, new flows from the WAN dropped, a short
#            UDP conntrack timeout (NAT_UDP_TIMEOUT, default 10 s)
#   WAN ns   w0 198.51.100.1/24 (the server) and 198.51.100.20 (a second UA)
#
# Documentation ranges only, no link to the host's own network. Needs root
# (CI runs as root): a namespace that cannot be made FAILS the test with
# the reason. Everything is deleted on exit (nat_cleanup, which also runs
# common.sh's cleanup and kills the PIDs in $BG).
LAN_NS="sk-lan-$$"
NAT_NS="sk-nat-$$"
WAN_NS="sk-wan-$$"
SERVER_IP=198.51.100.1
WAN_UA_IP=198.51.100.20
NAT_PUBLIC_IP=198.51.100.2
LAN_UA_IP=203.0.113.10

DOMAIN=example.test
BG="" # PIDs of background peers, killed on exit

nat_cleanup() {
    for p in $BG; do
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    cleanup
    for ns in "$LAN_NS" "$NAT_NS" "$WAN_NS"; do
        ip netns del "$ns" 2>/dev/null
    done
}
trap nat_cleanup EXIT

add_user() { # name password
    printf '%s\n' "$2" | "$SIPKIT" users add "$1" --password-stdin --data-dir "$TMP/data" \
        --domain "$DOMAIN" >/dev/null 2>&1
    check "users add $1" "$?" 0
}

nat_fail() {
    echo "FAIL: cannot build the NAT namespaces: $1"
    exit 1
}

lan() { ip netns exec "$LAN_NS" "$@"; }
wan() { ip netns exec "$WAN_NS" "$@"; }
natns() { ip netns exec "$NAT_NS" "$@"; }

nat_setup() {
    local udp_timeout=${NAT_UDP_TIMEOUT:-10}
    need ip
    need nft
    for ns in "$LAN_NS" "$NAT_NS" "$WAN_NS"; do
        ip netns add "$ns" 2>"$TMP/netns.err" || nat_fail "ip netns add $ns: $(cat "$TMP/netns.err")"
        ip -n "$ns" link set lo up || nat_fail "lo up in $ns"
    done
    ip -n "$NAT_NS" link add nl type veth peer name lan0 netns "$LAN_NS" ||
        nat_fail "veth NAT-LAN"
    ip -n "$NAT_NS" link add nw type veth peer name w0 netns "$WAN_NS" || nat_fail "veth NAT-WAN"
    ip -n "$LAN_NS" addr add "$LAN_UA_IP/24" dev lan0 &&
        ip -n "$LAN_NS" link set lan0 up &&
        ip -n "$NAT_NS" addr add 203.0.113.1/24 dev nl &&
        ip -n "$NAT_NS" addr add "$NAT_PUBLIC_IP/24" dev nw &&
        ip -n "$NAT_NS" link set nl up &&
        ip -n "$NAT_NS" link set nw up &&
        ip -n "$WAN_NS" addr add "$SERVER_IP/24" dev w0 &&
        ip -n "$WAN_NS" addr add "$WAN_UA_IP/24" dev w0 &&
        ip -n "$WAN_NS" link set w0 up &&
        ip -n "$LAN_NS" route add default via 203.0.113.1 || nat_fail "addresses and routes"
    natns sysctl -qw net.ipv4.ip_forward=1 || nat_fail "ip_forward in the NAT namespace"
    natns nft -f - <<NFT || nat_fail "nftables masquerade"
table ip sknat {
    chain sk_post { type nat hook postrouting priority srcnat; oifname "nw" masquerade; }
    chain sk_forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "nl" oifname "nw" accept
    }
}
NFT
    # The conntrack sysctls exist once the NAT table loaded nf_conntrack;
    # per namespace, so the host is untouched.
    natns sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$udp_timeout" &&
        natns sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream="$udp_timeout" ||
        nat_fail "conntrack UDP timeout in the NAT namespace"
}

# nat_server [serve args]: sipkit serve in the WAN namespace on
# $SERVER_IP:5060; sets SERVER_PID, PORT, LOG, TRACE like start_server.
nat_server() {
    LOG=$TMP/server.log
    TRACE=$TMP/trace.out
    PORT=5060
    ip netns exec "$WAN_NS" "$SIPKIT" serve --listen "$SERVER_IP:$PORT" --data-dir "$TMP/data" \
        --domain example.test --workers 2 "$@" >"$TRACE" 2>"$LOG" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        grep -q 'event=listening transport=udp' "$LOG" 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: server did not log 'listening' within 10 s"; cat "$LOG"; exit 1
}
