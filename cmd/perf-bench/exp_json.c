/* SPDX-License-Identifier: MIT */
/*
 * --export-json (and -j on stdout): one bench record per command and
 * phase, JSON lines; the file is a baseline for -b.
 */
#include "perf-bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pk_err.h"

static json_t *
num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *
summary_json(const struct pk_bench_summary *s, int full)
{
	json_t *o = json_object();

	json_object_set_new(o, "mean", num(s->mean));
	json_object_set_new(o, "sd", num(s->sd));
	json_object_set_new(o, "median", num(s->median));
	json_object_set_new(o, "min", num(s->min));
	json_object_set_new(o, "max", num(s->max));
	if (full) {
		json_object_set_new(o, "p95", num(s->p95));
		json_object_set_new(o, "p99", num(s->p99));
		json_object_set_new(o, "mad", num(s->mad));
		json_object_set_new(o, "cv", num(s->cv));
		json_object_set_new(o, "ci_low", num(s->ci_low));
		json_object_set_new(o, "ci_high", num(s->ci_high));
		json_object_set_new(o, "jitter", num(s->jitter));
	}
	return o;
}

static json_t *
test_json(const struct bench_cmp *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "ratio", num(c->ratio));
	json_object_set_new(o, "ratio_sd", num(c->sd));
	json_object_set_new(o, "ratio_low", num(c->lo));
	json_object_set_new(o, "ratio_high", num(c->hi));
	json_object_set_new(o, "welch_t", num(c->welch.stat));
	json_object_set_new(o, "welch_df", num(c->welch.df));
	json_object_set_new(o, "welch_p", num(c->welch.p));
	json_object_set_new(o, "mannwhitney_u", num(c->mw.u));
	json_object_set_new(o, "mannwhitney_p", num(c->mw.p));
	return o;
}

static json_t *
record(const struct bench_results *r, size_t i, int phase)
{
	const struct bench_result *c = &r->cmd[i];
	const struct bench_phase *ph = &c->ph[phase];
	json_t *j = json_object(), *a, *s;
	char hex[17];
	size_t t;

	json_object_set_new(j, "type", json_string("bench"));
	json_object_set_new(j, "ts", json_real(ph->ts));
	json_object_set_new(j, "host", json_string(r->host));
	json_object_set_new(j, "name", json_string(c->name));
	a = json_array();
	for (t = 0; c->argv[t] != NULL; t++)
		json_array_append_new(a, json_string(c->argv[t]));
	json_object_set_new(j, "command", a);
	json_object_set_new(j, "shell", json_boolean(r->shell));
	json_object_set_new(j, "phase", json_string(bench_phase_name[phase]));
	json_object_set_new(j, "runs", json_integer((json_int_t)ph->runs));
	json_object_set_new(j, "warmup", json_integer((json_int_t)r->warmup));
	json_object_set_new(j, "failures",
	    json_integer((json_int_t)ph->failures));
	json_object_set_new(j, "complete", json_boolean(r->complete));
	json_object_set_new(j, "confidence", json_real(r->confidence));
	json_object_set_new(j, "wall_s", summary_json(&ph->wall, 1));
	json_object_set_new(j, "user_s", summary_json(&ph->user, 0));
	json_object_set_new(j, "sys_s", summary_json(&ph->sys, 0));
	s = json_object();
	json_object_set_new(s, "mean", num(ph->rss.mean));
	json_object_set_new(s, "max", num(ph->rss.max));
	json_object_set_new(j, "maxrss_kb", s);
	s = json_object();
	json_object_set_new(s, "count",
	    json_integer((json_int_t)ph->wall.outliers));
	json_object_set_new(s, "policy",
	    json_string(r->drop_outliers ? "drop" : "keep"));
	json_object_set_new(s, "z", json_real(PK_BENCH_OUTLIER_Z));
	json_object_set_new(j, "outliers", s);
	json_object_set_new(j, "max_cv", json_real(r->max_cv));
	json_object_set_new(j, "max_jitter", json_real(r->max_jitter));
	json_object_set_new(j, "jitter_rel", num(ph->jitter_rel));
	json_object_set_new(j, "stable",
	    json_boolean(!ph->unstable_cv && !ph->unstable_jitter));
	if (r->check_output) {
		snprintf(hex, sizeof(hex), "%016llx", c->hash);
		s = json_object();
		json_object_set_new(s, "hash", json_string(hex));
		json_object_set_new(s, "mismatches",
		    json_integer((json_int_t)ph->mismatches));
		json_object_set_new(j, "output", s);
	}
	if (ph->has_ref) {
		s = test_json(&ph->ref);
		json_object_set_new(s, "reference",
		    json_string(r->cmd[r->ref].name));
		json_object_set_new(j, "compare", s);
	}
	if (ph->has_base) {
		s = test_json(&ph->base.t);
		json_object_set_new(s, "mean", num(ph->base.mean));
		json_object_set_new(s, "threshold", json_real(r->threshold));
		json_object_set_new(s, "alpha", json_real(r->alpha));
		json_object_set_new(s, "median_ratio",
		    num(ph->base.median_ratio));
		json_object_set_new(s, "test", json_string(ph->base.robust ?
		    "mannwhitney" : "welch"));
		json_object_set_new(s, "regression",
		    json_boolean(ph->base.regression));
		json_object_set_new(j, "baseline", s);
	}
	if (ph->has_quiet) {
		s = test_json(&ph->quiet);
		json_object_set_new(s, "factor",
		    json_integer((json_int_t)r->stress));
		json_object_set_new(s, "cpu_hogs",
		    json_integer((json_int_t)r->ncpu_hogs));
		json_object_set_new(s, "mem_hogs",
		    json_integer((json_int_t)r->nmem_hogs));
		json_object_set_new(s, "cv_quiet",
		    num(c->ph[BENCH_QUIET].wall.cv));
		json_object_set_new(s, "cv_stress", num(ph->wall.cv));
		json_object_set_new(j, "stress", s);
	}
	a = json_array();
	for (t = 0; t < ph->runs; t++)
		json_array_append_new(a, json_real(ph->times[t]));
	json_object_set_new(j, "times_s", a);
	return j;
}

static void
render(const struct bench_results *r, struct bench_buf *b)
{
	size_t i;
	json_t *j;
	char *s;
	int p;

	for (i = 0; i < r->n; i++)
		for (p = 0; p < r->nphases; p++) {
			j = record(r, i, p);
			s = json_dumps(j, JSON_COMPACT);
			json_decref(j);
			if (s == NULL)
				pk_die(PK_EXIT_IO, "out of memory");
			bench_buf_puts(b, s);
			bench_buf_put(b, "\n", 1);
			free(s);
		}
}

const struct bench_exporter exp_json = {
	.name = "json",
	.option = "export-json",
	.help = "the bench records, a baseline for --baseline",
	.render = render,
};
