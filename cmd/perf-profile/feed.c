/* SPDX-License-Identifier: MIT */
/*
 * The input: lib/pk_filter reads and checks the records; here each record
 * feeds the metric rows of its type into its component's windows, the
 * host's ticks bring the profiles, and the checks are evaluated.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pk_err.h"

#include "perf-profile.h"

static const char *const need_comm[] = { "comm", NULL };
static const char *const need_component[] = { "component", NULL };

static const struct pk_ftype types[NREC + 1] = {
	[REC_SAMPLE] = { "sample", NULL },
	[REC_PROC] = { "proc", need_comm },
	[REC_METRIC] = { "metric", need_component },
	[REC_LOOP] = { "loop", NULL },
	[NREC] = { NULL, NULL }
};

/* A name from a string value, cut (if it must be) on a UTF-8 boundary. */
static void
copy_name(const struct pk_jval *v, char *buf, size_t size)
{
	size_t n;

	if (pk_jval_str(v, buf, size) < size)
		return;
	n = strlen(buf);
	while (n > 0 && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
		n--;
	if (n > 0 && ((unsigned char)buf[n - 1] & 0x80))
		n--;
	buf[n] = '\0';
}

/* A host's clock moves forward: emit the profiles of each tick passed. */
static void
tick(struct state *s, struct host *h, double t)
{
	double iv = s->conf.interval;

	if (iv <= 0)
		return;
	if (isnan(h->next_tick))
		h->next_tick = (floor(t / iv) + 1) * iv;
	if (t < h->next_tick)
		return;
	profile_host(s, h, h->next_tick);
	/* A gap in the input gives one tick, not one per interval missed. */
	h->next_tick = (floor(t / iv) + 1) * iv;
	if (s->prom != NULL)
		prom_changed(s);
}

static int
on_host(struct pk_filter *f, struct pk_fhost *fh, const struct pk_rec *r)
{
	struct host *h = pk_xcalloc(1, sizeof(*h));

	(void)f;
	(void)r;
	h->name = pk_xstrdup(fh->len > 0 ? fh->name : "unknown");
	h->clock = h->next_tick = NAN;
	fh->user = h;
	return 0;
}

static void
on_step(struct pk_filter *f, struct pk_fhost *fh, double back,
    const struct pk_rec *r)
{
	(void)back;
	(void)r;
	host_restart(f->arg, fh->user);
}

static void
on_record(struct pk_filter *f, const struct pk_rec *r)
{
	struct state *s = f->arg;
	struct host *h = r->host->user;
	char name[256];
	struct component *c;
	double t = r->ts;
	size_t j;
	int m;

	if (s->prom_pending)
		prom_changed(s);
	/* Profiles of the ticks this record passes come before it. */
	if (t > h->clock || isnan(h->clock))
		tick(s, h, t);
	pk_filter_pass(f, r);
	h->clock = r->host->ev.clock;
	if (r->type == REC_SAMPLE)
		snprintf(name, sizeof(name), "system");
	else if (r->type == REC_LOOP &&
	    r->vals[s->id_component].type != PK_JSTR)
		snprintf(name, sizeof(name), "rt-loop");
	else
		copy_name(&r->vals[r->type == REC_PROC ? s->id_comm :
		    s->id_component], name, sizeof(name));
	c = comp_get(s, h, name, r->type == REC_SAMPLE);
	if (c == NULL)
		return;
	c->last_seen = t;
	for (j = 0; j < s->nfeeds[r->type]; j++) {
		const struct metric_type *mt;
		const struct pk_jval *v;

		m = s->feeds[r->type][j];
		mt = &metrics[m];
		if (mt->read != NULL) {
			metric_add(s, c, (enum metric)m, t,
			    mt->read(s, c, r->vals, s->ids[m]));
			continue;
		}
		v = &r->vals[s->ids[m][0]];
		if (v->type == PK_JNUM)
			metric_add(s, c, (enum metric)m, t, pk_jval_num(v));
	}
	if (r->type == REC_PROC && r->vals[s->id_gone].type == PK_JTRUE) {
		end_all(s, c, h->clock);
		comp_leak_reset(c);
		return;
	}
	/* Decisions run on the host's event clock, which never goes back. */
	evaluate(s, c, h->clock);
}

void
feed_reload(struct state *s)
{
	struct conf c;

	if (s->o->config == NULL)
		return;
	if (conf_load(&c, s->o->config, s->o->preset) == -1) {
		pk_warn("%s: config not reloaded, the old one stays in force",
		    s->o->config);
		return;
	}
	/* Windows keep their span: only the targets change. */
	c.window = s->conf.window;
	c.interval = s->conf.interval;
	c.smooth = s->conf.smooth;
	c.leak_window = s->conf.leak_window;
	conf_release(&s->conf);
	s->conf = c;
	s->conf_gen++;
	pk_warn("%s: config reloaded", s->o->config);
}

static void
on_reload(struct pk_filter *f)
{
	feed_reload(f->arg);
}

void
feed_init(struct state *s)
{
	struct pk_filter *f = &s->f;
	size_t m, p, r;

	pk_jpaths_init(&s->paths);
	/* The front end's own first, so the scanner sees them first. */
	if (pk_jpaths_add(&s->paths, "type") < 0 ||
	    pk_jpaths_add(&s->paths, "ts") < 0 ||
	    pk_jpaths_add(&s->paths, "host") < 0)
		pk_die(PK_EXIT_IO, "cannot set up the scanner");
	for (m = 0; m < NMETRIC; m++)
		for (p = 0; p < METRIC_PATHS; p++) {
			if (metrics[m].path[p] == NULL) {
				s->ids[m][p] = -1;
				continue;
			}
			if ((s->ids[m][p] = pk_jpaths_add(&s->paths,
			    metrics[m].path[p])) < 0)
				pk_die(PK_EXIT_IO, "cannot set up the scanner");
		}
	if ((s->id_comm = pk_jpaths_add(&s->paths, "comm")) < 0 ||
	    (s->id_component = pk_jpaths_add(&s->paths, "component")) < 0 ||
	    (s->id_gone = pk_jpaths_add(&s->paths, "gone")) < 0)
		pk_die(PK_EXIT_IO, "cannot set up the scanner");
	for (r = 0; r < NREC; r++)
		for (m = 0; m < NMETRIC; m++)
			if (metrics[m].from & FROM(r))
				s->feeds[r][s->nfeeds[r]++] = (unsigned char)m;
	s->conf_gen = 1;
	engine_init(s);
	if (conf_find_key("temp_trip_c", &s->trip_check, &s->trip_key) == -1)
		pk_die(PK_EXIT_IO, "no check has the key temp_trip_c");

	pk_filter_init(f);
	f->types = types;
	f->span = s->conf.window;
	f->span_name = "the window";
	f->late_verb = "profiled";
	f->step_what = "windows";
	f->pass = !s->o->summary;
	f->bad.strict = s->o->strict;
	f->arg = s;
	f->on_record = on_record;
	f->on_host = on_host;
	f->on_step = on_step;
	f->on_reload = on_reload;
	if (pk_filter_set_paths(f, &s->paths) == -1)
		pk_die(PK_EXIT_IO, "out of memory");
}
