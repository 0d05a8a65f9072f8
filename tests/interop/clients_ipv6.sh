#!/bin/sh
# An IPv6 phone calling IPv4 ones through `sipkit serve` (default options)
# listening on 127.0.0.1 and [::1]: alice is baresip on [::1], registered
# over IPv6; bob is linphonec on 127.0.0.1, registered over IPv4; both
# over UDP. The proxy sits between the two families, so every request of
# the dialog must cross it: it must record-route on both sides (RFC 5658).
# alice calls bob, bob answers, alice hangs up. baresip bound to ::1 cannot
# use linphonec's IPv4 media (there is no media relay), so it may end the
# call itself ("Protocol not supported"): the checks are on the signalling,
# both sides see the call set up and ended, bob with no error (he got the
# ACK and the BYE). SIPp's built-in UAS cannot stand in for bob here: it
# does not copy Record-Route into its 200, so alice's ACK skips the proxy.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/ua.sh"
need baresip
need linphonec

if [ "$(cat /proc/sys/net/ipv6/conf/lo/disable_ipv6 2>/dev/null)" = 1 ]; then
    echo "FAIL: IPv6 is disabled on loopback"; exit 1
fi

users_add alice bob
users_md5 alice
start_server --listen '[::1]:0' --trace
for _ in $(seq 1 50); do
    P6=$(sed -n 's/.*event=listening transport=udp addr=\[::1\]:\([0-9]*\)$/\1/p' "$LOG" | head -n 1)
    [ -n "$P6" ] && break
    sleep 0.1
done
[ -n "$P6" ] || { echo "FAIL: no [::1] listener"; cat "$LOG"; exit 1; }

bs_start alice alice "$(ua_port)" udp ::1 ::1 "$P6"
lp_start bob bob "$(peer_port)" udp
ua_check alice "alice (baresip) registered over IPv6" 'registered successfully'
lp_registered bob && echo "ok: bob (linphonec) registered over IPv4" ||
    { echo "FAIL: bob (linphonec) not registered"; FAILS=$((FAILS + 1)); }
check_match "alice's binding is an IPv6 address" \
    "$("$SIPKIT" location list "alice@$DOMAIN" --data-dir "$TMP/data")" '<sip:alice[^>]*@\[::1\]:'
[ "$FAILS" -eq 0 ] || finish

# IPv6 baresip -> IPv4 linphonec.
ua_mark alice; ua_mark bob
ua_send alice "/dial sip:bob@$DOMAIN"
ua_check bob "bob is rung by alice" 'Receiving new incoming call from sip:alice@'
ua_send bob answer
ua_check bob "bob (callee, IPv4) connected" 'Call [0-9]+ with sip:alice@[^ ]* connected'
ua_check alice "alice (caller, IPv6) got the answer" "Call established: sip:bob@|sip:bob@[^ ]*: session closed: Protocol not supported"
ua_send alice /hangup
ua_check alice "alice hung up" "terminate call .* with sip:bob@|Call with sip:bob@[^ ]* terminated|sip:bob@[^ ]*: session closed"
ua_check bob "bob saw the call end normally" 'Call [0-9]+ with sip:alice@[^ ]* ended \(No error\)'
finish
