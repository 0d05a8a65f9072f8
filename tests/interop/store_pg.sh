#!/bin/sh
# The store on PostgreSQL (docs/cluster.md): a PostgreSQL started here
# (lib/pg.sh) with password authentication; `sipkit users add --store URL`
# creates the schema (and migrates an older one) and the users (the password from a file, then from
# PGPASSWORD; one in the URL is refused); sipsak registers with digest;
# `sipkit location list --store URL` shows the binding; after kill -9 and
# a restart the binding is still there. With PostgreSQL stopped a REGISTER
# gets 503 with Retry-After (never a 200 without a COMMIT) and the
# connection's state change is logged; once PostgreSQL is back the server
# reconnects by itself and a REGISTER gets 200.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/pg.sh"
need sipsak
need psql

pg_init

# Users: the password file, then PGPASSWORD.
printf 'apw\n' | "$SIPKIT" users add alice --password-stdin --domain localhost \
    --store "$PGURL" --store-password-file "$PGPASSFILE_SK" >/dev/null 2>"$TMP/add.err"
check "users add --store URL --store-password-file" "$?" 0
printf 'bpw\n' | PGPASSWORD=$(cat "$PGPASSFILE_SK") "$SIPKIT" users add bob --password-stdin \
    --domain localhost --store "$PGURL" >/dev/null 2>&1
check "users add --store URL with PGPASSWORD" "$?" 0
out=$(PGPASSWORD=$(cat "$PGPASSFILE_SK") "$SIPKIT" users list --domain localhost --store "$PGURL")
check "users list --store URL" "$(echo $out)" "alice bob"
bad_url="postgresql://sipkit:$(cat "$PGPASSFILE_SK")@127.0.0.1:$PGPORT/sipkit"
err=$(printf 'x\n' | "$SIPKIT" users add carol --password-stdin --domain localhost \
    --store "$bad_url" 2>&1 >/dev/null)
check "a password in the URL is refused" "$?" 6
check_match "and the message says where it should come from" "$err" "PGPASSWORD"
check "the schema is at version 2" "$(psql_sk 'SELECT version FROM schema_version')" 2
# A database of version 1 (before nonce_uses) is migrated on the next open.
psql_sk "DROP TABLE nonce_uses; UPDATE schema_version SET version = 1"
PGPASSWORD=$(cat "$PGPASSFILE_SK") "$SIPKIT" users list --domain localhost --store "$PGURL" \
    >/dev/null
check "a version 1 schema is migrated to 2" \
    "$(psql_sk "SELECT version FROM schema_version; SELECT to_regclass('nonce_uses')")" \
    "$(printf '2\nnonce_uses')"

# sipsak takes the To domain from -s and must resolve it: serve localhost.
start_server --domain localhost --store "$PGURL" --store-password-file "$PGPASSFILE_SK" \
    --drain-timeout 1
check_match "the server uses PostgreSQL" "$(cat "$LOG")" "event=store_opened backend=postgresql"
lp=$(peer_port)
register() { # sipsak REGISTER as alice with digest; prints sipsak's output
    timeout 15 sipsak -U -C "sip:alice@127.0.0.1:$lp" -s "sip:alice@localhost:$PORT" -u alice \
        -a apw -x 300 -vvv 2>&1
}
register >"$TMP/reg1.out"
check "sipsak registers alice (digest)" "$?" 0
list=$(PGPASSWORD=$(cat "$PGPASSFILE_SK") "$SIPKIT" location list --store "$PGURL")
check_match "location list --store URL shows the binding" "$list" "alice@localhost +<sip:alice@127\.0\.0\.1:$lp>"

# kill -9: the acknowledged binding is in PostgreSQL.
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""
start_server --domain localhost --store "$PGURL" --store-password-file "$PGPASSFILE_SK" \
    --drain-timeout 1
check_match "the restarted server loaded the binding" "$(cat "$LOG")" "event=location_loaded bindings=1"
list=$(PGPASSWORD=$(cat "$PGPASSFILE_SK") "$SIPKIT" location list --store "$PGURL")
check_match "the binding survived kill -9" "$list" "alice@localhost +<sip:alice@127\.0\.0\.1:$lp>"
register >"$TMP/reg2.out"
check "alice registers again after the restart" "$?" 0

# PostgreSQL stops: writes get 503 with Retry-After, and it is logged.
pg_stop
register >"$TMP/reg3.out"
check_match "with PostgreSQL down, REGISTER gets 503" "$(tr -d '\r' <"$TMP/reg3.out")" \
    "SIP/2.0 503 Storage Unavailable"
check_match "with Retry-After" "$(tr -d '\r' <"$TMP/reg3.out")" "^Retry-After: [0-9]+"
check_match "the connection going down is logged" "$(cat "$LOG")" \
    "event=db_state backend=postgresql conn=writer state=down"
check "no binding was acknowledged while it was down" \
    "$(grep -c 'event=registered' "$LOG")" 1

# PostgreSQL returns: the server reconnects without a request.
pg_start
up=""
for _ in $(seq 1 100); do
    up=$(grep -c 'conn=writer state=up' "$LOG")
    [ "$up" -ge 2 ] && break
    sleep 0.1
done
check "the writer reconnected by itself within 10 s" "$([ "${up:-0}" -ge 2 ] && echo yes)" yes
register >"$TMP/reg4.out"
check "REGISTER gets 200 again" "$?" 0
check "the binding is in PostgreSQL" \
    "$(psql_sk "SELECT count(*) FROM location WHERE aor = 'alice@localhost'")" 1
stop_server
finish
