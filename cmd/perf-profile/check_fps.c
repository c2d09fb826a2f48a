/* SPDX-License-Identifier: MIT */
/* fps: a component's frame rate (EWMA of fps) under fps_min. */
#include <stdio.h>

#include "perf-profile.h"

static int
hint(const struct check_ctx *x, char *buf, size_t size)
{
	return snprintf(buf, size, "%s runs at %.1f fps, under the %.1f fps "
	    "floor", x->c->name, check_value(x), check_threshold(x));
}

const struct check_type check_fps = {
	.name = "fps",
	.kind = "throughput",
	.value_name = "fps",
	.scope = SCOPE_COMPONENT,
	.keys = { { .name = "fps_min", .def = 0, .rpi = 0 } },
	.metric = M_FPS,
	.floor = 1,
	.judge = check_judge_ewma,
	.rank = M_CPU_PCT,
	.hint = hint,
	.eff = check_eff_mean,
};
