/* SPDX-License-Identifier: MIT */
/*
 * queue_growth: the slope of a component's queue_depth over the rolling
 * window above queue_growth_per_min, with the fit rules of leak.
 */
#include <stdio.h>

#include "perf-profile.h"

static enum verdict
judge(const struct check_ctx *x, struct judgement *j)
{
	return check_trend(x, j, &x->c->win[M_QUEUE], x->s->conf.window);
}

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "queue of %s grows %.1f per minute: its "
	    "consumer is slower than its producer", x->c->name,
	    check_value(x));
}

static double
eff(const struct check_ctx *x, const struct pk_profwin_stats *st,
    double *thr, int *floor)
{
	*thr = x->thr[0];
	*floor = 0;
	return st[M_QUEUE].trend_per_min;
}

const struct check_type check_queue_growth = {
	.name = "queue_growth",
	.kind = "queue",
	.value_name = "queue_depth_trend_per_min",
	.scope = SCOPE_COMPONENT,
	.keys = { { .name = "queue_growth_per_min", .def = 6, .rpi = 6 } },
	.metric = M_QUEUE,
	.after_levels = 1,
	.judge = judge,
	.rank = M_CPU_PCT,
	.hint = hint,
	.eff = eff,
};
