/* SPDX-License-Identifier: MIT */
/*
 * The state directory: state.json (the alerts in progress) and the
 * history (every alert record, appended and synced).
 */
#include "perf-alert.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_statedir.h"
#include "pk_time.h"

/*
 * The state directory and its spool/ and ack/, made 0700 if need be, and
 * each one a real directory of ours that nobody else can write to
 * (pk_statedir): another local user who pre-created it, or planted a link
 * in it, must not make our run write through it or read a forged file.
 * Every entry point (the filter, ack, stats) goes through this.
 */
void
state_dir_ready(const char *dir, int create)
{
	static const char *const subs[] = { "spool", "ack", NULL };
	char err[PATH_MAX + 256], path[PATH_MAX];
	int i;

	if (pk_statedir_prepare(dir, 0700, create, err, sizeof(err)) == -1)
		pk_die(PK_EXIT_IO, "%s", err);
	for (i = 0; subs[i] != NULL; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, subs[i]) >=
		    (int)sizeof(path))
			pk_die(PK_EXIT_IO, "'%s': path too long", dir);
		if (create && mkdir(path, 0700) == -1 && errno != EEXIST)
			pk_die_errno(PK_EXIT_IO, "cannot create '%s'", path);
		if ((create || access(path, F_OK) == 0) &&
		    pk_statedir_check(path, err, sizeof(err)) == -1)
			pk_die(PK_EXIT_IO, "%s", err);
	}
}

/* A file of the (checked) state directory, never through a link. */
int
state_file_open(const char *path, int flags)
{
	return open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
}

void
state_open(struct alert_ctx *x, const char *dir)
{
	char path[4096];

	state_dir_ready(dir, 1);
	/* One instance per state directory: the spool has one reader. */
	snprintf(path, sizeof(path), "%s/lock", dir);
	x->lockfd = state_file_open(path, O_RDWR | O_CREAT);
	if (x->lockfd == -1)
		pk_die_errno(PK_EXIT_IO, "cannot open '%s'", path);
	if (flock(x->lockfd, LOCK_EX | LOCK_NB) == -1)
		pk_die_errno(PK_EXIT_IO, "'%s' is in use by another perf-alert",
		    dir);
	if (pk_alert_spool_key(dir, x->d.mackey, path, sizeof(path)) == -1)
		pk_die(PK_EXIT_IO, "%s", path);
	snprintf(x->ackdir, sizeof(x->ackdir), "%s/ack", dir);
	snprintf(path, sizeof(path), "%s/history.jsonl", dir);
	x->hist_fd = state_file_open(path, O_WRONLY | O_APPEND | O_CREAT);
	if (x->hist_fd == -1)
		pk_die_errno(PK_EXIT_IO, "cannot open '%s'", path);
	snprintf(x->statefile, sizeof(x->statefile), "%s/state.json", dir);
}

void
state_close(struct alert_ctx *x)
{
	size_t k;

	if (x->hist_fd != -1) {
		/*
		 * Whatever the spool could not take is reported; the history
		 * keeps the transitions regardless.
		 */
		hist_flush(x, 1);
		if (x->nhpend > 0 || x->hdropped > 0)
			pk_warn("%zu history lines could not be written, %lu "
			    "dropped: lost", x->nhpend, x->hdropped);
		for (k = 0; k < x->nhpend; k++)
			free(x->hpend[k]);
		free(x->hpend);
		close(x->hist_fd);
		x->hist_fd = -1;
	}
	if (x->lockfd != -1)
		close(x->lockfd);
	x->lockfd = -1;
}

/*
 * Write the history lines held in memory, in order. Not while a
 * notification waits in memory for the spool (unless force, at exit): the
 * spool before the history, so that a crash never leaves a history line
 * whose notification is nowhere. A failed write is cut back off the file
 * (no torn line), reported once per episode and retried on the next call
 * (each record's transition and the idle tick).
 */
void
hist_flush(struct alert_ctx *x, int force)
{
	size_t i = 0;
	unsigned long held;

	if (x->nhpend == 0)
		return;
	if (!force) {
		held = pk_alert_sched_unspooled(&x->d.s);
		if (held > 0)
			return;
	}
	for (; i < x->nhpend; i++) {
		size_t n = strlen(x->hpend[i]);
		off_t end = lseek(x->hist_fd, 0, SEEK_END);
		ssize_t w = write(x->hist_fd, x->hpend[i], n);

		if (w == (ssize_t)n && fdatasync(x->hist_fd) == 0)
			continue;
		if (w >= 0)
			errno = w == (ssize_t)n ? errno : ENOSPC;
		if (!x->hist_failing)
			pk_warn_errno("cannot append to the history (lines kept "
			    "in memory, at most %d, and retried)", MEMCAP);
		if (end != (off_t)-1 && w > 0) {
			int e = errno;

			if (ftruncate(x->hist_fd, end) == -1)
				pk_warn_errno("cannot cut a torn line off the "
				    "history");
			errno = e;
		}
		x->hist_failing = 1;
		x->diskerr = 1;
		break;
	}
	if (i == x->nhpend && x->hist_failing) {
		pk_warn("the history takes writes again: %zu lines written "
		    "from memory, %lu dropped", i, x->hdropped);
		x->hist_failing = 0;
		x->hdropped = 0;
	}
	for (size_t k = 0; k < i; k++)
		free(x->hpend[k]);
	memmove(x->hpend, x->hpend + i, (x->nhpend - i) * sizeof(*x->hpend));
	x->nhpend -= i;
}

void
hist_append(struct alert_ctx *x, const json_t *rec)
{
	char *s;
	size_t n;

	if (x->hist_fd == -1)
		return;
	x->dirty = 1;
	if ((s = json_dumps(rec, JSON_COMPACT)) == NULL)
		pk_die(PK_EXIT_IO, "out of memory");	/* jansson's */
	s = pk_xrealloc(s, (n = strlen(s)) + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	if (x->nhpend >= MEMCAP) {
		if (x->hdropped++ == 0)
			pk_warn("more than %d history lines wait for the disk: "
			    "dropping new ones (counted)", MEMCAP);
		free(s);
	} else {
		if (x->hpend == NULL)
			x->hpend = pk_xcalloc(MEMCAP, sizeof(*x->hpend));
		x->hpend[x->nhpend++] = s;
	}
	hist_flush(x, 0);
}

/*
 * The alerts in progress, saved atomically to statedir/state.json (at most
 * once a second while they change, and at exit), so that a restart resumes
 * them: a firing alert resolves, escalates and takes acks as before.
 */
void
state_save(struct alert_ctx *x)
{
	struct config *c = x->cfg;
	json_t *o = json_object(), *arr = json_array();
	size_t i, n;
	char *s;

	for (i = 0; i < c->nrules; i++) {
		const struct rule *r = &c->rules[i];

		for (n = 0; n < r->ninst; n++) {
			const struct inst *in = r->insts[n];
			json_t *e;

			if (in->state == ST_INACTIVE && !in->flap.flapping)
				continue;
			e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:f,s:i,s:i,s:f,s:b,"
			    "s:i,s:I,s:i,s:b}",
			    "rule", r->name, "fingerprint", in->fp,
			    "host", in->host, "component",
			    in->comp, "state", statenames[in->state],
			    "since", in->since,
			    "severity", in->sev, "escalation", in->esc,
			    "next_esc", in->next_esc, "acked", in->acked,
			    "notified", in->notified,
			    "flap_bits", (json_int_t)in->flap.bits,
			    "flap_n", in->flap.n, "flapping", in->flap.flapping);
			if (!isnan(in->value))
				json_object_set_new(e, "value",
				    json_real(in->value));
			json_array_append_new(arr, e);
		}
	}
	json_object_set_new(o, "alerts", arr);
	if (isfinite(x->last_ts))
		json_object_set_new(o, "last_ts", json_real(x->last_ts));
	s = json_dumps(o, JSON_COMPACT);
	/* A failed save keeps the old file whole, and is tried again. */
	if (pk_atomic_write(x->statefile, s, strlen(s), 0600) == -1) {
		if (!x->state_failing)
			pk_warn_errno("cannot write '%s' (retried once a second)",
			    x->statefile);
		x->state_failing = 1;
		x->diskerr = 1;
	} else {
		if (x->state_failing)
			pk_warn("'%s' takes writes again", x->statefile);
		x->state_failing = 0;
		x->dirty = 0;
	}
	free(s);
	json_decref(o);
	x->next_save = pk_mono() + 1;
}

void
state_load(struct alert_ctx *x)
{
	struct config *c = x->cfg;
	json_error_t e;
	json_t *o, *a;
	size_t i, k;
	int fd;

	if ((fd = state_file_open(x->statefile, O_RDONLY)) == -1) {
		if (errno != ENOENT)
			pk_warn_errno("cannot open '%s' (alerts in progress not "
			    "restored)", x->statefile);
		return;
	}
	o = json_loadfd(fd, 0, &e);
	close(fd);
	if (o == NULL) {
		pk_warn("%s:%d: %s (alerts in progress not restored)",
		    x->statefile, e.line, e.text);
		return;
	}
	if (json_is_number(json_object_get(o, "last_ts")))
		x->last_ts = json_number_value(json_object_get(o, "last_ts"));
	json_array_foreach(json_object_get(o, "alerts"), i, a) {
		const char *rule = json_string_value(json_object_get(a, "rule"));
		const char *host = json_string_value(json_object_get(a, "host"));
		const char *comp = json_string_value(json_object_get(a,
		    "component"));
		const char *st;
		struct inst *in;
		size_t m;

		if (rule == NULL || host == NULL || comp == NULL)
			continue;
		for (k = 0; k < c->nrules; k++)
			if (strcmp(c->rules[k].name, rule) == 0)
				break;
		if (k == c->nrules)
			continue;	/* the rule is gone */
		if ((in = inst_get(&c->rules[k], host, comp, 1, NULL)) == NULL)
			continue;	/* the rule's cap, counted */
		st = json_string_value(json_object_get(a, "state"));
		in->state = ST_INACTIVE;
		for (m = 0; st != NULL && m < 3; m++)
			if (strcmp(st, statenames[m]) == 0)
				in->state = (int)m;
		in->since = json_number_value(json_object_get(a, "since"));
		in->sev = (int)json_integer_value(json_object_get(a, "severity"));
		in->esc = (int)json_integer_value(json_object_get(a,
		    "escalation"));
		in->next_esc = json_number_value(json_object_get(a, "next_esc"));
		in->acked = json_is_true(json_object_get(a, "acked"));
		in->notified = (int)json_integer_value(json_object_get(a,
		    "notified"));
		in->flap.bits = (uint32_t)json_integer_value(json_object_get(a,
		    "flap_bits"));
		in->flap.n = (int)json_integer_value(json_object_get(a,
		    "flap_n"));
		in->flap.flapping = json_is_true(json_object_get(a, "flapping"));
		in->flap.pct = pk_alert_flap_pct(&in->flap);
		if (json_is_number(json_object_get(a, "value")))
			in->value = json_number_value(json_object_get(a,
			    "value"));
		inst_settle(in);
		/* Alertmanager forgets them unless they are resent. */
		if (in->state == ST_FIRING) {
			json_t *rec = alert_record(&c->rules[k], in, "firing",
			    in->since);

			for (m = 0; m < c->nrx; m++)
				if (c->rx[m].type->resume != NULL &&
				    rx_routes(&c->rx[m], rec))
					c->rx[m].type->resume(&c->rx[m], rec);
			json_decref(rec);
		}
	}
	json_decref(o);
}
