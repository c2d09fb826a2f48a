/* SPDX-License-Identifier: MIT */
/*
 * The records perf-profile writes, all through one pk_jw buffer reused
 * for every record (nothing is allocated per record). Numbers keep the
 * formats the records always had: reals of bottleneck, summary and
 * episode records as jansson wrote them (%.15g, "N.0" for a whole
 * number), those of the hot profile records by pk_profwin_fmtnum.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pk_err.h"
#include "pk_io.h"

#include "perf-profile.h"

static double
rnd(double x)
{
	if (fabs(x) >= 1e9)	/* an event time: keep its milliseconds */
		return round(x * 1000) / 1000;
	return round(x * 1e4) / 1e4;
}

/*
 * A real as jansson's dump writes it with JSON_REAL_PRECISION(15): %.15g,
 * ".0" added to a whole number, the exponent without '+' or leading zeros.
 */
static void
put_real(struct pk_jw *w, double x)
{
	char buf[40], *e, *p;
	int n = snprintf(buf, sizeof(buf), "%.15g", x);

	if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
		buf[n++] = '.';
		buf[n++] = '0';
		buf[n] = '\0';
	}
	if ((e = strchr(buf, 'e')) != NULL) {
		e++;
		p = e + 1;
		if (*e == '-')
			e++;
		while (*p == '0')
			p++;
		if (p != e) {
			memmove(e, p, strlen(p) + 1);
			n = (int)strlen(buf);
		}
	}
	pk_jw_put(w, buf, (size_t)n);
}

/* ,"key": or "key": right after the object's '{'. */
static void
key(struct pk_jw *w, const char *k)
{
	if (w->len > 0 && w->buf[w->len - 1] != '{')
		pk_jw_putc(w, ',');
	pk_jw_putc(w, '"');
	pk_jw_puts(w, k);
	pk_jw_put(w, "\":", 2);
}

/* "key":x, rounded, left out when not finite (or when rounding overflows). */
static void
real(struct pk_jw *w, const char *k, double x)
{
	x = rnd(x);
	if (!isfinite(x))
		return;
	key(w, k);
	put_real(w, x);
}

static void
str(struct pk_jw *w, const char *k, const char *v)
{
	key(w, k);
	pk_jw_putc(w, '"');
	pk_jw_put_escaped(w, v);
	pk_jw_putc(w, '"');
}

/* {"type":T,"ts":ts,"host":H,"component":C */
static void
head(struct pk_jw *w, const char *type, double ts, const struct component *c)
{
	pk_jw_reset(w);
	pk_jw_putc(w, '{');
	str(w, "type", type);
	key(w, "ts");
	put_real(w, round(ts * 1000) / 1000);
	str(w, "host", c->host->name);
	str(w, "component", c->name);
}

static void
out(struct pk_jw *w)
{
	pk_jw_putc(w, '}');
	if (w->oom)
		pk_die(PK_EXIT_IO, "out of memory");
	pk_out_line(w->buf, w->len);
}

void
rec_bottleneck(struct state *s, const struct component *c, size_t i,
    int what, double t, const struct contributor *top, size_t ntop,
    const char *hint)
{
	static const char *const state_name[] = {
		"", "start", "change", "end"
	};
	const struct check_type *ck = checks[i];
	struct pk_jw *w = &s->jw;
	size_t j;

	head(w, "bottleneck", t, c);
	str(w, "kind", ck->kind);
	str(w, "state", state_name[what]);
	str(w, "severity", pk_profsev_name(c->sev[i].level));
	real(w, "value", c->val[i]);
	real(w, "threshold", c->thr[i]);
	str(w, "metric", ck->value_name);
	real(w, "since", round(c->sev[i].since * 1000) / 1000);
	if (what != PK_EDGE_START)
		real(w, "duration_s", t - c->sev[i].since);
	key(w, "contributors");
	pk_jw_putc(w, '[');
	for (j = 0; j < ntop; j++) {
		if (j > 0)
			pk_jw_putc(w, ',');
		pk_jw_putc(w, '{');
		str(w, "component", top[j].c->name);
		real(w, "share", top[j].share);
		pk_jw_putc(w, '}');
	}
	pk_jw_putc(w, ']');
	str(w, "hint", hint);
	out(w);
}

static void
num(struct pk_jw *w, double x)
{
	char buf[40];

	pk_jw_put(w, buf, pk_profwin_fmtnum(buf, x));
}

/* A profile's statistic: left out when not finite. */
static void
stat(struct pk_jw *w, const char *k, double x)
{
	if (!isfinite(x))
		return;
	key(w, k);
	num(w, x);
}

void
rec_profile(struct state *s, const struct component *c, double t,
    const struct pk_profwin_stats *st, double eff)
{
	struct pk_jw *w = &s->jw;
	int i;

	/*
	 * The hottest record: numbers by pk_profwin_fmtnum, since building
	 * and dumping a tree of some 80 reals cost more than the scan.
	 */
	pk_jw_reset(w);
	pk_jw_puts(w, "{\"type\":\"profile\",\"ts\":");
	num(w, t);
	str(w, "host", c->host->name);
	str(w, "component", c->name);
	key(w, "window_s");
	num(w, s->conf.window);
	for (i = 0; i < NMETRIC; i++) {
		if (st[i].n == 0)
			continue;
		key(w, metrics[i].name);
		pk_jw_putc(w, '{');
		stat(w, "mean", st[i].mean);
		stat(w, "min", st[i].min);
		stat(w, "max", st[i].max);
		stat(w, "stddev", st[i].sd);
		stat(w, "p50", st[i].p50);
		stat(w, "p95", st[i].p95);
		stat(w, "p99", st[i].p99);
		stat(w, "ewma", st[i].ewma);
		stat(w, "trend_per_min", st[i].trend_per_min);
		key(w, "n");
		pk_jw_put_u64(w, st[i].n);
		pk_jw_putc(w, '}');
	}
	key(w, "efficiency");
	pk_jw_put_u64(w, (uint64_t)(eff > 0 ? round(eff) : 0));
	out(w);
}

void
rec_summary(struct state *s, const struct component *c)
{
	struct pk_jw *w = &s->jw;
	double from = NAN, to = NAN;
	int m;

	for (m = 0; m < NMETRIC; m++) {
		const struct pk_profagg *a = &c->agg[m];

		if (a->w.n == 0)
			continue;
		if (isnan(from) || a->first_t < from)
			from = a->first_t;
		if (isnan(to) || a->last_t > to)
			to = a->last_t;
	}
	head(w, "summary", isnan(to) ? 0 : to, c);
	real(w, "from", from);
	real(w, "to", to);
	key(w, "metrics");
	pk_jw_putc(w, '{');
	for (m = 0; m < NMETRIC; m++) {
		const struct pk_profagg *a = &c->agg[m];

		if (a->w.n == 0)
			continue;
		key(w, metrics[m].name);
		pk_jw_putc(w, '{');
		key(w, "n");
		pk_jw_put_u64(w, a->w.n);
		real(w, "mean", a->w.mean);
		real(w, "stddev", a->w.n > 1 ? pk_welford_sd(&a->w) : 0);
		real(w, "min", a->w.min);
		real(w, "max", a->w.max);
		real(w, "p50", pk_p2_get(&a->p50));
		real(w, "p95", pk_p2_get(&a->p95));
		real(w, "p99", pk_p2_get(&a->p99));
		pk_jw_putc(w, '}');
	}
	pk_jw_putc(w, '}');
	out(w);
}

void
rec_episode(struct state *s, const struct episode *e)
{
	const struct component *c = &s->comp[e->comp];
	const struct check_type *ck = checks[e->check];
	struct pk_jw *w = &s->jw;

	head(w, "episode", e->since, c);
	str(w, "kind", ck->kind);
	str(w, "metric", ck->value_name);
	str(w, "severity", pk_profsev_name(e->peak));
	real(w, "since", e->since);
	if (!e->ongoing)
		real(w, "end", e->end);
	real(w, "duration_s", e->end - e->since);
	key(w, "ongoing");
	pk_jw_puts(w, e->ongoing ? "true" : "false");
	out(w);
}
