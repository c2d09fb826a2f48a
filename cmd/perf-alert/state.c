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

/* An integer member k of a in [lo, hi] if present (required: must be). */
static int
int_ok(const json_t *a, const char *k, json_int_t lo, json_int_t hi,
    int required)
{
	const json_t *v = json_object_get(a, k);

	if (v == NULL)
		return !required;
	return json_is_integer(v) && json_integer_value(v) >= lo &&
	    json_integer_value(v) <= hi;
}

static int
num_ok(const json_t *a, const char *k, int required)
{
	const json_t *v = json_object_get(a, k);

	if (v == NULL)
		return !required;
	return json_is_number(v) && isfinite(json_number_value(v));
}

static int
bool_ok(const json_t *a, const char *k)
{
	const json_t *v = json_object_get(a, k);

	return v == NULL || json_is_boolean(v);
}

static int
state_of(const char *st)
{
	int m;

	for (m = 0; st != NULL && m < 3; m++)
		if (strcmp(st, statenames[m]) == 0)
			return m;
	return -1;
}

/*
 * Whether o can be a state.json of ours: every value of the type and in
 * the range perf-alert writes, so that restoring it cannot put an
 * instance where no record could (a severity past the table, a flap
 * history longer than its bits). -1 with why otherwise.
 */
static int
state_check(const json_t *o, char *why, size_t whysize)
{
	const json_t *a;
	size_t i;

	if (!json_is_object(o) || !num_ok(o, "last_ts", 0) ||
	    (json_object_get(o, "alerts") != NULL &&
	    !json_is_array(json_object_get(o, "alerts")))) {
		snprintf(why, whysize, "not a state file");
		return -1;
	}
	json_array_foreach(json_object_get(o, "alerts"), i, a) {
		const json_t *fp = json_object_get(a, "fingerprint");

		if (!json_is_object(a) ||
		    !json_is_string(json_object_get(a, "rule")) ||
		    !json_is_string(json_object_get(a, "host")) ||
		    !json_is_string(json_object_get(a, "component")) ||
		    state_of(json_string_value(json_object_get(a,
		    "state"))) < 0 || (fp != NULL && !json_is_string(fp)) ||
		    !num_ok(a, "since", 1) || !num_ok(a, "next_esc", 0) ||
		    !num_ok(a, "value", 0) ||
		    !int_ok(a, "severity", 0, 3, 0) ||
		    !int_ok(a, "escalation", 0, 3, 0) ||
		    !int_ok(a, "notified", 0, 2, 0) ||
		    !int_ok(a, "flap_bits", 0, (1 << PK_ALERT_FLAP_N) - 1, 0) ||
		    !int_ok(a, "flap_n", 0, PK_ALERT_FLAP_N, 0) ||
		    !bool_ok(a, "acked") || !bool_ok(a, "flapping")) {
			snprintf(why, whysize, "alert %zu is not one perf-alert "
			    "writes", i + 1);
			return -1;
		}
	}
	return 0;
}

static struct rule *
rule_named(struct config *c, const char *name)
{
	size_t k;

	for (k = 0; k < c->nrules; k++)
		if (strcmp(c->rules[k].name, name) == 0)
			return &c->rules[k];
	return NULL;
}

/* A restored firing alert: Alertmanager forgets it unless it is resent. */
static void
resume(struct config *c, struct inst *in)
{
	json_t *rec;
	size_t m;

	if (in->state != ST_FIRING)
		return;
	rec = alert_record(in->rule, in, "firing", in->since);
	for (m = 0; m < c->nrx; m++)
		if (c->rx[m].type->resume != NULL && rx_routes(&c->rx[m], rec))
			c->rx[m].type->resume(&c->rx[m], rec);
	json_decref(rec);
}

int
state_apply(struct alert_ctx *x, const json_t *o, char *why, size_t whysize)
{
	struct config *c = x->cfg;
	const json_t *a;
	size_t i;

	if (state_check(o, why, whysize) == -1)
		return -1;
	if (json_is_number(json_object_get(o, "last_ts")))
		x->last_ts = json_number_value(json_object_get(o, "last_ts"));
	json_array_foreach(json_object_get(o, "alerts"), i, a) {
		struct rule *r = rule_named(c, json_string_value(
		    json_object_get(a, "rule")));
		struct inst *in;

		if (r == NULL)
			continue;	/* the rule is gone */
		if ((in = inst_get(r, json_string_value(json_object_get(a,
		    "host")), json_string_value(json_object_get(a,
		    "component")), 1, NULL)) == NULL)
			continue;	/* the rule's cap, counted */
		in->state = state_of(json_string_value(json_object_get(a,
		    "state")));
		in->since = json_number_value(json_object_get(a, "since"));
		if (json_object_get(a, "severity") != NULL)
			in->sev = (int)json_integer_value(json_object_get(a,
			    "severity"));
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
		resume(c, in);
	}
	return 0;
}

/*
 * The alerts in progress from the history, when state.json cannot be
 * trusted: the last record of each (rule, host, component) says whether
 * it is firing, since when, at what severity, acknowledged or not.
 */
static void
state_rebuild(struct alert_ctx *x, const char *hist)
{
	struct config *c = x->cfg;
	json_t *last = json_object(), *a;
	struct pk_jsonl r;
	const char *k;
	char *line, key[1024];
	size_t len, n = 0;
	int rc, fd;

	if ((fd = state_file_open(hist, O_RDONLY)) == -1 ||
	    pk_jsonl_open(&r, hist) == -1) {
		if (errno != ENOENT)
			pk_warn_errno("cannot read '%s'", hist);
		if (fd != -1)
			close(fd);
		json_decref(last);
		return;
	}
	close(fd);
	while ((rc = pk_jsonl_next(&r, &line, &len)) == PK_JSONL_LINE ||
	    rc == PK_JSONL_TOOLONG) {
		json_t *rec;
		const char *rule, *host, *comp, *ev;

		if (rc == PK_JSONL_TOOLONG || (rec = json_loadb(line, len, 0,
		    NULL)) == NULL)
			continue;
		rule = json_string_value(json_object_get(rec, "rule"));
		host = json_string_value(json_object_get(rec, "host"));
		comp = json_string_value(json_object_get(rec, "component"));
		ev = json_string_value(json_object_get(rec, "event"));
		if (rule != NULL && host != NULL && ev != NULL &&
		    strcmp(ev, "flapping") != 0 && strcmp(ev, "flap_end") != 0) {
			snprintf(key, sizeof(key), "%zu:%s%zu:%s%s", strlen(rule),
			    rule, strlen(host), host, comp ? comp : "");
			json_object_set(last, key, rec);
		}
		json_decref(rec);
	}
	pk_jsonl_release(&r);
	json_object_foreach(last, k, a) {
		const char *st = json_string_value(json_object_get(a, "state"));
		const json_t *since = json_object_get(a, "since");
		const json_t *ts = json_object_get(a, "ts");
		struct rule *ru = rule_named(c, json_string_value(
		    json_object_get(a, "rule")));
		const char *comp = json_string_value(json_object_get(a,
		    "component"));
		struct inst *in;

		if (ru == NULL || st == NULL || strcmp(st, "firing") != 0 ||
		    !json_is_number(since) || !json_is_number(ts) ||
		    !isfinite(json_number_value(since)) ||
		    !isfinite(json_number_value(ts)) || ru->absent_s > 0)
			continue;
		in = inst_get(ru, json_string_value(json_object_get(a, "host")),
		    comp ? comp : "", 1, NULL);
		if (in == NULL)
			continue;
		in->state = ST_FIRING;
		in->notified = ST_FIRING;
		in->since = json_number_value(since);
		in->sev = pk_alert_severity(json_string_value(json_object_get(a,
		    "severity")) ? json_string_value(json_object_get(a,
		    "severity")) : "");
		if (in->sev < 0)
			in->sev = ru->sev;
		in->esc = int_ok(a, "escalation", 0, 3, 1) ?
		    (int)json_integer_value(json_object_get(a, "escalation")) : 0;
		in->acked = json_is_true(json_object_get(a, "acknowledged"));
		in->next_esc = json_number_value(ts) + ru->esc_after;
		if (json_is_number(json_object_get(a, "value")))
			in->value = json_number_value(json_object_get(a,
			    "value"));
		inst_settle(in);
		resume(c, in);
		n++;
	}
	json_decref(last);
	pk_warn("%zu alerts in progress rebuilt from '%s'", n, hist);
}

void
state_load(struct alert_ctx *x)
{
	json_error_t e;
	json_t *o;
	char why[256], aside[4200], hist[4200], *slash;
	int fd;

	if ((fd = state_file_open(x->statefile, O_RDONLY)) == -1) {
		if (errno != ENOENT)
			pk_warn_errno("cannot open '%s' (alerts in progress not "
			    "restored)", x->statefile);
		return;
	}
	o = json_loadfd(fd, 0, &e);
	close(fd);
	if (o == NULL)
		snprintf(why, sizeof(why), "line %d: %s", e.line, e.text);
	if (o != NULL && state_apply(x, o, why, sizeof(why)) == 0) {
		json_decref(o);
		return;
	}
	json_decref(o);
	/* Corrupt: set aside (kept for a post-mortem), rebuilt from history. */
	snprintf(aside, sizeof(aside), "%s.corrupt", x->statefile);
	if (rename(x->statefile, aside) == -1)
		pk_warn_errno("cannot set '%s' aside", x->statefile);
	pk_warn("%s: corrupt (%s): set aside as '%s'; the alerts in progress "
	    "are rebuilt from the history", x->statefile, why, aside);
	snprintf(hist, sizeof(hist), "%s", x->statefile);
	if ((slash = strrchr(hist, '/')) != NULL)
		snprintf(slash + 1, sizeof(hist) - (size_t)(slash + 1 - hist),
		    "history.jsonl");
	state_rebuild(x, hist);
}
