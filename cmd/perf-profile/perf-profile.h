/* SPDX-License-Identifier: MIT */
/*
 * perf-profile's units: the metric rows (metrics.c), the check rows
 * (checks.c and one check_NAME.c per check), the config loader (conf.c),
 * the component store (store.c), the input (feed.c), the evaluation
 * engine (engine.c), the records writer (records.c), the summary
 * (summary.c) and the Prometheus exposition (prom.c); main.c holds the
 * options and main().
 */
#ifndef PERF_PROFILE_H
#define PERF_PROFILE_H

#include <stddef.h>

#include "pk_filter.h"
#include "pk_jw.h"
#include "pk_outlet.h"
#include "pk_profsev.h"
#include "pk_profwin.h"

#define MAX_COMPONENTS	1024
#define MAX_EPISODES	10000
#define RING_MAX	8192	/* values per metric and window */
#define EVAL_STEP	1.0	/* checks run at most once per second */
#define MIN_FIT_R2	0.8	/* a trend must fit this well to start */
#define END_FIT_R2	0.5	/* ... and ends when it fits worse */
#define LEAK_BUCKETS	512	/* points held in the leak window */
#define CHECK_MAX	24	/* rows of checks[] */
#define CHECK_KEYS	2	/* config keys of one check */
#define METRIC_PATHS	5	/* record fields of one metric */
#define HINT_MAX	512	/* a hint, with its context */

/* ---- metrics: what is kept per component, one row each ---- */

/*
 * The handles of the metric rows (metrics.c holds one row per handle);
 * a check names the metric it reads by its handle.
 */
enum metric {
	M_CPU_UTIL, M_IOWAIT, M_MEM_USED, M_MEM_AVAIL, M_PSI_MEM, M_PSI_IO,
	M_TEMP, M_CPU_PCT, M_RSS, M_IO_BPS, M_FPS, M_LATENCY, M_THROUGHPUT,
	M_QUEUE, M_SWAP_IN, M_SWAP_OUT, M_MAJFLT, M_LOOP_MISS, M_LOOP_EXEC,
	NMETRIC
};

/* The record types read (the front end's types[], in this order). */
enum rec_type {
	REC_SAMPLE, REC_PROC, REC_METRIC, REC_LOOP, NREC
};

#define FROM(r)		(1u << (r))

struct state;
struct component;

struct metric_type {
	const char *name;		/* in profile records: "cpu_util" */
	const char *unit;		/* "%", "kB", "B/s" */
	unsigned from;			/* FROM(REC_SAMPLE) | ... */
	const char *path[METRIC_PATHS];	/* the record fields it is read from */
	/*
	 * Its value in the record at hand (vals by the ids of path[]), NAN
	 * when absent; NULL: the number at path[0].
	 */
	double (*read)(const struct state *s, struct component *c,
	    const struct pk_jval *vals, const int *ids);
	int leak;			/* also kept in the leak window */
	const char *rank_word;		/* "memory": ranked by it, in hints */
	/*
	 * Its Prometheus family (prom.c): the name, in base units (its last
	 * word the unit, "" for none), the factor from unit to them, and
	 * the family's help.
	 */
	const char *prom, *prom_unit, *prom_help;
	double prom_scale;
};

extern const struct metric_type metrics[NMETRIC];

/* ---- checks: one row each ---- */

enum check_scope {
	SCOPE_SYSTEM,			/* the system, from sample records */
	SCOPE_COMPONENT			/* a process or an application */
};

/* A config key of a check, under system: or defaults:/components: */
struct check_key {
	const char *name;		/* "cpu_util_max" */
	double def, rpi;		/* the default, and the rpi preset's */
	int above0;			/* 0 is not "disabled" but an error */
};

/* What a check says of a component now. */
enum verdict {
	VERDICT_ON,			/* judged: value, threshold, excess */
	VERDICT_OFF,			/* disabled or no value: ends it */
	VERDICT_SKIP			/* no verdict now: the state stays */
};

struct judgement {
	double value, threshold;	/* for the record */
	double excess;			/* as pk_profsev_excess */
	int past;			/* the condition holds (a start) */
	int clear;			/* it is over (an end) */
};

/* A check at work on one component. */
struct check_ctx {
	const struct state *s;
	struct component *c;
	const struct check_type *ck;
	size_t i;			/* its row in checks[] and in c */
	const double *thr;		/* its keys' values for c */
	double t;
};

struct check_type {
	const char *name;		/* "mem_avail": help, man page */
	const char *kind;		/* the bottleneck kind: "memory" */
	const char *value_name;		/* what the value is: "mem_avail_pct" */
	enum check_scope scope;
	struct check_key keys[CHECK_KEYS];	/* name NULL: no more */
	enum metric metric;		/* the window it reads */
	int floor;			/* the target is a floor, not a limit */
	/*
	 * Judged after the plain level checks of the component (trends,
	 * thermal), so that within one second a level edge comes first.
	 */
	int after_levels;
	enum verdict (*judge)(const struct check_ctx *x, struct judgement *j);
	/* Contributors: ranked by metric rank, or by rank_value if set. */
	enum metric rank;
	double (*rank_value)(const struct state *s, const struct component *o);
	/* The hint while it is open (snprintf's return). */
	int (*hint)(const struct check_ctx *x, char *buf, size_t size);
	/*
	 * The context it gives a component's hint while the system has it
	 * open (NULL: none); of several, the lowest hint_rank is told.
	 */
	int (*sys_hint)(const struct check_ctx *x,
	    const struct component *top, char *buf, size_t size);
	const char *sys_text;		/* for check_sys_text */
	int hint_rank;
	/*
	 * Its term of the efficiency score: the window's statistic (NAN:
	 * none) against *thr, a floor if *floor. NULL: no term.
	 */
	double (*eff)(const struct check_ctx *x,
	    const struct pk_profwin_stats *st, double *thr, int *floor);
};

extern const struct check_type *const checks[];
extern const size_t nchecks;

/* Shared judges (checks.c). */
enum verdict check_level(const struct check_ctx *x, struct judgement *j,
    double value);
enum verdict check_judge_ewma(const struct check_ctx *x, struct judgement *j);
enum verdict check_trend(const struct check_ctx *x, struct judgement *j,
    struct pk_profwin *w, double span);
double check_eff_mean(const struct check_ctx *x,
    const struct pk_profwin_stats *st, double *thr, int *floor);
/* A system context of words: "; system " and the row's sys_text. */
int check_sys_text(const struct check_ctx *x, const struct component *top,
    char *buf, size_t size);
/* A control loop's hint context (the host's CPUs) after n characters. */
int check_loop_context(const struct check_ctx *x, char *buf, size_t size,
    int n);
double check_value(const struct check_ctx *x);
double check_threshold(const struct check_ctx *x);

/* ---- configuration (conf.c) ---- */

struct comp_targets {
	char *name;
	double t[CHECK_MAX][CHECK_KEYS];	/* NAN: from the defaults */
};

struct conf {
	double window, interval, smooth, leak_window;
	double esc[2];		/* a severity level more after, two after */
	/* Per check and key: the system's value, or the components' default. */
	double val[CHECK_MAX][CHECK_KEYS];
	struct comp_targets *comp;
	size_t ncomp;
};

void conf_defaults(struct conf *c, const char *preset);
/* path over the preset's defaults into c; -1 after reporting errors. */
int conf_load(struct conf *c, const char *path, const char *preset);
void conf_release(struct conf *c);
/* Key k of check i for the component named name (NULL: the system). */
double conf_target(const struct conf *c, const char *name, size_t i, size_t k);
/* The check and key of a key name; -1 if there is none. */
int conf_find_key(const char *key, size_t *i, size_t *k);

/* ---- hosts and components (store.c) ---- */

/* A host's state, on its pk_fhost.user. */
struct host {
	char *name;		/* "unknown" for records without a host */
	double clock;		/* its largest ts (NAN: restarted) */
	double next_tick;
	struct component *system;	/* its system component, if any */
};

struct component {
	struct host *host;
	char *name;
	int system;
	double last_seen, last_eval;
	double trip_c;		/* the trip point of the hottest zone */
	int throttled;		/* 0 no, 1 capped, 2 throttled */
	struct pk_profwin win[NMETRIC];
	unsigned present;	/* bit per metric seen */
	struct pk_profsev sev[CHECK_MAX];
	double val[CHECK_MAX], thr[CHECK_MAX];
	/* The checks' keys for it, as of the config of generation conf_gen. */
	double key[CHECK_MAX][CHECK_KEYS];
	unsigned conf_gen;
	long episode[CHECK_MAX];	/* index of the open episode, or -1 */
	/*
	 * The leak window: RSS over leak_window, as means of buckets of
	 * leak_window / LEAK_BUCKETS, so that a fast metric stream keeps
	 * it bounded and its fit is not drowned in per-sample noise.
	 */
	struct pk_profwin leak;
	double lb_t, lb_v, lb_t0;
	unsigned lb_n;
	struct pk_profagg *agg;	/* --summary only */
	/* For the exposition: the last profile's figures (with an outlet). */
	double p50[NMETRIC], p95[NMETRIC], eff;
	unsigned profiled;	/* bit per metric in p50, p95; bit NMETRIC: eff */
	unsigned long long started[CHECK_MAX];	/* bottlenecks started */
};

struct episode {
	double since, end;
	int peak;
	int ongoing;
	size_t check;		/* its row in checks[] */
	unsigned comp;		/* index in the component table */
};

struct perf_profile_opts {
	const char *config;
	const char *preset;
	double window, interval, leak_window;
	int summary, json, unbuffered, strict;
	struct pk_outlet_opts out;
};

struct prof_prom;

struct state {
	const struct perf_profile_opts *o;
	struct conf conf;
	unsigned conf_gen;		/* counts the configs loaded */
	struct pk_filter f;
	struct pk_jpaths paths;
	int ids[NMETRIC][METRIC_PATHS];	/* of each metric's paths */
	unsigned char feeds[NREC][NMETRIC];	/* the metrics of each type */
	size_t nfeeds[NREC];
	int id_comm, id_component, id_gone;
	size_t trip_check, trip_key;	/* system.temp_trip_c */
	/* Per scope the checks in the order they are judged. */
	unsigned char order[2][CHECK_MAX];
	size_t norder[2];
	struct component *comp;
	size_t ncomp;
	unsigned *hash;		/* 1 + component index, 0 empty */
	size_t hcap;
	int warned_full;
	double *scratch;
	struct episode *ep;
	size_t nep;
	unsigned long long ep_lost;
	struct pk_jw jw;	/* the record being written */
	struct prof_prom *prom;	/* NULL: no outlet, no exposition work */
	int prom_pending;	/* figures changed since the last exposition */
};

void store_init(struct state *s);
void store_release(struct state *s);
/* The component, made on first sight; NULL when there are too many. */
struct component *comp_get(struct state *s, struct host *h, const char *name,
    int system);
/* A value of metric m at t (not finite: ignored). */
void metric_add(struct state *s, struct component *c, enum metric m,
    double t, double v);
double comp_ewma(const struct component *c, enum metric m);
/* The RSS slope per minute over the leak window (NAN below 5 points). */
double comp_leak_slope(const struct component *c);
/* Forget the RSS history (the process went away). */
void comp_leak_reset(struct component *c);
/* Start every window of the host's components afresh (a clock step). */
void host_restart(struct state *s, struct host *h);

/* ---- input (feed.c) ---- */

/* The front end's setup: types, paths, callbacks. */
void feed_init(struct state *s);
/* A SIGHUP: a new config replaces the targets; a bad one is reported. */
void feed_reload(struct state *s);

/* ---- evaluation (engine.c) ---- */

/* The order of judgement of each scope. */
void engine_init(struct state *s);
void evaluate(struct state *s, struct component *c, double t);
/* End every open bottleneck of c (it went away or went quiet). */
void end_all(struct state *s, struct component *c, double t);
double efficiency(const struct state *s, const struct component *c,
    const struct pk_profwin_stats *st);
/* The profiles of h's components at t. */
void profile_host(struct state *s, const struct host *h, double t);

/* ---- records (records.c) ---- */

struct contributor {
	const struct component *c;
	double share;
};

void rec_bottleneck(struct state *s, const struct component *c, size_t i,
    int what, double t, const struct contributor *top, size_t ntop,
    const char *hint);
void rec_profile(struct state *s, const struct component *c, double t,
    const struct pk_profwin_stats *st, double eff);
void rec_summary(struct state *s, const struct component *c);
void rec_episode(struct state *s, const struct episode *e);

/* ---- summary (summary.c) ---- */

void summary(struct state *s);

/* ---- the Prometheus exposition (prom.c) ---- */

/* The outlets asked for (none: s->prom stays NULL); dies if one fails. */
void prom_start(struct state *s);
/*
 * The figures changed (a round of profiles, a bottleneck edge): the
 * exposition is rendered and published now, or, within PK_OUTLET_GAP of
 * the last one, marked pending for the next record, idle input or end.
 */
void prom_changed(struct state *s);
/* Render what is pending now (idle input). */
void prom_flush(struct state *s);
/* The final exposition, the final push; the outlets closed. */
void prom_stop(struct state *s);

#endif
