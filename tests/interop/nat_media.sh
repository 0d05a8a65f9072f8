#!/bin/sh
# Media through rtpengine between two phones behind two different NATs
# (lib/nat.sh, nat_setup_lan2): alice on LAN1 behind NAT1, bob on LAN2
# behind NAT2, the server and rtpengine (user space, no kernel module) on
# the WAN side. Both register with SIPp; alice calls bob; each SIP peer
# hands the SDP it received to a media peer (lib/rtp_peer.py) that sends
# RTP from the port its own SDP announced and counts what arrives.
#   media.engage=nat: both SDPs name rtpengine, and RTP arrives at both
#     ends, from rtpengine; also with a late offer (INVITE without SDP,
#     offer in the 200, answer in the ACK).
#   media.engage=never: the SDPs name the private addresses and nothing
#     arrives (the control that the relay is what carries the media).
# Runs as root; without namespaces or rtpengine the test fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
NAT_UDP_TIMEOUT=60 # both calls within it: keep-alives are not under test here
. "$(dirname "$0")/lib/nat.sh"
need sipp
need python3
need rtpengine
SCEN=$(dirname "$0")/scenarios
RTP_PEER=$(dirname "$0")/lib/rtp_peer.py
DOMAIN=example.test
NG=127.0.0.1:2223
A=5070 # alice's SIP port on LAN1
B=5080 # bob's on LAN2
AM=40000
BM=40002 # their RTP ports
TALK_MS=4000
LINGER=2 # seconds the media peers go on sending after the call ended

sipp_in() { # NS NAME IP PORT SCENARIO [args]
    local ns=$1 name=$2 ip=$3 port=$4 scen=$5
    shift 5
    timeout 30 ip netns exec "$ns" sipp "$SERVER_IP:$PORT" -sf "$scen" -t u1 -i "$ip" -p "$port" \
        -mp 41000 -m 1 -timeout 25s -recv_timeout 10000 -nostdin -trace_err -trace_logs \
        -log_file "$TMP/$name.log" -error_file "$TMP/$name.err" "$@" >"$TMP/$name.out" 2>&1
}

show() { # NAME: the peer's logs, indented, when a check failed
    sed 's/^/    /' "$TMP/$1.err" "$TMP/$1.out" "$TMP/$1.log" 2>/dev/null | tail -n 15
}

# call LABEL [late]: bob answers, alice calls him and talks for TALK_MS
# (late: the INVITE has no SDP, the 200 offers and the ACK answers); once
# both SIPps are done the media peers send for LINGER more seconds, then
# stop; sets ALICE_RTP / BOB_RTP to their reports.
call() {
    local label=$1 kind=${2:-} ap bp uas uac_scen=media_uac_call uas_scen=media_uas_answer
    if [ "$kind" = late ]; then
        uac_scen=media_uac_late
        uas_scen=media_uas_late
    fi
    rm -f "$TMP"/alice.target* "$TMP"/bob.target* "$TMP/media.stop"
    ip netns exec "$LAN_NS" python3 "$RTP_PEER" "$LAN_UA_IP" "$AM" "$TMP/alice.target" 40 \
        "$TMP/media.stop" "$LINGER" >"$TMP/alice-rtp-$label.out" 2>&1 &
    ap=$!
    ip netns exec "$LAN2_NS" python3 "$RTP_PEER" "$LAN2_UA_IP" "$BM" "$TMP/bob.target" 40 \
        "$TMP/media.stop" "$LINGER" >"$TMP/bob-rtp-$label.out" 2>&1 &
    bp=$!
    BG="$BG $ap $bp"
    # The call starts once both media peers are bound: on a loaded runner
    # Python can take seconds to start, longer than the call itself.
    for _ in $(seq 1 300); do
        [ -e "$TMP/alice.target.bound" ] && [ -e "$TMP/bob.target.bound" ] && break
        sleep 0.1
    done
    sipp_in "$LAN2_NS" "bob-$label" "$LAN2_UA_IP" "$B" "$SCEN/$uas_scen.xml" -s bob \
        -set mport "$BM" -set tfile "$TMP/bob.target" &
    uas=$!
    BG="$BG $uas"
    sleep 0.5
    sipp_in "$LAN_NS" "alice-$label" "$LAN_UA_IP" "$A" "$SCEN/$uac_scen.xml" -s bob \
        -au alice -ap alice-secret -auth_uri "bob@$DOMAIN" -set domain "$DOMAIN" \
        -set caller alice -set mport "$AM" -set tfile "$TMP/alice.target" -d "$TALK_MS"
    local rc=$?
    check "alice's call to bob ($label) completes" "$rc" 0
    [ "$rc" = 0 ] || show "alice-$label"
    wait "$uas"
    rc=$?
    check "bob answers and gets the BYE ($label)" "$rc" 0
    [ "$rc" = 0 ] || show "bob-$label"
    : >"$TMP/media.stop" # both ends saw the BYE's 200: the peers linger, then report
    wait "$ap" "$bp"
    ALICE_RTP=$(cat "$TMP/alice-rtp-$label.out")
    BOB_RTP=$(cat "$TMP/bob-rtp-$label.out")
    echo "    alice: $ALICE_RTP"
    echo "    bob:   $BOB_RTP"
}

received() { # REPORT: its received= count
    printf '%s\n' "$1" | sed -n 's/^received=\([0-9]*\) .*/\1/p'
}
late_count() { # REPORT: its late= count (what arrived after the call ended)
    printf '%s\n' "$1" | sed -n 's/.* late=\([0-9]*\) .*/\1/p'
}

nat_setup
nat_setup_lan2
add_user alice alice-secret
add_user bob bob-secret

# rtpengine beside the server: user space only (--table=-1), RTP on the
# server's WAN address, its ng control socket on the namespace's loopback;
# a deleted call stops at once (no delete delay), so the BYE's delete shows
# in the counts: the media peers send for LINGER s after the call ended.
wan rtpengine --config-file=none --table=-1 --foreground --log-stderr --log-level=6 \
    --interface="$SERVER_IP" --listen-ng="$NG" --port-min=30000 --port-max=30199 --delete-delay=0 \
    >"$TMP/rtpengine.log" 2>&1 &
RTPE_PID=$!
BG="$BG $RTPE_PID"
for _ in $(seq 1 100); do
    grep -q 'Startup complete' "$TMP/rtpengine.log" 2>/dev/null && break
    kill -0 "$RTPE_PID" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q 'Startup complete' "$TMP/rtpengine.log"; then
    echo "FAIL: rtpengine did not start in the WAN namespace:"
    sed 's/^/    /' "$TMP/rtpengine.log" | tail -n 20
    exit 1
fi

nat_server --media-rtpengine "$NG" --media-engage nat --log-level debug
check_match "the server reached rtpengine (ng ping)" \
    "$(grep -c 'event=rtpengine engage=nat answered=1' "$LOG")" '^1$'

sipp_in "$LAN_NS" reg-alice "$LAN_UA_IP" "$A" "$SCEN/proxy_register.xml" -s alice -au alice \
    -ap alice-secret -auth_uri "$DOMAIN" -set domain "$DOMAIN"
check "alice registers from behind NAT1" "$?" 0
sipp_in "$LAN2_NS" reg-bob "$LAN2_UA_IP" "$B" "$SCEN/proxy_register.xml" -s bob -au bob \
    -ap bob-secret -auth_uri "$DOMAIN" -set domain "$DOMAIN"
check "bob registers from behind NAT2" "$?" 0

# -- relayed: RTP reaches both ends through rtpengine ----------------------
call relayed
check_match "alice's SDP answer names rtpengine" "$ALICE_RTP" "target=$SERVER_IP:3[0-9]+ "
check_match "bob's SDP offer names rtpengine" "$BOB_RTP" "target=$SERVER_IP:3[0-9]+ "
check_match "alice receives RTP (50 or more packets)" "$(received "$ALICE_RTP")" \
    '^([5-9][0-9]|[1-9][0-9][0-9]+)$'
check_match "bob receives RTP (50 or more packets)" "$(received "$BOB_RTP")" \
    '^([5-9][0-9]|[1-9][0-9][0-9]+)$'
check_match "alice's RTP comes from rtpengine" "$ALICE_RTP" "from=$SERVER_IP:3[0-9]+\$"
check_match "bob's RTP comes from rtpengine" "$BOB_RTP" "from=$SERVER_IP:3[0-9]+\$"
# LINGER s of bob's packets after the BYE would be 100: a few in flight
# (under half a second's worth) at most.
check_match "the relay stopped after the BYE (alice got under 25 packets in the $LINGER s after it)" \
    "$(late_count "$ALICE_RTP")" '^(1?[0-9]|2[0-4])$'
check_match "... nor did bob" "$(late_count "$BOB_RTP")" '^(1?[0-9]|2[0-4])$'
check_match "the call was offered, answered and deleted" \
    "$(grep -c 'event=offer \|event=answer \|event=delete ' "$LOG")" '^[3-9]$'

# -- a late offer: the 200 offers (rtpengine's), the ACK answers ------------
call late late
check_match "late offer: bob's ACK answer names rtpengine" "$BOB_RTP" "target=$SERVER_IP:3[0-9]+ "
check_match "late offer: alice's 200 offer names rtpengine" "$ALICE_RTP" \
    "target=$SERVER_IP:3[0-9]+ "
check_match "late offer: alice receives RTP (50 or more packets)" "$(received "$ALICE_RTP")" \
    '^([5-9][0-9]|[1-9][0-9][0-9]+)$'
check_match "late offer: bob receives RTP (50 or more packets)" "$(received "$BOB_RTP")" \
    '^([5-9][0-9]|[1-9][0-9][0-9]+)$'

# -- not relayed: the private addresses cannot reach each other ----------
stop_server
nat_server --media-rtpengine "$NG" --media-engage never
call direct
check_match "without relay alice's SDP names bob's private address" "$ALICE_RTP" \
    "target=$LAN2_UA_IP:$BM "
check "without relay alice receives nothing" "$(received "$ALICE_RTP")" 0
check "without relay bob receives nothing" "$(received "$BOB_RTP")" 0
stop_server
finish
