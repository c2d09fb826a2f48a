/* SPDX-License-Identifier: MIT */
#ifndef PK_PROFWIN_H
#define PK_PROFWIN_H

#include <stddef.h>

#include "pk_stats.h"

/*
 * Rolling event-time windows for perf-profile.
 *
 * A window keeps the (ts, value) pairs of the last span seconds in a ring
 * that grows on demand up to cap entries; when the ring is full the oldest
 * pair is dropped (counted in dropped), so memory is bounded by cap, never
 * by the input. The window's clock is the largest ts seen: a pair older than
 * clock - span is late and refused (pk_profwin_add returns 1). Pairs that
 * arrive out of order but within the span are kept as they are.
 *
 * Statistics are computed over the ring on demand: mean, min, max, sample
 * standard deviation, exact quantiles (type 7) of the values held, the
 * least-squares slope per minute and an EWMA with time constant tau.
 */
struct pk_profwin {
	double *t, *v;
	size_t cap, max, head, n;
	double span;
	double clock;
	unsigned long long dropped;
	struct pk_ewma ewma;
};

struct pk_profwin_stats {
	size_t n;
	double mean, min, max, sd, p50, p95, p99, ewma, trend_per_min, r2;
};

void pk_profwin_init(struct pk_profwin *w, double span, size_t max, double tau);
void pk_profwin_release(struct pk_profwin *w);
/* Forget every pair, the clock and the EWMA (a clock step); keeps memory. */
void pk_profwin_restart(struct pk_profwin *w);
/* 0 added, 1 late (refused), -1 out of memory. */
int pk_profwin_add(struct pk_profwin *w, double t, double v);
/* Drop pairs older than now - span (moves the clock forward only). */
void pk_profwin_expire(struct pk_profwin *w, double now);
/* The quantile q of the values held; scratch has at least w->n slots. */
double pk_profwin_quantile(const struct pk_profwin *w, double q, double *scratch);
/* Least-squares slope per minute and its r^2 (NAN when n < 2). */
double pk_profwin_slope(const struct pk_profwin *w, double *r2);
double pk_profwin_mean(const struct pk_profwin *w);
/* Everything at once; scratch has at least w->n slots. */
void pk_profwin_stats(const struct pk_profwin *w, double *scratch,
    struct pk_profwin_stats *st);

/*
 * Format x for a JSON record, fast: rounded to 4 decimals (3 from 1e9 up,
 * where it is an event time), trailing zeros dropped, "N.0" for a whole
 * number, as jansson writes reals. Non-finite x gives "null" (callers omit
 * those). Returns the length; buf has at least 32 bytes.
 */
size_t pk_profwin_fmtnum(char *buf, double x);

/*
 * Whole-run aggregates for --summary in constant memory: Welford for the
 * moments, P-square estimators for p50, p95 and p99.
 */
struct pk_profagg {
	struct pk_welford w;
	struct pk_p2 p50, p95, p99;
	double first_t, last_t;
};

void pk_profagg_init(struct pk_profagg *a);
void pk_profagg_add(struct pk_profagg *a, double t, double v);

#endif
