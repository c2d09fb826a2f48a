/* SPDX-License-Identifier: MIT */
/*
 * The command receiver: a shell command with the alert on its standard
 * input and in its environment (through pk_spawn: its output goes to
 * standard error).
 */
#include "perf-alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_alert_send.h"
#include "pk_err.h"

int
deliver_command(struct receiver *x, const struct job *j, atomic_int *stopping,
    char *err, size_t errsize)
{
	const json_t *a = j->e.alert;
	static const char *const fields[] = { "rule", "state", "severity",
		"host", "fingerprint", NULL };
	char *envp[8], *body;
	size_t nenv = 0, i;
	int rc, k;

	for (k = 0; fields[k] != NULL; k++) {
		const char *v = json_string_value(json_object_get(a, fields[k]));
		char *e, up[32];
		size_t m;

		for (m = 0; fields[k][m] != '\0' && m < sizeof(up) - 1; m++)
			up[m] = (char)(fields[k][m] - 'a' + 'A');
		up[m] = '\0';
		if (asprintf(&e, "PERF_ALERT_%s=%s", up, v ? v : "") == -1)
			pk_die(PK_EXIT_IO, "out of memory");
		envp[nenv++] = e;
	}
	if (asprintf(&envp[nenv++], "PERF_ALERT_KEY=%s", j->e.key) == -1)
		pk_die(PK_EXIT_IO, "out of memory");
	envp[nenv] = NULL;
	body = json_dumps(a, JSON_COMPACT);
	rc = pk_alert_command(x->command, envp, body, strlen(body),
	    x->timeout_s, stopping, err, errsize);
	free(body);
	for (i = 0; i < nenv; i++)
		free(envp[i]);
	return rc;
}
