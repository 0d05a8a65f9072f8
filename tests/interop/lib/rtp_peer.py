#!/usr/bin/env python3
"""One end of a call's media, for the NAT tests: rtp_peer.py BIND_IP PORT
TARGET_FILE SECONDS [STOP_FILE [LINGER]].

Binds BIND_IP:PORT (the port the SIP peer's SDP announces), makes
TARGET_FILE.bound (the test starts the call once it exists), waits for
TARGET_FILE to hold "IP PORT" (written by the SIP peer from the SDP it
received), then sends an RTP packet (RFC 3550 header, PCMU, 20 ms of
silence) there every 20 ms from that same socket, as phones do (symmetric
RTP, which a relay latches onto through a NAT), and counts the RTP
packets that arrive. After SECONDS it prints
"received=N sent=M target=IP:PORT from=IP:PORT,..." and exits 0.

With STOP_FILE the test ends it early: once that file exists (the test
makes it when the call is over) the peer goes on sending for LINGER
seconds (default 2), then reports as above with "late=N" after
"received=N": the packets that arrived in those LINGER seconds, where a
relay that kept forwarding after the call ended shows."""
import os
import random
import select
import socket
import struct
import sys
import time


def read_target(path):
    try:
        with open(path) as f:
            parts = f.read().split()
    except OSError:
        return None
    if len(parts) != 2 or not parts[1].isdigit():
        return None
    return (parts[0], int(parts[1]))


def main():
    ip, port, tfile, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    stop_file = sys.argv[5] if len(sys.argv) > 5 else None
    linger = float(sys.argv[6]) if len(sys.argv) > 6 else 2.0
    at_stop = None  # received when the stop file appeared
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, port))
    s.setblocking(False)
    open(tfile + ".bound", "w").close()
    end = time.monotonic() + secs
    target, next_send = None, 0.0
    sent = received = seq = 0
    ssrc = random.getrandbits(32)
    sources = set()
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if at_stop is None and stop_file and os.path.exists(stop_file):
            at_stop = received
            end = min(end, now + linger)
        if target is None:
            target = read_target(tfile)
            next_send = now
        if target is not None and now >= next_send:
            hdr = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, ssrc)
            try:
                s.sendto(hdr + b"\xff" * 160, target)
                sent += 1
            except OSError:
                pass  # the relay's port is gone after the BYE
            seq += 1
            next_send += 0.02
        wait = max(0.0, min(0.01, end - now))
        if select.select([s], [], [], wait)[0]:
            while True:
                try:
                    data, src = s.recvfrom(2048)
                except (BlockingIOError, OSError):
                    break
                if len(data) >= 12 and data[0] >> 6 == 2:
                    received += 1
                    sources.add("%s:%d" % src)
    tgt = "%s:%d" % target if target else "none"
    late = "" if at_stop is None else " late=%d" % (received - at_stop)
    print("received=%d%s sent=%d target=%s from=%s" % (received, late, sent, tgt,
                                                         ",".join(sorted(sources)) or "none"))


if __name__ == "__main__":
    main()
