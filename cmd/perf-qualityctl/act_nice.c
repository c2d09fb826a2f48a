/* SPDX-License-Identifier: MIT */
/*
 * Renice: every thread of a component's process (its pid_file) gets the
 * nice value of its level (components.NAME.nice: { LEVEL: N }, 0 for a
 * level not listed) when its level changes, and is held to a non-zero
 * one (see actuators.c). Linux's nice is per thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "pk_err.h"

#include "perf-qualityctl.h"

static int
nice_load(struct pk_ydoc *doc, const struct pk_ynode *m, void **data)
{
	int *nice;
	long long v;
	size_t i;
	int l;

	if (pk_ynode_expect(doc, m, PK_YMAP, "nice") == -1)
		return -1;
	nice = pk_xcalloc(PK_QUALITY_NLEVELS, sizeof(*nice));
	*data = nice;
	for (i = 0; i < m->n; i++) {
		if (conf_level(doc, m->keys[i], &l) == -1)
			continue;
		if (pk_ynode_int(doc, m->items[i], -20, 19, &v) == 0)
			nice[l] = (int)v;
	}
	return 0;
}

static void
nice_free(void *data)
{
	free(data);
}

static int
nice_apply(struct qctl *q, struct comp *k, int level, const void *data,
    long tid)
{
	const int *nice = data;
	int cur;

	(void)q;
	errno = 0;
	cur = getpriority(PRIO_PROCESS, (id_t)tid);
	if (cur == -1 && errno != 0)
		return -1;		/* ESRCH: the thread ended */
	if (cur == nice[level])
		return 0;
	if (setpriority(PRIO_PROCESS, (id_t)tid, nice[level]) == 0)
		return 1;
	if (errno != ESRCH && !k->warned)
		pk_warn_errno("%s: cannot set nice %d on thread %ld (reported "
		    "once)", k->name, nice[level], tid);
	if (errno != ESRCH)
		k->warned = 1;
	return -1;
}

static int
nice_holds(const void *data, int level)
{
	return ((const int *)data)[level] != 0;
}

const struct actuator_type act_nice = {
	.name = "nice",
	.comp_key = "nice",
	.comp_load = nice_load,
	.comp_free = nice_free,
	.apply_task = nice_apply,
	.holds = nice_holds,
};
