#!/bin/sh
# Callees registered over TCP whose connection has closed since, against
# SIPp. A UA that connects from an ephemeral port and listens on another
# (twinkle, linphone) is reached by a new connection to its Contact; one
# whose Contact names another host (behind a NAT) cannot be reached and
# the caller gets 480 at once, not 408 when Timer B fires 32 s later. The
# caller's INVITE comes over UDP without Content-Length and must leave over
# TCP with one (RFC 3261 §18.3). --trace shows the real local address of
# the connection the proxy opened.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
need ss
. "$(dirname "$0")/lib/proxy_peers.sh"

add_user alice alice-secret
add_user tina tina-secret
add_user nat nat-secret
start_server --trace

base=$(peer_port)
A=$base; T=$((base + 1)); TL=$((base + 2)); N=$((base + 3))

# register_contact NAME PORT USER PASSWORD HOST PORT: over TCP, Contact given.
register_contact() {
    sipp_run "$1" "$2" "$SCEN/proxy_register_contact.xml" -t t1 -s "$3" -au "$3" -ap "$4" \
        -auth_uri "$DOMAIN" -set chost "$5" -set cport "$6"
    check "$3 registers over TCP from port $2 with Contact $5:$6" "$?" 0
}

# The registration's connection is closed when SIPp exits; wait (bounded)
# until the server has seen it go.
tcp_gone() {
    for _ in $(seq 1 100); do
        ss -Htn state established "( sport = :$PORT )" | grep -q . || return 0
        sleep 0.1
    done
    return 1
}

# -- tina listens on another port than she connected from -----------------
register_contact reg-tina "$T" tina tina-secret 127.0.0.1 "$TL"
tcp_gone
check "tina's registration connection closed" "$?" 0
uas_start tina-answer "$TL" "$SCEN/proxy_uas_answer.xml" -t t1 -s tina
sed '/Content-Length: \[len\]/d' "$SCEN/proxy_uac_call.xml" >"$TMP/uac_nocl.xml"
sipp_run call-tina "$A" "$TMP/uac_nocl.xml" -s tina -au alice -ap alice-secret \
    -auth_uri tina@"$DOMAIN"
check "alice (UDP, no Content-Length) calls tina over a new connection to her Contact" "$?" 0
uas_wait tina-answer "$UAS_PID"
check_match "tina got the INVITE over TCP with Content-Length of its body" \
    "$(cat "$TMP/tina-answer.log" 2>/dev/null)" 'via=SIP/2.0/TCP .* cl=Content-Length: *[1-9]'

out=$(grep -E "^>>> tcp [^ ]+ -> 127\.0\.0\.1:$TL " "$TRACE" | head -n 1)
check_match "--trace names the connection's own address" "$out" \
    "^>>> tcp 127\.0\.0\.1:[1-9][0-9]* -> 127\.0\.0\.1:$TL "
lport=$(printf '%s' "$out" | sed -n 's/^>>> tcp 127\.0\.0\.1:\([0-9]*\) .*/\1/p')
check "... which is not the peer's nor our listener's" \
    "$([ -n "$lport" ] && [ "$lport" != "$TL" ] && [ "$lport" != "$PORT" ] && echo yes)" yes
check_match "... and answers on it are traced to the same address" "$(cat "$TRACE")" \
    "<<< tcp 127\.0\.0\.1:$TL -> 127\.0\.0\.1:$lport "

# -- nat's Contact is on a host we cannot reach: 480 at once ------------------
register_contact reg-nat "$N" nat nat-secret 192.0.2.55 5060
tcp_gone
check "nat's registration connection closed" "$?" 0
from_template "$SCEN/proxy_uac_fail.xml" "$TMP/uac480.xml" 480
t0=$(date +%s)
sipp_run call-nat "$A" "$TMP/uac480.xml" -s nat -au alice -ap alice-secret -auth_uri nat@"$DOMAIN"
check "a binding whose connection is gone and whose Contact is out of reach: 480" "$?" 0
check "... at once, not after Timer B" "$(( $(date +%s) - t0 < 10 ))" 1
# The closed connection was the binding's only way in: it was removed
# when the connection closed (RFC 5626 §5.5, nat.c), so the call finds none.
check_match "the server says why" "$(cat "$LOG")" \
    'event=flow_closed aor="nat@example.test" contact="sip:nat@192\.0\.2\.55:5060;transport=(tcp|TCP)".* removed=true'

stop_server
finish
