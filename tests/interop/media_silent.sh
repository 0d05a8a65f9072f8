#!/bin/sh
# A silent rtpengine holds up its own call, not the server: the server
# runs one worker, media.rtpengine names a UDP socket that reads and never
# answers (lib/sink.py), media.engage=always, media.timeout 1.5 s (the offer
# is sent twice: 3 s). While alice's INVITE waits for the offer, an
# OPTIONS to the server is answered at once on that same worker; then the
# INVITE goes on with its own SDP (the failure is logged) and bob answers.
# Loopback only.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
UAC=$(dirname "$0")/lib/digest_uac.py
BG=""
trap 'for p in $BG; do kill -KILL "$p" 2>/dev/null; done; cleanup' EXIT

python3 "$(dirname "$0")/lib/sink.py" "$TMP/ng" 60 &
BG="$BG $!"
for _ in $(seq 1 50); do
    [ -f "$TMP/ng.ports" ] && break
    sleep 0.1
done
NG_PORT=$(cut -d' ' -f1 "$TMP/ng.ports")
add_user alice alice-secret
add_user bob bob-secret
start_server --workers 1 --media-rtpengine "127.0.0.1:$NG_PORT" --media-engage always \
    --media-timeout 1500 --drain-timeout 1 --log-level debug

python3 "$UAC" --port "$PORT" --domain example.test --user bob --password bob-secret \
    --linger 20 >"$TMP/bob.out" 2>&1 &
BG="$BG $!"
for _ in $(seq 1 50); do
    grep -q '^status=' "$TMP/bob.out" && break
    sleep 0.1
done
check "bob registers" "$(grep '^status=' "$TMP/bob.out")" "status=200"

offers_before=$(grep -c "offer" "$TMP/ng" 2>/dev/null)
python3 "$UAC" --port "$PORT" --domain example.test --user alice --password alice-secret \
    --method INVITE --uri "sip:bob@example.test" --header Proxy-Authorization --sdp \
    >"$TMP/alice.out" 2>&1 &
ALICE=$!
BG="$BG $ALICE"
# The authenticated INVITE reaches the proxy, whose offer goes unanswered.
for _ in $(seq 1 30); do
    [ "$(grep -c "offer" "$TMP/ng" 2>/dev/null)" -gt "${offers_before:-0}" ] && break
    sleep 0.1
done
start=$(date +%s%N)
"$SIPKIT" options "sip:127.0.0.1:$PORT" --timeout 5 >"$TMP/options.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
waiting=$(grep -c 'event=offer_failed' "$LOG")
check "OPTIONS answered while the INVITE waits for rtpengine" "$rc" 0
check "... within 1.5 s, on the same worker (took $ms ms)" \
    "$([ "$ms" -lt 1500 ] && echo fast)" fast
check "... and the offer was still unanswered then" "$waiting" 0

wait "$ALICE"
check "alice's INVITE is answered once the offer timed out" \
    "$(grep '^status=' "$TMP/alice.out")" "status=200"
check_match "the offer was sent twice (one retransmission)" "$(grep -c "offer" "$TMP/ng")" \
    '^[2-9]$'
check_match "the failure is logged" "$(grep -c 'event=offer_failed' "$LOG")" '^[1-9]'
stop_server
finish
