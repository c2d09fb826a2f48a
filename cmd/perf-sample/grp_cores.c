/* SPDX-License-Identifier: MIT */
/* cores: the shares of each CPU's time per mode, from /proc/stat. */
#include <math.h>

#include "perf-sample.h"

#define SHARE(m) { "cpu.cores[]." m, NULL, NULL, "%", PK_PROM_GAUGE, PS_NUM, 2 }

static const struct ps_metric cores_metrics[1 + PS_CPU_NSHARES] = {
	{ "cpu.cores[].cpu", NULL, NULL, "", PK_PROM_GAUGE, PS_NUM, 0 },
	{ "cpu.cores[].util", "perfkit_cpu_core_util_ratio",
	    "Busy share of one CPU (0-1).", "%", PK_PROM_GAUGE, PS_NUM, 2, 6 },
	SHARE("user"), SHARE("system"), SHARE("iowait"), SHARE("steal"),
	SHARE("nice"), SHARE("irq"), SHARE("softirq"), SHARE("idle"),
};

struct cores {
	struct ps_view view;
	struct ps_inst inst[PS_MAXCORES];
	double v[PS_MAXCORES][1 + PS_CPU_NSHARES];
	char name[PS_MAXCORES][24];	/* the CPU number, as a label */
	unsigned name_id[PS_MAXCORES];	/* the number it was written for */
};

static const struct ps_set cores_set = {
	cores_metrics, PS_NMETRICS(cores_metrics), { "cpu", NULL },
	offsetof(struct cores, view)
};

static int
cores_discover(struct ps_sampler *sp, void *st)
{
	struct cores *c = st;
	unsigned i;

	(void)sp;
	for (i = 0; i < PS_MAXCORES; i++) {
		c->inst[i].v = c->v[i];
		c->inst[i].name = c->inst[i].lv[0] = ps_utoa(0, c->name[i]);
	}
	c->view.inst = c->inst;
	return 1;
}

static void
cores_derive(struct ps_sampler *sp, void *st)
{
	const struct pk_procfs_core *a = sp->cores[sp->prev],
	    *b = sp->cores[sp->cur];
	unsigned na = sp->nstored[sp->prev], nb = sp->nstored[sp->cur], i, j;
	struct cores *c = st;

	c->view.n = 0;
	if (!sp->have_stat[sp->prev] || !sp->have_stat[sp->cur])
		return;
	for (i = 0; i < nb; i++) {
		const struct pk_procfs_core *ca = NULL;
		unsigned k = c->view.n;

		if (i < na && a[i].id == b[i].id)
			ca = &a[i];
		for (j = 0; ca == NULL && j < na; j++)
			if (a[j].id == b[i].id)
				ca = &a[j];
		if (ca == NULL)
			continue;
		if (c->name_id[k] != b[i].id) {
			c->name_id[k] = b[i].id;
			c->inst[k].name = c->inst[k].lv[0] = ps_utoa(b[i].id,
			    c->name[k]);
		}
		c->v[k][0] = b[i].id;
		ps_cpu_shares(&ca->t, &b[i].t, &c->v[k][1]);
		c->view.n++;
	}
}

static const struct ps_set *const cores_sets[] = { &cores_set, NULL };

const struct ps_group grp_cores = {
	.name = "cores",
	.help = "the same per CPU",
	.size = sizeof(struct cores),
	.discover = cores_discover,
	.derive = cores_derive,
	.sets = cores_sets,
};
