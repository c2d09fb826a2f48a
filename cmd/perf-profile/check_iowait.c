/* SPDX-License-Identifier: MIT */
/* iowait: the CPUs waiting on I/O (EWMA of cpu.iowait) over iowait_max. */
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "I/O bound: CPUs wait on I/O %.1f%% of the "
	    "time, over %.0f%%", check_value(x), check_threshold(x));
}

const struct check_type check_iowait = {
	.name = "iowait",
	.kind = "io",
	.value_name = "cpu_iowait",
	.scope = SCOPE_SYSTEM,
	.keys = { { .name = "iowait_max", .def = 20, .rpi = 20 } },
	.metric = M_IOWAIT,
	.judge = check_judge_ewma,
	.rank = M_IO_BPS,
	.hint = hint,
	.sys_hint = check_sys_text,
	.sys_text = "waiting on I/O",
	.hint_rank = 4,
	.eff = check_eff_mean,
};
