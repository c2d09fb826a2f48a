/* SPDX-License-Identifier: MIT */
/*
 * The actuators, one row each (act_*.c): what a level change does
 * beyond the quality record. Adding one is one file and one line here;
 * the engine calls every row, in this order (the threads first: the
 * record, and so the state file, says how many were changed; the state
 * file before the command, which may read it), and none with --dry-run.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "pk_err.h"
#include "pk_num.h"
#include "pk_time.h"

#include "perf-qualityctl.h"

extern const struct actuator_type act_state, act_nice, act_cpus, act_command;

const struct actuator_type *const act_types[] = {
	&act_nice,
	&act_cpus,
	&act_state,
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

/* Row j's thread setting for k, or NULL. */
static const void *
setting(const struct qctl *q, const struct comp *k, size_t j)
{
	return act_types[j]->apply_task != NULL ?
	    comp_act(q, k, act_types[j]) : NULL;
}

/* Whether row j acts on k's threads at level (held: only if not default). */
static int
acts_on(const struct qctl *q, const struct comp *k, size_t j, int level,
    int held)
{
	const void *d = setting(q, k, j);

	return d != NULL && (!held || act_types[j]->holds(d, level));
}

/*
 * Every thread of pid to k's level (held: only the rows whose setting
 * at that level is not the default): the number of threads changed, or
 * -1 if the process cannot be read; *failed counts the threads a row
 * failed on.
 */
static long
tasks_apply(struct qctl *q, struct comp *k, int level, long pid, int held,
    long *failed)
{
	char path[64];
	struct dirent *e;
	long changed = 0;
	DIR *d;

	*failed = 0;
	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	if ((d = opendir(path)) == NULL) {
		if (!k->warned)
			pk_warn_errno("%s: cannot read the threads of pid %ld "
			    "(reported once)", k->name, pid);
		k->warned = 1;
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		const char *why;
		int64_t tid;
		int any = 0, bad = 0;
		size_t j;

		if (e->d_name[0] == '.' ||
		    pk_parse_i64(e->d_name, 1, 4194304, &tid, &why) == -1)
			continue;
		for (j = 0; act_types[j] != NULL; j++) {
			int r;

			if (!acts_on(q, k, j, level, held))
				continue;
			r = act_types[j]->apply_task(q, k, level,
			    setting(q, k, j), (long)tid);
			if (r == 1)
				any = 1;
			else if (r == -1 && errno != ESRCH)
				bad = 1;
		}
		changed += any;
		*failed += bad;
	}
	closedir(d);
	return changed;
}

/* Whether k has a setting of a thread row (held: a non-default one). */
static int
has_task_rows(const struct qctl *q, const struct comp *k, int level,
    int held)
{
	size_t j;

	for (j = 0; act_types[j] != NULL; j++)
		if (acts_on(q, k, j, level, held))
			return 1;
	return 0;
}

/* The thread rows for the components due, their actuation in rec. */
static void
acts_tasks(struct qctl *q, json_t *rec)
{
	json_t *comps = json_object_get(rec, "components");
	size_t i;
	long pid, n, failed;
	int cl;

	for (i = 0; i < q->ncomps; i++) {
		struct comp *k = &q->comps[i];
		json_t *a, *o;

		if (!k->due)
			continue;
		cl = k->applied;
		if (!has_task_rows(q, k, cl, 0) || (pid = comp_pid(q, k)) < 0)
			continue;
		n = tasks_apply(q, k, cl, pid, 0, &failed);
		if (n < 0 || (o = json_object_get(comps, k->name)) == NULL)
			continue;
		a = json_object();
		json_object_set_new(a, "pid", json_integer(pid));
		json_object_set_new(a, "threads", json_integer(n));
		if (failed > 0)
			json_object_set_new(a, "threads_failed",
			    json_integer(failed));
		json_object_set_new(o, "actuation", a);
	}
}

void
acts_refresh(struct qctl *q, int force)
{
	double now;
	size_t i;
	long pid, failed;

	if (q->o->dry_run)
		return;
	now = pk_mono();
	if (!force && now - q->last_refresh < 0.1)
		return;
	q->last_refresh = now;
	for (i = 0; i < q->ncomps; i++) {
		struct comp *k = &q->comps[i];

		if (k->cfg < 0 || k->applied < 0 ||
		    !has_task_rows(q, k, k->applied, 1) ||
		    (pid = comp_pid(q, k)) < 0)
			continue;
		tasks_apply(q, k, k->applied, pid, 1, &failed);
	}
}

/* Row j's comp_change for every component due that has its setting. */
static void
acts_comp_change(struct qctl *q, size_t j, const struct pk_quality_change *ch)
{
	size_t i;

	for (i = 0; i < q->ncomps; i++) {
		struct comp *k = &q->comps[i];
		const void *d;

		if (k->due && (d = comp_act(q, k, act_types[j])) != NULL)
			act_types[j]->comp_change(q, k, d, ch);
	}
}

void
acts_apply(struct qctl *q, const struct pk_quality_change *ch, json_t *rec)
{
	size_t i;
	int tasks_done = 0, cl;

	if (q->o->dry_run)
		return;
	for (i = 0; i < q->ncomps; i++) {
		struct comp *k = &q->comps[i];

		k->due = comp_due(q, k, ch->level, &cl);
		if (k->due) {
			k->prev = k->applied;
			k->applied = cl;
		}
	}
	for (i = 0; act_types[i] != NULL; i++) {
		if (act_types[i]->apply_task != NULL && !tasks_done) {
			acts_tasks(q, rec);
			tasks_done = 1;
		}
		if (act_types[i]->apply != NULL)
			act_types[i]->apply(q, ch, rec);
		if (act_types[i]->comp_change != NULL)
			acts_comp_change(q, i, ch);
	}
	if (!tasks_done)
		acts_tasks(q, rec);
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
