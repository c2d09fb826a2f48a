/* SPDX-License-Identifier: MIT */
/* rt-loop's real-time and watchdog threads, their start and signals. */
#include "rt-loop.h"

#include <alloca.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "pk_err.h"

#define RT_STACK_SIZE	(512 * 1024)
#define RT_PREFAULT	(256 * 1024)

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
	struct rusage ru;
	int e = 0;
	/* The workload's step, built-in or plugin: one indirect call. */
	int (*const step)(void *, unsigned long long) = sh->work->type->step;
	void *const ctx = sh->work->ctx;

	block_signals();
	if (prctl(PR_SET_TIMERSLACK, (unsigned long)o->timer_slack_ns, 0, 0,
	    0) == -1)
		sh->slack_errno = errno;
	prefault_stack();
	/* For the writer to read this thread's page faults in /proc. */
	sh->rt_tid = (pid_t)syscall(SYS_gettid);
	/* The last system call before the loop: a marker for the tests. */
	prctl(PR_SET_NAME, "rt-loop-rt", 0, 0, 0);

	sh->t0_ns = rt_mono_ns() + P;
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
			while (e == 0 && rt_mono_ns() < next)
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
		wake = rt_mono_ns();
		s.flags = step(ctx, tick) == 0 ? 0 : RT_WERR;
		done_at = rt_mono_ns();
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
	sh->end_ns = rt_mono_ns();
	/* Its page faults, for the writer once the thread is gone. */
	if (getrusage(RUSAGE_THREAD, &ru) == 0) {
		sh->end_flt[0] = (unsigned long long)ru.ru_minflt;
		sh->end_flt[1] = (unsigned long long)ru.ru_majflt;
		sh->end_flt_ok = 1;
	}
	sh->rt_errno = e;
	atomic_store_explicit(&sh->done, 1, memory_order_release);
	return NULL;
}

/*
 * The monitor, at --monitor-hz: the watchdog (a cycle overdue by more than
 * one period past its deadline) and, with --monitor-workload, a safety
 * check of its own each period, measured as the loop measures its step:
 * wake-up latency, execution time, a miss when it ends past the next
 * period, the periods an overrun skipped; its samples go to the writer
 * through a ring of their own.
 */
static void *
wd_main(void *arg)
{
	struct rt_shared *sh = arg;
	const int64_t P = sh->o->period_ns;
	const int64_t wp = (int64_t)(1e9 / sh->o->monitor_hz + 0.5);
	struct pk_rtwork *const mw = sh->mwork;
	uint64_t stalled_at = 0, ticks, mtick = 0, skip;
	int64_t next, now, dl, since = 0, woke, end;
	struct rt_event ev;
	struct rt_sample ms;
	int stalled = 0;

	block_signals();
	prefault_stack();
	next = rt_mono_ns();
	while (!atomic_load_explicit(&sh->done, memory_order_acquire) &&
	    !atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		next += wp;
		if (sleep_until(next, &sh->stop) != 0)
			break;
		if (!atomic_load_explicit(&sh->ready, memory_order_acquire))
			continue;
		if (mw != NULL) {
			woke = rt_mono_ns();
			memset(&ms, 0, sizeof(ms));
			ms.tick = mtick++;
			ms.target_ns = next;
			ms.lat_ns = woke - next;
			if (mw->type->step(mw->ctx, ms.tick) != 0)
				ms.flags |= RT_WERR;
			end = rt_mono_ns();
			ms.exec_ns = end - woke;
			if (end > next + wp)
				ms.flags |= RT_MISS;
			/* Periods it overran are skipped, as the loop's. */
			skip = end > next + wp ? (uint64_t)((end - next - wp) /
			    wp) + 1 : 0;
			ms.skipped = (uint32_t)skip;
			next += (int64_t)skip * wp;
			pk_rtring_push(&sh->msamples, &ms);
		}
		dl = atomic_load_explicit(&sh->deadline_ns,
		    memory_order_acquire);
		ticks = atomic_load_explicit(&sh->ticks, memory_order_relaxed);
		now = rt_mono_ns();
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

/* The handler of RT_WAKE_SIG, with SIGINT and SIGTERM's from pk_sig_install. */
void
rt_install_signals(void)
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
void
rt_start_threads(struct rt_writer *w, struct rt_opts *o, pthread_t *rt,
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
