#!/usr/bin/env python3
"""One end of a call's media, for the NAT tests: rtp_peer.py BIND_IP PORT
TARGET_FILE SECONDS.

Binds BIND_IP:PORT (the port the SIP peer's SDP announces), waits for
TARGET_FILE to hold "IP PORT" (written by the SIP peer from the SDP it
received), then sends an RTP packet (RFC 3550 header, PCMU, 20 ms of
silence) there every 20 ms from that same socket, as phones do (symmetric
RTP, which a relay latches onto through a NAT), and counts the RTP
packets that arrive. After SECONDS it prints
"received=N sent=M target=IP:PORT from=IP:PORT,..." and exits 0."""
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
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, port))
    s.setblocking(False)
    end = time.monotonic() + secs
    target, next_send = None, 0.0
    sent = received = seq = 0
    ssrc = random.getrandbits(32)
    sources = set()
    while True:
        now = time.monotonic()
        if now >= end:
            break
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
    print("received=%d sent=%d target=%s from=%s" % (received, sent, tgt,
                                                       ",".join(sorted(sources)) or "none"))


if __name__ == "__main__":
    main()
