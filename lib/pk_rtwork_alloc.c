/* SPDX-License-Identifier: MIT */
/*
 * alloc:SIZE[,N]: allocation latency in the loop, the control-loop
 * report's "allocation under 10 us" beside its "pre-allocated pools".
 * Each period takes N blocks of SIZE bytes with malloc(3) and writes one
 * byte in each of their pages, then frees them; and takes the same N
 * blocks from a pool allocated and touched at init (a stack of free
 * blocks, as a real-time allocator keeps one) and gives them back. Each
 * block's take plus give back is timed with CLOCK_MONOTONIC (the vDSO, no
 * system call), the page writes outside the time; the counters are the
 * p99 and the max of both, in nanoseconds, from histograms of 16 buckets
 * per octave (within 1/16) that the RT thread fills and the writer reads.
 *
 * This row allocates in the RT thread by design: it measures what that
 * costs. Blocks over malloc's mmap threshold (128 KiB by default) are
 * mmap(2)ed and faulted in every period, which the loop's page-fault
 * counts (rt_faults) show.
 */
#include "pk_rtwork.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SUB	16			/* buckets per octave */
#define OCTAVES	40			/* up to 2^40 ns */
#define NB	(SUB + (OCTAVES - 4) * SUB)

/* A histogram with one writer (the RT thread) and relaxed readers. */
struct ahist {
	_Atomic unsigned long long n[NB];
	_Atomic unsigned long long max;
};

struct alloc {
	size_t size, nblocks, page;
	void **pool;			/* the free blocks, a stack */
	size_t top;
	void **held;			/* the blocks of a period */
	struct ahist hmalloc, hpool;
};

static const char *const alloc_counters[] = { "malloc_p99_ns",
	"malloc_max_ns", "pool_p99_ns", "pool_max_ns", NULL };

static size_t
bucket(unsigned long long v)
{
	unsigned e;
	size_t i;

	if (v < SUB)
		return (size_t)v;
	e = 63u - (unsigned)__builtin_clzll(v);		/* 2^e <= v */
	i = SUB + (size_t)(e - 4) * SUB + (size_t)((v >> (e - 4)) & (SUB - 1));
	return i < NB ? i : NB - 1;
}

/* The largest value of bucket i. */
static unsigned long long
bucket_top(size_t i)
{
	unsigned e;

	if (i < SUB)
		return i;
	e = (unsigned)((i - SUB) / SUB) + 4;
	return ((unsigned long long)(SUB + (i - SUB) % SUB + 1) << (e - 4)) - 1;
}

static void
ahist_add(struct ahist *h, unsigned long long v)
{
	_Atomic unsigned long long *c = &h->n[bucket(v)];

	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) +
	    1, memory_order_relaxed);
	if (v > atomic_load_explicit(&h->max, memory_order_relaxed))
		atomic_store_explicit(&h->max, v, memory_order_relaxed);
}

/* The p99: the top of its bucket, capped at the max; 0 when empty. */
static unsigned long long
ahist_p99(const struct ahist *h)
{
	unsigned long long total = 0, want, seen = 0, max, top;
	size_t i;

	for (i = 0; i < NB; i++)
		total += atomic_load_explicit(&h->n[i], memory_order_relaxed);
	if (total == 0)
		return 0;
	want = total - total / 100;	/* ceil(0.99 total) for total < 2^64/100 */
	max = atomic_load_explicit(&h->max, memory_order_relaxed);
	for (i = 0; i < NB; i++) {
		seen += atomic_load_explicit(&h->n[i], memory_order_relaxed);
		if (seen >= want) {
			top = bucket_top(i);
			return top < max ? top : max;
		}
	}
	return max;
}

static unsigned long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL +
	    (unsigned long long)ts.tv_nsec;
}

/* One byte in each page of a block. */
static void
touch(const struct alloc *a, unsigned char *p)
{
	size_t off;

	for (off = 0; off < a->size; off += a->page)
		p[off] = 1;
	p[a->size - 1] = 1;
}

static int
alloc_parse(void **ctx, const char *args, char *err, size_t errlen)
{
	const char *comma = strchr(args, ',');
	uint64_t size, n = 1;
	struct alloc *a;

	if (pk_rtwork_uint(args, comma != NULL ? (size_t)(comma - args) :
	    strlen(args), 16u << 20, &size) == -1 ||
	    (comma != NULL && pk_rtwork_uint(comma + 1, strlen(comma + 1),
	    1024, &n) == -1))
		return pk_rtwork_fail(err, errlen, "alloc:SIZE[,N] wants SIZE "
		    "1 to 16777216 bytes and N 1 to 1024 blocks, not '%s'",
		    args);
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return pk_rtwork_fail(err, errlen, "alloc: %s",
		    strerror(ENOMEM));
	a->size = (size_t)size;
	a->nblocks = (size_t)n;
	*ctx = a;
	return 0;
}

static int
alloc_init(void *ctx, char *err, size_t errlen)
{
	struct alloc *a = ctx;
	long pg = sysconf(_SC_PAGESIZE);
	size_t i;

	a->page = pg > 0 ? (size_t)pg : 4096;
	a->pool = calloc(a->nblocks, sizeof(*a->pool));
	a->held = calloc(a->nblocks, sizeof(*a->held));
	if (a->pool == NULL || a->held == NULL)
		return pk_rtwork_fail(err, errlen, "alloc: %s",
		    strerror(ENOMEM));
	for (i = 0; i < a->nblocks; i++) {
		a->pool[i] = malloc(a->size);
		if (a->pool[i] == NULL)
			return pk_rtwork_fail(err, errlen, "alloc: %s",
			    strerror(ENOMEM));
		touch(a, a->pool[i]);
		a->top = i + 1;
	}
	return 0;
}

static int
alloc_step(void *ctx, unsigned long long tick)
{
	struct alloc *a = ctx;
	unsigned long long t0, t1, spent[1024];
	size_t i;
	int failed = 0;

	(void)tick;
	/* malloc and free, each block's two calls timed. */
	for (i = 0; i < a->nblocks; i++) {
		t0 = now_ns();
		a->held[i] = malloc(a->size);
		spent[i] = now_ns() - t0;
		if (a->held[i] == NULL)
			failed = 1;
		else
			touch(a, a->held[i]);
	}
	for (i = 0; i < a->nblocks; i++) {
		t0 = now_ns();
		free(a->held[i]);
		t1 = now_ns();
		ahist_add(&a->hmalloc, spent[i] + (t1 - t0));
	}
	/* The pool: the same blocks taken from the stack and given back. */
	for (i = 0; i < a->nblocks; i++) {
		t0 = now_ns();
		a->held[i] = a->top > 0 ? a->pool[--a->top] : NULL;
		spent[i] = now_ns() - t0;
		if (a->held[i] != NULL)
			touch(a, a->held[i]);
	}
	for (i = a->nblocks; i-- > 0;) {
		t0 = now_ns();
		if (a->held[i] != NULL)
			a->pool[a->top++] = a->held[i];
		t1 = now_ns();
		ahist_add(&a->hpool, spent[i] + (t1 - t0));
	}
	return failed;
}

static void
alloc_fini(void *ctx)
{
	struct alloc *a = ctx;
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; a->pool != NULL && i < a->top; i++)
		free(a->pool[i]);
	free(a->pool);
	free(a->held);
	free(a);
}

static void
alloc_count(const void *ctx, unsigned long long *v)
{
	const struct alloc *a = ctx;

	v[0] = ahist_p99(&a->hmalloc);
	v[1] = atomic_load_explicit(&a->hmalloc.max, memory_order_relaxed);
	v[2] = ahist_p99(&a->hpool);
	v[3] = atomic_load_explicit(&a->hpool.max, memory_order_relaxed);
}

const struct pk_rtwork_type pk_rtwork_alloc = {
	.name = "alloc",
	.args = "SIZE[,N]",
	.help = "time malloc/free and a pool of N SIZE-byte blocks",
	.counters = alloc_counters,
	.parse = alloc_parse,
	.init = alloc_init,
	.step = alloc_step,
	.fini = alloc_fini,
	.count = alloc_count,
};
