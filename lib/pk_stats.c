/* SPDX-License-Identifier: MIT */
#include "pk_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
pk_welford_init(struct pk_welford *w)
{
	memset(w, 0, sizeof(*w));
	w->min = INFINITY;
	w->max = -INFINITY;
}

void
pk_welford_add(struct pk_welford *w, double x)
{
	double d;

	w->n++;
	d = x - w->mean;
	w->mean += d / (double)w->n;
	w->m2 += d * (x - w->mean);
	if (x < w->min)
		w->min = x;
	if (x > w->max)
		w->max = x;
}

void
pk_welford_merge(struct pk_welford *a, const struct pk_welford *b)
{
	double n, d;

	if (b->n == 0)
		return;
	if (a->n == 0) {
		*a = *b;
		return;
	}
	n = (double)(a->n + b->n);
	d = b->mean - a->mean;
	a->m2 += b->m2 + d * d * (double)a->n * (double)b->n / n;
	a->mean += d * (double)b->n / n;
	a->n += b->n;
	if (b->min < a->min)
		a->min = b->min;
	if (b->max > a->max)
		a->max = b->max;
}

double
pk_welford_var(const struct pk_welford *w)
{
	return w->n > 1 ? w->m2 / (double)(w->n - 1) : 0.0;
}

double
pk_welford_sd(const struct pk_welford *w)
{
	return sqrt(pk_welford_var(w));
}

void
pk_ewma_init(struct pk_ewma *e, double alpha, double tau)
{
	memset(e, 0, sizeof(*e));
	e->alpha = alpha;
	e->tau = tau;
}

double
pk_ewma_add(struct pk_ewma *e, double t, double x)
{
	double a = e->alpha;

	if (!e->init) {
		e->value = x;
		e->last_t = t;
		e->init = 1;
		return x;
	}
	if (e->tau > 0) {
		double dt = t - e->last_t;

		if (dt <= 0)
			dt = 0;
		a = 1.0 - exp(-dt / e->tau);
	}
	if (t > e->last_t)
		e->last_t = t;
	e->value += a * (x - e->value);
	return e->value;
}

void
pk_linreg_init(struct pk_linreg *r)
{
	memset(r, 0, sizeof(*r));
}

void
pk_linreg_add(struct pk_linreg *r, double t, double y)
{
	if (r->n == 0)
		r->t0 = t;
	t -= r->t0;
	r->n++;
	r->st += t;
	r->sy += y;
	r->stt += t * t;
	r->sty += t * y;
	r->syy += y * y;
}

void
pk_linreg_sub(struct pk_linreg *r, double t, double y)
{
	if (r->n == 0)
		return;
	t -= r->t0;
	r->n--;
	r->st -= t;
	r->sy -= y;
	r->stt -= t * t;
	r->sty -= t * y;
	r->syy -= y * y;
	if (r->n == 0)
		pk_linreg_init(r);
}

double
pk_linreg_slope(const struct pk_linreg *r)
{
	double n = (double)r->n, den;

	if (r->n < 2)
		return NAN;
	den = n * r->stt - r->st * r->st;
	if (fabs(den) < 1e-12 * (n * r->stt + 1e-300))
		return NAN;
	return (n * r->sty - r->st * r->sy) / den;
}

double
pk_linreg_r2(const struct pk_linreg *r)
{
	double n = (double)r->n, cov, vt, vy;

	if (r->n < 2)
		return NAN;
	cov = n * r->sty - r->st * r->sy;
	vt = n * r->stt - r->st * r->st;
	vy = n * r->syy - r->sy * r->sy;
	if (vt <= 0 || vy <= 0)
		return NAN;
	return cov * cov / (vt * vy);
}

double
pk_quantile_sorted(const double *v, size_t n, double q)
{
	double h, f;
	size_t i;

	if (n == 0)
		return NAN;
	if (q <= 0)
		return v[0];
	if (q >= 1)
		return v[n - 1];
	h = (double)(n - 1) * q;
	i = (size_t)h;
	f = h - (double)i;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + f * (v[i + 1] - v[i]);
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void
pk_sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmpd);
}

double
pk_mad_sorted(const double *v, size_t n, double *tmp)
{
	double med;
	size_t i;

	if (n == 0)
		return NAN;
	med = pk_quantile_sorted(v, n, 0.5);
	for (i = 0; i < n; i++)
		tmp[i] = fabs(v[i] - med);
	pk_sort_doubles(tmp, n);
	return pk_quantile_sorted(tmp, n, 0.5);
}

void
pk_p2_init(struct pk_p2 *p, double q)
{
	memset(p, 0, sizeof(*p));
	p->q = q;
	p->dn[0] = 0;
	p->dn[1] = q / 2;
	p->dn[2] = q;
	p->dn[3] = (1 + q) / 2;
	p->dn[4] = 1;
}

void
pk_p2_add(struct pk_p2 *p, double x)
{
	int i, k;

	if (p->n < 5) {
		p->h[p->n++] = x;
		if (p->n == 5) {
			pk_sort_doubles(p->h, 5);
			for (i = 0; i < 5; i++)
				p->pos[i] = i + 1;
			p->want[0] = 1;
			p->want[1] = 1 + 2 * p->q;
			p->want[2] = 1 + 4 * p->q;
			p->want[3] = 3 + 2 * p->q;
			p->want[4] = 5;
		}
		return;
	}
	p->n++;
	if (x < p->h[0]) {
		p->h[0] = x;
		k = 0;
	} else if (x >= p->h[4]) {
		if (x > p->h[4])
			p->h[4] = x;
		k = 3;
	} else {
		for (k = 0; k < 3 && x >= p->h[k + 1]; k++)
			;
	}
	for (i = k + 1; i < 5; i++)
		p->pos[i] += 1;
	for (i = 0; i < 5; i++)
		p->want[i] += p->dn[i];
	for (i = 1; i < 4; i++) {
		double d = p->want[i] - p->pos[i];

		if ((d >= 1 && p->pos[i + 1] - p->pos[i] > 1) ||
		    (d <= -1 && p->pos[i - 1] - p->pos[i] < -1)) {
			double s = d >= 0 ? 1 : -1, hp;

			hp = p->h[i] + s / (p->pos[i + 1] - p->pos[i - 1]) *
			    ((p->pos[i] - p->pos[i - 1] + s) *
			    (p->h[i + 1] - p->h[i]) / (p->pos[i + 1] - p->pos[i]) +
			    (p->pos[i + 1] - p->pos[i] - s) *
			    (p->h[i] - p->h[i - 1]) / (p->pos[i] - p->pos[i - 1]));
			if (p->h[i - 1] < hp && hp < p->h[i + 1]) {
				p->h[i] = hp;
			} else {
				int j = i + (int)s;

				p->h[i] += s * (p->h[j] - p->h[i]) /
				    (p->pos[j] - p->pos[i]);
			}
			p->pos[i] += s;
		}
	}
}

double
pk_p2_get(const struct pk_p2 *p)
{
	double tmp[5];

	if (p->n == 0)
		return NAN;
	if (p->n < 5) {
		memcpy(tmp, p->h, sizeof(double) * (size_t)p->n);
		pk_sort_doubles(tmp, (size_t)p->n);
		return pk_quantile_sorted(tmp, (size_t)p->n, p->q);
	}
	return p->h[2];
}

/* Acklam's rational approximation, refined by one Halley step. */
double
pk_norm_quantile(double p)
{
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
	    -2.759285104469687e+02, 1.383577518672690e+02,
	    -3.066479806614716e+01, 2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
	    -1.556989798598866e+02, 6.680131188771972e+01,
	    -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
	    -2.400758277161838e+00, -2.549732539343734e+00,
	    4.374664141464968e+00, 2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
	    2.445134137142996e+00, 3.754408661907416e+00 };
	double q, r, x, e, u;

	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q +
		    c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p <= 1 - 0.02425) {
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r +
		    a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r +
		    b[4]) * r + 1);
	} else {
		q = sqrt(-2 * log(1 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q +
		    c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	e = 0.5 * erfc(-x / sqrt(2)) - p;
	u = e * sqrt(2 * M_PI) * exp(x * x / 2);
	return x - u / (1 + x * u / 2);
}

/* Regularised incomplete beta by continued fraction (Numerical Recipes). */
static double
betacf(double a, double b, double x)
{
	double c = 1, d, h, qab = a + b, qap = a + 1, qam = a - 1, aa, del;
	int m;

	d = 1 - qab * x / qap;
	if (fabs(d) < 1e-300)
		d = 1e-300;
	d = 1 / d;
	h = d;
	for (m = 1; m <= 300; m++) {
		int m2 = 2 * m;

		aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1 + aa * d;
		if (fabs(d) < 1e-300)
			d = 1e-300;
		c = 1 + aa / c;
		if (fabs(c) < 1e-300)
			c = 1e-300;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1 + aa * d;
		if (fabs(d) < 1e-300)
			d = 1e-300;
		c = 1 + aa / c;
		if (fabs(c) < 1e-300)
			c = 1e-300;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < 3e-14)
			break;
	}
	return h;
}

static double
ibeta(double a, double b, double x)
{
	double bt;

	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	bt = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) +
	    b * log(1 - x));
	if (x < (a + 1) / (a + b + 2))
		return bt * betacf(a, b, x) / a;
	return 1 - bt * betacf(b, a, 1 - x) / b;
}

double
pk_t_pvalue(double t, double df)
{
	if (!isfinite(t))
		return 0;
	if (df <= 0)
		return NAN;
	return ibeta(df / 2, 0.5, df / (df + t * t));
}

double
pk_t_quantile(double p, double df)
{
	double lo = 0, hi = 1e3, mid;
	int i;

	if (df <= 0)
		return NAN;
	if (p == 0.5)
		return 0;
	if (p < 0.5)
		return -pk_t_quantile(1 - p, df);
	/* Bisection on the two-sided p-value: exact enough and robust. */
	for (i = 0; i < 200; i++) {
		mid = (lo + hi) / 2;
		if (pk_t_pvalue(mid, df) / 2 > 1 - p)
			lo = mid;
		else
			hi = mid;
		if (hi - lo < 1e-10)
			break;
	}
	return (lo + hi) / 2;
}

static size_t
hist_index(const struct pk_hist *h, unsigned long long v)
{
	unsigned long long sub = 1ULL << h->sub_bits;
	unsigned msb, shift;

	if (v < sub)
		return (size_t)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - h->sub_bits;
	return (size_t)((unsigned long long)(shift + 1) * sub +
	    ((v >> shift) - sub));
}

static unsigned long long
hist_upper(const struct pk_hist *h, size_t i)
{
	unsigned long long sub = 1ULL << h->sub_bits;
	unsigned long long grp, off;

	if (i < sub)
		return i;
	grp = i / sub - 1;
	off = i % sub;
	return ((sub + off + 1) << grp) - 1;
}

int
pk_hist_init(struct pk_hist *h, unsigned sub_bits, unsigned long long maxval)
{
	memset(h, 0, sizeof(*h));
	if (sub_bits < 1 || sub_bits > 16)
		return -1;
	h->sub_bits = sub_bits;
	if (maxval < (1ULL << sub_bits))
		maxval = 1ULL << sub_bits;
	h->nbuckets = hist_index(h, maxval) + 1;
	h->counts = calloc(h->nbuckets, sizeof(*h->counts));
	if (h->counts == NULL)
		return -1;
	pk_hist_reset(h);
	return 0;
}

void
pk_hist_release(struct pk_hist *h)
{
	free(h->counts);
	h->counts = NULL;
}

void
pk_hist_reset(struct pk_hist *h)
{
	memset(h->counts, 0, h->nbuckets * sizeof(*h->counts));
	h->total = 0;
	h->min = ~0ULL;
	h->max = 0;
	h->sum = 0;
}

void
pk_hist_add(struct pk_hist *h, unsigned long long v)
{
	size_t i = hist_index(h, v);

	if (i >= h->nbuckets)
		i = h->nbuckets - 1;
	h->counts[i]++;
	h->total++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
pk_hist_merge(struct pk_hist *a, const struct pk_hist *b)
{
	size_t i;

	for (i = 0; i < a->nbuckets && i < b->nbuckets; i++)
		a->counts[i] += b->counts[i];
	a->total += b->total;
	a->sum += b->sum;
	if (b->total > 0 && b->min < a->min)
		a->min = b->min;
	if (b->max > a->max)
		a->max = b->max;
}

unsigned long long
pk_hist_quantile(const struct pk_hist *h, double q)
{
	unsigned long long rank, seen = 0, u;
	size_t i;

	if (h->total == 0)
		return 0;
	if (q <= 0)
		return h->min;
	rank = (unsigned long long)ceil(q * (double)h->total);
	if (rank == 0)
		rank = 1;
	for (i = 0; i < h->nbuckets; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			if (i == h->nbuckets - 1)
				return h->max;
			u = hist_upper(h, i);
			if (u > h->max)
				u = h->max;
			if (u < h->min)
				u = h->min;
			return u;
		}
	}
	return h->max;
}
