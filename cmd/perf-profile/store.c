/* SPDX-License-Identifier: MIT */
/*
 * The component store: a fixed table of components found by (host, name)
 * in an open-addressing hash, each with a rolling window per metric and
 * the leak window of its RSS.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_hash.h"

#include "perf-profile.h"

void
store_init(struct state *s)
{
	s->comp = pk_xcalloc(MAX_COMPONENTS, sizeof(*s->comp));
	s->hcap = 2 * MAX_COMPONENTS;
	s->hash = pk_xcalloc(s->hcap, sizeof(*s->hash));
	s->scratch = pk_xreallocarray(NULL, RING_MAX, sizeof(*s->scratch));
}

void
store_release(struct state *s)
{
	size_t j;
	int m;

	for (j = 0; j < s->ncomp; j++) {
		for (m = 0; m < NMETRIC; m++)
			pk_profwin_release(&s->comp[j].win[m]);
		pk_profwin_release(&s->comp[j].leak);
		free(s->comp[j].name);
		free(s->comp[j].agg);
	}
	free(s->comp);
	free(s->hash);
	free(s->scratch);
	s->comp = NULL;
	s->hash = NULL;
	s->scratch = NULL;
	s->ncomp = 0;
}

static unsigned long
hash_key(const struct host *h, const char *name, size_t nl)
{
	uintptr_t hp = (uintptr_t)h;
	uint64_t k = pk_hash_fnv1a(PK_HASH_FNV_INIT, &hp, sizeof(hp));

	return (unsigned long)pk_hash_fnv1a(k, name, nl);
}

struct component *
comp_get(struct state *s, struct host *h, const char *name, int system)
{
	size_t nl = strlen(name), i, k;
	struct component *c;
	int m;

	k = hash_key(h, name, nl) & (s->hcap - 1);
	for (i = 0; i < s->hcap; i++, k = (k + 1) & (s->hcap - 1)) {
		if (s->hash[k] == 0)
			break;
		c = &s->comp[s->hash[k] - 1];
		if (c->host == h && c->system == system &&
		    strcmp(c->name, name) == 0)
			return c;
	}
	if (s->ncomp == MAX_COMPONENTS) {
		if (!s->warned_full)
			pk_warn("more than %d components: the others are "
			    "passed through, not profiled", MAX_COMPONENTS);
		s->warned_full = 1;
		return NULL;
	}
	c = &s->comp[s->ncomp];
	memset(c, 0, sizeof(*c));
	c->host = h;
	c->name = pk_xstrdup(name);
	c->system = system;
	c->last_eval = -INFINITY;
	c->trip_c = NAN;
	for (m = 0; m < NMETRIC; m++)
		pk_profwin_init(&c->win[m], s->conf.window, RING_MAX,
		    s->conf.smooth);
	pk_profwin_init(&c->leak, s->conf.leak_window, RING_MAX,
	    s->conf.smooth);
	for (i = 0; i < CHECK_MAX; i++)
		c->episode[i] = -1;
	if (s->o->summary) {
		c->agg = pk_xcalloc(NMETRIC, sizeof(*c->agg));
		for (m = 0; m < NMETRIC; m++)
			pk_profagg_init(&c->agg[m]);
	}
	if (system && h->system == NULL)
		h->system = c;
	s->hash[k] = (unsigned)++s->ncomp;
	return c;
}

/* RSS into the leak window: a bucket's mean once it spans its step. */
static void
leak_add(struct state *s, struct component *c, double t, double v)
{
	if (c->lb_n == 0)
		c->lb_t0 = t;
	c->lb_t += t;
	c->lb_v += v;
	c->lb_n++;
	if (t - c->lb_t0 < s->conf.leak_window / LEAK_BUCKETS)
		return;
	if (pk_profwin_add(&c->leak, c->lb_t / c->lb_n, c->lb_v / c->lb_n) ==
	    -1)
		pk_die(PK_EXIT_IO, "out of memory");
	c->lb_t = c->lb_v = 0;
	c->lb_n = 0;
}

void
comp_leak_reset(struct component *c)
{
	c->leak.n = c->leak.head = 0;
	c->lb_t = c->lb_v = 0;
	c->lb_n = 0;
}

void
metric_add(struct state *s, struct component *c, enum metric m, double t,
    double v)
{
	if (!isfinite(v))
		return;
	if (pk_profwin_add(&c->win[m], t, v) == -1)
		pk_die(PK_EXIT_IO, "out of memory");
	c->present |= 1u << m;
	if (metrics[m].leak)
		leak_add(s, c, t, v);
	if (c->agg != NULL)
		pk_profagg_add(&c->agg[m], t, v);
}

double
comp_ewma(const struct component *c, enum metric m)
{
	if (!(c->present & (1u << m)) || c->win[m].n == 0)
		return NAN;
	return c->win[m].ewma.value;
}

double
comp_leak_slope(const struct component *c)
{
	double r2;

	return c->leak.n < 5 ? NAN : pk_profwin_slope(&c->leak, &r2);
}

/*
 * The host's clock stepped back: end its open bottlenecks at the old
 * clock and start its windows and ticks again from the new timeline.
 * Targets and configuration stay.
 */
void
host_restart(struct state *s, struct host *h)
{
	struct component *c;
	size_t i;
	int m;

	for (i = 0; i < s->ncomp; i++) {
		c = &s->comp[i];
		if (c->host != h)
			continue;
		end_all(s, c, h->clock);
		for (m = 0; m < NMETRIC; m++)
			pk_profwin_restart(&c->win[m]);
		pk_profwin_restart(&c->leak);
		comp_leak_reset(c);
		c->last_eval = -INFINITY;
	}
	h->clock = h->next_tick = NAN;
}
