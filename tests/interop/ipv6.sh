#!/bin/sh
# IPv6: `sipkit serve` listening on [::1] answers OPTIONS from SIPp over UDP
# and TCP; then one server listening on 127.0.0.1 and [::1] at once (the
# same port, as 5060 is in a real deployment) answers on both families,
# each response leaving from the listener of the request's family.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need sipp
SCEN=$(dirname "$0")/scenarios

if [ "$(cat /proc/sys/net/ipv6/conf/lo/disable_ipv6 2>/dev/null)" = 1 ]; then
    echo "FAIL: IPv6 is disabled on loopback"; exit 1
fi

# start_listeners ADDR...: like start_server, with our own --listen list;
# waits for event=started (every listener has logged by then).
start_listeners() {
    local args=()
    for a in "$@"; do args+=(--listen "$a"); done
    LOG=$TMP/server.log
    TRACE=$TMP/trace.out
    "$SIPKIT" serve "${args[@]}" --data-dir "$TMP/data" --domain example.test --workers 2 \
        --trace >"$TRACE" 2>"$LOG" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        grep -q 'event=started' "$LOG" 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    echo "FAIL: server did not start within 10 s"; cat "$LOG"; exit 1
}

port_of() { # family-pattern transport
    sed -n "s/.*event=listening transport=$2 addr=$1:\\([0-9]*\\)\$/\\1/p" "$LOG" | head -n 1
}

sipp_options() { # name remote local-ip transport(u1|t1)
    timeout 20 sipp "$2" -sf "$SCEN/options.xml" -t "$4" -i "$3" -p "$(peer_port)" \
        -m 3 -r 50 -timeout 15s -recv_timeout 5000 -nostdin -trace_logs \
        -log_file "$TMP/sipp-$1.log" >"$TMP/sipp-$1.out" 2>&1
    check "SIPp OPTIONS $1 (3 calls)" "$?" 0
    check "... each 200 carried Allow, Accept, Supported and a To tag ($1)" \
        "$(grep -c 'allow=OPTIONS accept=application/sdp supported=Supported: totag=tag=' \
            "$TMP/sipp-$1.log" 2>/dev/null)" 3
}

# 1. [::1] alone.
start_listeners '[::1]:0'
P6=$(port_of '\[::1\]' udp)
check "listening on [::1] over UDP and TCP on one port" "$(port_of '\[::1\]' tcp)" "$P6"
sipp_options v6-udp "[::1]:$P6" ::1 u1
sipp_options v6-tcp "[::1]:$P6" ::1 t1
check_match "the IPv6 requests came in over both transports" "$(grep '^<<<' "$TRACE")" \
    "<<< tcp \\[::1\\]:[0-9]+ -> \\[::1\\]:$P6"
stop_server

# 2. 127.0.0.1 and [::1] on the same port at once (retry if a port is taken).
for _ in 1 2 3 4 5; do
    P=$(peer_port)
    start_listeners "127.0.0.1:$P" "[::1]:$P" && break
    wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
done
[ -n "$SERVER_PID" ] || { echo "FAIL: no free port for both families"; cat "$LOG"; exit 1; }
check "IPv4 listener up" "$(port_of '127\.0\.0\.1' udp)" "$P"
check "IPv6 listener up on the same port" "$(port_of '\[::1\]' udp)" "$P"
sipp_options dual-v4-udp "127.0.0.1:$P" 127.0.0.1 u1
sipp_options dual-v6-udp "[::1]:$P" ::1 u1
sipp_options dual-v4-tcp "127.0.0.1:$P" 127.0.0.1 t1
sipp_options dual-v6-tcp "[::1]:$P" ::1 t1
check_match "IPv6 answers leave from [::1]" "$(grep '^>>>' "$TRACE")" \
    ">>> udp \\[::1\\]:$P -> \\[::1\\]:[0-9]+"
check_match "IPv4 answers leave from 127.0.0.1" "$(grep '^>>>' "$TRACE")" \
    ">>> udp 127\\.0\\.0\\.1:$P -> 127\\.0\\.0\\.1:[0-9]+"
stop_server
finish
