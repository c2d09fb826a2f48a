/* SPDX-License-Identifier: MIT */
/*
 * Fuzz perf-profile's config loader (-c FILE, and SIGHUP reloads), linked
 * from the program's units. An accepted config must be one the program
 * can run with.
 *
 * FUZZ_PROG: perf-profile
 */
#include <math.h>
#include <stdlib.h>

#include "fuzz_file.h"
#include "perf-profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const presets[] = { NULL, "rpi" };
	struct conf c;
	const char *path;
	size_t i, j, k;

	if (fuzz_quiet() == -1 || (path = fuzz_file(data, size)) == NULL)
		return 0;
	if (conf_load(&c, path, presets[size % 2]) == -1)
		return 0;
	if (!(c.window >= 1 && c.window <= 86400) ||
	    !(c.smooth > 0) || !(c.esc[0] < c.esc[1]) ||
	    (!isnan(c.interval) && !(c.interval >= 0)))
		abort();
	/* Every key in range; the ones that must be above 0 are. */
	for (i = 0; i < nchecks; i++)
		for (k = 0; k < CHECK_KEYS && checks[i]->keys[k].name; k++)
			if (!(c.val[i][k] >= 0 && c.val[i][k] <= 1e15) ||
			    (checks[i]->keys[k].above0 &&
			    checks[i]->scope == SCOPE_SYSTEM &&
			    !(c.val[i][k] > 0)))
				abort();
	for (j = 0; j < c.ncomp; j++) {
		if (c.comp[j].name == NULL)
			abort();
		for (i = 0; i < nchecks; i++)
			for (k = 0; k < CHECK_KEYS; k++)
				if (!isnan(c.comp[j].t[i][k]) &&
				    !(c.comp[j].t[i][k] >= 0))
					abort();
	}
	conf_release(&c);
	return 0;
}
