#!/bin/sh
# CANCEL of a call whose callee has answered nothing yet (RFC 3261 §9.1,
# §16.10): SIPp's alice cancels while the SIPp callee stays silent; the
# proxy answers the CANCEL 200 and gives up on the silent branch, so alice
# gets 487 within 3 s (not 408 when Timer B fires after 32 s). When the
# callee rings at last, the proxy CANCELs it then and ACKs its 487.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
. "$(dirname "$0")/lib/proxy_peers.sh"

add_user alice alice-secret
add_user bob bob-secret
start_server

base=$(peer_port)
A=$base; B=$((base + 1))

register reg-bob "$B" bob bob-secret
uas_start bob-late "$B" "$SCEN/proxy_uas_late_ring.xml" -s bob
t0=$(date +%s)
sipp_run cancel-early "$A" "$SCEN/proxy_uac_cancel_early.xml" -s bob -au alice \
    -ap alice-secret -auth_uri bob@"$DOMAIN"
check "alice cancels before bob answers anything: 200, then 487 at once" "$?" 0
check "... well before Timer B" "$(( $(date +%s) - t0 < 10 ))" 1
uas_wait bob-late "$UAS_PID"
check_match "bob got the proxy's CANCEL once he rang" "$(cat "$TMP/bob-late.log" 2>/dev/null)" \
    'callee-cancel'
check_match "and the ACK for his 487" "$(cat "$TMP/bob-late.log" 2>/dev/null)" 'callee-ack-487'

stop_server
finish
