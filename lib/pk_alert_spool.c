/* SPDX-License-Identifier: MIT */
#include "pk_alert_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_io.h"
#include "pk_time.h"

static int
fill(struct pk_alert_spool_entry *e, const char *path, const char *receiver,
    int peer, const char *key, json_t *alert)
{
	e->file = strdup(path);
	e->receiver = strdup(receiver);
	e->key = strdup(key);
	e->peer = peer;
	e->alert = alert;
	if (e->file == NULL || e->receiver == NULL || e->key == NULL ||
	    e->alert == NULL) {
		pk_alert_spool_entry_release(e);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
pk_alert_spool_write(const char *dir, unsigned long seq, const char *receiver,
    int peer, const char *key, const json_t *alert,
    struct pk_alert_spool_entry *e)
{
	json_t *o = json_object();
	char path[4096], *s;
	int r, err;

	memset(e, 0, sizeof(*e));
	json_object_set_new(o, "receiver", json_string(receiver));
	json_object_set_new(o, "peer", json_integer(peer));
	json_object_set_new(o, "key", json_string(key));
	json_object_set_new(o, "created", json_real(pk_now()));
	json_object_set(o, "alert", (json_t *)alert);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/%016.0f-%d-%06lu.json", dir,
	    pk_now() * 1000, (int)getpid(), seq) >= (int)sizeof(path)) {
		free(s);
		errno = ENAMETOOLONG;
		return -1;
	}
	r = pk_atomic_write(path, s, strlen(s), 0600);
	err = errno;
	free(s);
	if (r == -1) {
		errno = err;
		return -1;
	}
	return fill(e, path, receiver, peer, key, json_deep_copy(alert));
}

int
pk_alert_spool_read(const char *path, struct pk_alert_spool_entry *e,
    char *why, size_t whysize)
{
	json_error_t je;
	json_t *o, *a;
	const char *rx, *key;
	int r, fd;

	memset(e, 0, sizeof(*e));
	/* Never through a link planted in the spool. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(why, whysize, "%s", strerror(errno));
		return -1;
	}
	o = json_loadfd(fd, 0, &je);
	close(fd);
	if (o == NULL) {
		snprintf(why, whysize, "%s", je.text);
		return -1;
	}
	rx = json_string_value(json_object_get(o, "receiver"));
	key = json_string_value(json_object_get(o, "key"));
	a = json_object_get(o, "alert");
	if (rx == NULL || key == NULL || !json_is_object(a) ||
	    !json_is_integer(json_object_get(o, "peer"))) {
		json_decref(o);
		snprintf(why, whysize, "not a spool entry");
		return -1;
	}
	r = fill(e, path, rx, (int)json_integer_value(json_object_get(o,
	    "peer")), key, json_incref(a));
	json_decref(o);
	if (r == -1)
		snprintf(why, whysize, "out of memory");
	return r;
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
pk_alert_spool_list(const char *dir, char ***paths, size_t *np)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL, **nv, path[4096];
	size_t n = 0, cap = 0, i;

	*paths = NULL;
	*np = 0;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		/* An interrupted write was never queued: nothing to send. */
		if (strstr(de->d_name, ".json.tmp.") != NULL) {
			unlink(path);
			continue;
		}
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[n] = strdup(path)) == NULL)
			goto nomem;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), namecmp);
	*paths = v;
	*np = n;
	return 0;
nomem:
	closedir(d);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	errno = ENOMEM;
	return -1;
}

int
pk_alert_spool_remove(const struct pk_alert_spool_entry *e)
{
	if (unlink(e->file) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

void
pk_alert_spool_entry_release(struct pk_alert_spool_entry *e)
{
	free(e->file);
	free(e->receiver);
	free(e->key);
	json_decref(e->alert);
	memset(e, 0, sizeof(*e));
}
