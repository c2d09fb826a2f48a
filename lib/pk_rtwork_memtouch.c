/* SPDX-License-Identifier: MIT */
/*
 * memtouch:KB: write one byte in every 64-byte cache line of a KB-KiB
 * buffer each period, a stand-in for memory-bound work whose cost shows
 * the cache and memory bandwidth that other cores leave it. The buffer is
 * allocated and written through at init (so --mlock locks it). Step t
 * writes (t + 1) mod 256 and first adds the byte it overwrites to a
 * checksum: after steps 0..n-1 it is lines * the sum of t mod 256 for t
 * below n, which proves that every line was touched.
 */
#include "pk_rtwork.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define LINE 64

struct memtouch {
	size_t len;
	unsigned char *buf;
	_Atomic unsigned long long checksum;
};

static const char *const memtouch_counters[] = { "checksum", NULL };

static int
memtouch_parse(void **ctx, const char *args, char *err, size_t errlen)
{
	struct memtouch *m;
	uint64_t kb;

	if (pk_rtwork_uint(args, strlen(args), 1048576, &kb) == -1)
		return pk_rtwork_fail(err, errlen, "memtouch:KB wants 1 to "
		    "1048576 KiB, not '%s'", args);
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return pk_rtwork_fail(err, errlen, "memtouch: %s",
		    strerror(ENOMEM));
	m->len = (size_t)kb * 1024;
	*ctx = m;
	return 0;
}

static int
memtouch_init(void *ctx, char *err, size_t errlen)
{
	struct memtouch *m = ctx;

	/* Line-aligned, so that len / LINE lines are touched exactly. */
	m->buf = aligned_alloc(LINE, m->len);
	if (m->buf == NULL)
		return pk_rtwork_fail(err, errlen, "memtouch: %s",
		    strerror(ENOMEM));
	memset(m->buf, 0, m->len);
	return 0;
}

static int
memtouch_step(void *ctx, unsigned long long tick)
{
	struct memtouch *m = ctx;
	unsigned char *p = m->buf, *end = m->buf + m->len;
	unsigned char v = (unsigned char)(tick + 1);
	unsigned long long sum = 0;

	for (; p < end; p += LINE) {
		sum += *p;
		*p = v;
	}
	/* Read by the writer thread: one writer, relaxed moves suffice. */
	atomic_store_explicit(&m->checksum, atomic_load_explicit(&m->checksum,
	    memory_order_relaxed) + sum, memory_order_relaxed);
	return 0;
}

static void
memtouch_fini(void *ctx)
{
	struct memtouch *m = ctx;

	if (m == NULL)
		return;
	free(m->buf);
	free(m);
}

static void
memtouch_count(const void *ctx, unsigned long long *v)
{
	const struct memtouch *m = ctx;

	v[0] = atomic_load_explicit(&m->checksum, memory_order_relaxed);
}

const struct pk_rtwork_type pk_rtwork_memtouch = {
	.name = "memtouch",
	.args = "KB",
	.help = "write a byte in each 64-byte line of KB KiB",
	.counters = memtouch_counters,
	.parse = memtouch_parse,
	.init = memtouch_init,
	.step = memtouch_step,
	.fini = memtouch_fini,
	.count = memtouch_count,
};
