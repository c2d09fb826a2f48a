/* SPDX-License-Identifier: MIT */
#include "pk_hash.h"

#include <string.h>

uint64_t
pk_hash_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

uint64_t
pk_hash_str(uint64_t h, const char *s)
{
	return pk_hash_fnv1a(h, s, strlen(s) + 1);
}
