#!/bin/sh
# Authenticated call load through the proxy with SIPp, against `sipkit
# serve` and, in the same run, Kamailio configured for the same job
# (bench/kamailio/proxy.cfg: auth_db on SQLite, usrloc in memory, tm, rr).
# A callee SIPp registers bob (401 -> 200) from its own port and answers
# there (180, 200, takes ACK and BYE); a caller SIPp sends alice's calls
# (or, with CALLERS=N, calls from N users caller1..callerN in turn, all to
# bob): INVITE, 407, ACK, INVITE with Proxy-Authorization, 100/180/200, ACK
# and BYE along the Record-Route. Either way bob, one callee, takes every
# call, as one PBX user does. Prints for each server and rate: calls
# attempted, succeeded, failed (and the failure ratio), the achieved call
# rate, and the server's CPU seconds (utime+stime from /proc, all threads
# and children, over the load only) per 10,000 calls.
#
#   bench/call.sh [RATES] [SECONDS]     defaults: 200 calls/s, 20 s
#   bench/call.sh 100,200,400 10        several rates in turn, same servers
#   SIPKIT=build/sipkit WORKERS=2 HOLD=100 ONLY=sipkit bench/call.sh
#   CALLERS=200 bench/call.sh 800 10   200 distinct callers, one callee
#
# HOLD: milliseconds between the ACK and the BYE (default 100). ONLY:
# sipkit or kamailio. KEEP=1 keeps the SIPp output and server logs (the
# caller's errors in NAME-RATE.err). Installs kamailio and kamailio-sqlite-modules when
# missing. Loopback only; every process started here is killed by PID.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/.."
RATES=${1:-200}
SECS=${2:-20}
WORKERS=${WORKERS:-2}
HOLD=${HOLD:-100}
SIPKIT=${SIPKIT:-build/sipkit}
ONLY=${ONLY:-}
CALLERS=${CALLERS:-0}
DOMAIN=bench.test
SK_PORT=${SK_PORT:-15260}
KAM_PORT=${KAM_PORT:-15270}
REG=tests/interop/scenarios/proxy_register.xml
TMP=$(mktemp -d /tmp/sk-bench-call.XXXXXX)
. bench/lib.sh

need sipp || { echo "sipp missing: scripts/deps" >&2; exit 1; }
[ -x "$SIPKIT" ] || scripts/build
if ! need kamailio || [ -z "$(find /usr/lib -name db_sqlite.so -path '*kamailio*' 2>/dev/null)" ]; then
    echo "bench: installing kamailio" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update >/dev/null &&
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
            kamailio kamailio-sqlite-modules sqlite3 >/dev/null
fi
KAM_MODS=$(dirname "$(find /usr/lib -name sl.so -path '*kamailio*' 2>/dev/null | head -n 1)")
KAM_SQL=/usr/share/kamailio/db_sqlite

# register_bob PORT CALLEE_PORT: bob registers from the callee's port (10 s).
register_bob() {
    for _ in $(seq 1 50); do
        if timeout 3 sipp 127.0.0.1:"$1" -sf $REG -set domain $DOMAIN -s bob -au bob \
            -ap pw-bob -auth_uri $DOMAIN -m 1 -nostdin -i 127.0.0.1 -p "$2" -t u1 \
            -timeout 2s >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# The callers: alice alone, or caller1..callerN.
callers() {
    if [ "$CALLERS" -gt 0 ]; then seq -f 'caller%g' 1 "$CALLERS"; else echo alice; fi
}
# SIPp's injection file: each call takes the next caller and its credentials.
{
    echo SEQUENTIAL
    for u in $(callers); do
        printf '%s;[authentication username=%s password=pw-%s]\n' "$u" "$u" "$u"
    done
} >"$TMP/callers.csv"

run_load() { # name port pid rate
    local name=$1 port=$2 pid=$3 rate=$4 hz before after n ok fail cpu t0 t1
    hz=$(getconf CLK_TCK)
    n=$((rate * SECS))
    before=$(tree_ticks "$pid")
    t0=$(date +%s.%N)
    timeout $((SECS + 60)) sipp 127.0.0.1:"$port" -sf bench/scenarios/call_uac.xml \
        -set domain $DOMAIN -set hold "$HOLD" -s bob -inf "$TMP/callers.csv" \
        -auth_uri bob@$DOMAIN -t u1 -i 127.0.0.1 -p $((port + 200)) -r "$rate" -m "$n" \
        -l 20000 -nostdin -timeout $((SECS + 50))s -recv_timeout 8000 \
        -trace_err -error_file "$TMP/$name-$rate.err" >"$TMP/$name-$rate.out" 2>&1
    t1=$(date +%s.%N)
    after=$(tree_ticks "$pid")
    ok=$(grep -a 'Successful call' "$TMP/$name-$rate.out" | tail -n 1 | awk '{ print $NF }')
    fail=$(grep -a 'Failed call' "$TMP/$name-$rate.out" | tail -n 1 | awk '{ print $NF }')
    ok=${ok:-0}; fail=${fail:-0}
    cpu=$(echo "($after - $before) / $hz" | bc -l)
    printf '%-9s rate=%-5s sent=%-6s ok=%-6s failed=%-4s (%5.2f%%) achieved=%6.1f calls/s  cpu=%6.2fs  cpu_per_10k=%.3fs\n' \
        "$name" "$rate" "$n" "$ok" "$fail" "$(echo "100 * $fail / $n" | bc -l)" \
        "$(echo "$ok / ($t1 - $t0)" | bc -l)" "$cpu" \
        "$(echo "if ($ok > 0) $cpu * 10000 / $ok else 0" | bc -l)"
}

# bench_server NAME PORT PID: bob registered and answering, then each rate.
bench_server() {
    local name=$1 port=$2 pid=$3 cport=$(($2 + 100)) uas
    register_bob "$port" "$cport" || { echo "$name: bob did not register"; return 1; }
    timeout 3600 sipp -sf bench/scenarios/call_uas.xml -s bob -t u1 -i 127.0.0.1 -p "$cport" \
        -nostdin >"$TMP/$name-uas.out" 2>&1 &
    uas=$!; PIDS="$PIDS $uas"
    sleep 0.5
    for rate in ${RATES//,/ }; do
        run_load "$name" "$port" "$pid" "$rate"
    done
    kill -TERM "$uas" 2>/dev/null
}

bench_sipkit() {
    mkdir -p "$TMP/sk"
    for u in $(callers) bob; do
        printf 'pw-%s\n' $u | "$SIPKIT" users add $u --password-stdin --data-dir "$TMP/sk" \
            --domain $DOMAIN >/dev/null 2>&1 || exit 1
    done
    "$SIPKIT" serve --listen 127.0.0.1:$SK_PORT --data-dir "$TMP/sk" --domain $DOMAIN \
        --workers "$WORKERS" --trusted 127.0.0.1 --auth-algorithms MD5 --log-level warn 2>"$TMP/sipkit.log" &
    local pid=$!; PIDS="$PIDS $pid"
    bench_server sipkit $SK_PORT $pid || tail "$TMP/sipkit.log"
    kill -TERM $pid
}

bench_kamailio() {
    local db="$TMP/kam.db"
    for f in standard auth_db; do sqlite3 "$db" < "$KAM_SQL/$f-create.sql"; done
    for u in $(callers) bob; do
        ha1=$(printf '%s:%s:pw-%s' $u $DOMAIN $u | md5sum | cut -d' ' -f1)
        echo "INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ('$u', '$DOMAIN', '', '$ha1', '');"
    done | sqlite3 "$db"
    sed -e "s|DB_PATH|$db|g" -e "s|DOMAIN|$DOMAIN|g" bench/kamailio/proxy.cfg > "$TMP/kam.cfg"
    kamailio -f "$TMP/kam.cfg" -L "$KAM_MODS" -l udp:127.0.0.1:$KAM_PORT -n "$WORKERS" \
        -m 128 -M 16 -DD -E -Y "$TMP" -P "$TMP/kam.pid" >"$TMP/kamailio.log" 2>&1 &
    local pid=$!; PIDS="$PIDS $pid"
    bench_server kamailio $KAM_PORT $pid || tail "$TMP/kamailio.log"
    kill -TERM $pid
}

echo "Authenticated calls through the proxy: ${RATES} calls/s for ${SECS}s each, hold ${HOLD} ms, UDP over loopback, $WORKERS workers/children, callers: $(callers | wc -l) to one callee"
[ "$ONLY" = kamailio ] || bench_sipkit
[ "$ONLY" = sipkit ] || bench_kamailio
