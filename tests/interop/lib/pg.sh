# A throwaway PostgreSQL for the store tests (sourced after common.sh):
# Debian's server binaries run from a directory under $TMP as an
# unprivileged user (nobody when we are root: PostgreSQL refuses to run as
# root), listening on a unix socket in that directory and on 127.0.0.1:PGPORT
# with password (SCRAM) authentication over TCP; local socket connections
# are trusted, for the test's own psql.
#
# pg_init sets PGPORT, PGURL (postgresql://sipkit@127.0.0.1:PGPORT/sipkit)
# and PGPASSFILE_SK (a file holding the password, for --store-password-file);
# pg_start / pg_stop start and stop the server; psql_sk runs SQL;
# pg_wait_back and pg_check_states follow sipkit's connections through an
# outage.
# Without the binaries the test FAILs under CI=true and skips (77) otherwise.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGDIR=$TMP/pg

if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ] || ! command -v psql >/dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then
        echo "FAIL: PostgreSQL 15 server binaries not in $PGBIN (scripts/deps: postgresql)"
        exit 1
    fi
    echo "skipped: PostgreSQL 15 server binaries not in $PGBIN (scripts/deps: postgresql)"
    exit 77
fi

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

pg_stop() {
    [ -f "$PGDIR/db/postmaster.pid" ] || return 0
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR/db" -m fast -w -t 20 stop >/dev/null 2>&1
}

pg_start() {
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR/db" -l "$PGDIR/log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR" start >/dev/null ||
        { echo "FAIL: PostgreSQL did not start"; cat "$PGDIR/log"; exit 1; }
}

psql_sk() { # SQL
    as_pg psql -X -q -At -h "$PGDIR" -p "$PGPORT" -U sipkit -d sipkit -c "$1"
}

pg_init() {
    local pw
    chmod 711 "$TMP"
    mkdir -p "$PGDIR"
    [ "$(id -u)" -eq 0 ] && chown nobody "$PGDIR"
    pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$pw" | as_pg tee "$PGDIR/pwfile" >/dev/null
    as_pg "$PGBIN/initdb" -D "$PGDIR/db" -U sipkit -E UTF8 --locale=C --auth-local=trust \
        --auth-host=scram-sha-256 --pwfile="$PGDIR/pwfile" >"$TMP/initdb.log" 2>&1 ||
        { echo "FAIL: initdb"; cat "$TMP/initdb.log"; exit 1; }
    PGPORT=$(peer_port)
    pg_start
    as_pg "$PGBIN/createdb" -h "$PGDIR" -p "$PGPORT" -U sipkit sipkit ||
        { echo "FAIL: createdb"; exit 1; }
    PGURL="postgresql://sipkit@127.0.0.1:$PGPORT/sipkit"
    PGPASSFILE_SK=$TMP/pgpass
    (umask 077; printf '%s\n' "$pw" >"$PGPASSFILE_SK")
}

# pg_wait_back LOG: wait up to 15 s for the writer's and the feed's
# connections of the server logging to LOG to be up again after an outage
# (each logged state=up twice).
pg_wait_back() {
    for _ in $(seq 1 150); do
        [ "$(grep -c 'conn=writer state=up' "$1")" -ge 2 ] &&
            [ "$(grep -c 'conn=feed state=up' "$1")" -ge 2 ] && return 0
        sleep 0.1
    done
    return 1
}

# pg_check_states NAME LOG: each connection (writer, main, feed) of the
# server logging to LOG logged its state changes through one outage, in
# order: up, down, reconnecting, up (event=db_state).
pg_check_states() {
    local conn
    for conn in writer main feed; do
        check "$1 conn=$conn: down, reconnecting, up" \
            "$(sed -n "s/.*event=db_state backend=postgresql conn=$conn state=\([a-z]*\).*/\1/p" \
                "$2" | tr '\n' ' ')" "up down reconnecting up "
    done
}

# Stop PostgreSQL before common.sh removes $TMP.
pg_cleanup() {
    pg_stop
    cleanup
}
trap pg_cleanup EXIT
