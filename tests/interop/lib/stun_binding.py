#!/usr/bin/env python3
"""Send one STUN Binding request (RFC 5389) from LOCAL_IP:LOCAL_PORT to
HOST:PORT and print the XOR-MAPPED-ADDRESS of the answer as IP:PORT.
Exit 1 with a reason when no valid answer comes within 3 s."""
import os
import socket
import struct
import sys

COOKIE = 0x2112A442


def main():
    host, port, lip, lport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    txid = os.urandom(12)
    req = struct.pack("!HHI", 0x0001, 0, COOKIE) + txid
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((lip, lport))
    s.settimeout(3)
    s.sendto(req, (host, port))
    try:
        data, _ = s.recvfrom(2048)
    except socket.timeout:
        print("no answer")
        return 1
    mtype, mlen, cookie = struct.unpack("!HHI", data[:8])
    if mtype != 0x0101 or cookie != COOKIE or data[8:20] != txid or mlen != len(data) - 20:
        print("not a Binding success response for our transaction")
        return 1
    off = 20
    while off + 4 <= len(data):
        atype, alen = struct.unpack("!HH", data[off:off + 4])
        val = data[off + 4:off + 4 + alen]
        if atype == 0x0020 and val[1] == 1:
            xport = struct.unpack("!H", val[2:4])[0] ^ (COOKIE >> 16)
            xaddr = struct.unpack("!I", val[4:8])[0] ^ COOKIE
            print("%s:%d" % (socket.inet_ntoa(struct.pack("!I", xaddr)), xport))
            return 0
        off += 4 + ((alen + 3) & ~3)
    print("no XOR-MAPPED-ADDRESS")
    return 1


sys.exit(main())
