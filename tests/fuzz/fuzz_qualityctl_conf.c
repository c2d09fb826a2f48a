/* SPDX-License-Identifier: MIT */
/*
 * Fuzz perf-qualityctl's config loader (-c FILE, and SIGHUP reloads),
 * cmd/perf-qualityctl/conf.c, linked with the program's other units.
 * An accepted config must keep the invariants the controller relies on.
 *
 * FUZZ_PROG: perf-qualityctl
 */
#include <stdlib.h>

#include "fuzz_file.h"
#include "perf-qualityctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c;
	const char *path;
	json_t *j;
	size_t i;
	int l;

	if (fuzz_quiet() == -1 || (path = fuzz_file(data, size)) == NULL)
		return 0;
	c = config_load(path);
	if (c == NULL)
		return 0;
	if (!(c->params.up < c->params.down) ||
	    !(c->params.tau_fast <= c->params.tau_slow) ||
	    c->params.initial < 0 || c->params.initial >= PK_QUALITY_NLEVELS ||
	    c->ncomps > MAX_COMPONENTS)
		abort();
	for (i = 0; i < c->nterms; i++) {
		const struct term *t = &c->terms[i];

		if (t->low == t->high || t->type == NULL || t->slot < 0 ||
		    t->id[0] < 0 || (t->kept && t->ftype <= 0))
			abort();
	}
	for (l = 0; l < PK_QUALITY_NLEVELS; l++) {
		j = settings_json(c, l);
		json_decref(j);
	}
	config_free(c);
	return 0;
}
