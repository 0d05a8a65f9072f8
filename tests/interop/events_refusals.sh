#!/bin/sh
# SUBSCRIBE refusals that come after authentication, and the fetch, against
# SIPp as the watcher (RFC 6665): 404 for a resource that is no user of
# ours, 403 for someone else's reg (RFC 3680 §6: one's own AOR only), 406
# with Accept when the watcher takes no body type of the package (§4.1.2),
# 423 with Min-Expires below the minimum (§4.2.1.1); a new SUBSCRIBE with
# Expires: 0 is a fetch (§4.4.3): 200 with Expires: 0, one NOTIFY with
# Subscription-State terminated, and nothing kept. Then with watch_policy
# "self": watching another user's presence is 403, one's own is allowed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
SCEN=$(dirname "$0")/scenarios

mkdir -p "$TMP/data"
for u in alice bob; do
    printf '%spw' "$u" | "$SIPKIT" users add "$u" --password-stdin --data-dir "$TMP/data" \
        --domain example.test >/dev/null || { echo "FAIL: users add $u"; exit 1; }
done
authf() { printf '[authentication username=%s password=%spw]' "$1" "$1"; }

# refuse NAME STATUS WATCHER TARGET EVENT ACCEPT EXPIRES: SIPp expects the
# 401, authenticates, expects STATUS; prints its log line.
refuse() {
    sed "s/STATUS/$2/g" "$SCEN/events_refuse.xml" >"$TMP/refuse-$1.xml"
    printf 'SEQUENTIAL\n%s;%s;%s;%s;%s;%s\n' "$3" "$(authf "$3")" "$4" "$5" "$6" "$7" \
        >"$TMP/refuse-$1.csv"
    timeout 20 sipp 127.0.0.1:"$PORT" -sf "$TMP/refuse-$1.xml" -inf "$TMP/refuse-$1.csv" -t u1 \
        -auth_uri "$4@example.test" -i 127.0.0.1 -p "$(peer_port)" -m 1 -timeout 15s -nostdin \
        -trace_logs -log_file "$TMP/refuse-$1.log" >"$TMP/refuse-$1.out" 2>&1
    check "SIPp scenario $1 ($2)" "$?" 0
    cat "$TMP/refuse-$1.log" 2>/dev/null
}

# fetch NAME WATCHER TARGET EVENT: the fetch scenario; prints its log.
fetch() {
    printf 'SEQUENTIAL\n%s;%s;%s;%s\n' "$2" "$(authf "$2")" "$3" "$4" >"$TMP/fetch-$1.csv"
    timeout 20 sipp 127.0.0.1:"$PORT" -sf "$SCEN/events_fetch.xml" -inf "$TMP/fetch-$1.csv" \
        -t u1 -auth_uri "$3@example.test" -i 127.0.0.1 -p "$(peer_port)" -m 1 -timeout 15s \
        -nostdin -trace_msg -message_file "$TMP/fetch-$1.msg" -trace_logs \
        -log_file "$TMP/fetch-$1.log" >"$TMP/fetch-$1.out" 2>&1
    check "SIPp fetch scenario $1" "$?" 0
    cat "$TMP/fetch-$1.log" 2>/dev/null
}

start_server --sub-min-expires 30

out=$(refuse unknown 404 alice carol presence application/pidf+xml 60)
check_match "404 for a user we do not have" "$out" 'line=SIP/2.0 404 Not Found'
out=$(refuse reg 403 alice bob reg application/reginfo+xml 60)
check_match "403 for someone else's reg" "$out" \
    'line=SIP/2.0 403 Forbidden \(Not Your Registration\)'
out=$(refuse accept 406 alice bob presence text/plain 60)
check_match "406 when Accept lacks the package's type" "$out" 'line=SIP/2.0 406 Not Acceptable'
check_match "406 names the type in Accept" "$out" 'accept=application/pidf\+xml'
out=$(refuse dialogdefault 403 alice bob dialog application/dialog-info+xml 60)
check_match "dialog_policy self by default: 403 for another user's calls" "$out" \
    'line=SIP/2.0 403 Forbidden \(Watch Policy\)'
out=$(refuse brief 423 alice bob presence application/pidf+xml 10)
check_match "423 below the minimum" "$out" 'line=SIP/2.0 423 Interval Too Brief'
check_match "423 carries Min-Expires" "$out" 'min-expires=30'

out=$(fetch presence alice bob presence)
check_match "fetch answered 200 with Expires: 0" "$out" 'fetch-200 expires= *0$'
check_match "fetch NOTIFY ends the subscription at once" "$out" \
    'fetch-notify cseq=1 state=terminated;reason=timeout'
check_match "fetch NOTIFY carries the state (closed)" "$(tr -d '\r' <"$TMP/fetch-presence.msg")" \
    '<basic>closed</basic>'
check_match "a fetch is not kept" "$(cat "$LOG")" \
    'event=subscribed key=ev[a-v0-9]+ package=presence resource=bob@example.test watcher=alice@example.test expires=0'
stop_server
check_match "nothing stored after the fetch" \
    "$(sqlite3 "$TMP/data/sipkit.db" 'SELECT count(*) FROM subscriptions' 2>&1)" '^0$'

# watch_policy self: one's own presence only (dialogs: dialog_policy,
# self by default, checked above).
start_server --watch-policy self
out=$(refuse policy 403 alice bob presence application/pidf+xml 60)
check_match "watch_policy self: 403 for another user's presence" "$out" \
    'line=SIP/2.0 403 Forbidden \(Watch Policy\)'
out=$(fetch self bob bob presence)
check_match "watch_policy self: one's own presence is allowed" "$out" \
    'fetch-notify cseq=1 state=terminated;reason=timeout'
stop_server
finish
