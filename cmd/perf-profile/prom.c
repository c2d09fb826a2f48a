/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus exposition (--listen, --push, --textfile): the
 * bottlenecks open now and those started, the last profile's efficiency
 * and windowed quantiles of every component, and the input's counts.
 * It is rendered from what the engine keeps anyway, after a round of
 * profiles or a bottleneck edge (at most once per PK_OUTLET_GAP, the
 * rest left pending), never per record; without an outlet nothing here
 * runs. Components, hence the host and component labels, are bounded by
 * MAX_COMPONENTS; a check's labels by the table of checks.
 */
#include <math.h>
#include <stdlib.h>

#include "pk_err.h"
#include "pk_prom.h"
#include "pk_time.h"

#include "perf-profile.h"

struct prof_prom {
	struct pk_outlet out;
	struct pk_prom reg;
	struct pk_jw text;		/* the exposition, reused */
	int f_active, f_started, f_eff, f_metric[NMETRIC];
	int f_comps, f_window, f_read, f_bad, f_late;
};

/* Every series one component can have, for the registry's cap. */
#define SERIES_PER_COMP (2 * NMETRIC + 2 * CHECK_MAX + 1)

static int
family(struct prof_prom *p, const char *name, const char *help, int type,
    const char *unit)
{
	int i = pk_prom_family(&p->reg, name, help, type, unit);

	if (i < 0)
		pk_die(PK_EXIT_IO, "cannot register the metric %s", name);
	return i;
}

static void
render(struct state *s)
{
	struct prof_prom *p = s->prom;
	struct pk_prom_label l[5];
	const struct check_type *ck;
	const struct component *c;
	size_t j, i;
	int m;

	pk_prom_begin(&p->reg);
	pk_prom_sample(&p->reg, p->f_window, NULL, 0, s->conf.window, 3);
	pk_prom_sample(&p->reg, p->f_comps, NULL, 0, (double)s->ncomp, 0);
	pk_prom_sample(&p->reg, p->f_read, NULL, 0, (double)s->f.records, 0);
	pk_prom_sample(&p->reg, p->f_bad, NULL, 0, (double)s->f.bad.count, 0);
	pk_prom_sample(&p->reg, p->f_late, NULL, 0, (double)s->f.late, 0);
	for (j = 0; j < s->ncomp; j++) {
		c = &s->comp[j];
		l[0].name = "component";
		l[0].value = c->name;
		l[1].name = "host";
		l[1].value = c->host->name;
		if (c->profiled != 0)
			pk_prom_sample(&p->reg, p->f_eff, l, 2,
			    round(c->eff) / 100, 2);
		l[2].name = "stat";
		for (m = 0; m < NMETRIC; m++) {
			if (!(c->profiled & (1u << m)))
				continue;
			l[2].value = "p50";
			pk_prom_sample(&p->reg, p->f_metric[m], l, 3,
			    c->p50[m] * metrics[m].prom_scale, 6);
			l[2].value = "p95";
			pk_prom_sample(&p->reg, p->f_metric[m], l, 3,
			    c->p95[m] * metrics[m].prom_scale, 6);
		}
		/* check, component, host, kind, severity: sorted. */
		l[2] = l[1];
		l[1] = l[0];
		l[0].name = "check";
		l[3].name = "kind";
		l[4].name = "severity";
		for (i = 0; i < nchecks; i++) {
			ck = checks[i];
			if (ck->scope != (c->system ? SCOPE_SYSTEM :
			    SCOPE_COMPONENT))
				continue;
			l[0].value = ck->name;
			l[3].value = ck->kind;
			pk_prom_sample(&p->reg, p->f_started, l, 4,
			    (double)c->started[i], 0);
			if (!c->sev[i].active)
				continue;
			l[4].value = pk_profsev_name(c->sev[i].level);
			pk_prom_sample(&p->reg, p->f_active, l, 5, 1, 0);
		}
	}
	pk_jw_reset(&p->text);
	pk_prom_render(&p->reg, &p->text);
	if (p->text.oom || p->reg.oom)
		pk_die(PK_EXIT_IO, "out of memory");
	pk_outlet_publish(&p->out, p->text.buf, p->text.len);
	s->prom_pending = 0;
}

static void
on_idle(struct pk_filter *f)
{
	prom_flush(f->arg);
}

void
prom_start(struct state *s)
{
	const struct pk_outlet_opts *o = &s->o->out;
	struct prof_prom *p;
	char err[512];
	int m;

	if (o->textfile == NULL && o->listen == NULL && o->push == NULL)
		return;
	p = pk_xcalloc(1, sizeof(*p));
	pk_prom_init(&p->reg, MAX_COMPONENTS * SERIES_PER_COMP + 16);
	p->f_active = family(p, "perfkit_profile_bottleneck_active",
	    "1 while a bottleneck is open, by check, kind, component, host "
	    "and severity", PK_PROM_GAUGE, NULL);
	p->f_started = family(p, "perfkit_profile_bottlenecks_started_total",
	    "Bottlenecks started, by check, kind, component and host",
	    PK_PROM_COUNTER, NULL);
	p->f_eff = family(p, "perfkit_profile_efficiency_ratio",
	    "How well the last profile's window met the component's targets, "
	    "0-1", PK_PROM_GAUGE, "ratio");
	for (m = 0; m < NMETRIC; m++)
		p->f_metric[m] = family(p, metrics[m].prom,
		    metrics[m].prom_help, PK_PROM_GAUGE, metrics[m].prom_unit);
	p->f_window = family(p, "perfkit_profile_window_seconds",
	    "The span of the rolling windows", PK_PROM_GAUGE, "seconds");
	p->f_comps = family(p, "perfkit_profile_components",
	    "Components profiled (at most 1024, over all hosts)",
	    PK_PROM_GAUGE, NULL);
	p->f_read = family(p, "perfkit_profile_records_read_total",
	    "Records read (sample, proc, metric), late ones excepted",
	    PK_PROM_COUNTER, NULL);
	p->f_bad = family(p, "perfkit_profile_bad_lines_total",
	    "Bad input lines reported and skipped", PK_PROM_COUNTER, NULL);
	p->f_late = family(p, "perfkit_profile_late_records_total",
	    "Records more than the window behind their host's clock: passed "
	    "through, not profiled", PK_PROM_COUNTER, NULL);
	pk_jw_init(&p->text, 64 * 1024);
	if (pk_outlet_start(&p->out, o, err, sizeof(err)) == -1)
		pk_die(PK_EXIT_IO, "%s", err);
	s->prom = p;
	/* A change left pending is rendered once the input pauses. */
	s->f.on_idle = on_idle;
	s->f.idle_ms = 100;
	render(s);
}

void
prom_changed(struct state *s)
{
	if (pk_outlet_due(&s->prom->out, pk_mono()))
		render(s);
	else
		s->prom_pending = 1;
}

void
prom_flush(struct state *s)
{
	if (s->prom_pending)
		render(s);
}

void
prom_stop(struct state *s)
{
	struct prof_prom *p = s->prom;

	if (p == NULL)
		return;
	render(s);
	pk_outlet_stop(&p->out, 5);
	pk_prom_release(&p->reg);
	pk_jw_release(&p->text);
	free(p);
	s->prom = NULL;
}
