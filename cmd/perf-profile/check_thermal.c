/* SPDX-License-Identifier: MIT */
/*
 * thermal: EWMA of the hottest zone (the one closest to its own trip
 * point, capped at temp_trip_c) above trip - temp_margin_c.
 */
#include <math.h>
#include <stdio.h>

#include "perf-profile.h"

#define TRIP	0	/* keys[] */
#define MARGIN	1

static double
trip(const struct check_ctx *x)
{
	return isnan(x->c->trip_c) ? x->thr[TRIP] : x->c->trip_c;
}

/*
 * The excess is scaled so that reaching the trip point is critical (0.5),
 * and a throttled CPU is at least high (0.25), a capped one medium.
 */
static enum verdict
judge(const struct check_ctx *x, struct judgement *j)
{
	double v = comp_ewma(x->c, M_TEMP), margin = x->thr[MARGIN];
	double thr = trip(x) - margin, e;

	if (isnan(v))
		return VERDICT_OFF;
	e = (v - thr) / margin * 0.5;
	if (x->c->throttled == 2 && e < 0.25)
		e = 0.25;
	else if (x->c->throttled == 1 && e < 0.10)
		e = 0.10;
	j->value = v;
	j->threshold = thr;
	j->excess = e;
	j->past = e > 0;
	j->clear = e < -PK_PROFSEV_HYST;
	return VERDICT_ON;
}

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	double v = check_value(x), t = x->c->trip_c;

	if (x->c->throttled == 2)
		return snprintf(buf, size, "thermal: throttled at %.1f C "
		    "(trip %.0f C)", v, t);
	return snprintf(buf, size, "thermal: %.1f C, %.1f C from the %.0f C "
	    "trip point", v, t - v, t);
}

static int
sys_hint(const struct check_ctx *x, const struct component *top, char *buf,
    size_t size)
{
	(void)top;
	return snprintf(buf, size, "; system near its thermal trip point "
	    "(%.1f C)", check_value(x));
}

/* The window's hottest value against the trip point itself. */
static double
eff(const struct check_ctx *x, const struct pk_profwin_stats *st,
    double *thr, int *floor)
{
	*thr = trip(x);
	*floor = 0;
	return st[M_TEMP].max;
}

const struct check_type check_thermal = {
	.name = "thermal",
	.kind = "thermal",
	.value_name = "temp_c",
	.scope = SCOPE_SYSTEM,
	.keys = {
		[TRIP] = { .name = "temp_trip_c", .def = 95, .rpi = 80 },
		[MARGIN] = { .name = "temp_margin_c", .def = 10, .rpi = 8,
		    .above0 = 1 },
	},
	.metric = M_TEMP,
	.after_levels = 1,
	.judge = judge,
	.rank = M_CPU_PCT,
	.hint = hint,
	.sys_hint = sys_hint,
	.hint_rank = 2,
	.eff = eff,
};
