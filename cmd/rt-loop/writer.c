/* SPDX-License-Identifier: MIT */
/*
 * rt-loop's writer, in the main thread: it drains the rings, keeps the
 * histograms and writes the loop records and the histogram file.
 */
#include "rt-loop.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_opt.h"

int
rt_span_init(struct rt_span *sp)
{
	memset(sp, 0, sizeof(*sp));
	/* ns, within 1/128 relative error, up to a minute. */
	if (pk_hist_init(&sp->lat, 7, 60 * RT_NS) == -1 ||
	    pk_hist_init(&sp->exec, 7, 60 * RT_NS) == -1 ||
	    pk_hist_init(&sp->loop, 7, 60 * RT_NS) == -1)
		return -1;
	pk_welford_init(&sp->wlat);
	pk_welford_init(&sp->wexec);
	pk_welford_init(&sp->wloop);
	return 0;
}

void
rt_span_reset(struct rt_span *sp)
{
	pk_hist_reset(&sp->lat);
	pk_hist_reset(&sp->exec);
	pk_hist_reset(&sp->loop);
	pk_welford_init(&sp->wlat);
	pk_welford_init(&sp->wexec);
	pk_welford_init(&sp->wloop);
	sp->p2p_sum = sp->p2p_max = 0;
	sp->minflt = sp->majflt = 0;
	sp->flt = 0;
	sp->ticks = sp->misses = sp->skipped = sp->werrs = 0;
}

void
rt_span_release(struct rt_span *sp)
{
	pk_hist_release(&sp->lat);
	pk_hist_release(&sp->exec);
	pk_hist_release(&sp->loop);
}

void
rt_span_add(struct rt_span *sp, const struct rt_sample *s)
{
	pk_hist_add(&sp->lat, (unsigned long long)s->lat_ns);
	pk_hist_add(&sp->exec, (unsigned long long)s->exec_ns);
	pk_hist_add(&sp->loop, (unsigned long long)(s->lat_ns + s->exec_ns));
	pk_welford_add(&sp->wlat, (double)s->lat_ns);
	pk_welford_add(&sp->wexec, (double)s->exec_ns);
	pk_welford_add(&sp->wloop, (double)(s->lat_ns + s->exec_ns));
	if (sp->ticks > 0) {
		double d = (double)llabs(s->lat_ns - sp->prev_lat);

		sp->p2p_sum += d;
		if (d > sp->p2p_max)
			sp->p2p_max = d;
	}
	sp->prev_lat = s->lat_ns;
	sp->ticks++;
	sp->misses += (s->flags & RT_MISS) != 0;
	sp->werrs += (s->flags & RT_WERR) != 0;
	sp->skipped += s->skipped;
}

/* The standard deviation is the sample one (n - 1), 0 for one cycle. */
static json_t *
hist_json(const struct pk_hist *h, const struct pk_welford *w)
{
	return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f}",
	    "min", (double)h->min / 1e3,
	    "mean", h->sum / (double)h->total / 1e3,
	    "p50", (double)pk_hist_quantile(h, 0.5) / 1e3,
	    "p99", (double)pk_hist_quantile(h, 0.99) / 1e3,
	    "p999", (double)pk_hist_quantile(h, 0.999) / 1e3,
	    "max", (double)h->max / 1e3,
	    "sd", w->n > 1 ? pk_welford_sd(w) / 1e3 : 0.0);
}

static json_t *
record(const char *event, double ts)
{
	return json_pack("{s:s,s:f,s:s,s:s}", "type", "loop", "ts", ts,
	    "host", pk_hostname(), "event", event);
}

void
rt_span_fill(json_t *r, const struct rt_span *sp)
{
	json_object_set_new(r, "ticks", json_integer((json_int_t)sp->ticks));
	json_object_set_new(r, "misses", json_integer((json_int_t)sp->misses));
	json_object_set_new(r, "skipped",
	    json_integer((json_int_t)sp->skipped));
	json_object_set_new(r, "work_errors",
	    json_integer((json_int_t)sp->werrs));
	if (sp->ticks == 0)
		return;
	json_object_set_new(r, "lat_us", hist_json(&sp->lat, &sp->wlat));
	json_object_set_new(r, "exec_us", hist_json(&sp->exec, &sp->wexec));
	json_object_set_new(r, "loop_us", hist_json(&sp->loop, &sp->wloop));
	json_object_set_new(r, "jitter_us",
	    json_real((double)(sp->lat.max - sp->lat.min) / 1e3));
	if (sp->flt)
		json_object_set_new(r, "rt_faults", json_pack("{s:I,s:I}",
		    "minor", (json_int_t)sp->minflt,
		    "major", (json_int_t)sp->majflt));
	json_object_set_new(r, "p2p_jitter_us", json_pack("{s:f,s:f}",
	    "mean", sp->ticks > 1 ? sp->p2p_sum / (double)(sp->ticks - 1) /
	    1e3 : 0.0, "max", sp->p2p_max / 1e3));
}

static void
emit(json_t *r)
{
	if (r == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	pk_emit_json(r);
	json_decref(r);
}

int
rt_faults_read(const struct rt_writer *w, unsigned long long f[2])
{
	char path[64], buf[1024], *p;
	unsigned long long v[10];
	ssize_t n;
	int fd, i;

	/* The thread is gone: what it said of itself at its end. */
	if (atomic_load_explicit(&w->sh->done, memory_order_acquire)) {
		if (!w->sh->end_flt_ok)
			return -1;
		f[0] = w->sh->end_flt[0];
		f[1] = w->sh->end_flt[1];
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat",
	    (int)w->sh->rt_tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* After the comm: state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -1;
	p += 3;
	for (i = 0; i < 10; i++) {
		char *end;

		while (*p != '\0' && *p != ' ')
			p++;
		v[i] = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	f[0] = v[6];
	f[1] = v[8];
	return 0;
}

/* The faults since *since into sp, *since moved on. */
static void
faults_into(struct rt_writer *w, struct rt_span *sp, unsigned long long since[2])
{
	unsigned long long f[2];

	if (!w->flt_ok || rt_faults_read(w, f) == -1)
		return;
	sp->minflt += f[0] - since[0];
	sp->majflt += f[1] - since[1];
	sp->flt = 1;
	since[0] = f[0];
	since[1] = f[1];
}

/* The monitor's check over a span; its workload's counters, if given. */
static void work_counters(json_t *r, const struct pk_rtwork *work);

static json_t *
monitor_json(const struct rt_span *sp, unsigned long dropped,
    const struct pk_rtwork *work)
{
	json_t *m = json_object();

	if (m == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	rt_span_fill(m, sp);
	json_object_set_new(m, "dropped", json_integer((json_int_t)dropped));
	if (work != NULL)
		work_counters(m, work);
	return m;
}

void
rt_emit_interval(struct rt_writer *w)
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
	faults_into(w, &w->iv, w->flt_iv);
	r = record("interval", end);
	json_object_set_new(r, "interval_s",
	    json_real((double)o->report_ns / 1e9));
	json_object_set_new(r, "seq", json_integer((json_int_t)w->iv_index));
	rt_span_fill(r, &w->iv);
	if (w->sh->mwork != NULL) {
		json_object_set_new(r, "monitor", monitor_json(&w->mon_iv,
		    pk_rtring_dropped(&w->sh->msamples) - w->mdropped_seen,
		    NULL));
		w->mdropped_seen = pk_rtring_dropped(&w->sh->msamples);
		rt_span_reset(&w->mon_iv);
	}
	d = pk_rtring_dropped(&w->sh->samples);
	json_object_set_new(r, "dropped",
	    json_integer((json_int_t)(d - w->dropped_seen)));
	w->dropped_seen = d;
	emit(r);
	pk_out_idle();
	if (w->prom.on) {
		w->prom.iv_lat_p99 = pk_hist_quantile(&w->iv.lat, 0.99);
		w->prom.iv_exec_p99 = pk_hist_quantile(&w->iv.exec, 0.99);
		w->prom.iv_lat_max = w->iv.lat.max;
		w->prom.iv_seen = 1;
		rt_prom_publish(w);
	}
	rt_span_reset(&w->iv);
}

static void
cthist_add(struct rt_cthist *c, int k, int64_t ns)
{
	struct rt_ctcol *col = &c->col[k];
	unsigned long long us = (unsigned long long)(ns / 1000);

	if (us < col->min)
		col->min = us;
	if (us > col->max)
		col->max = us;
	col->sum += us;
	if (us >= c->n) {
		if (col->noutliers < c->n)
			col->outliers[col->noutliers++] = c->cycles;
		col->overflows++;
	} else {
		col->counts[us]++;
	}
}

static void
account(struct rt_writer *w, const struct rt_sample *s)
{
	int64_t idx = (s->target_ns - w->sh->t0_ns) / w->o->report_ns;

	if (idx != w->iv_index) {
		rt_emit_interval(w);
		w->iv_index = idx;
	}
	rt_span_add(&w->iv, s);
	rt_span_add(&w->total, s);
	if (w->o->stress > 0)
		rt_stress_account(w, s);
	w->last_ns = s->target_ns - w->sh->t0_ns + w->o->period_ns;
	if (w->o->histfile != NULL) {
		cthist_add(&w->ct, RT_CT_LAT, s->lat_ns);
		cthist_add(&w->ct, RT_CT_EXEC, s->exec_ns);
		w->ct.cycles++;
	}
}

void
rt_drain(struct rt_writer *w)
{
	struct rt_sample s;
	struct rt_event ev;
	json_t *r;
	double ts;

	while (pk_rtring_pop(&w->sh->samples, &s) == 0)
		account(w, &s);
	/* The monitor's periods, into the interval at hand. */
	while (w->sh->mwork != NULL &&
	    pk_rtring_pop(&w->sh->msamples, &s) == 0) {
		rt_span_add(&w->mon_iv, &s);
		rt_span_add(&w->mon_total, &s);
	}
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

/*
 * The histogram file, in the format of cyclictest -h, one column per
 * quantity where cyclictest has one per thread: the wake-up latency, then
 * the execution time.
 */
int
rt_write_cthist(const struct rt_writer *w)
{
	const struct rt_cthist *c = &w->ct;
	unsigned long long total[RT_CT_N] = { 0 }, i;
	size_t cap, len = 0;
	char *buf;
	int r, k;

	cap = (size_t)c->n * 24 + (size_t)c->n * 2 * 8 + 1024;
	buf = malloc(cap);
	if (buf == NULL)
		return -1;
#define PUT(...) len += (size_t)snprintf(buf + len, cap - len, __VA_ARGS__)
#define ROW(label, fmt, expr) do {					\
		PUT("%s", label);					\
		for (k = 0; k < RT_CT_N; k++)				\
			PUT(" " fmt, (expr));				\
		PUT("\n");						\
	} while (0)
	PUT("# Histogram\n");
	for (i = 0; i < c->n; i++) {
		PUT("%06llu", i);
		for (k = 0; k < RT_CT_N; k++) {
			PUT("%s%06llu", k == 0 ? " " : "\t", c->col[k].counts[i]);
			total[k] += c->col[k].counts[i];
		}
		PUT("\n");
	}
	ROW("# Total:", "%09llu", total[k]);
	ROW("# Min Latencies:", "%05llu", c->cycles ? c->col[k].min : 0);
	ROW("# Avg Latencies:", "%05llu", c->cycles ? c->col[k].sum /
	    c->cycles : 0);
	ROW("# Max Latencies:", "%05llu", c->col[k].max);
	ROW("# Histogram Overflows:", "%05llu", c->col[k].overflows);
	PUT("# Histogram Overflow at cycle number:\n");
	for (k = 0; k < RT_CT_N; k++) {
		const struct rt_ctcol *col = &c->col[k];

		PUT("# Thread %d:", k);
		for (i = 0; i < col->noutliers; i++)
			PUT(" %05llu", col->outliers[i]);
		if (col->noutliers < col->overflows)
			PUT(" # %05llu others", col->overflows - col->noutliers);
		PUT("\n");
	}
#undef ROW
#undef PUT
	r = pk_atomic_write(w->o->histfile, buf, len, 0644);
	free(buf);
	return r;
}

void
rt_cthist_init(struct rt_cthist *c, unsigned n)
{
	int k;

	memset(c, 0, sizeof(*c));
	c->n = n;
	for (k = 0; k < RT_CT_N; k++) {
		c->col[k].min = ~0ULL;
		c->col[k].counts = calloc(n, sizeof(*c->col[k].counts));
		c->col[k].outliers = calloc(n, sizeof(*c->col[k].outliers));
		if (c->col[k].counts == NULL || c->col[k].outliers == NULL)
			pk_die_errno(PK_EXIT_IO, "cannot allocate the histogram");
	}
}

void
rt_cthist_release(struct rt_cthist *c)
{
	int k;

	for (k = 0; k < RT_CT_N; k++) {
		free(c->col[k].counts);
		free(c->col[k].outliers);
	}
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

/* The workload's own counters (constraint violations ...), if it has any. */
static void
work_counters(json_t *r, const struct pk_rtwork *work)
{
	const char *names[PK_RTWORK_MAXCOUNTERS];
	unsigned long long v[PK_RTWORK_MAXCOUNTERS];
	json_t *c;
	size_t i, n;

	n = pk_rtwork_counters(work, names, v);
	if (n == 0)
		return;
	c = json_object();
	if (c == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	for (i = 0; i < n; i++)
		json_object_set_new(c, names[i], json_integer((json_int_t)v[i]));
	json_object_set_new(r, "work_counters", c);
}

/* The summary record; returns how many gates failed. */
int
rt_summary_record(struct rt_writer *w, int interrupted)
{
	struct rt_shared *sh = w->sh;
	unsigned long long ticks, skipped;
	json_t *r;
	int failed;

	ticks = atomic_load_explicit(&sh->ticks, memory_order_relaxed);
	faults_into(w, &w->total, w->flt0);
	r = record("summary", pk_now());
	rt_span_fill(r, &w->total);
	/* The RT thread's own counts; the histograms miss dropped samples. */
	json_object_set_new(r, "ticks", json_integer((json_int_t)ticks));
	skipped = atomic_load_explicit(&sh->skipped, memory_order_relaxed);
	json_object_set_new(r, "skipped", json_integer((json_int_t)skipped));
	json_object_set_new(r, "dropped", json_integer((json_int_t)
	    pk_rtring_dropped(&sh->samples)));
	if (w->o->monitor_hz > 0)
		json_object_set_new(r, "stalls",
		    json_integer((json_int_t)w->stalls));
	json_object_set_new(r, "duration_s",
	    json_real((double)(sh->end_ns - sh->t0_ns) / 1e9));
	work_counters(r, sh->work);
	if (sh->mwork != NULL)
		json_object_set_new(r, "monitor", monitor_json(&w->mon_total,
		    pk_rtring_dropped(&sh->msamples), sh->mwork));
	json_object_set_new(r, "interrupted", json_boolean(interrupted));
	json_object_set_new(r, "policy", json_string(w->policy));
	json_object_set_new(r, "priority", json_integer(w->prio));
	json_object_set_new(r, "warnings", json_deep_copy(w->warnings));
	if (w->o->stress > 0) {
		const struct rt_span *ld = rt_stress_json(w, r);

		/* Under --stress the gates judge the loaded phase. */
		failed = rt_gates_judge(w->o, ld, ld->ticks, ld->skipped,
		    w->sh->mwork != NULL ? &w->mon_total : NULL, r);
	} else {
		failed = rt_gates_judge(w->o, &w->total, ticks, skipped,
		    w->sh->mwork != NULL ? &w->mon_total : NULL, r);
	}
	emit(r);
	return failed;
}

/* Wait for the loop to start, then say how it runs. */
void
rt_wait_ready(struct rt_writer *w)
{
	struct rt_shared *sh = w->sh;
	size_t i;

	while (!atomic_load_explicit(&sh->ready, memory_order_acquire))
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	w->real0 = pk_now() + (double)(sh->t0_ns - rt_mono_ns()) / 1e9;
	w->flt_ok = rt_faults_read(w, w->flt0) == 0;
	memcpy(w->flt_iv, w->flt0, sizeof(w->flt_iv));
	memcpy(w->st.flt_sw, w->flt0, sizeof(w->st.flt_sw));
	if (sh->slack_errno != 0)
		json_array_append_new(w->warnings, json_sprintf(
		    "cannot set the timer slack: %s", strerror(sh->slack_errno)));
	for (i = 0; i < json_array_size(w->warnings); i++)
		pk_warn("%s", json_string_value(json_array_get(w->warnings, i)));
	start_record(w);
	rt_prom_publish(w);
}

/* The writer: drain the rings every 10 ms until the loop is over. */
int
rt_write_records(struct rt_writer *w, pthread_t rt)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct rt_shared *sh = w->sh;
	int done, interrupted = 0;

	do {
		struct timespec nap = tick;

		done = atomic_load_explicit(&sh->done, memory_order_acquire);
		if (w->o->stress > 0 && !done) {
			int64_t left = rt_stress_tick(w);

			if (left < (int64_t)tick.tv_nsec)
				nap.tv_nsec = (long)(left > 0 ? left : 1);
		}
		rt_drain(w);
		if (pk_stop && !interrupted) {
			interrupted = 1;
			atomic_store_explicit(&sh->stop, 1, memory_order_relaxed);
		}
		/* Again each round: the first may land just before a sleep. */
		if (interrupted && !done)
			pthread_kill(rt, RT_WAKE_SIG);
		if (!done)
			nanosleep(&nap, NULL);
	} while (!done);
	return interrupted;
}
