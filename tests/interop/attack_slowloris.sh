#!/bin/sh
# Slowloris against `sipkit serve`: 100 connections from 127.0.0.2 each
# dribble a REGISTER header one byte every 0.5 s. Bytes of an unfinished
# message do not restart the idle timer, so every connection is closed
# tcp.message_timeout (here 4 s) after its first byte; only
# tcp.max_per_address (64) are accepted at all. Meanwhile a legitimate
# client on 127.0.0.1 keeps sending OPTIONS over UDP and TCP, registering,
# and sending a TCP message in two writes a second apart, and is served
# throughout (docs/security.md).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
ATTACK="python3 $(dirname "$0")/lib/attack.py"

printf 'secret\n' | "$SIPKIT" users add alice --password-stdin --data-dir "$TMP/data" \
    --domain example.test >/dev/null
start_server --auth-algorithms MD5 --tcp-message-timeout 4

$ATTACK legit "$PORT" 12 udp,tcp,register,slow >"$TMP/legit" 2>"$TMP/legit.err" &
LEGIT=$!
r=$(timeout 40 $ATTACK slowloris "$PORT" 127.0.0.2 100 12 0.5)
echo "slowloris: $r"
check_match "64 of 100 slow connections accepted (per-address cap)" "$r" '^accepted=64 '
check_match "every slow connection closed" "$r" ' closed=64 '
first=$(printf '%s' "$r" | sed -n 's/.*first_close=\([0-9]*\).*/\1/p')
last=$(printf '%s' "$r" | sed -n 's/.*last_close=\([0-9]*\).*/\1/p')
[ -n "$first" ] && [ "$first" -ge 3 ] && [ -n "$last" ] && [ "$last" -le 8 ]
check "closed 4 s after the first byte, not later (first ${first}s, last ${last}s)" "$?" 0
check_match "slow message logged" "$(cat "$LOG")" \
    'event=tcp_slow_message peer=127\.0\.0\.2:[0-9]+ conn=[0-9]+ pending_bytes=[0-9]+'
wait "$LEGIT"
r=$(cat "$TMP/legit"); echo "legit: $r"; cat "$TMP/legit.err"
check_match "legit UDP OPTIONS answered throughout" "$r" 'udp_ok=[1-9][0-9]* udp_fail=0'
check_match "legit TCP OPTIONS answered throughout" "$r" 'tcp_ok=[1-9][0-9]* tcp_fail=0'
check_match "legit REGISTER accepted throughout" "$r" 'register_ok=[1-9][0-9]* register_fail=0'
check_match "legit message in two writes a second apart served" "$r" 'slow_ok=[1-9][0-9]* slow_fail=0'

# An idle connection between messages is not a slow message: it lives on.
export VIA_TRANSPORT=TCP
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
sleep 6
sip_request OPTIONS "sip:example.test" idle1 >&5
r=$(timeout 3 dd bs=65536 count=1 <&5 2>/dev/null | tr -d '\r' | status_line)
check "a connection idle longer than message_timeout still served" "$r" "SIP/2.0 200 OK"
exec 5>&-
stop_server
finish
