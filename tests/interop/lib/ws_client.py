#!/usr/bin/env python3
"""An independent SIP-over-WebSocket client for the interop tests.

RFC 6455 framing and the opening handshake are written out here on a
plain socket (ssl for wss), and digest (RFC 2617/7616, MD5) with hashlib:
nothing is shared with sipkit, so the server is checked against another
reading of the RFCs. Prints what happened as key=value lines.

Modes:
  upgrade   send one upgrade request (--origin, --protocol, --version,
            --no-upgrade) and print status=CODE and body=FIRST LINE
  register  upgrade, REGISTER as --user (401, then 200), check ping/pong
            and the CRLF keepalive, print "registered", then answer what
            arrives (MESSAGE, INVITE, ACK, BYE) for --wait seconds or
            until --until events were seen
  oversize  upgrade, send a message of --size bytes, print close=CODE
  silent    upgrade, then never answer: print pings=N and closed=yes when
            the server gives up on the connection (within --wait seconds)
"""
import argparse
import base64
import hashlib
import os
import re
import socket
import ssl
import struct
import sys
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def out(k, v):
    print("%s=%s" % (k, v), flush=True)


class WS:
    def __init__(self, a):
        s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
        if a.tls:
            ctx = ssl.create_default_context(cafile=a.ca)
            s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
        self.s = s
        self.buf = b""

    def read_more(self, timeout):
        self.s.settimeout(timeout)
        try:
            d = self.s.recv(65536)
        except socket.timeout:
            return False
        if not d:
            raise EOFError("server closed")
        self.buf += d
        return True

    def handshake(self, a):
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET /sip HTTP/1.1", "Host: 127.0.0.1:%d" % a.port]
        if not a.no_upgrade:
            lines += ["Upgrade: websocket", "Connection: keep-alive, Upgrade"]
        lines += ["Sec-WebSocket-Key: %s" % key, "Sec-WebSocket-Version: %s" % a.version]
        if a.protocol:
            lines.append("Sec-WebSocket-Protocol: %s" % a.protocol)
        if a.origin:
            lines.append("Origin: %s" % a.origin)
        self.s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            if not self.read_more(5):
                raise RuntimeError("no answer to the upgrade")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        head = head.decode()
        status = int(head.split(" ", 2)[1])
        hdrs = {}
        for l in head.split("\r\n")[1:]:
            n, v = l.split(":", 1)
            hdrs[n.strip().lower()] = v.strip()
        if status == 101:
            want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            out("accept_ok", "yes" if hdrs.get("sec-websocket-accept") == want else "no")
            out("protocol", hdrs.get("sec-websocket-protocol", "-"))
        else:
            n = int(hdrs.get("content-length", "0"))
            while len(self.buf) < n:
                if not self.read_more(5):
                    break
            out("body", self.buf[:n].decode(errors="replace").strip())
        return status

    def send_frame(self, op, payload, fin=True):
        mask = os.urandom(4)
        n = len(payload)
        b0 = (0x80 if fin else 0) | op
        if n < 126:
            hdr = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, 0x80 | 127, n)
        body = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        self.s.sendall(hdr + mask + body)

    def recv_frame(self, timeout):
        """(opcode, payload) of the next frame, or None after timeout.
        Server frames are never masked (RFC 6455 §5.1)."""
        end = time.time() + timeout
        while True:
            if len(self.buf) >= 2:
                op = self.buf[0] & 0x0F
                masked = self.buf[1] & 0x80
                n = self.buf[1] & 0x7F
                off = 2
                if n == 126 and len(self.buf) >= 4:
                    n = struct.unpack("!H", self.buf[2:4])[0]
                    off = 4
                elif n == 127 and len(self.buf) >= 10:
                    n = struct.unpack("!Q", self.buf[2:10])[0]
                    off = 10
                if masked:
                    raise RuntimeError("server frame is masked")
                if n < 126 or off > 2:
                    if len(self.buf) >= off + n:
                        p = self.buf[off:off + n]
                        self.buf = self.buf[off + n:]
                        return op, p
            left = end - time.time()
            if left <= 0 or not self.read_more(left):
                return None


def digest(a, chal, method, uri):
    f = dict(re.findall(r'(\w+)="?([^",]*)"?', chal))
    ha1 = hashlib.md5(("%s:%s:%s" % (a.user, f["realm"], a.password)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
    cnonce = os.urandom(8).hex()
    if "qop" in f:
        resp = hashlib.md5(("%s:%s:00000001:%s:auth:%s" % (ha1, f["nonce"], cnonce, ha2))
                           .encode()).hexdigest()
        extra = ', qop=auth, nc=00000001, cnonce="%s"' % cnonce
    else:
        resp = hashlib.md5(("%s:%s:%s" % (ha1, f["nonce"], ha2)).encode()).hexdigest()
        extra = ""
    if "opaque" in f:
        extra += ', opaque="%s"' % f["opaque"]
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=MD5%s' % (a.user, f["realm"], f["nonce"], uri, resp, extra))


def register(ws, a, host, cseq, auth=None):
    uri = "sip:%s" % a.domain
    lines = [
        "REGISTER %s SIP/2.0" % uri,
        "Via: SIP/2.0/%s %s;branch=z9hG4bK%s" % (a.via, host, os.urandom(6).hex()),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=ws%s" % (a.user, a.domain, a.tag),
        "To: <sip:%s@%s>" % (a.user, a.domain),
        "Call-ID: %s@ws-client" % a.tag,
        "CSeq: %d REGISTER" % cseq,
        "Contact: <sip:%s@%s;transport=%s>;expires=300" % (a.user, host, a.via.lower()),
    ]
    if auth:
        lines.append("Authorization: %s" % auth)
    # RFC 7118 §5.1: one message per frame; no Content-Length needed, but
    # JsSIP and others send it.
    ws.send_frame(1, ("\r\n".join(lines + ["Content-Length: 0", "", ""])).encode())
    while True:
        f = ws.recv_frame(5)
        if f is None:
            raise RuntimeError("no answer to REGISTER")
        if f[0] == 1 or f[0] == 2:
            return f[1].decode()


def status_of(msg):
    return int(msg.split(" ", 2)[1])


def header(msg, name):
    vals = []
    for l in msg.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
        n, _, v = l.partition(":")
        if n.strip().lower() == name.lower():
            vals.append(v.strip())
    return ", ".join(vals)


def answer(ws, req, code, reason, host, body=""):
    keep = [l for l in req.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
            if l.split(":", 1)[0].strip().lower() in ("via", "from", "call-id", "cseq",
                                                      "record-route")]
    to = [l for l in req.split("\r\n") if l.lower().startswith("to:")][0]
    if ";tag=" not in to:
        to += ";tag=wsb%s" % os.urandom(3).hex()
    lines = ["SIP/2.0 %d %s" % (code, reason)] + keep + [to]
    if req.startswith("INVITE"):
        lines.append("Contact: <sip:x@%s;transport=%s>" % (host, "ws"))
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body.encode()))
    ws.send_frame(1, ("\r\n".join(lines) + "\r\n\r\n" + body).encode())


SDP = "v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"


def serve(ws, a, host):
    end = time.time() + a.wait
    seen = 0
    while time.time() < end and seen < a.until:
        f = ws.recv_frame(end - time.time())
        if f is None:
            break
        op, p = f
        if op == 9:
            out("server_ping", "yes")
            ws.send_frame(10, p)
            continue
        if op == 8:
            out("closed", "yes")
            return
        if op not in (1, 2):
            continue
        msg = p.decode()
        method = msg.split(" ", 1)[0]
        if method == "SIP/2.0":
            continue
        seen += 1
        out("got", method)
        if method == "MESSAGE":
            out("message_body", msg.split("\r\n\r\n", 1)[1])
            answer(ws, msg, 200, "OK", host)
        elif method == "INVITE":
            out("invite_rr", header(msg, "Record-Route"))
            out("invite_via", header(msg, "Via").split(",")[0])
            answer(ws, msg, 200, "OK", host, SDP)
        elif method == "BYE":
            answer(ws, msg, 200, "OK", host)
        elif method != "ACK":
            answer(ws, msg, 200, "OK", host)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["upgrade", "register", "oversize", "silent"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--ca")
    ap.add_argument("--origin")
    ap.add_argument("--protocol", default="sip")
    ap.add_argument("--version", default="13")
    ap.add_argument("--no-upgrade", action="store_true")
    ap.add_argument("--user", default="bob")
    ap.add_argument("--password", default="")
    ap.add_argument("--domain", default="example.test")
    ap.add_argument("--wait", type=float, default=0)
    ap.add_argument("--until", type=int, default=1000)
    ap.add_argument("--size", type=int, default=0)
    a = ap.parse_args()
    a.via = "WSS" if a.tls else "WS"
    a.tag = os.urandom(4).hex()
    ws = WS(a)
    status = ws.handshake(a)
    out("status", status)
    if a.mode == "upgrade" or status != 101:
        return
    if a.mode == "silent":
        pings, end = 0, time.time() + a.wait
        try:
            while time.time() < end:
                f = ws.recv_frame(end - time.time())
                if f is None:
                    break
                pings += f[0] == 9
        except (EOFError, OSError):
            out("closed", "yes")
        out("pings", pings)
        return
    if a.mode == "oversize":
        try:
            ws.send_frame(1, b"x" * a.size)
        except OSError:
            pass
        f = ws.recv_frame(5)
        out("close", struct.unpack("!H", f[1][:2])[0] if f and f[0] == 8 and len(f[1]) >= 2
            else "-")
        return
    host = "%s.invalid" % os.urandom(4).hex()
    r = register(ws, a, host, 1)
    out("register1", status_of(r))
    r = register(ws, a, host, 2, digest(a, header(r, "WWW-Authenticate"), "REGISTER",
                                        "sip:%s" % a.domain))
    out("register2", status_of(r))
    out("register_contact", header(r, "Contact"))
    ws.send_frame(9, b"hi")
    f = ws.recv_frame(5)
    out("pong", "yes" if f == (10, b"hi") else "no")
    ws.send_frame(1, b"\r\n\r\n")
    f = ws.recv_frame(5)
    out("crlf_pong", "yes" if f is not None and f[1] == b"\r\n" else "no")
    print("registered", flush=True)
    serve(ws, a, host)


if __name__ == "__main__":
    try:
        main()
    except (OSError, RuntimeError, EOFError, ValueError) as e:
        out("error", str(e).replace("\n", " "))
        sys.exit(1)
