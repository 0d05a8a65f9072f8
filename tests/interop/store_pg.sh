#!/bin/sh
# The store on PostgreSQL (docs/cluster.md): a PostgreSQL started here
# (lib/pg.sh) with password authentication; `sipkit users add --store URL`
# creates the schema (and migrates an older one) and the users (the password from a file, then from
# PGPASSWORD; one in the URL is refused); sipsak registers with digest;
# `sipkit location list --store URL` shows the binding; after kill -9 and
# a restart the binding is still there; `sipkit status --store URL` counts
# users and bindings, `sipkit bans list|del --store URL` lists and lifts a
# ban. With PostgreSQL stopped every request that needs the store gets 503
# with Retry-After (never a 200 without a COMMIT): a REGISTER, a REGISTER
# or an INVITE from a user this server never looked up, a PUBLISH, a
# SUBSCRIBE, an unsubscribe; a call from a cached user to a bound one still goes through
# (reads come from memory). Each connection's state changes (down,
# reconnecting, up) are logged; once PostgreSQL is back the server
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
# dave is never looked up before PostgreSQL stops: not in the server's cache.
printf 'dpw\n' | PGPASSWORD=$(cat "$PGPASSFILE_SK") "$SIPKIT" users add dave --password-stdin \
    --domain localhost --store "$PGURL" >/dev/null 2>&1
check "users add dave" "$?" 0
out=$(PGPASSWORD=$(cat "$PGPASSFILE_SK") "$SIPKIT" users list --domain localhost --store "$PGURL")
check "users list --store URL" "$(echo $out)" "alice bob dave"
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

# A second binding, then its removal: the binding set goes in one
# statement (arrays of the new set, pg_ops.c) that keeps, adds and
# deletes rows; texts with spaces survive the array syntax.
register_second() { # $1: expires
    timeout 15 sipsak -U -C "sip:alice@127.0.0.1:$((lp + 1))" \
        -s "sip:alice@localhost:$PORT" -u alice -a apw -x "$1" -vvv 2>&1
}
register_second 300 >"$TMP/reg2b.out"
check "alice registers a second contact" "$?" 0
check "PostgreSQL holds both bindings" \
    "$(psql_sk "SELECT count(*) FROM location WHERE aor = 'alice@localhost'")" 2
check "the contacts' texts are intact" \
    "$(psql_sk "SELECT string_agg(contact, ' ' ORDER BY contact) FROM location")" \
    "sip:alice@127.0.0.1:$lp sip:alice@127.0.0.1:$((lp + 1))"
check_match "the user agent's text is intact (spaces)" \
    "$(psql_sk "SELECT DISTINCT user_agent FROM location")" "^sipsak [0-9]"
register_second 0 >"$TMP/reg2c.out"
check "removing the second contact leaves the first" \
    "$(psql_sk "SELECT contact FROM location WHERE aor = 'alice@localhost'")" \
    "sip:alice@127.0.0.1:$lp"

# The other commands that read or change the store take the same --store.
out=$(PGPASSWORD=$(cat "$PGPASSFILE_SK") "$SIPKIT" status --store "$PGURL" 2>&1)
check_match "status --store URL counts the users" "$out" "^users: 3$"
check_match "status --store URL counts the bindings" "$out" "^bindings: 1$"
check_match "status --store URL names the store" "$out" "^store postgresql://sipkit@"
psql_sk "INSERT INTO bans (addr, until, level, reason, created) VALUES
    ('198.51.100.9', extract(epoch FROM now())::bigint + 600, 1, 'auth_failures',
     extract(epoch FROM now())::bigint)"
out=$("$SIPKIT" bans list --store "$PGURL" --store-password-file "$PGPASSFILE_SK" 2>&1)
check_match "bans list --store URL shows the stored ban" "$out" \
    "^198\.51\.100\.9 +until=.* reason=auth_failures"
PGPASSWORD=$(cat "$PGPASSFILE_SK") "$SIPKIT" bans del 198.51.100.9 --store "$PGURL" 2>/dev/null
check "bans del --store URL lifts it" "$?" 0
check "the ban is gone from PostgreSQL" "$(psql_sk 'SELECT count(*) FROM bans')" 0

# bob registers (so he is cached and bound) and waits for a call.
echo bpw | "$SIPKIT" answer --user bob@localhost --password-stdin --register \
    --proxy "127.0.0.1:$PORT" --ring 0 --timeout 20 >"$TMP/bob.out" 2>&1 &
BOB_PID=$!
check_line "bob registered" "$TMP/bob.out" '^registered sip:bob@localhost'
# alice watches bob's presence, until Ctrl-C (her unsubscribe, below).
echo apw | "$SIPKIT" subscribe sip:bob@localhost --event presence --user alice@localhost \
    --password-stdin --proxy "127.0.0.1:$PORT" --count 100 >"$TMP/watch.out" 2>&1 &
WATCH_PID=$!
check_line "alice subscribed to bob's presence" "$TMP/watch.out" '^subscribed: 200'

# PostgreSQL stops: what needs the store gets 503 with Retry-After, what
# memory can answer is answered, and the state changes are logged.
pg_stop
down_at=$(wc -l <"$LOG")
register >"$TMP/reg3.out"
check_match "with PostgreSQL down, REGISTER gets 503" "$(tr -d '\r' <"$TMP/reg3.out")" \
    "SIP/2.0 503 Storage Unavailable"
check_match "with Retry-After" "$(tr -d '\r' <"$TMP/reg3.out")" "^Retry-After: [0-9]+"
check_match "the connection going down is logged" "$(cat "$LOG")" \
    "event=db_state backend=postgresql conn=writer state=down"
out=$(timeout 15 sipsak -U -C "sip:dave@127.0.0.1:$lp" -s "sip:dave@localhost:$PORT" -u dave \
    -a dpw -x 300 -vvv 2>&1 | tr -d '\r')
check_match "a user the server never looked up: REGISTER gets 503, not 500" "$out" \
    "SIP/2.0 503 Storage Unavailable"
check_match "with Retry-After too" "$out" "^Retry-After: [0-9]+"
check_match "the log names the cause" "$(cat "$LOG")" \
    'event=auth_failed cause=store_unavailable user="dave".* outcome=unavailable'
out=$(echo dpw | timeout 15 "$SIPKIT" call sip:bob@localhost --user dave@localhost \
    --password-stdin --proxy "127.0.0.1:$PORT" --duration 1 2>&1)
check_match "dave's INVITE gets 503 too" "$out" "answered 503"
out=$(echo apw | timeout 15 "$SIPKIT" publish sip:alice@localhost --status open \
    --user alice@localhost --password-stdin --proxy "127.0.0.1:$PORT" --expires 600 2>&1)
check_match "alice's PUBLISH gets 503" "$out" "answered 503"
out=$(echo apw | timeout 15 "$SIPKIT" subscribe sip:bob@localhost --event presence \
    --user alice@localhost --password-stdin --proxy "127.0.0.1:$PORT" --count 1 --timeout 5 2>&1)
check_match "alice's SUBSCRIBE gets 503" "$out" "answered 503"
out=$(echo apw | timeout 15 "$SIPKIT" call sip:bob@localhost --user alice@localhost \
    --password-stdin --proxy "127.0.0.1:$PORT" --duration 1 2>&1)
check_match "alice (cached) still calls bob (bound in memory)" "$out" '^answered: 200 OK$'
wait "$BOB_PID"
kill -INT "$WATCH_PID"
wait "$WATCH_PID"
check_match "alice's unsubscribe (Expires: 0) gets 503: its removal is not stored" \
    "$(cat "$TMP/watch.out")" "answered 503"
check "no binding was acknowledged while it was down" \
    "$(tail -n +"$((down_at + 1))" "$LOG" | grep -c 'event=registered')" 0
check "nothing else was answered 200 while it was down" \
    "$(tail -n +"$((down_at + 1))" "$LOG" | grep -c 'event=subscribed\|event=published\|event=subscription_ended')" 0

# PostgreSQL returns: the server reconnects without a request.
pg_start
pg_wait_back "$LOG"
check "the writer and the feed reconnected by themselves within 15 s" "$?" 0
register >"$TMP/reg4.out"
check "REGISTER gets 200 again" "$?" 0
check "the binding is in PostgreSQL" \
    "$(psql_sk "SELECT count(*) FROM location WHERE aor = 'alice@localhost'")" 1
timeout 15 sipsak -U -C "sip:dave@127.0.0.1:$lp" -s "sip:dave@localhost:$PORT" -u dave \
    -a dpw -x 300 >/dev/null 2>&1
check "dave registers once PostgreSQL is back" "$?" 0
# Every connection logged each of its state changes, in order.
pg_check_states "the server's" "$LOG"
stop_server
finish
