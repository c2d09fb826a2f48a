/* SPDX-License-Identifier: MIT */
/*
 * The actuators, one row each (act_*.c): what a level change does
 * beyond the quality record. Adding one is one file and one line here;
 * the engine calls every row, in this order (the state file first: the
 * command may read it), and none with --dry-run.
 */
#include <stddef.h>

#include "perf-qualityctl.h"

extern const struct actuator_type act_state, act_nice, act_cpus, act_command;

const struct actuator_type *const act_types[] = {
	&act_state,
	&act_nice,
	&act_cpus,
	&act_command,
	NULL
};

_Static_assert(sizeof(act_types) / sizeof(act_types[0]) <= ACT_TYPES_MAX + 1,
    "more actuator rows than ACT_TYPES_MAX");

int
act_slot(const struct actuator_type *a)
{
	int i;

	for (i = 0; act_types[i] != NULL; i++)
		if (act_types[i] == a)
			return i;
	return -1;
}

/* Row j's setting for k's process, or NULL. */
static const void *
setting(const struct qctl *q, const struct comp *k, size_t j)
{
	return act_types[j]->apply_comp != NULL ?
	    comp_act(q, k, act_types[j]) : NULL;
}

/* The rows with apply_comp, component by component (see the header). */
static void
acts_comps(struct qctl *q, int level)
{
	size_t i, j;
	long pid;
	int cl;

	for (i = 0; i < q->ncomps; i++) {
		struct comp *k = &q->comps[i];

		if (!comp_due(q, k, level, &cl))
			continue;
		k->applied = cl;
		for (j = 0; act_types[j] != NULL && setting(q, k, j) == NULL; j++)
			;
		if (act_types[j] == NULL || (pid = comp_pid(q, k)) < 0)
			continue;
		for (; act_types[j] != NULL; j++)
			if (setting(q, k, j) != NULL)
				act_types[j]->apply_comp(q, k, cl,
				    setting(q, k, j), pid);
	}
}

void
acts_apply(struct qctl *q, const struct pk_quality_change *ch, json_t *rec)
{
	size_t i;
	int comps_done = 0;

	if (q->o->dry_run)
		return;
	for (i = 0; act_types[i] != NULL; i++) {
		if (act_types[i]->apply != NULL)
			act_types[i]->apply(q, ch, rec);
		if (act_types[i]->apply_comp != NULL && !comps_done) {
			acts_comps(q, ch->level);
			comps_done = 1;
		}
	}
	if (!comps_done)
		acts_comps(q, ch->level);
}

/* Call the hook at offset off of every row that has one. */
static void
acts_each(struct qctl *q, size_t off)
{
	size_t i;

	if (q->o->dry_run)
		return;
	for (i = 0; act_types[i] != NULL; i++) {
		void (*const *hook)(struct qctl *) =
		    (void (*const *)(struct qctl *))(const void *)
		    ((const char *)act_types[i] + off);

		if (*hook != NULL)
			(*hook)(q);
	}
}

void
acts_tick(struct qctl *q)
{
	acts_each(q, offsetof(struct actuator_type, tick));
}

void
acts_idle(struct qctl *q)
{
	acts_each(q, offsetof(struct actuator_type, idle));
}

void
acts_release(struct qctl *q)
{
	acts_each(q, offsetof(struct actuator_type, release));
}
