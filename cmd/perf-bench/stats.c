/* SPDX-License-Identifier: MIT */
/*
 * The runs made into the results model: each phase summarised under the
 * outlier policy, every comparison the report and the exporters show
 * computed once, the stability verdicts.
 */
#include "perf-bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_opt.h"
#include "pk_time.h"

const char *const bench_phase_name[BENCH_NPHASES] = { "quiet", "stress" };

void
bench_phase_fill(struct bench_phase *p, const struct bench_runs *runs,
    const struct bench_opts *o)
{
	double *tmp = pk_xcalloc(2 * runs->n + 2, sizeof(double));
	size_t nk, dropped = 0;

	p->runs = runs->n;
	p->failures = runs->failures;
	p->mismatches = runs->mismatches;
	p->times = runs->wall;
	p->kept = pk_xcalloc(runs->n + 1, sizeof(double));
	if (o->drop_outliers) {
		nk = pk_bench_drop_outliers(runs->wall, runs->n,
		    PK_BENCH_OUTLIER_Z, tmp, p->kept);
		dropped = runs->n - nk;
	} else {
		if (runs->n > 0)
			memcpy(p->kept, runs->wall, runs->n * sizeof(double));
		nk = runs->n;
	}
	pk_bench_summarize(p->kept, nk, o->confidence, tmp, &p->wall);
	if (o->drop_outliers)
		/* The count refers to the whole sample, not the kept one. */
		p->wall.outliers = dropped;
	pk_bench_summarize(runs->user, runs->n, o->confidence, tmp, &p->user);
	pk_bench_summarize(runs->sys, runs->n, o->confidence, tmp, &p->sys);
	pk_bench_summarize(runs->rss, runs->n, o->confidence, tmp, &p->rss);
	free(tmp);
	/*
	 * The jitter relative to the mean: what the CV misses, the
	 * run-to-run instability (a timing that flips between two levels
	 * has a jitter of twice its CV), where a slow drift has a large CV
	 * and a small jitter.
	 */
	p->jitter_rel = p->wall.n > 1 && p->wall.mean > 0 ?
	    p->wall.jitter / p->wall.mean : NAN;
	p->unstable_cv = p->wall.n > 1 && p->wall.cv > o->max_cv;
	p->unstable_jitter = p->wall.n > 1 && p->jitter_rel > o->max_jitter;
}

static void
compare(const struct bench_phase *a, const struct bench_phase *b,
    double confidence, struct bench_cmp *c)
{
	size_t na = a->wall.n, nb = b->wall.n;
	double *tmp = pk_xcalloc(na + nb, sizeof(double));
	size_t *idx = pk_xcalloc(na + nb, sizeof(size_t));

	pk_bench_welch(a->wall.mean, a->wall.sd, na, b->wall.mean, b->wall.sd,
	    nb, &c->welch);
	pk_bench_mannwhitney(a->kept, na, b->kept, nb, tmp, idx, &c->mw);
	pk_bench_ratio(a->wall.mean, a->wall.se, b->wall.mean, b->wall.se,
	    c->welch.df, confidence, &c->ratio, &c->sd, &c->lo, &c->hi);
	free(tmp);
	free(idx);
}

void
bench_compare_baseline(const struct bench_phase *p,
    const struct bench_baseline *b, const struct bench_opts *o,
    struct bench_base_cmp *bc)
{
	double *tmp;
	size_t *idx;

	memset(bc, 0, sizeof(*bc));
	bc->mean = b->mean;
	pk_bench_welch(p->wall.mean, p->wall.sd, p->wall.n, b->mean, b->sd,
	    b->n, &bc->t.welch);
	bc->t.mw.p = NAN;
	bc->median_ratio = NAN;
	if (b->ntimes >= 2) {
		struct pk_bench_summary bs;
		size_t nb = b->ntimes, n = p->wall.n + nb;
		double *bt = pk_xcalloc(nb, sizeof(double));

		tmp = pk_xcalloc(2 * n, sizeof(double));
		idx = pk_xcalloc(n, sizeof(size_t));
		/* The baseline's runs under the same outlier policy. */
		if (o->drop_outliers)
			nb = pk_bench_drop_outliers(b->times, nb,
			    PK_BENCH_OUTLIER_Z, tmp, bt);
		else
			memcpy(bt, b->times, nb * sizeof(double));
		if (nb >= 2 && pk_bench_mannwhitney(p->kept, p->wall.n, bt, nb,
		    tmp, idx, &bc->t.mw) == 0) {
			pk_bench_summarize(bt, nb, o->confidence, tmp, &bs);
			if (bs.median > 0) {
				bc->median_ratio = p->wall.median / bs.median;
				bc->robust = 1;
			}
		}
		free(bt);
		free(tmp);
		free(idx);
	}
	pk_bench_ratio(p->wall.mean, p->wall.se, b->mean,
	    b->sd / sqrt((double)b->n), bc->t.welch.df, o->confidence,
	    &bc->t.ratio, &bc->t.sd, &bc->t.lo, &bc->t.hi);
	/*
	 * With the baseline's runs at hand, the gate is Mann-Whitney on the
	 * runs and the ratio of the medians: one stray run (a cold cache, a
	 * neighbour's burst) inflates a mean and its sd enough to hide a real
	 * regression from Welch, or to fake one. Without them, Welch on the
	 * stored mean and sd.
	 */
	if (bc->robust) {
		bc->significant = bc->t.mw.p < o->alpha;
		bc->regression = bc->significant &&
		    bc->median_ratio > 1 + o->threshold;
	} else {
		bc->significant = bc->t.welch.p < o->alpha;
		bc->regression = bc->significant &&
		    bc->t.ratio > 1 + o->threshold;
	}
}

void
bench_results_fill(struct bench_results *r, const struct bench_cmd *cmds,
    size_t k, const struct bench_opts *o, const struct bench_baseline *bases,
    size_t nbases)
{
	const struct bench_baseline *b;
	size_t i;
	int p;

	r->host = pk_hostname();
	r->nphases = o->stress ? BENCH_NPHASES : 1;
	r->shell = o->shell;
	r->check_output = o->check_output;
	r->drop_outliers = o->drop_outliers;
	r->warmup = o->warmup;
	r->stress = o->stress;
	r->confidence = o->confidence;
	r->max_cv = o->max_cv;
	r->max_jitter = o->max_jitter;
	r->threshold = o->threshold;
	r->alpha = o->alpha;
	r->baseline = o->baseline;
	r->n = k;
	r->cmd = pk_xcalloc(k, sizeof(*r->cmd));
	for (i = 0; i < k; i++) {
		struct bench_result *c = &r->cmd[i];

		c->name = cmds[i].name;
		c->argv = cmds[i].argv;
		c->hash = cmds[i].hash;
		for (p = 0; p < BENCH_NPHASES; p++) {
			c->ph[p].ts = pk_now();
			bench_phase_fill(&c->ph[p], &cmds[i].ph[p], o);
		}
	}
	r->ref = 0;
	for (i = 1; i < k; i++)
		if (r->cmd[i].ph[BENCH_QUIET].wall.mean <
		    r->cmd[r->ref].ph[BENCH_QUIET].wall.mean)
			r->ref = i;
	for (i = 0; i < k; i++) {
		struct bench_result *c = &r->cmd[i];
		struct bench_phase *q = &c->ph[BENCH_QUIET];
		struct bench_phase *st = &c->ph[BENCH_STRESS];

		for (p = 0; p < r->nphases; p++) {
			struct bench_phase *ph = &c->ph[p];
			const struct bench_phase *ref = &r->cmd[r->ref].ph[p];

			ph->has_ref = k > 1 && i != r->ref && ph->wall.n > 1 &&
			    ref->wall.n > 1;
			if (ph->has_ref)
				compare(ph, ref, o->confidence, &ph->ref);
		}
		st->has_quiet = r->nphases > 1 && q->wall.n > 1 &&
		    st->wall.n > 1;
		if (st->has_quiet)
			compare(st, q, o->confidence, &st->quiet);
		b = bench_baseline_find(bases, nbases, c->name);
		c->in_baseline = b != NULL;
		q->has_base = b != NULL && q->wall.n >= 2;
		if (q->has_base)
			bench_compare_baseline(q, b, o, &q->base);
	}
}

void
bench_results_release(struct bench_results *r)
{
	size_t i;
	int p;

	for (i = 0; i < r->n; i++)
		for (p = 0; p < BENCH_NPHASES; p++)
			free(r->cmd[i].ph[p].kept);
	free(r->cmd);
	r->cmd = NULL;
	r->n = 0;
}

int
bench_tight_enough(const struct bench_cmd *cmds, size_t k,
    const struct bench_opts *o, int nphases)
{
	struct pk_bench_summary s;
	size_t i;
	int p, tight = 1;

	for (i = 0; i < k && tight; i++)
		for (p = 0; p < nphases && tight; p++) {
			const struct bench_runs *ph = &cmds[i].ph[p];
			double *tmp = pk_xcalloc(2 * ph->n + 2, sizeof(double));

			pk_bench_summarize(ph->wall, ph->n, o->confidence, tmp,
			    &s);
			free(tmp);
			if (!((s.ci_high - s.ci_low) / 2 <= o->precision * s.mean))
				tight = 0;
		}
	return tight;
}

size_t
bench_histogram(const double *x, size_t n, size_t *counts, double *lo,
    double *w)
{
	double min = INFINITY, max = -INFINITY;
	size_t bins, i, b;

	for (i = 0; i < n; i++) {
		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
	}
	if (n == 0)
		return 0;
	/* Sturges' rule, at least 5 bins, at most BENCH_HIST_MAX_BINS. */
	bins = (size_t)ceil(log2((double)n)) + 1;
	if (bins < 5)
		bins = 5;
	if (bins > BENCH_HIST_MAX_BINS)
		bins = BENCH_HIST_MAX_BINS;
	if (max <= min)
		bins = 1;
	memset(counts, 0, bins * sizeof(*counts));
	*lo = min;
	*w = bins > 1 ? (max - min) / (double)bins : 0;
	for (i = 0; i < n; i++) {
		b = *w > 0 ? (size_t)((x[i] - min) / *w) : 0;
		if (b >= bins)
			b = bins - 1;
		counts[b]++;
	}
	return bins;
}

const char *
bench_unit_for(double secs, double *scale)
{
	if (!(secs < 1)) {
		*scale = 1;
		return "s";
	}
	if (secs >= 1e-3) {
		*scale = 1e3;
		return "ms";
	}
	*scale = 1e6;
	return "µs";
}
