/* SPDX-License-Identifier: MIT */
#ifndef PERF_SAMPLE_H
#define PERF_SAMPLE_H

/*
 * perf-sample's units: main.c (options, the schedule), sampler.c (the
 * roots, the files, what several groups share, one reading after
 * another), render.c (the two walks over the metric descriptors: the JSON
 * record and the Prometheus exposition), proc.c (the process follower),
 * groups.c (the table of metric groups) and one grp_NAME.c per group.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "pk_ingest.h"
#include "pk_jsonl.h"
#include "pk_jw.h"
#include "pk_outlet.h"
#include "pk_procfs.h"
#include "pk_prom.h"

#define PS_MAXCORES 512
#define PS_MAXDEV 64
#define PS_MAXZONES 32
#define PS_MAXPROCS 1024
#define PS_MAXARGS 64
#define PS_MAXLABELS 2		/* label names of a set's instances */
#define PS_KEYDEPTH 6		/* components of a JSON key */

enum { PS_FMT_JSON, PS_FMT_PROM, PS_FMT_NONE };

struct perf_sample_opts {
	double interval;
	uint64_t count;			/* 0: until stopped */
	long pids[PS_MAXARGS];
	unsigned npids;
	const char *comms[PS_MAXARGS];
	unsigned ncomms;
	const char *cgroup;
	unsigned long groups;		/* bit i: ps_groups[i] is sampled */
	int format;			/* what goes to standard output */
	struct pk_outlet_opts out;	/* --textfile (-o), --listen, --push */
	int scrape;			/* --listen alone: sample at each scrape */
	const char *procfs, *sysfs;
	const char *replay;
	int unbuffered;
	const char *ingest[PK_INGEST_MAXSRC];	/* --ingest unix:P, udp:A:P */
	unsigned ningest;
	uint64_t ingest_max;		/* datagrams per interval */
};

/* ---- files: opened once, read again with pread(2) ---- */

/* Where a file lives: under the procfs root, the sysfs root, the cgroup. */
enum { PS_ROOT_PROC, PS_ROOT_SYS, PS_ROOT_CG, PS_NROOTS };

struct ps_src {
	int root;
	char rel[64];		/* relative to its root */
	int fd;
	unsigned gen;
	int missing;		/* could not be opened in this generation */
	int reported;		/* a bad line was reported */
};

struct ps_sampler;

void ps_src_set(struct ps_src *s, int root, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ps_src_close(struct ps_src *s);
/* The whole file in the shared buffer; -1 with errno. */
int ps_src_read(struct ps_sampler *sp, struct ps_src *s, const char **buf,
    size_t *len);
/* Report a malformed file once (the exit status becomes 3). */
void ps_src_bad(struct ps_sampler *sp, struct ps_src *s,
    const struct pk_procfs_err *e);
/* Read the file now or die: a file the groups asked for cannot be absent. */
void ps_src_require(struct ps_sampler *sp, struct ps_src *s);
/* A small sysfs file, opened and closed (discovery only). */
int ps_read_small(struct ps_sampler *sp, const char *rel, char *buf,
    size_t size, size_t *len);

/* ---- metrics: what a group measures, for both outputs ---- */

enum {
	PS_NUM,			/* a number with dec fractional digits */
	PS_BOOL,		/* true when non-zero; 0 or 1 in the exposition */
	PS_HEX,			/* "0x..." in JSON */
	PS_NAME			/* the instance's name, as a JSON string */
};

/*
 * One metric. key is its path in the JSON record, dotted: a '*' stands
 * for the instance's name (temp_c.*, disk.*.util_pct), a component
 * "name[]" is an array with one object per instance (cpu.cores[].util);
 * NULL for a metric of the exposition only. prom is its family (metrics
 * may share one, told apart by their constant labels), NULL for JSON
 * only. unit is the JSON value's: "%", "KiB", "KiB/s" and "MHz" are
 * exported as ratio, bytes and hertz, and name the family's unit with
 * "s", "B/s", "1/s" and "C" (seconds, bytes_per_second, per_second,
 * celsius).
 */
struct ps_metric {
	const char *key;
	const char *prom;
	const char *help;
	const char *unit;
	unsigned char type;		/* PK_PROM_GAUGE, PK_PROM_COUNTER */
	unsigned char fmt;		/* PS_NUM ... */
	signed char dec, pdec;		/* digits in JSON, in the exposition */
	struct pk_prom_label cl[2];	/* constant labels (mode="user") */
};

/* One instance of a set in this sample: a disk, a core, a process. */
struct ps_inst {
	const char *name;		/* for '*' and array elements */
	const char *lv[PS_MAXLABELS];	/* the values of the set's labels */
	const double *v;		/* one per metric; NaN: not measured */
};

/* The instances of a set in this sample, as its group left them. */
struct ps_view {
	const struct ps_inst *inst;
	unsigned n;
};

/* Metrics over the same instances. */
struct ps_set {
	const struct ps_metric *m;
	unsigned nm;
	const char *labels[PS_MAXLABELS + 1];	/* NULL-terminated */
	size_t view;		/* offset of its struct ps_view in the state */
};

#define PS_NMETRICS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A set as the renderers use it: keys compiled, families registered. A
 * component's text is interned (one copy for every key that has it), so
 * the JSON walk tells levels apart by pointer.
 */
struct ps_kc {
	const char *text;		/* interned; "" for an array element */
	/*
	 * What the walk writes for it, the separator first: ,"text": for a
	 * leaf, ,"text":{ or ,"text":[ for a container, ,{ for an element;
	 * interned. A component with a '*' is written piece by piece.
	 */
	const char *q;
	unsigned char qlen;
	signed char star;		/* where the '*' is, -1 none */
	unsigned char kind;		/* object member, array, array element */
};

/* The interned texts of the components of every JSON key. */
struct ps_names {
	char **s;
	uint64_t *h;			/* their hashes */
	unsigned n, cap;
};

struct ps_key {
	unsigned n;
	struct ps_kc c[PS_KEYDEPTH];
	const char *parent;		/* interned text of c[0..n-1) */
	int parent_inst;		/* the instance is part of it */
};

struct ps_live_set {
	const struct ps_set *set;
	const void *st;
	struct ps_key *keys;		/* per metric */
	int *fam;			/* per metric: its family, -1 none */
	char **series;			/* per metric: its series' text, when the
					   set has no labels of instances */
	size_t *slen;
	double *mul;			/* per metric: exposition / JSON value */
	double *div;
	unsigned *jm;			/* the metrics with a JSON key */
	unsigned njm;
	unsigned *order;		/* metrics family by family */
	unsigned *fend;			/* end in order of each family */
	unsigned nfam;
	int by_inst;			/* JSON: instance by instance */
};

/*
 * The containers open in the JSON record being written. The walk writes
 * the record's bytes itself (pk_jw's raw appends): which container has
 * members yet is kept here, level 0 being the record.
 */
struct ps_jpath {
	const char *parent;		/* of the last leaf, NULL: look */
	const char *pinst;		/* and its instance */
	unsigned depth;
	struct {
		const struct ps_kc *c;
		const char *inst;
	} open[PS_KEYDEPTH];
	unsigned char first[PS_KEYDEPTH + 1];	/* no member yet */
};

/* The view of a group without instances: one, with values v. */
void ps_view_one(struct ps_view *view, struct ps_inst *inst, const double *v);
/* Compile a set; its families go to prom when not NULL. */
void ps_live_init(struct ps_live_set *ls, const struct ps_set *set,
    const void *st, struct pk_prom *prom, struct ps_names *names);
void ps_names_release(struct ps_names *names);
void ps_live_release(struct ps_live_set *ls);
void ps_json_begin(struct pk_jw *w, struct ps_jpath *jp, const char *type,
    double ts);
void ps_json_set(struct pk_jw *w, struct ps_jpath *jp,
    const struct ps_live_set *ls);
void ps_json_end(struct pk_jw *w, struct ps_jpath *jp);
void ps_prom_set(struct pk_prom *p, const struct ps_live_set *ls);
/* The same over other instances of the set (processes summed by name). */
void ps_prom_view(struct pk_prom *p, const struct ps_live_set *ls,
    const struct ps_view *vw);
/* The decimal digits of v in buf (at least 24 bytes). */
const char *ps_utoa(uint64_t v, char *buf);

/* ---- metric groups: one row each in ps_groups[] (groups.c) ---- */

enum {
	PS_GRP_DEFAULT = 1,	/* in the default set */
	PS_GRP_HIDDEN = 2	/* not named by -m: on with its with groups */
};

struct ps_group {
	const char *name;		/* the name in -m */
	const char *help;		/* one line for --help */
	unsigned flags;
	/*
	 * A hidden group is sampled with any of these (-m names, commas),
	 * or, NULL, whenever its discover finds something to do.
	 */
	const char *with;
	size_t size;			/* of its state, zeroed at the start */
	/* Find and name its files: 1 to be sampled, 0 nothing to do. */
	int (*discover)(struct ps_sampler *sp, void *st);
	/* Read its files into slot sp->cur (NULL: it reads nothing). */
	void (*read)(struct ps_sampler *sp, void *st);
	/* Fill its sets' values from slots sp->prev and sp->cur. */
	void (*derive)(struct ps_sampler *sp, void *st);
	void (*release)(void *st);	/* close its files (NULL: none) */
	const struct ps_set *const *sets;	/* NULL-terminated */
};

extern const struct ps_group *const ps_groups[];
extern const unsigned ps_ngroups;

/* -m: the groups of a list ("+" adds to the default); dies if bad. */
unsigned long ps_groups_parse(const char *arg);
unsigned long ps_groups_default(void);
/* The hidden groups that go with sel, added to it. */
unsigned long ps_groups_resolve(unsigned long sel);
/* "cpu, cores, ..., all": for messages. */
const char *ps_groups_names(char *buf, size_t size);

/* ---- the sampler ---- */

struct ps_procs;

struct ps_live {
	const struct ps_group *g;
	void *st;
	struct ps_live_set sets[4];
	unsigned nsets;
};

struct ps_sampler {
	const struct perf_sample_opts *o;
	int rootfd[PS_NROOTS];
	int rooterr[PS_NROOTS];		/* errno of a root that did not open */
	char rootpath[PS_NROOTS][PATH_MAX];
	unsigned gen;			/* of the roots: files reopen */
	unsigned long step;		/* replay snapshot number */
	char *rbuf;
	size_t rcap;
	struct pk_bad bad;
	struct pk_jw w;
	struct pk_prom prom;
	int prom_on;			/* an exposition is rendered */
	struct pk_jw pw;		/* the exposition's text */
	struct ps_outlet *outlet;	/* NULL without an outlet */
	struct ps_jpath jp;
	struct ps_names names;
	long clk_tck, page_kb;

	/* Two readings: slot cur is this one, prev the last. */
	int cur, prev;
	double mono[2], wall[2];
	double dt;			/* mono[cur] - mono[prev] */

	/* The files of the core and of more than one group. */
	struct ps_src stat, uptime, meminfo;
	struct pk_procfs_stat st[2];
	struct pk_procfs_core cores[2][PS_MAXCORES];
	unsigned nstored[2];
	int have_stat[2];
	int want_meminfo;
	struct pk_procfs_mem mem;	/* of this reading */
	int have_mem;

	struct ps_live_set head;	/* interval_s, the timestamp */
	double headv[2];
	struct ps_inst headinst;
	struct ps_view headview;
	struct ps_live live[32];	/* the groups sampled */
	unsigned nlive;
	struct ps_procs *procs;
};

/* Open the roots of the next snapshot (-1: none left). */
int ps_set_roots(struct ps_sampler *sp);
void ps_init(struct ps_sampler *sp, const struct perf_sample_opts *o);
/* Take a reading into slot sp->cur. */
void ps_take(struct ps_sampler *sp);
/* Write this interval's records (JSON) or exposition. */
void ps_emit(struct ps_sampler *sp);
/* The next reading goes into the other slot. */
void ps_swap(struct ps_sampler *sp);
void ps_release(struct ps_sampler *sp);
/* Groups that read /proc/meminfo ask for it here (it is read once). */
void ps_want_meminfo(struct ps_sampler *sp);
/* A rate of a counter, *ok 0 when it went back or no time passed. */
double ps_rate(uint64_t a, uint64_t b, double dt, int *ok);
/*
 * Rates per instance of named counters (a disk, an interface): the
 * elements of cur (n of them, stride bytes apart, each beginning with its
 * name) that prev (np) has too, with the uint64_t counters at off[0..nf),
 * go to inst[] and v (vstride doubles apart) when every rate is valid.
 * Returns the number of instances.
 */
unsigned ps_named_rates(const struct ps_sampler *sp, const void *prev,
    unsigned np, const void *cur, unsigned n, size_t stride,
    const size_t *off, unsigned nf, struct ps_inst *inst, double *v,
    size_t vstride);
/* Shares of all CPU time in v[9]: util, user, system, iowait, steal,
 * nice, irq, softirq, idle (the record's order); NaN without ticks. */
void ps_cpu_shares(const struct pk_procfs_cpu *a, const struct pk_procfs_cpu *b,
    double *v);
#define PS_CPU_NSHARES 9

/* Pressure files, for the psi group and the cgroup one. */
#define PS_PSI_METRICS(prefix, family)					\
	PS_PSI_METRIC(prefix "some_avg10", family, "some", "10"),	\
	PS_PSI_METRIC(prefix "some_avg60", family, "some", "60"),	\
	PS_PSI_METRIC(prefix "some_avg300", family, "some", "300"),	\
	PS_PSI_METRIC(prefix "full_avg10", family, "full", "10"),	\
	PS_PSI_METRIC(prefix "full_avg60", family, "full", "60"),	\
	PS_PSI_METRIC(prefix "full_avg300", family, "full", "300")
#define PS_PSI_METRIC(key, family, kind, window) {			\
	key, family, "Pressure stall information, share of time "	\
	"stalled over the window (0-1).", "%", PK_PROM_GAUGE, PS_NUM,	\
	2, 6, { { "kind", kind }, { "window", window } } }
#define PS_PSI_NM 6

extern const char *const ps_psi_names[3];
/* Read a pressure file into v[PS_PSI_NM] (NaN what it lacks). */
void ps_psi_read(struct ps_sampler *sp, struct ps_src *s, double *v);

/* ---- the outlets (outlet.c) ---- */

struct ps_outlet;

/* Whether an outlet is asked for (main.c). */
int ps_outlets(const struct perf_sample_opts *o);
/* Start the outlets asked for (dies with status 4 if one cannot). */
void ps_outlet_start(struct ps_sampler *sp);
/* Hand the exposition in sp->pw to them. */
void ps_outlet_publish(struct ps_sampler *sp);
/* --listen alone: sample at each scrape until stopped. */
void ps_serve(struct ps_sampler *sp);
/* The final push; then closed. */
void ps_outlet_stop(struct ps_sampler *sp);
/* The last text file write failed (the exit status becomes 4). */
int ps_outlet_failed(const struct ps_sampler *sp);
void ps_outlet_release(struct ps_sampler *sp);

/* ---- the process follower (proc.c) ---- */

void ps_procs_init(struct ps_sampler *sp);
/* Find the processes --comm names that are not followed yet. */
void ps_procs_scan(struct ps_sampler *sp);
/* Read every followed process; emit: this reading gives records. */
void ps_procs_sample(struct ps_sampler *sp, int emit);
/* Their proc records, or their families; then forget the gone. */
void ps_procs_json(struct ps_sampler *sp);
void ps_procs_prom(struct ps_sampler *sp);
void ps_procs_done(struct ps_sampler *sp);
/* A follower ran out of file descriptors (the exit status becomes 4). */
int ps_procs_fd_trouble(const struct ps_sampler *sp);
void ps_procs_release(struct ps_sampler *sp);

#endif
