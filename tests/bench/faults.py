#!/usr/bin/env python3
"""Faults for tests/bench/scale.sh, aimed at a server that holds many sessions.

  faults.py half-open SERVER PORT SOURCES COUNT SECONDS
      COUNT TCP connections from SOURCES (addresses, round-robin) that send nothing,
      held for SECONDS, then closed. Prints how many were made.
  faults.py dtls-garbage SERVER PORT SOURCES COUNT RATE
      COUNT UDP datagrams at RATE a second from SOURCES (random ports): a third random
      bytes, a third DTLS application-data records with random epochs, sequence
      numbers and bodies, a third DTLS ClientHellos with random session IDs and bodies.
      Prints how many were sent.

Every address must be in 198.18.0.0/15."""
import ipaddress
import os
import random
import resource
import socket
import struct
import sys
import time

BENCH = ipaddress.ip_network("198.18.0.0/15")


def addresses(spec):
    out = []
    for part in spec.split(","):
        if "-" in part:
            a, b = (ipaddress.ip_address(x) for x in part.split("-"))
            out += [ipaddress.ip_address(i) for i in range(int(a), int(b) + 1)]
        else:
            out.append(ipaddress.ip_address(part))
    for a in out:
        if a not in BENCH:
            sys.exit(f"{a} is not in {BENCH}")
    return [str(a) for a in out]


def half_open(server, port, sources, count, seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((sources[i % len(sources)], 0))
        s.setblocking(False)
        try:
            s.connect((server, port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            continue
        socks.append(s)
    time.sleep(seconds)
    for s in socks:
        s.close()
    print(len(socks))


def garbage(kind, rng):
    body = rng.randbytes(rng.randint(0, 1400))
    if kind == 0:
        return rng.randbytes(rng.randint(1, 1500))
    if kind == 1:
        head = struct.pack("!BHHHI", 23, 0xFEFF, rng.randint(0, 3), rng.getrandbits(16),
                           rng.getrandbits(32))
        return head + struct.pack("!H", len(body)) + body
    hello = (struct.pack("!B", 1) + len(body).to_bytes(3, "big") + b"\0\0" + b"\0\0\0" +
             len(body).to_bytes(3, "big") + b"\xfe\xfd" + rng.randbytes(32) + b"\x20" +
             rng.randbytes(32) + body)
    return struct.pack("!BHHHIH", 22, 0xFEFF, 0, 0, rng.getrandbits(32), len(hello)) + hello


def dtls_garbage(server, port, sources, count, rate):
    rng = random.Random(int.from_bytes(os.urandom(8), "big"))
    socks = []
    for a in sources:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, 0))
        socks.append(s)
    sent = 0
    start = time.monotonic()
    for i in range(count):
        try:
            socks[i % len(socks)].sendto(garbage(i % 3, rng), (server, port))
            sent += 1
        except OSError:
            pass
        ahead = (i + 1) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    print(sent)


def main():
    if len(sys.argv) != 7 or sys.argv[1] not in ("half-open", "dtls-garbage"):
        sys.exit(__doc__)
    server, port = sys.argv[2], int(sys.argv[3])
    if ipaddress.ip_address(server) not in BENCH:
        sys.exit(f"{server} is not in {BENCH}")
    sources, count = addresses(sys.argv[4]), int(sys.argv[5])
    if sys.argv[1] == "half-open":
        half_open(server, port, sources, min(count, 20000), min(float(sys.argv[6]), 600))
    else:
        dtls_garbage(server, port, sources, min(count, 1000000), max(float(sys.argv[6]), 1))


if __name__ == "__main__":
    main()
