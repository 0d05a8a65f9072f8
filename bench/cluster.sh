#!/bin/sh
# Three nodes on one PostgreSQL: three `sipkit serve` processes sharing a
# database (docs/cluster.md), beside three Kamailio 5.6 processes sharing
# another database of the same PostgreSQL (auth_db, usrloc written
# through: db_mode 1; bench/kamailio/cluster.cfg). PostgreSQL 15 from
# Debian is started here in a temporary directory as an unprivileged user
# (tests/interop/lib/pg.sh), on 127.0.0.1 with a password.
#
# Loads, each for SECONDS, UDP over loopback:
#  - authenticated REGISTER (401, then digest, 200) spread over the three
#    nodes: one SIPp per node at RATE/3, each with its own USERS users;
#  - authenticated calls (INVITE, 407, INVITE with credentials, 180/200,
#    ACK, BYE after HOLD ms) from CALLERS callers through node 2 to bob,
#    one callee, registered on node 3 (a SIPp UAS on bob's port).
# Printed for each server and rate: attempted, succeeded, failed, the
# rate reached, CPU seconds per 10,000 (utime+stime from /proc, the three
# server processes with their threads and children) and, apart,
# PostgreSQL's (the postmaster and all its backends) per 10,000, and the
# nodes' largest peak RSS. For sipkit also the time from the 200 OK of a
# REGISTER on node 1 to its binding in node 2's memory (admin API,
# bench/visibility.py), idle and under the highest REGISTER rate (that
# run's CPU includes the probe's few requests), and the digest failures
# by cause from the nodes' metrics when there were any. sipkit's users:
# bob and the probes through `sipkit users add --store URL`, the others
# through node 1's admin API (admin listeners on SK_PORT+10..12).
#
# Kamailio and cross-node calls: with usrloc's db_mode 1 a node's memory
# holds only the bindings it took itself (it writes the table but never
# reads another node's rows), so node 2 would answer 404 for bob
# registered on node 3. The call runs therefore use db_mode 3 (database
# only: every lookup is a SELECT), the usrloc mode meant for nodes sharing
# one table; the REGISTER runs use db_mode 1, write-through, the
# durability sipkit gives. (KAM_CALL_DB_MODE=1
# instead keeps db_mode 1 and registers bob on all three nodes.) sipkit
# runs the same way in both: bindings in each node's memory, kept up to
# date from the others through PostgreSQL's LISTEN/NOTIFY.
#
#   bench/cluster.sh [REG_RATES] [CALL_RATES] [SECONDS]
#       defaults: 600,1500 registrations/s; 300,600 calls/s; 15 s
#   ONLY=sipkit|kamailio, WORKERS (per node, default 2), USERS (per node,
#   default 200), CALLERS (default 200), HOLD (default 100 ms),
#   SK_PORT / KAM_PORT (first of three, default 15560 / 15580), PG_PORT
#   (default 15590), KAM_CALL_DB_MODE (3, or 1), KEEP=1 (keep the logs).
#
# Installs kamailio and kamailio-postgres-modules when missing. Loopback
# only; every process started here (PostgreSQL too) is stopped by PID on
# exit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/.."
REG_RATES=${1:-600,1500}
CALL_RATES=${2:-300,600}
SECS=${3:-15}
WORKERS=${WORKERS:-2}
USERS=${USERS:-200}
CALLERS=${CALLERS:-200}
HOLD=${HOLD:-100}
SIPKIT=${SIPKIT:-build/sipkit}
ONLY=${ONLY:-}
KAM_CALL_DB_MODE=${KAM_CALL_DB_MODE:-3}
DOMAIN=bench.test
SK_PORT=${SK_PORT:-15560}
KAM_PORT=${KAM_PORT:-15580}
PG_PORT=${PG_PORT:-15590}
REG=tests/interop/scenarios/proxy_register.xml
TMP=$(mktemp -d /tmp/sk-bench-cluster.XXXXXX)
. bench/lib.sh

need sipp || { echo "sipp missing: scripts/deps" >&2; exit 1; }
need python3 || { echo "python3 missing: scripts/deps" >&2; exit 1; }
need curl || { echo "curl missing: scripts/deps" >&2; exit 1; }
need bc || { echo "bc missing: scripts/deps" >&2; exit 1; }
[ -x "$SIPKIT" ] || scripts/build
if ! need kamailio || [ -z "$(find /usr/lib -name db_postgres.so -path '*kamailio*' 2>/dev/null)" ]; then
    echo "bench: installing kamailio" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update >/dev/null &&
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
            kamailio kamailio-postgres-modules >/dev/null
fi
KAM_MODS=$(dirname "$(find /usr/lib -name sl.so -path '*kamailio*' 2>/dev/null | head -n 1)")
KAM_SQL=/usr/share/kamailio/postgres

# PostgreSQL as the interop tests run it (pg_init, pg_stop, as_pg). Its
# EXIT trap is replaced: the servers go first, then PostgreSQL, then TMP.
peer_port() { echo "$PG_PORT"; }
. tests/interop/lib/pg.sh
stop_all() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.5
    pg_stop
    cleanup
}
trap stop_all EXIT
pg_init
PGPASS=$(cat "$PGPASSFILE_SK")
PG_PID=$(head -n 1 "$PGDIR/db/postmaster.pid")

RESULTS=$TMP/results.txt
: >"$RESULTS"
HZ=$(getconf CLK_TCK)

# Users: N<node>u0000.. for REGISTER, caller1.. and bob for calls;
# password "pw-" + name. One injection file per node for SIPp.
reg_user() { printf 'n%du%04d' "$1" "$2"; }
for n in 1 2 3; do
    echo SEQUENTIAL >"$TMP/users$n.csv"
    for i in $(seq 0 $((USERS - 1))); do
        u=$(reg_user "$n" "$i")
        printf '%s;%s;[authentication username=%s password=pw-%s]\n' "$u" $DOMAIN "$u" "$u" \
            >>"$TMP/users$n.csv"
    done
done
{
    echo SEQUENTIAL
    for i in $(seq 1 "$CALLERS"); do
        printf 'caller%d;[authentication username=caller%d password=pw-caller%d]\n' "$i" "$i" "$i"
    done
} >"$TMP/callers.csv"
all_users() { # every user name, one a line
    for n in 1 2 3; do
        for i in $(seq 0 $((USERS - 1))); do reg_user "$n" "$i"; echo; done
    done
    seq -f 'caller%g' 1 "$CALLERS"
    echo bob
    seq -f 'probe%g' 0 15
}

# The servers' CPU ticks and PostgreSQL's (postmaster and backends).
ticks() { # PID...
    local t=0 p
    for p in "$@"; do t=$((t + $(tree_ticks "$p"))); done
    echo "$t"
}
peak_rss() { # PID...: the largest VmHWM, MB
    local p m=0 r
    for p in "$@"; do
        r=$(awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$p/status" 2>/dev/null)
        [ "${r:-0}" -gt "$m" ] && m=$r
    done
    echo "$m"
}
sipp_count() { # FILE WHAT: SIPp's last "Successful call" / "Failed call" total
    local v
    v=$(grep -a "$2 call" "$1" 2>/dev/null | tail -n 1 | awk '{ print $NF }')
    echo "${v:-0}"
}

# report SERVER LOAD RATE SENT OK FAILED SECONDS CPU_TICKS PG_TICKS RSS
report() {
    local cpu pg
    cpu=$(echo "$8 / $HZ" | bc -l)
    pg=$(echo "$9 / $HZ" | bc -l)
    printf '%-8s %-8s rate=%-5s sent=%-6s ok=%-6s failed=%-5s achieved=%.1f cpu=%.2fs cpu_per_10k=%.3fs pg_cpu=%.2fs pg_cpu_per_10k=%.3fs peak_rss=%sMB\n' \
        "$1" "$2" "$3" "$4" "$5" "$6" "$(echo "$5 / $7" | bc -l)" "$cpu" \
        "$(echo "if ($5 > 0) $cpu * 10000 / $5 else 0" | bc -l)" "$pg" \
        "$(echo "if ($5 > 0) $pg * 10000 / $5 else 0" | bc -l)" "${10}" | tee -a "$RESULTS"
}

wait_register() { # PORT USERS_FILE: until a REGISTER gets 200 there (10 s)
    for _ in $(seq 1 50); do
        if timeout 3 sipp 127.0.0.1:"$1" -sf bench/scenarios/register_auth.xml -inf "$2" \
            -m 1 -nostdin -i 127.0.0.1 -p $(($1 + 400)) -timeout 2s >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# reg_load NAME BASE_PORT RATE PID...: one SIPp per node at RATE/3.
reg_load() {
    local name=$1 base=$2 rate=$3 per n before pbefore after pafter t0 t1 ok=0 fail=0
    shift 3
    per=$((rate / 3))
    before=$(ticks "$@"); pbefore=$(tree_ticks "$PG_PID")
    t0=$(date +%s.%N)
    local sp=()
    for n in 1 2 3; do
        timeout $((SECS + 40)) sipp 127.0.0.1:$((base + n - 1)) -sf bench/scenarios/register_auth.xml \
            -inf "$TMP/users$n.csv" -t u1 -i 127.0.0.1 -p $((base + n - 1 + 200)) -r "$per" \
            -m $((per * SECS)) -l 20000 -nostdin -timeout $((SECS + 30))s -recv_timeout 4000 \
            -trace_err -error_file "$TMP/$name-reg-$rate-$n.err" >"$TMP/$name-reg-$rate-$n.out" 2>&1 &
        sp+=($!); PIDS="$PIDS $!"
    done
    wait "${sp[@]}"
    t1=$(date +%s.%N)
    after=$(ticks "$@"); pafter=$(tree_ticks "$PG_PID")
    for n in 1 2 3; do
        ok=$((ok + $(sipp_count "$TMP/$name-reg-$rate-$n.out" Successful)))
        fail=$((fail + $(sipp_count "$TMP/$name-reg-$rate-$n.out" Failed)))
    done
    report "$name" register "$rate" $((per * SECS * 3)) "$ok" "$fail" \
        "$(echo "$t1 - $t0" | bc -l)" $((after - before)) $((pafter - pbefore)) "$(peak_rss "$@")"
}

register_bob() { # NODE_PORT CALLEE_PORT: bob registers from the callee's port (10 s)
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

# call_loads NAME BASE_PORT BOB_NODES PID...: bob registered on BOB_NODES
# (node numbers) and answering, then each call rate through node 2.
call_loads() {
    local name=$1 base=$2 nodes=$3 cport=$(($2 + 2 + 100)) uas rate n before pbefore after \
        pafter t0 t1 ok fail
    shift 3
    for n in $nodes; do
        register_bob $((base + n - 1)) "$cport" || { echo "$name: bob did not register on node $n"; return 1; }
    done
    timeout 3600 sipp -sf bench/scenarios/call_uas.xml -s bob -t u1 -i 127.0.0.1 -p "$cport" \
        -nostdin >"$TMP/$name-uas.out" 2>&1 &
    uas=$!; PIDS="$PIDS $uas"
    sleep 1 # for sipkit, node 2 has bob from the feed long before
    for rate in ${CALL_RATES//,/ }; do
        before=$(ticks "$@"); pbefore=$(tree_ticks "$PG_PID")
        t0=$(date +%s.%N)
        timeout $((SECS + 60)) sipp 127.0.0.1:$((base + 1)) -sf bench/scenarios/call_uac.xml \
            -set domain $DOMAIN -set hold "$HOLD" -s bob -inf "$TMP/callers.csv" \
            -auth_uri bob@$DOMAIN -t u1 -i 127.0.0.1 -p $((base + 1 + 300)) -r "$rate" \
            -m $((rate * SECS)) -l 20000 -nostdin -timeout $((SECS + 50))s -recv_timeout 8000 \
            -trace_err -error_file "$TMP/$name-call-$rate.err" >"$TMP/$name-call-$rate.out" 2>&1
        t1=$(date +%s.%N)
        after=$(ticks "$@"); pafter=$(tree_ticks "$PG_PID")
        ok=$(sipp_count "$TMP/$name-call-$rate.out" Successful)
        fail=$(sipp_count "$TMP/$name-call-$rate.out" Failed)
        report "$name" call "$rate" $((rate * SECS)) "$ok" "$fail" \
            "$(echo "$t1 - $t0" | bc -l)" $((after - before)) $((pafter - pbefore)) \
            "$(peak_rss "$@")"
    done
    kill -TERM "$uas" 2>/dev/null
}

stop_pids() { # PID...: TERM, wait up to 5 s, then KILL
    local p live
    for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 1 25); do
        live=""
        for p in "$@"; do kill -0 "$p" 2>/dev/null && live=yes; done
        [ -n "$live" ] || return 0
        sleep 0.2
    done
    for p in "$@"; do kill -KILL "$p" 2>/dev/null; done
}

visibility() { # LABEL: node 1 REGISTER -> node 2 memory, 40 samples
    python3 bench/visibility.py --port "$SK_PORT" --api-port $((SK_PORT + 11)) \
        --token-file "$TMP/token" --domain $DOMAIN --samples 40 --interval 0.2 |
        sed "s|^visibility|sipkit   visibility ($1)|" | tee -a "$RESULTS"
}

bench_sipkit() {
    local n pids=() r vp
    # bob and the probes through the CLI on the store (as an operator
    # would, before the nodes start), over PostgreSQL's trusted unix socket
    # (the socket directory is PostgreSQL's user's, so the CLI runs as it).
    local url="postgresql://sipkit@/sipkit?host=$PGDIR&port=$PGPORT"
    for u in bob $(seq -f 'probe%g' 0 15); do
        printf 'pw-%s\n' "$u" | as_pg "$SIPKIT" users add "$u" --password-stdin --domain $DOMAIN \
            --store "$url" >/dev/null 2>>"$TMP/users-add.log" ||
            { echo "sipkit users add $u failed"; tail -3 "$TMP/users-add.log"; return 1; }
    done
    (umask 077; head -c 32 /dev/urandom | base64 >"$TMP/token")
    for n in 1 2 3; do
        "$SIPKIT" serve --listen 127.0.0.1:$((SK_PORT + n - 1)) --data-dir "$TMP/sk$n" \
            --domain $DOMAIN --workers "$WORKERS" --trusted 127.0.0.1 --auth-algorithms MD5 \
            --log-level warn --store "$PGURL" --store-password-file "$PGPASSFILE_SK" \
            --admin 127.0.0.1:$((SK_PORT + 9 + n)) --admin-token-file "$TMP/token" \
            2>"$TMP/sipkit$n.log" &
        pids+=($!); PIDS="$PIDS $!"
    done
    # The bulk of the users through node 1's admin API (a CLI process per
    # user takes minutes on a loaded machine); nodes 2 and 3 learn of them
    # from the database's change counter.
    for _ in $(seq 1 50); do
        curl -s -m 1 -o /dev/null "http://127.0.0.1:$((SK_PORT + 10))/metrics" && break
        sleep 0.2
    done
    all_users | grep -v -e '^bob$' -e '^probe' | python3 -c '
import json, sys, urllib.request
url, token = sys.argv[1], open(sys.argv[2]).read().strip()
for name in sys.stdin.read().split():
    body = json.dumps({"username": name, "password": "pw-" + name}).encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
' "http://127.0.0.1:$((SK_PORT + 10))/api/v1/users" "$TMP/token" ||
        { echo "adding users through node 1's admin API failed"; return 1; }
    for n in 1 2 3; do
        wait_register $((SK_PORT + n - 1)) "$TMP/users$n.csv" ||
            { echo "sipkit node $n did not register a user"; tail "$TMP/sipkit$n.log"; return 1; }
    done
    visibility idle
    local last=${REG_RATES##*,}
    for r in ${REG_RATES//,/ }; do
        if [ "$r" = "$last" ]; then
            # The visibility probe under this load, from its third second.
            (sleep 3; visibility "under ${r}/s") &
            vp=$!; PIDS="$PIDS $vp"
            reg_load sipkit "$SK_PORT" "$r" "${pids[@]}"
            wait "$vp"
        else
            reg_load sipkit "$SK_PORT" "$r" "${pids[@]}"
        fi
    done
    call_loads sipkit "$SK_PORT" 3 "${pids[@]}"
    # Why digest checks failed, if any did (a retransmission taken for a
    # replay would show as replayed_nc), from each node's metrics.
    for n in 1 2 3; do
        curl -s -m 5 -H "Authorization: Bearer $(cat "$TMP/token")" \
            "http://127.0.0.1:$((SK_PORT + 9 + n))/metrics" |
            awk -v n="$n" '/^sipkit_auth_(failures|throttled)_total/ && $NF != 0 {
                printf "sipkit node %s: %s %s\n", n, $1, $NF }'
    done
    for n in 1 2 3; do
        r=$(grep -c 'level=error' "$TMP/sipkit$n.log")
        [ "$r" -eq 0 ] || echo "sipkit node $n logged $r errors, e.g. $(grep -m1 'level=error' "$TMP/sipkit$n.log")"
    done
    stop_pids "${pids[@]}"
}

psql_kam() { # SQL (stdin)
    as_pg psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDIR" -p "$PGPORT" -U sipkit -d kamailio
}

# kam_start DB_MODE: three Kamailio nodes; their main PIDs in KPIDS.
kam_start() {
    local n
    KPIDS=()
    for n in 1 2 3; do
        sed -e "s|DB_URL|postgres://sipkit:$PGPASS@127.0.0.1:$PGPORT/kamailio|g" \
            -e "s|USRLOC_DB_MODE|$1|" -e "s|SERVER_ID|$n|" -e "s|DOMAIN|$DOMAIN|g" \
            bench/kamailio/cluster.cfg >"$TMP/kam$n.cfg"
        chmod 600 "$TMP/kam$n.cfg"
        kamailio -f "$TMP/kam$n.cfg" -L "$KAM_MODS" -l udp:127.0.0.1:$((KAM_PORT + n - 1)) \
            -n "$WORKERS" -m 128 -M 16 -DD -E -Y "$TMP" -P "$TMP/kam$n.pid" \
            >"$TMP/kamailio$n-$1.log" 2>&1 &
        KPIDS+=($!); PIDS="$PIDS $!"
    done
    for n in 1 2 3; do
        wait_register $((KAM_PORT + n - 1)) "$TMP/users$n.csv" || {
            echo "kamailio node $n did not register a user"
            tail "$TMP/kamailio$n-$1.log"
            return 1
        }
    done
}

bench_kamailio() {
    local r u ha1 nodes=3
    as_pg "$PGBIN/createdb" -h "$PGDIR" -p "$PGPORT" -U sipkit kamailio ||
        { echo "createdb kamailio failed"; return 1; }
    cat "$KAM_SQL/standard-create.sql" "$KAM_SQL/auth_db-create.sql" \
        "$KAM_SQL/usrloc-create.sql" | psql_kam >/dev/null || { echo "kamailio schema failed"; return 1; }
    {
        echo "BEGIN;"
        for u in $(all_users); do
            ha1=$(printf '%s:%s:pw-%s' "$u" $DOMAIN "$u" | md5sum | cut -d' ' -f1)
            echo "INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ('$u', '$DOMAIN', '', '$ha1', '');"
        done
        echo "COMMIT;"
    } | psql_kam >/dev/null || { echo "kamailio subscribers failed"; return 1; }
    kam_start 1 || return 1
    for r in ${REG_RATES//,/ }; do
        reg_load kamailio "$KAM_PORT" "$r" "${KPIDS[@]}"
    done
    if [ "$KAM_CALL_DB_MODE" != 1 ]; then
        stop_pids "${KPIDS[@]}"
        kam_start "$KAM_CALL_DB_MODE" || return 1
    else
        nodes="1 2 3"
    fi
    call_loads kamailio "$KAM_PORT" "$nodes" "${KPIDS[@]}"
    stop_pids "${KPIDS[@]}"
}

echo "Three nodes on one PostgreSQL 15: REGISTER at ${REG_RATES}/s over the three nodes, calls at ${CALL_RATES}/s through node 2 to bob on node 3, ${SECS}s each, $WORKERS workers/children per node, $USERS users per node, $CALLERS callers, UDP over loopback"
echo "Kamailio: usrloc db_mode 1 (write-through) for REGISTER; db_mode $KAM_CALL_DB_MODE for calls$([ "$KAM_CALL_DB_MODE" = 1 ] && echo ', bob registered on every node' || echo ' (with db_mode 1 node 2 cannot find bob, whom node 3 holds in memory only)')"
[ "$ONLY" = kamailio ] || bench_sipkit
[ "$ONLY" = sipkit ] || bench_kamailio

echo
echo "| server | load | rate asked | ok | failed | reached /s | server CPU s / 10k | PostgreSQL CPU s / 10k | peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|"
awk '/cpu_per_10k/ {
        delete v
        for (i = 3; i <= NF; i++) if (split($i, kv, "=") == 2) v[kv[1]] = kv[2]
        load = $2 == "call" ? "calls via node 2" : "REGISTER on 3 nodes"
        if ($1 == "kamailio") load = load ($2 == "call" ? " (db_mode '"$KAM_CALL_DB_MODE"')" : " (db_mode 1)")
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, load, v["rate"], v["ok"], \
            v["failed"], v["achieved"], v["cpu_per_10k"], v["pg_cpu_per_10k"], v["peak_rss"]
    }' "$RESULTS"
grep visibility "$RESULTS" | sed 's/^sipkit *//'
