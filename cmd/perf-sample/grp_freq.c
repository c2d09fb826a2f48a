/* SPDX-License-Identifier: MIT */
/* freq: the current cpufreq frequency of each CPU that has one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "perf-sample.h"
#include "pk_err.h"

static const struct ps_metric freq_metrics[] = {
	{ "cpu.freq_mhz.cpu*", "perfkit_cpu_frequency_hertz",
	    "Current CPU frequency (cpufreq).", "MHz", PK_PROM_GAUGE, PS_NUM,
	    3, 0 },
};

/* One CPU with a cpufreq file. */
struct cpufreq {
	struct ps_src src;
	uint64_t khz;
	int have;
	double v[1];
	char name[24];
};

struct freq {
	struct ps_view view;
	unsigned n;
	struct cpufreq *cpu;		/* n of them, as many instances */
	struct ps_inst *inst;
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
	unsigned i, n;

	/* The CPUs of /proc/stat (its slot is filled again by the reading). */
	if (sp->rootfd[PS_ROOT_SYS] == -1 ||
	    ps_src_read(sp, &sp->stat, &buf, &len) == -1)
		return 0;
	(void)pk_procfs_stat_parse(buf, len, &pst, cores, PS_MAXCORES, &e);
	n = pst.ncores < PS_MAXCORES ? pst.ncores : PS_MAXCORES;
	for (i = 0; i < n; i++) {
		struct stat sb;
		char rel[64];

		snprintf(rel, sizeof(rel),
		    "devices/system/cpu/cpu%u/cpufreq/scaling_cur_freq",
		    cores[i].id);
		if (fstatat(sp->rootfd[PS_ROOT_SYS], rel, &sb, 0) == -1)
			continue;
		if (f->cpu == NULL) {
			f->cpu = pk_xcalloc(n, sizeof(*f->cpu));
			f->inst = pk_xcalloc(n, sizeof(*f->inst));
		}
		ps_src_set(&f->cpu[f->n].src, PS_ROOT_SYS, "%s", rel);
		f->inst[f->n].name = f->inst[f->n].lv[0] =
		    ps_utoa(cores[i].id, f->cpu[f->n].name);
		f->inst[f->n].v = f->cpu[f->n].v;
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
		struct cpufreq *c = &f->cpu[i];

		c->have = 0;
		if (ps_src_read(sp, &c->src, &buf, &len) == -1)
			continue;
		if (pk_procfs_u64_parse(buf, len, &c->khz, &e) == -1)
			ps_src_bad(sp, &c->src, &e);
		else
			c->have = 1;
	}
}

static void
freq_derive(struct ps_sampler *sp, void *st)
{
	struct freq *f = st;
	unsigned i;

	for (i = 0; i < f->n; i++)
		f->cpu[i].v[0] = f->cpu[i].have && sp->have_stat[sp->cur] ?
		    (double)f->cpu[i].khz / 1000.0 : NAN;
}

static void
freq_release(void *st)
{
	struct freq *f = st;
	unsigned i;

	for (i = 0; i < f->n; i++)
		ps_src_close(&f->cpu[i].src);
	free(f->cpu);
	free(f->inst);
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
