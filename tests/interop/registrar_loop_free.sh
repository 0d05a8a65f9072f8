#!/bin/sh
# The event loops never wait on the disk: while another connection holds
# SQLite's write lock on the server's database for 3 s, a client sends an
# authenticated REGISTER and then, from the same socket (so the same
# worker's loop), an OPTIONS. The OPTIONS is answered at once; the
# REGISTER's 200 OK comes only after the lock is released and its COMMIT
# ended, never before (lib/loop_probe.py, an independent client).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"

mkdir -p "$TMP/data"
printf 'secret\n' | "$SIPKIT" users add alice --password-stdin --data-dir "$TMP/data" \
    --domain example.test >/dev/null || exit 1
start_server
out=$(timeout 30 python3 "$(dirname "$0")/lib/loop_probe.py" --port "$PORT" \
    --domain example.test --user alice --password secret --db "$TMP/data/sipkit.db" --hold 3)
printf '%s\n' "$out" | sed 's/^/    /'
opt=$(printf '%s\n' "$out" | sed -n 's/^options_ms=//p')
reg=$(printf '%s\n' "$out" | sed -n 's/^register_ms=//p')
check "OPTIONS answered while the REGISTER waits for the database (< 1.5 s)" \
    "$([ -n "$opt" ] && [ "$opt" -lt 1500 ] && echo yes)" yes
check_match "the REGISTER succeeds once the lock is gone" "$out" '^register_status=200$'
check "... and not before its COMMIT (>= 2.5 s)" \
    "$([ -n "$reg" ] && [ "$reg" -ge 2500 ] && echo yes)" yes
stop_server
finish
