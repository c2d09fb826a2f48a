/* SPDX-License-Identifier: MIT */
/*
 * ncpu: the online CPUs, in the cpu object of the record whenever one of
 * the groups that write there is sampled.
 */
#include <math.h>

#include "perf-sample.h"

static const struct ps_metric ncpu_metrics[] = {
	{ "cpu.ncpu", "perfkit_cpu_online", "Online CPUs.", "", PK_PROM_GAUGE,
	    PS_NUM, 0, 0 },
};

struct ncpu {
	struct ps_view view;
	struct ps_inst inst;
	double v[1];
};

static const struct ps_set ncpu_set = {
	ncpu_metrics, PS_NMETRICS(ncpu_metrics), { NULL },
	offsetof(struct ncpu, view)
};

static int
ncpu_discover(struct ps_sampler *sp, void *st)
{
	struct ncpu *c = st;

	(void)sp;
	ps_view_one(&c->view, &c->inst, c->v);
	return 1;
}

static void
ncpu_derive(struct ps_sampler *sp, void *st)
{
	struct ncpu *c = st;

	c->v[0] = sp->have_stat[sp->cur] ? (double)sp->st[sp->cur].ncores : NAN;
}

static const struct ps_set *const ncpu_sets[] = { &ncpu_set, NULL };

const struct ps_group grp_ncpu = {
	.name = "ncpu",
	.help = "online CPUs",
	.flags = PS_GRP_HIDDEN,
	.with = "cpu,cores,freq",
	.size = sizeof(struct ncpu),
	.discover = ncpu_discover,
	.derive = ncpu_derive,
	.sets = ncpu_sets,
};
