/* SPDX-License-Identifier: MIT */
/*
 * Renice: a component's process (its pid_file) gets the nice value of
 * its level (components.NAME.nice: { LEVEL: N }, 0 for a level not
 * listed) when its level changes.
 */
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

static void
nice_apply(struct qctl *q, struct comp *k, int level, const void *data,
    long pid)
{
	const int *nice = data;

	(void)q;
	if (setpriority(PRIO_PROCESS, (id_t)pid, nice[level]) == -1) {
		if (!k->warned)
			pk_warn_errno("%s: cannot set nice %d on pid %ld "
			    "(reported once)", k->name, nice[level], pid);
		k->warned = 1;
	}
}

const struct actuator_type act_nice = {
	.name = "nice",
	.comp_key = "nice",
	.comp_load = nice_load,
	.comp_free = nice_free,
	.apply_comp = nice_apply,
};
