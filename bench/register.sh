#!/bin/sh
# Authenticated REGISTER load with SIPp (401 challenge, then REGISTER with
# digest credentials, 200 OK) against `sipkit serve` and, in the same run,
# against Kamailio configured for the same job (bench/kamailio/registrar.cfg:
# auth_db on SQLite, usrloc) twice: bindings in memory only, and written
# through to SQLite. Prints for each: registrations attempted, succeeded,
# failed, achieved rate, the server's CPU seconds per 10,000
# registrations (utime+stime from /proc, all threads and children) and how
# often its threads went to sleep per registration (voluntary context
# switches: each costs a wake-up, more so on a busy machine).
#
#   bench/register.sh [RATE] [SECONDS] [USERS]   defaults: 1000/s, 20 s, 1000 users
#   SIPKIT=build/sipkit WORKERS=2 bench/register.sh
#   ONLY=kamailio bench/register.sh              one server only (sipkit|kamailio)
#   SK_PORT / KAM_PORT (default 15160 / 15170), SK_ARGS (more `serve` options),
#   KAM_SQL_WORKERS (children of the write-through Kamailio, default 1),
#   KEEP=1 (keep the temporary directory with the logs)
#
# sipkit offers MD5 only here: SIPp 3.6 answers no other digest algorithm.
# The peak resident memory printed is the sipkit process's (VmHWM).
#
# Installs kamailio and kamailio-sqlite-modules when missing. Loopback only;
# every process started here is killed by PID on exit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/.."
RATE=${1:-1000}
SECS=${2:-20}
USERS=${3:-1000}
WORKERS=${WORKERS:-2}
SIPKIT=${SIPKIT:-build/sipkit}
ONLY=${ONLY:-}
SK_ARGS=${SK_ARGS:-}
DOMAIN=bench.test
SK_PORT=${SK_PORT:-15160}
KAM_PORT=${KAM_PORT:-15170}
TMP=$(mktemp -d /tmp/sk-bench-reg.XXXXXX)
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

# Users: user0000..; password = "pw-" + name. One line per user for SIPp,
# whose third field is its authentication keyword.
echo "SEQUENTIAL" > "$TMP/users.csv"
for i in $(seq 0 $((USERS - 1))); do
    printf 'user%04d;%s;[authentication username=user%04d password=pw-user%04d]\n' \
        "$i" "$DOMAIN" "$i" "$i" >> "$TMP/users.csv"
done

wait_port() { # port: wait until something answers a REGISTER there (10 s)
    for _ in $(seq 1 50); do
        if timeout 2 sipp 127.0.0.1:"$1" -sf bench/scenarios/register_auth.xml \
            -inf "$TMP/users.csv" -m 1 -nostdin -i 127.0.0.1 -p $(($1 + 100)) \
            -timeout 2s >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

run_load() { # name port pid
    local name=$1 port=$2 pid=$3 hz before after n ok fail cpu t0 t1 sl0 sl1
    hz=$(getconf CLK_TCK)
    n=$((RATE * SECS))
    before=$(tree_ticks "$pid")
    sl0=$(tree_sleeps "$pid")
    t0=$(date +%s.%N)
    timeout $((SECS + 40)) sipp 127.0.0.1:"$port" -sf bench/scenarios/register_auth.xml \
        -inf "$TMP/users.csv" -t u1 -i 127.0.0.1 -p $((port + 200)) -r "$RATE" -m "$n" \
        -l 20000 -nostdin -timeout $((SECS + 30))s -recv_timeout 4000 \
        >"$TMP/$name.out" 2>&1
    t1=$(date +%s.%N)
    after=$(tree_ticks "$pid")
    sl1=$(tree_sleeps "$pid")
    ok=$(grep -a 'Successful call' "$TMP/$name.out" | tail -n 1 | awk '{ print $NF }')
    fail=$(grep -a 'Failed call' "$TMP/$name.out" | tail -n 1 | awk '{ print $NF }')
    ok=${ok:-0}; fail=${fail:-0}
    cpu=$(echo "($after - $before) / $hz" | bc -l)
    # Peak resident memory of the main process (Kamailio's children and
    # shared memory are not summed: it would count shared pages twice).
    rss=$(awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null)
    printf '%-18s sent=%-7s ok=%-7s failed=%-5s rate=%7.0f/s  cpu=%6.2fs  cpu_per_10k=%.3fs  sleeps_per_reg=%.2f  peak_rss=%sMB\n' \
        "$name" "$n" "$ok" "$fail" "$(echo "$ok / ($t1 - $t0)" | bc -l)" "$cpu" \
        "$(echo "if ($ok > 0) $cpu * 10000 / $ok else 0" | bc -l)" \
        "$(echo "if ($ok > 0) ($sl1 - $sl0) / $ok else 0" | bc -l)" "${rss:-?}"
}

bench_sipkit() {
    mkdir -p "$TMP/sk"
    for i in $(seq 0 $((USERS - 1))); do
        printf 'pw-user%04d\n' "$i" | "$SIPKIT" users add "$(printf 'user%04d' "$i")" \
            --password-stdin --data-dir "$TMP/sk" --domain $DOMAIN >/dev/null 2>&1 || exit 1
    done
    # SIPp 3.6 answers MD5 challenges only.
    "$SIPKIT" serve --listen 127.0.0.1:$SK_PORT --data-dir "$TMP/sk" --domain $DOMAIN \
        --workers "$WORKERS" --trusted 127.0.0.1 --log-level warn --auth-algorithms MD5 $SK_ARGS \
        2>"$TMP/sipkit.log" &
    local pid=$!; PIDS="$PIDS $pid"
    wait_port $SK_PORT || { echo "sipkit did not register a user"; tail "$TMP/sipkit.log"; return 1; }
    run_load "sipkit (durable)" $SK_PORT $pid
    kill -TERM $pid
}

bench_kamailio() { # label usrloc_db_mode children
    local db="$TMP/kam-$2.db" port=$((KAM_PORT + $2))
    # WAL (persistent in the file), as sipkit's store uses: usrloc's writes
    # do not block auth_db's reads.
    sqlite3 "$db" 'PRAGMA journal_mode=WAL;' >/dev/null
    for f in standard auth_db usrloc; do sqlite3 "$db" < "$KAM_SQL/$f-create.sql"; done
    {
        echo "BEGIN;"
        for i in $(seq 0 $((USERS - 1))); do
            u=$(printf 'user%04d' "$i")
            ha1=$(printf '%s:%s:pw-%s' "$u" $DOMAIN "$u" | md5sum | cut -d' ' -f1)
            echo "INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ('$u', '$DOMAIN', '', '$ha1', '');"
        done
        echo "COMMIT;"
    } | sqlite3 "$db"
    sed -e "s|DB_PATH|$db|g" -e "s|USRLOC_DB_MODE|$2|" bench/kamailio/registrar.cfg > "$TMP/kam-$2.cfg"
    kamailio -f "$TMP/kam-$2.cfg" -L "$KAM_MODS" -l udp:127.0.0.1:$port -n "$3" \
        -m 128 -M 16 -DD -E -Y "$TMP" -P "$TMP/kam-$2.pid" >"$TMP/kamailio-$2.log" 2>&1 &
    local pid=$!; PIDS="$PIDS $pid"
    wait_port $port || { echo "kamailio did not register a user"; tail "$TMP/kamailio-$2.log"; return 1; }
    run_load "$1" $port $pid
    kill -TERM $pid
}

echo "Authenticated REGISTER load: $RATE registrations/s for ${SECS}s, $USERS users, UDP over loopback, $WORKERS workers/children"
[ "$ONLY" = kamailio ] || bench_sipkit
[ "$ONLY" = sipkit ] || {
    bench_kamailio "kamailio (memory)" 0 "$WORKERS"
    # Kamailio's db_sqlite sets no busy timeout: two children writing at
    # once get "database is locked" and the REGISTER fails with 500, so the
    # write-through run uses one UDP child (KAM_SQL_WORKERS to change it).
    bench_kamailio "kamailio (sqlite)" 1 "${KAM_SQL_WORKERS:-1}"
}
