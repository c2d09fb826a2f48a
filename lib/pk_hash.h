/* SPDX-License-Identifier: MIT */
#ifndef PK_HASH_H
#define PK_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * 64-bit FNV-1a, the toolkit's one hash: alert fingerprints, a command's
 * output in perf-bench, the hash tables of the filters (and, keyed,
 * SipHash-2-4 below for integrity checks). Incremental:
 * h = pk_hash_fnv1a(PK_HASH_FNV_INIT, a, n); h = pk_hash_fnv1a(h, b, m).
 * Not for anything an attacker must not collide (it is not keyed).
 */
#define PK_HASH_FNV_INIT 0xcbf29ce484222325ULL

uint64_t pk_hash_fnv1a(uint64_t h, const void *p, size_t n);
/*
 * SipHash-2-4 (Aumasson and Bernstein) of p under the 16-byte key: a
 * keyed hash for what an attacker must not forge or collide without the
 * key (perf-alert's spool files). The value is the reference's output
 * read as a little-endian 64-bit number.
 */
#define PK_HASH_SIP_KEYLEN 16
uint64_t pk_hash_siphash(const unsigned char key[PK_HASH_SIP_KEYLEN],
    const void *p, size_t n);
/* A NUL-terminated string, its NUL included (so "ab","c" != "a","bc"). */
uint64_t pk_hash_str(uint64_t h, const char *s);

#endif
