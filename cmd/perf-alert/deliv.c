/* SPDX-License-Identifier: MIT */
/*
 * Delivery: the notifications of each transition, one per receiver that
 * routes it and per target of the receiver, handed to the scheduler
 * (lib/pk_alert_sched), which spools them, delivers each target's in
 * order through the receiver rows, retries and keeps the rate limits.
 * This file gives it its transport (the rows), its spool and its clock.
 */
#include "perf-alert.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_alert_sched.h"
#include "pk_alert_spool.h"
#include "pk_err.h"
#include "pk_time.h"

void
cfg_put(struct config *c)
{
	if (atomic_fetch_sub(&c->refs, 1) == 1)
		config_free(c);
}

static struct receiver *
rx_of(struct pk_alert_sched_target *t)
{
	return (struct receiver *)(void *)((char *)t -
	    offsetof(struct receiver, st));
}

static double
op_clock(void *arg)
{
	(void)arg;
	return pk_mono();
}

/* Under the scheduler's lock, where reload() changes d->cfg. */
static void *
op_hold(void *arg)
{
	struct deliv *d = arg;

	atomic_fetch_add(&d->cfg->refs, 1);
	return d->cfg;
}

static void
op_release(void *arg, void *targets)
{
	(void)arg;
	cfg_put(targets);
}

static struct pk_alert_sched_target *
op_target(void *arg, void *targets, const char *name)
{
	struct config *c = targets;
	size_t i;

	(void)arg;
	for (i = 0; i < c->nrx; i++)
		if (strcmp(c->rx[i].name, name) == 0)
			return &c->rx[i].st;
	return NULL;
}

static int
op_deliver(void *arg, struct pk_alert_sched_target *t,
    const struct pk_alert_job *j, atomic_int *stop, char *err,
    size_t errsize, int *permanent)
{
	struct receiver *x = rx_of(t);
	int r;

	(void)arg;
	r = x->type->deliver(x, &j->e, stop, err, errsize, permanent);
	if (x->count != NULL)
		atomic_fetch_add_explicit(r == 0 ? &x->count->delivered :
		    &x->count->failed, 1, memory_order_relaxed);
	return r;
}

/* The types' periodic work (the Alertmanager resend), when due. */
static void
op_periodic(void *arg, void *targets, double now, atomic_int *stop)
{
	struct config *c = targets;
	size_t i;

	(void)arg;
	for (i = 0; i < c->nrx; i++) {
		struct receiver *x = &c->rx[i];

		if (x->type->periodic == NULL)
			continue;
		if (x->next_periodic == 0)
			x->next_periodic = now + x->type->period(x);
		if (now >= x->next_periodic) {
			x->next_periodic = now + x->type->period(x);
			x->type->periodic(x, stop);
		}
	}
}

static int
op_spool_write(void *arg, struct pk_alert_job *j)
{
	struct deliv *d = arg;
	struct pk_alert_spool_entry ne;

	if (pk_alert_spool_write(d->spool, d->mackey, j->seq, j->e.receiver,
	    j->e.peer, j->e.key, j->e.alert, &ne) == -1)
		return -1;
	j->e.file = ne.file;
	ne.file = NULL;
	pk_alert_spool_entry_release(&ne);
	return 0;
}

static int
op_spool_remove(void *arg, struct pk_alert_job *j)
{
	(void)arg;
	return pk_alert_spool_remove(&j->e);
}

/* Given up for good: into SPOOL/dead/, its reason beside it. */
static int
op_spool_dead(void *arg, struct pk_alert_job *j, const char *why)
{
	char to[4096];

	(void)arg;
	if (pk_alert_spool_dead(j->e.file, why, to, sizeof(to)) == -1)
		return -1;
	free(j->e.file);
	j->e.file = pk_xstrdup(to);
	return 0;
}

static const struct pk_alert_sched_ops deliv_ops = {
	.clock = op_clock,
	.hold = op_hold,
	.release = op_release,
	.target = op_target,
	.deliver = op_deliver,
	.periodic = op_periodic,
	.spool_write = op_spool_write,
	.spool_remove = op_spool_remove,
	.spool_dead = op_spool_dead,
};

/*
 * Queue what a previous run left in the spool, oldest first. A file that
 * is no entry or fails its integrity check (pk_alert_spool) is reported
 * and moved to spool/rejected/: never delivered, never read again.
 */
static void
spool_recover(struct deliv *d)
{
	char **paths, why[256], to[4200];
	size_t n, i;

	if (pk_alert_spool_list(d->spool, &paths, &n) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot read the spool '%s'", d->spool);
	for (i = 0; i < n; i++) {
		struct pk_alert_job *j = pk_xcalloc(1, sizeof(*j));

		if (pk_alert_spool_read(paths[i], d->mackey, &j->e, why,
		    sizeof(why)) == -1) {
			if (pk_alert_spool_reject(paths[i], to, sizeof(to)) == 0)
				pk_warn("%s: %s: not delivered, moved to '%s'",
				    paths[i], why, to);
			else
				pk_warn_errno("%s: %s: not delivered, and cannot "
				    "be moved aside", paths[i], why);
			free(j);
		} else {
			pk_alert_sched_queue(&d->s, j);
		}
		free(paths[i]);
	}
	free(paths);
}

int
rx_routes(const struct receiver *x, const json_t *rec)
{
	const json_t *labels = json_object_get(rec, "labels");
	const char *k;
	json_t *v;
	int sev = pk_alert_severity(json_string_value(json_object_get(rec,
	    "severity")));

	if (sev < x->min_sev)
		return 0;
	json_object_foreach(x->labels, k, v) {
		const char *have = json_string_value(json_object_get(labels, k));

		if (have == NULL || strcmp(have, json_string_value(v)) != 0)
			return 0;
	}
	return 1;
}

/* One notification for one receiver: a job per target (peer). */
static void
submit(struct alert_ctx *x, const struct receiver *r, const json_t *rec,
    const char *key)
{
	size_t p, n = r->type->targets ? r->type->targets(r) : 1;

	for (p = 0; p < n; p++) {
		struct pk_alert_job *j = pk_xcalloc(1, sizeof(*j));

		j->seq = ++x->seq;
		j->e.created = pk_now();
		j->e.receiver = pk_xstrdup(r->name);
		j->e.key = pk_xstrdup(key);
		j->e.peer = (int)p;
		if ((j->e.alert = json_deep_copy(rec)) == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		pk_alert_sched_submit(&x->d.s, j);
	}
}

/*
 * Hand a notification to every receiver that routes it; only = -1 for all,
 * else one receiver (a repeat).
 */
void
notify(struct alert_ctx *x, struct inst *in, const json_t *rec, double ts,
    int only)
{
	struct config *c = x->cfg;
	char key[256];
	size_t i;

	if (in->flap.flapping)
		return;
	snprintf(key, sizeof(key), "%s-%s-%.3f-%d", in->fp,
	    json_string_value(json_object_get(rec, "event")), ts, in->esc);
	for (i = 0; i < c->nrx; i++) {
		if (only >= 0 && (size_t)only != i)
			continue;
		if (!rx_routes(&c->rx[i], rec))
			continue;
		in->last_rx[i] = ts;
		submit(x, &c->rx[i], rec, key);
	}
	in->notified = in->state;
	if (x->prom != NULL)
		prom_changed(x);
}

/*
 * Each receiver of c its counts, by name: those of the same name before
 * a reload, else new ones (zero), else, beyond RXCOUNT_MAX names in the
 * run, none (reported once). Before c reaches the delivery thread.
 */
static void
counts_bind(struct deliv *d, struct config *c)
{
	size_t i, k;

	for (i = 0; i < c->nrx; i++) {
		struct receiver *x = &c->rx[i];

		for (k = 0; k < d->ncounts; k++)
			if (strcmp(d->counts[k].name, x->name) == 0)
				break;
		if (k == d->ncounts && k < RXCOUNT_MAX) {
			d->counts[k].name = pk_xstrdup(x->name);
			atomic_init(&d->counts[k].delivered, 0);
			atomic_init(&d->counts[k].failed, 0);
			d->ncounts++;
		}
		if (k < d->ncounts) {
			x->count = &d->counts[k];
		} else if (!d->counts_full) {
			pk_warn("more than %d receiver names in this run: '%s' "
			    "and later ones are not counted in the metrics",
			    RXCOUNT_MAX, x->name);
			d->counts_full = 1;
		}
	}
}

void
deliv_init(struct alert_ctx *x, const char *dir)
{
	struct deliv *d = &x->d;

	if (dir != NULL)
		snprintf(d->spool, sizeof(d->spool), "%s/spool", dir);
	d->cfg = x->cfg;
	atomic_fetch_add(&d->cfg->refs, 1);
	counts_bind(d, d->cfg);
	pk_alert_sched_init(&d->s, &deliv_ops, d, d->spool);
	pk_alert_sched_backoff(&d->s, x->cfg->retry_min, x->cfg->retry_max);
}

void
deliv_start(struct alert_ctx *x)
{
	struct deliv *d = &x->d;

	if (d->spool[0] == '\0')
		return;
	spool_recover(d);
	if (pk_alert_sched_start(&d->s) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot start the delivery thread");
}

/* A reloaded configuration: its receivers from the next round on. */
void
deliv_config(struct alert_ctx *x, struct config *n)
{
	struct config *old;

	atomic_fetch_add(&n->refs, 1);
	counts_bind(&x->d, n);
	pk_alert_sched_lock(&x->d.s);
	old = x->d.cfg;
	x->d.cfg = n;
	pk_alert_sched_unlock(&x->d.s);
	cfg_put(old);
	pk_alert_sched_backoff(&x->d.s, n->retry_min, n->retry_max);
}

void
deliv_stop(struct alert_ctx *x)
{
	size_t k;

	pk_alert_sched_stop(&x->d.s);
	cfg_put(x->d.cfg);
	x->d.cfg = NULL;
	for (k = 0; k < x->d.ncounts; k++)
		free(x->d.counts[k].name);
	x->d.ncounts = 0;
}
