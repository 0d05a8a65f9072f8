#!/bin/sh
# Challenges cost no state and are never resent (docs/security.md): a 407 to an
# INVITE that is never acknowledged goes out once (a transaction would
# resend it 11 times over 32 s), also when the Via names another address
# with maddr (a reflection at no cost to the attacker); its ACK is
# absorbed without a transaction.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3
ATTACK="python3 $(dirname "$0")/lib/sipattack.py"

start_server --log-level debug
r=$($ATTACK noack --port "$PORT" --wait 5)
check "an unacknowledged 407 is sent once (5 s watched)" "$r" "first=407 extra=0"
r=$($ATTACK noack --port "$PORT" --wait 4 --victim "$(peer_port)")
check_match "a Via with maddr= gets at most that one 407 there" "$r" 'extra=0$'
r=$($ATTACK noack --port "$PORT" --wait 1 --ack)
check "the ACK of a 407 draws nothing" "$r" "first=407 extra=0"
check_match "... and is absorbed without a transaction" "$(cat "$LOG")" \
    'event=ack_absorbed stateless=true'
stop_server
check_match "no transaction was left behind" "$(cat "$LOG")" \
    'event=draining timeout_s=[0-9]+ transactions=0'
finish
