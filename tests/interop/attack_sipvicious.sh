#!/bin/sh
# The attack tools of the field against the defaults (docs/security.md):
# sipvicious's svcrack guesses a password from a dictionary (the right one
# is 25th): with the guard off it finds it, which shows the tool works
# here; with the defaults its address is banned after 10 failures and it
# finds nothing. svwar cannot tell existing users from others: every
# REGISTER is challenged alike. sipvicious 0.3.3 answers only the first
# challenge, with MD5 and qop=auth (it crashes on qop="auth,auth-int",
# hence auth_int off by default), so the server offers MD5 here.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need svcrack
need svwar

printf 'secret42\n' | "$SIPKIT" users add alice --password-stdin --data-dir "$TMP/data" \
    --domain example.test >/dev/null 2>&1
{
    for i in $(seq 1 24); do echo "guess$i"; done
    echo secret42
    for i in $(seq 25 30); do echo "guess$i"; done
} >"$TMP/dict"
printf 'alice\nbob\nzed\nadmin\n' >"$TMP/names"
crack() {
    timeout 60 svcrack -u alice -d "$TMP/dict" --domain example.test --maximumtime 3 \
        -p "$PORT" 127.0.0.1 >"$TMP/crack.out" 2>&1
    cat "$TMP/crack.out"
}

start_server --auth-algorithms MD5 --auth-fail-limit 0 --user-delay-after 0
check_match "without the guard, svcrack finds the password" "$(crack)" 'alice +\| secret42'
stop_server

rm -f "$LOG"
start_server --auth-algorithms MD5
out=$(crack)
check_match "with the defaults, svcrack finds nothing" "$out" 'found nothing'
check_match "... its address was banned" "$(cat "$LOG")" 'event=ban src=127\.0\.0\.1'
"$SIPKIT" bans del all --data-dir "$TMP/data" >/dev/null 2>&1
sleep 2.5
out=$(timeout 60 svwar -d "$TMP/names" --domain example.test -m REGISTER --maximumtime 3 \
    -p "$PORT" 127.0.0.1 2>&1)
check_match "svwar cannot enumerate users (all challenged alike)" "$out" 'found nothing'
stop_server
finish
