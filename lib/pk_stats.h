/* SPDX-License-Identifier: MIT */
#ifndef PK_STATS_H
#define PK_STATS_H

#include <stddef.h>

/* Online mean, variance, min and max (Welford's algorithm). */
struct pk_welford {
	unsigned long long n;
	double mean, m2, min, max;
};

void pk_welford_init(struct pk_welford *w);
void pk_welford_add(struct pk_welford *w, double x);
/* Combine b into a (Chan et al.), for per-thread or per-window partials. */
void pk_welford_merge(struct pk_welford *a, const struct pk_welford *b);
double pk_welford_var(const struct pk_welford *w);	/* sample variance */
double pk_welford_sd(const struct pk_welford *w);

/*
 * An exponentially weighted moving average. With a time constant tau the
 * weight of each update depends on the time elapsed since the last, so
 * irregular sampling is handled (event time).
 */
struct pk_ewma {
	double value;
	double alpha;	/* fixed weight, used when tau == 0 */
	double tau;	/* time constant in seconds, or 0 */
	double last_t;
	int init;
};

void pk_ewma_init(struct pk_ewma *e, double alpha, double tau);
double pk_ewma_add(struct pk_ewma *e, double t, double x);

/* Online least-squares line y = a + b t; slope() is b per unit of t. */
struct pk_linreg {
	unsigned long long n;
	double t0;	/* first t, subtracted for precision */
	double st, sy, stt, sty, syy;
};

void pk_linreg_init(struct pk_linreg *r);
void pk_linreg_add(struct pk_linreg *r, double t, double y);
void pk_linreg_sub(struct pk_linreg *r, double t, double y);	/* for windows */
double pk_linreg_slope(const struct pk_linreg *r);	/* NAN if n < 2 */
double pk_linreg_r2(const struct pk_linreg *r);

/*
 * Quantile q (0..1) of n sorted values, linear interpolation between
 * closest ranks (type 7, as numpy and R's default).
 */
double pk_quantile_sorted(const double *v, size_t n, double q);
/* Sort a copy-free array of doubles in place. */
void pk_sort_doubles(double *v, size_t n);
/* Median absolute deviation of sorted values (unscaled). tmp has n slots. */
double pk_mad_sorted(const double *v, size_t n, double *tmp);

/* The P-square streaming estimator of one quantile in constant memory. */
struct pk_p2 {
	double q;
	int n;
	double h[5], pos[5], want[5], dn[5];
};

void pk_p2_init(struct pk_p2 *p, double q);
void pk_p2_add(struct pk_p2 *p, double x);
double pk_p2_get(const struct pk_p2 *p);

/* Student's t quantile (two-sided confidence: p = 0.975 for 95%) with df. */
double pk_t_quantile(double p, double df);
/* The standard normal quantile. */
double pk_norm_quantile(double p);
/* Two-sided p-value of Student's t statistic with df degrees of freedom. */
double pk_t_pvalue(double t, double df);

/*
 * A log-linear histogram for latencies in integer units (ns, us): exact
 * below 2^sub_bits, then 2^sub_bits buckets per power of two, so every
 * recorded value is known within 1/2^sub_bits relative error. Fixed
 * memory, no allocation after init: safe in a real-time loop.
 */
struct pk_hist {
	unsigned sub_bits;
	size_t nbuckets;
	unsigned long long *counts;
	unsigned long long total;
	unsigned long long min, max;
	double sum;
};

int pk_hist_init(struct pk_hist *h, unsigned sub_bits, unsigned long long maxval);
void pk_hist_release(struct pk_hist *h);
void pk_hist_reset(struct pk_hist *h);
void pk_hist_add(struct pk_hist *h, unsigned long long v);
void pk_hist_merge(struct pk_hist *a, const struct pk_hist *b);
/* The value at quantile q (0..1): the upper bound of its bucket, capped at max. */
unsigned long long pk_hist_quantile(const struct pk_hist *h, double q);

#endif
