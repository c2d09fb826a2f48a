/* SPDX-License-Identifier: MIT */
/*
 * The on-change command (-e): /bin/sh -c COMMAND on every level change,
 * through pk_spawn, in the background. It reads /dev/null, writes into
 * our stderr (never into the records), gets the PK_QUALITY_* variables
 * of the change and PK_QUALITY_SETTING_* of its level's settings (any
 * inherited PK_QUALITY_* removed). A component's own command
 * (components.NAME.on_change) runs when its own level changes, with its
 * level, previous level and settings, PK_QUALITY_COMPONENT and
 * PK_QUALITY_PRIORITY. At most MAX_CHILDREN of one command run at once
 * (MAX_CHILDREN_ALL in all), each reaped when it ends, and waited for
 * at the end of input.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "pk_err.h"

#include "perf-qualityctl.h"

static void
command_reap(struct qctl *q)
{
	int i, r;

	for (i = 0; i < q->nchildren;) {
		struct pk_spawn *s = &q->children[i];

		if ((r = pk_spawn_poll(s)) == 0) {
			i++;
			continue;
		}
		if (r == 1 && WIFEXITED(s->status) && WEXITSTATUS(s->status) != 0)
			pk_warn("on-change command exited with status %d",
			    WEXITSTATUS(s->status));
		else if (r == 1 && WIFSIGNALED(s->status))
			pk_warn("on-change command killed by signal %d",
			    WTERMSIG(s->status));
		if (r == -1 || !WIFEXITED(s->status) ||
		    WEXITSTATUS(s->status) != 0)
			q->cmd_failed++;
		pk_spawn_release(s);
		q->nchildren--;
		q->children[i] = q->children[q->nchildren];
		q->child_of[i] = q->child_of[q->nchildren];
	}
}

/*
 * Start cmd for a change; k: a component's own (its level, previous
 * level and settings), NULL: -e (the global ones).
 */
static void
command_start(struct qctl *q, const char *cmd,
    const struct pk_quality_change *ch, const struct comp *k)
{
	int level = k != NULL ? k->applied : ch->level;
	int prev = k != NULL ? k->prev : ch->prev;
	int owner = k != NULL ? (int)(k - q->comps) : -1;
	char **env = NULL;
	size_t i, n = 0;
	struct pk_spawn *s;
	int mine = 0;

	command_reap(q);
	for (i = 0; i < (size_t)q->nchildren; i++)
		mine += q->child_of[i] == owner;
	if (mine == MAX_CHILDREN || q->nchildren == MAX_CHILDREN_ALL) {
		pk_warn("%d on-change commands%s%s still running: not starting "
		    "another for %s", mine == MAX_CHILDREN ? MAX_CHILDREN :
		    MAX_CHILDREN_ALL, k != NULL ? " of " : "",
		    k != NULL ? k->name : "", pk_quality_level_name(level));
		q->cmd_failed++;
		return;
	}
	env = pk_xcalloc(12, sizeof(*env));
	env[n++] = pk_xstrdup("PK_QUALITY_*");
	env[n++] = pk_xasprintf("PK_QUALITY_LEVEL=%s",
	    pk_quality_level_name(level));
	env[n++] = pk_xasprintf("PK_QUALITY_LEVEL_INDEX=%d", level);
	env[n++] = pk_xasprintf("PK_QUALITY_PREV=%s",
	    prev < 0 ? "" : pk_quality_level_name(prev));
	env[n++] = pk_xasprintf("PK_QUALITY_REASON=%s",
	    pk_quality_reason_name(ch->reason));
	env[n++] = pk_xasprintf("PK_QUALITY_PRESSURE=%.1f",
	    isnan(ch->pressure) ? 0.0 : ch->pressure);
	env[n++] = pk_xasprintf("PK_QUALITY_OVERRIDE=%d",
	    q->ctl.override >= 0);
	env[n++] = pk_xasprintf("PK_QUALITY_STATE=%s",
	    q->have_dir ? q->state_path : "");
	if (k != NULL) {
		env[n++] = pk_xasprintf("PK_QUALITY_COMPONENT=%s", k->name);
		env[n++] = pk_xasprintf("PK_QUALITY_PRIORITY=%d",
		    comp_prio(q, k));
	}
	env[n] = NULL;
	settings_env(q->cfg, level, &env, &n);
	s = &q->children[q->nchildren];
	memset(s, 0, sizeof(*s));
	s->shell_cmd = cmd;
	s->env = (const char *const *)env;
	s->no_stdin = 1;
	s->stdout_to_stderr = 1;
	if (pk_spawn_start(s) == -1) {
		if (k != NULL)
			pk_warn_errno("cannot run the on-change command of %s",
			    k->name);
		else
			pk_warn_errno("cannot run the on-change command");
		q->cmd_failed++;
	} else {
		q->child_of[q->nchildren++] = owner;
		q->cmd_run++;
	}
	s->env = NULL;		/* env is ours only until here */
	for (i = 0; i < n; i++)
		free(env[i]);
	free(env);
}

static void
command_apply(struct qctl *q, const struct pk_quality_change *ch, json_t *rec)
{
	(void)rec;
	if (q->o->on_change != NULL)
		command_start(q, q->o->on_change, ch, NULL);
}

/* components.NAME.on_change: a command of the component's own. */
static int
command_load(struct pk_ydoc *doc, const struct pk_ynode *n, void **data)
{
	const char *s;

	if (pk_ynode_str(doc, n, &s) == -1)
		return -1;
	if (*s == '\0')
		return pk_yerror(doc, n, "on_change: an empty command");
	*data = pk_xstrdup(s);
	return 0;
}

static void
command_comp_change(struct qctl *q, struct comp *k, const void *data,
    const struct pk_quality_change *ch)
{
	command_start(q, data, ch, k);
}

static void
command_tick(struct qctl *q)
{
	if (q->nchildren > 0)
		command_reap(q);
}

/* At the end: wait for those still running, unless SIGINT/SIGTERM. */
static void
command_release(struct qctl *q)
{
	const struct timespec pause = { 0, 10000000 };

	command_reap(q);
	while (q->nchildren > 0 && !pk_stop) {
		nanosleep(&pause, NULL);
		command_reap(q);
	}
}

const struct actuator_type act_command = {
	.name = "command",
	.comp_key = "on_change",
	.comp_load = command_load,
	.comp_free = free,
	.apply = command_apply,
	.comp_change = command_comp_change,
	.tick = command_tick,
	.idle = command_tick,
	.release = command_release,
};
