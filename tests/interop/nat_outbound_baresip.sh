#!/bin/sh
# A real Outbound client (RFC 5626) behind a real NAT (lib/nat.sh): baresip
# with sipnat=outbound registers over TCP from the LAN with +sip.instance
# and reg-id; the 200 requires outbound and gives a Flow-Timer. baresip
# then keeps its flow alive with CRLF CRLF pings (§4.4.1; libre sends the
# first after 16-18 s, whatever shorter Flow-Timer it is given), which the
# server answers with a pong: baresip would register again on a missing
# pong. A call from the WAN reaches baresip over that flow, and baresip
# answers it. Runs as root; without namespaces the test fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nat.sh"
. "$(dirname "$0")/lib/ua.sh"
trap 'ua_cleanup; nat_cleanup' EXIT
need baresip

nat_setup
add_user alice alice-secret
add_user bob bobpw
# debug: the transport logs each keep-alive ping (event=keepalive_ping).
nat_server --nat-keepalive-interval 3 --log-level debug --trace

BS=$TMP/bs
mkdir -p "$BS"
silence_wav 30 "$SILENCE"
cat >"$BS/config" <<CFG
poll_method		epoll
sip_listen		$LAN_UA_IP:$(peer_port)
sip_trans_def		tcp
net_interface		$LAN_UA_IP
module_path		/usr/lib/baresip/modules
module			stdio.so
module			g711.so
module			aufile.so
module			aubridge.so
module			uuid.so
module_app		account.so
module_app		menu.so
audio_player		aubridge,bob
audio_source		aufile,$SILENCE
audio_alert		aubridge,bob-alert
CFG
# baresip refuses Outbound without an instance UUID (no newline: it is
# copied into +sip.instance as it is).
printf '%s' "$(cat /proc/sys/kernel/random/uuid)" >"$BS/uuid"
printf '<sip:bob@%s;transport=tcp>;auth_pass=bobpw;outbound="sip:%s:%s;transport=tcp";sipnat=outbound;regint=600\n' \
    "$DOMAIN" "$SERVER_IP" "$PORT" >"$BS/accounts"
ua_start bob ip netns exec "$LAN_NS" baresip -f "$BS"

for _ in $(seq 1 100); do
    grep -q 'event=registered aor="bob@example.test"' "$LOG" && break
    sleep 0.1
done
check_match "baresip registers from behind the NAT" "$(cat "$LOG")" \
    'event=registered aor="bob@example.test" contacts=1 bindings=1'
trace=$(tr -d '\r' <"$TRACE")
check_match "its REGISTER asks for Outbound (+sip.instance, reg-id)" "$trace" \
    'Contact: <sip:bob-[^>]*;transport=tcp>;expires=600;\+sip\.instance="<urn:uuid:[0-9a-f-]*>";reg-id=1'
check_match "the 200 requires outbound" "$trace" '^Require: outbound$'
check_match "the 200 gives the Flow-Timer" "$trace" '^Flow-Timer: 3$'

ping=""
for _ in $(seq 1 300); do
    grep -q 'event=keepalive_ping' "$LOG" && { ping=yes; break; }
    sleep 0.1
done
check "baresip's CRLF keep-alive reached the server over its flow" "$ping" yes

ua_mark bob
echo alice-secret | timeout 30 ip netns exec "$WAN_NS" "$SIPKIT" call "sip:bob@$DOMAIN" \
    --user "alice@$DOMAIN" --password-stdin --proxy "$SERVER_IP:$PORT" --duration 1 \
    >"$TMP/alice.out" 2>&1 &
apid=$!
BG="$BG $apid"
ua_check bob "a call from the WAN rings baresip over its flow" 'Incoming call from: .*sip:alice@'
ua_send bob /accept
wait "$apid"
check "alice's call ends cleanly" "$?" 0
check_line "baresip answered alice's call" "$TMP/alice.out" '^answered: 200 '
ua_check bob "baresip saw the call end" 'Call [0-9]+ with sip:alice@[^ ]* ended|session closed'
check "baresip registered once: the pong kept its flow" \
    "$(grep -c 'event=registered aor="bob@example.test"' "$LOG")" 1
[ "$FAILS" -eq 0 ] || { echo "baresip printed:"; ua_out bob | sed "s/^/    /" | tail -n 30; }
stop_server
finish
