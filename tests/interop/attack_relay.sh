#!/bin/sh
# The proxy is no open relay (docs/security.md, "Relay refusal"): in-dialog
# requests whose route set we did not mint, ACKs, stray responses and a
# Via maddr try to make the server send to a UDP and a TCP sink that this
# test opens on 127.0.0.1; the sinks must receive nothing. Forged Route
# values get 403 naming the defect, a token taken from a real call does
# not carry another destination (but is honoured through a strict
# router), 15 Route values naming us cost one
# answer, [proxy] max_branches bounds a fork; and meanwhile a real call
# through the proxy (SIPp at both ends) keeps working.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
need python3
SCEN=$(dirname "$0")/scenarios
DOMAIN=example.test
BG=""

attack_cleanup() {
    for p in $BG; do
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    cleanup
}
trap attack_cleanup EXIT

# -- the sinks ------------------------------------------------------------------
python3 "$(dirname "$0")/lib/sink.py" "$TMP/sink" 240 &
BG="$BG $!"
for _ in $(seq 1 100); do
    [ -s "$TMP/sink.ports" ] && break
    sleep 0.1
done
read -r SU ST <"$TMP/sink.ports" || { echo "FAIL: the sink did not start"; exit 1; }
echo "sinks: udp 127.0.0.1:$SU tcp 127.0.0.1:$ST"

add_user alice alice-secret
add_user bob bob-secret
add_user carol carol-secret
start_server --auth-algorithms MD5 --listen '[::1]:0' --max-branches 2 --trace
P6=$(sed -n 's/.*event=listening transport=udp addr=\[::1\]:\([0-9]*\).*/\1/p' "$LOG" | head -n 1)

sipp_run() { # name port scenario [args]
    local name=$1 port=$2 scen=$3
    shift 3
    timeout 25 sipp 127.0.0.1:"$PORT" -sf "$scen" -t u1 -i 127.0.0.1 -p "$port" -m 1 \
        -set domain "$DOMAIN" -timeout 20s -recv_timeout 8000 -nostdin -trace_logs -trace_err \
        -log_file "$TMP/$name.log" -error_file "$TMP/$name.err" "$@" >"$TMP/$name.out" 2>&1
}

call() { # name: alice calls bob, who answers; alice hangs up
    timeout 25 sipp -sf "$SCEN/proxy_uas_answer.xml" -t u1 -i 127.0.0.1 -p "$B" -m 1 \
        -timeout 20s -nostdin -trace_err -error_file "$TMP/$1-bob.err" -s bob \
        >"$TMP/$1-bob.out" 2>&1 &
    local uas=$!
    BG="$BG $uas"
    sleep 0.5
    sipp_run "$1" "$A" "$SCEN/proxy_uac_legs.xml" -s bob -au alice -ap alice-secret \
        -auth_uri bob@"$DOMAIN"
    check "a real call through the proxy works ($1)" "$?" 0
    wait "$uas"
    check "bob took the call, its ACK and its BYE ($1)" "$?" 0
}

# in_dialog METHOD RURI BRANCH ROUTE: a request within a dialog (To tag),
# the answer comes back to our socket (rport). FROM_HDR, TO_HDR, CALL_ID
# override the dialog.
in_dialog() {
    printf '%s %s SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:9;rport;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\nRoute: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 2 %s\r\nContent-Length: 0\r\n\r\n' \
        "$1" "$2" "${VIA_TRANSPORT:-UDP}" "$3" "$4" \
        "${FROM_HDR:-<sip:mallory@other.test>;tag=m1}" "${TO_HDR:-<sip:bob@example.test>;tag=b1}" \
        "${CALL_ID:-attack-$3@interop}" "$1"
}

udp_send() { # stdin as one datagram, no answer awaited
    cat >"$TMP/dgram"
    exec 3<>"/dev/udp/127.0.0.1/$PORT"
    cat "$TMP/dgram" >&3
    exec 3>&-
}

# Messages the server sent, but for bob's port (where a BYE below is
# retransmitted for a while).
sent_count() { grep '^>>> ' "$TRACE" 2>/dev/null | grep -vc -- "-> 127\.0\.0\.1:$B "; }

base=$(peer_port)
A=$base; B=$((base + 1)); C1=$((base + 2)); C2=$((base + 3)); C3=$((base + 4))
US="127.0.0.1:$PORT"

sipp_run reg-bob "$B" "$SCEN/proxy_register.xml" -s bob -au bob -ap bob-secret -auth_uri "$DOMAIN"
check "bob registers" "$?" 0
call before

# -- forged route sets: 403 naming the defect, nothing sent on -----------------
out=$(in_dialog BYE "sip:x@127.0.0.1:$SU" a1 "<sip:$US;lr>" | udp_exchange | status_line)
check "BYE with Route: <us;lr> to the UDP sink: 403" "$out" "SIP/2.0 403 Route Token Missing"
out=$(in_dialog BYE "sip:x@127.0.0.1:$ST;transport=tcp" a2 "<sip:$US;lr>" | udp_exchange |
    status_line)
check "BYE with Route: <us;lr> to the TCP sink: 403" "$out" "SIP/2.0 403 Route Token Missing"
out=$(in_dialog INFO "sip:x@example.test" a3 \
    "<sip:$US;lr>, <sip:127.0.0.1:$ST;transport=tcp;lr>" | udp_exchange | status_line)
check "INFO routed through us to the TCP sink: 403" "$out" "SIP/2.0 403 Route Token Missing"
out=$(in_dialog BYE "sip:x@127.0.0.1:$ST;transport=tcp" a4 \
    "<sip:$US;lr;sk=0123456789abcdef0123456789abcdef>" | udp_exchange | status_line)
check "a made-up token: 403" "$out" "SIP/2.0 403 Route Token Invalid"
out=$(in_dialog BYE "sip:x@127.0.0.1:$ST;transport=tcp" a5 "<sip:$US;lr>" | tcp_exchange |
    status_line)
check "the same over TCP: 403" "$out" "SIP/2.0 403 Route Token Missing"

# -- a real token, another destination: refused -------------------------------
rr=$(sed -n 's/^caller-rr= *//p' "$TMP/before.log" | head -n 1)
cid=$(sed -n 's/^caller-dialog call-id=//p' "$TMP/before.log" | head -n 1)
from=$(sed -n 's/^caller-from= *//p' "$TMP/before.log" | head -n 1)
to=$(sed -n 's/^caller-to= *//p' "$TMP/before.log" | head -n 1)
check_match "the real call's route token was logged" "$rr" "sk=[0-9a-f]{32}"
out=$(FROM_HDR=$from TO_HDR=$to CALL_ID=$cid in_dialog BYE "sip:x@127.0.0.1:$ST;transport=tcp" \
    a6 "$rr" | udp_exchange | status_line)
check "the real dialog's token towards the TCP sink: 403" "$out" "SIP/2.0 403 Route Token Invalid"
out=$(FROM_HDR=$to TO_HDR=$from CALL_ID=$cid in_dialog BYE "sip:x@127.0.0.1:$SU" a7 "$rr" |
    udp_exchange | status_line)
check "... and as the callee towards the UDP sink: 403" "$out" "SIP/2.0 403 Route Token Invalid"

# -- the real token used right, through a strict router (RFC 3261 §16.4): our
# value as Request-URI, bob's Contact last in Route; the BYE reaches bob's
# port, where a listener answers it (so no retransmission disturbs bob later)
timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
s.settimeout(15)
try:
    d, a = s.recvfrom(65535)
except socket.timeout:
    print("nothing")
    sys.exit(0)
lines = d.decode().split("\r\n")
print(lines[0])
keep = [l for l in lines if l.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
s.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(), a)
' "$B" "$TMP/strict.ready" >"$TMP/strict.out" 2>&1 &
strict_pid=$!
BG="$BG $strict_pid"
for _ in $(seq 1 100); do
    [ -e "$TMP/strict.ready" ] && break
    sleep 0.1
done
ruri=$(printf '%s' "$rr" | sed 's/^<//; s/>$//')
out=$(FROM_HDR=$from TO_HDR=$to CALL_ID=$cid in_dialog BYE "$ruri" s1 \
    "<sip:bob@127.0.0.1:$B;transport=UDP>" | udp_exchange | status_line)
wait "$strict_pid"
check "a strict-routed BYE with the real token reaches bob" "$(cat "$TMP/strict.out")" \
    "BYE sip:bob@127.0.0.1:$B;transport=UDP SIP/2.0"
# (bob's 200 normally comes back within udp_exchange's 3 s; under load it
# may not, but a refusal from the server itself would.)
check_match "... and is not refused by the server" "$out" '^(SIP/2.0 200 OK)?$'

# -- 15 Route values naming us: one answer, no round trips through ourselves ---
routes="<sip:$US;lr>"
for _ in $(seq 2 15); do routes="$routes, <sip:$US;lr>"; done
before=$(sent_count)
out=$(in_dialog BYE "sip:x@127.0.0.1:$SU" a8 "$routes" | udp_exchange | status_line)
check "15 Route values naming us: 403" "$out" "SIP/2.0 403 Route Token Missing"
sleep 0.5
check "... and the server sent that one answer only" "$(($(sent_count) - before))" 1

# -- ACKs and responses are not relayed either ---------------------------------
in_dialog ACK "sip:x@127.0.0.1:$SU" a9 "<sip:$US;lr>" | udp_send
in_dialog ACK "sip:x@127.0.0.1:$ST;transport=tcp" a10 \
    "<sip:$US;lr;sk=0123456789abcdef0123456789abcdef>" | udp_send
FROM_HDR=$from TO_HDR=$to CALL_ID=$cid in_dialog ACK "sip:x@127.0.0.1:$SU" a11 "$rr" | udp_send
printf 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKforged1\r\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKv1\r\nFrom: <sip:a@example.test>;tag=1\r\nTo: <sip:b@example.test>;tag=2\r\nCall-ID: stray1@interop\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n' \
    "$US" "$SU" | udp_send
printf 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKforged2\r\nVia: SIP/2.0/TCP 127.0.0.1:%s;branch=z9hG4bKv2\r\nFrom: <sip:a@example.test>;tag=1\r\nTo: <sip:b@example.test>;tag=2\r\nCall-ID: stray2@interop\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n' \
    "$US" "$ST" | udp_send

# -- maddr: an OPTIONS from [::1] whose Via names the UDP sink as maddr --------
# Its answer must go back to [::1] (where we wait for it), not to the sink.
out=$(timeout 10 python3 - "$P6" "$SU" <<'EOF'
import socket, sys
server, port = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::1", port))
s.settimeout(5)
msg = ("OPTIONS sip:[::1]:%d SIP/2.0\r\n"
       "Via: SIP/2.0/UDP [::1]:%d;maddr=127.0.0.1;branch=z9hG4bKmaddr1\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:t@example.test>;tag=1\r\nTo: <sip:example.test>\r\n"
       "Call-ID: maddr1@interop\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n") % (server, port)
s.sendto(msg.encode(), ("::1", server))
try:
    print(s.recv(65535).decode().split("\r\n")[0])
except socket.timeout:
    print("no answer")
EOF
)
check "an OPTIONS with a Via maddr is answered at its source" "$out" "SIP/2.0 200 OK"

# -- [proxy] max_branches: carol has three bindings, a MESSAGE reaches two -------
for p in "$C1" "$C2" "$C3"; do
    sipp_run "reg-carol-$p" "$p" "$SCEN/proxy_register.xml" -s carol -au carol -ap carol-secret \
        -auth_uri "$DOMAIN"
    check "carol registers from port $p" "$?" 0
done
printf 'MESSAGE sip:carol@%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKfork1\r\nMax-Forwards: 70\r\nFrom: <sip:x@other.test>;tag=f1\r\nTo: <sip:carol@%s>\r\nCall-ID: fork1@interop\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n' \
    "$DOMAIN" "$DOMAIN" | udp_send
# The bindings the MESSAGE was sent to (retransmissions count once).
forked() {
    awk '/^>>> / { dst = $5; next } /^MESSAGE sip:carol@/ && dst != "" { print dst } { dst = "" }' \
        "$TRACE" | sort -u | wc -l
}
for _ in $(seq 1 50); do
    [ "$(forked)" -ge 2 ] && break
    sleep 0.1
done
sleep 1
check "with max_branches 2 the MESSAGE went to two of carol's three bindings" "$(forked)" 2

# -- after all that: the sinks got nothing, a real call still works -------------
sleep 2
check "the UDP and TCP sinks received nothing" "$(cat "$TMP/sink" 2>/dev/null)" ""
call after

stop_server
finish
