#!/bin/sh
# Request sanity checks of `sipkit serve` in RFC 3261 order, each answered
# over UDP from a raw sender (bash /dev/udp): 400 naming the defect, 505,
# 483, 482, 420 with Unsupported (Require and Proxy-Require), 416, 513,
# 405 with Allow, 501; ACK gets nothing; OPTIONS to the server is answered
# statelessly (a retransmission gets the same bytes); other requests are
# absorbed by their server transaction (the stored response resent); merged
# requests get 482; a CANCEL with no INVITE gets 481.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"

start_server --max-message-size 1024

r=$(sip_request OPTIONS "sip:example.test" b1 | sed 's/^Max-Forwards: 70/Max-Forwards: lots/' | udp_exchange | status_line)
check_match "malformed Max-Forwards -> 400 with the cause" "$r" '^SIP/2\.0 400 .*Max-Forwards'
r=$(printf 'OPTIONS sip:example.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKb2\r\nFrom: <sip:a@example.test>;tag=1\r\nTo: <sip:example.test>\r\nCall-ID: b2\r\nCSeq: 1 OPTIONS\r\nContact: <sip:a@[::1\r\nContent-Length: 0\r\n\r\n' | udp_exchange | status_line)
check_match "malformed Contact -> 400 naming it" "$r" '^SIP/2\.0 400 .*Contact'
r=$(sip_request OPTIONS "sip:example.test" b3 | sed '1s#SIP/2.0#SIP/3.0#' | udp_exchange | status_line)
check_match "SIP/3.0 -> 505" "$r" '^SIP/2\.0 505 '
r=$(sip_request OPTIONS "sip:example.test" b4 | sed 's/^Max-Forwards: 70/Max-Forwards: 0/' | udp_exchange | status_line)
check "Max-Forwards 0 -> 483" "$r" "SIP/2.0 483 Too Many Hops"
r=$(sip_request OPTIONS "sip:example.test" b5 "Via: SIP/2.0/UDP 127.0.0.1:$PORT;branch=z9hG4bKloop\r\n" | udp_exchange | status_line)
check "our own address in a Via -> 482" "$r" "SIP/2.0 482 Loop Detected"
full=$(sip_request OPTIONS "sip:example.test" b6 'Require: 100rel, foo\r\n' | udp_exchange)
check "unsupported Require -> 420" "$(printf '%s\n' "$full" | status_line)" "SIP/2.0 420 Bad Extension"
check_match "420 lists them in Unsupported" "$full" '^Unsupported: 100rel, foo$'
full=$(sip_request OPTIONS "sip:example.test" b26 'Proxy-Require: sec-agree\r\nProxy-Require: x-bar\r\n' | udp_exchange)
check "unsupported Proxy-Require -> 420 (RFC 3261 16.3 step 5)" "$(printf '%s\n' "$full" | status_line)" "SIP/2.0 420 Bad Extension"
check_match "420 lists the Proxy-Require tags in Unsupported" "$full" '^Unsupported: sec-agree, x-bar$'
r=$(sip_request CANCEL "sip:example.test" b27 'Proxy-Require: foo\r\n' | udp_exchange | status_line)
check "CANCEL is not checked for Proxy-Require (RFC 3261 9.1)" "$r" "SIP/2.0 481 Call/Transaction Does Not Exist"
r=$(sip_request OPTIONS "tel:+15551234" b7 | udp_exchange | status_line)
check "tel: Request-URI -> 416" "$r" "SIP/2.0 416 Unsupported URI Scheme"
r=$(sip_request OPTIONS "http://example.test/" b8 | udp_exchange | status_line)
check "http: Request-URI -> 416" "$r" "SIP/2.0 416 Unsupported URI Scheme"
r=$(sip_request OPTIONS "sip:example.test" b9 "X-Filler: $(printf '%01200d' 0)\r\n" | udp_exchange | status_line)
check_match "request over max_message_size -> 513" "$r" '^SIP/2\.0 513 '
full=$(sip_request INFO "sip:example.test" b10 | udp_exchange)
check "INFO (not handled) -> 405" "$(printf '%s\n' "$full" | status_line)" "SIP/2.0 405 Method Not Allowed"
check_match "405 carries Allow" "$full" '^Allow: .*OPTIONS'
r=$(sip_request FROBNICATE "sip:example.test" b11 | udp_exchange | status_line)
check "unknown method -> 501" "$r" "SIP/2.0 501 Not Implemented"
r=$(sip_request ACK "sip:example.test" b12 | udp_exchange | status_line)
check "ACK gets no response" "$r" ""
r=$(sip_request OPTIONS "sip:example.test" b13 | udp_exchange | status_line)
check "OPTIONS -> 200" "$r" "SIP/2.0 200 OK"
r=$(printf 'garbage\r\n\r\n' | udp_exchange | status_line)
check "garbage with nothing to answer is dropped" "$r" ""
r=$(sip_request OPTIONS "sip:example.test" b15 'CSeq: 2 OPTIONS\r\n' | udp_exchange | status_line)
check "two CSeq: answered from the first values" "$r" "SIP/2.0 400 Duplicate CSeq"
full=$(sip_request OPTIONS "sip:example.test" b19 | sed 's/^CSeq: 1 OPTIONS/CSeq: 1x OPTIONS/' | udp_exchange)
check "malformed CSeq -> 400 naming it (not dropped)" "$(printf '%s\n' "$full" | status_line)" \
    "SIP/2.0 400 Malformed CSeq"
check_match "... echoing the CSeq as received" "$full" '^CSeq: 1x OPTIONS$'
# §7: the empty line ends the header section; a datagram without it is
# answered 400 rather than taken as complete.
r=$(sip_request OPTIONS "sip:example.test" b20 | head -c -2 | udp_exchange | status_line)
check "datagram without the empty line -> 400" "$r" "SIP/2.0 400 Missing Empty Line After Headers"

# OPTIONS to the server is answered statelessly (§8.2.7): a retransmission
# gets the same bytes again, computed afresh.
sip_request OPTIONS "sip:example.test" b14 >"$TMP/retx"
exec 3<>"/dev/udp/127.0.0.1/$PORT"
cat "$TMP/retx" >&3
a=$(timeout 3 dd bs=65536 count=1 <&3 2>/dev/null | tr -d '\r')
cat "$TMP/retx" >&3
b=$(timeout 3 dd bs=65536 count=1 <&3 2>/dev/null | tr -d '\r')
exec 3>&-
check "retransmitted OPTIONS gets the identical 200 again" "$a" "$b"
check_match "... which is a 200" "$a" '^SIP/2\.0 200 OK'

# A challenge costs no transaction (§8.2.7, DESIGN), yet a retransmitted
# REGISTER without credentials gets the same 401 again, nonce included: a
# bounded table remembers the nonces of recent challenges.
sip_request REGISTER "sip:example.test" b18 >"$TMP/retx"
exec 3<>"/dev/udp/127.0.0.1/$PORT"
cat "$TMP/retx" >&3
a=$(timeout 3 dd bs=65536 count=1 <&3 2>/dev/null | tr -d '\r')
cat "$TMP/retx" >&3
b=$(timeout 3 dd bs=65536 count=1 <&3 2>/dev/null | tr -d '\r')
exec 3>&-
check_match "a REGISTER without credentials gets a 401" "$a" '^SIP/2\.0 401 Unauthorized'
check "... and its retransmission the same 401 again" "$b" "$a"

# Other requests are absorbed by their server transaction (RFC 3261
# §17.2.2): the stored response (here a 403 for a foreign domain) resent
# byte for byte, and the handler ran once.
sip_request REGISTER "sip:other.test" b19 >"$TMP/retx"
exec 3<>"/dev/udp/127.0.0.1/$PORT"
cat "$TMP/retx" >&3
a=$(timeout 3 dd bs=65536 count=1 <&3 2>/dev/null | tr -d '\r')
cat "$TMP/retx" >&3
b=$(timeout 3 dd bs=65536 count=1 <&3 2>/dev/null | tr -d '\r')
exec 3>&-
check "retransmitted REGISTER gets the stored 403 again" "$a" "$b"
check_match "... which is a 403" "$a" '^SIP/2\.0 403 Not Our Domain'
# A retransmission from another port matches the same transaction
# (branch and sent-by): the stored answer goes where the first one went.
c=$(sip_request REGISTER "sip:other.test" b19 | udp_exchange | status_line)
check "retransmission from another socket is absorbed" "$c" ""

# §8.2.2.2: the same From tag, Call-ID and CSeq on another branch (a
# request merged by forking upstream) gets 482.
m=$(sip_request REGISTER "sip:example.test" b16 | udp_exchange | status_line)
check "first copy -> 401" "$m" "SIP/2.0 401 Unauthorized"
m=$(sip_request REGISTER "sip:example.test" b16 | sed 's/branch=z9hG4bKb16/branch=z9hG4bKb16other/' | udp_exchange | status_line)
check "merged copy on another branch -> 482" "$m" "SIP/2.0 482 Loop Detected (Merged Request)"

# CANCEL that matches no INVITE -> 481 (§9.2).
r=$(sip_request CANCEL "sip:bob@example.test" b17 | udp_exchange | status_line)
check "CANCEL without its INVITE -> 481" "$r" "SIP/2.0 481 Call/Transaction Does Not Exist"

check_match "rejections are logged with status and reason" "$(cat "$LOG")" \
    'event=rejected status=483 reason="Too Many Hops" method=OPTIONS transport=udp peer=127\.0\.0\.1:'

stop_server
finish
