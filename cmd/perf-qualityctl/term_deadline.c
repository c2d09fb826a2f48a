/* SPDX-License-Identifier: MIT */
/*
 * The deadline term: a control loop's missed periods, from rt-loop's
 * interval records (late or skipped, in % of the periods due; its other
 * events carry no interval's figures). More misses is more pressure: a
 * loop that misses needs the machine more than the quality it serves.
 */
#include <math.h>

#include "perf-qualityctl.h"

static const char *const deadline_paths[] = { "event", "ticks", "misses",
	"skipped", NULL };

static double
deadline_measure(const struct term *t, const struct pk_jval *vals,
    struct input *in)
{
	double ticks = term_num(&vals[t->id[1]]);
	double miss = term_num(&vals[t->id[2]]);
	double skip = term_num(&vals[t->id[3]]);

	(void)in;
	if (!pk_jval_streq(&vals[t->id[0]], "interval") || isnan(ticks) ||
	    isnan(miss))
		return NAN;
	if (isnan(skip))
		skip = 0;
	return ticks + skip > 0 ? 100 * (miss + skip) / (ticks + skip) : NAN;
}

const struct term_type term_deadline = {
	.name = "deadline",
	.help = "% of periods missed, rt-loop's interval records",
	.record = "loop",
	.paths = deadline_paths,
	.weight = 1, .low = 0.1, .high = 5,
	.measure = deadline_measure,
};
