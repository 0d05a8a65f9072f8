#!/bin/sh
# SIPp's built-in UAS with a real phone through `sipkit serve` (default
# options), over UDP: dave registers from SIPp (digest), then SIPp's
# built-in UAS (-sn uas) answers on that port; alice (baresip) calls dave
# and hangs up: SIPp must see INVITE, ACK and BYE (exit 0), alice her call
# established and terminated.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/ua.sh"
need baresip
need sipp
SCEN=$(dirname "$0")/scenarios
UAS_PID=""
trap '[ -n "$UAS_PID" ] && kill -KILL "$UAS_PID" 2>/dev/null; ua_cleanup; cleanup' EXIT

users_add alice dave
users_md5 alice
start_server --trace
bs_start alice alice "$(ua_port)" udp
ua_check alice "alice (baresip) registered" 'registered successfully'

D=$(peer_port)
timeout 20 sipp 127.0.0.1:"$PORT" -sf "$SCEN/proxy_register.xml" -t u1 -i 127.0.0.1 -p "$D" \
    -m 1 -set domain "$DOMAIN" -s dave -au dave -ap davepw -auth_uri "$DOMAIN" -timeout 15s \
    -recv_timeout 8000 -nostdin -trace_err -error_file "$TMP/reg.err" >"$TMP/reg.out" 2>&1
check "SIPp registers dave" "$?" 0
timeout 40 sipp -sn uas -i 127.0.0.1 -p "$D" -m 1 -timeout 35s -nostdin -trace_err \
    -error_file "$TMP/uas.err" >"$TMP/uas.out" 2>&1 &
UAS_PID=$!
sleep 0.5
ua_mark alice
ua_send alice "/dial sip:dave@$DOMAIN"
ua_check alice "alice's call to SIPp's UAS is established" "Call established: sip:dave@"
sleep 1
ua_send alice /hangup
ua_check alice "alice hung up" "terminate call .* with sip:dave@|Call with sip:dave@[^ ]* terminated"
wait "$UAS_PID"
check "SIPp's UAS saw INVITE, ACK and BYE (exit status)" "$?" 0
UAS_PID=""

finish
