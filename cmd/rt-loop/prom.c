/* SPDX-License-Identifier: MIT */
/*
 * rt-loop's Prometheus exposition (--listen, --push, --textfile). The
 * writer renders it from what it already has, after each report interval,
 * at the start and at the end, into one reused buffer, and hands it to
 * the outlets (pk_outlet), whose threads serve and push it. A scrape
 * copies the last snapshot under the server's own lock: it never reaches
 * the RT thread, which takes no lock and shares no cache line with it.
 *
 * The families are the rows of one table; the man page's METRICS section
 * documents every row (tests/rt-loop.bats holds it against the exposition).
 */
#include "rt-loop.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "pk_err.h"
#include "pk_opt.h"

/*
 * The histograms' bucket bounds: 1-2-5 per decade from 1 us to 1 s, so
 * that a microsecond-scale loop is resolved where it lives and an overrun
 * of a second is still placed; the last interval's exact p99 is a gauge
 * beside them.
 */
static const unsigned long long bounds_ns[] = {
	1000, 2000, 5000, 10000, 20000, 50000,
	100000, 200000, 500000, 1000000, 2000000, 5000000,
	10000000, 20000000, 50000000, 100000000, 200000000, 500000000,
	1000000000
};
#define NBOUNDS	(sizeof(bounds_ns) / sizeof(bounds_ns[0]))

/* One metric family of the exposition. */
struct rt_family {
	const char *name, *help, *unit;
	int type;
	int decimals;
	/* Whether this run has it; NULL: always. */
	int (*has)(const struct rt_writer *w);
	/* A gauge's or counter's one value (no labels) ... */
	double (*value)(const struct rt_writer *w);
	/* ... or the samples written by the row itself. */
	void (*put)(struct rt_writer *w, int fam);
};

/*
 * The largest value in bucket i of a pk_hist, by its documented layout:
 * exact below 2^sub_bits, then 2^sub_bits buckets per power of two.
 */
static unsigned long long
hist_upper(const struct pk_hist *h, size_t i)
{
	unsigned long long sub = 1ULL << h->sub_bits;

	if (i < sub)
		return i;
	return ((sub + i % sub + 1) << (i / sub - 1)) - 1;
}

/*
 * A run-long pk_hist (ns) as a Prometheus histogram (seconds): each of its
 * buckets is counted at its upper bound, as the records' quantiles are,
 * so a bound is exact to the histogram's resolution (1/128).
 */
static void
put_hist(struct rt_writer *w, int fam, const struct pk_hist *h)
{
	uint64_t counts[NBOUNDS + 1];
	double le[NBOUNDS];
	unsigned long long seen = 0, up;
	size_t i, b = 0;

	memset(counts, 0, sizeof(counts));
	for (i = 0; i < h->nbuckets && seen < h->total; i++) {
		if (h->counts[i] == 0)
			continue;
		up = hist_upper(h, i);
		while (b < NBOUNDS && up > bounds_ns[b])
			b++;
		counts[b] += h->counts[i];
		seen += h->counts[i];
	}
	for (i = 0; i < NBOUNDS; i++)
		le[i] = (double)bounds_ns[i] / 1e9;
	(void)pk_prom_histogram(&w->prom.reg, fam, NULL, 0, le, counts,
	    NBOUNDS, h->sum / 1e9, 9);
}

static void
put_lat(struct rt_writer *w, int fam)
{
	put_hist(w, fam, &w->total.lat);
}

static void
put_exec(struct rt_writer *w, int fam)
{
	put_hist(w, fam, &w->total.exec);
}

/* The configuration as labels, made once (the strings live in w->prom). */
static void
info_labels(struct rt_writer *w)
{
	struct rt_prom *p = &w->prom;
	const struct rt_opts *o = w->o;
	unsigned n = 0;

#define LABEL(k, v) do { \
		p->info[n].name = (k); \
		p->info[n].value = (v); \
		n++; \
	} while (0)
	snprintf(p->freq, sizeof(p->freq), "%.15g", o->hz);
	snprintf(p->prio, sizeof(p->prio), "%d", w->prio);
	snprintf(p->slack, sizeof(p->slack), "%ld", o->timer_slack_ns);
	LABEL("version", PK_VERSION);
	LABEL("workload", o->plugin != NULL ? "plugin" : o->workload);
	if (o->plugin != NULL)
		LABEL("plugin", o->plugin);
	LABEL("freq_hz", p->freq);
	LABEL("policy", w->policy);
	LABEL("priority", p->prio);
	if (o->cpu >= 0) {
		snprintf(p->cpu, sizeof(p->cpu), "%d", o->cpu);
		LABEL("cpu", p->cpu);
	}
	LABEL("mlock", w->mlocked ? "true" : "false");
	LABEL("timer_slack_ns", p->slack);
	if (o->spin_ns > 0) {
		snprintf(p->spin, sizeof(p->spin), "%.15g",
		    (double)o->spin_ns / 1e3);
		LABEL("spin_us", p->spin);
	}
	if (o->monitor_hz > 0) {
		snprintf(p->mon, sizeof(p->mon), "%.15g", o->monitor_hz);
		LABEL("monitor_hz", p->mon);
	}
#undef LABEL
	p->ninfo = n;
}

static void
put_info(struct rt_writer *w, int fam)
{
	if (w->prom.ninfo == 0)
		info_labels(w);
	(void)pk_prom_sample(&w->prom.reg, fam, w->prom.info, w->prom.ninfo,
	    1, 0);
}

/*
 * Cycles run: those the writer has seen and those the ring dropped (each
 * cycle pushes one sample or counts one drop), so at the end this is the
 * summary's ticks.
 */
static double
v_ops(const struct rt_writer *w)
{
	return (double)(w->total.ticks + pk_rtring_dropped(&w->sh->samples));
}

static double
v_misses(const struct rt_writer *w)
{
	return (double)w->total.misses;
}

/*
 * Skipped periods, from the samples; at the end the loop thread's own
 * count (the summary's), which has those of dropped samples too.
 */
static double
v_skipped(const struct rt_writer *w)
{
	if (w->prom.final)
		return (double)atomic_load_explicit(&w->sh->skipped,
		    memory_order_relaxed);
	return (double)w->total.skipped;
}

static double
v_werrs(const struct rt_writer *w)
{
	return (double)w->total.werrs;
}

static int
has_viol(const struct rt_writer *w)
{
	return w->prom.viol >= 0;
}

/*
 * The workload row's "violations" counter. Read here by the writer, once
 * per interval, never by a scrape.
 */
static double
v_viol(const struct rt_writer *w)
{
	const char *names[PK_RTWORK_MAXCOUNTERS];
	unsigned long long v[PK_RTWORK_MAXCOUNTERS];
	size_t n;

	n = pk_rtwork_counters(w->sh->work, names, v);
	return (size_t)w->prom.viol < n ? (double)v[w->prom.viol] : 0;
}

static int
has_monitor(const struct rt_writer *w)
{
	return w->o->monitor_hz > 0;
}

static double
v_stalls(const struct rt_writer *w)
{
	return (double)w->stalls;
}

static double
v_dropped(const struct rt_writer *w)
{
	return (double)pk_rtring_dropped(&w->sh->samples);
}

static int
has_interval(const struct rt_writer *w)
{
	return w->prom.iv_seen;
}

static double
v_lat_p99(const struct rt_writer *w)
{
	return (double)w->prom.iv_lat_p99 / 1e9;
}

static double
v_lat_max(const struct rt_writer *w)
{
	return (double)w->prom.iv_lat_max / 1e9;
}

static double
v_exec_p99(const struct rt_writer *w)
{
	return (double)w->prom.iv_exec_p99 / 1e9;
}

static double
v_up(const struct rt_writer *w)
{
	return w->prom.final ? 0 : 1;
}

static double
v_start(const struct rt_writer *w)
{
	return w->real0;
}

static const struct rt_family families[] = {
	{ "rt_wakeup_latency_seconds", "Wake-up latency of the loop's "
	    "cycles: how late the thread woke after the period boundary.",
	    "seconds", PK_PROM_HISTOGRAM, 9, NULL, NULL, put_lat },
	{ "rt_execution_time_seconds", "Execution time of the workload in "
	    "each cycle.", "seconds", PK_PROM_HISTOGRAM, 9, NULL, NULL,
	    put_exec },
	{ "rt_operations_total", "Cycles run.", NULL, PK_PROM_COUNTER, 0,
	    NULL, v_ops, NULL },
	{ "rt_deadline_misses_total", "Cycles that ended after the start of "
	    "the next period.", NULL, PK_PROM_COUNTER, 0, NULL, v_misses,
	    NULL },
	{ "rt_skipped_periods_total", "Periods skipped after an overrun "
	    "(never run late).", NULL, PK_PROM_COUNTER, 0, NULL, v_skipped,
	    NULL },
	{ "rt_errors_total", "Cycles in which the workload reported an "
	    "error.", NULL, PK_PROM_COUNTER, 0, NULL, v_werrs, NULL },
	{ "rt_safety_violations_total", "Safety constraint violations the "
	    "workload counted.", NULL, PK_PROM_COUNTER, 0, has_viol, v_viol,
	    NULL },
	{ "rt_monitor_stalls_total", "Stalls the watchdog reported (the loop "
	    "overdue by more than a period).", NULL, PK_PROM_COUNTER, 0,
	    has_monitor, v_stalls, NULL },
	{ "rt_dropped_samples_total", "Cycles whose sample was lost because "
	    "the writer fell behind.", NULL, PK_PROM_COUNTER, 0, NULL,
	    v_dropped, NULL },
	{ "rt_wakeup_latency_p99_seconds", "The 99th percentile of the "
	    "wake-up latency in the last report interval.", "seconds",
	    PK_PROM_GAUGE, 9, has_interval, v_lat_p99, NULL },
	{ "rt_wakeup_latency_max_seconds", "The largest wake-up latency in "
	    "the last report interval.", "seconds", PK_PROM_GAUGE, 9,
	    has_interval, v_lat_max, NULL },
	{ "rt_execution_time_p99_seconds", "The 99th percentile of the "
	    "execution time in the last report interval.", "seconds",
	    PK_PROM_GAUGE, 9, has_interval, v_exec_p99, NULL },
	{ "rt_up", "1 while the loop runs, 0 once it has ended.", NULL,
	    PK_PROM_GAUGE, 0, NULL, v_up, NULL },
	{ "rt_start_time_seconds", "When the loop's first period began, in "
	    "seconds since the epoch.", "seconds", PK_PROM_GAUGE, 6, NULL,
	    v_start, NULL },
	{ "rt_loop_info", "The loop's configuration as obtained, in its "
	    "labels; the value is 1.", NULL, PK_PROM_GAUGE, 0, NULL, NULL,
	    put_info },
};
#define NFAMILIES	(sizeof(families) / sizeof(families[0]))
_Static_assert(NFAMILIES <= RT_PROM_MAXFAM, "raise RT_PROM_MAXFAM");

/*
 * Start the outlets asked for, before the loop. Their threads start off
 * the loop's CPU (-a) where the process has another, so that serving and
 * pushing never compete with the loop for it, and with every signal
 * blocked, so that SIGINT and SIGTERM reach the writer.
 */
void
rt_prom_start(struct rt_writer *w)
{
	struct rt_prom *p = &w->prom;
	const struct pk_outlet_opts *oo = &w->o->out;
	const char *names[PK_RTWORK_MAXCOUNTERS];
	unsigned long long v[PK_RTWORK_MAXCOUNTERS];
	sigset_t all, oldmask;
	cpu_set_t old, off;
	char err[512];
	size_t i, n;
	int moved = 0, e;

	p->viol = -1;
	if (oo->textfile == NULL && oo->listen == NULL && oo->push == NULL)
		return;
	p->on = 1;
	pk_prom_init(&p->reg, 0);
	for (i = 0; i < NFAMILIES; i++) {
		p->fam[i] = pk_prom_family(&p->reg, families[i].name,
		    families[i].help, families[i].type, families[i].unit);
		if (p->fam[i] == -1)
			pk_die(PK_EXIT_IO, "cannot register the metric %s",
			    families[i].name);
	}
	pk_jw_init(&p->out, 8192);
	n = pk_rtwork_counters(w->sh->work, names, v);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], "violations") == 0)
			p->viol = (int)i;
	if (w->o->cpu >= 0 && sched_getaffinity(0, sizeof(old), &old) == 0) {
		off = old;
		CPU_CLR(w->o->cpu, &off);
		moved = CPU_COUNT(&off) > 0 &&
		    sched_setaffinity(0, sizeof(off), &off) == 0;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &oldmask);
	e = pk_outlet_start(&p->outlet, oo, err, sizeof(err));
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	if (moved)
		(void)sched_setaffinity(0, sizeof(old), &old);
	if (e == -1)
		pk_die(PK_EXIT_IO, "%s", err);
}

/* Render the exposition from the writer's figures and publish it. */
void
rt_prom_publish(struct rt_writer *w)
{
	struct rt_prom *p = &w->prom;
	const struct rt_family *f;
	size_t i;

	if (!p->on)
		return;
	pk_prom_begin(&p->reg);
	for (i = 0; i < NFAMILIES; i++) {
		f = &families[i];
		if (f->has != NULL && !f->has(w))
			continue;
		if (f->put != NULL)
			f->put(w, p->fam[i]);
		else
			(void)pk_prom_sample(&p->reg, p->fam[i], NULL, 0,
			    f->value(w), f->decimals);
	}
	pk_jw_reset(&p->out);
	pk_prom_render(&p->reg, &p->out);
	if (p->out.oom) {
		if (!p->oom_warned)
			pk_warn("out of memory rendering the metrics: the "
			    "last whole exposition stays published");
		p->oom_warned = 1;
		p->out.oom = 0;
		return;
	}
	pk_outlet_publish(&p->outlet, p->out.buf, p->out.len);
}

/* The final push (waiting at most 5 s for the Pushgateway), then the end. */
void
rt_prom_stop(struct rt_writer *w)
{
	struct rt_prom *p = &w->prom;

	if (!p->on)
		return;
	pk_outlet_stop(&p->outlet, 5);
	pk_prom_release(&p->reg);
	pk_jw_release(&p->out);
	p->on = 0;
}
