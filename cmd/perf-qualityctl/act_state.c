/* SPDX-License-Identifier: MIT */
/*
 * The state file: DIR/state.json holds the last change record, replaced
 * atomically. At once when an on-change command will read it, else at
 * most ten times a second, so that replaying a log does not fsync per
 * change; the rest is written at the next record, idle tick or the end.
 */
#include <string.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_time.h"

#include "perf-qualityctl.h"

void
state_flush(struct qctl *q, int force)
{
	double now;
	char *s;
	size_t n;

	if (q->state == NULL)
		return;
	now = pk_mono();
	if (!force && now - q->state_written < 0.1)
		return;
	q->state_written = now;
	n = json_dumpb(q->state, NULL, 0, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (n == 0) {
		pk_warn("cannot serialise the state");
		return;
	}
	s = pk_xmalloc(n + 1);
	n = json_dumpb(q->state, s, n, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(q->state);
	q->state = NULL;
	s[n] = '\n';
	/*
	 * 0644: applications (often another user: a camera service) read
	 * this file; it holds no secret. The directory's mode decides who
	 * may write the override.
	 */
	if (pk_atomic_write(q->state_path, s, n + 1, 0644) == -1)
		pk_warn_errno("cannot write the state file '%s'", q->state_path);
	free(s);
}

/* Whether a component has a command of its own. */
static int
comp_commands(const struct qctl *q)
{
	extern const struct actuator_type act_command;
	int slot = act_slot(&act_command);
	size_t i;

	for (i = 0; i < q->cfg->ncomps; i++)
		if (q->cfg->comps[i].act[slot] != NULL)
			return 1;
	return 0;
}

static void
state_apply(struct qctl *q, const struct pk_quality_change *ch, json_t *rec)
{
	(void)ch;
	if (!q->have_dir)
		return;
	json_decref(q->state);
	q->state = json_incref(rec);
	/* A command may read the state file: it must be current. */
	state_flush(q, q->o->on_change != NULL || comp_commands(q));
}

static void
state_tick(struct qctl *q)
{
	state_flush(q, 0);
}

static void
state_idle(struct qctl *q)
{
	state_flush(q, 1);
}

const struct actuator_type act_state = {
	.name = "state",
	.apply = state_apply,
	.tick = state_tick,
	.idle = state_idle,
	.release = state_idle,
};
