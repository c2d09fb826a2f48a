/* SPDX-License-Identifier: MIT */
/*
 * The baseline: the quiet bench records of an earlier --export-json, by
 * name. Bad lines are reported and skipped (fuzz_bench_baseline).
 */
#include "perf-bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pk_err.h"
#include "pk_jsonl.h"
#include "pk_path.h"

/* One record into b; -1 when it lacks what a baseline needs. */
static int
record_load(json_t *j, struct bench_baseline *b)
{
	const char *name = pk_path_str(j, "name");
	json_t *times, *t;
	double mean, sd, n;
	size_t i;

	if (name == NULL || pk_path_num(j, "wall_s.mean", &mean) == -1 ||
	    pk_path_num(j, "wall_s.sd", &sd) == -1 ||
	    pk_path_num(j, "runs", &n) == -1 ||
	    !(n >= 2 && n <= 1e9 && n == floor(n)) || !(mean > 0) ||
	    !(sd >= 0))
		return -1;
	memset(b, 0, sizeof(*b));
	b->name = pk_xstrdup(name);
	b->mean = mean;
	b->sd = sd;
	b->n = (size_t)n;
	times = json_object_get(j, "times_s");
	if (json_is_array(times) && json_array_size(times) > 0) {
		b->times = pk_xcalloc(json_array_size(times), sizeof(double));
		json_array_foreach(times, i, t)
			if (json_is_number(t))
				b->times[b->ntimes++] = json_number_value(t);
	}
	return 0;
}

int
bench_baseline_load(const char *path, struct bench_baseline **out,
    size_t *nout, struct pk_bad *bad)
{
	struct pk_jsonl r;
	struct bench_baseline *v = NULL;
	const char *phase, *type;
	json_t *j;
	size_t cap = 0, k = 0;
	char *line;
	size_t len;
	int rc;

	if (pk_jsonl_open(&r, path) == -1)
		return -1;
	while ((rc = pk_jsonl_next(&r, &line, &len)) != PK_JSONL_EOF) {
		if (rc == PK_JSONL_ERROR) {
			pk_jsonl_release(&r);
			bench_baseline_release(v, k);
			return -1;
		}
		if (rc == PK_JSONL_STOP)
			break;
		if (rc == PK_JSONL_TOOLONG) {
			pk_bad_line(bad, r.name, r.lineno, "line too long");
			continue;
		}
		if ((j = pk_jsonl_parse(bad, &r, line, len)) == NULL)
			continue;
		phase = pk_path_str(j, "phase");
		type = pk_path_str(j, "type");
		if (type == NULL || strcmp(type, "bench") != 0) {
			/* Other records may share the file. */
			if (type == NULL)
				pk_bad_line(bad, r.name, r.lineno,
				    "no \"type\" field");
		} else if (phase == NULL || strcmp(phase, "quiet") == 0) {
			if (k == cap) {
				cap = cap ? cap * 2 : 8;
				v = pk_xreallocarray(v, cap, sizeof(*v));
			}
			if (record_load(j, &v[k]) == 0)
				k++;
			else
				pk_bad_line(bad, r.name, r.lineno, "a bench "
				    "record needs name, runs >= 2, wall_s.mean "
				    "and wall_s.sd");
		}
		json_decref(j);
	}
	pk_jsonl_release(&r);
	*out = v;
	*nout = k;
	return 0;
}

const struct bench_baseline *
bench_baseline_find(const struct bench_baseline *v, size_t n, const char *name)
{
	const struct bench_baseline *b = NULL;
	size_t i;

	/* A name recorded twice: the later record counts. */
	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			b = &v[i];
	return b;
}

void
bench_baseline_release(struct bench_baseline *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].times);
	}
	free(v);
}
