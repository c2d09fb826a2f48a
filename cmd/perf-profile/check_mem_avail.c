/* SPDX-License-Identifier: MIT */
/* mem_avail: MemAvailable (EWMA, % of MemTotal) under mem_avail_min_pct. */
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "memory short: %.1f%% of RAM available, "
	    "under the %.0f%% floor", check_value(x), check_threshold(x));
}

const struct check_type check_mem_avail = {
	.name = "mem_avail",
	.kind = "memory",
	.value_name = "mem_avail_pct",
	.scope = SCOPE_SYSTEM,
	.keys = { { .name = "mem_avail_min_pct", .def = 10, .rpi = 15 } },
	.metric = M_MEM_AVAIL,
	.floor = 1,
	.judge = check_judge_ewma,
	.rank = M_RSS,
	.hint = hint,
	.sys_hint = check_sys_text,
	.sys_text = "under memory pressure",
	.hint_rank = 3,
	.eff = check_eff_mean,
};
