/* SPDX-License-Identifier: MIT */
/*
 * Fuzz perf-qualityctl's config loader (-c FILE, and SIGHUP reloads): the
 * program itself is compiled in, its main() renamed, to reach the static
 * config_load(). An accepted config must keep the invariants the
 * controller relies on.
 */
#include "fuzz_file.h"

#define main perf_qualityctl_main
#include "../../cmd/perf-qualityctl.c"
#undef main

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
	for (i = 0; i < c->nterms; i++)
		if (c->terms[i].low == c->terms[i].high ||
		    (c->terms[i].kind == T_EXTRA && c->terms[i].id < 0))
			abort();
	for (l = 0; l < PK_QUALITY_NLEVELS; l++) {
		j = settings_json(c, l);
		json_decref(j);
	}
	config_free(c);
	return 0;
}
