#!/bin/sh
# Digest algorithms with the server's default options (RFC 8760 §2.4):
# the challenge offers MD5 alone, so clients that read only the first
# challenge (sipsak, SIPp) and clients that give up on any unknown
# algorithm (baresip, twinkle) register; with `--auth-algorithms "MD5
# SHA-256"` a client that knows only SHA-256 finds it second; a user made
# to require SHA-256 (`sipkit users add
# --algorithms SHA-256`) is offered only that and refused MD5; credentials
# answering a 401 in Proxy-Authorization are accepted, as some clients
# (linphonec) send them. The digest client here is independent of
# sipkit's (lib/digest_uac.py, Python's hashlib).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
need sipsak
need python3
UAC="python3 $(dirname "$0")/lib/digest_uac.py"
SCEN=$(dirname "$0")/scenarios

mkdir -p "$TMP/data"
adduser() { # name password [--algorithms LIST]
    n=$1 pw=$2
    shift 2
    printf '%s\n' "$pw" | "$SIPKIT" users add "$n" --password-stdin "$@" \
        --data-dir "$TMP/data" --domain localhost >/dev/null
}
adduser alice apw
adduser bob bpw
adduser dave dpw --algorithms SHA-256
# sipsak takes the To domain from -s and must resolve it: serve localhost.
start_server --domain localhost
uac() { timeout 20 $UAC --port "$PORT" --domain localhost "$@"; }

out=$(uac --user alice --password apw)
check_match "default challenge: MD5 alone" "$out" '^offered=MD5$'
check_match "... MD5 answer registers" "$out" '^status=200$'
out=$(uac --user alice --password apw --algorithm SHA-256)
check_match "SHA-256 is not offered by default" "$out" '^status=none-offered$'

out=$(uac --user alice --password apw --header Proxy-Authorization)
check_match "a 401 answered in Proxy-Authorization: REGISTER accepted" "$out" '^status=200$'
out=$(uac --user alice --password apw --header Proxy-Authorization --method SUBSCRIBE \
    --uri sip:bob@localhost --expires 0)
check_match "... SUBSCRIBE accepted too" "$out" '^status=(200|202)$'
out=$(uac --user alice --password wrong --header Proxy-Authorization)
check_match "... and still checked: a wrong password is challenged again" "$out" '^status=401$'

out=$(uac --user dave --password dpw --algorithm SHA-256)
check_match "dave (--algorithms SHA-256) is offered SHA-256 only" "$out" '^offered=SHA-256$'
check_match "... and registers with it" "$out" '^status=200$'
lp=$(peer_port)
timeout 15 sipsak -U -C "sip:dave@127.0.0.1:$lp" -s "sip:dave@localhost:$PORT" -u dave -a dpw \
    -x 120 >"$TMP/sipsak_dave.out" 2>&1
check "sipsak (MD5 only) cannot register dave" "$([ $? -ne 0 ] && echo refused)" refused

# Real clients with nothing but defaults.
lp=$(peer_port)
timeout 15 sipsak -U -C "sip:bob@127.0.0.1:$lp" -s "sip:bob@localhost:$PORT" -u bob -a bpw \
    -x 120 >"$TMP/sipsak.out" 2>&1
check "sipsak registers against the defaults" "$?" 0
lp=$(peer_port)
timeout 30 sipp 127.0.0.1:"$PORT" -sf "$SCEN/proxy_register.xml" -set domain localhost -t u1 \
    -i 127.0.0.1 -p "$lp" -m 1 -timeout 20s -nostdin -au alice -ap apw -s alice \
    -auth_uri localhost -error_file "$TMP/sipp.err" >"$TMP/sipp.out" 2>&1
rc=$?
check "SIPp registers against the defaults" "$rc" 0
[ "$rc" -ne 0 ] && head -20 "$TMP/sipp.err"

stop_server

# A server configured for stronger digests offers them in its order.
start_server --domain localhost --auth-algorithms "MD5 SHA-256"
out=$(uac --user alice --password apw)
check_match "--auth-algorithms \"MD5 SHA-256\": both, MD5 first" "$out" '^offered=MD5 SHA-256$'
out=$(uac --user alice --password apw --algorithm SHA-256)
check_match "a SHA-256-only client registers with the second challenge" "$out" '^status=200$'
out=$(uac --user alice --password apw --algorithm SHA-512-256)
check_match "SHA-512-256 is offered only when listed" "$out" '^status=none-offered$'
lp=$(peer_port)
timeout 15 sipsak -U -C "sip:bob@127.0.0.1:$lp" -s "sip:bob@localhost:$PORT" -u bob -a bpw \
    -x 120 >"$TMP/sipsak2.out" 2>&1
check "sipsak still registers (it reads the first challenge)" "$?" 0
stop_server
[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; cat "$LOG" | tail -20; exit 1; }
echo "auth_defaults: all checks passed"
