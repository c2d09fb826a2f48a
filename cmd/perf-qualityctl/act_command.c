/* SPDX-License-Identifier: MIT */
/*
 * The on-change command (-e): /bin/sh -c COMMAND on every level change,
 * through pk_spawn, in the background. It reads /dev/null, writes into
 * our stderr (never into the records), gets the PK_QUALITY_* variables
 * of the change and PK_QUALITY_SETTING_* of its level's settings (any
 * inherited PK_QUALITY_* removed); at most MAX_CHILDREN run at
 * once, each reaped when it ends, and waited for at the end of input.
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
		q->children[i] = q->children[--q->nchildren];
	}
}

/*
 * Start cmd for a change to level from prev (-1: none), the settings of
 * level in its environment.
 */
static void
command_start(struct qctl *q, const char *cmd,
    const struct pk_quality_change *ch, int level, int prev)
{
	char **env = NULL;
	size_t i, n = 0;
	struct pk_spawn *s;

	command_reap(q);
	if (q->nchildren == MAX_CHILDREN) {
		pk_warn("%d on-change commands still running: not starting "
		    "another for %s", MAX_CHILDREN,
		    pk_quality_level_name(level));
		q->cmd_failed++;
		return;
	}
	env = pk_xcalloc(10, sizeof(*env));
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
	env[n] = NULL;
	settings_env(q->cfg, level, &env, &n);
	s = &q->children[q->nchildren];
	memset(s, 0, sizeof(*s));
	s->shell_cmd = cmd;
	s->env = (const char *const *)env;
	s->no_stdin = 1;
	s->stdout_to_stderr = 1;
	if (pk_spawn_start(s) == -1) {
		pk_warn_errno("cannot run the on-change command");
		q->cmd_failed++;
	} else {
		q->nchildren++;
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
		command_start(q, q->o->on_change, ch, ch->level, ch->prev);
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
	.apply = command_apply,
	.tick = command_tick,
	.idle = command_tick,
	.release = command_release,
};
