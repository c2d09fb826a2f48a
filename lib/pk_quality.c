/* SPDX-License-Identifier: MIT */
#include "pk_quality.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[PK_QUALITY_NLEVELS] = {
	"ULTRA_LOW", "LOW", "MEDIUM", "HIGH", "ULTRA_HIGH"
};

const char *
pk_quality_level_name(int level)
{
	if (level < 0 || level >= PK_QUALITY_NLEVELS)
		return "NONE";
	return level_names[level];
}

int
pk_quality_level_parse(const char *s)
{
	char buf[16];
	size_t i, n = strlen(s);

	if (n == 1 && s[0] >= '0' && s[0] <= '4')
		return s[0] - '0';
	if (n == 0 || n >= sizeof(buf))
		return -1;
	for (i = 0; i < n; i++)
		buf[i] = s[i] == '-' ? '_' : (char)toupper((unsigned char)s[i]);
	buf[n] = '\0';
	for (i = 0; i < PK_QUALITY_NLEVELS; i++)
		if (strcmp(buf, level_names[i]) == 0)
			return (int)i;
	return -1;
}

double
pk_quality_norm(double x, double low, double high)
{
	double f;

	if (isnan(x))
		return NAN;
	if (high == low)
		return (high > low ? x >= high : x <= high) ? 100 : 0;
	f = (x - low) / (high - low);
	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	return 100 * f;
}

const char *
pk_quality_reason_name(enum pk_quality_reason r)
{
	switch (r) {
	case PK_QUALITY_R_START:
		return "start";
	case PK_QUALITY_R_HIGH:
		return "pressure_high";
	case PK_QUALITY_R_LOW:
		return "pressure_low";
	case PK_QUALITY_R_OVERRIDE:
		return "override";
	case PK_QUALITY_R_RELEASE:
		return "release";
	case PK_QUALITY_R_NONE:
		break;
	}
	return "none";
}

void
pk_quality_params_default(struct pk_quality_params *p)
{
	memset(p, 0, sizeof(*p));
	p->tau_fast = 2;
	p->tau_slow = 30;
	p->down = 75;
	p->up = 50;
	p->confirm = 2;
	p->dwell = 10;
	p->dwell_max = 300;
	p->undo_window = 60;
	p->hold_margin = 5;
	p->step_cost = 10;
	p->impact_after = 5;
	p->probe = 300;
	p->initial = PK_QUALITY_ULTRA_HIGH;
}

static void
reset_averages(struct pk_quality_ctl *c)
{
	pk_ewma_init(&c->fast, 0, c->p.tau_fast);
	pk_ewma_init(&c->slow, 0, c->p.tau_slow);
	pk_ewma_init(&c->fps, 0, c->p.tau_fast);
	c->n_at_level = 0;
	c->prev_raw = NAN;
	c->low = 0;
	c->predicted = NAN;
}

void
pk_quality_init(struct pk_quality_ctl *c, const struct pk_quality_params *p)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->p = *p;
	c->level = p->initial;
	c->override = -1;
	for (i = 0; i < PK_QUALITY_NLEVELS; i++)
		c->dwell[i] = p->dwell;
	for (i = 0; i < PK_QUALITY_NLEVELS - 1; i++)
		c->cost[i] = NAN;
	reset_averages(c);
}

void
pk_quality_rebase(struct pk_quality_ctl *c, double shift)
{
	c->last_change -= shift;
	c->first_t -= shift;
	c->low_since -= shift;
	c->last_t -= shift;
	c->fast.last_t -= shift;
	c->slow.last_t -= shift;
	c->fps.last_t -= shift;
	c->imp_pending = 0;
}

void
pk_quality_set_params(struct pk_quality_ctl *c, const struct pk_quality_params *p)
{
	int i;

	/* Dwell times keep their doublings, within the new bounds. */
	for (i = 0; i < PK_QUALITY_NLEVELS; i++) {
		double k = c->dwell[i] / c->p.dwell;

		c->dwell[i] = p->dwell * k;
		if (c->dwell[i] > p->dwell_max)
			c->dwell[i] = p->dwell_max;
		if (c->dwell[i] < p->dwell)
			c->dwell[i] = p->dwell;
	}
	c->p = *p;
	c->fast.tau = p->tau_fast;
	c->slow.tau = p->tau_slow;
	c->fps.tau = p->tau_fast;
}

/* One evaluation into the averages. */
static void
feed(struct pk_quality_ctl *c, double t, double pressure, double fps)
{
	if (!c->fast.init)
		c->first_t = t;
	pk_ewma_add(&c->fast, t, pressure);
	pk_ewma_add(&c->slow, t, pressure);
	if (!isnan(fps))
		pk_ewma_add(&c->fps, t, fps);
}

static double
ctl_value(const struct pk_quality_ctl *c)
{
	return c->fast.value > c->slow.value ? c->fast.value : c->slow.value;
}

static void impact_take(struct pk_quality_ctl *c, double t, int complete);

/* Record a change from c->level to level at t; fills ch. */
static void
change(struct pk_quality_ctl *c, double t, int level,
    enum pk_quality_reason reason, double raw, struct pk_quality_change *ch)
{
	int from = c->level;

	if (c->imp_pending && c->fast.init)
		impact_take(c, t, 0);
	memset(ch, 0, sizeof(*ch));
	ch->reason = reason;
	ch->prev = from;
	ch->level = level;
	ch->pressure = raw;
	ch->fast = c->fast.init ? c->fast.value : NAN;
	ch->slow = c->slow.init ? c->slow.value : NAN;
	/* The impact of this change is measured impact_after from now. */
	c->imp_pending = c->fast.init;
	c->imp_ts = t;
	c->imp_p = c->fast.value;
	c->imp_fps = c->fps.init ? c->fps.value : NAN;
	c->imp_from = from;
	c->imp_to = level;
	c->imp_learn = (reason == PK_QUALITY_R_HIGH || reason == PK_QUALITY_R_LOW);
	c->last_change_up = reason == PK_QUALITY_R_LOW;
	c->level = level;
	c->last_change = t;
	/* What was measured at the old level does not describe the new one. */
	reset_averages(c);
	ch->dwell = level + 1 < PK_QUALITY_NLEVELS ? c->dwell[level + 1] : 0;
}

/*
 * Measure the impact of the pending change now: complete after
 * impact_after, or cut short by the next change (not learned from).
 */
static void
impact_take(struct pk_quality_ctl *c, double t, int complete)
{
	struct pk_quality_impact *imp = &c->imp;
	double d;
	int k;

	c->imp_pending = 0;
	memset(imp, 0, sizeof(*imp));
	imp->change_ts = c->imp_ts;
	imp->from = c->imp_from;
	imp->to = c->imp_to;
	imp->after_s = t - c->imp_ts;
	imp->complete = complete;
	imp->pressure_before = c->imp_p;
	imp->pressure_after = c->fast.value;
	imp->fps_before = c->imp_fps;
	imp->fps_after = c->fps.init ? c->fps.value : NAN;
	imp->step_cost = NAN;
	c->imp_ready = 1;
	if (complete && c->imp_learn && abs(c->imp_to - c->imp_from) == 1) {
		/* The rise of a step up, whichever way the step went. */
		d = imp->pressure_after - imp->pressure_before;
		if (c->imp_to < c->imp_from)
			d = -d;
		k = c->imp_to < c->imp_from ? c->imp_to : c->imp_from;
		c->cost[k] = isnan(c->cost[k]) ? d : 0.5 * c->cost[k] + 0.5 * d;
		imp->learned = 1;
		imp->step_cost = c->cost[k];
	}
}

/* The predicted pressure one level up. */
static double
predict_up(const struct pk_quality_ctl *c, double now)
{
	double k = c->cost[c->level];

	if (isnan(k))
		k = c->p.step_cost;
	if (k < 0)
		k = 0;
	return now + k;
}

/* Hand out a measured impact, if any; returns r. */
static int
give_impact(struct pk_quality_ctl *c, struct pk_quality_impact *imp,
    int *have_imp, int r)
{
	if (c->imp_ready) {
		*imp = c->imp;
		*have_imp = 1;
		c->imp_ready = 0;
	}
	return r;
}

int
pk_quality_step(struct pk_quality_ctl *c, double t, double pressure,
    double fps, struct pk_quality_change *ch, struct pk_quality_impact *imp,
    int *have_imp)
{
	double v, vdown, pred, low_for;
	int high_raw, probe;

	*have_imp = 0;
	if (isnan(pressure))
		return 0;
	if (c->started && t < c->last_t)
		t = c->last_t;	/* time never runs backwards here */
	c->last_t = t;
	c->n_at_level++;
	if (!c->started) {
		c->started = 1;
		feed(c, t, pressure, fps);
		memset(ch, 0, sizeof(*ch));
		ch->reason = PK_QUALITY_R_START;
		ch->prev = -1;
		ch->level = c->level;
		ch->pressure = pressure;
		ch->fast = ch->slow = pressure;
		ch->dwell = c->level + 1 < PK_QUALITY_NLEVELS ?
		    c->dwell[c->level + 1] : 0;
		c->last_change = t;
		c->prev_raw = pressure;
		snprintf(ch->detail, sizeof(ch->detail), "initial level");
		return 1;
	}
	/*
	 * The first evaluation after a change measured an interval that
	 * straddles it (and an application that had not yet adapted): it
	 * counts towards confirm but not into the averages.
	 */
	if (c->n_at_level == 1)
		return give_impact(c, imp, have_imp, 0);
	feed(c, t, pressure, fps);
	if (c->imp_pending && t - c->imp_ts >= c->p.impact_after)
		impact_take(c, t, 1);
	if (c->override >= 0) {
		c->prev_raw = pressure;
		return give_impact(c, imp, have_imp, 0);
	}
	v = ctl_value(c);
	/*
	 * A slow average younger than its time constant is the estimate of
	 * a few samples: it guards a step up but does not decide a step down.
	 */
	vdown = t - c->first_t >= c->p.tau_slow ? v : c->fast.value;
	high_raw = pressure >= c->p.down && !isnan(c->prev_raw) &&
	    c->prev_raw >= c->p.down;
	c->prev_raw = pressure;

	/* Step down: fast, on the averages or two raw evaluations. */
	if (c->level > 0 && c->n_at_level >= c->p.confirm &&
	    (vdown >= c->p.down || high_raw)) {
		int undone = c->last_change_up &&
		    t - c->last_change <= c->p.undo_window;
		int from = c->level;

		if (undone) {
			c->dwell[from] *= 2;
			if (c->dwell[from] > c->p.dwell_max)
				c->dwell[from] = c->p.dwell_max;
		}
		change(c, t, from - 1, PK_QUALITY_R_HIGH, pressure, ch);
		ch->undone = undone;
		if (vdown >= c->p.down)
			snprintf(ch->detail, sizeof(ch->detail),
			    "pressure %.1f >= %g (fast %.1f, slow %.1f)%s",
			    vdown, c->p.down, ch->fast, ch->slow,
			    undone ? "; undid a step up, its dwell doubled" : "");
		else
			snprintf(ch->detail, sizeof(ch->detail),
			    "raw pressure >= %g on 2 evaluations%s", c->p.down,
			    undone ? "; undid a step up, its dwell doubled" : "");
		return give_impact(c, imp, have_imp, 1);
	}

	/* A step up that held for the undo window relaxes its dwell. */
	if (c->last_change_up && t - c->last_change > c->p.undo_window) {
		c->dwell[c->level] /= 2;
		if (c->dwell[c->level] < c->p.dwell)
			c->dwell[c->level] = c->p.dwell;
		c->last_change_up = 0;
	}

	/* Step up: slow, one level, after the dwell, if it can be held. */
	if (v > c->p.up) {
		c->low = 0;
		c->predicted = NAN;
		return give_impact(c, imp, have_imp, 0);
	}
	if (!c->low) {
		c->low = 1;
		c->low_since = t;
	}
	if (c->level + 1 >= PK_QUALITY_NLEVELS ||
	    t - c->low_since < c->dwell[c->level + 1])
		return give_impact(c, imp, have_imp, 0);
	pred = predict_up(c, v);
	c->predicted = pred;
	probe = pred > c->p.down - c->p.hold_margin;
	/*
	 * Never up to a level that cannot be held, as far as the recorded
	 * impacts tell; after probe seconds of low pressure a step up is
	 * tried anyway, so that one unlucky measurement cannot pin the
	 * level down for ever (its impact then corrects the estimate).
	 */
	if (probe && t - c->low_since < c->p.probe)
		return give_impact(c, imp, have_imp, 0);
	low_for = t - c->low_since;
	change(c, t, c->level + 1, PK_QUALITY_R_LOW, pressure, ch);
	if (probe)
		snprintf(ch->detail, sizeof(ch->detail),
		    "pressure %.1f <= %g for %gs; probing %s although "
		    "%.1f is predicted there", v, c->p.up, low_for,
		    pk_quality_level_name(ch->level), pred);
	else
		snprintf(ch->detail, sizeof(ch->detail),
		    "pressure %.1f <= %g for %gs; predicted %.1f at %s <= %g",
		    v, c->p.up, low_for, pred,
		    pk_quality_level_name(ch->level),
		    c->p.down - c->p.hold_margin);
	return give_impact(c, imp, have_imp, 1);
}

int
pk_quality_impact_take(struct pk_quality_ctl *c, struct pk_quality_impact *imp)
{
	int have = 0;

	give_impact(c, imp, &have, 0);
	return have;
}

int
pk_quality_override(struct pk_quality_ctl *c, double t, int level,
    struct pk_quality_change *ch)
{
	double raw = c->fast.init ? c->fast.value : NAN;

	if (level < 0) {
		if (c->override < 0)
			return 0;
		c->override = -1;
		change(c, t, c->level, PK_QUALITY_R_RELEASE, raw, ch);
		c->imp_pending = 0;
		snprintf(ch->detail, sizeof(ch->detail),
		    "manual override released");
		return 1;
	}
	if (c->override == level)
		return 0;
	c->override = level;
	change(c, t, level, PK_QUALITY_R_OVERRIDE, raw, ch);
	snprintf(ch->detail, sizeof(ch->detail), "manual override to %s",
	    pk_quality_level_name(level));
	return 1;
}

int
pk_quality_component_level(int level, int prio)
{
	level += prio;
	if (level >= PK_QUALITY_NLEVELS)
		level = PK_QUALITY_NLEVELS - 1;
	if (level < 0)
		level = 0;
	return level;
}

int
pk_quality_cpulist(const char *s, unsigned long long mask[16])
{
	const char *p = s;
	int n = 0;

	memset(mask, 0, 16 * sizeof(mask[0]));
	for (;;) {
		char *end;
		long a, b;

		if (!isdigit((unsigned char)*p))
			return -1;
		a = strtol(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			b = strtol(p, &end, 10);
			p = end;
		}
		if (a < 0 || b < a || b >= 1024)
			return -1;
		for (; a <= b; a++) {
			if (!(mask[a / 64] & (1ULL << (a % 64))))
				n++;
			mask[a / 64] |= 1ULL << (a % 64);
		}
		if (*p == '\0')
			return n;
		if (*p != ',')
			return -1;
		p++;
	}
}

/*
 * A cursor over the members of one JSON object given as validated text:
 * the key's raw text (without quotes) and the value's extent.
 */
struct member {
	const char *key, *val;
	size_t klen, vlen;
};

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end && *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p < end ? p + 1 : end;
}

static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	do {
		if (p >= end)
			return end;
		if (*p == '"') {
			p = skip_string(p, end);
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (depth == 0) {
			while (p < end && *p != ',' && *p != '}' && *p != ']' &&
			    *p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
				p++;
			return p;
		}
		p++;
	} while (depth > 0);
	return p;
}

/* The next member from *pp (just after '{' or a member); 0 at the end. */
static int
member_next(const char **pp, const char *end, struct member *m)
{
	const char *p = skip_ws(*pp, end);

	if (p < end && (*p == '{' || *p == ','))
		p = skip_ws(p + 1, end);
	if (p >= end || *p != '"')
		return 0;
	m->key = p + 1;
	p = skip_string(p, end);
	m->klen = (size_t)(p - 1 - m->key);
	p = skip_ws(p, end);
	if (p < end && *p == ':')
		p = skip_ws(p + 1, end);
	m->val = p;
	p = skip_value(p, end);
	m->vlen = (size_t)(p - m->val);
	*pp = p;
	return 1;
}

static int
member_num(const struct member *m, double *out)
{
	char buf[64], *e;

	if (m->vlen == 0 || m->vlen >= sizeof(buf) ||
	    !(m->val[0] == '-' || (m->val[0] >= '0' && m->val[0] <= '9')))
		return 0;
	memcpy(buf, m->val, m->vlen);
	buf[m->vlen] = '\0';
	*out = strtod(buf, &e);
	return *e == '\0';
}

double
pk_quality_headroom(const char *temp, size_t tlen, const char *trip,
    size_t plen, double trip_default, char *zone, size_t zsize, double *tc)
{
	const char *p = temp, *end = temp + tlen;
	struct member m, k;
	double best = NAN, t, tp, h;

	while (member_next(&p, end, &m)) {
		const char *q = trip, *qend = trip + plen;

		if (!member_num(&m, &t))
			continue;
		tp = trip_default;
		while (trip != NULL && member_next(&q, qend, &k)) {
			if (k.klen == m.klen && memcmp(k.key, m.key, m.klen) == 0) {
				if (!member_num(&k, &tp))
					tp = trip_default;
				break;
			}
		}
		h = tp - t;
		if (isnan(best) || h < best) {
			size_t zl = m.klen < zsize - 1 ? m.klen : zsize - 1;

			best = h;
			memcpy(zone, m.key, zl);
			zone[zl] = '\0';
			*tc = t;
		}
	}
	return best;
}
