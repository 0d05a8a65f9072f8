#!/usr/bin/env python3
"""How long a registration committed on one cluster node takes to reach
another node's memory (bench/cluster.sh).

Each sample registers a user (PREFIX0..PREFIX15 in turn) on node A (REGISTER, 401, REGISTER with digest
credentials, from a new UDP port, so a new Contact), takes the time the
200 OK arrives (the COMMIT is done by then), then polls node B's admin API
(GET /api/v1/location?aor=...) every millisecond or so until the new
Contact is listed. Prints one line:

    visibility samples=N median_ms=.. p90_ms=.. max_ms=.. missed=..

A sample not seen within --give-up seconds counts as missed, one whose
REGISTER did not get its 200 as failed. The digest
client is the interop tests' (tests/interop/lib/digest_uac.py).
"""
import argparse
import os
import socket
import sys
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "interop", "lib"))
import digest_uac  # noqa: E402


def register(a):
    """Register a.user on node A from a fresh port; returns (contact, the
    time the 200 arrived) or raises SystemExit on another status."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((a.bind, 0))
    a.local_port = sock.getsockname()[1]
    a.call_id = os.urandom(6).hex()
    data, uri = digest_uac.request(a, os.urandom(6).hex(), 1, [])
    code, msg = digest_uac.exchange(sock, data, a.port)
    chals = digest_uac.challenges(msg)
    if code != 401 or not chals:
        raise SystemExit("visibility: first REGISTER got %d" % code)
    cred = digest_uac.credentials(a, chals[0], chals[0].get("algorithm", "MD5"), uri)
    data, _ = digest_uac.request(a, os.urandom(6).hex(), 2, [cred])
    code, _ = digest_uac.exchange(sock, data, a.port)
    done = time.monotonic()
    sock.close()
    if code != 200:
        raise SystemExit("visibility: REGISTER got %d" % code)
    return "sip:%s@%s:%d" % (a.user, a.bind, a.local_port), done


def seen(a, contact):
    req = urllib.request.Request(
        "http://127.0.0.1:%d/api/v1/location?aor=%s@%s" % (a.api_port, a.user, a.domain),
        headers={"Authorization": "Bearer " + a.token})
    with urllib.request.urlopen(req, timeout=2) as r:
        return ('"%s"' % contact) in r.read().decode()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True, help="node A's SIP port")
    p.add_argument("--api-port", type=int, required=True, help="node B's admin port")
    p.add_argument("--token-file", required=True)
    p.add_argument("--domain", required=True)
    p.add_argument("--users", default="probe",
                   help="sample i registers PREFIX<i mod 16>, password pw-PREFIX<i mod 16>")
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.25, help="seconds between samples")
    p.add_argument("--give-up", type=float, default=5)
    a = p.parse_args()
    with open(a.token_file) as f:
        a.token = f.read().strip()
    # What digest_uac.request reads.
    a.method, a.uri, a.from_user, a.from_host = "REGISTER", None, None, None
    a.user_agent, a.expires, a.bind = "sipkit-bench-visibility", 600, "127.0.0.1"
    a.header = "Authorization"
    times, missed, failed = [], 0, 0
    for i in range(a.samples):
        # One user per sample (16 in turn): an AOR holds 16 bindings at most.
        a.user = "%s%d" % (a.users, i % 16)
        a.password = "pw-" + a.user
        try:
            contact, t0 = register(a)
        except SystemExit as e:
            # Under overload a late 401 to the first REGISTER's
            # retransmission can come where the 200 was awaited.
            print(e, file=sys.stderr)
            failed += 1
            continue
        while not seen(a, contact):
            if time.monotonic() - t0 > a.give_up:
                missed += 1
                break
            time.sleep(0.001)
        else:
            times.append((time.monotonic() - t0) * 1000)
        time.sleep(a.interval)
    times.sort()
    if not times:
        print("visibility samples=0 missed=%d failed=%d" % (missed, failed))
        return 1
    print("visibility samples=%d median_ms=%.1f p90_ms=%.1f max_ms=%.1f missed=%d failed=%d" %
          (len(times), times[len(times) // 2], times[min(len(times) - 1, len(times) * 9 // 10)],
           times[-1], missed, failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
