/* SPDX-License-Identifier: MIT */
/*
 * vmstat: page faults, swapping and paging per second, and the OOM kills
 * since boot, from the event counters of /proc/vmstat.
 */
#include <math.h>
#include <string.h>

#include "perf-sample.h"

static const struct ps_metric vmstat_metrics[] = {
	{ "vmstat.pgfault_per_s", "perfkit_vmstat_page_faults_per_second",
	    "Page faults per second (pgfault).", "1/s", PK_PROM_GAUGE, PS_NUM,
	    1, 1 },
	{ "vmstat.pgmajfault_per_s",
	    "perfkit_vmstat_major_page_faults_per_second",
	    "Major page faults per second, those that read from storage "
	    "(pgmajfault).", "1/s", PK_PROM_GAUGE, PS_NUM, 1, 1 },
	{ "vmstat.pswpin_per_s", "perfkit_vmstat_swapped_in_pages_per_second",
	    "Pages swapped in per second (pswpin).", "1/s", PK_PROM_GAUGE,
	    PS_NUM, 1, 1 },
	{ "vmstat.pswpout_per_s", "perfkit_vmstat_swapped_out_pages_per_second",
	    "Pages swapped out per second (pswpout).", "1/s", PK_PROM_GAUGE,
	    PS_NUM, 1, 1 },
	{ "vmstat.pgpgin_kb_per_s", "perfkit_vmstat_paged_in_bytes_per_second",
	    "Bytes paged in from block devices per second (pgpgin).", "KiB/s",
	    PK_PROM_GAUGE, PS_NUM, 1, 0 },
	{ "vmstat.pgpgout_kb_per_s",
	    "perfkit_vmstat_paged_out_bytes_per_second",
	    "Bytes paged out to block devices per second (pgpgout).", "KiB/s",
	    PK_PROM_GAUGE, PS_NUM, 1, 0 },
	{ "vmstat.oom_kill", "perfkit_vmstat_oom_kills_total",
	    "Processes killed by the OOM killer since boot (oom_kill).", "",
	    PK_PROM_COUNTER, PS_NUM, 0, 0 },
};

/* The counter of each metric above: the first six are rates. */
static const struct {
	size_t off;
	unsigned bit;
} counters[PS_NMETRICS(vmstat_metrics)] = {
	{ offsetof(struct pk_procfs_vmstat, pgfault), PK_VMSTAT_PGFAULT },
	{ offsetof(struct pk_procfs_vmstat, pgmajfault), PK_VMSTAT_PGMAJFAULT },
	{ offsetof(struct pk_procfs_vmstat, pswpin), PK_VMSTAT_PSWPIN },
	{ offsetof(struct pk_procfs_vmstat, pswpout), PK_VMSTAT_PSWPOUT },
	{ offsetof(struct pk_procfs_vmstat, pgpgin), PK_VMSTAT_PGPGIN },
	{ offsetof(struct pk_procfs_vmstat, pgpgout), PK_VMSTAT_PGPGOUT },
	{ offsetof(struct pk_procfs_vmstat, oom_kill), PK_VMSTAT_OOM_KILL },
};
#define NRATES 6

struct vmstat {
	struct ps_view view;
	struct ps_inst inst;
	double v[PS_NMETRICS(vmstat_metrics)];
	struct ps_src src;
	struct pk_procfs_vmstat vm[2];
};

static const struct ps_set vmstat_set = {
	vmstat_metrics, PS_NMETRICS(vmstat_metrics), { NULL },
	offsetof(struct vmstat, view)
};

static int
vmstat_discover(struct ps_sampler *sp, void *st)
{
	struct vmstat *s = st;

	(void)sp;
	ps_src_set(&s->src, PS_ROOT_PROC, "vmstat");
	ps_view_one(&s->view, &s->inst, s->v);
	return 1;
}

static void
vmstat_read(struct ps_sampler *sp, void *st)
{
	struct vmstat *s = st;
	struct pk_procfs_err e;
	const char *buf;
	size_t len;

	s->vm[sp->cur].have = 0;
	if (ps_src_read(sp, &s->src, &buf, &len) == 0 &&
	    pk_procfs_vmstat_parse(buf, len, &s->vm[sp->cur], &e) == -1)
		ps_src_bad(sp, &s->src, &e);
}

static uint64_t
counter(const struct pk_procfs_vmstat *vm, unsigned i)
{
	uint64_t v;

	memcpy(&v, (const char *)vm + counters[i].off, sizeof(v));
	return v;
}

static void
vmstat_derive(struct ps_sampler *sp, void *st)
{
	const struct pk_procfs_vmstat *a = &((struct vmstat *)st)->vm[sp->prev],
	    *b = &((struct vmstat *)st)->vm[sp->cur];
	struct vmstat *s = st;
	unsigned i;
	int ok;

	for (i = 0; i < PS_NMETRICS(vmstat_metrics); i++) {
		s->v[i] = NAN;
		if (!(b->have & counters[i].bit))
			continue;
		if (i >= NRATES) {
			s->v[i] = (double)counter(b, i);
			continue;
		}
		if (!(a->have & counters[i].bit))
			continue;
		s->v[i] = ps_rate(counter(a, i), counter(b, i), sp->dt, &ok);
		if (!ok)
			s->v[i] = NAN;
	}
}

static void
vmstat_release(void *st)
{
	ps_src_close(&((struct vmstat *)st)->src);
}

static const struct ps_set *const vmstat_sets[] = { &vmstat_set, NULL };

const struct ps_group grp_vmstat = {
	.name = "vmstat",
	.help = "page faults, swapping, paging, OOM kills",
	.size = sizeof(struct vmstat),
	.discover = vmstat_discover,
	.read = vmstat_read,
	.derive = vmstat_derive,
	.release = vmstat_release,
	.sets = vmstat_sets,
};
