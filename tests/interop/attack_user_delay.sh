#!/bin/sh
# Guessing one user's password from many addresses (docs/security.md): bans are
# per address, so the user name itself slows down. After user_delay_after
# failures, a failure is answered after a delay that doubles each time (on
# the timer thread: other requests are served meanwhile), and the
# credentials are checked at most once per delay, so guesses sent in
# parallel from other addresses are answered as failures unchecked.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
ATTACK="python3 $(dirname "$0")/lib/sipattack.py"

users() { "$SIPKIT" users "$@" --data-dir "$TMP/data" --domain example.test >/dev/null 2>&1; }
printf 'carol-pw\n' | users add carol --password-stdin
printf 'bob-pw\n' | users add bob --password-stdin
start_server --user-delay-after 3 --user-delay-max 1000 --auth-fail-limit 1000 \
    --log-summary-interval 1

t=$($ATTACK guess --src 127.0.0.3 --port "$PORT" --user carol --count 6 --timeout 3 --times)
echo "$t" | sed 's/^/    /'
fast=$(echo "$t" | head -3 | awk '$2 < 0.2' | wc -l)
slow=$(echo "$t" | tail -2 | awk '$1 == "401" && $2 >= 0.45' | wc -l)
check "the first 3 failures are answered at once" "$fast" 3
check "later ones wait (0.5 s, then 1 s: doubling, capped)" "$slow" 2
# Meanwhile, bob is answered at once: the delay blocks no worker.
r=$($ATTACK register --src 127.0.0.2 --port "$PORT" --user bob --password bob-pw --times)
check "another user registers meanwhile" "${r% *}" 200
check "... without waiting" "$(echo "$r" | awk '$2 < 0.2 { print "yes" }')" yes

# Guesses from two more addresses in parallel: one check per delay, the
# others answered unchecked.
$ATTACK guess --src 127.0.0.4 --port "$PORT" --user carol --count 4 --timeout 3 >"$TMP/g4" &
G4=$!
$ATTACK guess --src 127.0.0.5 --port "$PORT" --user carol --count 4 --timeout 3 >"$TMP/g5"
wait "$G4"
sleep 1.5
check_match "parallel guesses are answered unchecked" "$(cat "$LOG")" \
    'outcome=throttled|last_cause=user_throttled'
# Once the delay has passed, the right password is checked and accepted,
# and the user's slate is wiped.
sleep 1
r=$($ATTACK register --src 127.0.0.6 --port "$PORT" --user carol --password carol-pw)
check "the right password after the delay is accepted" "$r" 200
t=$($ATTACK guess --src 127.0.0.6 --port "$PORT" --user carol --count 1 --timeout 3 --times)
check "... and resets the slow-down" "$(echo "$t" | awk '$2 < 0.2' | wc -l)" 1
stop_server
finish
