/* SPDX-License-Identifier: MIT */
/*
 * CPU affinity: every thread of a component's process (its pid_file) is
 * pinned to the CPUs of its level (components.NAME.cpus: { LEVEL:
 * "0-3,6" }, every CPU we may use for a level not listed) when its level
 * changes, and held to a listed one (see actuators.c).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"

#include "perf-qualityctl.h"

static int
cpus_load(struct pk_ydoc *doc, const struct pk_ynode *m, void **data)
{
	unsigned long long mask[16];
	const char *s;
	char **cpus;
	size_t i;
	int l;

	if (pk_ynode_expect(doc, m, PK_YMAP, "cpus") == -1)
		return -1;
	cpus = pk_xcalloc(PK_QUALITY_NLEVELS, sizeof(*cpus));
	*data = cpus;
	for (i = 0; i < m->n; i++) {
		if (conf_level(doc, m->keys[i], &l) == -1 ||
		    pk_ynode_str(doc, m->items[i], &s) == -1)
			continue;
		if (pk_quality_cpulist(s, mask) <= 0) {
			pk_yerror(doc, m->items[i], "'%s' is not a CPU list "
			    "(e.g. 0-3,6)", s);
		} else {
			free(cpus[l]);
			cpus[l] = pk_xstrdup(s);
		}
	}
	return 0;
}

static void
cpus_free(void *data)
{
	char **cpus = data;
	int l;

	for (l = 0; l < PK_QUALITY_NLEVELS; l++)
		free(cpus[l]);
	free(cpus);
}

static int
cpus_apply(struct qctl *q, struct comp *k, int level, const void *data,
    long tid)
{
	char *const *cpus = data;
	unsigned long long mask[16];
	cpu_set_t set, cur;
	int c;

	if (cpus[level] != NULL)
		pk_quality_cpulist(cpus[level], mask);
	else
		memcpy(mask, q->allcpus, sizeof(mask));
	CPU_ZERO(&set);
	for (c = 0; c < 1024 && c < CPU_SETSIZE; c++)
		if (mask[c / 64] & (1ULL << (c % 64)))
			CPU_SET(c, &set);
	if (sched_getaffinity((pid_t)tid, sizeof(cur), &cur) == -1)
		return -1;		/* ESRCH: the thread ended */
	if (CPU_EQUAL(&cur, &set))
		return 0;
	if (sched_setaffinity((pid_t)tid, sizeof(set), &set) == 0)
		return 1;
	if (errno != ESRCH && !k->warned)
		pk_warn_errno("%s: cannot set CPU affinity %s on thread %ld "
		    "(reported once)", k->name, cpus[level] != NULL ?
		    cpus[level] : "(all)", tid);
	if (errno != ESRCH)
		k->warned = 1;
	return -1;
}

static int
cpus_holds(const void *data, int level)
{
	return ((char *const *)data)[level] != NULL;
}

const struct actuator_type act_cpus = {
	.name = "cpus",
	.comp_key = "cpus",
	.comp_load = cpus_load,
	.comp_free = cpus_free,
	.apply_task = cpus_apply,
	.holds = cpus_holds,
};
