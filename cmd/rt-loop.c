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
 *   histograms and writes the records (and the histogram file);
 * - with --monitor-hz, a watchdog thread that notices a loop overdue by
 *   more than one period past its deadline and hands a stall event to
 *   the writer through a second ring.
 */
#include <errno.h>
#include <alloca.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_rtcheck.h"
#include "pk_rtring.h"
#include "pk_rtwork.h"
#include "pk_stats.h"
#include "pk_time.h"

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif

#define RT_STACK_SIZE	(512 * 1024)
#define RT_PREFAULT	(256 * 1024)
#define RT_MAXWARN	8
#define RT_NS		1000000000LL

static const char usage_str[] =
    "usage: rt-loop [-hu] [-a cpu] [-D duration | -l loops] [-f hz] "
    "[-p prio] [--mlock]\n"
    "               [--workload name[:args] | --plugin lib.so[:args]] "
    "[--spin us]\n"
    "               [--report-interval time] [--histogram file] "
    "[--histogram-us n]\n"
    "               [--monitor-hz hz] [--pm-qos us] [--timer-slack ns]\n"
    "       rt-loop --preflight [--sysroot dir]\n";

enum {
	OPT_MLOCK = 0x100,
	OPT_WORKLOAD,
	OPT_PLUGIN,
	OPT_SPIN,
	OPT_REPORT,
	OPT_HIST,
	OPT_HIST_US,
	OPT_MONITOR,
	OPT_PMQOS,
	OPT_SLACK,
	OPT_PREFLIGHT,
	OPT_SYSROOT
};

static const struct option longopts[] = {
	{ "affinity", required_argument, NULL, 'a' },
	{ "duration", required_argument, NULL, 'D' },
	{ "freq", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "loops", required_argument, NULL, 'l' },
	{ "priority", required_argument, NULL, 'p' },
	{ "unbuffered", no_argument, NULL, 'u' },
	{ "mlock", no_argument, NULL, OPT_MLOCK },
	{ "workload", required_argument, NULL, OPT_WORKLOAD },
	{ "plugin", required_argument, NULL, OPT_PLUGIN },
	{ "spin", required_argument, NULL, OPT_SPIN },
	{ "report-interval", required_argument, NULL, OPT_REPORT },
	{ "histogram", required_argument, NULL, OPT_HIST },
	{ "histogram-us", required_argument, NULL, OPT_HIST_US },
	{ "monitor-hz", required_argument, NULL, OPT_MONITOR },
	{ "pm-qos", required_argument, NULL, OPT_PMQOS },
	{ "timer-slack", required_argument, NULL, OPT_SLACK },
	{ "preflight", no_argument, NULL, OPT_PREFLIGHT },
	{ "sysroot", required_argument, NULL, OPT_SYSROOT },
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
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
	long pm_qos;		/* -1: leave alone */
	long timer_slack_ns;
	int unbuffered;
	int preflight;
	const char *sysroot;
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
	struct pk_rtring samples;
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
};

/* Statistics of a span of periods (one report interval, or the run). */
struct rt_span {
	struct pk_hist lat, exec, loop;
	unsigned long long ticks, misses, skipped, werrs;
};

/* The cyclictest-format histogram: whole microseconds, overflows. */
struct rt_cthist {
	unsigned long long *counts;
	unsigned long long *outliers;	/* cycle numbers of overflows */
	unsigned long long noutliers, overflows, cycles;
	unsigned long long min, max, sum;
	unsigned n;
};

struct rt_writer {
	struct rt_shared *sh;
	const struct rt_opts *o;
	struct rt_span iv, total;
	struct rt_cthist ct;
	int64_t iv_index;
	int64_t last_ns;	/* the end of the last period accounted */
	double real0;		/* wall clock at t0 */
	unsigned long dropped_seen;
	unsigned long long stalls;
	json_t *warnings;
	const char *policy;
	int prio;
	int mlocked;
	int qos_fd;		/* /dev/cpu_dma_latency held open, or -1 */
};

static void
help(void)
{
	pk_help(usage_str,
	    "  -f, --freq HZ             loop frequency (default 1000)\n"
	    "  -D, --duration TIME       run for TIME (\"10s\", \"5m\")\n"
	    "  -l, --loops N             run N cycles (default: until SIGINT)\n"
	    "  -p, --priority PRIO       SCHED_FIFO priority 1-99 (default 0: "
	    "SCHED_OTHER)\n"
	    "  -a, --affinity CPU        pin the loop to CPU\n"
	    "      --mlock               mlockall(MCL_CURRENT|MCL_FUTURE)\n"
	    "      --workload NAME[:ARGS] none, spin:US, mlp:IN,HIDDEN,OUT, "
	    "constraints:N\n"
	    "      --plugin LIB.so[:ARGS] run rtloop_step() of a plugin\n"
	    "      --spin US             sleep until US before the deadline, "
	    "then spin\n"
	    "      --report-interval T   a loop record every T (default 1s)\n"
	    "      --histogram FILE      write a cyclictest-format histogram\n"
	    "      --histogram-us N      its range in microseconds (default "
	    "1000)\n"
	    "      --monitor-hz HZ       watchdog thread reporting stalls\n"
	    "      --pm-qos US           hold /dev/cpu_dma_latency at US\n"
	    "      --timer-slack NS      the loop's timer slack (default 1)\n"
	    "  -u, --unbuffered          flush after every record\n"
	    "      --preflight           report real-time readiness as JSON\n"
	    "      --sysroot DIR         read /proc and /sys below DIR "
	    "(preflight)\n"
	    "  -h, --help                this help\n"
	    "      --version             print the version\n");
}

static void
parse_opts(int argc, char **argv, struct rt_opts *o)
{
	int c, has_d = 0, has_l = 0;
	double secs;

	memset(o, 0, sizeof(*o));
	o->hz = 1000;
	o->cpu = -1;
	o->workload = "none";
	o->report_ns = RT_NS;
	o->hist_us = 1000;
	o->pm_qos = -1;
	o->timer_slack_ns = 1;
	while ((c = getopt_long(argc, argv, "a:D:f:hl:p:u", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'a':
			o->cpu = (int)pk_opt_u64(optarg, 0, CPU_SETSIZE - 1,
			    "--affinity");
			break;
		case 'D':
			secs = pk_opt_duration(optarg, 1e-6, 1e7, "--duration");
			o->duration_ns = (int64_t)(secs * 1e9 + 0.5);
			has_d = 1;
			break;
		case 'f':
			o->hz = pk_opt_double(optarg, 0.01, 100000, "--freq");
			break;
		case 'h':
			help();
			break;
		case 'l':
			o->loops = pk_opt_u64(optarg, 1, UINT64_MAX / 2, "--loops");
			has_l = 1;
			break;
		case 'p':
			o->prio = (int)pk_opt_u64(optarg, 0, 99, "--priority");
			break;
		case 'u':
			o->unbuffered = 1;
			break;
		case OPT_MLOCK:
			o->mlock = 1;
			break;
		case OPT_WORKLOAD:
			o->workload = optarg;
			break;
		case OPT_PLUGIN:
			o->plugin = optarg;
			break;
		case OPT_SPIN:
			o->spin_ns = (int64_t)pk_opt_u64(optarg, 1, 1000000,
			    "--spin") * 1000;
			break;
		case OPT_REPORT:
			secs = pk_opt_duration(optarg, 0.001, 86400,
			    "--report-interval");
			o->report_ns = (int64_t)(secs * 1e9 + 0.5);
			break;
		case OPT_HIST:
			o->histfile = optarg;
			break;
		case OPT_HIST_US:
			o->hist_us = (unsigned)pk_opt_u64(optarg, 1, 1000000,
			    "--histogram-us");
			break;
		case OPT_MONITOR:
			o->monitor_hz = pk_opt_double(optarg, 1, 100000,
			    "--monitor-hz");
			break;
		case OPT_PMQOS:
			o->pm_qos = (long)pk_opt_u64(optarg, 0, 2000000000,
			    "--pm-qos");
			break;
		case OPT_SLACK:
			o->timer_slack_ns = (long)pk_opt_u64(optarg, 1,
			    1000000000, "--timer-slack");
			break;
		case OPT_PREFLIGHT:
			o->preflight = 1;
			break;
		case OPT_SYSROOT:
			o->sysroot = optarg;
			break;
		case PK_OPT_VERSION:
			pk_print_version();
			pk_close_stdout();
			exit(PK_EXIT_OK);
		case PK_OPT_LIST_OPTIONS:
			pk_list_options(longopts);
			pk_close_stdout();
			exit(PK_EXIT_OK);
		default:
			pk_usage(usage_str);
		}
	}
	if (optind != argc) {
		pk_warn("unexpected operand '%s'", argv[optind]);
		pk_usage(usage_str);
	}
	if (has_d && has_l) {
		pk_warn("-D and -l exclude each other");
		pk_usage(usage_str);
	}
	if (o->plugin != NULL && strcmp(o->workload, "none") != 0) {
		pk_warn("--workload and --plugin exclude each other");
		pk_usage(usage_str);
	}
	if (o->sysroot != NULL && !o->preflight) {
		pk_warn("--sysroot goes with --preflight");
		pk_usage(usage_str);
	}
	o->period_ns = (int64_t)(1e9 / o->hz + 0.5);
	if (o->spin_ns >= o->period_ns) {
		pk_warn("--spin must be shorter than the period (%lld us)",
		    (long long)(o->period_ns / 1000));
		pk_usage(usage_str);
	}
}

static int
preflight(const struct rt_opts *o)
{
	json_t *rep;
	int ready;

	rep = pk_rtcheck_report(o->sysroot);
	if (rep == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	json_object_set_new(rep, "ts", json_real(pk_now()));
	json_object_set_new(rep, "host", json_string(pk_hostname()));
	ready = json_is_true(json_object_get(rep, "ready"));
	pk_emit_json(rep);
	json_decref(rep);
	pk_close_stdout();
	return ready ? PK_EXIT_OK : PK_EXIT_NEGATIVE;
}

static inline int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return pk_ts_to_ns(&ts);
}

/*
 * Sleep until an absolute monotonic time: 0, the error number of
 * clock_nanosleep (its return value, not errno), or -1 if the sleep was
 * interrupted because *stop was set.
 */
static int
sleep_until(int64_t ns, atomic_int *stop)
{
	struct timespec ts = pk_ns_to_ts(ns);
	int e;

	while ((e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
	    NULL)) == EINTR)
		if (atomic_load_explicit(stop, memory_order_relaxed))
			return -1;
	return e;
}

static void
wake_noop(int sig)
{
	(void)sig;
}

/*
 * The threads block every signal but RT_WAKE_SIG, which the writer sends
 * the RT thread to cut a long sleep short when the run is stopped (its
 * handler does nothing; the sleep returns EINTR).
 */
#define RT_WAKE_SIG	(SIGRTMIN + 1)

static void
block_signals(void)
{
	sigset_t all;

	sigfillset(&all);
	sigdelset(&all, RT_WAKE_SIG);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
}

/*
 * Touch the stack the loop will use, so that it never faults on it: up
 * to RT_PREFAULT below this frame, but never closer than 64 KiB to the
 * end of the stack (sanitizers keep large thread state on it).
 */
static void __attribute__((noinline))
prefault_stack(void)
{
	volatile unsigned char *buf;
	pthread_attr_t attr;
	size_t len = RT_PREFAULT, size, room, i;
	void *lo;
	char here;

	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
			room = (size_t)(&here - (char *)lo);
			room = room > 65536 ? room - 65536 : 0;
			if (room < len)
				len = room;
		}
		pthread_attr_destroy(&attr);
	}
	if (len == 0)
		return;
	buf = alloca(len);
	for (i = 0; i < len; i += 4096)
		buf[i] = 0;
}

/*
 * The real-time thread. The overrun policy: a cycle that ends after the
 * start of the next period has missed its deadline; the periods whose
 * start has passed are skipped (counted, never run late) and the loop
 * resumes at the next period boundary, keeping its phase.
 */
static void *
rt_main(void *arg)
{
	struct rt_shared *sh = arg;
	const struct rt_opts *o = sh->o;
	const int64_t P = o->period_ns;
	int64_t next, end = INT64_MAX, wake, done_at, nb;
	uint64_t tick = 0, k = 0, skip, skipped = 0, left;
	struct rt_sample s;
	int e = 0;

	block_signals();
	if (prctl(PR_SET_TIMERSLACK, (unsigned long)o->timer_slack_ns, 0, 0,
	    0) == -1)
		sh->slack_errno = errno;
	prefault_stack();
	/* The last system call before the loop: a marker for the tests. */
	prctl(PR_SET_NAME, "rt-loop-rt", 0, 0, 0);

	sh->t0_ns = mono_ns() + P;
	if (o->duration_ns > 0)
		end = sh->t0_ns + o->duration_ns;
	atomic_store_explicit(&sh->deadline_ns, sh->t0_ns + P,
	    memory_order_relaxed);
	atomic_store_explicit(&sh->ready, 1, memory_order_release);
	for (;;) {
		next = sh->t0_ns + (int64_t)k * P;
		if ((o->loops > 0 && tick >= o->loops) || next >= end ||
		    atomic_load_explicit(&sh->stop, memory_order_relaxed))
			break;
		if (o->spin_ns > 0) {
			e = sleep_until(next - o->spin_ns, &sh->stop);
			while (e == 0 && mono_ns() < next)
				;
		} else {
			e = sleep_until(next, &sh->stop);
		}
		if (e == -1) {
			e = 0;
			break;
		}
		if (e != 0)
			break;
		wake = mono_ns();
		s.flags = pk_rtwork_step(sh->work, tick) == 0 ? 0 : RT_WERR;
		done_at = mono_ns();
		s.tick = tick;
		s.target_ns = next;
		s.lat_ns = wake - next;
		s.exec_ns = done_at - wake;
		skip = 0;
		nb = next + P;
		if (done_at > nb) {
			s.flags |= RT_MISS;
			skip = (uint64_t)((done_at - nb) / P) + 1;
			/* Only periods the run would have had are skipped. */
			if (o->loops > 0 && tick + 1 >= o->loops)
				skip = 0;
			if (end != INT64_MAX) {
				left = end > nb ? (uint64_t)((end - nb + P - 1) /
				    P) : 0;
				if (left < skip)
					skip = left;
			}
		}
		s.skipped = (uint32_t)(skip > UINT32_MAX ? UINT32_MAX : skip);
		pk_rtring_push(&sh->samples, &s);
		tick++;
		skipped += skip;
		k += 1 + skip;
		atomic_store_explicit(&sh->ticks, tick, memory_order_relaxed);
		atomic_store_explicit(&sh->skipped, skipped,
		    memory_order_relaxed);
		atomic_store_explicit(&sh->deadline_ns,
		    sh->t0_ns + (int64_t)(k + 1) * P, memory_order_release);
	}
	/* The loop is over: a second marker. */
	prctl(PR_SET_NAME, "rt-loop-end", 0, 0, 0);
	sh->end_ns = mono_ns();
	sh->rt_errno = e;
	atomic_store_explicit(&sh->done, 1, memory_order_release);
	return NULL;
}

/* The watchdog: a cycle overdue by more than one period past its deadline. */
static void *
wd_main(void *arg)
{
	struct rt_shared *sh = arg;
	const int64_t P = sh->o->period_ns;
	const int64_t wp = (int64_t)(1e9 / sh->o->monitor_hz + 0.5);
	uint64_t stalled_at = 0, ticks;
	int64_t next, now, dl, since = 0;
	struct rt_event ev;
	int stalled = 0;

	block_signals();
	next = mono_ns();
	while (!atomic_load_explicit(&sh->done, memory_order_acquire) &&
	    !atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		next += wp;
		if (sleep_until(next, &sh->stop) != 0)
			break;
		if (!atomic_load_explicit(&sh->ready, memory_order_acquire))
			continue;
		dl = atomic_load_explicit(&sh->deadline_ns,
		    memory_order_acquire);
		ticks = atomic_load_explicit(&sh->ticks, memory_order_relaxed);
		now = mono_ns();
		if (!stalled && now > dl + P) {
			stalled = 1;
			stalled_at = ticks;
			since = dl;
			ev.kind = 1;
			ev.tick = ticks;
			ev.at_ns = now;
			ev.ns = now - dl;
			pk_rtring_push(&sh->events, &ev);
		} else if (stalled && ticks != stalled_at) {
			stalled = 0;
			ev.kind = 2;
			ev.tick = stalled_at;
			ev.at_ns = now;
			ev.ns = now - since;
			pk_rtring_push(&sh->events, &ev);
		}
	}
	return NULL;
}

static int
span_init(struct rt_span *sp)
{
	memset(sp, 0, sizeof(*sp));
	/* ns, within 1/128 relative error, up to a minute. */
	if (pk_hist_init(&sp->lat, 7, 60 * RT_NS) == -1 ||
	    pk_hist_init(&sp->exec, 7, 60 * RT_NS) == -1 ||
	    pk_hist_init(&sp->loop, 7, 60 * RT_NS) == -1)
		return -1;
	return 0;
}

static void
span_reset(struct rt_span *sp)
{
	pk_hist_reset(&sp->lat);
	pk_hist_reset(&sp->exec);
	pk_hist_reset(&sp->loop);
	sp->ticks = sp->misses = sp->skipped = sp->werrs = 0;
}

static void
span_release(struct rt_span *sp)
{
	pk_hist_release(&sp->lat);
	pk_hist_release(&sp->exec);
	pk_hist_release(&sp->loop);
}

static void
span_add(struct rt_span *sp, const struct rt_sample *s)
{
	pk_hist_add(&sp->lat, (unsigned long long)s->lat_ns);
	pk_hist_add(&sp->exec, (unsigned long long)s->exec_ns);
	pk_hist_add(&sp->loop, (unsigned long long)(s->lat_ns + s->exec_ns));
	sp->ticks++;
	sp->misses += (s->flags & RT_MISS) != 0;
	sp->werrs += (s->flags & RT_WERR) != 0;
	sp->skipped += s->skipped;
}

static json_t *
hist_json(const struct pk_hist *h)
{
	return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}",
	    "min", (double)h->min / 1e3,
	    "mean", h->sum / (double)h->total / 1e3,
	    "p50", (double)pk_hist_quantile(h, 0.5) / 1e3,
	    "p99", (double)pk_hist_quantile(h, 0.99) / 1e3,
	    "p999", (double)pk_hist_quantile(h, 0.999) / 1e3,
	    "max", (double)h->max / 1e3);
}

static json_t *
record(const char *event, double ts)
{
	return json_pack("{s:s,s:f,s:s,s:s}", "type", "loop", "ts", ts,
	    "host", pk_hostname(), "event", event);
}

static void
span_fill(json_t *r, const struct rt_span *sp)
{
	json_object_set_new(r, "ticks", json_integer((json_int_t)sp->ticks));
	json_object_set_new(r, "misses", json_integer((json_int_t)sp->misses));
	json_object_set_new(r, "skipped",
	    json_integer((json_int_t)sp->skipped));
	json_object_set_new(r, "work_errors",
	    json_integer((json_int_t)sp->werrs));
	if (sp->ticks == 0)
		return;
	json_object_set_new(r, "lat_us", hist_json(&sp->lat));
	json_object_set_new(r, "exec_us", hist_json(&sp->exec));
	json_object_set_new(r, "loop_us", hist_json(&sp->loop));
	json_object_set_new(r, "jitter_us",
	    json_real((double)(sp->lat.max - sp->lat.min) / 1e3));
}

static void
emit(json_t *r)
{
	if (r == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	pk_emit_json(r);
	json_decref(r);
}

static void
emit_interval(struct rt_writer *w)
{
	const struct rt_opts *o = w->o;
	unsigned long d;
	double end;
	json_t *r;

	if (w->iv.ticks == 0)
		return;
	/* The interval's end, or the end of its last period if it is cut short. */
	end = (double)((w->iv_index + 1) * o->report_ns);
	if ((double)w->last_ns < end)
		end = (double)w->last_ns;
	end = w->real0 + end / 1e9;
	r = record("interval", end);
	json_object_set_new(r, "interval_s",
	    json_real((double)o->report_ns / 1e9));
	json_object_set_new(r, "seq", json_integer((json_int_t)w->iv_index));
	span_fill(r, &w->iv);
	d = pk_rtring_dropped(&w->sh->samples);
	json_object_set_new(r, "dropped",
	    json_integer((json_int_t)(d - w->dropped_seen)));
	w->dropped_seen = d;
	emit(r);
	pk_out_idle();
	span_reset(&w->iv);
}

static void
cthist_add(struct rt_cthist *c, int64_t lat_ns)
{
	unsigned long long us = (unsigned long long)(lat_ns / 1000);

	if (us < c->min)
		c->min = us;
	if (us > c->max)
		c->max = us;
	c->sum += us;
	if (us >= c->n) {
		if (c->noutliers < c->n)
			c->outliers[c->noutliers++] = c->cycles;
		c->overflows++;
	} else {
		c->counts[us]++;
	}
	c->cycles++;
}

static void
account(struct rt_writer *w, const struct rt_sample *s)
{
	int64_t idx = (s->target_ns - w->sh->t0_ns) / w->o->report_ns;

	if (idx != w->iv_index) {
		emit_interval(w);
		w->iv_index = idx;
	}
	span_add(&w->iv, s);
	span_add(&w->total, s);
	w->last_ns = s->target_ns - w->sh->t0_ns + w->o->period_ns;
	if (w->o->histfile != NULL)
		cthist_add(&w->ct, s->lat_ns);
}

static void
drain(struct rt_writer *w)
{
	struct rt_sample s;
	struct rt_event ev;
	json_t *r;
	double ts;

	while (pk_rtring_pop(&w->sh->samples, &s) == 0)
		account(w, &s);
	while (pk_rtring_pop(&w->sh->events, &ev) == 0) {
		ts = w->real0 + (double)(ev.at_ns - w->sh->t0_ns) / 1e9;
		if (ev.kind == 1) {
			w->stalls++;
			r = record("stall", ts);
			json_object_set_new(r, "tick",
			    json_integer((json_int_t)ev.tick));
			json_object_set_new(r, "overdue_ms",
			    json_real((double)ev.ns / 1e6));
		} else {
			r = record("stall_end", ts);
			json_object_set_new(r, "tick",
			    json_integer((json_int_t)ev.tick));
			json_object_set_new(r, "stalled_ms",
			    json_real((double)ev.ns / 1e6));
		}
		emit(r);
		pk_out_idle();
	}
}

/* The histogram file, in the format of cyclictest -h (one thread). */
static int
write_cthist(const struct rt_writer *w)
{
	const struct rt_cthist *c = &w->ct;
	unsigned long long total = 0, i;
	size_t cap, len = 0;
	char *buf;
	int r;

	cap = (size_t)c->n * 16 + (size_t)c->noutliers * 24 + 512;
	buf = malloc(cap);
	if (buf == NULL)
		return -1;
#define PUT(...) len += (size_t)snprintf(buf + len, cap - len, __VA_ARGS__)
	PUT("# Histogram\n");
	for (i = 0; i < c->n; i++) {
		PUT("%06llu %06llu\n", i, c->counts[i]);
		total += c->counts[i];
	}
	PUT("# Total: %09llu\n", total);
	PUT("# Min Latencies: %05llu\n", c->cycles ? c->min : 0);
	PUT("# Avg Latencies: %05llu\n", c->cycles ? c->sum / c->cycles : 0);
	PUT("# Max Latencies: %05llu\n", c->max);
	PUT("# Histogram Overflows: %05llu\n", c->overflows);
	PUT("# Histogram Overflow at cycle number:\n");
	PUT("# Thread 0:");
	for (i = 0; i < c->noutliers; i++)
		PUT(" %05llu", c->outliers[i]);
	if (c->noutliers < c->overflows)
		PUT(" # %05llu others", c->overflows - c->noutliers);
	PUT("\n");
#undef PUT
	r = pk_atomic_write(w->o->histfile, buf, len, 0644);
	free(buf);
	return r;
}

/* Set up the real-time environment the loop asks for; warnings, not errors. */
static int
rt_environment(const struct rt_opts *o, json_t *warnings, int *mlocked)
{
	int32_t qos;
	int fd = -1;

	if (o->mlock) {
#ifdef RT_ASAN
		(void)mlocked;
		json_array_append_new(warnings, json_string("mlockall skipped: "
		    "built with AddressSanitizer, whose shadow memory cannot "
		    "be locked"));
#else
		if (mlockall(MCL_CURRENT | MCL_FUTURE) == -1)
			json_array_append_new(warnings, json_sprintf(
			    "mlockall failed: %s", strerror(errno)));
		else
			*mlocked = 1;
#endif
	}
	if (o->pm_qos >= 0) {
		qos = (int32_t)o->pm_qos;
		fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
		if (fd == -1 || write(fd, &qos, sizeof(qos)) != sizeof(qos)) {
			json_array_append_new(warnings, json_sprintf(
			    "cannot set /dev/cpu_dma_latency: %s",
			    strerror(errno)));
			if (fd != -1)
				close(fd);
			fd = -1;
		}
	}
	return fd;
}

static int
start_thread(pthread_t *t, void *(*fn)(void *), void *arg, int prio, int cpu,
    int *got_prio)
{
	struct sched_param sp;
	pthread_attr_t attr;
	cpu_set_t set;
	int e;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, RT_STACK_SIZE);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (prio > 0) {
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		memset(&sp, 0, sizeof(sp));
		sp.sched_priority = prio;
		pthread_attr_setschedparam(&attr, &sp);
	}
	e = pthread_create(t, &attr, fn, arg);
	if (e == EPERM && prio > 0) {
		/* No privilege for SCHED_FIFO: run as SCHED_OTHER. */
		pthread_attr_setinheritsched(&attr, PTHREAD_INHERIT_SCHED);
		e = pthread_create(t, &attr, fn, arg);
		prio = 0;
	}
	pthread_attr_destroy(&attr);
	*got_prio = prio;
	return e;
}

static void
start_record(struct rt_writer *w)
{
	const struct rt_opts *o = w->o;
	json_t *r;

	r = record("start", w->real0 - (double)o->period_ns / 1e9);
	json_object_set_new(r, "freq_hz", json_real(o->hz));
	json_object_set_new(r, "period_us",
	    json_real((double)o->period_ns / 1e3));
	json_object_set_new(r, "workload", json_string(o->plugin != NULL ?
	    "plugin" : o->workload));
	if (o->plugin != NULL)
		json_object_set_new(r, "plugin", json_string(o->plugin));
	if (o->loops > 0)
		json_object_set_new(r, "loops", json_integer((json_int_t)o->loops));
	if (o->duration_ns > 0)
		json_object_set_new(r, "duration_s",
		    json_real((double)o->duration_ns / 1e9));
	json_object_set_new(r, "policy", json_string(w->policy));
	json_object_set_new(r, "priority", json_integer(w->prio));
	if (o->cpu >= 0)
		json_object_set_new(r, "cpu", json_integer(o->cpu));
	json_object_set_new(r, "mlock", json_boolean(w->mlocked));
	if (w->qos_fd != -1)
		json_object_set_new(r, "pm_qos_us", json_integer(o->pm_qos));
	json_object_set_new(r, "timer_slack_ns",
	    json_integer(o->timer_slack_ns));
	if (o->spin_ns > 0)
		json_object_set_new(r, "spin_us",
		    json_real((double)o->spin_ns / 1e3));
	if (o->monitor_hz > 0)
		json_object_set_new(r, "monitor_hz", json_real(o->monitor_hz));
	json_object_set_new(r, "warnings", json_deep_copy(w->warnings));
	emit(r);
	pk_out_idle();
}

static void
summary_record(struct rt_writer *w, int interrupted)
{
	struct rt_shared *sh = w->sh;
	unsigned long long ticks;
	json_t *r;

	ticks = atomic_load_explicit(&sh->ticks, memory_order_relaxed);
	r = record("summary", pk_now());
	span_fill(r, &w->total);
	/* The RT thread's own counts; the histograms miss dropped samples. */
	json_object_set_new(r, "ticks", json_integer((json_int_t)ticks));
	json_object_set_new(r, "skipped", json_integer((json_int_t)
	    atomic_load_explicit(&sh->skipped, memory_order_relaxed)));
	json_object_set_new(r, "dropped", json_integer((json_int_t)
	    pk_rtring_dropped(&sh->samples)));
	if (w->o->monitor_hz > 0)
		json_object_set_new(r, "stalls",
		    json_integer((json_int_t)w->stalls));
	json_object_set_new(r, "duration_s",
	    json_real((double)(sh->end_ns - sh->t0_ns) / 1e9));
	json_object_set_new(r, "interrupted", json_boolean(interrupted));
	json_object_set_new(r, "policy", json_string(w->policy));
	json_object_set_new(r, "priority", json_integer(w->prio));
	json_object_set_new(r, "warnings", json_deep_copy(w->warnings));
	emit(r);
}

static size_t
pow2_at_least(double n)
{
	size_t c = 4096;

	while ((double)c < n && c < ((size_t)1 << 24))
		c <<= 1;
	return c;
}

/* The handler of RT_WAKE_SIG, with SIGINT and SIGTERM's from pk_sig_install. */
static void
install_signals(void)
{
	struct sigaction sa;

	pk_sig_install(0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_noop;
	sigemptyset(&sa.sa_mask);
	if (sigaction(RT_WAKE_SIG, &sa, NULL) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot install signal handlers");
}

/*
 * Start the loop thread (and the watchdog one step above it); they start
 * with every signal blocked, the writer takes SIGINT and SIGTERM.
 */
static void
start_threads(struct rt_writer *w, struct rt_opts *o, pthread_t *rt,
    pthread_t *wd)
{
	sigset_t all, old;
	int e, wd_prio;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = start_thread(rt, rt_main, w->sh, o->prio, o->cpu, &w->prio);
	if (e == 0 && o->monitor_hz > 0 && start_thread(wd, wd_main, w->sh,
	    w->prio > 0 ? (w->prio < 99 ? w->prio + 1 : 99) : 0, -1,
	    &wd_prio) != 0) {
		o->monitor_hz = 0;
		json_array_append_new(w->warnings, json_string(
		    "cannot start the watchdog thread"));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		errno = e;
		pk_die_errno(PK_EXIT_IO, "cannot start the loop thread");
	}
	if (o->prio > 0 && w->prio == 0)
		json_array_append_new(w->warnings, json_sprintf("SCHED_FIFO "
		    "priority %d refused (no CAP_SYS_NICE or RLIMIT_RTPRIO): "
		    "running as SCHED_OTHER", o->prio));
	w->policy = w->prio > 0 ? "SCHED_FIFO" : "SCHED_OTHER";
}

/* Wait for the loop to start, then say how it runs. */
static void
wait_ready(struct rt_writer *w)
{
	struct rt_shared *sh = w->sh;
	size_t i;

	while (!atomic_load_explicit(&sh->ready, memory_order_acquire))
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	w->real0 = pk_now() + (double)(sh->t0_ns - mono_ns()) / 1e9;
	if (sh->slack_errno != 0)
		json_array_append_new(w->warnings, json_sprintf(
		    "cannot set the timer slack: %s", strerror(sh->slack_errno)));
	for (i = 0; i < json_array_size(w->warnings); i++)
		pk_warn("%s", json_string_value(json_array_get(w->warnings, i)));
	start_record(w);
}

/* The writer: drain the rings every 10 ms until the loop is over. */
static int
write_records(struct rt_writer *w, pthread_t rt)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct rt_shared *sh = w->sh;
	int done, interrupted = 0;

	do {
		done = atomic_load_explicit(&sh->done, memory_order_acquire);
		drain(w);
		if (pk_stop && !interrupted) {
			interrupted = 1;
			atomic_store_explicit(&sh->stop, 1, memory_order_relaxed);
		}
		/* Again each round: the first may land just before a sleep. */
		if (interrupted && !done)
			pthread_kill(rt, RT_WAKE_SIG);
		if (!done)
			nanosleep(&tick, NULL);
	} while (!done);
	return interrupted;
}

int
main(int argc, char **argv)
{
	struct rt_opts o;
	struct rt_shared sh;
	struct rt_writer w;
	struct pk_rtwork work;
	pthread_t rt, wd;
	char err[512];
	int interrupted, status = PK_EXIT_OK;
	cpu_set_t allowed;

	pk_init(argv[0]);
	parse_opts(argc, argv, &o);
	if (o.preflight)
		return preflight(&o);
	if (o.cpu >= 0 && (sched_getaffinity(0, sizeof(allowed), &allowed) ==
	    -1 || !CPU_ISSET(o.cpu, &allowed)))
		pk_die(PK_EXIT_USAGE, "CPU %d is not available to this process",
		    o.cpu);

	/* Everything the threads touch is allocated and written here. */
	if (o.plugin != NULL) {
		if (pk_rtwork_plugin(&work, o.plugin, err, sizeof(err)) == -1) {
			pk_rtwork_release(&work);
			pk_die(PK_EXIT_USAGE, "%s", err);
		}
	} else if (pk_rtwork_parse(&work, o.workload, err, sizeof(err)) == -1) {
		pk_die(PK_EXIT_USAGE, "--workload: %s", err);
	} else if (pk_rtwork_init(&work, err, sizeof(err)) == -1) {
		pk_die(PK_EXIT_IO, "--workload: %s", err);
	}
	memset(&sh, 0, sizeof(sh));
	sh.o = &o;
	sh.work = &work;
	if (pk_rtring_init(&sh.samples, pow2_at_least(o.hz), sizeof(
	    struct rt_sample)) == -1 || pk_rtring_init(&sh.events, 64,
	    sizeof(struct rt_event)) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot allocate the sample ring");
	/* Fault the ring's pages in now, not in the loop. */
	memset(sh.samples.buf, 0, pk_rtring_capacity(&sh.samples) *
	    sizeof(struct rt_sample));
	memset(&w, 0, sizeof(w));
	w.sh = &sh;
	w.o = &o;
	if (span_init(&w.iv) == -1 || span_init(&w.total) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot allocate the histograms");
	if (o.histfile != NULL) {
		w.ct.n = o.hist_us;
		w.ct.min = ~0ULL;
		w.ct.counts = calloc(o.hist_us, sizeof(*w.ct.counts));
		w.ct.outliers = calloc(o.hist_us, sizeof(*w.ct.outliers));
		if (w.ct.counts == NULL || w.ct.outliers == NULL)
			pk_die_errno(PK_EXIT_IO, "cannot allocate the histogram");
	}
	w.warnings = json_array();
	if (w.warnings == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	/* The loop publishes 64-bit values; old 32-bit CPUs emulate that. */
#if ATOMIC_LLONG_LOCK_FREE != 2
	json_array_append_new(w.warnings, json_string("64-bit atomics are "
	    "not always lock-free on this CPU: the loop thread may take a lock"));
#endif
	pk_out_init(o.unbuffered);
	w.qos_fd = rt_environment(&o, w.warnings, &w.mlocked);
	install_signals();

	start_threads(&w, &o, &rt, &wd);
	wait_ready(&w);
	interrupted = write_records(&w, rt);
	pthread_join(rt, NULL);
	if (o.monitor_hz > 0) {
		atomic_store_explicit(&sh.stop, 1, memory_order_relaxed);
		pthread_join(wd, NULL);
		drain(&w);
	}
	emit_interval(&w);
	if (sh.rt_errno != 0) {
		pk_warn("clock_nanosleep: %s", strerror(sh.rt_errno));
		status = PK_EXIT_IO;
	}
	summary_record(&w, interrupted);
	if (o.histfile != NULL && write_cthist(&w) == -1) {
		pk_warn_errno("cannot write '%s'", o.histfile);
		status = PK_EXIT_IO;
	}
	if (w.qos_fd != -1)
		close(w.qos_fd);
	pk_rtwork_release(&work);
	pk_rtring_release(&sh.samples);
	pk_rtring_release(&sh.events);
	span_release(&w.iv);
	span_release(&w.total);
	free(w.ct.counts);
	free(w.ct.outliers);
	json_decref(w.warnings);
	pk_close_stdout();
	return status;
}
