/* SPDX-License-Identifier: MIT */
/* cpu: the shares of all CPU time per mode, from /proc/stat. */
#include <math.h>

#include "perf-sample.h"

#define MODE(m) {							\
	"cpu." m, "perfkit_cpu_mode_ratio",				\
	"Share of all CPU time per mode (0-1).", "%", PK_PROM_GAUGE,	\
	PS_NUM, 2, 6, { { "mode", m } } }

static const struct ps_metric cpu_metrics[PS_CPU_NSHARES] = {
	{ "cpu.util", "perfkit_cpu_util_ratio", "Busy share of all CPUs (0-1).",
	    "%", PK_PROM_GAUGE, PS_NUM, 2, 6 },
	MODE("user"), MODE("system"), MODE("iowait"), MODE("steal"),
	MODE("nice"), MODE("irq"), MODE("softirq"), MODE("idle"),
};

struct cpu {
	struct ps_view view;
	struct ps_inst inst;
	double v[PS_CPU_NSHARES];
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
	struct cpu *c = st;
	int i;

	if (sp->have_stat[sp->prev] && sp->have_stat[sp->cur])
		ps_cpu_shares(&sp->st[sp->prev].all, &sp->st[sp->cur].all, c->v);
	else
		for (i = 0; i < PS_CPU_NSHARES; i++)
			c->v[i] = NAN;
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
