/* SPDX-License-Identifier: MIT */
#include "pk_bench_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_stats.h"

void
pk_bench_summarize(const double *x, size_t n, double confidence,
    double *tmp, struct pk_bench_summary *s)
{
	struct pk_welford w;
	double *sorted = tmp, *scratch = tmp + n, q;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->n = n;
	s->mean = s->sd = s->se = s->median = s->min = s->max = NAN;
	s->p95 = s->p99 = s->mad = s->cv = s->ci_low = s->ci_high = NAN;
	s->jitter = NAN;
	if (n == 0)
		return;
	pk_welford_init(&w);
	for (i = 0; i < n; i++)
		pk_welford_add(&w, x[i]);
	s->mean = w.mean;
	s->sd = pk_welford_sd(&w);
	s->se = s->sd / sqrt((double)n);
	s->min = w.min;
	s->max = w.max;
	s->cv = s->mean != 0 ? s->sd / s->mean : NAN;
	memcpy(sorted, x, n * sizeof(*x));
	pk_sort_doubles(sorted, n);
	s->median = pk_quantile_sorted(sorted, n, 0.5);
	s->p95 = pk_quantile_sorted(sorted, n, 0.95);
	s->p99 = pk_quantile_sorted(sorted, n, 0.99);
	s->mad = pk_mad_sorted(sorted, n, scratch);
	if (n > 1) {
		q = pk_t_quantile(0.5 + confidence / 2, (double)(n - 1));
		s->ci_low = s->mean - q * s->se;
		s->ci_high = s->mean + q * s->se;
		s->jitter = 0;
		for (i = 1; i < n; i++)
			s->jitter += fabs(x[i] - x[i - 1]);
		s->jitter /= (double)(n - 1);
	}
	for (i = 0; i < n; i++)
		if (fabs(pk_bench_modz(x[i], s->median, s->mad)) >
		    PK_BENCH_OUTLIER_Z)
			s->outliers++;
}

double
pk_bench_modz(double x, double median, double mad)
{
	if (mad > 0)
		return 0.6745 * (x - median) / mad;
	if (x == median)
		return 0;
	return x > median ? INFINITY : -INFINITY;
}

size_t
pk_bench_drop_outliers(const double *x, size_t n, double limit, double *tmp,
    double *out)
{
	double med, mad;
	size_t i, k = 0;

	if (n == 0)
		return 0;
	memcpy(tmp, x, n * sizeof(*x));
	pk_sort_doubles(tmp, n);
	med = pk_quantile_sorted(tmp, n, 0.5);
	mad = pk_mad_sorted(tmp, n, tmp + n);
	for (i = 0; i < n; i++)
		if (fabs(pk_bench_modz(x[i], med, mad)) <= limit)
			out[k++] = x[i];
	return k;
}

double
pk_bench_norm_pvalue(double z)
{
	return erfc(fabs(z) / sqrt(2.0));
}

int
pk_bench_welch(double m1, double sd1, size_t n1, double m2, double sd2,
    size_t n2, struct pk_bench_test *r)
{
	double v1, v2, se2;

	r->stat = r->df = r->u = r->p = NAN;
	if (n1 < 2 || n2 < 2)
		return -1;
	v1 = sd1 * sd1 / (double)n1;
	v2 = sd2 * sd2 / (double)n2;
	se2 = v1 + v2;
	if (se2 == 0) {
		/* No spread at all: the means differ or they do not. */
		r->stat = m1 == m2 ? 0 : (m1 > m2 ? INFINITY : -INFINITY);
		r->df = (double)(n1 + n2 - 2);
		r->p = m1 == m2 ? 1 : 0;
		return 0;
	}
	r->stat = (m1 - m2) / sqrt(se2);
	r->df = se2 * se2 / (v1 * v1 / (double)(n1 - 1) +
	    v2 * v2 / (double)(n2 - 1));
	r->p = pk_t_pvalue(r->stat, r->df);
	return 0;
}

static int
cmp_idx(const void *a, const void *b, void *arg)
{
	const double *v = arg;
	double x = v[*(const size_t *)a], y = v[*(const size_t *)b];

	return (x > y) - (x < y);
}

int
pk_bench_mannwhitney(const double *x, size_t n1, const double *y, size_t n2,
    double *tmp, size_t *idx, struct pk_bench_test *r)
{
	size_t n = n1 + n2, i, j, k;
	double r1 = 0, ties = 0, t, mu, sigma, d, N;

	r->stat = r->df = r->u = r->p = NAN;
	if (n1 == 0 || n2 == 0)
		return -1;
	memcpy(tmp, x, n1 * sizeof(*x));
	memcpy(tmp + n1, y, n2 * sizeof(*y));
	for (i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_idx, tmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && tmp[idx[j]] == tmp[idx[i]]; j++)
			;
		t = (double)(j - i);
		ties += t * t * t - t;
		/* Average rank of the tied group, ranks counted from 1. */
		for (k = i; k < j; k++)
			if (idx[k] < n1)
				r1 += ((double)i + 1 + (double)j) / 2;
	}
	r->u = r1 - (double)n1 * (double)(n1 + 1) / 2;
	N = (double)n;
	mu = (double)n1 * (double)n2 / 2;
	sigma = sqrt((double)n1 * (double)n2 / 12 *
	    ((N + 1) - ties / (N * (N - 1))));
	if (sigma == 0) {
		r->stat = 0;
		r->p = 1;
		return 0;
	}
	d = r->u - mu;
	/* Continuity correction toward the mean. */
	if (d > 0)
		d = d - 0.5 > 0 ? d - 0.5 : 0;
	else if (d < 0)
		d = d + 0.5 < 0 ? d + 0.5 : 0;
	r->stat = d / sigma;
	r->p = pk_bench_norm_pvalue(r->stat);
	if (r->p > 1)
		r->p = 1;
	return 0;
}

void
pk_bench_ratio(double m1, double se1, double m2, double se2, double df,
    double confidence, double *ratio, double *sd, double *lo, double *hi)
{
	double r, s, q, rel;


	r = m1 / m2;
	rel = sqrt((se1 / m1) * (se1 / m1) + (se2 / m2) * (se2 / m2));
	s = fabs(r) * rel;
	q = isnan(df) || df <= 0 ? pk_norm_quantile(0.5 + confidence / 2) :
	    pk_t_quantile(0.5 + confidence / 2, df);
	*ratio = r;
	*sd = s;
	/*
	 * The interval of log(m1 / m2), whose standard error is rel to first
	 * order, taken back: it stays positive, as a ratio of two durations
	 * must, where r +- q s goes below zero once rel > 1 / q.
	 */
	*lo = r * exp(-q * rel);
	*hi = r * exp(q * rel);
}
