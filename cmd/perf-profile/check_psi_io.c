/* SPDX-License-Identifier: MIT */
/* psi_io: PSI io some avg10 (EWMA) over psi_io_max. */
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "I/O pressure: tasks stalled %.1f%% of the "
	    "time (PSI some avg10), over %.0f%%", check_value(x),
	    check_threshold(x));
}

const struct check_type check_psi_io = {
	.name = "psi_io",
	.kind = "io",
	.value_name = "psi_io_some",
	.scope = SCOPE_SYSTEM,
	.keys = { { .name = "psi_io_max", .def = 30, .rpi = 30 } },
	.metric = M_PSI_IO,
	.judge = check_judge_ewma,
	.rank = M_IO_BPS,
	.hint = hint,
	.sys_hint = check_sys_text,
	.sys_text = "waiting on I/O",
	.hint_rank = 4,
	.eff = check_eff_mean,
};
