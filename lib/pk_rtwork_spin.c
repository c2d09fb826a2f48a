/* SPDX-License-Identifier: MIT */
/* spin:US: busy-wait US microseconds on the monotonic clock. */
#include "pk_rtwork.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct spin {
	int64_t ns;
};

static int
spin_parse(void **ctx, const char *args, char *err, size_t errlen)
{
	struct spin *s;
	uint64_t us;

	if (pk_rtwork_uint(args, strlen(args), 10000000, &us) == -1)
		return pk_rtwork_fail(err, errlen, "spin:US wants 1 to "
		    "10000000 microseconds, not '%s'", args);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return pk_rtwork_fail(err, errlen, "spin: %s", strerror(ENOMEM));
	s->ns = (int64_t)us * 1000;
	*ctx = s;
	return 0;
}

static int
spin_step(void *ctx, unsigned long long tick)
{
	const struct spin *s = ctx;
	struct timespec t0, t;
	int64_t d;

	(void)tick;
	/* CLOCK_MONOTONIC is read in the vDSO: no system call. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		clock_gettime(CLOCK_MONOTONIC, &t);
		d = (int64_t)(t.tv_sec - t0.tv_sec) * 1000000000 +
		    (t.tv_nsec - t0.tv_nsec);
	} while (d < s->ns);
	return 0;
}

const struct pk_rtwork_type pk_rtwork_spin = {
	.name = "spin",
	.args = "US",
	.help = "busy-wait US microseconds",
	.parse = spin_parse,
	.step = spin_step,
	.fini = free,
};
