/* SPDX-License-Identifier: MIT */
/*
 * Fuzz perf-profile's config loader (-c FILE, and SIGHUP reloads): the
 * program itself is compiled in, its main() renamed, to reach the static
 * conf_load(). An accepted config must be one the program can run with.
 */
#include <math.h>

#include "fuzz_file.h"

#define main perf_profile_main
#include "../../cmd/perf-profile.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const presets[] = { NULL, "rpi" };
	struct conf c;
	const char *path;
	size_t i;

	if (fuzz_quiet() == -1 || (path = fuzz_file(data, size)) == NULL)
		return 0;
	if (conf_load(&c, path, presets[size % 2]) == -1)
		return 0;
	if (!(c.window >= 1 && c.window <= 86400) ||
	    !(c.smooth > 0) || !(c.sys[S_TEMP_MARGIN] > 0) ||
	    (!isnan(c.interval) && !(c.interval >= 0)))
		abort();
	for (i = 0; i < c.ncomp; i++)
		if (c.comp[i].name == NULL)
			abort();
	conf_release(&c);
	return 0;
}
