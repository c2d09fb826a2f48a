/* SPDX-License-Identifier: MIT */
/* psi_memory: PSI memory some avg10 (EWMA) over psi_memory_max. */
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "memory pressure: tasks stalled %.1f%% of "
	    "the time (PSI some avg10), over %.0f%%", check_value(x),
	    check_threshold(x));
}

const struct check_type check_psi_memory = {
	.name = "psi_memory",
	.kind = "memory",
	.value_name = "psi_memory_some",
	.scope = SCOPE_SYSTEM,
	.keys = { { .name = "psi_memory_max", .def = 10, .rpi = 5 } },
	.metric = M_PSI_MEM,
	.judge = check_judge_ewma,
	.rank = M_RSS,
	.hint = hint,
	.sys_hint = check_sys_text,
	.sys_text = "under memory pressure",
	.hint_rank = 3,
	.eff = check_eff_mean,
};
