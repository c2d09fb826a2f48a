/* SPDX-License-Identifier: MIT */
/* cpu: the system's CPUs busy (EWMA of cpu.util) over cpu_util_max. */
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "CPU saturated: %.1f%% busy over the "
	    "%.0f%% target", check_value(x), check_threshold(x));
}

static int
sys_hint(const struct check_ctx *x, const struct component *top, char *buf,
    size_t size)
{
	return snprintf(buf, size, "; system CPU saturated (%.0f%%)%s%s",
	    check_value(x), top != NULL ? ", top: " : "",
	    top != NULL ? top->name : "");
}

const struct check_type check_cpu = {
	.name = "cpu",
	.kind = "cpu",
	.value_name = "cpu_util",
	.scope = SCOPE_SYSTEM,
	.keys = { { .name = "cpu_util_max", .def = 90, .rpi = 85 } },
	.metric = M_CPU_UTIL,
	.judge = check_judge_ewma,
	.rank = M_CPU_PCT,
	.hint = hint,
	.sys_hint = sys_hint,
	.hint_rank = 1,
	.eff = check_eff_mean,
};
