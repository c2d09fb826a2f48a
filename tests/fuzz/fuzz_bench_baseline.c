/* SPDX-License-Identifier: MIT */
/*
 * Fuzz perf-bench's --baseline reader (the records of an earlier
 * --export-json) and the comparison each baseline feeds: the program
 * itself is compiled in, its main() renamed, to reach the static
 * baseline_load() and compare_baseline().
 */
#include "fuzz_file.h"

#define main perf_bench_main
#include "../../cmd/perf-bench.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double wall[] = { 0.101, 0.099, 0.1, 0.102, 0.098, 0.25 };
	struct bench_opts o = {
		.confidence = 0.95, .threshold = 0.05, .alpha = 0.05,
	};
	struct baseline *bases = NULL;
	struct pk_bad bad = { 0, 0 };
	struct bench_cmd c;
	struct base_cmp bc;
	struct run_result r;
	const char *path;
	size_t n = 0, i, k;

	if (fuzz_quiet() == -1 || (path = fuzz_file(data, size)) == NULL)
		return 0;
	if (baseline_load(path, &bases, &n, &bad) == -1)
		abort();	/* a memory file cannot fail to read */
	o.drop_outliers = size % 2;
	for (i = 0; i < n; i++) {
		if (bases[i].name == NULL || bases[i].n < 2 ||
		    (bases[i].ntimes > 0 && bases[i].times == NULL))
			abort();
		memset(&c, 0, sizeof(c));
		memset(&r, 0, sizeof(r));
		for (k = 0; k < sizeof(wall) / sizeof(wall[0]); k++) {
			r.wall = wall[k];
			phase_push(&c.ph[QUIET], &r);
		}
		summarize_phase(&c.ph[QUIET], &o);
		c.base = &bases[i];
		compare_baseline(&c, &o, &bc);
		if (!bc.have)
			abort();
		phase_release(&c.ph[QUIET]);
		free(bases[i].name);
		free(bases[i].times);
	}
	free(bases);
	return 0;
}
