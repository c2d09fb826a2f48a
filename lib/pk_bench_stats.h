/* SPDX-License-Identifier: MIT */
#ifndef PK_BENCH_STATS_H
#define PK_BENCH_STATS_H

#include <stddef.h>

/*
 * Statistics for command benchmarks: a summary of a sample (mean, spread,
 * quantiles, a confidence interval of the mean, outliers by the modified
 * z-score), Welch's t-test, the Mann-Whitney U test and the ratio of two
 * means with its uncertainty.
 */

/* Iglewicz and Hoaglin: |0.6745 (x - median) / MAD| above this is an outlier. */
#define PK_BENCH_OUTLIER_Z 3.5

struct pk_bench_summary {
	size_t n;
	double mean, sd, se;
	double median, min, max, p95, p99;
	double mad;		/* unscaled median absolute deviation */
	double cv;		/* sd / mean */
	double ci_low, ci_high;	/* confidence interval of the mean */
	double jitter;		/* mean |x[i] - x[i-1]| in run order */
	size_t outliers;	/* |modified z| > PK_BENCH_OUTLIER_Z */
};

/*
 * Summarise x[0..n-1] (in run order, not modified) at the given two-sided
 * confidence (0.95). tmp must have room for 2n doubles. n may be 0 (all
 * fields NAN or 0).
 */
void pk_bench_summarize(const double *x, size_t n, double confidence,
    double *tmp, struct pk_bench_summary *s);

/*
 * The modified z-score of x against a median and an unscaled MAD; 0 when
 * the MAD is 0 and x equals the median, +-INFINITY when it differs.
 */
double pk_bench_modz(double x, double median, double mad);

/*
 * Copy into out the values of x whose |modified z| is at most limit;
 * returns how many were kept. tmp has room for 2n doubles.
 */
size_t pk_bench_drop_outliers(const double *x, size_t n, double limit,
    double *tmp, double *out);

/* Welch's t-test of two means from summaries: t, Welch-Satterthwaite df, two-sided p. */
struct pk_bench_test {
	double stat;	/* t, or z for Mann-Whitney */
	double df;	/* degrees of freedom (Welch), or NAN */
	double u;	/* U of the first sample (Mann-Whitney), or NAN */
	double p;	/* two-sided p-value */
};

int pk_bench_welch(double m1, double sd1, size_t n1, double m2, double sd2,
    size_t n2, struct pk_bench_test *r);

/*
 * The Mann-Whitney U test with the normal approximation, the tie correction
 * and a continuity correction (as scipy's asymptotic method). tmp has room
 * for n1 + n2 doubles and idx for n1 + n2 size_t. Returns -1 if a sample is
 * empty.
 */
int pk_bench_mannwhitney(const double *x, size_t n1, const double *y,
    size_t n2, double *tmp, size_t *idx, struct pk_bench_test *r);

/*
 * The ratio m1 / m2 of two positive means with standard errors se1, se2:
 * its standard deviation by the delta method, and its confidence interval
 * on the log scale, r exp(+-q rel) with rel = sqrt((se1/m1)^2 + (se2/m2)^2)
 * and q a t quantile of df degrees of freedom (NAN df: normal quantile).
 * The interval is asymmetric and never reaches zero.
 */
void pk_bench_ratio(double m1, double se1, double m2, double se2, double df,
    double confidence, double *ratio, double *sd, double *lo, double *hi);

/* The standard normal two-sided p-value of z. */
double pk_bench_norm_pvalue(double z);


#endif
