/* SPDX-License-Identifier: MIT */
/*
 * leak: a component's RSS slope over the leak window (--leak-window) over
 * rss_growth_kb_per_min, fitting well over half the window at least.
 */
#include <math.h>
#include <stdio.h>

#include "perf-profile.h"

static enum verdict
judge(const struct check_ctx *x, struct judgement *j)
{
	return check_trend(x, j, &x->c->leak, x->s->conf.leak_window);
}

/* The others of the host ranked by their own RSS slope. */
static double
rank_value(const struct state *s, const struct component *o)
{
	(void)s;
	return comp_leak_slope(o);
}

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "leak suspected: RSS of %s grows %.0f "
	    "kB/min steadily, over %.0f kB/min", x->c->name, check_value(x),
	    check_threshold(x));
}

/* The RSS growth counts while the leak check holds it a leak. */
static double
eff(const struct check_ctx *x, const struct pk_profwin_stats *st,
    double *thr, int *floor)
{
	(void)st;
	*thr = x->thr[0];
	*floor = 0;
	return x->c->sev[x->i].active ? check_value(x) : NAN;
}

const struct check_type check_leak = {
	.name = "leak",
	.kind = "leak",
	.value_name = "rss_kb_trend_per_min",
	.scope = SCOPE_COMPONENT,
	.keys = { { .name = "rss_growth_kb_per_min", .def = 1024,
	    .rpi = 256 } },
	.metric = M_RSS,
	.after_levels = 1,
	.judge = judge,
	.rank = M_RSS,
	.rank_value = rank_value,
	.hint = hint,
	.eff = eff,
};
