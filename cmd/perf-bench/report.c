/* SPDX-License-Identifier: MIT */
/*
 * The report on standard output: per command and phase the statistics,
 * the stability verdict and a histogram; then the comparisons with the
 * reference, the quiet phase and the baseline.
 */
#include "perf-bench.h"

#include <math.h>
#include <stdio.h>

#include "pk_io.h"

static void
fmt_p(double p, char *buf, size_t size)
{
	if (isnan(p))
		snprintf(buf, size, "n/a");
	else if (p < 0.001)
		snprintf(buf, size, "< 0.001");
	else
		snprintf(buf, size, "= %.3f", p);
}

static void
histogram(const struct bench_phase *ph)
{
	size_t counts[BENCH_HIST_MAX_BINS], bins, b, maxc = 0, bar, t;
	double sc, lo, w;
	const char *u = bench_unit_for(ph->wall.mean, &sc);
	char hashes[41];

	bins = bench_histogram(ph->kept, ph->wall.n, counts, &lo, &w);
	for (b = 0; b < bins; b++)
		if (counts[b] > maxc)
			maxc = counts[b];
	for (b = 0; b < bins && ph->wall.n > 1; b++) {
		bar = maxc ? (counts[b] * 40 + maxc - 1) / maxc : 0;
		for (t = 0; t < bar; t++)
			hashes[t] = '#';
		hashes[bar] = '\0';
		pk_out_printf("  %10.3f %s |%-40s %zu\n",
		    (lo + w * (double)b) * sc, u, hashes, counts[b]);
	}
}

static void
report_phase(const struct bench_results *r, size_t i, int phase)
{
	const struct bench_result *c = &r->cmd[i];
	const struct bench_phase *ph = &c->ph[phase];
	const struct pk_bench_summary *s = &ph->wall;
	double sc;
	const char *u = bench_unit_for(s->mean, &sc);

	pk_out_printf("%s%s: %zu runs%s%s\n", c->name,
	    phase == BENCH_STRESS ? " (under stress)" : "", ph->runs,
	    !r->complete ? ", interrupted" : "",
	    ph->failures ? ", some failed" : "");
	if (ph->failures)
		pk_out_printf("  failed runs:  %zu of %zu\n", ph->failures,
		    ph->runs);
	if (s->n == 0)
		return;
	pk_out_printf("  wall:   %.3f %s ± %.3f %s (mean ± σ), %g%% CI "
	    "[%.3f, %.3f] %s\n", s->mean * sc, u, s->sd * sc, u,
	    r->confidence * 100, s->ci_low * sc, s->ci_high * sc, u);
	pk_out_printf("  median: %.3f %s, MAD %.3f %s, min %.3f, max %.3f, "
	    "p95 %.3f, p99 %.3f %s\n", s->median * sc, u, s->mad * sc, u,
	    s->min * sc, s->max * sc, s->p95 * sc, s->p99 * sc, u);
	pk_out_printf("  user:   %.3f %s, sys %.3f %s, max RSS %.0f KiB\n",
	    ph->user.mean * sc, u, ph->sys.mean * sc, u, ph->rss.max);
	pk_out_printf("  CV %.2f%%, jitter %.3f %s (%.2f%%): %s "
	    "(thresholds %g%%, %g%%)\n", s->cv * 100, s->jitter * sc, u,
	    ph->jitter_rel * 100, ph->unstable_cv || ph->unstable_jitter ?
	    "UNSTABLE" : "stable", r->max_cv * 100, r->max_jitter * 100);
	pk_out_printf("  outliers: %zu of %zu (|modified z| > %.1f), %s\n",
	    s->outliers, ph->runs, PK_BENCH_OUTLIER_Z,
	    r->drop_outliers ? "dropped" : "kept");
	if (r->check_output) {
		if (ph->mismatches)
			pk_out_printf("  output: DIFFERS in %zu of %zu runs\n",
			    ph->mismatches, ph->runs);
		else
			pk_out_printf("  output: identical in all runs "
			    "(fnv1a %016llx)\n", c->hash);
	}
	histogram(ph);
}

static void
report_compare(const struct bench_results *r)
{
	char pbuf[32], mbuf[32];
	size_t i;

	pk_out_printf("\ncomparison (reference: %s)\n", r->cmd[r->ref].name);
	for (i = 0; i < r->n; i++) {
		const struct bench_cmp *c = &r->cmd[i].ph[BENCH_QUIET].ref;

		if (!r->cmd[i].ph[BENCH_QUIET].has_ref)
			continue;
		fmt_p(c->welch.p, pbuf, sizeof(pbuf));
		fmt_p(c->mw.p, mbuf, sizeof(mbuf));
		pk_out_printf("  %s: %.3f ± %.3f times the reference "
		    "(%g%% CI [%.3f, %.3f]), Welch p %s, Mann-Whitney "
		    "p %s: %s\n", r->cmd[i].name, c->ratio, c->sd,
		    r->confidence * 100, c->lo, c->hi, pbuf, mbuf,
		    c->welch.p < r->alpha ? "significant" : "not significant");
	}
}

static void
report_stress(const struct bench_results *r)
{
	char pbuf[32];
	const char *u;
	double sc;
	size_t i;

	pk_out_printf("\nstress: %lux (%zu CPU hogs, %zu memory hogs)\n",
	    r->stress, r->ncpu_hogs, r->nmem_hogs);
	for (i = 0; i < r->n; i++) {
		const struct bench_phase *q = &r->cmd[i].ph[BENCH_QUIET];
		const struct bench_phase *st = &r->cmd[i].ph[BENCH_STRESS];
		const struct bench_cmp *c = &st->quiet;

		if (!st->has_quiet)
			continue;
		fmt_p(c->welch.p, pbuf, sizeof(pbuf));
		u = bench_unit_for(q->wall.p99, &sc);
		pk_out_printf("  %s: slowdown %.3f ± %.3f (%g%% CI "
		    "[%.3f, %.3f], Welch p %s), CV %.2f%% -> %.2f%%, "
		    "p99 %.3f %s -> %.3f %s\n", r->cmd[i].name, c->ratio,
		    c->sd, r->confidence * 100, c->lo, c->hi, pbuf,
		    q->wall.cv * 100, st->wall.cv * 100, q->wall.p99 * sc, u,
		    st->wall.p99 * sc, u);
	}
}

static void
report_baseline(const struct bench_results *r)
{
	char pbuf[32];
	size_t i;

	pk_out_printf("\nbaseline: %s (threshold %g%%, alpha %g)\n",
	    r->baseline, r->threshold * 100, r->alpha);
	for (i = 0; i < r->n; i++) {
		const struct bench_phase *q = &r->cmd[i].ph[BENCH_QUIET];
		const struct bench_base_cmp *bc = &q->base;

		if (!r->cmd[i].in_baseline) {
			pk_out_printf("  %s: not in the baseline\n",
			    r->cmd[i].name);
			continue;
		}
		if (!q->has_base)
			continue;
		fmt_p(bc->t.welch.p, pbuf, sizeof(pbuf));
		pk_out_printf("  %s: %.3f ± %.3f times the baseline "
		    "(%g%% CI [%.3f, %.3f]), Welch p %s", r->cmd[i].name,
		    bc->t.ratio, bc->t.sd, r->confidence * 100, bc->t.lo,
		    bc->t.hi, pbuf);
		if (bc->robust) {
			fmt_p(bc->t.mw.p, pbuf, sizeof(pbuf));
			pk_out_printf("; median %.3f times, Mann-Whitney p %s",
			    bc->median_ratio, pbuf);
		}
		pk_out_printf(": %s\n", bc->regression ? "REGRESSION" :
		    bc->significant && (bc->robust ? bc->median_ratio :
		    bc->t.ratio) < 1 ? "faster" : "no regression");
	}
}

void
bench_report(const struct bench_results *r)
{
	size_t i;
	int p;

	for (i = 0; i < r->n; i++)
		for (p = 0; p < r->nphases; p++) {
			if (i > 0 || p > 0)
				pk_out_printf("\n");
			report_phase(r, i, p);
		}
	if (r->n > 1 && r->cmd[r->ref].ph[BENCH_QUIET].wall.n > 1)
		report_compare(r);
	if (r->nphases > 1)
		report_stress(r);
	if (r->baseline != NULL)
		report_baseline(r);
}
