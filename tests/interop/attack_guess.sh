#!/bin/sh
# Password guessing (docs/security.md): after auth_fail_limit (10) wrong
# passwords from one address within a minute, the address is banned; the
# right password from it is then refused too; another address keeps
# registering throughout; `sipkit bans list` shows the ban and `bans del`
# lifts it in the running server. Repeated failures are logged as
# summaries, and the ban as one line with src= for fail2ban.
# Sources: 127.0.0.1 guesses, 127.0.0.2 and 127.0.0.3 are other clients.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
ATTACK="python3 $(dirname "$0")/lib/sipattack.py"

users() { "$SIPKIT" users "$@" --data-dir "$TMP/data" --domain example.test >/dev/null 2>&1; }
printf 'alice-pw\n' | users add alice --password-stdin
printf 'bob-pw\n' | users add bob --password-stdin

# The per-user slow-down has its own test (attack_user_delay.sh).
start_server --user-delay-after 0 --log-summary-interval 2

# bob registers from 127.0.0.2 again and again while alice is attacked.
(
    while [ ! -e "$TMP/stop" ]; do
        $ATTACK register --src 127.0.0.2 --port "$PORT" --user bob --password bob-pw \
            --timeout 3 >>"$TMP/bob.out"
        sleep 0.2
    done
) &
BOB=$!

g=$($ATTACK guess --port "$PORT" --user alice --count 12 --timeout 1.5 | tr '\n' ' ')
check "10 wrong guesses are answered 401, then nothing (banned)" "$g" \
    "401 401 401 401 401 401 401 401 401 401 timeout timeout "
check_match "the ban is one line with src= (fail2ban)" "$(cat "$LOG")" \
    'level=warn module=guard event=ban src=127\.0\.0\.1 reason=auth_failures ban_s=600 level=1'
r=$($ATTACK register --port "$PORT" --user alice --password alice-pw --timeout 1.5)
check "the right password from the banned address is refused" "$r" timeout
r=$($ATTACK register --src 127.0.0.3 --port "$PORT" --user alice --password alice-pw)
check "the right password from another address is accepted" "$r" 200
out=$("$SIPKIT" bans list --data-dir "$TMP/data")
check_match "sipkit bans list shows the address" "$out" '^127\.0\.0\.1 +until=.* reason=auth_failures'

touch "$TMP/stop"
wait "$BOB"
n=$(grep -c . "$TMP/bob.out")
bad=$(grep -vc '^200$' "$TMP/bob.out")
check "bob registered from 127.0.0.2 throughout (several times)" "$([ "$n" -ge 3 ] && echo yes)" yes
check "... every time with 200" "$bad" 0

# Ten failures, but not ten lines: the first, then a summary.
sleep 2.5
lines=$(grep -c 'event=auth_failed cause=wrong_password user="alice".*peer=127\.0\.0\.1' "$LOG")
check "repeated failures are not logged one line each" "$([ "$lines" -lt 5 ] && echo yes)" yes
check_match "... but summarised" "$(cat "$LOG")" \
    'event=auth_failed_summary src=127\.0\.0\.1 count=[0-9]+ interval_s=2 last_user="alice"'
check_match "drops of the banned address are summarised" "$(cat "$LOG")" \
    'event=dropped_summary src=127\.0\.0\.1 count=[0-9]+ reason=banned'

"$SIPKIT" bans del 127.0.0.1 --data-dir "$TMP/data" 2>/dev/null
check "sipkit bans del lifts the ban" "$?" 0
r=timeout
for _ in $(seq 1 10); do
    r=$($ATTACK register --port "$PORT" --user alice --password alice-pw --timeout 1)
    [ "$r" = 200 ] && break
done
check "the running server notices within seconds" "$r" 200
check_match "... and logs it" "$(cat "$LOG")" 'event=unban src=127\.0\.0\.1 by=store'
"$SIPKIT" bans del 127.0.0.1 --data-dir "$TMP/data" 2>/dev/null
check "a second del says it is not banned (exit 1)" "$?" 1
stop_server
finish
