/* SPDX-License-Identifier: MIT */
/*
 * constraints:N: N linear safety checks a.x <= b on an 8-dimensional
 * moving state, every check evaluated, the violations counted.
 */
#include "pk_rtwork.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DIM 8

struct constraints {
	unsigned n;
	double *a, *b;
	double state[DIM];
	_Atomic unsigned long long violations;
};

static const char *const constraints_counters[] = { "violations", NULL };

static int
constraints_parse(void **ctx, const char *args, char *err, size_t errlen)
{
	struct constraints *c;
	uint64_t n;

	if (pk_rtwork_uint(args, strlen(args), 1000000, &n) == -1)
		return pk_rtwork_fail(err, errlen, "constraints:N wants 1 to "
		    "1000000 checks, not '%s'", args);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return pk_rtwork_fail(err, errlen, "constraints: %s",
		    strerror(ENOMEM));
	c->n = (unsigned)n;
	*ctx = c;
	return 0;
}

static int
constraints_init(void *ctx, char *err, size_t errlen)
{
	struct constraints *c = ctx;
	uint32_t seed = 12345;
	unsigned i, j;

	c->a = malloc((size_t)c->n * DIM * sizeof(*c->a));
	c->b = malloc((size_t)c->n * sizeof(*c->b));
	if (c->a == NULL || c->b == NULL)
		return pk_rtwork_fail(err, errlen, "constraints: %s",
		    strerror(ENOMEM));
	for (i = 0; i < c->n; i++) {
		for (j = 0; j < DIM; j++)
			c->a[i * DIM + j] = pk_rtwork_lcg(&seed);
		c->b[i] = 1.5 + pk_rtwork_lcg(&seed);
	}
	for (j = 0; j < DIM; j++)
		c->state[j] = 0.5 * pk_rtwork_lcg(&seed);
	return 0;
}

static int
constraints_step(void *ctx, unsigned long long tick)
{
	struct constraints *c = ctx;
	unsigned i, j;
	unsigned long long k;
	double s;

	/* The state moves on a bounded trajectory; every check is evaluated. */
	for (j = 0; j < DIM; j++)
		c->state[j] = 0.98 * c->state[j] +
		    0.02 * sin(0.01 * (double)tick + j);
	for (i = 0, k = 0; i < c->n; i++) {
		s = 0;
		for (j = 0; j < DIM; j++)
			s += c->a[(size_t)i * DIM + j] * c->state[j];
		if (s > c->b[i])
			k++;
	}
	/*
	 * The writer thread reads the count while this thread runs: one
	 * writer, so a relaxed load and store (plain moves) suffice.
	 */
	if (k > 0)
		atomic_store_explicit(&c->violations, atomic_load_explicit(
		    &c->violations, memory_order_relaxed) + k,
		    memory_order_relaxed);
	return 0;
}

static void
constraints_fini(void *ctx)
{
	struct constraints *c = ctx;

	if (c == NULL)
		return;
	free(c->a);
	free(c->b);
	free(c);
}

static void
constraints_count(const void *ctx, unsigned long long *v)
{
	const struct constraints *c = ctx;

	v[0] = atomic_load_explicit(&c->violations, memory_order_relaxed);
}

const struct pk_rtwork_type pk_rtwork_constraints = {
	.name = "constraints",
	.args = "N",
	.help = "N linear safety checks on an 8-state vector",
	.counters = constraints_counters,
	.parse = constraints_parse,
	.init = constraints_init,
	.step = constraints_step,
	.fini = constraints_fini,
	.count = constraints_count,
};
