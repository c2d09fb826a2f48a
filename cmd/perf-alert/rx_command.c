/* SPDX-License-Identifier: MIT */
/*
 * The command receiver: a shell command with the alert on its standard
 * input and in its environment (through pk_spawn: its output goes to
 * standard error).
 */
#include "perf-alert.h"

#include <stdlib.h>
#include <string.h>

#include "pk_alert_send.h"
#include "pk_err.h"

struct command {
	char *command;
};

static const char *const command_keys[] = { "command", NULL };

static void
command_release(void *conf)
{
	struct command *c = conf;

	free(c->command);
	free(c);
}

static void *
command_load(struct pk_ydoc *doc, const struct pk_ynode *n,
    const struct receiver *x)
{
	struct command *c = pk_xcalloc(1, sizeof(*c));

	if (conf_str(doc, n, "command", &c->command) == -1) {
		command_release(c);
		return NULL;
	}
	if (c->command == NULL) {
		pk_yerror(doc, n, "receiver '%s' needs a command", x->name);
		command_release(c);
		return NULL;
	}
	return c;
}

static int
command_deliver(struct receiver *x, const struct pk_alert_spool_entry *e,
    atomic_int *stop, char *err, size_t errsize, int *permanent)
{
	static const char *const fields[] = { "rule", "state", "severity",
		"host", "fingerprint", NULL };
	const struct command *c = x->conf;
	const json_t *a = e->alert;
	char *envp[8], *body;
	size_t nenv = 0, i;
	int rc, k;

	(void)permanent;
	for (k = 0; fields[k] != NULL; k++) {
		const char *v = json_string_value(json_object_get(a, fields[k]));
		char up[32];
		size_t m;

		for (m = 0; fields[k][m] != '\0' && m < sizeof(up) - 1; m++)
			up[m] = (char)(fields[k][m] - 'a' + 'A');
		up[m] = '\0';
		envp[nenv++] = pk_xasprintf("PERF_ALERT_%s=%s", up, v ? v : "");
	}
	envp[nenv++] = pk_xasprintf("PERF_ALERT_KEY=%s", e->key);
	envp[nenv] = NULL;
	body = json_dumps(a, JSON_COMPACT);
	rc = pk_alert_command(c->command, envp, body, strlen(body),
	    x->timeout_s, stop, err, errsize);
	free(body);
	for (i = 0; i < nenv; i++)
		free(envp[i]);
	return rc;
}

const struct receiver_type rx_command = {
	.name = "command",
	.keys = command_keys,
	.load = command_load,
	.deliver = command_deliver,
	.release = command_release,
};
