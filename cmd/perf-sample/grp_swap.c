/* SPDX-License-Identifier: MIT */
/* swap: SwapTotal and SwapFree of /proc/meminfo. */
#include <math.h>

#include "perf-sample.h"

static const struct ps_metric swap_metrics[] = {
	{ "swap.total_kb", "perfkit_swap_total_bytes", "SwapTotal.", "KiB",
	    PK_PROM_GAUGE, PS_NUM, 0, 0 },
	{ "swap.used_kb", "perfkit_swap_used_bytes", "SwapTotal - SwapFree.",
	    "KiB", PK_PROM_GAUGE, PS_NUM, 0, 0 },
	{ "swap.used_pct", NULL, NULL, "%", PK_PROM_GAUGE, PS_NUM, 2 },
};

struct swap {
	struct ps_view view;
	struct ps_inst inst;
	double v[3];
};

static const struct ps_set swap_set = {
	swap_metrics, PS_NMETRICS(swap_metrics), { NULL },
	offsetof(struct swap, view)
};

static int
swap_discover(struct ps_sampler *sp, void *st)
{
	struct swap *s = st;

	ps_want_meminfo(sp);
	ps_view_one(&s->view, &s->inst, s->v);
	return 1;
}

static void
swap_derive(struct ps_sampler *sp, void *st)
{
	const struct pk_procfs_mem *mi = &sp->mem;
	struct swap *s = st;
	uint64_t used;

	s->v[0] = s->v[1] = s->v[2] = NAN;
	if (!sp->have_mem || (mi->have & (PK_MEM_SWAP_TOTAL | PK_MEM_SWAP_FREE)) !=
	    (PK_MEM_SWAP_TOTAL | PK_MEM_SWAP_FREE))
		return;
	used = mi->swap_total_kb >= mi->swap_free_kb ?
	    mi->swap_total_kb - mi->swap_free_kb : 0;
	s->v[0] = (double)mi->swap_total_kb;
	s->v[1] = (double)used;
	if (mi->swap_total_kb > 0)
		s->v[2] = 100.0 * (double)used / (double)mi->swap_total_kb;
}

static const struct ps_set *const swap_sets[] = { &swap_set, NULL };

const struct ps_group grp_swap = {
	.name = "swap",
	.help = "swap: size and use",
	.flags = PS_GRP_DEFAULT,
	.size = sizeof(struct swap),
	.discover = swap_discover,
	.derive = swap_derive,
	.sets = swap_sets,
};
