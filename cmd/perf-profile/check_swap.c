/* SPDX-License-Identifier: MIT */
/*
 * swap: thrashing. Pages swapped in and swapped out both sustained above
 * swap_thrash_pages_per_s: the lesser of the window's two medians is over
 * it, and the window holds half its span of both. A system that only
 * swaps out (making room) or only swaps in (coming back) is not
 * thrashing. With swap_psi_memory_min set, PSI memory some avg10 (EWMA)
 * must be at least that too: the tasks do stall on it.
 *
 * Its kind is memory: thrashing is RAM too small for the working set, an
 * alert on memory bottlenecks should see it, and the kinds other
 * programs match on stay the ones of docs/records.md; the metric
 * (swap_per_s_p50) tells it from the other memory checks.
 */
#include <math.h>
#include <stdio.h>

#include "perf-profile.h"

#define THRASH	0	/* keys[] */
#define PSI	1

/* The window's median of m at the check's time (NAN: empty). */
static double
median(const struct check_ctx *x, enum metric m)
{
	struct pk_profwin *w = &x->c->win[m];

	pk_profwin_expire(w, x->t);
	return w->n == 0 ? NAN : pk_profwin_quantile(w, 0.5, x->s->scratch);
}

static int
covered(const struct check_ctx *x, enum metric m)
{
	const struct pk_profwin *w = &x->c->win[m];

	return w->n > 0 && w->t[(w->head + w->n - 1) % w->cap] -
	    w->t[w->head] >= x->s->conf.window / 2;
}

static enum verdict
judge(const struct check_ctx *x, struct judgement *j)
{
	double in = median(x, M_SWAP_IN), out = median(x, M_SWAP_OUT);
	double psi = comp_ewma(x->c, M_PSI_MEM), psi_min = x->thr[PSI];
	enum verdict v;

	v = check_level(x, j, isnan(in) || isnan(out) ? NAN : fmin(in, out));
	if (v != VERDICT_ON)
		return v;
	j->past = j->past && covered(x, M_SWAP_IN) &&
	    covered(x, M_SWAP_OUT) && (!(psi_min > 0) || psi >= psi_min);
	if (psi_min > 0 && !(psi >= psi_min * (1 - PK_PROFSEV_HYST)))
		j->clear = 1;
	return VERDICT_ON;
}

/* The processes whose RSS grows fastest over the window. */
static double
rank_value(const struct state *s, const struct component *o)
{
	double r2;

	(void)s;
	return o->win[M_RSS].n < 2 ? NAN :
	    pk_profwin_slope(&o->win[M_RSS], &r2);
}

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	double majflt = comp_ewma(x->c, M_MAJFLT);
	int n;

	n = snprintf(buf, size, "swap thrashing: %.0f pages/s in and %.0f out "
	    "(medians over the window), over %.0f", median(x, M_SWAP_IN),
	    median(x, M_SWAP_OUT), check_threshold(x));
	if (n >= 0 && (size_t)n < size && !isnan(majflt))
		n += snprintf(buf + n, size - (size_t)n, "; %.0f major "
		    "faults/s", majflt);
	return n;
}

/* The lesser of the window's medians against the threshold. */
static double
eff(const struct check_ctx *x, const struct pk_profwin_stats *st,
    double *thr, int *floor)
{
	*thr = x->thr[THRASH];
	*floor = 0;
	if (st[M_SWAP_IN].n == 0 || st[M_SWAP_OUT].n == 0)
		return NAN;
	return fmin(st[M_SWAP_IN].p50, st[M_SWAP_OUT].p50);
}

const struct check_type check_swap = {
	.name = "swap",
	.kind = "memory",
	.value_name = "swap_per_s_p50",
	.scope = SCOPE_SYSTEM,
	.keys = {
		[THRASH] = { .name = "swap_thrash_pages_per_s", .def = 256,
		    .rpi = 64 },
		[PSI] = { .name = "swap_psi_memory_min", .def = 0, .rpi = 0 },
	},
	.metric = M_SWAP_IN,
	.judge = judge,
	.rank = M_RSS,
	.rank_value = rank_value,
	.hint = hint,
	.sys_hint = check_sys_text,
	.sys_text = "thrashing swap",
	.hint_rank = 3,
	.eff = eff,
};
