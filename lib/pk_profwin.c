/* SPDX-License-Identifier: MIT */
#include "pk_profwin.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
pk_profwin_init(struct pk_profwin *w, double span, size_t max, double tau)
{
	memset(w, 0, sizeof(*w));
	w->span = span;
	w->max = max < 2 ? 2 : max;
	w->clock = -INFINITY;
	pk_ewma_init(&w->ewma, 0, tau);
}

void
pk_profwin_restart(struct pk_profwin *w)
{
	w->n = w->head = 0;
	w->clock = -INFINITY;
	pk_ewma_init(&w->ewma, 0, w->ewma.tau);
}

void
pk_profwin_release(struct pk_profwin *w)
{
	free(w->t);
	free(w->v);
	w->t = w->v = NULL;
	w->n = w->cap = w->head = 0;
}

static size_t
idx(const struct pk_profwin *w, size_t i)
{
	size_t k = w->head + i;

	return k >= w->cap ? k - w->cap : k;
}

static int
grow(struct pk_profwin *w)
{
	size_t ncap = w->cap == 0 ? 16 : w->cap * 2, i;
	double *nt, *nv;

	if (ncap > w->max)
		ncap = w->max;
	nt = malloc(ncap * sizeof(*nt));
	nv = malloc(ncap * sizeof(*nv));
	if (nt == NULL || nv == NULL) {
		free(nt);
		free(nv);
		return -1;
	}
	for (i = 0; i < w->n; i++) {
		nt[i] = w->t[idx(w, i)];
		nv[i] = w->v[idx(w, i)];
	}
	free(w->t);
	free(w->v);
	w->t = nt;
	w->v = nv;
	w->cap = ncap;
	w->head = 0;
	return 0;
}

void
pk_profwin_expire(struct pk_profwin *w, double now)
{
	if (now > w->clock)
		w->clock = now;
	while (w->n > 0 && w->t[w->head] < w->clock - w->span) {
		w->head = idx(w, 1);
		w->n--;
	}
	if (w->n == 0)
		w->head = 0;
}

int
pk_profwin_add(struct pk_profwin *w, double t, double v)
{
	if (t < w->clock - w->span)
		return 1;
	pk_profwin_expire(w, t);
	if (w->n == w->cap && w->cap < w->max && grow(w) == -1)
		return -1;
	if (w->n == w->cap) {
		/* Full at the cap: the oldest pair goes. */
		w->head = idx(w, 1);
		w->n--;
		w->dropped++;
	}
	w->t[idx(w, w->n)] = t;
	w->v[idx(w, w->n)] = v;
	w->n++;
	pk_ewma_add(&w->ewma, t, v);
	return 0;
}

double
pk_profwin_mean(const struct pk_profwin *w)
{
	double s = 0;
	size_t i;

	if (w->n == 0)
		return NAN;
	for (i = 0; i < w->n; i++)
		s += w->v[idx(w, i)];
	return s / (double)w->n;
}

/* Windows are small: insertion sort beats qsort's calls below 64. */
static void
sort_small(double *v, size_t n)
{
	size_t i, j;
	double x;

	if (n > 64) {
		pk_sort_doubles(v, n);
		return;
	}
	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

double
pk_profwin_quantile(const struct pk_profwin *w, double q, double *scratch)
{
	size_t i;

	if (w->n == 0)
		return NAN;
	for (i = 0; i < w->n; i++)
		scratch[i] = w->v[idx(w, i)];
	sort_small(scratch, w->n);
	return pk_quantile_sorted(scratch, w->n, q);
}

double
pk_profwin_slope(const struct pk_profwin *w, double *r2)
{
	struct pk_linreg lr;
	size_t i;
	double s;

	pk_linreg_init(&lr);
	for (i = 0; i < w->n; i++)
		pk_linreg_add(&lr, w->t[idx(w, i)], w->v[idx(w, i)]);
	s = pk_linreg_slope(&lr);
	if (r2 != NULL) {
		*r2 = pk_linreg_r2(&lr);
		/* A perfectly flat series is a perfect fit of slope 0. */
		if (isnan(*r2) && !isnan(s))
			*r2 = 0;
	}
	return s * 60.0;
}

void
pk_profwin_stats(const struct pk_profwin *w, double *scratch,
    struct pk_profwin_stats *st)
{
	struct pk_welford wf;
	size_t i;

	memset(st, 0, sizeof(*st));
	st->n = w->n;
	if (w->n == 0) {
		st->mean = st->min = st->max = st->sd = NAN;
		st->p50 = st->p95 = st->p99 = st->ewma = NAN;
		st->trend_per_min = st->r2 = NAN;
		return;
	}
	pk_welford_init(&wf);
	for (i = 0; i < w->n; i++) {
		scratch[i] = w->v[idx(w, i)];
		pk_welford_add(&wf, scratch[i]);
	}
	st->mean = wf.mean;
	st->min = wf.min;
	st->max = wf.max;
	st->sd = w->n > 1 ? pk_welford_sd(&wf) : 0;
	sort_small(scratch, w->n);
	st->p50 = pk_quantile_sorted(scratch, w->n, 0.50);
	st->p95 = pk_quantile_sorted(scratch, w->n, 0.95);
	st->p99 = pk_quantile_sorted(scratch, w->n, 0.99);
	st->ewma = w->ewma.value;
	st->trend_per_min = pk_profwin_slope(w, &st->r2);
}

void
pk_profagg_init(struct pk_profagg *a)
{
	pk_welford_init(&a->w);
	pk_p2_init(&a->p50, 0.50);
	pk_p2_init(&a->p95, 0.95);
	pk_p2_init(&a->p99, 0.99);
	a->first_t = a->last_t = NAN;
}

void
pk_profagg_add(struct pk_profagg *a, double t, double v)
{
	pk_welford_add(&a->w, v);
	pk_p2_add(&a->p50, v);
	pk_p2_add(&a->p95, v);
	pk_p2_add(&a->p99, v);
	if (isnan(a->first_t) || t < a->first_t)
		a->first_t = t;
	if (isnan(a->last_t) || t > a->last_t)
		a->last_t = t;
}

size_t
pk_profwin_fmtnum(char *buf, double x)
{
	unsigned long long v, ip, fp, scale;
	char tmp[24];
	size_t n = 0, k = 0;
	int d, i;

	if (!isfinite(x)) {
		memcpy(buf, "null", 5);
		return 4;
	}
	if (fabs(x) >= 1e14)
		return (size_t)snprintf(buf, 32, "%.15g", x);
	d = fabs(x) >= 1e9 ? 3 : 4;
	scale = d == 3 ? 1000 : 10000;
	v = (unsigned long long)llround(fabs(x) * (double)scale);
	if (v == 0) {
		memcpy(buf, "0.0", 4);
		return 3;
	}
	if (x < 0)
		buf[n++] = '-';
	ip = v / scale;
	fp = v % scale;
	do {
		tmp[k++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip > 0);
	while (k > 0)
		buf[n++] = tmp[--k];
	buf[n++] = '.';
	if (fp == 0) {
		buf[n++] = '0';
	} else {
		for (i = d - 1; i >= 0; i--) {
			tmp[i] = (char)('0' + fp % 10);
			fp /= 10;
		}
		for (k = (size_t)d; k > 1 && tmp[k - 1] == '0'; k--)
			;
		memcpy(buf + n, tmp, k);
		n += k;
	}
	buf[n] = '\0';
	return n;
}
