/* SPDX-License-Identifier: MIT */
/*
 * perf-bench's units. main.c reads as parse, run, report:
 *
 *   options.c    the command line, the commands it names
 *   runner.c     warm-up, rounds and phases, one run through pk_spawn
 *   stats.c      the runs made into the results model (summaries,
 *                comparisons, stability), histograms
 *   baseline.c   the records of an earlier --export-json
 *   report.c     the report on a terminal
 *   exporters.c  the table of --export-* formats, one file each (exp_*.c)
 *   push.c       --push: the results to a Pushgateway, once, at the end
 *
 * The runner fills struct bench_cmd; stats.c turns it once into struct
 * bench_results, from which the report and every exporter render.
 */
#ifndef PERF_BENCH_H
#define PERF_BENCH_H

#include <stddef.h>
#include <sys/types.h>

#include "pk_bench_stats.h"
#include "pk_hogs.h"

#define BENCH_SEP ":::"

/* The runs without and beside the --stress hogs. */
enum { BENCH_QUIET, BENCH_STRESS, BENCH_NPHASES };
extern const char *const bench_phase_name[BENCH_NPHASES];

struct bench_opts {
	unsigned long warmup, min_runs, max_runs, runs;
	double budget;		/* seconds per command */
	double precision;	/* relative CI half-width, 0: off */
	double confidence;
	double max_cv;
	int max_cv_set;
	double max_jitter;	/* of the mean |run - previous run| / mean */
	int max_jitter_set;
	double threshold;	/* relative slowdown for --baseline */
	double alpha;
	int shell, check_output, ignore_failure, json, progress;
	int drop_outliers;
	unsigned long stress;	/* N in N x nproc, 0: off */
	int stress_mem;
	const char *baseline;
	const char **export_path;	/* per exporter row; NULL: not asked */
	const char *push;	/* the Pushgateway, or NULL */
};

/* The runs of one command in one phase, in run order. */
struct bench_runs {
	double *wall, *user, *sys, *rss;
	size_t n, cap;
	size_t failures;
	size_t mismatches;	/* runs whose output differs from the first */
};

/* A command, as the runner sees it. */
struct bench_cmd {
	char *name;
	char **argv;		/* NULL-terminated, points into main's argv */
	char *path;		/* the resolved executable */
	char *shargv[4];
	double est;		/* estimated seconds per run */
	unsigned long long hash;	/* of the first run's output (-c) */
	int hashed;
	int left_behind;	/* warned of processes it left running */
	struct bench_runs ph[BENCH_NPHASES];
};

/* ---- the results model ---- */

/* One phase's mean against another's: the ratio and the tests. */
struct bench_cmp {
	double ratio, sd, lo, hi;
	struct pk_bench_test welch, mw;
};

/* A command's quiet phase against its record in the baseline. */
struct bench_base_cmp {
	struct bench_cmp t;
	double mean;		/* the baseline's */
	double median_ratio;	/* NAN without the baseline's runs */
	int robust;		/* judged by Mann-Whitney and the medians */
	int significant, regression;
};

struct bench_phase {
	double ts;		/* when the phase ended */
	size_t runs, failures, mismatches;
	const double *times;	/* every run's wall time, in run order */
	double *kept;		/* wall.n of them: those the statistics use */
	struct pk_bench_summary wall;	/* of kept; outliers of all runs */
	struct pk_bench_summary user, sys, rss;
	double jitter_rel;	/* jitter / mean, NAN below 2 runs */
	int unstable_cv, unstable_jitter;
	int has_ref;		/* ref: against the reference command */
	struct bench_cmp ref;
	int has_quiet;		/* quiet: the stress phase against the quiet */
	struct bench_cmp quiet;
	int has_base;		/* base: the quiet phase against the baseline */
	struct bench_base_cmp base;
};

struct bench_result {
	const char *name;
	char *const *argv;
	unsigned long long hash;	/* of the first run's output (-c) */
	int in_baseline;
	struct bench_phase ph[BENCH_NPHASES];
};

/* Everything the report and the exporters show, filled once. */
struct bench_results {
	const char *host;
	int complete;		/* not interrupted */
	int nphases;		/* 1, or 2 with --stress */
	size_t ref;		/* the fastest command in the quiet phase */
	size_t n;
	struct bench_result *cmd;
	/* How it ran. */
	int shell, check_output, drop_outliers;
	unsigned long warmup, stress;
	size_t ncpu_hogs, nmem_hogs;
	double confidence, max_cv, max_jitter, threshold, alpha;
	const char *baseline;	/* the file of -b, or NULL */
};

/* ---- baseline.c ---- */

struct bench_baseline {
	char *name;
	double mean, sd;
	size_t n;
	double *times;
	size_t ntimes;
};

struct pk_bad;

/*
 * The quiet bench records of path into *out (*nout of them); bad lines
 * are reported through bad and skipped. 0, or -1 with errno when the file
 * cannot be read.
 */
int bench_baseline_load(const char *path, struct bench_baseline **out,
    size_t *nout, struct pk_bad *bad);
/* The record named name, or NULL. */
const struct bench_baseline *bench_baseline_find(
    const struct bench_baseline *v, size_t n, const char *name);
void bench_baseline_release(struct bench_baseline *v, size_t n);

/* ---- options.c ---- */

/*
 * The command line into o and the commands into *cmds; returns how many.
 * Usage errors and --help, --version, --list-options exit.
 */
size_t bench_parse(int argc, char **argv, struct bench_opts *o,
    struct bench_cmd **cmds);
void bench_cmds_release(struct bench_cmd *cmds, size_t k);
void bench_opts_release(struct bench_opts *o);

/* ---- runner.c ---- */

/* One run's measurements appended. */
void bench_runs_push(struct bench_runs *r, double wall, double user,
    double sys, double rss_kb);
void bench_runs_release(struct bench_runs *r);

/*
 * Handlers that stop the benchmark on SIGINT, SIGTERM and SIGHUP, and
 * SIGCHLD at its default (an ignored one loses the rusage).
 */
void bench_signals(void);
/*
 * Warm up, then run the measured rounds of every command into its
 * bench_runs, with --stress beside the hogs (their counts into r). 0, the
 * status a failing command ends perf-bench with, or -1 when a signal
 * stopped it.
 */
int bench_run(struct bench_cmd *cmds, size_t k, const struct bench_opts *o,
    struct bench_results *r);
/* If a signal stopped the benchmark: die of it, as the shell expects. */
void bench_signal_exit(void);

/* ---- stats.c ---- */

/*
 * The results model from the runs: every phase summarised under the
 * outlier policy, compared with the reference, the quiet phase and the
 * baseline. The model points into cmds, which must outlive it.
 */
void bench_results_fill(struct bench_results *r, const struct bench_cmd *cmds,
    size_t k, const struct bench_opts *o, const struct bench_baseline *bases,
    size_t nbases);
void bench_results_release(struct bench_results *r);
/* One phase's runs summarised into p (times, kept, the summaries). */
void bench_phase_fill(struct bench_phase *p, const struct bench_runs *runs,
    const struct bench_opts *o);
/* p (a quiet phase with at least 2 kept runs) against the baseline b. */
void bench_compare_baseline(const struct bench_phase *p,
    const struct bench_baseline *b, const struct bench_opts *o,
    struct bench_base_cmp *bc);
/* Whether the CI half-width of every phase is within --precision. */
int bench_tight_enough(const struct bench_cmd *cmds, size_t k,
    const struct bench_opts *o, int nphases);

#define BENCH_HIST_MAX_BINS 20
/* Bins of x (Sturges, 5 to BENCH_HIST_MAX_BINS; one when all equal). */
size_t bench_histogram(const double *x, size_t n, size_t *counts, double *lo,
    double *w);
/* A unit that suits secs ("s", "ms", "µs") and its scale. */
const char *bench_unit_for(double secs, double *scale);

/* ---- report.c ---- */

void bench_report(const struct bench_results *r);

/* ---- exporters.c: kinds are rows ---- */

/* A growing string that an exporter renders into. */
struct bench_buf {
	char *p;
	size_t len, cap;
};

void bench_buf_put(struct bench_buf *b, const char *s, size_t len);
void bench_buf_puts(struct bench_buf *b, const char *s);
void bench_buf_printf(struct bench_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * One --export-* format. Its option, --help line and man page entry come
 * from the row; the engine loops over bench_exporters.
 */
struct bench_exporter {
	const char *name;	/* "json" */
	const char *option;	/* "export-json", which takes a FILE */
	const char *help;	/* the rest of its --help line */
	void (*render)(const struct bench_results *r, struct bench_buf *b);
};

extern const struct bench_exporter *const bench_exporters[];
/* Rows in bench_exporters. */
size_t bench_exporters_count(void);
const struct bench_exporter *bench_exporter_find(const char *name);
/*
 * Every format that o asks for, each written atomically to its file. 0,
 * or -1 when a file could not be written (reported).
 */
int bench_export(const struct bench_results *r, const struct bench_opts *o);

/* ---- push.c ---- */

/*
 * Push each command's results to the Pushgateway at base, a group per
 * command. 0, or -1 when a push failed (reported; the rest not tried).
 */
int bench_push(const struct bench_results *r, const char *base);

#endif
