/* SPDX-License-Identifier: MIT */
#include "pk_evclock.h"

#include <math.h>
#include <stddef.h>

void
pk_evclock_init(struct pk_evclock *c)
{
	c->clock = NAN;
	c->behind_max = NAN;
	c->behind = 0;
}

enum pk_evclock_verdict
pk_evclock_see(struct pk_evclock *c, double t, double span, double *back)
{
	if (isnan(c->clock) || t > c->clock) {
		c->clock = t;
		c->behind = 0;
		return PK_EVCLOCK_ON;
	}
	if (!(t < c->clock - span)) {
		c->behind = 0;
		return PK_EVCLOCK_ON;
	}
	/* A run is one timeline: a record far from it starts another. */
	if (c->behind > 0 && fabs(t - c->behind_max) > span)
		c->behind = 0;
	if (c->behind == 0 || t > c->behind_max)
		c->behind_max = t;
	if (++c->behind < PK_EVCLOCK_STEPS)
		return PK_EVCLOCK_LATE;
	if (back != NULL)
		*back = c->clock - c->behind_max;
	c->clock = c->behind_max;
	c->behind = 0;
	return PK_EVCLOCK_STEP;
}
