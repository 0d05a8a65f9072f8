#!/usr/bin/env python3
"""A small, independent digest client for the interop tests.

Sends one request over UDP to the server, reads the 401/407, answers the
challenge for the algorithm asked for (or the first one offered) in the
header named by --header, and prints what happened as key=value lines:

    offered=MD5 SHA-256
    status=200

It exists to check the server against a digest implementation that shares
no code with sipkit (Python's hashlib, RFC 7616 §3.4.1 written out here),
and to send what real clients send but sipkit's own client never does
(credentials in Proxy-Authorization for a 401, a chosen algorithm).
"""
import argparse
import hashlib
import os
import re
import socket
import sys

HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def h(algo, text):
    name = HASHES[algo]
    if name == "sha512_256":
        return hashlib.new("sha512_256", text.encode()).hexdigest()
    return hashlib.new(name, text.encode()).hexdigest()


def request(a, branch, cseq, extra):
    uri = a.uri or "sip:%s" % a.domain
    user = a.from_user or a.user
    lines = [
        "%s %s SIP/2.0" % (a.method, uri),
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%s" % (a.bind, a.local_port, branch),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=dg%s" % (user, a.from_host or a.domain, a.call_id),
        "To: <sip:%s@%s>" % (user, a.domain),
        "Call-ID: %s@digest-uac" % a.call_id,
        "CSeq: %d %s" % (cseq, a.method),
        "Contact: <sip:%s@%s:%d>" % (user, a.bind, a.local_port),
        "User-Agent: %s" % a.user_agent,
    ]
    if a.method == "SUBSCRIBE":
        lines += ["Event: presence", "Accept: application/pidf+xml"]
    body = ""
    if getattr(a, "sdp", False):
        body = ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                "m=audio 40000 RTP/AVP 0\r\n" % (a.bind, a.bind))
        extra = extra + ["Content-Type: application/sdp"]
    lines += ["Expires: %d" % a.expires] + extra + ["Content-Length: %d" % len(body), "", body]
    return ("\r\n".join(lines)).encode(), uri


def answer_request(sock, msg, peer):
    """Answer a request with 200 OK, copying the headers a response must
    copy (RFC 3261 §8.2.6.2)."""
    keep = [l for l in msg.split("\r\n")
            if l.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
    resp = "SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n"
    sock.sendto(resp.encode(), peer)


def exchange(sock, data, port, server="127.0.0.1"):
    """Send a request and wait for its final response, retransmitting on
    Timer A's schedule (RFC 3261 §17.1.2.2: 0.5 s doubling) until Timer B
    (64*T1 = 32 s). A NOTIFY may overtake the 200 to its SUBSCRIBE
    (RFC 6665 §4.1.2.4); it is answered and the wait goes on."""
    import time
    give_up = time.time() + 32
    interval = 0.5
    sock.sendto(data, (server, port))
    resend = time.time() + interval
    while time.time() < give_up:
        sock.settimeout(max(0.01, min(resend, give_up) - time.time()))
        try:
            raw, peer = sock.recvfrom(65535)
        except socket.timeout:
            if time.time() >= resend:
                sock.sendto(data, (server, port))
                interval = min(interval * 2, 4)
                resend = time.time() + interval
            continue
        msg = raw.decode(errors="replace")
        if not msg.startswith("SIP/2.0 "):
            answer_request(sock, msg, peer)
            continue
        code = int(msg.split(" ", 2)[1])
        if code >= 200:
            return code, msg
        interval = 4  # a provisional response: keep waiting, resend at T2
    raise SystemExit("status=timeout")


def challenges(msg):
    out = []
    for line in msg.split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() in ("www-authenticate", "proxy-authenticate"):
            pairs = re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', value)
            out.append({k: quoted or bare for k, quoted, bare in pairs})
    return out


def credentials(a, chal, algo, uri):
    """The Authorization (or a.header) line answering chal with qop=auth,
    nc=1 (RFC 7616 §3.4.1)."""
    algo = algo.upper()
    cnonce, nc = os.urandom(4).hex(), "00000001"
    ha1 = h(algo, "%s:%s:%s" % (a.user, chal["realm"], a.password))
    ha2 = h(algo, "%s:%s" % (a.method, uri))
    resp = h(algo, "%s:%s:%s:%s:auth:%s" % (ha1, chal["nonce"], nc, cnonce, ha2))
    cred = ('%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=%s, qop=auth, nc=%s, cnonce="%s"' %
            (a.header, a.user, chal["realm"], chal["nonce"], uri, resp, algo, nc, cnonce))
    if "opaque" in chal:
        cred += ', opaque="%s"' % chal["opaque"]
    return cred


def linger(sock, seconds):
    """Answer every request that arrives with 200 OK, echoing the headers a
    response must copy (RFC 3261 §8.2.6.2), until seconds have passed."""
    import time
    end = time.time() + seconds
    while time.time() < end:
        sock.settimeout(max(0.05, end - time.time()))
        try:
            data, peer = sock.recvfrom(65535)
        except socket.timeout:
            break
        msg = data.decode(errors="replace")
        if not msg.startswith("SIP/2.0") and not msg.startswith("ACK "):
            answer_request(sock, msg, peer)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--domain", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--from-user", help="From/To user when it differs from --user")
    p.add_argument("--from-host", help="From host when it differs from --domain")
    p.add_argument("--no-auth", action="store_true",
                   help="print the first final response's status and stop")
    p.add_argument("--method", default="REGISTER")
    p.add_argument("--uri")
    p.add_argument("--header", default="Authorization")
    p.add_argument("--algorithm", help="answer this algorithm's challenge")
    p.add_argument("--user-agent", default="digest-uac/1")
    p.add_argument("--expires", type=int, default=600)
    p.add_argument("--bind", default="127.0.0.1", help="local address to send from")
    p.add_argument("--server", default="127.0.0.1", help="the server's address")
    p.add_argument("--sdp", action="store_true", help="send an SDP offer in the request")
    p.add_argument("--answer-port", type=int,
                   help="send the authenticated request to this port (another server)")
    p.add_argument("--replay-port", type=int,
                   help="then send the same authenticated request, byte for byte, to this port")
    p.add_argument("--linger", type=float, default=0,
                   help="after the final response, answer requests (NOTIFY) 200 for this long")
    a = p.parse_args()
    a.call_id = os.urandom(6).hex()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((a.bind, 0))
    sock.settimeout(5)
    a.local_port = sock.getsockname()[1]

    data, uri = request(a, os.urandom(6).hex(), 1, [])
    code, msg = exchange(sock, data, a.port, a.server)
    chals = challenges(msg)
    print("offered=%s" % " ".join(c.get("algorithm", "MD5") for c in chals))
    if a.no_auth or code not in (401, 407) or not chals:
        print("status=%d" % code)
        return 0
    want = a.algorithm or chals[0].get("algorithm", "MD5")
    chal = next((c for c in chals if c.get("algorithm", "MD5").upper() == want.upper()), None)
    if chal is None:
        print("status=none-offered")
        return 0
    data, _ = request(a, os.urandom(6).hex(), 2, [credentials(a, chal, want, uri)])
    code, msg = exchange(sock, data, a.answer_port or a.port, a.server)
    print("status=%d" % code)
    print("reason=%s" % msg.split("\r\n", 1)[0].split(" ", 2)[2])
    print("contact=sip:%s@%s:%d" % (a.from_user or a.user, a.bind, a.local_port), flush=True)
    if a.replay_port:
        code, msg = exchange(sock, data, a.replay_port, a.server)
        print("replay_status=%d" % code, flush=True)
    if a.linger > 0:
        linger(sock, a.linger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
