/* SPDX-License-Identifier: MIT */
/* cgroup: the CPU, memory and pressure of the cgroup v2 of --cgroup. */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "perf-sample.h"
#include "pk_err.h"

enum {
	CG_PATH, CG_CPU, CG_USER, CG_SYSTEM, CG_THR_N, CG_THR_PCT, CG_MEM,
	CG_MEM_MAX, CG_MEM_PCT, CG_N
};

static const struct ps_metric cg_metrics[CG_N] = {
	[CG_PATH] = { "cgroup.path", NULL, NULL, "", PK_PROM_GAUGE, PS_NAME },
	[CG_CPU] = { "cgroup.cpu_pct", "perfkit_cgroup_cpu_ratio",
	    "CPU used by the cgroup, 1 = one full core.", "%", PK_PROM_GAUGE,
	    PS_NUM, 2, 6 },
	[CG_USER] = { "cgroup.user_pct", NULL, NULL, "%", PK_PROM_GAUGE, PS_NUM, 2 },
	[CG_SYSTEM] = { "cgroup.system_pct", NULL, NULL, "%", PK_PROM_GAUGE, PS_NUM, 2 },
	[CG_THR_N] = { "cgroup.throttled_per_s", NULL, NULL, "1/s", PK_PROM_GAUGE, PS_NUM, 2 },
	[CG_THR_PCT] = { "cgroup.throttled_pct", "perfkit_cgroup_throttled_ratio",
	    "Share of time the cgroup was throttled.", "%", PK_PROM_GAUGE,
	    PS_NUM, 2, 6 },
	[CG_MEM] = { "cgroup.mem_current_kb", "perfkit_cgroup_memory_bytes",
	    "memory.current of the cgroup.", "KiB", PK_PROM_GAUGE, PS_NUM, 0, 0 },
	[CG_MEM_MAX] = { "cgroup.mem_max_kb", "perfkit_cgroup_memory_max_bytes",
	    "memory.max of the cgroup.", "KiB", PK_PROM_GAUGE, PS_NUM, 0, 0 },
	[CG_MEM_PCT] = { "cgroup.mem_used_pct", NULL, NULL, "%", PK_PROM_GAUGE, PS_NUM, 2 },
};

static const struct ps_metric cg_psi_metrics[PS_PSI_NM] = {
	PS_PSI_METRICS("cgroup.psi.*.", "perfkit_cgroup_pressure_ratio")
};

static const char *const cpu_keys[] = {
	"usage_usec", "user_usec", "system_usec", "nr_throttled",
	"throttled_usec", NULL
};

struct cg {
	struct ps_view view, psi_view;
	struct ps_inst inst, psi_inst[3];
	double v[CG_N];
	double psi[3][PS_PSI_NM];
	double mem_cur, mem_max;	/* bytes, NaN unknown, inf unlimited */
	struct ps_src cpu, mem_cur_src, mem_max_src, psi_src[3];
	uint64_t cpu_stat[2][5];
	unsigned cpu_found[2];
};

static const struct ps_set cg_set = {
	cg_metrics, PS_NMETRICS(cg_metrics), { "cgroup", NULL },
	offsetof(struct cg, view)
};

static const struct ps_set cg_psi_set = {
	cg_psi_metrics, PS_NMETRICS(cg_psi_metrics), { "cgroup", "resource", NULL },
	offsetof(struct cg, psi_view)
};

static int
cg_discover(struct ps_sampler *sp, void *st)
{
	const char *path = sp->o->cgroup, *buf;
	char msg[PATH_MAX + 64];
	struct cg *c = st;
	size_t len;
	int k;

	if (path == NULL)
		return 0;
	ps_src_set(&c->cpu, PS_ROOT_CG, "cpu.stat");
	ps_src_set(&c->mem_cur_src, PS_ROOT_CG, "memory.current");
	ps_src_set(&c->mem_max_src, PS_ROOT_CG, "memory.max");
	for (k = 0; k < 3; k++) {
		ps_src_set(&c->psi_src[k], PS_ROOT_CG, "%s.pressure",
		    ps_psi_names[k]);
		c->psi_inst[k].name = c->psi_inst[k].lv[1] = ps_psi_names[k];
		c->psi_inst[k].lv[0] = path;
		c->psi_inst[k].v = c->psi[k];
	}
	if (ps_src_read(sp, &c->cpu, &buf, &len) == -1) {
		int e = errno;

		snprintf(msg, sizeof(msg), "%s/%s", sp->rootpath[PS_ROOT_CG],
		    c->cpu.rel);
		errno = e;
		pk_die_errno(PK_EXIT_USAGE, "--cgroup '%s': cannot read '%s' "
		    "(a cgroup v2 directory is needed)", path, msg);
	}
	ps_view_one(&c->view, &c->inst, c->v);
	c->inst.name = c->inst.lv[0] = path;
	c->psi_view.inst = c->psi_inst;
	c->psi_view.n = 3;
	return 1;
}

/* One number of a file, NaN if there is none. */
static double
read_u64(struct ps_sampler *sp, struct ps_src *s)
{
	struct pk_procfs_err e;
	const char *buf;
	size_t len;
	uint64_t v;

	if (ps_src_read(sp, s, &buf, &len) == -1)
		return NAN;
	if (pk_procfs_u64_parse(buf, len, &v, &e) == -1) {
		ps_src_bad(sp, s, &e);
		return NAN;
	}
	return v == UINT64_MAX ? INFINITY : (double)v;
}

static void
cg_read(struct ps_sampler *sp, void *st)
{
	struct pk_procfs_err e;
	struct cg *c = st;
	const char *buf;
	size_t len;
	int k;

	c->cpu_found[sp->cur] = 0;
	if (ps_src_read(sp, &c->cpu, &buf, &len) == 0 &&
	    pk_procfs_keyval_parse(buf, len, cpu_keys, c->cpu_stat[sp->cur],
	    &c->cpu_found[sp->cur], &e) == -1)
		ps_src_bad(sp, &c->cpu, &e);
	c->mem_cur = read_u64(sp, &c->mem_cur_src);
	c->mem_max = read_u64(sp, &c->mem_max_src);
	for (k = 0; k < 3; k++)
		ps_psi_read(sp, &c->psi_src[k], c->psi[k]);
}

static void
cg_derive(struct ps_sampler *sp, void *st)
{
	struct cg *c = st;
	const uint64_t *a = c->cpu_stat[sp->prev], *b = c->cpu_stat[sp->cur];
	unsigned fa = c->cpu_found[sp->prev], fb = c->cpu_found[sp->cur];
	int ok, ok2, ok3;

	c->v[CG_PATH] = 0;
	c->v[CG_CPU] = c->v[CG_USER] = c->v[CG_SYSTEM] = NAN;
	c->v[CG_THR_N] = c->v[CG_THR_PCT] = NAN;
	if ((fa & 7) == 7 && (fb & 7) == 7) {
		/* usec per second of elapsed time: 1e6 is one full core. */
		double u = ps_rate(a[0], b[0], sp->dt, &ok) / 1e4,
		    us = ps_rate(a[1], b[1], sp->dt, &ok2) / 1e4,
		    sy = ps_rate(a[2], b[2], sp->dt, &ok3) / 1e4;

		if (ok && ok2 && ok3) {
			c->v[CG_CPU] = u;
			c->v[CG_USER] = us;
			c->v[CG_SYSTEM] = sy;
		}
		if ((fa & 24) == 24 && (fb & 24) == 24) {
			double n = ps_rate(a[3], b[3], sp->dt, &ok),
			    t = ps_rate(a[4], b[4], sp->dt, &ok2) / 1e4;

			if (ok && ok2) {
				c->v[CG_THR_N] = n;
				c->v[CG_THR_PCT] = t;
			}
		}
	}
	/* Whole KiB; an unlimited memory.max ("max") is left out. */
	c->v[CG_MEM] = isinf(c->mem_cur) ? NAN : floor(c->mem_cur / 1024);
	c->v[CG_MEM_MAX] = isinf(c->mem_max) ? NAN : floor(c->mem_max / 1024);
	c->v[CG_MEM_PCT] = !isnan(c->v[CG_MEM]) && !isnan(c->v[CG_MEM_MAX]) &&
	    c->mem_max > 0 ? 100.0 * c->mem_cur / c->mem_max : NAN;
}

static void
cg_release(void *st)
{
	struct cg *c = st;
	int k;

	ps_src_close(&c->cpu);
	ps_src_close(&c->mem_cur_src);
	ps_src_close(&c->mem_max_src);
	for (k = 0; k < 3; k++)
		ps_src_close(&c->psi_src[k]);
}

static const struct ps_set *const cg_sets[] = { &cg_set, &cg_psi_set, NULL };

const struct ps_group grp_cgroup = {
	.name = "cgroup",
	.help = "the cgroup of --cgroup",
	.flags = PS_GRP_HIDDEN,
	.size = sizeof(struct cg),
	.discover = cg_discover,
	.read = cg_read,
	.derive = cg_derive,
	.release = cg_release,
	.sets = cg_sets,
};
