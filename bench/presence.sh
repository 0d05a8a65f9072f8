#!/bin/sh
# Presence load with SIPp against `sipkit serve` and, in the same run,
# Kamailio with presence + presence_xml (bench/kamailio/presence.cfg,
# auth_db on a SQLite subscriber table), twice: subscriptions in memory
# only, and written through to SQLite (the durability sipkit gives).
#
# Two measurements per server:
#  1. subscriptions: SIPp subscribes at RATE/s for SECS s (SUBSCRIBE, 401,
#     SUBSCRIBE with digest credentials, 200, first NOTIFY answered 200;
#     bench/scenarios/subscribe_auth.xml); prints subscriptions done,
#     failed, the rate, and the server's CPU seconds per 10,000
#     subscriptions (utime+stime from /proc, all threads and children).
#  2. PUBLISH fan-out: WATCHERS watchers subscribe to one presentity
#     (bench/scenarios/fanout_watch.xml), then ROUNDS times the presentity
#     publishes (publish_auth.xml) and every watcher must get a NOTIFY;
#     prints NOTIFYs delivered, missing, NOTIFYs per second (delivered /
#     wall time from starting the PUBLISH to the last NOTIFY logged by the
#     watchers, less what a PUBLISH nobody watches takes) and CPU seconds
#     per 10,000 NOTIFYs.
#
#   bench/presence.sh [RATE] [SECS] [WATCHERS] [ROUNDS]   defaults 500/s, 10 s, 1000, 5
#   ONLY=sipkit|kamailio bench/presence.sh                 one server only
#   SIPKIT=build/sipkit WORKERS=2 KAM_CHILDREN=1 USERS=1000 bench/presence.sh
#
# SIPp 3.6 answers MD5 digest challenges only, so sipkit runs with
# --auth-algorithms MD5 and Kamailio challenges with MD5 too. Installs
# kamailio, kamailio-presence-modules and kamailio-sqlite-modules when
# missing. Loopback only; every process started here is killed by PID.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/.."
RATE=${1:-500}
SECS=${2:-10}
WATCHERS=${3:-1000}
ROUNDS=${4:-5}
USERS=${USERS:-1000}
WORKERS=${WORKERS:-2}
# Kamailio's UDP children. One by default: with more, its processes write
# the presence tables at once, and as db_sqlite sets no busy timeout, up to
# half the SUBSCRIBEs then fail with "database is locked".
KAM_CHILDREN=${KAM_CHILDREN:-1}
SIPKIT=${SIPKIT:-build/sipkit}
ONLY=${ONLY:-}
DOMAIN=bench.test
SK_PORT=${SK_PORT:-17560}
KAM_PORT=${KAM_PORT:-17570}
TMP=$(mktemp -d /tmp/sk-bench-pres.XXXXXX)
. bench/lib.sh

need sipp || { echo "sipp missing: scripts/deps" >&2; exit 1; }
need bc || { echo "bc missing" >&2; exit 1; }
if [ ! -x "$SIPKIT" ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
        cmake --build build -j2 --target sipkit_cli >/dev/null || exit 1
fi
kmod() { find /usr/lib -name "$1" -path '*kamailio*' 2>/dev/null | head -n 1; }
if [ "$ONLY" != sipkit ] && { ! need kamailio || [ -z "$(kmod presence_xml.so)" ] ||
    [ -z "$(kmod db_sqlite.so)" ] || ! need sqlite3; }; then
    echo "bench: installing kamailio and its presence and sqlite modules" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update >/dev/null &&
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
            kamailio kamailio-presence-modules kamailio-sqlite-modules sqlite3 >/dev/null
fi
KAM_SQL=/usr/share/kamailio/db_sqlite

# Users user0000..; password "pw-" + name. Every subscription of the load
# watches "pres" and every fan-out watcher "hot": SIPp puts one fixed URI
# (-auth_uri) in its digest response, and the digest uri must be the
# Request-URI (RFC 3261 §22.4), so one presentity per measurement.
# SIPp fields: WATCHER;DOMAIN;[authentication ...];PRESENTITY.
auth() { printf '[authentication username=%s password=pw-%s]' "$1" "$1"; }
{
    echo "SEQUENTIAL"
    for i in $(seq 0 $((USERS - 1))); do
        u=$(printf 'user%04d' "$i")
        printf '%s;%s;%s;pres\n' "$u" $DOMAIN "$(auth "$u")"
    done
} >"$TMP/subs.csv"
sed 's/;pres$/;hot/' "$TMP/subs.csv" >"$TMP/watch.csv"
sed "s/ROUNDS/$ROUNDS/" bench/scenarios/fanout_watch.xml >"$TMP/fanout_watch.xml"

wait_port() { # port: wait until a subscription goes through there (10 s)
    for _ in $(seq 1 50); do
        if timeout 3 sipp 127.0.0.1:"$1" -sf bench/scenarios/subscribe_auth.xml \
            -inf "$TMP/subs.csv" -auth_uri pres@$DOMAIN -m 1 -nostdin -i 127.0.0.1 -p $(($1 + 100)) \
            -timeout 2s >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

count() { grep -ac "^.*$1" "$2" 2>/dev/null; }

wait_count() { # word file want seconds
    local end=$((SECONDS + $4)) n=0
    while [ "$SECONDS" -lt "$end" ]; do
        n=$(count "$1" "$2")
        [ "${n:-0}" -ge "$3" ] && break
        sleep 0.005
    done
    echo "${n:-0}"
}

load_subscribe() { # name port pid
    local name=$1 port=$2 pid=$3 hz before after n ok fail cpu t0 t1
    hz=$(getconf CLK_TCK)
    n=$((RATE * SECS))
    before=$(tree_ticks "$pid")
    t0=$(date +%s.%N)
    timeout $((SECS + 40)) sipp 127.0.0.1:"$port" -sf bench/scenarios/subscribe_auth.xml \
        -inf "$TMP/subs.csv" -auth_uri pres@$DOMAIN -t u1 -i 127.0.0.1 -p $((port + 200)) -r "$RATE" -m "$n" \
        -l 20000 -nostdin -timeout $((SECS + 30))s -recv_timeout 4000 \
        >"$TMP/$name.sub.out" 2>&1
    t1=$(date +%s.%N)
    after=$(tree_ticks "$pid")
    ok=$(grep -a 'Successful call' "$TMP/$name.sub.out" | tail -n 1 | awk '{ print $NF }')
    fail=$(grep -a 'Failed call' "$TMP/$name.sub.out" | tail -n 1 | awk '{ print $NF }')
    ok=${ok:-0}; fail=${fail:-0}
    cpu=$(echo "($after - $before) / $hz" | bc -l)
    printf '%-18s subscribe  sent=%-6s ok=%-6s failed=%-5s rate=%6.0f/s  cpu=%6.2fs  cpu_per_10k_subs=%.3fs\n' \
        "$name" "$n" "$ok" "$fail" "$(echo "$ok / ($t1 - $t0)" | bc -l)" "$cpu" \
        "$(echo "if ($ok > 0) $cpu * 10000 / $ok else 0" | bc -l)"
}

publish() { # port user round: one authenticated PUBLISH, wall time in ns on stdout
    local t0 t1
    printf 'SEQUENTIAL\n%s;%s;%s;round %s\n' "$2" $DOMAIN "$(auth "$2")" "$3" >"$TMP/pub.csv"
    t0=$(date +%s%N)
    timeout 20 sipp 127.0.0.1:"$1" -sf bench/scenarios/publish_auth.xml \
        -inf "$TMP/pub.csv" -auth_uri "$2@$DOMAIN" -t u1 -i 127.0.0.1 -p $(($1 + 400)) -m 1 \
        -nostdin -timeout 15s >>"$TMP/pub.out" 2>&1
    t1=$(date +%s%N)
    echo $((t1 - t0))
}

load_fanout() { # name port pid
    local name=$1 port=$2 pid=$3 hz before after got want cpu wpid log r t0 t1 subd base ns=0
    hz=$(getconf CLK_TCK)
    log="$TMP/$name.fanout.log"
    timeout $((ROUNDS * 30 + 120)) sipp 127.0.0.1:"$port" -sf "$TMP/fanout_watch.xml" \
        -inf "$TMP/watch.csv" -auth_uri hot@$DOMAIN -t u1 -i 127.0.0.1 -p $((port + 300)) \
        -r 500 -m "$WATCHERS" -l "$WATCHERS" -buff_size 4194304 -nostdin -timeout $((ROUNDS * 30 + 100))s \
        -trace_logs -log_file "$log" >"$TMP/$name.watch.out" 2>&1 &
    wpid=$!; PIDS="$PIDS $wpid"
    subd=$(wait_count subscribed "$log" "$WATCHERS" 60)
    sleep 1 # let the last first-NOTIFY transactions settle
    # What a PUBLISH costs alone (SIPp's start, 401, 200): a user nobody watches.
    base=$(publish "$port" user0000 0)
    before=$(tree_ticks "$pid")
    for r in $(seq 1 "$ROUNDS"); do
        t0=$(date +%s%N)
        publish "$port" hot "$r" >/dev/null
        got=$(wait_count fanout "$log" $((WATCHERS * r)) 20)
        t1=$(date +%s%N)
        ns=$((ns + t1 - t0 - base))
    done
    after=$(tree_ticks "$pid")
    kill -TERM "$wpid" 2>/dev/null
    want=$((WATCHERS * ROUNDS))
    got=$(count fanout "$log")
    cpu=$(echo "($after - $before) / $hz" | bc -l)
    [ "$ns" -gt 0 ] || ns=1
    printf '%-18s fan-out    watchers=%s/%s notifies=%-6s missing=%-5s rate=%6.0f/s  cpu=%6.2fs  cpu_per_10k_notifies=%.3fs  (publish alone %.1f ms)\n' \
        "$name" "$subd" "$WATCHERS" "$got" $((want - got)) "$(echo "$got * 1000000000 / $ns" | bc -l)" \
        "$cpu" "$(echo "if ($got > 0) $cpu * 10000 / $got else 0" | bc -l)" "$(echo "$base / 1000000" | bc -l)"
}

bench_sipkit() {
    mkdir -p "$TMP/sk"
    for u in pres hot $(seq -f 'user%04g' 0 $((USERS - 1))); do
        printf 'pw-%s\n' "$u" | "$SIPKIT" users add "$u" --password-stdin --data-dir "$TMP/sk" \
            --domain $DOMAIN >/dev/null 2>&1 || exit 1
    done
    "$SIPKIT" serve --listen 127.0.0.1:$SK_PORT --data-dir "$TMP/sk" --domain $DOMAIN \
        --workers "$WORKERS" --trusted 127.0.0.1 --log-level warn --auth-algorithms MD5 \
        --max-subs-per-address 1000000 2>"$TMP/sipkit.log" &
    local pid=$!; PIDS="$PIDS $pid"
    wait_port $SK_PORT || { echo "sipkit: no subscription went through"; tail "$TMP/sipkit.log"; return 1; }
    load_subscribe "sipkit (durable)" $SK_PORT $pid
    load_fanout "sipkit (durable)" $SK_PORT $pid
    kill -TERM $pid
}

bench_kamailio() { # label subs_db_mode publ_cache
    local db="$TMP/kam-$2.db" port=$((KAM_PORT + $2))
    for f in standard auth_db presence; do sqlite3 "$db" <"$KAM_SQL/$f-create.sql"; done
    {
        echo "BEGIN;"
        for u in pres hot $(seq -f 'user%04g' 0 $((USERS - 1))); do
            ha1=$(printf '%s:%s:pw-%s' "$u" $DOMAIN "$u" | md5sum | cut -d' ' -f1)
            echo "INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ('$u', '$DOMAIN', '', '$ha1', '');"
        done
        echo "COMMIT;"
        # WAL (kept in the file): Kamailio's processes read while another
        # writes; db_sqlite sets no busy timeout, so without it the
        # auth_db reads fail with "database is locked" under load.
        echo "PRAGMA journal_mode=WAL;"
    } | sqlite3 "$db" >/dev/null
    sed -e "s|DB_PATH|$db|g" -e "s|SUBS_DB_MODE|$2|" -e "s|PUBL_CACHE|$3|" \
        -e "s|SERVER_ADDRESS|sip:127.0.0.1:$port|" bench/kamailio/presence.cfg >"$TMP/kam-$2.cfg"
    kamailio -f "$TMP/kam-$2.cfg" -L "$(dirname "$(kmod presence.so)")" -l udp:127.0.0.1:$port \
        -n "$KAM_CHILDREN" -m 256 -M 16 -DD -E -Y "$TMP" -P "$TMP/kam-$2.pid" \
        >"$TMP/kamailio-$2.log" 2>&1 &
    local pid=$!; PIDS="$PIDS $pid"
    wait_port $port || { echo "kamailio: no subscription went through"; tail "$TMP/kamailio-$2.log"; return 1; }
    load_subscribe "$1" $port $pid
    load_fanout "$1" $port $pid
    kill -TERM $pid
}

echo "Presence: SUBSCRIBE at $RATE/s for ${SECS}s ($USERS users), then PUBLISH fan-out to" \
    "$WATCHERS watchers x $ROUNDS rounds; UDP over loopback, sipkit $WORKERS workers, Kamailio $KAM_CHILDREN children"
[ "$ONLY" = kamailio ] || bench_sipkit
[ "$ONLY" = sipkit ] || {
    bench_kamailio "kamailio (memory)" 0 1
    bench_kamailio "kamailio (sqlite)" 1 1
}
