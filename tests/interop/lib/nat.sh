# Network namespaces with a real NAT between a LAN and a WAN, for the
# nat_*.sh tests (sourced after common.sh; not a test itself). Builds:
#
#   LAN ns   lan0 203.0.113.10/24, default route via the NAT
#   NAT ns   nl 203.0.113.1/24 | nw 198.51.100.2/24, forwarding, nftables
#            masquerade out of nw, new flows from the WAN dropped, a short
#            UDP conntrack timeout (NAT_UDP_TIMEOUT, default 10 s)
#   WAN ns   w0 198.51.100.1/24 (the server) and 198.51.100.20 (a second UA)
#
# nat_setup_lan2 adds a second LAN behind a second NAT (two phones in two
# homes):
#
#   LAN2 ns  lan0 203.0.113.20/24, default route via its NAT
#   NAT2 ns  nl 203.0.113.1/24 | nw 198.51.100.3/24, the same rules
#   WAN ns   w1, a point-to-point link to 198.51.100.3
#
# Documentation ranges only, no link to the host's own network. Needs root
# (CI runs as root): a namespace that cannot be made FAILS the test with
# the reason. Everything is deleted on exit (nat_cleanup, which also runs
# common.sh's cleanup and kills the PIDs in $BG).
LAN_NS="sk-lan-$$"
NAT_NS="sk-nat-$$"
WAN_NS="sk-wan-$$"
LAN2_NS="sk-lan2-$$"
NAT2_NS="sk-nat2-$$"
SERVER_IP=198.51.100.1
WAN_UA_IP=198.51.100.20
NAT_PUBLIC_IP=198.51.100.2
LAN_UA_IP=203.0.113.10
NAT2_PUBLIC_IP=198.51.100.3
LAN2_UA_IP=203.0.113.20

DOMAIN=example.test
BG="" # PIDs of background peers, killed on exit

nat_cleanup() {
    for p in $BG; do
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    cleanup
    for ns in "$LAN_NS" "$NAT_NS" "$LAN2_NS" "$NAT2_NS" "$WAN_NS"; do
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
lan2() { ip netns exec "$LAN2_NS" "$@"; }
wan() { ip netns exec "$WAN_NS" "$@"; }
natns() { ip netns exec "$NAT_NS" "$@"; }

nat_netns() { # NS...: new namespaces with loopback up
    local ns
    for ns in "$@"; do
        ip netns add "$ns" 2>"$TMP/netns.err" || nat_fail "ip netns add $ns: $(cat "$TMP/netns.err")"
        ip -n "$ns" link set lo up || nat_fail "lo up in $ns"
    done
}

# nat_box NAT_NS LAN_NS LAN_IP PUBLIC_IP WAN_IF: a NAT namespace between a
# LAN namespace (203.0.113.0/24, the UA at LAN_IP) and the WAN namespace
# (its public address PUBLIC_IP, reached through WAN_IF on the WAN side).
nat_box() {
    local natns=$1 lanns=$2 lan_ip=$3 public_ip=$4 wan_if=$5
    ip -n "$natns" link add nl type veth peer name lan0 netns "$lanns" || nat_fail "veth $natns-LAN"
    ip -n "$natns" link add nw type veth peer name "$wan_if" netns "$WAN_NS" ||
        nat_fail "veth $natns-WAN"
    ip -n "$lanns" addr add "$lan_ip/24" dev lan0 &&
        ip -n "$lanns" link set lan0 up &&
        ip -n "$natns" addr add 203.0.113.1/24 dev nl &&
        ip -n "$natns" addr add "$public_ip/24" dev nw &&
        ip -n "$natns" link set nl up &&
        ip -n "$natns" link set nw up &&
        ip -n "$lanns" route add default via 203.0.113.1 || nat_fail "addresses and routes of $lanns"
    nat_rules "$natns" "${NAT_UDP_TIMEOUT:-10}"
}

nat_setup() {
    need ip
    need nft
    nat_netns "$LAN_NS" "$NAT_NS" "$WAN_NS"
    nat_box "$NAT_NS" "$LAN_NS" "$LAN_UA_IP" "$NAT_PUBLIC_IP" w0
    ip -n "$WAN_NS" addr add "$SERVER_IP/24" dev w0 &&
        ip -n "$WAN_NS" addr add "$WAN_UA_IP/24" dev w0 &&
        ip -n "$WAN_NS" link set w0 up || nat_fail "WAN addresses"
}

# nat_rules NS UDP_TIMEOUT: forwarding and masquerade from nl out of nw,
# new flows from the WAN dropped, the conntrack UDP timeout.
nat_rules() {
    local ns=$1 udp_timeout=$2
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 || nat_fail "ip_forward in $ns"
    ip netns exec "$ns" nft -f - <<NFT || nat_fail "nftables masquerade in $ns"
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
    ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$udp_timeout" &&
        ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream="$udp_timeout" ||
        nat_fail "conntrack UDP timeout in $ns"
}

# The second LAN behind the second NAT (after nat_setup). The WAN side
# reaches 198.51.100.3 over w1 by a host route; the NAT answers ARP for
# the server's address on w1 as Linux does for any local address.
nat_setup_lan2() {
    nat_netns "$LAN2_NS" "$NAT2_NS"
    nat_box "$NAT2_NS" "$LAN2_NS" "$LAN2_UA_IP" "$NAT2_PUBLIC_IP" w1
    ip -n "$WAN_NS" addr add 198.51.100.254/32 dev w1 &&
        ip -n "$WAN_NS" link set w1 up &&
        ip -n "$WAN_NS" route add "$NAT2_PUBLIC_IP/32" dev w1 src "$SERVER_IP" ||
        nat_fail "WAN side of LAN2"
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

# bob_answer_tcp TIMEOUT: bob registers from the LAN over TCP with
# sipkit's UA and answers one call on that connection (output in
# $TMP/bob-tcp.out); returns once it says it registered (bounded at 30 s:
# an ASan build on a loaded runner can be slow to start), 1 if it did not.
# Sets BG_PID (also added to $BG).
bob_answer_tcp() {
    lan "$SIPKIT" answer --register --user "sip:bob@$DOMAIN" --password bob-secret \
        --proxy "$SERVER_IP:$PORT" --transport tcp --local "$LAN_UA_IP:0" --ring 0 \
        --timeout "$1" >"$TMP/bob-tcp.out" 2>&1 &
    BG_PID=$!
    BG="$BG $BG_PID"
    for _ in $(seq 1 300); do
        grep -q '^registered sip:bob@' "$TMP/bob-tcp.out" && return 0
        sleep 0.1
    done
    return 1
}

# alice_call_tcp_scenario: proxy_uac_call.xml for alice on the WAN
# calling a callee on TCP (Contact any length, our address in Record-Route),
# written to $TMP/uac_call.xml.
alice_call_tcp_scenario() {
    sed -e 's/{32}&gt;/{32}/' -e 's/127\\\.0\\\.0\\\.1/198\\.51\\.100\\.1/' \
        "$(dirname "$0")/scenarios/proxy_uac_call.xml" >"$TMP/uac_call.xml"
}
