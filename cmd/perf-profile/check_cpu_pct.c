/* SPDX-License-Identifier: MIT */
/* cpu_pct: a component's CPU (EWMA of cpu_pct) over cpu_pct_max. */
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "%s uses %.1f%% CPU over the %.0f%% target",
	    x->c->name, check_value(x), check_threshold(x));
}

const struct check_type check_cpu_pct = {
	.name = "cpu_pct",
	.kind = "cpu",
	.value_name = "cpu_pct",
	.scope = SCOPE_COMPONENT,
	.keys = { { .name = "cpu_pct_max", .def = 0, .rpi = 0 } },
	.metric = M_CPU_PCT,
	.judge = check_judge_ewma,
	.rank = M_CPU_PCT,
	.hint = hint,
	.eff = check_eff_mean,
};
