/* SPDX-License-Identifier: MIT */
/*
 * perf-alert ack: acknowledgements written to the state directory for
 * the running instance.
 */
#include "perf-alert.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_time.h"

/*
 * The firing, unacknowledged alerts the running instance last saved
 * (state.json, at most a second old) whose fingerprint starts with id:
 * more than one is an ambiguous id, listed on stderr. Returns how many.
 */
static size_t
candidates(const char *dir, const char *id, int list)
{
	char path[8192];
	json_t *o, *a;
	size_t i, n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	if ((fd = state_file_open(path, O_RDONLY)) == -1)
		return 0;
	o = json_loadfd(fd, 0, NULL);
	close(fd);
	json_array_foreach(json_object_get(o, "alerts"), i, a) {
		const char *fp = json_string_value(json_object_get(a,
		    "fingerprint"));
		const char *st = json_string_value(json_object_get(a, "state"));
		const char *comp = json_string_value(json_object_get(a,
		    "component"));

		if (fp == NULL || st == NULL || strcmp(st, "firing") != 0 ||
		    json_is_true(json_object_get(a, "acked")) ||
		    strncmp(fp, id, strlen(id)) != 0)
			continue;
		n++;
		if (list)
			fprintf(stderr, "  %s %s on %s%s%s\n", fp,
			    json_string_value(json_object_get(a, "rule")),
			    json_string_value(json_object_get(a, "host")),
			    comp != NULL && *comp ? "/" : "",
			    comp != NULL ? comp : "");
	}
	json_decref(o);
	return n;
}

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
		if ((k = candidates(dir, id, 0)) > 1) {
			pk_warn("ack: '%s' is ambiguous: %zu firing alerts have "
			    "fingerprints that start so; none acknowledged:", id,
			    k);
			candidates(dir, id, 1);
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
