/* SPDX-License-Identifier: MIT */
/*
 * --push URL: the results to a Prometheus Pushgateway, once, at the end,
 * for CI history. Each command is a group of its own (job perf-bench,
 * instance the host, command its name, encoded by pk_push_url), so that a
 * run of some commands replaces their figures and leaves the others'.
 * Each phase is a series (label phase); the statistics are the rows of
 * one table, documented in the man page's METRICS section.
 */
#include "perf-bench.h"

#include <stddef.h>
#include <stdlib.h>

#include "pk_err.h"
#include "pk_jw.h"
#include "pk_prom.h"
#include "pk_push.h"

/* How long one push may take. */
#define PUSH_TIMEOUT 10

/*
 * One pushed family: a statistic of a phase's wall-clock times (at off in
 * its summary), or one that value computes.
 */
struct push_stat {
	const char *name, *help, *unit;
	int decimals;
	size_t off;
	double (*value)(const struct bench_phase *p,
	    const struct bench_results *r);
};

#define WALL(field)	offsetof(struct pk_bench_summary, field), NULL

static double
v_runs(const struct bench_phase *p, const struct bench_results *r)
{
	(void)r;
	return (double)p->runs;
}

static double
v_complete(const struct bench_phase *p, const struct bench_results *r)
{
	(void)p;
	return r->complete;
}

static const struct push_stat stats[] = {
	{ "perf_bench_mean_seconds", "Mean wall-clock time of a run.",
	    "seconds", 9, WALL(mean) },
	{ "perf_bench_median_seconds", "Median wall-clock time of a run.",
	    "seconds", 9, WALL(median) },
	{ "perf_bench_p99_seconds", "99th percentile of the wall-clock time "
	    "of a run.", "seconds", 9, WALL(p99) },
	{ "perf_bench_stddev_seconds", "Standard deviation of the wall-clock "
	    "time of a run.", "seconds", 9, WALL(sd) },
	{ "perf_bench_min_seconds", "Shortest wall-clock time of a run.",
	    "seconds", 9, WALL(min) },
	{ "perf_bench_max_seconds", "Longest wall-clock time of a run.",
	    "seconds", 9, WALL(max) },
	{ "perf_bench_runs", "Measured runs (outliers and failures "
	    "included).", NULL, 0, 0, v_runs },
	{ "perf_bench_complete", "1 if the benchmark ran to its end, 0 if a "
	    "signal stopped it.", NULL, 0, 0, v_complete },
};
#define NSTATS	(sizeof(stats) / sizeof(stats[0]))

static double
stat_value(const struct push_stat *st, const struct bench_phase *p,
    const struct bench_results *r)
{
	if (st->value != NULL)
		return st->value(p, r);
	return *(const double *)(const void *)((const char *)&p->wall +
	    st->off);
}

/* The exposition of command i into w: each statistic of each phase. */
static void
render(const struct bench_results *r, size_t i, struct pk_prom *prom,
    const int *fam, struct pk_jw *w)
{
	const struct bench_result *c = &r->cmd[i];
	struct pk_prom_label l;
	size_t s;
	int p;

	pk_prom_begin(prom);
	for (s = 0; s < NSTATS; s++)
		for (p = 0; p < r->nphases; p++) {
			l.name = "phase";
			l.value = bench_phase_name[p];
			(void)pk_prom_sample(prom, fam[s], &l, 1,
			    stat_value(&stats[s], &c->ph[p], r),
			    stats[s].decimals);
		}
	pk_jw_reset(w);
	pk_prom_render(prom, w);
}

int
bench_push(const struct bench_results *r, const char *base)
{
	const char *extra[3] = { "command", NULL, NULL };
	struct pk_prom prom;
	struct pk_jw w;
	int fam[NSTATS], rc = 0;
	char err[256], *url;
	size_t i;

	pk_prom_init(&prom, 0);
	for (i = 0; i < NSTATS; i++)
		if ((fam[i] = pk_prom_family(&prom, stats[i].name,
		    stats[i].help, PK_PROM_GAUGE, stats[i].unit)) == -1)
			pk_die(PK_EXIT_IO, "cannot register the metric %s",
			    stats[i].name);
	pk_jw_init(&w, 4096);
	for (i = 0; i < r->n && rc == 0; i++) {
		extra[1] = r->cmd[i].name;
		url = pk_push_url(base, "perf-bench", r->host, extra);
		if (url == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		render(r, i, &prom, fam, &w);
		if (w.oom)
			pk_die(PK_EXIT_IO, "out of memory");
		if (pk_push_once(url, w.buf, w.len, PUSH_TIMEOUT, err,
		    sizeof(err)) == -1) {
			if (i + 1 < r->n)
				pk_warn("cannot push to %s: %s (%zu more "
				    "commands not pushed)", url, err, r->n - i - 1);
			else
				pk_warn("cannot push to %s: %s", url, err);
			rc = -1;
		}
		free(url);
	}
	pk_jw_release(&w);
	pk_prom_release(&prom);
	return rc;
}
