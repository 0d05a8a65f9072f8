#!/bin/sh
# Registration of every SIP client Debian ships against `sipkit serve` with
# its default options (digest challenges as offered by default): baresip,
# linphonec and twinkle-console driven headless, sipsak, and SIPp. Each
# client's own report is checked (baresip's "registered successfully",
# linphonec's `status register`, twinkle's "registration succeeded",
# sipsak's and SIPp's exit status), then the location service lists all
# five, and the digest algorithm each one answered with is printed.
# The domain is "localhost" because sipsak resolves the domain of its URI.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
DOMAIN=localhost
. "$(dirname "$0")/lib/ua.sh"
need baresip
need linphonec
need twinkle-console
need sipsak
need sipp
SCEN=$(dirname "$0")/scenarios

users_add alice bob carol dave erin
users_md5 alice carol
start_server --domain "$DOMAIN" --trace

bs_start alice alice "$(ua_port)" udp
lp_start bob bob "$(peer_port)" udp
tw_start carol carol "$(peer_port)" udp

D=$(peer_port)
timeout 15 sipsak -U -C "sip:dave@127.0.0.1:$D" -s "sip:dave@$DOMAIN:$PORT" -u dave -a davepw \
    -x 120 >"$TMP/sipsak.out" 2>&1
check "sipsak registers dave" "$?" 0

E=$(peer_port)
timeout 20 sipp 127.0.0.1:"$PORT" -sf "$SCEN/proxy_register.xml" -t u1 -i 127.0.0.1 -p "$E" \
    -m 1 -set domain "$DOMAIN" -s erin -au erin -ap erinpw -auth_uri "$DOMAIN" -timeout 15s \
    -recv_timeout 8000 -nostdin -trace_err -error_file "$TMP/sipp.err" >"$TMP/sipp.out" 2>&1
check "SIPp registers erin" "$?" 0

ua_check alice "baresip says alice is registered" 'registered successfully'
if lp_registered bob; then
    echo "ok: linphonec says bob is registered"
else
    echo "FAIL: linphonec never said bob is registered"; FAILS=$((FAILS + 1))
    ua_out bob | tail -n 12 | sed 's/^/    /'
fi
ua_check carol "twinkle says carol is registered" 'carol: registration succeeded'

list=$("$SIPKIT" location list --data-dir "$TMP/data")
for u in alice bob carol dave erin; do
    check_match "location list has $u" "$list" "^$u@$DOMAIN "
done

# The algorithm each client answered the challenge with (no algorithm
# parameter means MD5, RFC 2617 §3.2.2).
for ua in baresip Linphonec Twinkle sipsak SIPp; do
    alg=$(awk -v ua="$ua" '
        /^<<< / { if (msg ~ ("User-Agent: [^\r]*" ua) || (ua == "SIPp" && msg ~ /SIPpReg/)) print msg; msg = "" }
        { msg = msg $0 "\n" }
        END { if (msg ~ ("User-Agent: [^\r]*" ua) || (ua == "SIPp" && msg ~ /SIPpReg/)) print msg }
    ' "$TRACE" | sed -n 's/^Authorization: *Digest .*algorithm=\([A-Za-z0-9-]*\).*/\1/p; /^Authorization: *Digest/{/algorithm=/!s/.*/MD5/p}' |
        head -n 1)
    echo "info: $ua answered with ${alg:-no Authorization}"
done
finish
