/* SPDX-License-Identifier: MIT */
/*
 * Fuzz perf-alert's config loader (-c FILE, and SIGHUP reloads): its own
 * unit, cmd/perf-alert/conf.c, linked with the program's other units.
 */
/* FUZZ_PROG: perf-alert */
#include <stdlib.h>

#include "fuzz_file.h"
#include "perf-alert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c;
	const char *path;

	if (fuzz_quiet() == -1 || (path = fuzz_file(data, size)) == NULL)
		return 0;
	c = config_load(path);
	if (c == NULL)
		return 0;
	if (c->nrules == 0 || c->flap_low > c->flap_high)
		abort();
	config_free(c);
	return 0;
}
