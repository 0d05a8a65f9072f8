#!/usr/bin/env python3
"""Small SIP peers for the attack tests (tests/interop/attack_*.sh).

Each subcommand binds a UDP socket on --src (127.0.0.1, 127.0.0.2, ...: the
whole 127/8 is loopback on Linux) so the server sees distinct addresses,
and talks to the server at 127.0.0.1:--port. Every wait is bounded.

  register  REGISTER, answer the 401 with MD5 digest; print the final status
            (or "timeout"); exit 0 on 200.
  guess     --count wrong-password REGISTERs in a row; print one status per
            attempt ("401", "403", "timeout"), with --times also its seconds.
  flood     REGISTERs without credentials at --rate for --seconds; print
            "sent=N received=M". With --method INVITE: INVITEs to --to at
            our domain from a user of --from-domain (a foreign caller, which
            the default proxy.foreign_callers=allow forwards), each a new
            call (fresh Call-ID, tag and branch) with a small SDP body.
  sink      A callee that never answers: register --user from its own
            socket, print "registered", then count what reaches it until
            --seconds pass or SIGTERM; print "datagrams=N invites=M" (M:
            distinct INVITE Call-IDs, retransmissions not counted), and on
            SIGUSR1 print the counts so far and start again from zero.
  noack     INVITE from our domain, take the 407, never ACK it; count what
            arrives in the next --wait seconds; print "first=CODE extra=N".
            With --victim PORT, the Via names maddr=127.0.0.1 and that port:
            count what the "victim" socket receives instead.
"""
import argparse
import hashlib
import os
import random
import re
import signal
import socket
import sys
import time

DOMAIN = "example.test"


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def rand(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


class Peer:
    def __init__(self, src, port, sport=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((src, sport))
        self.src, self.lport = self.sock.getsockname()
        self.dst = ("127.0.0.1", port)
        self.call_id = rand(16) + "@attack"
        self.tag = rand(8)
        self.cseq = 0
        self.expires = 60

    def register(self, user, auth=None, branch=None):
        self.cseq += 1
        branch = branch or "z9hG4bK" + rand(16)
        msg = (
            f"REGISTER sip:{DOMAIN} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {self.src}:{self.lport};rport;branch={branch}\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:{user}@{DOMAIN}>;tag={self.tag}\r\n"
            f"To: <sip:{user}@{DOMAIN}>\r\n"
            f"Call-ID: {self.call_id}\r\n"
            f"CSeq: {self.cseq} REGISTER\r\n"
            f"Contact: <sip:{user}@{self.src}:{self.lport}>\r\n"
            f"Expires: {self.expires}\r\n"
        )
        if auth:
            msg += f"Authorization: {auth}\r\n"
        msg += "Content-Length: 0\r\n\r\n"
        self.sock.sendto(msg.encode(), self.dst)

    def recv(self, timeout):
        """The next final response (provisional ones skipped), or None."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                return None
            text = data.decode(errors="replace")
            m = re.match(r"SIP/2\.0 (\d{3})", text)
            if m and int(m.group(1)) >= 200:
                return int(m.group(1)), text


def md5_challenge(text):
    """The MD5 WWW-Authenticate challenge's fields."""
    for line in text.split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() not in ("www-authenticate", "proxy-authenticate"):
            continue
        fields = {k: q or t for k, q, t in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', value)}
        if fields.get("algorithm", "MD5").upper() == "MD5":
            return fields
    return None


def digest(user, password, ch, method, uri):
    cnonce, nc = rand(8), "00000001"
    ha1 = md5(f"{user}:{ch['realm']}:{password}")
    ha2 = md5(f"{method}:{uri}")
    resp = md5(f"{ha1}:{ch['nonce']}:{nc}:{cnonce}:auth:{ha2}")
    v = (f'Digest username="{user}", realm="{ch["realm"]}", nonce="{ch["nonce"]}", '
         f'uri="{uri}", response="{resp}", algorithm=MD5, cnonce="{cnonce}", nc={nc}, qop=auth')
    if "opaque" in ch:
        v += f', opaque="{ch["opaque"]}"'
    return v


def attempt(peer, user, password, timeout):
    """One full REGISTER with credentials: the final status or 'timeout'."""
    peer.register(user)
    r = peer.recv(timeout)
    if r is None:
        return "timeout"
    if r[0] != 401:
        return str(r[0])
    ch = md5_challenge(r[1])
    if ch is None:
        return "no-md5-challenge"
    peer.register(user, digest(user, password, ch, "REGISTER", f"sip:{DOMAIN}"))
    r = peer.recv(timeout)
    return "timeout" if r is None else str(r[0])


def cmd_register(a):
    peer = Peer(a.src, a.port)
    t = time.monotonic()
    st = attempt(peer, a.user, a.password, a.timeout)
    print(f"{st} {time.monotonic() - t:.3f}" if a.times else st)
    return 0 if st == "200" else 1


def cmd_guess(a):
    peer = Peer(a.src, a.port)
    for i in range(a.count):
        t = time.monotonic()
        st = attempt(peer, a.user, f"wrong-{i}", a.timeout)
        print(f"{st} {time.monotonic() - t:.3f}" if a.times else st, flush=True)
    return 0


def flood_template(a, peer):
    """The flood's message, with {b} standing for what makes each one new."""
    hostport = f"{peer.src}:{peer.lport}"
    if a.method == "REGISTER":
        return (
            "REGISTER sip:" + DOMAIN + " SIP/2.0\r\n"
            "Via: SIP/2.0/UDP " + hostport + ";rport;branch=z9hG4bK{b}\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:flood@" + DOMAIN + ">;tag={b}\r\n"
            "To: <sip:flood@" + DOMAIN + ">\r\nCall-ID: {b}@flood\r\nCSeq: 1 REGISTER\r\n"
            "Contact: <sip:flood@" + hostport + ">\r\nContent-Length: 0\r\n\r\n")
    sdp = (f"v=0\r\no=flood 1 1 IN IP4 {peer.src}\r\ns=-\r\nc=IN IP4 {peer.src}\r\n"
           "t=0 0\r\nm=audio 9 RTP/AVP 0\r\n")
    return (
        "INVITE sip:" + a.to + "@" + DOMAIN + " SIP/2.0\r\n"
        "Via: SIP/2.0/UDP " + hostport + ";rport;branch=z9hG4bK{b}\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:flood@" + a.from_domain + ">;tag={b}\r\n"
        "To: <sip:" + a.to + "@" + DOMAIN + ">\r\nCall-ID: {b}@flood\r\nCSeq: 1 INVITE\r\n"
        "Contact: <sip:flood@" + hostport + ">\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n" + sdp)


def cmd_flood(a):
    peer = Peer(a.src, a.port)
    peer.sock.setblocking(False)
    sent = received = 0
    start = time.monotonic()
    end = start + a.seconds
    tmpl = flood_template(a, peer)
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - start) * a.rate)
        while sent < due:
            try:
                peer.sock.sendto(tmpl.format(b=f"{sent:x}{os.getpid():x}").encode(), peer.dst)
            except BlockingIOError:
                break
            sent += 1
        while True:
            try:
                peer.sock.recvfrom(65536)
                received += 1
            except BlockingIOError:
                break
        time.sleep(0.001)
    peer.sock.settimeout(1.0)
    try:
        while True:
            peer.sock.recvfrom(65536)
            received += 1
    except socket.timeout:
        pass
    print(f"sent={sent} received={received}")
    return 0


def cmd_sink(a):
    peer = Peer(a.src, a.port)
    peer.expires = 600  # outlives the test, across server restarts
    st = attempt(peer, a.user, a.password, a.timeout)
    if st != "200":
        print(f"register={st}", flush=True)
        return 1
    print("registered", flush=True)
    flags = set()
    signal.signal(signal.SIGTERM, lambda *_: flags.add("stop"))
    signal.signal(signal.SIGUSR1, lambda *_: flags.add("report"))
    datagrams, calls = 0, set()
    end = time.monotonic() + a.seconds
    peer.sock.settimeout(0.2)
    while True:
        done = "stop" in flags or time.monotonic() >= end
        if done or "report" in flags:
            flags.discard("report")
            print(f"datagrams={datagrams} invites={len(calls)}", flush=True)
            datagrams, calls = 0, set()
        if done:
            return 0
        try:
            data, _ = peer.sock.recvfrom(65536)
        except (socket.timeout, InterruptedError):
            continue
        datagrams += 1
        if data.startswith(b"INVITE "):
            m = re.search(rb"\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r]+)", data, re.I)
            calls.add(m.group(1) if m else data)


def cmd_noack(a):
    peer = Peer(a.src, a.port)
    victim = None
    via = f"{peer.src}:{peer.lport};rport"
    if a.victim:
        victim = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        victim.bind(("127.0.0.1", a.victim))
        via = f"127.0.0.1:{a.victim};maddr=127.0.0.1"
    branch = "z9hG4bK" + rand(16)
    msg = (
        f"INVITE sip:bob@{DOMAIN} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {via};branch={branch}\r\n"
        f"Max-Forwards: 70\r\n"
        f"From: <sip:alice@{DOMAIN}>;tag={peer.tag}\r\n"
        f"To: <sip:bob@{DOMAIN}>\r\n"
        f"Call-ID: {peer.call_id}\r\n"
        f"CSeq: 1 INVITE\r\n"
        f"Contact: <sip:alice@{peer.src}:{peer.lport}>\r\n"
        f"Content-Length: 0\r\n\r\n")
    peer.sock.sendto(msg.encode(), peer.dst)
    listen = victim or peer.sock
    first, extra, to_tag = None, 0, None
    end = time.monotonic() + a.wait
    while time.monotonic() < end:
        listen.settimeout(max(0.01, end - time.monotonic()))
        try:
            data, _ = listen.recvfrom(65536)
        except socket.timeout:
            break
        text = data.decode(errors="replace")
        m = re.match(r"SIP/2\.0 (\d{3})", text)
        code = m.group(1) if m else "?"
        if first is None:
            first = code
            t = re.search(r"\r\nTo:[^\r]*;tag=([^;\r]+)", text)
            to_tag = t.group(1) if t else None
        elif code != "100":
            extra += 1
    if a.ack and to_tag:
        ack = (
            f"ACK sip:bob@{DOMAIN} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {peer.src}:{peer.lport};rport;branch={branch}\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:alice@{DOMAIN}>;tag={peer.tag}\r\n"
            f"To: <sip:bob@{DOMAIN}>;tag={to_tag}\r\n"
            f"Call-ID: {peer.call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
        peer.sock.sendto(ack.encode(), peer.dst)
        peer.sock.settimeout(1.0)
        try:
            peer.sock.recvfrom(65536)
            extra += 1
        except socket.timeout:
            pass
    print(f"first={first} extra={extra}")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("register", "guess", "flood", "noack", "sink"):
        s = sub.add_parser(name)
        s.add_argument("--src", default="127.0.0.1")
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--user", default="alice")
        s.add_argument("--password", default="")
        s.add_argument("--timeout", type=float, default=3.0)
        s.add_argument("--count", type=int, default=1)
        s.add_argument("--rate", type=float, default=1000)
        s.add_argument("--seconds", type=float, default=1)
        s.add_argument("--wait", type=float, default=5)
        s.add_argument("--victim", type=int, default=0)
        s.add_argument("--ack", action="store_true")
        s.add_argument("--times", action="store_true")
        s.add_argument("--domain", default=DOMAIN)
        s.add_argument("--method", choices=("REGISTER", "INVITE"), default="REGISTER")
        s.add_argument("--to", default="bob")
        s.add_argument("--from-domain", default="attacker.example")
    a = p.parse_args()
    globals()["DOMAIN"] = a.domain
    return {"register": cmd_register, "guess": cmd_guess, "flood": cmd_flood,
            "noack": cmd_noack, "sink": cmd_sink}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
