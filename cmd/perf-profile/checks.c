/* SPDX-License-Identifier: MIT */
/*
 * The checks, one row each (check_NAME.c), and the judges they share.
 * The order of the table is the order in which a component's bottlenecks
 * end together (it went away, went quiet, or its clock stepped back);
 * they are judged in it too, the plain level checks before the others.
 */
#include <math.h>
#include <stdio.h>

#include "perf-profile.h"

/* The table, one line a check (the row's name in its file), in order. */
#define CHECKS(X) \
	X(check_cpu) \
	X(check_cpu_pct) \
	X(check_mem_avail) \
	X(check_psi_memory) \
	X(check_leak) \
	X(check_latency) \
	X(check_fps) \
	X(check_throughput) \
	X(check_queue_growth) \
	X(check_queue_depth) \
	X(check_thermal) \
	X(check_iowait) \
	X(check_psi_io) \
	X(check_swap) \
	X(check_deadline) \
	X(check_loop_exec) \
	/* end of the table */

#define DECLARE(row)	extern const struct check_type row;
#define ENTRY(row)	&row,

CHECKS(DECLARE)

const struct check_type *const checks[] = {
	CHECKS(ENTRY)
	NULL
};

const size_t nchecks = sizeof(checks) / sizeof(checks[0]) - 1;

_Static_assert(sizeof(checks) / sizeof(checks[0]) - 1 <= CHECK_MAX,
    "more checks than CHECK_MAX");

double
check_value(const struct check_ctx *x)
{
	return x->c->val[x->i];
}

double
check_threshold(const struct check_ctx *x)
{
	return x->c->thr[x->i];
}

/*
 * value against the check's first key (a floor when the row says so). A
 * threshold of 0, or a missing value, disables the check (and ends a
 * bottleneck that was open).
 */
enum verdict
check_level(const struct check_ctx *x, struct judgement *j, double value)
{
	double thr = x->thr[0];

	if (!(thr > 0) || isnan(value))
		return VERDICT_OFF;
	j->excess = pk_profsev_excess(value, thr, x->ck->floor);
	j->value = value;
	j->threshold = thr;
	j->past = j->excess > 0;
	j->clear = j->excess < -PK_PROFSEV_HYST;
	return VERDICT_ON;
}

/* The EWMA of the row's metric against its first key. */
enum verdict
check_judge_ewma(const struct check_ctx *x, struct judgement *j)
{
	return check_level(x, j, comp_ewma(x->c, x->ck->metric));
}

/*
 * The slope per minute of w against the first key: it must also fit well
 * and cover half of span to start, and ends when it fits badly.
 */
enum verdict
check_trend(const struct check_ctx *x, struct judgement *j,
    struct pk_profwin *w, double span)
{
	double thr = x->thr[0], slope, r2, cover;

	pk_profwin_expire(w, x->t);
	if (!(thr > 0) || w->n < 5)
		return VERDICT_OFF;
	slope = pk_profwin_slope(w, &r2);
	cover = w->t[(w->head + w->n - 1) % w->cap] - w->t[w->head];
	if (isnan(slope))
		return VERDICT_SKIP;
	j->excess = pk_profsev_excess(slope, thr, 0);
	j->past = j->excess > 0 && r2 >= MIN_FIT_R2 && cover >= span / 2;
	j->clear = j->excess < -PK_PROFSEV_HYST || r2 < END_FIT_R2;
	j->value = slope;
	j->threshold = thr;
	return VERDICT_ON;
}

/* The window's mean of the row's metric against its first key. */
double
check_eff_mean(const struct check_ctx *x, const struct pk_profwin_stats *st,
    double *thr, int *floor)
{
	*thr = x->thr[0];
	*floor = x->ck->floor;
	return st[x->ck->metric].mean;
}

int
check_sys_text(const struct check_ctx *x, const struct component *top,
    char *buf, size_t size)
{
	(void)top;
	return snprintf(buf, size, "; system %s", x->ck->sys_text);
}

/*
 * A control loop's context, after the n characters of its hint: what
 * its host's samples say of the CPUs on the same clock (busy over 90%,
 * throttled or capped, the hottest zone within 5 C of its trip point).
 */
int
check_loop_context(const struct check_ctx *x, char *buf, size_t size, int n)
{
	const struct component *sys = x->c->host->system;
	double util, temp;

	if (n < 0 || (size_t)n >= size || sys == NULL)
		return n;
	util = comp_ewma(sys, M_CPU_UTIL);
	temp = comp_ewma(sys, M_TEMP);
	if (util > 90)
		n += snprintf(buf + n, size - (size_t)n, "; system CPU %.0f%% "
		    "busy", util);
	if (n >= 0 && (size_t)n < size && sys->throttled)
		n += snprintf(buf + n, size - (size_t)n, "; CPU %s",
		    sys->throttled == 2 ? "throttled" : "frequency capped");
	if (n >= 0 && (size_t)n < size && !isnan(temp) &&
	    temp >= sys->trip_c - 5)
		n += snprintf(buf + n, size - (size_t)n, "; %.0f C, near its "
		    "%.0f C trip point", temp, sys->trip_c);
	return n;
}
