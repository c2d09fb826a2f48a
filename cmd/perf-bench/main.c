/* SPDX-License-Identifier: MIT */
/*
 * perf-bench: run commands many times without a shell, measure each run
 * with wait4(2) and CLOCK_MONOTONIC, and report statistics a CI gate can
 * trust: confidence intervals, outliers by the modified z-score, output
 * determinism, two-sample tests between commands and against a baseline,
 * and the same benchmark under N x nproc CPU (and memory) hogs.
 */
#include "perf-bench.h"

#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_jsonl.h"

/*
 * The warnings the results call for, and the status they make: 1 for a
 * regression, output that differs, or a timing less stable than asked.
 */
static int
verdict(const struct bench_results *r, const struct bench_opts *o)
{
	int regression = 0, diff = 0, shaky = 0, jumpy = 0;
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct bench_phase *q = &r->cmd[i].ph[BENCH_QUIET];

		regression |= q->has_base && q->base.regression;
		diff |= q->mismatches > 0 ||
		    r->cmd[i].ph[BENCH_STRESS].mismatches > 0;
		shaky |= q->unstable_cv && o->max_cv_set;
		jumpy |= q->unstable_jitter && o->max_jitter_set;
	}
	if (diff)
		pk_warn("the output of the command differs between runs");
	if (shaky)
		pk_warn("the timing is unstable (CV above %g%%)", o->max_cv * 100);
	if (jumpy)
		pk_warn("the timing is unstable (jitter above %g%% of the mean)",
		    o->max_jitter * 100);
	if (regression)
		pk_warn("a regression against the baseline '%s'", o->baseline);
	return regression || diff || shaky || jumpy ? PK_EXIT_NEGATIVE :
	    PK_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	struct bench_opts o;
	struct bench_cmd *cmds;
	struct bench_baseline *bases = NULL;
	struct bench_results r;
	struct bench_buf b = { NULL, 0, 0 };
	struct pk_bad bad = { 0, 0 };
	size_t k, nbases = 0;
	int rc, status;

	pk_init(argv[0]);
	k = bench_parse(argc, argv, &o, &cmds);
	pk_out_init(0);
	/* The baseline first: a bad file should not cost a benchmark. */
	if (o.baseline != NULL &&
	    bench_baseline_load(o.baseline, &bases, &nbases, &bad) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot read '%s'", o.baseline);
	bench_signals();

	memset(&r, 0, sizeof(r));
	rc = bench_run(cmds, k, &o, &r);
	if (rc > 0) {
		status = rc;
	} else {
		bench_results_fill(&r, cmds, k, &o, bases, nbases);
		if (o.json) {
			bench_exporter_find("json")->render(&r, &b);
			pk_out_write(b.p, b.len);
			free(b.p);
		} else {
			bench_report(&r);
		}
		status = bench_export(&r, &o) == -1 ? PK_EXIT_IO : PK_EXIT_OK;
		if (o.push != NULL && bench_push(&r, o.push) == -1)
			status = PK_EXIT_IO;
		rc = verdict(&r, &o);
		if (status == PK_EXIT_OK)
			status = bad.count > 0 ? pk_bad_finish(&bad) : rc;
		bench_results_release(&r);
	}
	pk_close_stdout();
	bench_cmds_release(cmds, k);
	bench_baseline_release(bases, nbases);
	bench_opts_release(&o);
	bench_signal_exit();
	return status;
}
