/* SPDX-License-Identifier: MIT */
/* freq: the current cpufreq frequency of each CPU that has one. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "perf-sample.h"

static const struct ps_metric freq_metrics[] = {
	{ "cpu.freq_mhz.cpu*", "perfkit_cpu_frequency_hertz",
	    "Current CPU frequency (cpufreq).", "MHz", PK_PROM_GAUGE, PS_NUM,
	    3, 0 },
};

struct freq {
	struct ps_view view;
	unsigned n;
	struct ps_src src[PS_MAXCORES];
	uint64_t khz[PS_MAXCORES];
	int have[PS_MAXCORES];
	struct ps_inst inst[PS_MAXCORES];
	double v[PS_MAXCORES][1];
	char name[PS_MAXCORES][24];
};

static const struct ps_set freq_set = {
	freq_metrics, PS_NMETRICS(freq_metrics), { "cpu", NULL },
	offsetof(struct freq, view)
};

static int
freq_discover(struct ps_sampler *sp, void *st)
{
	struct pk_procfs_core *cores = sp->cores[sp->cur];
	struct pk_procfs_stat pst;
	struct pk_procfs_err e;
	struct freq *f = st;
	const char *buf;
	size_t len;
	unsigned i;

	/* The CPUs of /proc/stat (its slot is filled again by the reading). */
	if (ps_src_read(sp, &sp->stat, &buf, &len) == -1)
		return 0;
	(void)pk_procfs_stat_parse(buf, len, &pst, cores, PS_MAXCORES, &e);
	for (i = 0; i < pst.ncores && i < PS_MAXCORES; i++) {
		struct stat sb;
		char rel[64];

		snprintf(rel, sizeof(rel),
		    "devices/system/cpu/cpu%u/cpufreq/scaling_cur_freq",
		    cores[i].id);
		if (sp->rootfd[PS_ROOT_SYS] == -1 ||
		    fstatat(sp->rootfd[PS_ROOT_SYS], rel, &sb, 0) == -1)
			continue;
		ps_src_set(&f->src[f->n], PS_ROOT_SYS, "%s", rel);
		f->inst[f->n].name = f->inst[f->n].lv[0] =
		    ps_utoa(cores[i].id, f->name[f->n]);
		f->inst[f->n].v = f->v[f->n];
		f->n++;
	}
	f->view.inst = f->inst;
	f->view.n = f->n;
	return f->n > 0;
}

static void
freq_read(struct ps_sampler *sp, void *st)
{
	struct pk_procfs_err e;
	struct freq *f = st;
	const char *buf;
	size_t len;
	unsigned i;

	for (i = 0; i < f->n; i++) {
		f->have[i] = 0;
		if (ps_src_read(sp, &f->src[i], &buf, &len) == -1)
			continue;
		if (pk_procfs_u64_parse(buf, len, &f->khz[i], &e) == -1)
			ps_src_bad(sp, &f->src[i], &e);
		else
			f->have[i] = 1;
	}
}

static void
freq_derive(struct ps_sampler *sp, void *st)
{
	struct freq *f = st;
	unsigned i;

	for (i = 0; i < f->n; i++)
		f->v[i][0] = f->have[i] && sp->have_stat[sp->cur] ?
		    (double)f->khz[i] / 1000.0 : NAN;
}

static void
freq_release(void *st)
{
	struct freq *f = st;
	unsigned i;

	for (i = 0; i < f->n; i++)
		ps_src_close(&f->src[i]);
}

static const struct ps_set *const freq_sets[] = { &freq_set, NULL };

const struct ps_group grp_freq = {
	.name = "freq",
	.help = "the cpufreq frequency of each CPU",
	.flags = PS_GRP_DEFAULT,
	.size = sizeof(struct freq),
	.discover = freq_discover,
	.read = freq_read,
	.derive = freq_derive,
	.release = freq_release,
	.sets = freq_sets,
};
