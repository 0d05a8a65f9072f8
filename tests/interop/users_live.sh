#!/bin/sh
# A running `sipkit serve` sees what `sipkit users` changes, without a
# restart: a user added after the start registers; after `passwd` the old
# password is refused and the new one accepted; after `del` the user is
# refused. Registration goes through sipkit's own client (strongest digest
# algorithm offered by default), and the server logs why it refused.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"

users() { "$SIPKIT" users "$@" --data-dir "$TMP/data" --domain example.test >/dev/null 2>&1; }
reg() { # password -> exit status of sipkit register
    printf '%s\n' "$1" | timeout 15 "$SIPKIT" register sip:carol@example.test --password-stdin \
        --proxy 127.0.0.1:"$PORT" --timeout 5 >"$TMP/reg.out" 2>&1
    echo $?
}

start_server
printf 'first-pw\n' | users add carol --password-stdin
check "users add while the server runs" "$?" 0
check "the new user registers at once" "$(reg first-pw)" 0
grep -q 'expires in' "$TMP/reg.out"; check "the 200 OK lists the binding" "$?" 0

printf 'second-pw\n' | users passwd carol --password-stdin
check "users passwd while the server runs" "$?" 0
sleep 0.3 # the store looks for other processes' changes at most every 100 ms
check "the old password is refused (exit 5)" "$(reg first-pw)" 5
check "the new password is accepted" "$(reg second-pw)" 0

users del carol
check "users del while the server runs" "$?" 0
sleep 0.3
check "a deleted user is refused (exit 5)" "$(reg second-pw)" 5
check_match "the server logs why: wrong password" "$(cat "$LOG")" 'cause=wrong_password user="carol"'
check_match "the server logs why: unknown user" "$(cat "$LOG")" 'cause=unknown_user user="carol"'
stop_server
finish
