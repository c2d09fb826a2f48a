/* SPDX-License-Identifier: MIT */
/* latency: the window's p95 of a component's latency_ms over latency_p95_ms. */
#include <math.h>
#include <stdio.h>

#include "perf-profile.h"

static enum verdict
judge(const struct check_ctx *x, struct judgement *j)
{
	const struct pk_profwin *w = &x->c->win[M_LATENCY];

	if (!(x->c->present & (1u << M_LATENCY)))
		return VERDICT_SKIP;
	return check_level(x, j, w->n == 0 ? NAN :
	    pk_profwin_quantile(w, 0.95, x->s->scratch));
}

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "%s latency p95 %.1f ms over the %.1f ms "
	    "target", x->c->name, check_value(x), check_threshold(x));
}

static double
eff(const struct check_ctx *x, const struct pk_profwin_stats *st,
    double *thr, int *floor)
{
	*thr = x->thr[0];
	*floor = 0;
	return st[M_LATENCY].p95;
}

const struct check_type check_latency = {
	.name = "latency",
	.kind = "latency",
	.value_name = "latency_ms_p95",
	.scope = SCOPE_COMPONENT,
	.keys = { { .name = "latency_p95_ms", .def = 0, .rpi = 0 } },
	.metric = M_LATENCY,
	.judge = judge,
	.rank = M_CPU_PCT,
	.hint = hint,
	.eff = eff,
};
