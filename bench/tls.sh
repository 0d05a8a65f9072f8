#!/bin/sh
# SIP over TLS: sipkit's TLS listener beside Kamailio's tls module, on the
# same certificate (EC P-256, made here) and the same machine.
#   1. Full TLS handshakes per second (no resumption: each connection
#      negotiates from scratch, as a fleet of phones re-connecting after an
#      outage would), and the server's CPU seconds per 1,000 of them.
#   2. Authenticated REGISTER over TLS (REGISTER, 401, REGISTER with MD5
#      digest, 200), THREADS persistent connections: registrations per
#      second and the server's CPU seconds per 10,000 (utime+stime from
#      /proc, all threads and children), as bench/register.sh does over UDP.
# The load generator is bench_tls_load (bench/tls_load.c): Debian's SIPp
# has no TLS.
#
#   bench/tls.sh [SECONDS] [REGISTRATIONS] [THREADS]   defaults: 10 s, 20000, 8
#   SIPKIT=build/sipkit LOAD=build/bench/bench_tls_load WORKERS=2 bench/tls.sh
#   ONLY=sipkit|kamailio, SK_PORT / KAM_PORT (default 15261 / 15271), KEEP=1
#
# Installs kamailio, kamailio-sqlite-modules and kamailio-tls-modules when
# missing. Loopback only; every process started here is killed by PID.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/.."
SECS=${1:-10}
NREG=${2:-20000}
THREADS=${3:-8}
USERS=1000
WORKERS=${WORKERS:-2}
SIPKIT=${SIPKIT:-build/sipkit}
LOAD=${LOAD:-build/bench/bench_tls_load}
ONLY=${ONLY:-}
DOMAIN=bench.test
SK_PORT=${SK_PORT:-15261}
KAM_PORT=${KAM_PORT:-15271}
TMP=$(mktemp -d /tmp/sk-bench-tls.XXXXXX)
. bench/lib.sh

[ -x "$SIPKIT" ] && [ -x "$LOAD" ] || { echo "build first: scripts/build (Release)" >&2; exit 1; }
if [ -z "$(find /usr/lib -name tls.so -path '*kamailio*' 2>/dev/null)" ] ||
    [ -z "$(find /usr/lib -name db_sqlite.so -path '*kamailio*' 2>/dev/null)" ]; then
    echo "bench: installing kamailio with its sqlite and tls modules" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update >/dev/null &&
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
            kamailio kamailio-sqlite-modules kamailio-tls-modules sqlite3 >/dev/null
fi
KAM_MODS=$(dirname "$(find /usr/lib -name sl.so -path '*kamailio*' 2>/dev/null | head -n 1)")
KAM_SQL=/usr/share/kamailio/db_sqlite

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=127.0.0.1" -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null || exit 1

# wait_tls PORT: until a TLS handshake succeeds there (10 s).
wait_tls() {
    for _ in $(seq 1 50); do
        echo | timeout 2 openssl s_client -connect "127.0.0.1:$1" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# run_load NAME PORT PID
run_load() {
    local name=$1 port=$2 pid=$3 hz before after out cpu ok
    hz=$(getconf CLK_TCK)
    before=$(tree_ticks "$pid")
    out=$("$LOAD" handshakes 127.0.0.1 "$port" "$SECS" 2)
    after=$(tree_ticks "$pid")
    ok=$(echo "$out" | sed -n 's/.*ok=\([0-9]*\).*/\1/p')
    cpu=$(echo "($after - $before) / $hz" | bc -l)
    printf '%-10s handshakes: %s  server_cpu=%.2fs cpu_per_1k=%.3fs\n' "$name" "$out" "$cpu" \
        "$(echo "if (${ok:-0} > 0) $cpu * 1000 / $ok else 0" | bc -l)"
    before=$(tree_ticks "$pid")
    out=$("$LOAD" register 127.0.0.1 "$port" "$NREG" "$THREADS" "$USERS" "$DOMAIN")
    after=$(tree_ticks "$pid")
    ok=$(echo "$out" | sed -n 's/.*ok=\([0-9]*\).*/\1/p')
    cpu=$(echo "($after - $before) / $hz" | bc -l)
    printf '%-10s REGISTER:   %s  server_cpu=%.2fs cpu_per_10k=%.3fs\n' "$name" "$out" "$cpu" \
        "$(echo "if (${ok:-0} > 0) $cpu * 10000 / $ok else 0" | bc -l)"
}

bench_sipkit() {
    mkdir -p "$TMP/sk"
    for i in $(seq 0 $((USERS - 1))); do
        printf 'pw-user%04d\n' "$i" | "$SIPKIT" users add "$(printf 'user%04d' "$i")" \
            --password-stdin --data-dir "$TMP/sk" --domain $DOMAIN >/dev/null 2>&1 || exit 1
    done
    "$SIPKIT" serve --listen 127.0.0.1:$((SK_PORT - 1)) --listen-tls 127.0.0.1:$SK_PORT \
        --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --data-dir "$TMP/sk" \
        --domain $DOMAIN --workers "$WORKERS" --trusted 127.0.0.1 --log-level warn \
        --auth-algorithms MD5 2>"$TMP/sipkit.log" &
    local pid=$!; PIDS="$PIDS $pid"
    wait_tls $SK_PORT || { echo "sipkit did not answer TLS"; tail "$TMP/sipkit.log"; return 1; }
    run_load sipkit $SK_PORT $pid
    kill -TERM $pid
}

bench_kamailio() {
    local db="$TMP/kam.db"
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
    # The registrar of bench/register.sh (bindings in memory), over TLS.
    printf '[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\nprivate_key = %s\ncertificate = %s\n[client:default]\nverify_certificate = no\nrequire_certificate = no\n' \
        "$TMP/key.pem" "$TMP/cert.pem" >"$TMP/kam-tls.cfg"
    sed -e "s|DB_PATH|$db|g" -e "s|USRLOC_DB_MODE|0|" \
        -e "s|^disable_tcp=yes|enable_tls=yes\ntcp_children=$WORKERS\nloadmodule \"tls.so\"\nmodparam(\"tls\", \"config\", \"$TMP/kam-tls.cfg\")|" \
        bench/kamailio/registrar.cfg >"$TMP/kam.cfg"
    kamailio -f "$TMP/kam.cfg" -L "$KAM_MODS" -l tls:127.0.0.1:$KAM_PORT -n "$WORKERS" \
        -m 128 -M 16 -DD -E -Y "$TMP" -P "$TMP/kam.pid" >"$TMP/kamailio.log" 2>&1 &
    local pid=$!; PIDS="$PIDS $pid"
    wait_tls $KAM_PORT || { echo "kamailio did not answer TLS"; tail "$TMP/kamailio.log"; return 1; }
    run_load kamailio $KAM_PORT $pid
    kill -TERM $pid
}

echo "SIP over TLS, loopback, $WORKERS workers/children, EC P-256 certificate: handshakes for ${SECS}s from 2 threads; $NREG authenticated REGISTERs over $THREADS connections, $USERS users"
[ "$ONLY" = kamailio ] || bench_sipkit
[ "$ONLY" = sipkit ] || bench_kamailio
