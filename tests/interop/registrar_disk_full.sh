#!/bin/sh
# A COMMIT that fails must not be acknowledged, and must not lose what was
# acknowledged before: the data directory is a tiny tmpfs, alice registers
# (200), the filesystem is filled, her next REGISTER (a new Contact) gets
# 500 with a reason naming the cause ("Storage Full"), the server keeps
# running and still lists her first binding only, in memory and on disk;
# once space is freed she registers again. The client is an independent
# digest implementation (lib/digest_uac.py). Needs root (mount).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
UAC="$(dirname "$0")/lib/digest_uac.py"

mkdir -p "$TMP/data"
if ! mount -t tmpfs -o size=4m,mode=0700 sk-disk-full "$TMP/data" 2>"$TMP/mount.err"; then
    echo "FAIL: cannot mount a tmpfs (root needed): $(cat "$TMP/mount.err")"
    exit 1
fi
unmount() { umount -l "$TMP/data" 2>/dev/null; }
trap 'stop_quietly; unmount; cleanup' EXIT
stop_quietly() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}
printf 'secret\n' | "$SIPKIT" users add alice --password-stdin --data-dir "$TMP/data" \
    --domain example.test >/dev/null || exit 1
start_server

register() {
    timeout 15 python3 "$UAC" --port "$PORT" --domain example.test --user alice \
        --password secret --expires 3600
}
first=$(register)
check_match "first REGISTER: 200" "$first" '^status=200$'
c1=$(printf '%s\n' "$first" | sed -n 's/^contact=//p')
c2=""

# Fill the filesystem: the next COMMIT cannot grow the WAL.
dd if=/dev/zero of="$TMP/data/fill" bs=64k 2>/dev/null
second=$(register)
c2=$(printf '%s\n' "$second" | sed -n 's/^contact=//p')
check_match "REGISTER on a full disk: 500" "$second" '^status=500$'
check_match "... naming the cause" "$second" '^reason=Storage Full$'
check_match "... logged" "$(cat "$LOG")" 'event=commit_failed .*error="[^"]*(space|full)'
check "the server is still running" "$(kill -0 "$SERVER_PID" 2>/dev/null && echo yes)" yes

# Still only the first binding on disk.
query=$("$SIPKIT" location list alice@example.test --data-dir "$TMP/data" 2>&1)
check "on disk: one binding" "$(printf '%s\n' "$query" | grep -c '^alice@example\.test ')" 1
check_match "... the first one" "$query" "<${c1}>"
rm -f "$TMP/data/fill"
third=$(register)
check_match "space freed: REGISTER works again" "$third" '^status=200$'
# The third COMMIT wrote memory's bindings: the first is there (memory
# kept it), the refused one is not (memory undid it).
after=$("$SIPKIT" location list alice@example.test --data-dir "$TMP/data")
check_match "memory kept the first binding" "$after" "<${c1}>"
check "memory dropped the refused one" "$(printf '%s\n' "$after" | grep -c "<${c2}>")" 0
stop_server
finish
