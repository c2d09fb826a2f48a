/* SPDX-License-Identifier: MIT */
/*
 * The evaluation engine: it runs the check rows of a component's scope,
 * turns their verdicts into edge-triggered bottlenecks with escalation,
 * ranks the contributors, builds the hint and keeps the episodes of
 * --summary; and it writes the profiles with their efficiency score.
 * Nothing here knows one check from another.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "perf-profile.h"

static enum check_scope
scope_of(const struct component *c)
{
	return c->system ? SCOPE_SYSTEM : SCOPE_COMPONENT;
}

void
engine_init(struct state *s)
{
	enum check_scope scope;
	size_t i;
	int late;

	for (scope = SCOPE_SYSTEM; scope <= SCOPE_COMPONENT; scope++) {
		s->norder[scope] = 0;
		for (late = 0; late <= 1; late++)
			for (i = 0; i < nchecks; i++)
				if (checks[i]->scope == scope &&
				    checks[i]->after_levels == late)
					s->order[scope][s->norder[scope]++] =
					    (unsigned char)i;
	}
}

/* The keys of every check for c, resolved once per config. */
static void
resolve_keys(const struct state *s, struct component *c)
{
	size_t i, k;

	for (i = 0; i < nchecks; i++)
		for (k = 0; k < CHECK_KEYS; k++)
			c->key[i][k] = checks[i]->keys[k].name == NULL ? NAN :
			    conf_target(&s->conf, c->system ? NULL : c->name,
			    i, k);
	c->conf_gen = s->conf_gen;
}

static void
ctx_init(struct check_ctx *x, const struct state *s, struct component *c,
    size_t i, double t)
{
	if (c->conf_gen != s->conf_gen)
		resolve_keys(s, c);
	x->s = s;
	x->c = c;
	x->ck = checks[i];
	x->i = i;
	x->t = t;
	x->thr = c->key[i];
}

/* Contributors: the components of the host ranked by their share. */
static size_t
contributors(const struct state *s, const struct component *c,
    const struct check_type *ck, struct contributor *top)
{
	const struct component *best[5] = { NULL };
	double bv[5] = { 0 }, sum = 0, v;
	enum metric m = ck->rank;
	size_t i, n;
	int j, l;

	for (i = 0; i < s->ncomp; i++) {
		const struct component *o = &s->comp[i];

		if (o->system || o->host != c->host)
			continue;
		v = ck->rank_value != NULL ? ck->rank_value(s, o) :
		    comp_ewma(o, m);
		if (!isfinite(v) || v <= 0 || o->win[m].n == 0)
			continue;
		sum += v;
		for (j = 0; j < 5 && best[j] != NULL && bv[j] >= v; j++)
			;
		if (j == 5)
			continue;
		for (l = 4; l > j; l--)
			best[l] = best[l - 1], bv[l] = bv[l - 1];
		best[j] = o;
		bv[j] = v;
	}
	for (n = 0; n < 5 && best[n] != NULL; n++) {
		top[n].c = best[n];
		top[n].share = bv[n] / sum;
	}
	return n;
}

/*
 * The context of a hint: the top contributor, or for a component the
 * system bottleneck open at the same time that tells the most.
 */
static void
hint_context(struct state *s, const struct component *c,
    const struct check_type *ck, const struct component *top, char *ctx,
    size_t size)
{
	const struct check_type *best = NULL;
	struct component *sys = c->host->system;
	struct check_ctx x;
	size_t i, bi = 0;

	if (top != NULL)
		snprintf(ctx, size, "; top %s: %s", metrics[ck->rank].rank_word,
		    top->name);
	if (c->system || sys == NULL)
		return;
	for (i = 0; i < nchecks; i++)
		if (checks[i]->sys_hint != NULL && sys->sev[i].active &&
		    (best == NULL || checks[i]->hint_rank < best->hint_rank)) {
			best = checks[i];
			bi = i;
		}
	if (best == NULL)
		return;
	ctx_init(&x, s, sys, bi, sys->last_eval);
	best->sys_hint(&x, top, ctx, size);
}

static void
episode_open(struct state *s, struct component *c, size_t i, double t)
{
	struct episode *e;

	if (!s->o->summary)
		return;
	if (s->nep == MAX_EPISODES) {
		s->ep_lost++;
		return;
	}
	e = &s->ep[s->nep];
	e->since = t;
	e->end = t;
	e->peak = c->sev[i].level;
	e->ongoing = 1;
	e->check = i;
	e->comp = (unsigned)(c - s->comp);
	c->episode[i] = (long)s->nep++;
}

static void
edge(struct state *s, struct component *c, size_t i, int what, double t)
{
	const struct check_type *ck = checks[i];
	struct contributor top[5];
	struct check_ctx x;
	struct episode *e;
	char buf[HINT_MAX], ctx[160] = "";
	size_t ntop;
	int n;

	if (what == PK_EDGE_START) {
		c->started[i]++;
		episode_open(s, c, i, t);
	}
	if (s->prom != NULL)
		prom_changed(s);
	if (c->episode[i] >= 0) {
		e = &s->ep[c->episode[i]];
		e->end = t;
		if (c->sev[i].level > e->peak)
			e->peak = c->sev[i].level;
		if (what == PK_EDGE_END) {
			e->ongoing = 0;
			c->episode[i] = -1;
		}
	}
	if (s->o->summary)
		return;
	ntop = contributors(s, c, ck, top);
	if (what == PK_EDGE_END) {
		snprintf(buf, sizeof(buf), "back within target: %s %.4g "
		    "(target %.4g) after %.0f s", ck->value_name, c->val[i],
		    c->thr[i], t - c->sev[i].since);
	} else {
		hint_context(s, c, ck, ntop > 0 ? top[0].c : NULL, ctx,
		    sizeof(ctx));
		ctx_init(&x, s, c, i, t);
		n = ck->hint(&x, buf, sizeof(buf));
		if (n >= 0 && (size_t)n < sizeof(buf))
			snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", ctx);
	}
	rec_bottleneck(s, c, i, what, t, top, ntop, buf);
}

/* One check on c at t: its verdict, and the edge it makes. */
static void
run_check(struct state *s, struct component *c, size_t i, double t)
{
	struct judgement j;
	struct check_ctx x;
	int what;

	ctx_init(&x, s, c, i, t);
	switch (checks[i]->judge(&x, &j)) {
	case VERDICT_SKIP:
		return;
	case VERDICT_OFF:
		if (c->sev[i].active) {
			c->sev[i].active = 0;
			edge(s, c, i, PK_EDGE_END, t);
		}
		return;
	case VERDICT_ON:
		break;
	}
	c->val[i] = j.value;
	c->thr[i] = j.threshold;
	c->sev[i].after1 = s->conf.esc[0];
	c->sev[i].after2 = s->conf.esc[1];
	what = pk_profsev_update(&c->sev[i], t, j.excess, j.past, j.clear);
	if (what != PK_EDGE_NONE)
		edge(s, c, i, what, t);
}

void
evaluate(struct state *s, struct component *c, double t)
{
	enum check_scope scope = scope_of(c);
	size_t j;

	if (t < c->last_eval + EVAL_STEP)
		return;
	c->last_eval = t;
	for (j = 0; j < s->norder[scope]; j++)
		run_check(s, c, s->order[scope][j], t);
}

void
end_all(struct state *s, struct component *c, double t)
{
	size_t i;

	for (i = 0; i < nchecks; i++)
		if (c->sev[i].active) {
			c->sev[i].active = 0;
			edge(s, c, i, PK_EDGE_END, t);
		}
}

/*
 * The efficiency score of a component: 100 times the product over its
 * enabled targets of max(0, 1 - e), e the relative excess of the window's
 * statistic over the target (0 when met).
 */
double
efficiency(const struct state *s, const struct component *c,
    const struct pk_profwin_stats *st)
{
	enum check_scope scope = scope_of(c);
	struct check_ctx x;
	double eff = 1, e, v, thr;
	size_t i, j;
	int floor;

	for (j = 0; j < s->norder[scope]; j++) {
		i = s->order[scope][j];
		if (checks[i]->eff == NULL)
			continue;
		ctx_init(&x, s, (struct component *)c, i, NAN);
		floor = 0;
		v = checks[i]->eff(&x, st, &thr, &floor);
		if (!(thr > 0) || isnan(v))
			continue;
		e = pk_profsev_excess(v, thr, floor);
		if (e > 0)
			eff *= e >= 1 ? 0 : 1 - e;
	}
	return 100 * eff;
}

/* The figures of the exposition, as of this profile. */
static void
keep(struct component *c, const struct pk_profwin_stats *st, double eff)
{
	int i;

	c->profiled = 0;
	for (i = 0; i < NMETRIC; i++) {
		if (st[i].n == 0 || !isfinite(st[i].p50) ||
		    !isfinite(st[i].p95))
			continue;
		c->p50[i] = st[i].p50;
		c->p95[i] = st[i].p95;
		c->profiled |= 1u << i;
	}
	c->eff = eff;
	/* A profile of no statistic still has its efficiency. */
	c->profiled |= 1u << NMETRIC;
}

static void
profile(struct state *s, struct component *c, double t)
{
	struct pk_profwin_stats st[NMETRIC];
	double eff;
	int i, any = 0;

	for (i = 0; i < NMETRIC; i++) {
		pk_profwin_expire(&c->win[i], t);
		any |= c->win[i].n > 0;
	}
	if (!any) {
		/* Nothing left in the window: the component went quiet. */
		c->profiled = 0;
		end_all(s, c, t);
		return;
	}
	if (s->o->summary && s->prom == NULL)
		return;
	for (i = 0; i < NMETRIC; i++)
		pk_profwin_stats(&c->win[i], s->scratch, &st[i]);
	eff = efficiency(s, c, st);
	if (s->prom != NULL)
		keep(c, st, eff);
	if (!s->o->summary)
		rec_profile(s, c, t, st, eff);
}

void
profile_host(struct state *s, const struct host *h, double t)
{
	size_t i;

	for (i = 0; i < s->ncomp; i++)
		if (s->comp[i].host == h)
			profile(s, &s->comp[i], t);
}
