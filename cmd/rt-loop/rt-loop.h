/* SPDX-License-Identifier: MIT */
/*
 * rt-loop: a real-time periodic loop that measures itself.
 *
 * Three threads:
 * - the RT thread sleeps to each period boundary with clock_nanosleep
 *   (TIMER_ABSTIME), runs the workload and pushes one sample per period
 *   into a preallocated SPSC ring; after its start it allocates nothing,
 *   prints nothing, takes no lock and makes no system call but
 *   clock_nanosleep (tests/rt-loop.bats proves it with strace);
 * - the main thread is the writer: it drains the ring, keeps the
 *   histograms and writes the records (and the histogram file), and
 *   renders the Prometheus exposition that the outlets' own threads
 *   (--listen, --push) serve;
 * - with --monitor-hz, a watchdog thread that notices a loop overdue by
 *   more than one period past its deadline and hands a stall event to
 *   the writer through a second ring.
 *
 * The units: opts.c (options, --help, --preflight), threads.c (the RT and
 * watchdog threads, their start and signals), writer.c (the records and
 * the histogram file), prom.c (the Prometheus exposition the writer
 * renders after each interval and hands to the outlets), main.c (setup
 * and teardown).
 */
#ifndef RT_LOOP_H
#define RT_LOOP_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "pk_hogs.h"
#include "pk_outlet.h"
#include "pk_prom.h"
#include "pk_rtring.h"
#include "pk_rtwork.h"
#include "pk_stats.h"
#include "pk_time.h"

#define RT_NS		1000000000LL

/*
 * The threads block every signal but RT_WAKE_SIG, which the writer sends
 * the RT thread to cut a long sleep short when the run is stopped (its
 * handler does nothing; the sleep returns EINTR).
 */
#define RT_WAKE_SIG	(SIGRTMIN + 1)

/* The pass/fail gates (gates.c). */
enum { RT_GATE_LATENCY, RT_GATE_EXEC, RT_GATE_LOOP, RT_GATE_JITTER,
	RT_GATE_MON_LATENCY, RT_GATE_MON_EXEC, RT_GATE_MON_LOOP, RT_GATE_N };
enum { RT_STAT_P50, RT_STAT_P99, RT_STAT_P999, RT_STAT_MAX, RT_STAT_MEAN,
	RT_STAT_N };

struct rt_gate {
	int on;
	int stat;		/* RT_STAT_* */
	double limit;		/* microseconds */
};

struct rt_opts {
	double hz;
	int64_t period_ns;
	int64_t duration_ns;	/* 0: not set */
	uint64_t loops;		/* 0: not set */
	int prio;		/* 0: SCHED_OTHER */
	int cpu;		/* -1: no affinity */
	int mlock;
	const char *workload;
	const char *plugin;
	int64_t spin_ns;
	int64_t report_ns;
	const char *histfile;
	unsigned hist_us;
	double monitor_hz;
	const char *monitor_workload;	/* run by the monitor each period */
	long pm_qos;		/* -1: leave alone */
	long timer_slack_ns;
	int unbuffered;
	int preflight;
	const char *sysroot;
	struct pk_outlet_opts out;	/* --listen, --push, --textfile */
	struct rt_gate gates[RT_GATE_N];
	int miss_gate, miss_pct;	/* --max-misses N or P% */
	double miss_limit;
	int mon_miss_gate, mon_miss_pct;	/* --max-monitor-misses */
	double mon_miss_limit;
	unsigned long stress;		/* --stress Nx; 0: none */
	int stress_mem;
	int64_t phase_ns;		/* --stress-phase */
};

/* One period, as the RT thread hands it over. */
struct rt_sample {
	uint64_t tick;		/* executed cycles before this one */
	int64_t target_ns;	/* the period boundary it woke for */
	int64_t lat_ns;		/* wake-up latency */
	int64_t exec_ns;	/* workload execution time */
	uint32_t skipped;	/* periods skipped after this one (overrun) */
	uint32_t flags;
};

#define RT_MISS		1u	/* finished after its deadline */
#define RT_WERR		2u	/* the workload reported an error */

/* A watchdog event. */
struct rt_event {
	int kind;		/* 1 stall, 2 stall over */
	uint64_t tick;
	int64_t at_ns;		/* when it was noticed */
	int64_t ns;		/* overdue (stall) or stalled (over) time */
};

struct rt_shared {
	const struct rt_opts *o;
	struct pk_rtwork *work;
	struct pk_rtwork *mwork;	/* the monitor's workload, or NULL */
	struct pk_rtring samples;
	struct pk_rtring msamples;	/* the monitor's periods, with mwork */
	struct pk_rtring events;
	atomic_int stop;	/* writer -> threads */
	atomic_int ready;	/* RT thread -> writer: loop started */
	atomic_int done;	/* RT thread -> writer: loop over */
	atomic_llong deadline_ns;	/* end of the RT thread's current period */
	atomic_ullong ticks;	/* cycles executed */
	atomic_ullong skipped;	/* periods skipped */
	int64_t t0_ns;		/* the start of period 0, set before ready */
	int64_t end_ns;		/* when the loop ended, set before done */
	int rt_errno;		/* clock_nanosleep failure, set before done */
	int slack_errno;	/* PR_SET_TIMERSLACK failure */
	pid_t rt_tid;		/* the RT thread's, set before ready */
	/* Its minor and major faults at the end, set before done. */
	unsigned long long end_flt[2];
	int end_flt_ok;
};

/* Statistics of a span of periods (one report interval, or the run). */
struct rt_span {
	struct pk_hist lat, exec, loop;
	/*
	 * The RT thread's page faults in the span, read from /proc by the
	 * writer when it writes the span (flt: they could be read).
	 */
	unsigned long long minflt, majflt;
	int flt;
	struct pk_welford wlat, wexec, wloop;	/* for the standard deviations */
	/* Period-to-period jitter: |latency - the previous cycle's|, ns. */
	double p2p_sum, p2p_max;
	int64_t prev_lat;
	unsigned long long ticks, misses, skipped, werrs;
};

/*
 * The cyclictest-format histogram: whole microseconds, overflows; one
 * column per measured quantity (RT_CT_LAT, RT_CT_EXEC), as cyclictest
 * writes one per thread.
 */
enum { RT_CT_LAT, RT_CT_EXEC, RT_CT_N };

struct rt_ctcol {
	unsigned long long *counts;
	unsigned long long *outliers;	/* cycle numbers of overflows */
	unsigned long long noutliers, overflows;
	unsigned long long min, max, sum;
};

struct rt_cthist {
	struct rt_ctcol col[RT_CT_N];
	unsigned long long cycles;
	unsigned n;
};

/*
 * The Prometheus exposition (prom.c): the writer's own figures, rendered
 * into one reused buffer and handed to the outlets, whose threads serve
 * and push it; nothing of it is shared with the RT thread.
 */
#define RT_PROM_MAXFAM	24
#define RT_PROM_MAXINFO	12

struct rt_prom {
	int on;				/* an outlet was asked for */
	struct pk_prom reg;
	struct pk_jw out;
	struct pk_outlet outlet;
	int fam[RT_PROM_MAXFAM];	/* by row of the family table */
	struct pk_prom_label info[RT_PROM_MAXINFO];
	unsigned ninfo;
	char freq[32], prio[16], cpu[16], slack[24], spin[24], mon[32];
	int viol;			/* the workload counter "violations", or -1 */
	/* The last interval's figures, ns (kept for the final exposition). */
	unsigned long long iv_lat_p99, iv_exec_p99, iv_lat_max;
	int iv_seen;			/* an interval has been reported */
	int final;			/* the loop is over */
	int oom_warned;
};

/*
 * --stress (stress.c): the hogs run in every other phase of the loop's
 * time, quiet first. A cycle counts for its phase when it was due at
 * least settle after the switch (the hogs seen stopped, or continued);
 * each phase instance is a block, whose p99s give the ratios' intervals.
 */
#define RT_STRESS_BLOCKS	4096	/* blocks kept per phase */

struct rt_stress {
	struct pk_hogs hogs;
	size_t ncpu, nmem;
	int64_t settle_ns;
	int64_t idx;			/* the phase the hogs are in, -1 none */
	int64_t sw_idx[2], sw_ns[2];	/* the last two switches, by idx & 1 */
	struct rt_span ph[2];		/* quiet, loaded */
	struct rt_span blk;		/* the phase instance at hand */
	int64_t blk_idx;		/* its phase index, -1 none */
	double *bp99[2][3];		/* blocks' p99 of lat, exec, loop, ns */
	size_t nb[2];
	unsigned long long unattributed;	/* cycles in no phase's span */
	unsigned long long flt_sw[2];	/* the RT thread's faults at the switch */
};

struct rt_writer {
	struct rt_shared *sh;
	const struct rt_opts *o;
	struct rt_span iv, total;
	struct rt_span mon_iv, mon_total;	/* the monitor's, with mwork */
	struct rt_cthist ct;
	int64_t iv_index;
	int64_t last_ns;	/* the end of the last period accounted */
	double real0;		/* wall clock at t0 */
	/* The RT thread's page fault counts at the start and the interval's. */
	unsigned long long flt0[2], flt_iv[2];
	int flt_ok;
	unsigned long dropped_seen, mdropped_seen;
	unsigned long long stalls;
	json_t *warnings;
	const char *policy;
	int prio;
	int mlocked;
	int qos_fd;		/* /dev/cpu_dma_latency held open, or -1 */
	struct rt_prom prom;
	struct rt_stress st;
};

static inline int64_t
rt_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return pk_ts_to_ns(&ts);
}

/* opts.c */
void rt_parse_opts(int argc, char **argv, struct rt_opts *o);
int rt_preflight(const struct rt_opts *o);

/* threads.c */
void rt_install_signals(void);
void rt_start_threads(struct rt_writer *w, struct rt_opts *o, pthread_t *rt,
    pthread_t *wd);

/* writer.c */
int rt_span_init(struct rt_span *sp);
void rt_span_release(struct rt_span *sp);
void rt_wait_ready(struct rt_writer *w);
int rt_write_records(struct rt_writer *w, pthread_t rt);
void rt_drain(struct rt_writer *w);
void rt_emit_interval(struct rt_writer *w);
int rt_summary_record(struct rt_writer *w, int interrupted);
int rt_write_cthist(const struct rt_writer *w);
void rt_cthist_init(struct rt_cthist *c, unsigned n);
void rt_cthist_release(struct rt_cthist *c);

void rt_span_reset(struct rt_span *sp);
void rt_span_add(struct rt_span *sp, const struct rt_sample *s);
void rt_span_fill(json_t *r, const struct rt_span *sp);
/* The RT thread's minor and major faults so far; -1 if unreadable. */
int rt_faults_read(const struct rt_writer *w, unsigned long long f[2]);

/* stress.c */
void rt_stress_start(struct rt_writer *w);
/* Switch the hogs at a phase boundary; ns to the next one. */
int64_t rt_stress_tick(struct rt_writer *w);
void rt_stress_account(struct rt_writer *w, const struct rt_sample *s);
void rt_stress_stop(struct rt_writer *w);	/* the hogs, at the loop's end */
void rt_stress_release(struct rt_writer *w);
/* The summary's "stress"; returns the loaded phase's span. */
const struct rt_span *rt_stress_json(struct rt_writer *w, json_t *r);

/* gates.c */
struct rt_gate_type {
	const char *name;	/* its key in the summary's "gates" */
	const char *opt;
	int monitor;		/* judges the monitor's span, not the loop's */
	double (*value)(const struct rt_span *sp, int stat);	/* ns */
};

extern const struct rt_gate_type rt_gate_types[RT_GATE_N];
void rt_gate_parse_time(struct rt_opts *o, int gate, const char *arg);
void rt_gate_parse_misses(struct rt_opts *o, const char *arg);
int rt_gates_any(const struct rt_opts *o);
void rt_gate_parse_monitor_misses(struct rt_opts *o, const char *arg);
/* The loop's span sp (its ticks, skipped) and the monitor's, or NULL. */
int rt_gates_judge(const struct rt_opts *o, const struct rt_span *sp,
    unsigned long long ticks, unsigned long long skipped,
    const struct rt_span *mon, json_t *r);

/* prom.c */
void rt_prom_start(struct rt_writer *w);
void rt_prom_publish(struct rt_writer *w);
void rt_prom_stop(struct rt_writer *w);

#endif
