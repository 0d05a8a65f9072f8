# Shared helpers for the interop tests (sourced by bash scripts; not a test
# itself). Starts `$SIPKIT serve` on 127.0.0.1 with a free port and a temp
# data dir, waits (bounded) for its `listening` line, and kills what it
# started by PID on exit.

: "${SIPKIT:?SIPKIT must point to the sipkit binary}"
TMP=$(mktemp -d /tmp/sk-interop.XXXXXX)
SERVER_PID=""
PORT=""
FAILS=0

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$SERVER_PID" 2>/dev/null
    fi
    [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

need() {
    command -v "$1" >/dev/null 2>&1 || { echo "FAIL: $1 is not installed (scripts/deps)"; exit 1; }
}

# start_server [extra serve args...]: sets SERVER_PID, PORT, LOG, TRACE.
start_server() {
    LOG=$TMP/server.log
    TRACE=$TMP/trace.out
    "$SIPKIT" serve --listen 127.0.0.1:0 --data-dir "$TMP/data" --domain example.test \
        --workers 2 "$@" >"$TRACE" 2>"$LOG" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if grep -q 'event=listening transport=udp' "$LOG" 2>/dev/null; then
            PORT=$(sed -n 's/.*event=listening transport=udp addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' \
                "$LOG" | head -n 1)
            [ -n "$PORT" ] && return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: server did not log 'listening' within 10 s"; cat "$LOG"; exit 1
}

# stop_server: SIGTERM, then expect exit status 0 within 10 s.
stop_server() {
    kill -TERM "$SERVER_PID"
    for _ in $(seq 1 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "FAIL: server still running 10 s after SIGTERM"; FAILS=$((FAILS + 1)); return
    fi
    wait "$SERVER_PID"; rc=$?
    SERVER_PID=""
    check "exit status after SIGTERM" "$rc" 0
}

check() { # name got want
    if [ "$2" = "$3" ]; then
        echo "ok: $1"
    else
        echo "FAIL: $1: got '$2', want '$3'"; FAILS=$((FAILS + 1))
    fi
}

check_match() { # name text pattern (grep -E)
    if printf '%s' "$2" | grep -Eq "$3"; then
        echo "ok: $1"
    else
        echo "FAIL: $1: '$3' not in:"; printf '%s\n' "$2" | sed 's/^/    /'; FAILS=$((FAILS + 1))
    fi
}

# check_line NAME FILE PATTERN: wait up to 10 s for a line matching
# PATTERN (grep -E) in FILE, which a process in the background writes,
# then check that it came.
check_line() {
    for _ in $(seq 1 100); do
        grep -Eq "$3" "$2" 2>/dev/null && break
        sleep 0.1
    done
    check_match "$1" "$(cat "$2" 2>/dev/null)" "$3"
}

# A free-looking port for a peer (SIPp, sipsak) to bind.
# Candidates are spread by PID and time; one with a socket already on it
# (any of UDP/TCP, IPv4/IPv6, from /proc/net) is skipped, so parallel tests
# do not hand SIPp a port another test's peer holds.
peer_port() {
    local p hex i
    for i in $(seq 1 50); do
        p=$(( 20000 + ($$ * 7 + i * 613 + $(date +%N | sed 's/^0*//;s/^$/0/') / 1000) % 30000 ))
        hex=$(printf ':%04X ' "$p")
        if ! cat /proc/net/udp /proc/net/udp6 /proc/net/tcp /proc/net/tcp6 2>/dev/null |
            awk '{ print $2 " " }' | grep -q -- "$hex"; then
            echo "$p"
            return
        fi
    done
    echo "$p"
}

# sip_request METHOD RURI BRANCH [extra header lines with CRLFs]: a request
# whose Via asks for rport, so the answer comes back to our socket.
sip_request() {
    printf '%s %s SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:9;rport;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\nFrom: <sip:tester@example.test>;tag=t%s\r\nTo: <sip:example.test>\r\nCall-ID: %s@interop\r\nCSeq: 1 %s\r\n%bContent-Length: 0\r\n\r\n' \
        "$1" "$2" "${VIA_TRANSPORT:-UDP}" "$3" "$3" "$3" "${CSEQ_METHOD:-$1}" "${4:-}"
}

# udp_exchange: send stdin as one datagram (one write from a file), print
# the first response without CRs (waits 3 s at most).
udp_exchange() {
    cat >"$TMP/dgram"
    exec 3<>"/dev/udp/${HOST:-127.0.0.1}/$PORT"
    cat "$TMP/dgram" >&3
    timeout 3 dd bs=65536 count=1 <&3 2>/dev/null | tr -d '\r'
    exec 3>&-
}

# tcp_exchange: send stdin on a new connection, print what comes back
# until the server closes it or 2 s pass.
tcp_exchange() {
    cat >"$TMP/stream"
    exec 4<>"/dev/tcp/127.0.0.1/$PORT"
    cat "$TMP/stream" >&4
    timeout 2 cat <&4 | tr -d '\r'
    exec 4>&-
}

status_line() { head -n 1; }

# The server's CPU time (user + system) so far in clock ticks (getconf
# CLK_TCK a second), from /proc.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

# add_user NAME PASSWORD: a user of $DOMAIN (example.test by default) in
# the server's data directory.
add_user() {
    printf '%s\n' "$2" | "$SIPKIT" users add "$1" --password-stdin --data-dir "$TMP/data" \
        --domain "${DOMAIN:-example.test}" >/dev/null 2>&1
    check "users add $1" "$?" 0
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS check(s) failed; server log:"; sed 's/^/    /' "$LOG"
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
