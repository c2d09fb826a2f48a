/* SPDX-License-Identifier: MIT */
/*
 * perf-alert ack: acknowledgements written to the state directory for
 * the running instance.
 */
#include "perf-alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_time.h"

int
cmd_ack(void *ctx, int argc, char **argv)
{
	const struct alert_opts *o = ctx;
	struct config *cfg;
	const char *dir = state_dir_of(o, &cfg), *user = getenv("USER");
	char path[8192], *s;
	int i, status = PK_EXIT_OK;

	if (argc == 0) {
		pk_warn("ack: no alert id");
		config_free(cfg);
		return PK_EXIT_USAGE;
	}
	state_dir_ready(dir, 1);
	for (i = 0; i < argc; i++) {
		const char *id = argv[i];
		json_t *a;
		size_t k, n = strlen(id);

		for (k = 0; k < n; k++)
			if (strchr("0123456789abcdef", id[k]) == NULL)
				break;
		if (n < 4 || n > 16 || k < n) {
			pk_warn("ack: '%s' is not an alert id (4 to 16 hex "
			    "digits of a fingerprint)", id);
			status = PK_EXIT_USAGE;
			continue;
		}
		a = json_object();
		json_object_set_new(a, "id", json_string(id));
		json_object_set_new(a, "wall", json_real(pk_now()));
		json_object_set_new(a, "by", json_string(user ? user : ""));
		if (o->message != NULL)
			json_object_set_new(a, "comment",
			    json_string(o->message));
		s = json_dumps(a, JSON_COMPACT);
		snprintf(path, sizeof(path), "%s/ack/%s", dir, id);
		if (pk_atomic_write(path, s, strlen(s), 0600) == -1) {
			pk_warn_errno("cannot write '%s'", path);
			status = PK_EXIT_IO;
		}
		free(s);
		json_decref(a);
	}
	config_free(cfg);
	return status;
}
