#!/bin/sh
# TCP robustness of `sipkit serve`: responses on the request's connection,
# a peer that sends garbage is answered 400 when a response can be built
# and disconnected while another connection keeps working, oversized
# frames get 513, idle connections time out, and the connection cap holds.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
export VIA_TRANSPORT=TCP

start_server --max-message-size 2048

# Connection B stays open through the garbage on other connections.
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
sip_request OPTIONS "sip:example.test" c1 >"$TMP/m1"
cat "$TMP/m1" >&5
r=$(timeout 3 dd bs=65536 count=1 <&5 2>/dev/null | tr -d '\r' | status_line)
check "OPTIONS over a kept TCP connection -> 200" "$r" "SIP/2.0 200 OK"

start=$(date +%s)
r=$(printf 'HELLO WORLD\r\n\r\n' | tcp_exchange)
check "pure garbage: no response" "$r" ""
check_match "pure garbage: connection dropped" "$(cat "$LOG")" 'event=tcp_drop peer=127\.0\.0\.1:[0-9]+ conn=[0-9]+ reason="bad message"'

r=$(sip_request OPTIONS "sip:example.test" c2 | sed 's/^Max-Forwards: 70/Max-Forwards: lots/' | tcp_exchange)
check_match "malformed but answerable -> 400 naming the defect" "$(printf '%s\n' "$r" | status_line)" \
    '^SIP/2\.0 400 .*Max-Forwards'
r=$(printf 'OPTIONS sip:example.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKc3\r\nFrom: <sip:a@example.test>;tag=1\r\nTo: <sip:example.test>\r\nCall-ID: c3\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n' | tcp_exchange | status_line)
check_match "no Content-Length on a stream -> 400" "$r" '^SIP/2\.0 400 '
r=$(sip_request OPTIONS "sip:example.test" c4 "X-Filler: $(printf '%03000d' 0)\r\n" | tcp_exchange | status_line)
check_match "frame over max_message_size -> 513" "$r" '^SIP/2\.0 513 '
end=$(date +%s)
[ $((end - start)) -le 6 ]
check "the server closed each bad connection (no 2 s read timeouts)" "$?" 0

sip_request OPTIONS "sip:example.test" c5 >"$TMP/m5"
cat "$TMP/m5" >&5
r=$(timeout 3 dd bs=65536 count=1 <&5 2>/dev/null | tr -d '\r' | status_line)
check "connection B still answered after the garbage" "$r" "SIP/2.0 200 OK"
exec 5>&-

# Two requests in one segment, and one split over two writes.
sip_request OPTIONS "sip:example.test" c6 >"$TMP/two"
sip_request OPTIONS "sip:example.test" c7 >>"$TMP/two"
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
cat "$TMP/two" >&6
head -c 100 "$TMP/m1" >&6; sleep 0.3; tail -c +101 "$TMP/m1" >&6
n=$(timeout 2 cat <&6 | tr -d '\r' | grep -c '^SIP/2.0 200 OK')
check "pipelined and split requests all answered" "$n" 3
exec 6>&-
stop_server

# Idle timeout and connection cap.
start_server --tcp-idle-timeout 1 --tcp-max-connections 2
exec 7<>"/dev/tcp/127.0.0.1/$PORT"
exec 8<>"/dev/tcp/127.0.0.1/$PORT"
sleep 0.3
exec 9<>"/dev/tcp/127.0.0.1/$PORT"
timeout 2 cat <&9 >/dev/null
check "third connection over the cap is closed at once" "$?" 0
check_match "refusal is logged" "$(cat "$LOG")" 'event=tcp_refused peer=127\.0\.0\.1:[0-9]+ reason="connection limit"'
timeout 4 cat <&7 >/dev/null
check "idle connection closed by the server within its timeout" "$?" 0
exec 7>&- 8>&- 9>&-
stop_server
finish
