#!/usr/bin/python3
# Re-sign an edited perf-alert spool file, as perf-alert writes it: the
# object's bytes, ending in ,"mac":"<16 hex>"}, the mac the SipHash-2-4 of
# the bytes before it (with the closing brace) under the state
# directory's spool.key. For tests that forge a spool entry on purpose
# (an old "created" time); the key is what makes it theirs to forge.
# usage: perf-alert-spool-sign.py FILE STATEDIR/spool.key
# With --vectors, checks the implementation against the reference's.
import json
import sys

M = (1 << 64) - 1


def rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M


def siphash24(key, msg):
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:16], "little")
    v = [0x736F6D6570736575 ^ k0, 0x646F72616E646F6D ^ k1,
         0x6C7967656E657261 ^ k0, 0x7465646279746573 ^ k1]

    def rnd():
        v[0] = (v[0] + v[1]) & M; v[1] = rotl(v[1], 13); v[1] ^= v[0]
        v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & M; v[3] = rotl(v[3], 16); v[3] ^= v[2]
        v[0] = (v[0] + v[3]) & M; v[3] = rotl(v[3], 21); v[3] ^= v[0]
        v[2] = (v[2] + v[1]) & M; v[1] = rotl(v[1], 17); v[1] ^= v[2]
        v[2] = rotl(v[2], 32)

    n = len(msg)
    for i in range(0, n - n % 8, 8):
        m = int.from_bytes(msg[i:i + 8], "little")
        v[3] ^= m; rnd(); rnd(); v[0] ^= m
    last = int.from_bytes(msg[n - n % 8:], "little") | ((n & 0xFF) << 56)
    v[3] ^= last; rnd(); rnd(); v[0] ^= last
    v[2] ^= 0xFF
    for _ in range(4):
        rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


if sys.argv[1] == "--vectors":
    # The reference's first vectors: key 00..0f, messages 00 01 .. i-1.
    want = ["310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d",
            "2d7efbd796666785", "b7877127e09427cf",
            "8da699cd64557618"]
    for i, w in enumerate(want):
        got = siphash24(bytes(range(16)), bytes(range(i))).to_bytes(8, "little").hex()
        assert got == w, (i, got, w)
    sys.exit(0)

path, keyfile = sys.argv[1], sys.argv[2]
key = open(keyfile, "rb").read()
o = json.loads(open(path, "rb").read())
o.pop("mac", None)
body = json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode()
mac = siphash24(key, body)
with open(path, "wb") as f:
    f.write(body[:-1] + (',"mac":"%016x"}' % mac).encode())
