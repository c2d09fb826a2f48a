/* SPDX-License-Identifier: MIT */
/* mem: MemTotal and MemAvailable of /proc/meminfo. */
#include <math.h>

#include "perf-sample.h"

static const struct ps_metric mem_metrics[] = {
	{ "mem.total_kb", "perfkit_memory_total_bytes", "MemTotal.", "KiB",
	    PK_PROM_GAUGE, PS_NUM, 0, 0 },
	{ "mem.avail_kb", "perfkit_memory_available_bytes", "MemAvailable.",
	    "KiB", PK_PROM_GAUGE, PS_NUM, 0, 0 },
	{ "mem.used_pct", "perfkit_memory_used_ratio",
	    "(MemTotal - MemAvailable) / MemTotal.", "%", PK_PROM_GAUGE, PS_NUM,
	    2, 6 },
};

struct mem {
	struct ps_view view;
	struct ps_inst inst;
	double v[3];
};

static const struct ps_set mem_set = {
	mem_metrics, PS_NMETRICS(mem_metrics), { NULL },
	offsetof(struct mem, view)
};

static int
mem_discover(struct ps_sampler *sp, void *st)
{
	struct mem *m = st;

	ps_want_meminfo(sp);
	ps_view_one(&m->view, &m->inst, m->v);
	return 1;
}

static void
mem_derive(struct ps_sampler *sp, void *st)
{
	const struct pk_procfs_mem *mi = &sp->mem;
	struct mem *m = st;

	if (sp->have_mem && (mi->have & (PK_MEM_TOTAL | PK_MEM_AVAIL)) ==
	    (PK_MEM_TOTAL | PK_MEM_AVAIL) && mi->total_kb > 0) {
		m->v[0] = (double)mi->total_kb;
		m->v[1] = (double)mi->avail_kb;
		m->v[2] = 100.0 * ((double)mi->total_kb - (double)mi->avail_kb) /
		    (double)mi->total_kb;
	} else
		m->v[0] = m->v[1] = m->v[2] = NAN;
}

static const struct ps_set *const mem_sets[] = { &mem_set, NULL };

const struct ps_group grp_mem = {
	.name = "mem",
	.help = "memory: total, available, used",
	.flags = PS_GRP_DEFAULT,
	.size = sizeof(struct mem),
	.discover = mem_discover,
	.derive = mem_derive,
	.sets = mem_sets,
};
