#!/bin/sh
# The dialog event package (RFC 4235) fed by the proxy: carol watches
# bob's dialogs; bob registers and answers (sipkit answer), alice calls him
# through the proxy (sipkit call, 407 answered by itself); carol's NOTIFYs
# show bob's side of the call going trying, early (180), confirmed (200) and
# terminated by alice's BYE (remote-bye), as a recipient.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"

for u in alice bob carol; do
    printf 'pw-%s\n' "$u" | "$SIPKIT" users add "$u" --password-stdin --data-dir "$TMP/data" \
        --domain example.test >/dev/null 2>&1
done
start_server --dialog-policy domain

SIPKIT_PASSWORD=pw-carol timeout 40 "$SIPKIT" subscribe sip:bob@example.test --event dialog \
    --user sip:carol@example.test --proxy 127.0.0.1:"$PORT" --count 5 >"$TMP/carol.out" 2>&1 &
CAROL=$!
SIPKIT_PASSWORD=pw-bob timeout 40 "$SIPKIT" answer --user sip:bob@example.test --register \
    --proxy 127.0.0.1:"$PORT" >"$TMP/bob.out" 2>&1 &
BOB=$!
for _ in $(seq 1 50); do
    grep -q 'registered' "$TMP/bob.out" 2>/dev/null && break
    sleep 0.1
done
SIPKIT_PASSWORD=pw-alice timeout 20 "$SIPKIT" call sip:bob@example.test \
    --user sip:alice@example.test --proxy 127.0.0.1:"$PORT" --duration 1 >"$TMP/alice.out" 2>&1
check "alice's call through the proxy" "$?" 0
wait "$BOB"; check "bob answered and saw the BYE" "$?" 0
wait "$CAROL"; check "carol got her five NOTIFYs and unsubscribed" "$?" 0

out=$(tr -d '\n' <"$TMP/carol.out")
check_match "first NOTIFY: bob has no dialogs" "$out" \
    'dialog-info[^>]*version="0"[^>]*state="full"[^>]*(/>|></dialog-info>)'
check_match "early on the 180, as recipient" "$out" \
    'direction="recipient"[^<]*>[^<]*<state code="180">early</state>'
check_match "confirmed on the 200" "$out" '<state code="200">confirmed</state>'
check_match "terminated by alice's BYE" "$out" '<state event="remote-bye">terminated</state>'
check_match "the dialog names alice as the remote party" "$out" \
    '<remote> *<identity>sip:alice@example.test</identity>'
stop_server
finish
