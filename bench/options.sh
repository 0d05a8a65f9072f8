#!/bin/sh
# OPTIONS load with SIPp against `sipkit serve` and, in the same run, against
# Kamailio answering OPTIONS statelessly (bench/kamailio/kamailio.cfg).
# Prints for each server: requests sent, answered, failed, achieved rate and
# the server's CPU seconds per 10,000 requests (utime+stime from
# /proc/PID/stat, all threads and child processes, over the load only).
#
#   bench/options.sh [RATE] [SECONDS]     defaults: 4000 requests/s, 20 s
#   SIPKIT=build/sipkit WORKERS=2 bench/options.sh
#
# Installs kamailio (Debian package) when it is missing. Loopback only;
# every process started here is killed by PID on exit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/.."
RATE=${1:-4000}
SECS=${2:-20}
WORKERS=${WORKERS:-2}
SIPKIT=${SIPKIT:-build/sipkit}
SK_PORT=${SK_PORT:-15060}
KAM_PORT=${KAM_PORT:-15070}
TMP=$(mktemp -d /tmp/sk-bench.XXXXXX)
. bench/lib.sh

command -v sipp >/dev/null || { echo "sipp missing: scripts/deps" >&2; exit 1; }
[ -x "$SIPKIT" ] || scripts/build
if ! command -v kamailio >/dev/null 2>&1; then
    echo "bench: installing kamailio" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update >/dev/null && \
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends kamailio >/dev/null
fi
KAM_MODS=$(dirname "$(find /usr/lib -name sl.so -path '*kamailio*' 2>/dev/null | head -n 1)")

wait_udp() { # port: wait until something answers OPTIONS there (10 s)
    for _ in $(seq 1 50); do
        if timeout 1 sipp 127.0.0.1:"$1" -sf bench/scenarios/options_load.xml -m 1 -nostdin \
            -i 127.0.0.1 -p $(( $1 + 100 )) -timeout 1s >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

run_load() { # name port pid
    local name=$1 port=$2 pid=$3 hz before after n ok fail cpu
    hz=$(getconf CLK_TCK)
    n=$((RATE * SECS))
    before=$(tree_ticks "$pid")
    local t0 t1
    t0=$(date +%s.%N)
    timeout $((SECS + 30)) sipp 127.0.0.1:"$port" -sf bench/scenarios/options_load.xml -t u1 \
        -i 127.0.0.1 -p $((port + 200)) -r "$RATE" -m "$n" -l 20000 -nostdin \
        -timeout $((SECS + 20))s -recv_timeout 2000 -default_behaviors all,-bye \
        >"$TMP/$name.out" 2>&1
    t1=$(date +%s.%N)
    after=$(tree_ticks "$pid")
    ok=$(grep -a 'Successful call' "$TMP/$name.out" | tail -n 1 | awk '{ print $NF }')
    fail=$(grep -a 'Failed call' "$TMP/$name.out" | tail -n 1 | awk '{ print $NF }')
    ok=${ok:-0}; fail=${fail:-0}
    cpu=$(echo "($after - $before) / $hz" | bc -l)
    printf '%-9s sent=%-7s ok=%-7s failed=%-5s rate=%7.0f/s  cpu=%6.2fs  cpu_per_10k=%.3fs\n' \
        "$name" "$n" "$ok" "$fail" "$(echo "$ok / ($t1 - $t0)" | bc -l)" "$cpu" \
        "$(echo "if ($ok > 0) $cpu * 10000 / $ok else 0" | bc -l)"
}

echo "OPTIONS load: $RATE requests/s for ${SECS}s each, UDP over loopback, $WORKERS workers/children"

"$SIPKIT" serve --listen 127.0.0.1:$SK_PORT --data-dir "$TMP/data" --domain bench.test \
    --workers "$WORKERS" --trusted 127.0.0.1 --log-level warn 2>"$TMP/sipkit.log" &
SK_PID=$!; PIDS="$PIDS $SK_PID"
wait_udp $SK_PORT || { echo "sipkit did not answer"; cat "$TMP/sipkit.log"; exit 1; }
run_load sipkit $SK_PORT $SK_PID
kill -TERM $SK_PID

kamailio -f bench/kamailio/kamailio.cfg -L "$KAM_MODS" -l udp:127.0.0.1:$KAM_PORT \
    -n "$WORKERS" -m 64 -M 8 -DD -E -Y "$TMP" -P "$TMP/kam.pid" 2>"$TMP/kamailio.log" &
KAM_PID=$!; PIDS="$PIDS $KAM_PID"
wait_udp $KAM_PORT || { echo "kamailio did not answer"; tail "$TMP/kamailio.log"; exit 1; }
run_load kamailio $KAM_PORT $KAM_PID
