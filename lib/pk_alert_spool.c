/* SPDX-License-Identifier: MIT */
#include "pk_alert_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_hash.h"
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

static uint64_t
mac_of(const unsigned char *mackey, const char *s, size_t n)
{
	return pk_hash_siphash(mackey, s, n);
}

int
pk_alert_spool_write(const char *dir, const unsigned char *mackey,
    unsigned long seq, const char *receiver, int peer, const char *key,
    const json_t *alert, struct pk_alert_spool_entry *e)
{
	json_t *o = json_object();
	char path[4096], *s, *ns;
	double created = pk_now();
	size_t n;
	int r, err;

	memset(e, 0, sizeof(*e));
	json_object_set_new(o, "receiver", json_string(receiver));
	json_object_set_new(o, "peer", json_integer(peer));
	json_object_set_new(o, "key", json_string(key));
	json_object_set_new(o, "created", json_real(created));
	json_object_set(o, "alert", (json_t *)alert);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL || (ns = realloc(s, (n = strlen(s)) + 32)) == NULL) {
		free(s);
		errno = ENOMEM;
		return -1;
	}
	s = ns;
	/* The check of the bytes before it, ending the object. */
	snprintf(s + n - 1, 33, ",\"mac\":\"%016llx\"}",
	    (unsigned long long)mac_of(mackey, s, n));
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
	if (fill(e, path, receiver, peer, key, json_deep_copy(alert)) == -1)
		return -1;
	e->created = created;
	return 0;
}

/* The whole file, at most PK_ALERT_SPOOL_MAX bytes, never through a link. */
static char *
slurp(const char *path, size_t *np, char *why, size_t whysize)
{
	struct stat st;
	char *buf;
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(why, whysize, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > PK_ALERT_SPOOL_MAX) {
		snprintf(why, whysize, S_ISREG(st.st_mode) ? "larger than %d "
		    "bytes" : "not a regular file", PK_ALERT_SPOOL_MAX);
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(why, whysize, "out of memory");
		close(fd);
		return NULL;
	}
	while (n < (size_t)st.st_size &&
	    (r = read(fd, buf + n, (size_t)st.st_size - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(why, whysize, "%s", strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*np = n;
	return buf;
}

/*
 * Whether buf ends with its mac, right under mackey: the bytes before
 * ,"mac":"…"} with a } put back are what was hashed.
 */
static int
mac_ok(const unsigned char *mackey, char *buf, size_t n, char *why,
    size_t whysize)
{
	static const char tag[] = ",\"mac\":\"";
	const size_t tail = sizeof(tag) - 1 + 16 + 2;
	unsigned long long want;
	uint64_t got;
	char hex[17], *end;
	size_t i;

	if (n < tail + 2 || strncmp(buf + n - tail, tag, sizeof(tag) - 1) != 0 ||
	    strcmp(buf + n - 2, "\"}") != 0) {
		snprintf(why, whysize, "no integrity check (not written by this "
		    "perf-alert)");
		return 0;
	}
	memcpy(hex, buf + n - 18, 16);
	hex[16] = '\0';
	for (i = 0; i < 16; i++)
		if (strchr("0123456789abcdef", hex[i]) == NULL)
			break;
	want = strtoull(hex, &end, 16);
	buf[n - tail] = '}';
	got = mac_of(mackey, buf, n - tail + 1);
	memcpy(buf + n - tail, tag, sizeof(tag) - 1);
	if (i < 16 || *end != '\0' || got != (uint64_t)want) {
		snprintf(why, whysize, "fails its integrity check (forged, "
		    "edited, or written under another key)");
		return 0;
	}
	return 1;
}

int
pk_alert_spool_read(const char *path, const unsigned char *mackey,
    struct pk_alert_spool_entry *e, char *why, size_t whysize)
{
	char *buf;
	size_t n;
	int r;

	memset(e, 0, sizeof(*e));
	if ((buf = slurp(path, &n, why, whysize)) == NULL)
		return -1;
	r = pk_alert_spool_parse(path, buf, n, mackey, e, why, whysize);
	free(buf);
	return r;
}

int
pk_alert_spool_parse(const char *path, char *buf, size_t n,
    const unsigned char *mackey, struct pk_alert_spool_entry *e, char *why,
    size_t whysize)
{
	json_error_t je;
	json_t *o, *a;
	const char *rx, *key;
	int r;

	memset(e, 0, sizeof(*e));
	if (!mac_ok(mackey, buf, n, why, whysize))
		return -1;
	o = json_loadb(buf, n, 0, &je);
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
	if (r == 0)
		e->created = json_is_number(json_object_get(o, "created")) ?
		    json_number_value(json_object_get(o, "created")) : pk_now();
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

int
pk_alert_spool_key(const char *statedir, unsigned char *mackey, char *why,
    size_t whysize)
{
	char path[4096];
	struct stat st;
	ssize_t r;
	int fd;

	if (snprintf(path, sizeof(path), "%s/spool.key", statedir) >=
	    (int)sizeof(path)) {
		snprintf(why, whysize, "'%s': path too long", statedir);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd != -1) {
		if (getrandom(mackey, PK_ALERT_SPOOL_KEYLEN, 0) !=
		    PK_ALERT_SPOOL_KEYLEN ||
		    write(fd, mackey, PK_ALERT_SPOOL_KEYLEN) !=
		    PK_ALERT_SPOOL_KEYLEN || fsync(fd) == -1) {
			snprintf(why, whysize, "cannot write '%s': %s", path,
			    strerror(errno));
			close(fd);
			unlink(path);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(why, whysize, "cannot open '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 0077) != 0 ||
	    st.st_size != PK_ALERT_SPOOL_KEYLEN ||
	    (r = read(fd, mackey, PK_ALERT_SPOOL_KEYLEN)) !=
	    PK_ALERT_SPOOL_KEYLEN) {
		snprintf(why, whysize, "'%s' is not a spool key of ours (a "
		    "regular file of %d bytes, ours, mode 0600)", path,
		    PK_ALERT_SPOOL_KEYLEN);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Move path into the directory sub beside it (made 0700); to: where. */
static int
move_into(const char *path, const char *sub, char *to, size_t tosize)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int n = slash ? (int)(slash - path) : 1;

	if (snprintf(dir, sizeof(dir), "%.*s/%s", n, slash ? path : ".",
	    sub) >= (int)sizeof(dir) || snprintf(to, tosize, "%s/%s", dir,
	    slash ? slash + 1 : path) >= (int)tosize) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	return rename(path, to);
}

int
pk_alert_spool_reject(const char *path, char *to, size_t tosize)
{
	return move_into(path, "rejected", to, tosize);
}

int
pk_alert_spool_dead(const char *path, const char *reason, char *to,
    size_t tosize)
{
	char rpath[4200];
	json_t *r;
	char *text;
	int e;

	if (move_into(path, "dead", to, tosize) == -1)
		return -1;
	snprintf(rpath, sizeof(rpath), "%s.reason", to);
	r = json_pack("{s:s,s:f}", "reason", reason, "at", pk_now());
	text = r != NULL ? json_dumps(r, JSON_COMPACT) : NULL;
	json_decref(r);
	if (text == NULL) {
		errno = ENOMEM;
		return -1;
	}
	e = pk_atomic_write(rpath, text, strlen(text), 0600);
	free(text);
	return e;
}

int
pk_alert_spool_requeue(const char *dead_path, char *to, size_t tosize)
{
	char rpath[4200], dir[4096];
	const char *slash = strrchr(dead_path, '/');
	int n;

	/* dead/NAME back to the spool directory above dead/. */
	if (slash == NULL) {
		errno = EINVAL;
		return -1;
	}
	n = (int)(slash - dead_path);
	if (n < 5 || strncmp(dead_path + n - 5, "/dead", 5) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (snprintf(dir, sizeof(dir), "%.*s", n - 5, dead_path) >=
	    (int)sizeof(dir) || snprintf(to, tosize, "%s%s", dir, slash) >=
	    (int)tosize) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (rename(dead_path, to) == -1)
		return -1;
	snprintf(rpath, sizeof(rpath), "%s.reason", dead_path);
	(void)unlink(rpath);
	return 0;
}
