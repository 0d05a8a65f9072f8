#!/bin/sh
# Identity at the proxy (RFC 3261 §22.3): a request whose From claims our
# domain in any spelling (case, trailing dot, an IP literal of ours in any
# IPv6 form) is challenged with 407; callers from other domains follow
# proxy.foreign_callers, and when allowed they cannot tell an unknown user
# from an offline one (480 for both), while a registered user is still
# reached. The attacker is a plain UDP client (lib/digest_uac.py --no-auth);
# the registered callee is SIPp.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
need python3
SCEN=$(dirname "$0")/scenarios
DOMAIN=example.test
UAS_PID=""
id_cleanup() {
    [ -n "$UAS_PID" ] && kill -KILL "$UAS_PID" 2>/dev/null
    cleanup
}
trap id_cleanup EXIT

mkdir -p "$TMP/data"
for u in bob:bobpw carol:carolpw; do
    printf '%s\n' "${u#*:}" | "$SIPKIT" users add "${u%%:*}" --password-stdin \
        --data-dir "$TMP/data" --domain "$DOMAIN" >/dev/null
done
start_server --listen "[::1]:0"
call() { # from-host to-user [extra args]: the first final status of an INVITE
    local host=$1 to=$2
    shift 2
    timeout 15 python3 "$(dirname "$0")/lib/digest_uac.py" --port "$PORT" --domain "$DOMAIN" \
        --method INVITE --user carol --password x --from-host "$host" --uri "sip:$to@$DOMAIN" \
        --no-auth "$@" | sed -n 's/^status=//p'
}

# bob registers, then a SIPp callee on his port answers 486 to what reaches it.
bp=$(peer_port)
timeout 25 sipp 127.0.0.1:"$PORT" -sf "$SCEN/proxy_register.xml" -t u1 -i 127.0.0.1 -p "$bp" \
    -m 1 -set domain "$DOMAIN" -s bob -au bob -ap bobpw -auth_uri "$DOMAIN" -timeout 20s \
    -nostdin >"$TMP/reg.out" 2>&1
check "bob registers" "$?" 0
sed 's/@CODE@/486/; s/@REASON@/Busy Here/' "$SCEN/proxy_uas_status.xml" >"$TMP/uas486.xml"

for host in "$DOMAIN" EXAMPLE.TEST "$DOMAIN." "Example.Test." 127.0.0.1 "[::1]" \
    "[0:0:0:0:0:0:0:1]" "[::0001]"; do
    check "From carol@$host to bob: challenged" "$(call "$host" bob)" 407
done
check "From carol@$DOMAIN to an unknown user: challenged, not 404" "$(call "$DOMAIN" nobody)" 407

# Other domains, default policy (allow): nothing to enumerate.
check "foreign caller, unknown user: 480" "$(call other.example nobody)" 480
check "foreign caller, user not registered (carol): 480" "$(call other.example carol)" 480
timeout 25 sipp -sf "$TMP/uas486.xml" -t u1 -i 127.0.0.1 -p "$bp" -m 1 -timeout 20s -nostdin \
    >"$TMP/uas.out" 2>&1 &
UAS_PID=$!
sleep 0.5
check "foreign caller reaches registered bob (his 486)" "$(call other.example bob)" 486
wait "$UAS_PID" 2>/dev/null
UAS_PID=""
stop_server

start_server --foreign-callers deny
check "foreign_callers=deny: 403" "$(call other.example bob)" 403
check "... local callers still challenged" "$(call "$DOMAIN." bob)" 407
stop_server
start_server --foreign-callers challenge
check "foreign_callers=challenge: 407" "$(call other.example bob)" 407
stop_server

[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; tail -30 "$LOG"; exit 1; }
echo "attack_identity: all checks passed"
