#!/bin/sh
# A subscription is a promise kept across a crash: alice subscribes to
# bob's presence (200 and the first NOTIFY), the server is killed with
# SIGKILL and started again on the same port and data directory; bob's
# PUBLISH then reaches alice as a NOTIFY in the same dialog with a higher
# CSeq (the stored reservation, above anything sent), her unsubscribe finds the subscription and gets the terminated
# NOTIFY. A second subscription with a 2 s expiry (minimum lowered to 1)
# ends by itself with terminated;reason=timeout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
SCEN=$(dirname "$0")/scenarios

mkdir -p "$TMP/data"
for u in alice bob; do
    printf '%spw' "$u" | "$SIPKIT" users add "$u" --password-stdin --data-dir "$TMP/data" \
        --domain example.test >/dev/null || { echo "FAIL: users add $u"; exit 1; }
done
start_server --sub-min-expires 1
authf() { printf '[authentication username=%s password=%spw]' "$1" "$1"; }
printf 'SEQUENTIAL\nalice;%s;bob;presence;application/pidf+xml\n' "$(authf alice)" >"$TMP/watch.csv"
printf 'SEQUENTIAL\nbob;%s\n' "$(authf bob)" >"$TMP/pub.csv"

timeout 60 sipp 127.0.0.1:"$PORT" -sf "$SCEN/events_watch.xml" -inf "$TMP/watch.csv" -t u1 \
    -auth_uri bob@example.test -i 127.0.0.1 -p "$(peer_port)" -m 1 -timeout 55s -nostdin \
    -trace_msg -message_file "$TMP/watch.msg" -trace_logs -log_file "$TMP/watch.log" \
    >"$TMP/watch.out" 2>&1 &
WATCHER=$!
for _ in $(seq 1 100); do
    grep -q notify1 "$TMP/watch.log" 2>/dev/null && break
    sleep 0.1
done
check_match "first NOTIFY before the crash" "$(cat "$TMP/watch.log" 2>/dev/null)" 'notify1 cseq=1'

kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
"$SIPKIT" serve --listen 127.0.0.1:"$PORT" --data-dir "$TMP/data" --domain example.test \
    --workers 2 --sub-min-expires 1 >"$TMP/trace2.out" 2>"$TMP/server2.log" &
SERVER_PID=$!
LOG=$TMP/server2.log
for _ in $(seq 1 100); do
    grep -q 'event=started' "$LOG" 2>/dev/null && break
    sleep 0.1
done
check_match "restart loads the subscription" "$(cat "$LOG")" 'event=loaded subscriptions=1'

timeout 30 sipp 127.0.0.1:"$PORT" -sf "$SCEN/events_publish.xml" -inf "$TMP/pub.csv" -t u1 \
    -auth_uri bob@example.test -i 127.0.0.1 -p "$(peer_port)" -m 1 -timeout 25s -nostdin \
    >"$TMP/pub.out" 2>&1
check "PUBLISH after the restart" "$?" 0
wait "$WATCHER"
check "watcher scenario across the crash" "$?" 0
# The store keeps CSeq and version as a reservation 64 ahead of what was
# sent (no write per NOTIFY): after the crash the dialog resumes above it.
check_match "NOTIFY after the restart, CSeq above the reservation" "$(cat "$TMP/watch.log")" \
    'notify2 cseq=65 '
check_match "unsubscribe after the restart, next CSeq" "$(cat "$TMP/watch.log")" \
    'notify3 cseq=66 state=terminated;reason=timeout'
check_match "the published state reached the watcher" "$(tr -d '\r' <"$TMP/watch.msg")" \
    'In the &lt;office&gt;'

# Expiry: a 2 s subscription ends with a terminated NOTIFY (timeout).
printf 'SEQUENTIAL\nalice;%s;bob;presence;application/pidf+xml\n' "$(authf alice)" >"$TMP/exp.csv"
sed -e 's/Expires: 120/Expires: 2/' -e 's/\^ \*120\$/^ *2$/' \
    -e 's/active;expires=1\[12\]\[0-9\]/active;expires=[12]/' "$SCEN/events_watch.xml" |
    awk '/<send retrans="500">/ && ++n == 3 {skip = 1} !skip {print} skip && /<\/scenario>/ {print}' \
    >"$TMP/expire.xml"
# the copy waits for the second NOTIFY and expects it terminated
sed -i -e 's/<recv request="NOTIFY" timeout="15000">/<recv request="NOTIFY" timeout="8000">/' \
    -e 's/<log message="notify2 cseq=\[\$n2\] \[\$c2\]"\/>/<ereg regexp="terminated;reason=timeout" search_in="hdr" header="Subscription-State:" check_it="true" assign_to="t2"\/><log message="expired cseq=[$n2] [$c2] [$t2]"\/>/' \
    "$TMP/expire.xml"
timeout 30 sipp 127.0.0.1:"$PORT" -sf "$TMP/expire.xml" -inf "$TMP/exp.csv" -t u1 \
    -auth_uri bob@example.test -i 127.0.0.1 -p "$(peer_port)" -m 1 -timeout 20s -nostdin \
    -trace_logs -log_file "$TMP/expire.log" >"$TMP/expire.out" 2>&1
check "2 s subscription scenario" "$?" 0
check_match "expiry ends with terminated;reason=timeout" "$(cat "$TMP/expire.log" 2>/dev/null)" \
    'expired cseq=2 .*terminated;reason=timeout'

stop_server
finish
