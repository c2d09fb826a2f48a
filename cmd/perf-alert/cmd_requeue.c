/* SPDX-License-Identifier: MIT */
/*
 * The dead letters (SPOOL/dead/): notifications a receiver refused for
 * good. perf-alert stats lists them (dead_letters_list); perf-alert
 * requeue [NAME ...] puts them (all, or those named) back in the spool,
 * to be delivered at the next start.
 */
#include "perf-alert.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_alert_spool.h"
#include "pk_err.h"
#include "pk_io.h"

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The dead letters' file names (NAME.json) in dir/spool/dead, sorted. */
static char **
dead_names(const char *dir, size_t *n)
{
	char path[8192], **v = NULL;
	struct dirent *de;
	DIR *d;
	size_t l;

	*n = 0;
	snprintf(path, sizeof(path), "%s/spool/dead", dir);
	if ((d = opendir(path)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		v = pk_xreallocarray(v, *n + 1, sizeof(*v));
		v[(*n)++] = pk_xstrdup(de->d_name);
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), by_name);
	return v;
}

/* The reason beside a dead letter, or NULL. */
static json_t *
reason_of(const char *path)
{
	char rpath[8300];
	json_error_t e;

	snprintf(rpath, sizeof(rpath), "%s.reason", path);
	return json_load_file(rpath, JSON_REJECT_DUPLICATES, &e);
}

/* One dead_letter record per dead letter of dir; how many. */
size_t
dead_letters_list(const char *dir)
{
	unsigned char key[PK_ALERT_SPOOL_KEYLEN];
	char path[8192], why[512];
	struct pk_alert_spool_entry e;
	size_t n, i, shown = 0;
	char **v = dead_names(dir, &n);
	int keyed;

	keyed = pk_alert_spool_key(dir, key, why, sizeof(why)) == 0;
	for (i = 0; i < n; i++) {
		json_t *r, *rs;

		snprintf(path, sizeof(path), "%s/spool/dead/%s", dir, v[i]);
		r = json_pack("{s:s,s:s}", "type", "dead_letter", "file", path);
		if (keyed && pk_alert_spool_read(path, key, &e, why,
		    sizeof(why)) == 0) {
			json_object_set_new(r, "receiver",
			    json_string(e.receiver));
			json_object_set_new(r, "key", json_string(e.key));
			json_object_set(r, "rule", json_object_get(e.alert,
			    "rule"));
			json_object_set(r, "state", json_object_get(e.alert,
			    "state"));
			json_object_set(r, "host", json_object_get(e.alert,
			    "host"));
			json_object_set_new(r, "created", json_real(e.created));
			pk_alert_spool_entry_release(&e);
		} else {
			json_object_set_new(r, "unreadable", json_string(keyed ?
			    why : "no spool key"));
		}
		if ((rs = reason_of(path)) != NULL) {
			json_object_set(r, "reason", json_object_get(rs,
			    "reason"));
			json_object_set(r, "dead_at", json_object_get(rs, "at"));
			json_decref(rs);
		}
		pk_emit_json(r);
		json_decref(r);
		shown++;
		free(v[i]);
	}
	free(v);
	return shown;
}

int
cmd_requeue(void *ctx, int argc, char **argv)
{
	const struct alert_opts *o = ctx;
	struct config *cfg;
	const char *dir = state_dir_of(o, &cfg);
	char path[8192], to[8192];
	size_t n = 0, i;
	char **v;
	int k, status = PK_EXIT_OK;

	state_dir_ready(dir, 0);
	if (argc > 0) {
		v = pk_xcalloc((size_t)argc, sizeof(*v));
		for (k = 0; k < argc; k++) {
			const char *b = strrchr(argv[k], '/');

			v[n++] = pk_xstrdup(b != NULL ? b + 1 : argv[k]);
		}
	} else {
		v = dead_names(dir, &n);
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/spool/dead/%s", dir, v[i]);
		if (strchr(v[i], '/') != NULL || v[i][0] == '.' ||
		    pk_alert_spool_requeue(path, to, sizeof(to)) == -1) {
			pk_warn_errno("cannot requeue '%s'", path);
			status = PK_EXIT_IO;
		} else {
			json_t *r = json_pack("{s:s,s:s}", "type", "requeued",
			    "file", to);

			pk_emit_json(r);
			json_decref(r);
		}
		free(v[i]);
	}
	free(v);
	config_free(cfg);
	pk_close_stdout();
	return status;
}
