/* SPDX-License-Identifier: MIT */
/* none: nothing each period, the pure scheduling latency. */
#include "pk_rtwork.h"

static int
none_step(void *ctx, unsigned long long tick)
{
	(void)ctx;
	(void)tick;
	return 0;
}

const struct pk_rtwork_type pk_rtwork_none = {
	.name = "none",
	.help = "nothing: the scheduling latency alone (default)",
	.step = none_step,
};
