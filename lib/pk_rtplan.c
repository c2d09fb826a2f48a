/* SPDX-License-Identifier: MIT */
#include "pk_rtplan.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_rtcheck.h"

#define MAXCPU	1024
#define VALMAX	256

/* A CPU list ("0-3,6") into set; -1 if it is not one. */
static int
parse_list(const char *s, unsigned char *set)
{
	char *end;
	long a, b;

	memset(set, 0, MAXCPU);
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		a = strtol(s, &end, 10);
		b = a;
		if (*end == '-') {
			s = end + 1;
			if (!isdigit((unsigned char)*s))
				return -1;
			b = strtol(s, &end, 10);
		}
		if (a < 0 || b < a || b >= MAXCPU)
			return -1;
		while (a <= b)
			set[a++] = 1;
		s = end;
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -1;
	}
	return 0;
}

/* set as a CPU list, ranges joined. */
static void
format_list(const unsigned char *set, char *buf, size_t size)
{
	size_t len = 0;
	int c = 0, e;

	buf[0] = '\0';
	while (c < MAXCPU) {
		if (!set[c]) {
			c++;
			continue;
		}
		for (e = c; e + 1 < MAXCPU && set[e + 1]; e++)
			;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0,
		    "%s%d", len > 0 ? "," : "", c);
		if (e > c)
			len += (size_t)snprintf(buf + len, len < size ?
			    size - len : 0, "-%d", e);
		c = e + 1;
	}
}

/* A value as the kernel takes it: printable, one line. */
static int
sane(const char *v)
{
	for (; *v != '\0'; v++)
		if (!isprint((unsigned char)*v))
			return 0;
	return 1;
}

/*
 * A change to the plan, unless the file holds its value already, or holds
 * one that could not be written back (the undo would refuse it).
 */
static int
add(json_t *plan, const char *path, const char *from, const char *to,
    const char *why)
{
	if (strcmp(from, to) == 0 || !sane(from))
		return 0;
	return json_array_append_new(plan, json_pack("{s:s,s:s,s:s,s:s}",
	    "path", path, "from", from, "to", to, "why", why));
}

/* The bracketed choice of "always [madvise] never", in place. */
static const char *
chosen(char *v)
{
	char *p = strchr(v, '['), *q;

	if (p == NULL || (q = strchr(p, ']')) == NULL)
		return v;
	*q = '\0';
	return p + 1;
}

json_t *
pk_rtplan_make(const char *root, int cpu)
{
	unsigned char online[MAXCPU], set[MAXCPU];
	char path[4096], v[VALMAX], others[VALMAX];
	struct dirent *de;
	json_t *plan;
	DIR *d;

	if (root == NULL)
		root = "";
	plan = json_array();
	if (plan == NULL)
		return NULL;
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cpufreq/"
	    "scaling_governor", cpu);
	if (pk_rtcheck_read_line(root, path, v, sizeof(v)) == 0)
		add(plan, path, v, "performance", "a fixed clock under the "
		    "loop");
	/* The other online CPUs take the loop's CPU's interrupts. */
	if (pk_rtcheck_read_line(root, "/sys/devices/system/cpu/online", v,
	    sizeof(v)) == 0 && parse_list(v, online) == 0 && cpu < MAXCPU &&
	    cpu >= 0) {
		online[cpu] = 0;
		format_list(online, others, sizeof(others));
		snprintf(path, sizeof(path), "%s/proc/irq", root);
		d = others[0] != '\0' ? opendir(path) : NULL;
		while (d != NULL && (de = readdir(d)) != NULL) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			snprintf(path, sizeof(path), "/proc/irq/%.16s/"
			    "smp_affinity_list", de->d_name);
			if (pk_rtcheck_read_line(root, path, v, sizeof(v)) == 0 &&
			    parse_list(v, set) == 0 && set[cpu])
				add(plan, path, v, others, "no device interrupt "
				    "on the loop's CPU");
		}
		if (d != NULL)
			closedir(d);
	}
	if (pk_rtcheck_read_line(root, "/sys/kernel/mm/transparent_hugepage/enabled", v,
	    sizeof(v)) == 0)
		add(plan, "/sys/kernel/mm/transparent_hugepage/enabled",
		    chosen(v), "never", "no khugepaged or compaction stall "
		    "in the loop's page faults");
	if (pk_rtcheck_read_line(root, "/proc/sys/kernel/sched_rt_runtime_us", v,
	    sizeof(v)) == 0)
		add(plan, "/proc/sys/kernel/sched_rt_runtime_us", v, "-1",
		    "no RT throttling: the loop may use its whole CPU");
	return plan;
}

/* Only the files a plan writes: an undo record names no other. */
static int
allowed(const char *p)
{
	unsigned n;
	char tail[64];

	if (strcmp(p, "/sys/kernel/mm/transparent_hugepage/enabled") == 0 ||
	    strcmp(p, "/proc/sys/kernel/sched_rt_runtime_us") == 0)
		return 1;
	if (sscanf(p, "/sys/devices/system/cpu/cpu%u/cpufreq/%63s", &n,
	    tail) == 2 && strcmp(tail, "scaling_governor") == 0 &&
	    strchr(p, '.') == NULL)
		return 1;
	if (sscanf(p, "/proc/irq/%u/%63s", &n, tail) == 2 &&
	    strcmp(tail, "smp_affinity_list") == 0 && strchr(p, '.') == NULL)
		return 1;
	return 0;
}

static int
write_value(const char *root, const char *path, const char *v)
{
	char full[4096], line[VALMAX + 2];
	size_t n;
	int fd, e;

	snprintf(full, sizeof(full), "%s%s", root, path);
	n = (size_t)snprintf(line, sizeof(line), "%s\n", v);
	fd = open(full, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (write(fd, line, n) != (ssize_t)n) {
		e = errno;
		close(fd);
		errno = e != 0 ? e : EIO;
		return -1;
	}
	return close(fd);
}

/* mkdir -p of path's directory, 0700. */
static int
make_parent(const char *path)
{
	char dir[4096], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(dir, 0700) == -1 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
save(const char *undo_path, json_t *changes)
{
	json_t *rec;
	char *text;
	int r;

	rec = json_pack("{s:s,s:O}", "type", "rt-loop-undo", "changes",
	    changes);
	text = rec != NULL ? json_dumps(rec, JSON_INDENT(1)) : NULL;
	json_decref(rec);
	if (text == NULL) {
		errno = ENOMEM;
		return -1;
	}
	r = pk_atomic_write(undo_path, text, strlen(text), 0600);
	free(text);
	return r;
}

int
pk_rtplan_apply(const char *root, json_t *plan, const char *undo_path,
    int *failed)
{
	json_t *done, *c;
	size_t i;

	if (root == NULL)
		root = "";
	*failed = 0;
	if (access(undo_path, F_OK) == 0) {
		errno = EEXIST;
		return -1;
	}
	/* The old values first: a change is never made that cannot be undone. */
	if (make_parent(undo_path) == -1 || save(undo_path, plan) == -1)
		return -1;
	done = json_array();
	json_array_foreach(plan, i, c) {
		const char *path = json_string_value(json_object_get(c, "path"));
		const char *to = json_string_value(json_object_get(c, "to"));

		if (write_value(root, path, to) == -1) {
			pk_warn_errno("cannot write '%s' to %s%s", to, root, path);
			(*failed)++;
			continue;
		}
		json_array_append(done, c);
	}
	if (save(undo_path, done) == -1)
		pk_warn_errno("cannot rewrite %s", undo_path);
	json_decref(done);
	return 0;
}

int
pk_rtplan_undo(const char *root, const char *undo_path, int *failed)
{
	json_error_t jerr;
	json_t *rec, *changes, *left, *c;
	struct stat st;
	size_t i;
	int fd;

	if (root == NULL)
		root = "";
	*failed = 0;
	fd = open(undo_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	/* Root writes what it says: it must be the caller's, and private. */
	if (fstat(fd, &st) == -1 || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		close(fd);
		pk_warn("%s: not a private file of this user: not undone",
		    undo_path);
		errno = EPERM;
		return -1;
	}
	rec = json_loadfd(fd, 0, &jerr);
	close(fd);
	changes = json_object_get(rec, "changes");
	if (rec == NULL || !json_is_array(changes) || !json_is_string(
	    json_object_get(rec, "type")) || strcmp(json_string_value(
	    json_object_get(rec, "type")), "rt-loop-undo") != 0) {
		pk_warn("%s:%d: not an rt-loop undo record%s%s", undo_path,
		    rec == NULL ? jerr.line : 1, rec == NULL ? ": " : "",
		    rec == NULL ? jerr.text : "");
		json_decref(rec);
		errno = EINVAL;
		return -1;
	}
	json_array_foreach(changes, i, c) {
		const char *path = json_string_value(json_object_get(c, "path"));
		const char *from = json_string_value(json_object_get(c, "from"));

		if (path == NULL || from == NULL || !allowed(path) ||
		    !sane(from) || strlen(from) >= VALMAX) {
			pk_warn("%s: change %zu is not one rt-loop makes: "
			    "not undone", undo_path, i + 1);
			json_decref(rec);
			errno = EINVAL;
			return -1;
		}
	}
	left = json_array();
	json_array_foreach(changes, i, c) {
		const char *path = json_string_value(json_object_get(c, "path"));
		const char *from = json_string_value(json_object_get(c, "from"));

		if (write_value(root, path, from) == -1) {
			pk_warn_errno("cannot write '%s' back to %s%s", from,
			    root, path);
			(*failed)++;
			json_array_append(left, c);
		}
	}
	if (*failed == 0) {
		if (unlink(undo_path) == -1)
			pk_warn_errno("cannot remove %s", undo_path);
	} else if (save(undo_path, left) == -1) {
		pk_warn_errno("cannot rewrite %s", undo_path);
	}
	json_decref(left);
	json_decref(rec);
	return 0;
}
