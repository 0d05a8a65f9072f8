#!/usr/bin/env python3
"""Attack and legitimate clients for tests/interop/attack_*.sh (loopback only,
every loop bounded by a deadline).

  attack.py flood PORT SRC COUNT HOLD
      open COUNT TCP connections from SRC and hold them HOLD seconds; print
      "opened=N open=M": M connections the server had not closed at the end.
  attack.py slowloris PORT SRC COUNT DURATION INTERVAL
      open COUNT connections from SRC, each sending one byte of a REGISTER
      header every INTERVAL seconds; print "accepted=N closed=M
      first_close=S last_close=S" (seconds since the first byte).
  attack.py timers PORT
      register bob at a UDP socket of ours, INVITE him as alice through the
      server and leave the INVITE unanswered: print "forwarded=N
      retransmitted=N after=S", the retransmission being RFC 3261 Timer A
      of the server's client transaction (500 ms).
  attack.py legit PORT DURATION KINDS
      until DURATION seconds pass, from 127.0.0.1: for each kind in KINDS
      (comma separated: udp, tcp, register, slow) one exchange, then a
      pause; print "<kind>_ok=N <kind>_fail=M" per kind.
"""
import hashlib
import os
import re
import resource
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def request(method, branch, transport, extra=""):
    return (
        f"{method} sip:example.test SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} 127.0.0.1:9;rport;branch=z9hG4bK{branch}\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@example.test>;tag=t" + branch + "\r\n"
        "To: <sip:alice@example.test>\r\n"
        f"Call-ID: {branch}@attack\r\n"
        f"CSeq: 1 {method}\r\n"
        "Contact: <sip:alice@127.0.0.1:9>\r\n"
        f"{extra}Content-Length: 0\r\n\r\n"
    ).encode()


def status(data):
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    m = re.match(r"SIP/2\.0 (\d{3})", line)
    return int(m.group(1)) if m else 0


def udp_exchange(port, msg, timeout=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.settimeout(timeout)
    try:
        s.sendto(msg, (HOST, port))
        while True:
            data = s.recv(65536)
            if status(data) >= 200:  # a 100 Trying is not the answer
                return data
    except OSError:
        return b""
    finally:
        s.close()


def tcp_exchange(port, parts, timeout=3.0, gap=0.0):
    """Send parts on a new connection (gap seconds apart), read one final
    response."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((HOST, 0))
        s.connect((HOST, port))
        for i, p in enumerate(parts):
            if i > 0 and gap > 0:
                time.sleep(gap)
            s.sendall(p)
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            if b"\r\n\r\n" in buf and status(buf) >= 200:
                return buf
        return buf
    except OSError:
        return b""
    finally:
        s.close()


def digest(chal, method, user, pw, uri="sip:example.test", hdr="Authorization"):
    f = dict(re.findall(r'(\w+)="?([^",]*)"?', chal))
    realm, nonce = f["realm"], f["nonce"]
    ha1 = hashlib.md5(f"{user}:{realm}:{pw}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    cnonce, nc = "0a4f113b", "00000001"
    resp = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    return (
        f'{hdr}: Digest username="{user}", realm="{realm}", nonce="{nonce}", '
        f'uri="{uri}", response="{resp}", algorithm=MD5, qop=auth, '
        f'nc={nc}, cnonce="{cnonce}"\r\n'
    )


def md5_challenge(resp, name):
    for line in resp.decode(errors="replace").split("\r\n"):
        if line.lower().startswith(name + ":") and "MD5" in line and "-sess" not in line:
            return line.split(":", 1)[1]
    return None


def call_request(method, user, ruri, branch, cseq, contact_port, extra=""):
    return (
        f"{method} {ruri} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{contact_port};rport;branch=z9hG4bK{branch}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{user}@example.test>;tag=f{branch}\r\n"
        f"To: <{ruri}>\r\n"
        f"Call-ID: call-{user}@timers\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"Contact: <sip:{user}@127.0.0.1:{contact_port}>\r\n"
        f"{extra}Content-Length: 0\r\n\r\n"
    ).encode()


def exchange_on(sock, port, msg, timeout=3.0):
    sock.settimeout(timeout)
    sock.sendto(msg, (HOST, port))
    try:
        while True:
            data = sock.recv(65536)
            if status(data) >= 200:
                return data
    except OSError:
        return b""


def timers(port):
    bob = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bob.bind((HOST, 0))
    bport = bob.getsockname()[1]
    ruri = "sip:bob@example.test"
    reg = call_request("REGISTER", "bob", "sip:example.test", "tb1", 1, bport,
                       "Expires: 600\r\n").replace(b"To: <sip:example.test>", b"To: <" + ruri.encode() + b">")
    r = exchange_on(bob, port, reg)
    chal = md5_challenge(r, "www-authenticate")
    if chal is None:
        raise SystemExit(f"timers: REGISTER got {status(r)}")
    reg = call_request("REGISTER", "bob", "sip:example.test", "tb2", 2, bport,
                       "Expires: 600\r\n" + digest(chal, "REGISTER", "bob", "secret")
                       ).replace(b"To: <sip:example.test>", b"To: <" + ruri.encode() + b">")
    if status(exchange_on(bob, port, reg)) != 200:
        raise SystemExit("timers: REGISTER refused")
    alice = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    alice.bind((HOST, 0))
    aport = alice.getsockname()[1]
    r = exchange_on(alice, port, call_request("INVITE", "alice", ruri, "ta1", 1, aport))
    chal = md5_challenge(r, "proxy-authenticate")
    if chal is None:
        raise SystemExit(f"timers: INVITE got {status(r)}")
    alice.sendto(call_request("ACK", "alice", ruri, "ta1", 1, aport), (HOST, port))
    auth = digest(chal, "INVITE", "alice", "secret", ruri, "Proxy-Authorization")
    alice.sendto(call_request("INVITE", "alice", ruri, "ta2", 2, aport, auth), (HOST, port))
    copies, first, branch = 0, None, None
    bob.settimeout(0.2)
    end = time.monotonic() + 4
    while time.monotonic() < end:
        try:
            data = bob.recv(65536)
        except OSError:
            continue
        if not data.startswith(b"INVITE "):
            continue
        b = re.search(rb"branch=([^;\r,]+)", data).group(1)
        if branch is None:
            branch, first = b, time.monotonic()
        if b == branch:
            copies += 1
            if copies == 2:
                break
    after = f"{time.monotonic() - first:.1f}" if copies == 2 else "-"
    print(f"forwarded={min(copies, 1)} retransmitted={max(copies - 1, 0)} after={after}", flush=True)


def register(port, n):
    r = udp_exchange(port, request("REGISTER", f"r{n}a", "UDP", "Expires: 600\r\n"))
    if status(r) != 401:
        return False
    chal = None
    for line in r.decode(errors="replace").split("\r\n"):
        if line.lower().startswith("www-authenticate:") and "MD5" in line and "-sess" not in line:
            chal = line.split(":", 1)[1]
            break
    if chal is None:
        return False
    auth = digest(chal, "REGISTER", "alice", "secret")
    r = udp_exchange(port, request("REGISTER", f"r{n}b", "UDP", "Expires: 600\r\n" + auth))
    return status(r) == 200


def legit(port, duration, kinds):
    counts = {k: [0, 0] for k in kinds}
    end = time.monotonic() + duration
    n = 0
    while time.monotonic() < end:
        n += 1
        for k in kinds:
            if k == "udp":
                ok = status(udp_exchange(port, request("OPTIONS", f"u{n}", "UDP"))) == 200
            elif k == "tcp":
                ok = status(tcp_exchange(port, [request("OPTIONS", f"t{n}", "TCP")])) == 200
            elif k == "register":
                ok = register(port, n)
            elif k == "slow":
                # A legitimate message in two writes a second apart.
                m = request("OPTIONS", f"s{n}", "TCP")
                ok = status(tcp_exchange(port, [m[:40], m[40:]], timeout=4, gap=1.0)) == 200
            else:
                raise SystemExit(f"unknown kind {k}")
            counts[k][0 if ok else 1] += 1
            if not ok:
                print(f"legit: {k} round {n} failed at {time.strftime('%T')}", file=sys.stderr)
        time.sleep(0.2)
    print(" ".join(f"{k}_ok={v[0]} {k}_fail={v[1]}" for k, v in counts.items()), flush=True)


def open_many(port, src, count, deadline):
    """Non-blocking connects from src; returns the sockets that connected."""
    socks = []
    pending = []
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((src, 0))
        except OSError:
            s.close()
            break
        s.connect_ex((HOST, port))
        pending.append(s)
        if len(pending) >= 64:
            socks += finish_connects(pending, deadline)
            pending = []
    socks += finish_connects(pending, deadline)
    return socks


def ready(socks, events, timeout):
    """The sockets of socks with one of events (poll: select() stops at
    descriptor 1024)."""
    p = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        p.register(fd, events)
    return [by_fd[fd] for fd, _ in p.poll(int(timeout * 1000))]


def finish_connects(pending, deadline):
    done = []
    left = list(pending)
    while left and time.monotonic() < deadline:
        for s in ready(left, select.POLLOUT, 0.5):
            left.remove(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done.append(s)
            else:
                s.close()
    for s in left:  # still in the server's backlog: keep it too
        done.append(s)
    return done


def peek_alive(s):
    try:
        return bool(s.recv(4096, socket.MSG_PEEK))
    except OSError:
        return False


def still_open(socks):
    """Connections on which the server has not closed (no EOF, no reset)."""
    n = 0
    for s in socks:
        try:
            if not ready([s], select.POLLIN, 0):
                n += 1
                continue
            if s.recv(4096):
                n += 1
        except OSError:
            pass
    return n


def flood(port, src, count, hold):
    raise_nofile()
    start = time.monotonic()
    socks = open_many(port, src, count, start + hold)
    print(f"flood: {len(socks)} connections up after {time.monotonic() - start:.1f} s",
          file=sys.stderr, flush=True)
    # Reconnect what the server closes, so accepting goes on all along
    # (about 200 new connections a second at most).
    end = start + hold
    while time.monotonic() < end - 1:
        closed = [s for s in ready(socks, select.POLLIN, 0.05) if not peek_alive(s)]
        for s in closed[:10]:
            socks.remove(s)
            s.close()
        socks += open_many(port, src, min(len(closed), 10), time.monotonic() + 1)
    time.sleep(max(0.0, end - time.monotonic()))
    print(f"opened={len(socks)} open={still_open(socks)}", flush=True)
    for s in socks:
        s.close()


def slowloris(port, src, count, duration, interval):
    raise_nofile()
    msg = request("REGISTER", "slow", "TCP")
    start = time.monotonic()
    socks = open_many(port, src, count, start + 5)
    t0 = time.monotonic()
    # Connections the server refused at once (per-address cap) close
    # before the first byte: count them apart.
    time.sleep(0.5)
    live = [s for s in socks if still_open([s]) == 1]
    accepted = len(live)
    sent = {s: 0 for s in live}
    closed_at = {}
    end = t0 + duration
    while live and time.monotonic() < end:
        for s in list(live):
            try:
                if ready([s], select.POLLIN, 0) and not s.recv(4096):
                    raise OSError("closed")
                s.send(msg[sent[s] : sent[s] + 1])
                sent[s] += 1
            except OSError:
                closed_at[s] = time.monotonic() - t0
                live.remove(s)
        time.sleep(interval)
    times = sorted(closed_at.values())
    first = f"{times[0]:.1f}" if times else "-"
    last = f"{times[-1]:.1f}" if times else "-"
    maxsent = max(sent.values()) if sent else 0
    print(f"accepted={accepted} closed={len(times)} first_close={first} last_close={last} "
          f"bytes_sent_max={maxsent}", flush=True)
    for s in socks:
        s.close()


def main():
    a = sys.argv[1:]
    if not a:
        raise SystemExit(__doc__)
    if a[0] == "flood":
        flood(int(a[1]), a[2], int(a[3]), float(a[4]))
    elif a[0] == "slowloris":
        slowloris(int(a[1]), a[2], int(a[3]), float(a[4]), float(a[5]))
    elif a[0] == "timers":
        timers(int(a[1]))
    elif a[0] == "legit":
        legit(int(a[1]), float(a[2]), a[3].split(","))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
