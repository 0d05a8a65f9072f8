#!/bin/sh
# Under systemd (Type=notify, contrib/sipkit.service) the server speaks
# the sd_notify protocol on $NOTIFY_SOCKET: READY=1 once it listens, a
# STATUS= line, WATCHDOG=1 within the interval $WATCHDOG_USEC asks for,
# RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on SIGTERM. A small
# Python datagram listener stands in for systemd.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib/common.sh"
need python3

SOCK=$TMP/notify.sock
python3 - "$SOCK" "$TMP/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1.0)
end = time.time() + 60
with open(sys.argv[2], "a", buffering=1) as log:
    while time.time() < end:
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        for line in data.decode().split("\n"):
            log.write(line + "\n")
            if line == "STOPPING=1":
                end = time.time() + 2
PY
LISTENER=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done

export NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=1000000
start_server
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_for() { # pattern: up to 10 s
    for _ in $(seq 1 100); do grep -q "$1" "$TMP/notify.log" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
wait_for '^READY=1$'; check "READY=1 once listening" "$?" 0
wait_for '^STATUS=serving'; check "a STATUS= line" "$?" 0
wait_for '^WATCHDOG=1$'; check "WATCHDOG=1 within the interval" "$?" 0
kill -HUP "$SERVER_PID"
wait_for '^RELOADING=1$'; check "RELOADING=1 on SIGHUP" "$?" 0
for _ in $(seq 1 100); do
    [ "$(grep -c '^READY=1$' "$TMP/notify.log")" -ge 2 ] && break
    sleep 0.1
done
check "READY=1 again after the reload" "$(grep -c '^READY=1$' "$TMP/notify.log")" 2
stop_server
wait_for '^STOPPING=1$'; check "STOPPING=1 on SIGTERM" "$?" 0
kill "$LISTENER" 2>/dev/null
wait "$LISTENER" 2>/dev/null
finish
