/* SPDX-License-Identifier: MIT */
/* cpu: the shares of all CPU time per mode, from /proc/stat. */
#include <math.h>

#include "perf-sample.h"

#define MODE(m) {							\
	"cpu." m, "perfkit_cpu_mode_ratio",				\
	"Share of all CPU time per mode (0-1).", "%", PK_PROM_GAUGE,	\
	PS_NUM, 2, 6, { { "mode", m } } }

/* The kernel's own counters, for rate() over any window. */
#define SECONDS(m) {							\
	NULL, "perfkit_cpu_seconds_total",				\
	"CPU time spent in each mode since boot, all CPUs together.",	\
	"s", PK_PROM_COUNTER, PS_NUM, 0, 2, { { "mode", m } } }

#define NSECONDS 8

static const struct ps_metric cpu_metrics[PS_CPU_NSHARES + NSECONDS] = {
	{ "cpu.util", "perfkit_cpu_util_ratio", "Busy share of all CPUs (0-1).",
	    "%", PK_PROM_GAUGE, PS_NUM, 2, 6 },
	MODE("user"), MODE("system"), MODE("iowait"), MODE("steal"),
	MODE("nice"), MODE("irq"), MODE("softirq"), MODE("idle"),
	SECONDS("user"), SECONDS("system"), SECONDS("iowait"), SECONDS("steal"),
	SECONDS("nice"), SECONDS("irq"), SECONDS("softirq"), SECONDS("idle"),
};

struct cpu {
	struct ps_view view;
	struct ps_inst inst;
	double v[PS_CPU_NSHARES + NSECONDS];
};

static const struct ps_set cpu_set = {
	cpu_metrics, PS_NMETRICS(cpu_metrics), { NULL },
	offsetof(struct cpu, view)
};

/*
 * Shares of each mode between two readings. A counter that went back is
 * taken as no time: iowait (and on some kernels idle) is documented to
 * decrease now and then, and that must not lose the whole sample.
 */
void
ps_cpu_shares(const struct pk_procfs_cpu *a, const struct pk_procfs_cpu *b,
    double *v)
{
#define DELTA(f) (b->f > a->f ? (double)(b->f - a->f) : 0.0)
	double user = DELTA(user), nice = DELTA(nice), system = DELTA(system),
	    idle = DELTA(idle), iowait = DELTA(iowait), irq = DELTA(irq),
	    softirq = DELTA(softirq), steal = DELTA(steal);
#undef DELTA
	double t = user + nice + system + idle + iowait + irq + softirq + steal;
	int i;

	if (!(t > 0)) {
		for (i = 0; i < PS_CPU_NSHARES; i++)
			v[i] = NAN;
		return;
	}
	t /= 100.0;
	v[1] = user / t;
	v[2] = system / t;
	v[3] = iowait / t;
	v[4] = steal / t;
	v[5] = nice / t;
	v[6] = irq / t;
	v[7] = softirq / t;
	v[8] = idle / t;
	v[0] = 100.0 - v[8] - v[3];
	if (v[0] < 0)
		v[0] = 0;
}

static int
cpu_discover(struct ps_sampler *sp, void *st)
{
	struct cpu *c = st;

	(void)sp;
	ps_view_one(&c->view, &c->inst, c->v);
	return 1;
}

static void
cpu_derive(struct ps_sampler *sp, void *st)
{
	const struct pk_procfs_cpu *t = &sp->st[sp->cur].all;
	struct cpu *c = st;
	double hz = (double)sp->clk_tck, *sec = c->v + PS_CPU_NSHARES;
	int i;

	if (sp->have_stat[sp->prev] && sp->have_stat[sp->cur])
		ps_cpu_shares(&sp->st[sp->prev].all, t, c->v);
	else
		for (i = 0; i < PS_CPU_NSHARES; i++)
			c->v[i] = NAN;
	if (!sp->have_stat[sp->cur]) {
		for (i = 0; i < NSECONDS; i++)
			sec[i] = NAN;
		return;
	}
	sec[0] = (double)t->user / hz;
	sec[1] = (double)t->system / hz;
	sec[2] = (double)t->iowait / hz;
	sec[3] = (double)t->steal / hz;
	sec[4] = (double)t->nice / hz;
	sec[5] = (double)t->irq / hz;
	sec[6] = (double)t->softirq / hz;
	sec[7] = (double)t->idle / hz;
}

static const struct ps_set *const cpu_sets[] = { &cpu_set, NULL };

const struct ps_group grp_cpu = {
	.name = "cpu",
	.help = "shares of all CPU time per mode",
	.flags = PS_GRP_DEFAULT,
	.size = sizeof(struct cpu),
	.discover = cpu_discover,
	.derive = cpu_derive,
	.sets = cpu_sets,
};
