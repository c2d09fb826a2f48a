/* SPDX-License-Identifier: MIT */
#ifndef PK_FILTER_H
#define PK_FILTER_H

#include <stddef.h>

#include "pk_evclock.h"
#include "pk_jscan.h"
#include "pk_jsonl.h"

/*
 * The one front end of every filter (perf-profile, perf-qualityctl,
 * perf-alert), after mblaze's blaze822_loop: it reads the operands (none
 * or "-" is standard input) line by line, checks each record the same way
 * for every program, keeps one event clock per host, and hands the
 * program only the records it reads, already scanned. What the front end
 * decides, it decides once for all (docs/conventions.md, "Bad input"):
 *
 * - a blank line (nothing but spaces) is no record: skipped, not counted;
 * - a line longer than max_line, a line that is not one JSON object:
 *   a bad line ("line longer than N bytes", "column C: why");
 * - a record of a type the program does not read passes through
 *   unchanged and unchecked (pass != 0);
 * - a record of a type it reads must have a numeric ts ("a sample record
 *   without a numeric ts"), no more than a day ahead of the wall clock
 *   (milliseconds are not seconds), a string host of at most
 *   PK_FILTER_HOST_MAX bytes if it has one, and the string fields its
 *   type's row requires ("a proc record without comm"); else it is a bad
 *   line: reported, skipped (not passed on), counted, status 3;
 * - each host has its event clock (pk_evclock, span seconds): a late
 *   record is passed through, counted, warned about once and not handed
 *   to the program (late_mode PK_FILTER_LATE_SKIP), or handed over with
 *   r->late set (PK_FILTER_LATE_MINE, for a program with a stricter rule
 *   of its own); a backward clock step is warned about and on_step runs;
 * - at most max_hosts hosts: the records of a host beyond that are passed
 *   through, counted, warned about once;
 * - it stops on SIGINT/SIGTERM after the record at hand, calls on_reload
 *   on SIGHUP and on_idle while the input is idle, and flushes the output
 *   before a read that may block (pk_jsonl).
 */
#define PK_FILTER_HOST_MAX 255

/* A record type the program reads, and the string fields it must carry. */
struct pk_ftype {
	const char *name;		/* "sample" */
	const char *const *need;	/* NULL-terminated dotted paths, or NULL */
};

/* A host: its name, its event clock, and the program's own state. */
struct pk_fhost {
	char *name;			/* "" for records without a host */
	size_t len;
	struct pk_evclock ev;
	void *user;			/* the program's */
	int skip;			/* on_host said: pass its records through */
	unsigned long long skipped;	/* its records passed through so */
	unsigned long long late;
};

/* One record handed to the program. */
struct pk_rec {
	const char *line;		/* the line, for pk_filter_pass */
	size_t len;
	const char *file;		/* for messages: "<stdin>" or the path */
	unsigned long lineno;
	int type;			/* index in types[], -1 with all_types */
	const char *type_name;		/* its type ("" when it has none) */
	double ts;
	double prev_clock;		/* the host's clock before it (NAN: first) */
	struct pk_fhost *host;
	const struct pk_jval *vals;	/* by the ids of the program's paths */
	int late;			/* PK_FILTER_LATE_MINE: it is late */
};

enum pk_filter_late {
	PK_FILTER_LATE_SKIP,		/* pass, count, warn once; not handed over */
	PK_FILTER_LATE_MINE		/* handed over with r->late set */
};

struct pk_filter {
	/* Set by the program (pk_filter_init gives the defaults). */
	const struct pk_ftype *types;	/* ended by a NULL name */
	int all_types;			/* read every record, whatever its type */
	double span;			/* the event clock's span, seconds */
	const char *span_name;		/* "the window", for the late warning */
	const char *late_verb;		/* "profiled", "evaluated" */
	const char *step_what;		/* "windows" or "timers" (restarted) */
	enum pk_filter_late late_mode;
	int pass;			/* pass through what is not read (1) */
	size_t max_line;		/* PK_JSONL_MAX_LINE_DEFAULT */
	size_t max_hosts;		/* 4096 */
	int idle_ms;			/* on_idle every idle_ms of idle input */
	/*
	 * The host a record without one belongs to (its clock, its state);
	 * NULL: a host of its own, "". A program that follows one host
	 * sets it to that host's name (it may change it as it goes).
	 */
	const char *host_default;
	void *arg;			/* given to every callback */
	void (*on_record)(struct pk_filter *f, const struct pk_rec *r);
	/* A host is seen for the first time: 0 read it, 1 pass it through. */
	int (*on_host)(struct pk_filter *f, struct pk_fhost *h,
	    const struct pk_rec *r);
	/* h's clock stepped back by back seconds (the warning is printed). */
	void (*on_step)(struct pk_filter *f, struct pk_fhost *h, double back,
	    const struct pk_rec *r);
	void (*on_idle)(struct pk_filter *f);
	/* SIGHUP: pk_reload is cleared before it is called. */
	void (*on_reload)(struct pk_filter *f);

	/* Kept by the front end; read-only for the program. */
	struct pk_bad bad;
	unsigned long long records;	/* handed to the program */
	unsigned long long late;
	unsigned long long overflow;	/* records of hosts beyond max_hosts */
	struct pk_jpaths *paths;
	struct pk_jval *vals;
	size_t nvals;
	int id_type, id_ts, id_host;
	int *need_ids;			/* per type, -1 terminated runs */
	size_t *need_at;		/* where each type's run starts */
	size_t ntypes;
	struct pk_fhost **hosts;	/* in order of first appearance */
	size_t nhosts, caphosts;
	size_t *htab;			/* open addressing: index + 1, 0 empty */
	size_t hcap;
	struct pk_fhost *last;		/* the host of the previous record */
	double ts_limit;		/* pk_ts_plausible's cache */
	int warned_late, warned_hosts;
	struct pk_jsonl *in;		/* the input being read */
};

void pk_filter_init(struct pk_filter *f);
/*
 * The paths the program reads; the front end adds its own (type, ts,
 * host and the types' needs) and sizes the values. Call again with new
 * paths (a reloaded config): ids already given stay valid for ps.
 * 0, or -1 on allocation failure.
 */
int pk_filter_set_paths(struct pk_filter *f, struct pk_jpaths *ps);
/*
 * Read the operands (n == 0: standard input). 0, or -1 if an operand
 * could not be opened or read (reported; the others are still read).
 */
int pk_filter_run(struct pk_filter *f, int n, char *const *files);
/* Pass the record's line through unchanged (unless pass is 0). */
void pk_filter_pass(const struct pk_filter *f, const struct pk_rec *r);
/* A program's own verdict that the record is bad: reported like any. */
void pk_filter_bad(struct pk_filter *f, const struct pk_rec *r,
    const char *fmt, ...) PK_PRINTF(3, 4);
/*
 * The end: the final counts on stderr (late records, records of hosts
 * over the cap, bad lines). Returns PK_EXIT_OK, or PK_EXIT_DATA if lines
 * were skipped.
 */
int pk_filter_finish(struct pk_filter *f);
void pk_filter_release(struct pk_filter *f);

#endif
