#!/bin/sh
# A TCP connection flood from one address (127.0.0.2) against `sipkit serve
# --workers 2` under a 1024 open-file limit, while a legitimate client on
# 127.0.0.1 keeps sending OPTIONS over UDP and TCP and registering: the
# connection cap is lowered to what the limit allows, the attacker gets
# tcp.max_per_address connections and no more, the legitimate client is
# served throughout, and SIGTERM ends the server promptly. Then the
# descriptors run out under the server (its limit lowered while it runs,
# per-address cap off): accepting pauses instead of spinning (CPU stays
# low), UDP is still answered, TCP is served again once the flood ends, and
# SIGTERM still ends it (docs/security.md).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
need prlimit
ATTACK="python3 $(dirname "$0")/lib/attack.py"
REAL_SIPKIT=$SIPKIT

printf 'secret\n' | "$SIPKIT" users add alice --password-stdin --data-dir "$TMP/data" \
    --domain example.test >/dev/null

# stop_within SECONDS: SIGTERM, then the server must be gone within SECONDS.
stop_within() {
    kill -TERM "$SERVER_PID"
    for _ in $(seq 1 $(($1 * 10))); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        check "exit within $1 s of SIGTERM" "running" "gone"
        kill -KILL "$SERVER_PID"
    else
        check "exit within $1 s of SIGTERM" "gone" "gone"
    fi
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}

# ---- 1: ulimit -n 1024, default caps ---------------------------------------
cat >"$TMP/sipkit-1024" <<WRAP
#!/bin/sh
ulimit -n 1024 || exit 1
exec "$REAL_SIPKIT" "\$@"
WRAP
chmod +x "$TMP/sipkit-1024"
SIPKIT=$TMP/sipkit-1024 start_server --auth-algorithms MD5
check_match "max_connections lowered to fit 1024 descriptors" "$(cat "$LOG")" \
    'event=tcp_max_connections_lowered configured=4096 max=9[0-9][0-9] fd_limit=1024'

$ATTACK legit "$PORT" 11 udp,tcp,register >"$TMP/legit1" 2>"$TMP/legit1.err" &
LEGIT=$!
sleep 1
r=$(timeout 40 $ATTACK flood "$PORT" 127.0.0.2 1500 8)
echo "flood: $r"
check_match "the flood connected" "$r" 'opened=1[0-9]{3}'
open=$(printf '%s' "$r" | sed -n 's/.*open=\([0-9]*\).*/\1/p')
[ -n "$open" ] && [ "$open" -le 64 ] && [ "$open" -ge 32 ]
check "the flooding address keeps at most tcp.max_per_address (64) connections ($open)" "$?" 0
wait "$LEGIT"
r=$(cat "$TMP/legit1"); echo "legit: $r"; cat "$TMP/legit1.err"
check_match "legit UDP OPTIONS answered throughout" "$r" 'udp_ok=[1-9][0-9]* udp_fail=0'
check_match "legit TCP OPTIONS answered throughout" "$r" 'tcp_ok=[1-9][0-9]* tcp_fail=0'
check_match "legit REGISTER accepted throughout" "$r" 'register_ok=[1-9][0-9]* register_fail=0'
check_match "refusals logged, rate-limited" "$(cat "$LOG")" \
    'event=tcp_refused peer=127\.0\.0\.2:[0-9]+ reason="per-address connection limit"'
n=$(grep -c 'event=tcp_refused' "$LOG")
[ "$n" -le 40 ]
check "at most one refusal line a second per worker ($n lines)" "$?" 0
stop_within 9
SIPKIT=$REAL_SIPKIT

# ---- 2: descriptors run out while running -----------------------------------
start_server --auth-algorithms MD5 --tcp-max-per-address 0 --drain-timeout 2
prlimit --pid "$SERVER_PID" --nofile=200:200
$ATTACK legit "$PORT" 8 udp >"$TMP/legit2" 2>"$TMP/legit2.err" &
LEGIT=$!
$ATTACK flood "$PORT" 127.0.0.2 1000 10 >"$TMP/flood2" &
FLOOD=$!
sleep 4
t0=$(cpu_ticks)
sleep 4
t1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
echo "server CPU over 4 s under the flood: $((t1 - t0)) ticks (${hz}/s)"
# A spinning accept loop burns 4 s per worker here; allow a loaded host.
[ $((t1 - t0)) -le $((hz * 2)) ]
check "no busy loop out of descriptors (CPU over 4 s: $((t1 - t0)) ticks)" "$?" 0
check_match "accepting paused on EMFILE" "$(cat "$LOG")" \
    'event=tcp_accept_paused peer=- reason="Too many open files; shed [0-9]+, accepting paused 100 ms"'
wait "$LEGIT"
r=$(cat "$TMP/legit2"); echo "legit: $r"; cat "$TMP/legit2.err"
check_match "legit UDP OPTIONS answered while descriptors ran out" "$r" 'udp_ok=[1-9][0-9]* udp_fail=0'
wait "$FLOOD"

# The flood is gone: accepting resumes by itself.
r=""
for i in $(seq 1 10); do
    r=$(VIA_TRANSPORT=TCP sip_request OPTIONS "sip:example.test" back$i | tcp_exchange | status_line)
    [ "$r" = "SIP/2.0 200 OK" ] && break
    sleep 0.5
done
check "TCP served again once the flood ends" "$r" "SIP/2.0 200 OK"

# SIGTERM with a flood holding its connections.
$ATTACK flood "$PORT" 127.0.0.2 1000 8 >/dev/null &
FLOOD=$!
sleep 3
stop_within 9
wait "$FLOOD"
finish
