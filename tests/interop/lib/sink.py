# A sink for the attack tests: a UDP socket and a TCP listener on
# 127.0.0.1 (ports chosen by the kernel, written to OUT.ports), logging one
# line per datagram, connection and read to OUT. Exits after LIFETIME
# seconds (default 120) so that a test that dies cannot leave it behind.
import select
import socket
import sys
import time

out = sys.argv[1]
lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 0))
t.listen(16)
log = open(out, "a", buffering=1)
with open(out + ".ports.tmp", "w") as f:
    f.write("%d %d\n" % (u.getsockname()[1], t.getsockname()[1]))
import os
os.rename(out + ".ports.tmp", out + ".ports")
conns = []
end = time.time() + lifetime
while time.time() < end:
    ready, _, _ = select.select([u, t] + conns, [], [], 0.5)
    for s in ready:
        if s is u:
            d, a = u.recvfrom(65535)
            log.write("udp %d bytes from %s: %r\n" % (len(d), a, d[:60]))
        elif s is t:
            c, a = t.accept()
            conns.append(c)
            log.write("tcp connection from %s\n" % (a,))
        else:
            d = s.recv(65535)
            if d:
                log.write("tcp %d bytes: %r\n" % (len(d), d[:60]))
            else:
                conns.remove(s)
                s.close()
