/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus exposition (--listen, --push, --textfile): the level
 * of the host followed, the pressure and each term's, the level changes
 * by direction and reason, the override, the on-change commands and the
 * input's counts. Rendered from what the engine keeps anyway, after an
 * evaluation or a level change, at most once per PK_OUTLET_GAP; without
 * an outlet nothing here runs. Terms are bounded by the configuration,
 * reasons and directions by their enums; one host is followed.
 */
#include <math.h>
#include <stdlib.h>

#include "pk_err.h"
#include "pk_opt.h"
#include "pk_prom.h"
#include "pk_time.h"

#include "perf-qualityctl.h"

struct qctl_prom {
	struct pk_outlet out;
	struct pk_prom reg;
	struct pk_jw text;		/* the exposition, reused */
	int f_level, f_info, f_pressure, f_avg, f_term, f_changes;
	int f_override, f_run, f_failed, f_read, f_bad;
};

static const char *const dir_names[NDIRS] = {
	[DIR_UP] = "up", [DIR_DOWN] = "down", [DIR_NONE] = "none"
};

static int
family(struct qctl_prom *p, const char *name, const char *help, int type,
    const char *unit)
{
	int i = pk_prom_family(&p->reg, name, help, type, unit);

	if (i < 0)
		pk_die(PK_EXIT_IO, "cannot register the metric %s", name);
	return i;
}

/*
 * The changes the controller makes: those series are written from the
 * start, at 0, so that rate() sees the first; the others (an override
 * to the level in force) once they happened. A release gives control
 * back at the level in force.
 */
static const unsigned char expected[NREASONS][NDIRS] = {
	[PK_QUALITY_R_HIGH] = { [DIR_DOWN] = 1 },
	[PK_QUALITY_R_LOW] = { [DIR_UP] = 1 },
	[PK_QUALITY_R_OVERRIDE] = { [DIR_UP] = 1, [DIR_DOWN] = 1 },
	[PK_QUALITY_R_RELEASE] = { [DIR_NONE] = 1 },
};

static void
render(struct qctl *q)
{
	struct qctl_prom *p = q->prom;
	const struct pk_quality_ctl *c = &q->ctl;
	struct pk_prom_label l[2];
	size_t i;
	int r, d;

	pk_prom_begin(&p->reg);
	l[0].name = "host";
	l[0].value = q->host[0] != '\0' ? q->host : pk_hostname();
	if (c->started) {
		pk_prom_sample(&p->reg, p->f_level, l, 1, c->level, 0);
		l[1].name = "level";
		l[1].value = pk_quality_level_name(c->level);
		pk_prom_sample(&p->reg, p->f_info, l, 2, 1, 0);
	}
	if (!isnan(q->pressure))
		pk_prom_sample(&p->reg, p->f_pressure, l, 1, q->pressure / 100,
		    4);
	l[1].name = "average";
	if (c->fast.init) {
		l[1].value = "fast";
		pk_prom_sample(&p->reg, p->f_avg, l, 2, c->fast.value / 100, 4);
	}
	if (c->slow.init) {
		l[1].value = "slow";
		pk_prom_sample(&p->reg, p->f_avg, l, 2, c->slow.value / 100, 4);
	}
	l[1].name = "term";
	for (i = 0; i < q->cfg->nterms; i++) {
		if (!q->inputs[i].have)
			continue;
		l[1].value = q->cfg->terms[i].name;
		pk_prom_sample(&p->reg, p->f_term, l, 2,
		    q->inputs[i].norm / 100, 4);
	}
	l[0].name = "direction";
	l[1].name = "reason";
	for (r = PK_QUALITY_R_HIGH; r < NREASONS; r++)
		for (d = 0; d < NDIRS; d++) {
			if (q->changes[r][d] == 0 && !expected[r][d])
				continue;
			l[0].value = dir_names[d];
			l[1].value = pk_quality_reason_name(r);
			pk_prom_sample(&p->reg, p->f_changes, l, 2,
			    (double)q->changes[r][d], 0);
		}
	pk_prom_sample(&p->reg, p->f_override, NULL, 0, c->override >= 0, 0);
	pk_prom_sample(&p->reg, p->f_run, NULL, 0, (double)q->cmd_run, 0);
	pk_prom_sample(&p->reg, p->f_failed, NULL, 0, (double)q->cmd_failed,
	    0);
	pk_prom_sample(&p->reg, p->f_read, NULL, 0, (double)q->f.records, 0);
	pk_prom_sample(&p->reg, p->f_bad, NULL, 0, (double)q->f.bad.count, 0);
	pk_jw_reset(&p->text);
	pk_prom_render(&p->reg, &p->text);
	if (p->text.oom || p->reg.oom)
		pk_die(PK_EXIT_IO, "out of memory");
	pk_outlet_publish(&p->out, p->text.buf, p->text.len);
	q->prom_pending = 0;
}

void
prom_start(struct qctl *q)
{
	const struct pk_outlet_opts *o = &q->o->out;
	struct qctl_prom *p;
	char err[512];

	if (o->textfile == NULL && o->listen == NULL && o->push == NULL)
		return;
	p = pk_xcalloc(1, sizeof(*p));
	pk_prom_init(&p->reg, 0);
	p->f_level = family(p, "perfkit_quality_level",
	    "The quality level in force, 0 (ULTRA_LOW) to 4 (ULTRA_HIGH)",
	    PK_PROM_GAUGE, NULL);
	p->f_info = family(p, "perfkit_quality_level_info",
	    "Always 1; the label level names the level in force",
	    PK_PROM_GAUGE, NULL);
	p->f_pressure = family(p, "perfkit_quality_pressure_ratio",
	    "The combined pressure of the last evaluation, 0-1",
	    PK_PROM_GAUGE, "ratio");
	p->f_avg = family(p, "perfkit_quality_pressure_average_ratio",
	    "The fast and slow averages of the pressure that decide, 0-1",
	    PK_PROM_GAUGE, "ratio");
	p->f_term = family(p, "perfkit_quality_term_pressure_ratio",
	    "Each term's normalised pressure in the last evaluation, 0-1",
	    PK_PROM_GAUGE, "ratio");
	p->f_changes = family(p, "perfkit_quality_level_changes_total",
	    "Level changes, by direction and reason (the start not counted)",
	    PK_PROM_COUNTER, NULL);
	p->f_override = family(p, "perfkit_quality_override_active",
	    "1 while a manual override holds the level", PK_PROM_GAUGE, NULL);
	p->f_run = family(p, "perfkit_quality_commands_run_total",
	    "On-change commands started", PK_PROM_COUNTER, NULL);
	p->f_failed = family(p, "perfkit_quality_commands_failed_total",
	    "On-change commands that could not start, were not started (too "
	    "many running), exited non-zero or were killed",
	    PK_PROM_COUNTER, NULL);
	p->f_read = family(p, "perfkit_quality_records_read_total",
	    "Records read (sample and the terms' types) of the host followed",
	    PK_PROM_COUNTER, NULL);
	p->f_bad = family(p, "perfkit_quality_bad_lines_total",
	    "Bad input lines reported and skipped", PK_PROM_COUNTER, NULL);
	pk_jw_init(&p->text, 16 * 1024);
	if (pk_outlet_start(&p->out, o, err, sizeof(err)) == -1)
		pk_die(PK_EXIT_IO, "%s", err);
	q->prom = p;
	render(q);
}

void
prom_changed(struct qctl *q)
{
	if (pk_outlet_due(&q->prom->out, pk_mono()))
		render(q);
	else
		q->prom_pending = 1;
}

void
prom_flush(struct qctl *q)
{
	if (q->prom_pending)
		render(q);
}

void
prom_stop(struct qctl *q)
{
	struct qctl_prom *p = q->prom;

	if (p == NULL)
		return;
	render(q);
	pk_outlet_stop(&p->out, 5);
	pk_prom_release(&p->reg);
	pk_jw_release(&p->text);
	free(p);
	q->prom = NULL;
}
