#!/usr/bin/env python3
"""Does an event loop wait on the disk? Registers with digest credentials
while another connection holds SQLite's write lock on the server's
database for --hold seconds, and meanwhile sends OPTIONS from the same
socket (so the same worker's loop gets it). Prints key=value lines:

    options_ms=12        how long the OPTIONS took to be answered
    register_status=200  the authenticated REGISTER's final status
    register_ms=3010     how long it took (it may not precede its COMMIT)

Reuses lib/digest_uac.py for the digest arithmetic and requests.
"""
import argparse
import os
import socket
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import digest_uac  # noqa: E402


def hold_lock(db, seconds, locked):
    c = sqlite3.connect(db, isolation_level=None, timeout=10)
    c.execute("BEGIN IMMEDIATE")
    locked.set()
    time.sleep(seconds)
    c.execute("COMMIT")
    c.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--domain", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--hold", type=float, default=3.0)
    a = p.parse_args()
    a.call_id, a.from_user, a.from_host, a.uri = os.urandom(6).hex(), None, None, None
    a.method, a.user_agent, a.expires = "REGISTER", "loop-probe/1", 600
    a.bind = "127.0.0.1"

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((a.bind, 0))
    sock.settimeout(15)
    a.local_port = sock.getsockname()[1]

    data, uri = digest_uac.request(a, os.urandom(6).hex(), 1, [])
    code, msg = digest_uac.exchange(sock, data, a.port)
    chal = digest_uac.challenges(msg)[0]
    algo = chal.get("algorithm", "MD5").upper()
    cnonce, nc = os.urandom(4).hex(), "00000001"
    ha1 = digest_uac.h(algo, "%s:%s:%s" % (a.user, chal["realm"], a.password))
    ha2 = digest_uac.h(algo, "REGISTER:%s" % uri)
    resp = digest_uac.h(algo, "%s:%s:%s:%s:auth:%s" % (ha1, chal["nonce"], nc, cnonce, ha2))
    cred = ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s"' %
            (a.user, chal["realm"], chal["nonce"], uri, resp, algo, nc, cnonce))
    if "opaque" in chal:
        cred += ', opaque="%s"' % chal["opaque"]

    sock.settimeout(15)  # exchange() leaves its last, short, timeout set
    locked = threading.Event()
    t = threading.Thread(target=hold_lock, args=(a.db, a.hold, locked))
    t.start()
    locked.wait(10)
    data, _ = digest_uac.request(a, os.urandom(6).hex(), 2, [cred])
    t0 = time.monotonic()
    sock.sendto(data, ("127.0.0.1", a.port))
    time.sleep(0.2)  # the REGISTER is in the server now
    a.method = "OPTIONS"
    data, _ = digest_uac.request(a, os.urandom(6).hex(), 3, [])
    t1 = time.monotonic()
    sock.sendto(data, ("127.0.0.1", a.port))
    got = {}
    while len(got) < 2:
        msg = sock.recv(65535).decode(errors="replace")
        code = int(msg.split(" ", 2)[1])
        if code < 200:
            continue
        cseq = msg.split("\r\nCSeq:", 1)[1].split("\r\n", 1)[0]
        method = cseq.split()[-1]
        now = time.monotonic()
        if method == "OPTIONS" and method not in got:
            got[method] = (code, now - t1)
        elif method == "REGISTER" and method not in got:
            got[method] = (code, now - t0)
    t.join()
    print("options_ms=%d" % (got["OPTIONS"][1] * 1000))
    print("register_status=%d" % got["REGISTER"][0])
    print("register_ms=%d" % (got["REGISTER"][1] * 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
