/* SPDX-License-Identifier: MIT */
/*
 * --stress Nx: N x nproc CPU hogs (and with --stress-mem nproc memory
 * hogs) from lib/pk_hogs, as perf-bench's --stress, run in every other
 * phase of --stress-phase, quiet first, so that drift over the run lands
 * in both. The writer switches them at each boundary (the RT thread never
 * sees it); each cycle is accounted to the phase it was due in, once the
 * switch has settled; the summary gives each phase's statistics and the
 * loaded/quiet ratio of each p99 and mean, with a 95% interval.
 */
#include "rt-loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_bench_stats.h"
#include "pk_err.h"

static const char *const phase_names[2] = { "quiet", "loaded" };

void
rt_stress_start(struct rt_writer *w)
{
	struct rt_stress *st = &w->st;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t p, k;

	if (ncpu < 1)
		ncpu = 1;
	/* Settled 20 ms (or a twentieth of a phase, if more) after a switch. */
	st->settle_ns = w->o->phase_ns / 20 > 20000000 ? w->o->phase_ns / 20 :
	    20000000;
	if (st->settle_ns > w->o->phase_ns / 2)
		st->settle_ns = w->o->phase_ns / 2;
	st->idx = 0;
	st->sw_idx[0] = 0;
	st->sw_ns[0] = 0;
	st->sw_idx[1] = -1;
	st->blk_idx = -1;
	for (p = 0; p < 2; p++) {
		if (rt_span_init(&st->ph[p]) == -1)
			pk_die_errno(PK_EXIT_IO, "cannot allocate the histograms");
		for (k = 0; k < 3; k++)
			st->bp99[p][k] = pk_xcalloc(RT_STRESS_BLOCKS,
			    sizeof(double));
	}
	if (rt_span_init(&st->blk) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot allocate the histograms");
	st->ncpu = w->o->stress * (size_t)ncpu;
	st->nmem = w->o->stress_mem ? (size_t)ncpu : 0;
	if (pk_hogs_start(&st->hogs, st->ncpu, st->nmem, "rt-loop") == -1)
		pk_die_errno(PK_EXIT_IO, "cannot start a stress process");
	pk_hogs_pause(&st->hogs);
}

/* The phase ending: the RT thread's page faults in it. */
static void
phase_faults(struct rt_writer *w)
{
	struct rt_stress *st = &w->st;
	struct rt_span *sp = &st->ph[st->idx & 1];
	unsigned long long f[2];

	if (!w->flt_ok || rt_faults_read(w, f) == -1)
		return;
	sp->minflt += f[0] - st->flt_sw[0];
	sp->majflt += f[1] - st->flt_sw[1];
	sp->flt = 1;
	st->flt_sw[0] = f[0];
	st->flt_sw[1] = f[1];
}

int64_t
rt_stress_tick(struct rt_writer *w)
{
	struct rt_stress *st = &w->st;
	int64_t now = rt_mono_ns() - w->sh->t0_ns, idx, ph = w->o->phase_ns;

	idx = now < 0 ? 0 : now / ph;
	if (idx != st->idx) {
		phase_faults(w);
		if (idx & 1)
			pk_hogs_resume(&st->hogs);
		else
			pk_hogs_pause(&st->hogs);
		st->idx = idx;
		st->sw_idx[idx & 1] = idx;
		st->sw_ns[idx & 1] = rt_mono_ns() - w->sh->t0_ns;
	}
	return (idx + 1) * ph - now;
}

/* The block at hand is over: its p99s join its phase's. */
static void
close_block(struct rt_stress *st)
{
	int p = (int)(st->blk_idx & 1);
	size_t n = st->nb[p];

	if (st->blk_idx >= 0 && st->blk.ticks > 0 && n < RT_STRESS_BLOCKS) {
		st->bp99[p][0][n] = (double)pk_hist_quantile(&st->blk.lat, 0.99);
		st->bp99[p][1][n] = (double)pk_hist_quantile(&st->blk.exec, 0.99);
		st->bp99[p][2][n] = (double)pk_hist_quantile(&st->blk.loop, 0.99);
		st->nb[p] = n + 1;
	}
	rt_span_reset(&st->blk);
	st->blk_idx = -1;
}

void
rt_stress_account(struct rt_writer *w, const struct rt_sample *s)
{
	struct rt_stress *st = &w->st;
	int64_t rel = s->target_ns - w->sh->t0_ns, idx = rel / w->o->phase_ns;
	int p = (int)(idx & 1);

	/* Due before its phase's switch had settled, or before the switch. */
	if (st->sw_idx[p] != idx || rel < st->sw_ns[p] + st->settle_ns) {
		st->unattributed++;
		return;
	}
	if (idx != st->blk_idx) {
		close_block(st);
		st->blk_idx = idx;
	}
	rt_span_add(&st->blk, s);
	rt_span_add(&st->ph[p], s);
}

void
rt_stress_stop(struct rt_writer *w)
{
	phase_faults(w);
	pk_hogs_stop(&w->st.hogs);
	close_block(&w->st);
}

void
rt_stress_release(struct rt_writer *w)
{
	struct rt_stress *st = &w->st;
	size_t p, k;

	for (p = 0; p < 2; p++) {
		rt_span_release(&st->ph[p]);
		for (k = 0; k < 3; k++)
			free(st->bp99[p][k]);
	}
	rt_span_release(&st->blk);
}

/* mean and standard error of x[0..n-1]. */
static void
mean_se(const double *x, size_t n, double *m, double *se)
{
	struct pk_welford wf;
	size_t i;

	pk_welford_init(&wf);
	for (i = 0; i < n; i++)
		pk_welford_add(&wf, x[i]);
	*m = wf.mean;
	*se = n > 1 ? pk_welford_sd(&wf) / sqrt((double)n) : NAN;
}

/* {ratio, ci95: [lo, hi]} of loaded over quiet, or null. */
static json_t *
ratio_json(double m1, double se1, double m0, double se0, double df)
{
	double r, sd, lo, hi;

	if (!(m1 > 0) || !(m0 > 0))
		return json_null();
	if (isnan(se1) || isnan(se0))
		return json_pack("{s:f,s:n}", "ratio", m1 / m0, "ci95");
	pk_bench_ratio(m1, se1, m0, se0, df, 0.95, &r, &sd, &lo, &hi);
	return json_pack("{s:f,s:[f,f]}", "ratio", r, "ci95", lo, hi);
}

const struct rt_span *
rt_stress_json(struct rt_writer *w, json_t *r)
{
	static const char *const what[3] = { "lat", "exec", "loop" };
	struct rt_stress *st = &w->st;
	json_t *o, *ph, *ratios;
	double m[2], se[2], df;
	size_t p, k, nmin;

	o = json_pack("{s:I,s:I,s:I,s:f,s:f,s:I}",
	    "factor", (json_int_t)w->o->stress,
	    "cpu_hogs", (json_int_t)st->ncpu,
	    "mem_hogs", (json_int_t)st->nmem,
	    "phase_s", (double)w->o->phase_ns / 1e9,
	    "settle_s", (double)st->settle_ns / 1e9,
	    "unattributed", (json_int_t)st->unattributed);
	if (o == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	for (p = 0; p < 2; p++) {
		ph = json_object();
		if (ph == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		rt_span_fill(ph, &st->ph[p]);
		json_object_set_new(ph, "phases", json_integer((json_int_t)
		    st->nb[p]));
		json_object_set_new(o, phase_names[p], ph);
	}
	/*
	 * Loaded / quiet: each p99 by the blocks' p99s, each mean by the
	 * cycles' (their standard errors), t quantile of the fewer blocks.
	 */
	ratios = json_object();
	nmin = st->nb[0] < st->nb[1] ? st->nb[0] : st->nb[1];
	df = nmin > 1 ? (double)(nmin - 1) : NAN;
	for (k = 0; k < 3; k++) {
		char key[16];
		const struct pk_welford *wf[2];

		for (p = 0; p < 2; p++)
			mean_se(st->bp99[p][k], st->nb[p], &m[p], &se[p]);
		snprintf(key, sizeof(key), "%s_p99", what[k]);
		json_object_set_new(ratios, key, nmin > 0 ?
		    ratio_json(m[1], se[1], m[0], se[0], df) : json_null());
		for (p = 0; p < 2; p++) {
			wf[p] = k == 0 ? &st->ph[p].wlat : k == 1 ?
			    &st->ph[p].wexec : &st->ph[p].wloop;
			m[p] = wf[p]->mean;
			se[p] = wf[p]->n > 1 ? pk_welford_sd(wf[p]) /
			    sqrt((double)wf[p]->n) : NAN;
		}
		snprintf(key, sizeof(key), "%s_mean", what[k]);
		json_object_set_new(ratios, key, wf[0]->n > 0 && wf[1]->n > 0 ?
		    ratio_json(m[1], se[1], m[0], se[0], NAN) : json_null());
	}
	json_object_set_new(o, "ratios", ratios);
	json_object_set_new(r, "stress", o);
	return &st->ph[1];
}
