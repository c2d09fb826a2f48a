/* SPDX-License-Identifier: MIT */
/* rt-loop: setup, the run and teardown; see rt-loop.h for the threads. */
#include "rt-loop.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif

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

static size_t
pow2_at_least(double n)
{
	size_t c = 4096;

	while ((double)c < n && c < ((size_t)1 << 24))
		c <<= 1;
	return c;
}

/*
 * The workload's row and context: a built-in from the table, or a
 * plugin's; from here on both take one path.
 */
static void
open_workload(struct pk_rtwork *work, const struct rt_opts *o)
{
	char err[512];

	if (o->plugin != NULL) {
		if (pk_rtwork_plugin(work, o->plugin, err, sizeof(err)) == -1) {
			pk_rtwork_release(work);
			pk_die(PK_EXIT_USAGE, "%s", err);
		}
	} else if (pk_rtwork_parse(work, o->workload, err, sizeof(err)) == -1) {
		pk_die(PK_EXIT_USAGE, "--workload: %s", err);
	}
	if (pk_rtwork_init(work, err, sizeof(err)) == -1)
		pk_die(PK_EXIT_IO, "--workload: %s", err);
}

/* The monitor's check: a built-in row (a plugin is the loop's). */
static void
open_monitor_workload(struct pk_rtwork *work, const struct rt_opts *o)
{
	char err[512];

	if (pk_rtwork_parse(work, o->monitor_workload, err, sizeof(err)) == -1)
		pk_die(PK_EXIT_USAGE, "--monitor-workload: %s", err);
	if (pk_rtwork_init(work, err, sizeof(err)) == -1)
		pk_die(PK_EXIT_IO, "--monitor-workload: %s", err);
}

int
main(int argc, char **argv)
{
	struct rt_opts o;
	struct rt_shared sh;
	struct rt_writer w;
	struct pk_rtwork work, mwork;
	pthread_t rt, wd;
	int interrupted, status = PK_EXIT_OK;
	cpu_set_t allowed;

	pk_init(argv[0]);
	rt_parse_opts(argc, argv, &o);
	if (o.preflight)
		return rt_preflight(&o);
	if (o.cpu >= 0 && (sched_getaffinity(0, sizeof(allowed), &allowed) ==
	    -1 || !CPU_ISSET(o.cpu, &allowed)))
		pk_die(PK_EXIT_USAGE, "CPU %d is not available to this process",
		    o.cpu);

	/* Everything the threads touch is allocated and written here. */
	open_workload(&work, &o);
	memset(&mwork, 0, sizeof(mwork));
	if (o.monitor_workload != NULL)
		open_monitor_workload(&mwork, &o);
	memset(&sh, 0, sizeof(sh));
	sh.o = &o;
	sh.work = &work;
	sh.mwork = o.monitor_workload != NULL ? &mwork : NULL;
	if (pk_rtring_init(&sh.samples, pow2_at_least(o.hz), sizeof(
	    struct rt_sample)) == -1 || pk_rtring_init(&sh.events, 64,
	    sizeof(struct rt_event)) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot allocate the sample ring");
	if (sh.mwork != NULL) {
		if (pk_rtring_init(&sh.msamples, pow2_at_least(o.monitor_hz),
		    sizeof(struct rt_sample)) == -1)
			pk_die_errno(PK_EXIT_IO, "cannot allocate the sample ring");
		memset(sh.msamples.buf, 0, pk_rtring_capacity(&sh.msamples) *
		    sizeof(struct rt_sample));
	}
	/* Fault the ring's pages in now, not in the loop. */
	memset(sh.samples.buf, 0, pk_rtring_capacity(&sh.samples) *
	    sizeof(struct rt_sample));
	memset(&w, 0, sizeof(w));
	w.sh = &sh;
	w.o = &o;
	if (rt_span_init(&w.iv) == -1 || rt_span_init(&w.total) == -1 ||
	    rt_span_init(&w.mon_iv) == -1 || rt_span_init(&w.mon_total) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot allocate the histograms");
	if (o.histfile != NULL) {
		rt_cthist_init(&w.ct, o.hist_us);
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
	/* Forked before any thread and before memory is locked. */
	if (o.stress > 0)
		rt_stress_start(&w);
	w.qos_fd = rt_environment(&o, w.warnings, &w.mlocked);
	rt_prom_start(&w);
	rt_install_signals();

	rt_start_threads(&w, &o, &rt, &wd);
	rt_wait_ready(&w);
	interrupted = rt_write_records(&w, rt);
	pthread_join(rt, NULL);
	if (o.monitor_hz > 0) {
		atomic_store_explicit(&sh.stop, 1, memory_order_relaxed);
		pthread_join(wd, NULL);
		rt_drain(&w);
	}
	if (o.stress > 0)
		rt_stress_stop(&w);
	rt_emit_interval(&w);
	if (sh.rt_errno != 0) {
		pk_warn("clock_nanosleep: %s", strerror(sh.rt_errno));
		status = PK_EXIT_IO;
	}
	if (rt_summary_record(&w, interrupted) > 0 && status == PK_EXIT_OK)
		status = PK_EXIT_NEGATIVE;
	w.prom.final = 1;
	rt_prom_publish(&w);
	rt_prom_stop(&w);
	if (o.histfile != NULL && rt_write_cthist(&w) == -1) {
		pk_warn_errno("cannot write '%s'", o.histfile);
		status = PK_EXIT_IO;
	}
	if (w.qos_fd != -1)
		close(w.qos_fd);
	pk_rtwork_release(&work);
	if (sh.mwork != NULL) {
		pk_rtwork_release(&mwork);
		pk_rtring_release(&sh.msamples);
	}
	rt_span_release(&w.mon_iv);
	rt_span_release(&w.mon_total);
	pk_rtring_release(&sh.samples);
	pk_rtring_release(&sh.events);
	rt_span_release(&w.iv);
	rt_span_release(&w.total);
	if (o.stress > 0)
		rt_stress_release(&w);
	rt_cthist_release(&w.ct);
	json_decref(w.warnings);
	pk_close_stdout();
	return status;
}
