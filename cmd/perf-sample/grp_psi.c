/* SPDX-License-Identifier: MIT */
/* psi: the pressure stall information of /proc/pressure/. */
#include <math.h>

#include "perf-sample.h"

const char *const ps_psi_names[3] = { "cpu", "memory", "io" };

static const struct ps_metric psi_metrics[PS_PSI_NM] = {
	PS_PSI_METRICS("psi.*.", "perfkit_pressure_ratio")
};

struct psi {
	struct ps_view view;
	struct ps_inst inst[3];
	double v[3][PS_PSI_NM];
	struct ps_src src[3];
};

static const struct ps_set psi_set = {
	psi_metrics, PS_NMETRICS(psi_metrics), { "resource", NULL },
	offsetof(struct psi, view)
};

void
ps_psi_read(struct ps_sampler *sp, struct ps_src *s, double *v)
{
	struct pk_procfs_psi psi;
	struct pk_procfs_err e;
	const char *buf;
	size_t len;
	int i;

	for (i = 0; i < PS_PSI_NM; i++)
		v[i] = NAN;
	if (ps_src_read(sp, s, &buf, &len) == -1)
		return;
	if (pk_procfs_psi_parse(buf, len, &psi, &e) == -1)
		ps_src_bad(sp, s, &e);
	for (i = 0; i < 3; i++) {
		if (psi.have_some)
			v[i] = psi.some[i];
		if (psi.have_full)
			v[3 + i] = psi.full[i];
	}
}

static int
psi_discover(struct ps_sampler *sp, void *st)
{
	struct psi *p = st;
	int k;

	(void)sp;
	for (k = 0; k < 3; k++) {
		ps_src_set(&p->src[k], PS_ROOT_PROC, "pressure/%s",
		    ps_psi_names[k]);
		p->inst[k].name = p->inst[k].lv[0] = ps_psi_names[k];
		p->inst[k].v = p->v[k];
	}
	p->view.inst = p->inst;
	p->view.n = 3;
	return 1;
}

static void
psi_read(struct ps_sampler *sp, void *st)
{
	struct psi *p = st;
	int k;

	for (k = 0; k < 3; k++)
		ps_psi_read(sp, &p->src[k], p->v[k]);
}

static void
psi_release(void *st)
{
	struct psi *p = st;
	int k;

	for (k = 0; k < 3; k++)
		ps_src_close(&p->src[k]);
}

static const struct ps_set *const psi_sets[] = { &psi_set, NULL };

const struct ps_group grp_psi = {
	.name = "psi",
	.help = "pressure stall information",
	.flags = PS_GRP_DEFAULT,
	.size = sizeof(struct psi),
	.discover = psi_discover,
	.read = psi_read,
	.release = psi_release,
	.sets = psi_sets,
};
