/* SPDX-License-Identifier: MIT */
#ifndef PK_PROM_H
#define PK_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "pk_jw.h"

/*
 * The Prometheus text exposition format 0.0.4, for every program that
 * exports metrics (perf-sample -f prom and -o today; --listen, --push and
 * the other programs' exporters next).
 *
 * The program registers its families once (name, help, type, unit) and,
 * for each exposition, adds samples in any order; pk_prom_render() then
 * writes every family that has samples, in the order of registration,
 * with its HELP and TYPE lines once. Each family collects its samples in
 * a buffer of its own that is reused from one exposition to the next, so
 * a steady state allocates nothing. Label values and help texts are
 * escaped as the format asks (backslash, line feed, and the double quote
 * in label values), and a byte that is not part of valid UTF-8 is written
 * as U+FFFD, so a label value read from the system (a process name) can
 * never make the exposition invalid. The strings given to pk_prom_family() must live as long as the
 * registry.
 *
 * A cap on the series of one exposition guards against a label that
 * explodes (a process name per PID, say): samples beyond it are left out,
 * counted, and reported once (one warning for the life of the registry).
 */
enum {
	PK_PROM_GAUGE,
	PK_PROM_COUNTER,	/* cumulative; its name ends in _total */
	PK_PROM_HISTOGRAM
};

struct pk_prom_label {
	const char *name, *value;
};

struct pk_prom_family {
	const char *name, *help, *unit;
	int type;
	struct pk_jw body;		/* the samples of this exposition */
	size_t nlines;			/* in body */
	int help_plain;			/* nothing in help to escape */
};

struct pk_prom {
	struct pk_prom_family *fam;
	unsigned nfam, capfam;
	size_t nseries, maxseries;	/* in this exposition, at most */
	unsigned long dropped;		/* samples left out by the cap, ever */
	int oom;			/* an allocation failed */
};

#define PK_PROM_MAXSERIES 10000

/* maxseries 0: PK_PROM_MAXSERIES. */
void pk_prom_init(struct pk_prom *p, size_t maxseries);
void pk_prom_release(struct pk_prom *p);

/*
 * Register a family and return its number, or the number it already has
 * (the same name, help and type). unit, NULL or "" for none, must be the
 * last word of the name ("bytes" in ..._bytes, before _total for a
 * counter); a counter's name ends in _total. -1 for a name that is not
 * valid, a unit or type that does not fit it, a second registration that
 * differs, or no memory.
 */
int pk_prom_family(struct pk_prom *p, const char *name, const char *help,
    int type, const char *unit);

/* Start an exposition: the samples of the last one are forgotten. */
void pk_prom_begin(struct pk_prom *p);

/*
 * One sample of a gauge or counter: the value with at most decimals
 * fractional digits (NaN and infinities as the format spells them).
 * 0, or -1 when left out (the cap, a bad family number).
 */
int pk_prom_sample(struct pk_prom *p, int fam,
    const struct pk_prom_label *labels, unsigned nlabels, double v,
    int decimals);

/*
 * A series whose labels never change can be rendered once: its text
 * (NAME{labels} and the space before the value, escaped as
 * pk_prom_sample writes it) is appended to w, and pk_prom_sample_text
 * adds a sample with that text, which is the same line for less work.
 */
void pk_prom_series_text(const struct pk_prom *p, int fam,
    const struct pk_prom_label *labels, unsigned nlabels, struct pk_jw *w);
int pk_prom_sample_text(struct pk_prom *p, int fam, const char *series,
    size_t len, double v, int decimals);

/*
 * One histogram: nb buckets with upper bounds le[] (ascending) and the
 * number of observations in each (not cumulative: counts[i] counts those
 * in (le[i-1], le[i]]), over counts[nb] for those above the last bound;
 * written as _bucket (cumulative, with le="+Inf"), _sum and _count.
 */
int pk_prom_histogram(struct pk_prom *p, int fam,
    const struct pk_prom_label *labels, unsigned nlabels, const double *le,
    const uint64_t *counts, unsigned nb, double sum, int decimals);

/* Append the exposition to w (which is not reset). */
void pk_prom_render(const struct pk_prom *p, struct pk_jw *w);

#endif
