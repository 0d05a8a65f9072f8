# Calls between real phones through `sipkit serve` (default options) over
# one transport, $TRANSPORT (udp or tcp); sourced by clients_call_udp.sh
# and clients_call_tcp.sh, not a test itself. alice is baresip, bob is
# linphonec, carol is twinkle-console, all registered over $TRANSPORT:
#   1. alice calls bob, bob answers, alice hangs up;
#   2. bob calls alice, alice answers, bob hangs up;
#   3. alice calls carol, carol answers, carol hangs up;
#   4. carol calls bob, bob answers, bob hangs up.
# Each step checks what the phones print: the callee's incoming call, both
# sides established, both sides ended. A step that fails tells which side
# missed what; the server's trace is kept in $TMP/trace.out (KEEP=1).
[ -n "${TRANSPORT:-}" ] || { echo "FAIL: TRANSPORT not set"; exit 1; }
phones_up "$TRANSPORT"

mark_all() { ua_mark alice; ua_mark bob; ua_mark carol; }

# 1. baresip -> linphonec, the caller hangs up.
mark_all
ua_send alice "/dial sip:bob@$DOMAIN"
ua_check bob "1. bob is rung by alice" 'Receiving new incoming call from sip:alice@'
ua_send bob answer
ua_check bob "1. bob (callee) connected" 'Call [0-9]+ with sip:alice@[^ ]* connected'
ua_check alice "1. alice (caller) established" "Call established: sip:bob@"
ua_send alice /hangup
ua_check alice "1. alice hung up" "terminate call .* with sip:bob@|Call with sip:bob@[^ ]* terminated"
ua_check bob "1. bob saw the call end" 'Call [0-9]+ with sip:alice@[^ ]* ended'

# 2. linphonec -> baresip, the caller hangs up.
mark_all
ua_send bob "call sip:alice@$DOMAIN"
ua_check alice "2. alice is rung by bob" 'Incoming call from: .*sip:bob@'
ua_send alice /accept
ua_check alice "2. alice (callee) established" "Call established: sip:bob@"
ua_check bob "2. bob (caller) connected" 'Call [0-9]+ with sip:alice@[^ ]* connected'
ua_send bob terminate
ua_check bob "2. bob hung up" 'Call [0-9]+ with sip:alice@[^ ]* ended'
ua_check alice "2. alice saw the call end" "sip:bob@[^ ]*: session closed|Call with sip:bob@[^ ]* terminated"

# 3. baresip -> twinkle, the callee hangs up.
mark_all
ua_send alice "/dial sip:carol@$DOMAIN"
ua_check carol "3. carol is rung by alice" 'Line 1: incoming call'
ua_send carol answer
ua_check carol "3. carol (callee) established" 'Line 1: call established'
ua_check alice "3. alice (caller) established" "Call established: sip:carol@"
ua_send carol bye
ua_check carol "3. carol hung up" 'Line 1: call ended'
ua_check alice "3. alice saw the call end" "sip:carol@[^ ]*: session closed|Call with sip:carol@[^ ]* terminated"

# 4. twinkle -> linphonec, the callee hangs up.
mark_all
ua_send carol "call sip:bob@$DOMAIN"
ua_check bob "4. bob is rung by carol" 'Receiving new incoming call from sip:carol@'
ua_send bob answer
ua_check bob "4. bob (callee) connected" 'Call [0-9]+ with sip:carol@[^ ]* connected'
ua_check carol "4. carol (caller) established" 'Line 1: far end answered call'
ua_send bob terminate
ua_check bob "4. bob hung up" 'Call [0-9]+ with sip:carol@[^ ]* ended'
ua_check carol "4. carol saw the call end" 'Line 1: far end ended call'

finish
