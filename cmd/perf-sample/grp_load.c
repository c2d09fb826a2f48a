/* SPDX-License-Identifier: MIT */
/* load: the load averages of /proc/loadavg. */
#include <math.h>

#include "perf-sample.h"

static const struct ps_metric load_metrics[] = {
	{ "load.1", "perfkit_load1", "Load average over 1 minute.", "",
	    PK_PROM_GAUGE, PS_NUM, 2, 2 },
	{ "load.5", "perfkit_load5", "Load average over 5 minutes.", "",
	    PK_PROM_GAUGE, PS_NUM, 2, 2 },
	{ "load.15", "perfkit_load15", "Load average over 15 minutes.", "",
	    PK_PROM_GAUGE, PS_NUM, 2, 2 },
};

struct load {
	struct ps_view view;
	struct ps_inst inst;
	double v[3];
	struct ps_src src;
};

static const struct ps_set load_set = {
	load_metrics, PS_NMETRICS(load_metrics), { NULL },
	offsetof(struct load, view)
};

static int
load_discover(struct ps_sampler *sp, void *st)
{
	struct load *l = st;

	ps_src_set(&l->src, PS_ROOT_PROC, "loadavg");
	ps_src_require(sp, &l->src);
	ps_view_one(&l->view, &l->inst, l->v);
	return 1;
}

static void
load_read(struct ps_sampler *sp, void *st)
{
	struct pk_procfs_err e;
	struct load *l = st;
	const char *buf;
	double load[3];
	size_t len;

	l->v[0] = l->v[1] = l->v[2] = NAN;
	if (ps_src_read(sp, &l->src, &buf, &len) == -1)
		return;
	if (pk_procfs_loadavg_parse(buf, len, load, &e) == -1) {
		ps_src_bad(sp, &l->src, &e);
		return;
	}
	l->v[0] = load[0];
	l->v[1] = load[1];
	l->v[2] = load[2];
}

static void
load_release(void *st)
{
	ps_src_close(&((struct load *)st)->src);
}

static const struct ps_set *const load_sets[] = { &load_set, NULL };

const struct ps_group grp_load = {
	.name = "load",
	.help = "load averages",
	.flags = PS_GRP_DEFAULT,
	.size = sizeof(struct load),
	.discover = load_discover,
	.read = load_read,
	.release = load_release,
	.sets = load_sets,
};
