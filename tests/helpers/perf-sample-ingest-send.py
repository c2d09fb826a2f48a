#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Send StatsD and JSON metric datagrams to perf-sample --ingest.

usage: perf-sample-ingest-send.py DEST SENDERS RATE SECONDS [BAD_EVERY]

DEST is unix:PATH or udp:ADDR:PORT. SENDERS processes together send
about RATE datagrams a second for SECONDS seconds; every BAD_EVERY-th
datagram of each sender is bad (malformed, oversized or binary, in turn;
0: none). Prints "sent N bad B" once all senders are done: the tests
count, they do not time.
"""
import multiprocessing
import socket
import sys
import time


def sender(dest, idx, rate, seconds, bad_every, out):
    if dest.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.connect(dest[5:])
    else:
        host, port = dest[4:].rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((host, int(port)))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    bads = [b"this is not statsd", b"x" * 70000, b"\x00\x01\xffbinary\x00"]
    sent = bad = 0
    start = time.monotonic()
    total = int(rate * seconds)
    for i in range(total):
        if bad_every and i % bad_every == bad_every - 1:
            msg = bads[bad % len(bads)]
            bad += 1
        elif i % 2:
            msg = b"app%d.fps:%d.5|g|#run:t" % (idx, i % 60)
        else:
            msg = (b'{"type":"metric","component":"json%d","latency_ms":%d}'
                   % (idx, i % 100))
        while True:
            try:
                s.send(msg)
                break
            except (BlockingIOError, InterruptedError):
                continue
        sent += 1
        # Pace: about rate a second, never faster.
        ahead = (i + 1) / rate - (time.monotonic() - start)
        if ahead > 0.001:
            time.sleep(ahead)
    out.put((sent, bad))


def main():
    dest, n, rate, seconds = sys.argv[1], int(sys.argv[2]), float(
        sys.argv[3]), float(sys.argv[4])
    bad_every = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=sender, args=(
        dest, i, rate / n, seconds, bad_every, q)) for i in range(n)]
    for p in ps:
        p.start()
    res = [q.get() for _ in ps]
    for p in ps:
        p.join()
    print("sent %d bad %d" % (sum(r[0] for r in res), sum(r[1] for r in res)))


if __name__ == "__main__":
    main()
