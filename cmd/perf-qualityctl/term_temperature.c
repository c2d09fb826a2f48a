/* SPDX-License-Identifier: MIT */
/*
 * The temperature term: the smallest headroom below a trip point over
 * the samples' zones (temp_trip_c.ZONE - temp_c.ZONE, trip_default for a
 * zone without one), in degrees; less headroom is more pressure.
 */
#include <math.h>

#include "perf-qualityctl.h"

static const char *const temperature_paths[] = { "temp_c", "temp_trip_c",
	NULL };

static double
temperature_measure(const struct term *t, const struct pk_jval *vals,
    struct input *in)
{
	const struct pk_jval *temp = &vals[t->id[0]], *trip = &vals[t->id[1]];

	in->what = "zone";
	if (temp->type != PK_JOBJ)
		return NAN;
	return pk_quality_headroom(temp->p, temp->len,
	    trip->type == PK_JOBJ ? trip->p : NULL, trip->len, t->arg,
	    in->who, sizeof(in->who), &in->aux);
}

const struct term_type term_temperature = {
	.name = "temperature",
	.help = "degC below the trip point, the least zone",
	.record = "sample",
	.paths = temperature_paths,
	.weight = 1, .low = 20, .high = 5,
	.arg_key = "trip_default", .arg_min = -50, .arg_max = 300,
	.arg_default = 85,
	.measure = temperature_measure,
	.aux_name = "temp_c",
};
