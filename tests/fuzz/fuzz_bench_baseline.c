/* SPDX-License-Identifier: MIT */
/*
 * Fuzz perf-bench's --baseline reader (the records of an earlier
 * --export-json) and the comparison each baseline feeds.
 * FUZZ_PROG: perf-bench (linked with its units: baseline.c, stats.c).
 */
#include "fuzz_file.h"

#include <stdlib.h>
#include <string.h>

#include "perf-bench.h"
#include "pk_jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double wall[] = { 0.101, 0.099, 0.1, 0.102, 0.098, 0.25 };
	struct bench_opts o = {
		.confidence = 0.95, .threshold = 0.05, .alpha = 0.05,
	};
	struct bench_baseline *bases = NULL;
	struct pk_bad bad = { 0, 0 };
	struct bench_runs runs;
	struct bench_phase ph;
	struct bench_base_cmp bc;
	const char *path;
	size_t n = 0, i, k;

	if (fuzz_quiet() == -1 || (path = fuzz_file(data, size)) == NULL)
		return 0;
	if (bench_baseline_load(path, &bases, &n, &bad) == -1)
		abort();	/* a memory file cannot fail to read */
	o.drop_outliers = size % 2;
	for (i = 0; i < n; i++) {
		if (bases[i].name == NULL || bases[i].n < 2 ||
		    (bases[i].ntimes > 0 && bases[i].times == NULL) ||
		    bench_baseline_find(bases, n, bases[i].name) == NULL)
			abort();
		memset(&runs, 0, sizeof(runs));
		memset(&ph, 0, sizeof(ph));
		for (k = 0; k < sizeof(wall) / sizeof(wall[0]); k++)
			bench_runs_push(&runs, wall[k], 0, 0, 0);
		bench_phase_fill(&ph, &runs, &o);
		if (ph.wall.n < 2)
			abort();
		bench_compare_baseline(&ph, &bases[i], &o, &bc);
		free(ph.kept);
		bench_runs_release(&runs);
	}
	bench_baseline_release(bases, n);
	return 0;
}
