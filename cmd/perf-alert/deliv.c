/* SPDX-License-Identifier: MIT */
/*
 * Delivery: notifications spooled (or held in memory while the spool
 * fails) and handed to the delivery thread, which delivers each target's
 * in order, retries with backoff and keeps the rate limits.
 */
#include "perf-alert.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pk_alert_send.h"
#include "pk_alert_spool.h"
#include "pk_err.h"
#include "pk_time.h"

static void
job_free(struct job *j)
{
	pk_alert_spool_entry_release(&j->e);
	free(j);
}

void
cfg_put(struct deliv *d, struct config *c)
{
	int last;

	pthread_mutex_lock(&d->mu);
	last = --c->refs == 0;
	pthread_mutex_unlock(&d->mu);
	if (last)
		config_free(c);
}

static struct receiver *
find_rx(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nrx; i++)
		if (strcmp(c->rx[i].name, name) == 0)
			return &c->rx[i];
	return NULL;
}

/* Whether the receiver's rate limit allows one more now (token bucket). */
static int
rate_ok(struct receiver *x, double now)
{
	if (x->rate_per_min <= 0)
		return 1;
	if (x->tok_at == 0)
		x->tok_at = now;
	x->tokens += (now - x->tok_at) * x->rate_per_min / 60;
	if (x->tokens > x->rate_per_min)
		x->tokens = x->rate_per_min;
	x->tok_at = now;
	return x->tokens >= 1;
}

/*
 * Write the jobs that are not in the spool yet, in queue order, stopping
 * at the first failure. Called with the mutex held, by the delivery
 * thread only (the one that removes jobs or delivers them), at a time
 * when none is being delivered; the mutex is let go for each write.
 * 1 if it let go of the mutex (the queue may have changed).
 */
static int
spool_retry(struct deliv *d, double now)
{
	struct pk_alert_spool_entry ne;
	struct job *j;
	unsigned long done = 0;
	int r = 0, err = 0;

	for (j = d->head; j != NULL && d->unspooled > 0; j = j->next) {
		if (j->e.file != NULL)
			continue;
		pthread_mutex_unlock(&d->mu);
		r = pk_alert_spool_write(d->spool, j->seq, j->e.receiver,
		    j->e.peer, j->e.key, j->e.alert, &ne);
		err = errno;
		pthread_mutex_lock(&d->mu);
		if (r == -1)
			break;
		j->e.file = ne.file;
		ne.file = NULL;
		pk_alert_spool_entry_release(&ne);
		d->unspooled--;
		done++;
	}
	d->next_spool = pk_mono() + 1;
	if (d->unspooled == 0) {
		pk_warn("the spool '%s' takes writes again: %lu notifications "
		    "written from memory%s", d->spool, done,
		    d->dropped_ep ? "" : ", none lost");
		if (d->dropped_ep > 0)
			pk_warn("%lu notifications were dropped while the spool "
			    "could not be written (more than %d held in memory)",
			    d->dropped_ep, MEMCAP);
		d->dropped_ep = 0;
		pthread_cond_broadcast(&d->cv);
	}
	(void)now;
	(void)err;
	return 1;
}

static void *
deliv_main(void *arg)
{
	struct deliv *d = arg;
	struct { struct receiver *x; int peer; } blocked[MAXBLOCKED];
	size_t nblocked;
	char err[512];

	pthread_mutex_lock(&d->mu);
	while (!d->quit) {
		struct config *cfg = d->cfg;
		struct job *j, *prev = NULL;
		struct receiver *x = NULL;
		double now = pk_mono(), wake = now + 0.2;
		size_t i;
		int ok, permanent = 0;

		if (d->unspooled > 0 && now >= d->next_spool &&
		    spool_retry(d, now))
			continue;
		for (i = 0; i < cfg->nrx; i++) {
			x = &cfg->rx[i];
			if (x->type->periodic == NULL)
				continue;
			if (x->next_periodic == 0)
				x->next_periodic = now + x->type->period(x);
			if (now >= x->next_periodic) {
				x->next_periodic = now + x->type->period(x);
				cfg->refs++;
				pthread_mutex_unlock(&d->mu);
				x->type->periodic(x, &d->stopping);
				cfg_put(d, cfg);
				pthread_mutex_lock(&d->mu);
				goto again;
			}
		}
		/*
		 * The first due job whose target (receiver and peer) has no
		 * earlier job waiting: each target sees its notifications in
		 * order, so a retried "firing" never overtakes its "resolved".
		 */
		nblocked = 0;
		for (j = d->head; j != NULL; prev = j, j = j->next) {
			size_t b;

			x = find_rx(cfg, j->e.receiver);
			if (x == NULL) {
				/* Gone from the configuration: keep its file. */
				pk_warn("no receiver '%s' any more: '%s' stays "
				    "in the spool", j->e.receiver, j->e.file);
				if (prev == NULL)
					d->head = j->next;
				else
					prev->next = j->next;
				if (d->tail == j)
					d->tail = prev;
				job_free(j);
				goto again;
			}
			for (b = 0; b < nblocked; b++)
				if (blocked[b].x == x &&
				    blocked[b].peer == j->e.peer)
					break;
			if (b < nblocked)
				continue;
			if (j->next_try > now || !rate_ok(x, now)) {
				double t = j->next_try > now ? j->next_try :
				    now + (1 - x->tokens) * 60 / x->rate_per_min;

				if (t < wake)
					wake = t;
				if (nblocked < MAXBLOCKED) {
					blocked[nblocked].x = x;
					blocked[nblocked++].peer = j->e.peer;
				}
				continue;
			}
			break;
		}
		if (j == NULL) {
			struct timespec ts;
			double w = wake - now;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (w < 0.001)
				w = 0.001;
			ts.tv_sec += (time_t)w;
			ts.tv_nsec += (long)((w - floor(w)) * 1e9);
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
			continue;
		}
		/*
		 * The job stays in the queue, in its place, while it is being
		 * delivered: only this thread removes jobs.
		 */
		if (x->rate_per_min > 0)
			x->tokens -= 1;
		d->busy++;
		cfg->refs++;
		pthread_mutex_unlock(&d->mu);
		ok = x->type->deliver(x, &j->e, &d->stopping, err, sizeof(err),
		    &permanent) == 0;
		if (ok && j->e.file != NULL) {
			if (pk_alert_spool_remove(&j->e) == -1)
				pk_warn_errno("cannot remove '%s'", j->e.file);
		} else {
			double back = cfg->retry_min * pow(2, j->attempts);

			if (j->attempts < 3 || j->attempts % 10 == 0)
				pk_warn("%s: delivery of %s failed (attempt "
				    "%d): %s", j->e.receiver, j->e.key,
				    j->attempts + 1, err);
			if (back > cfg->retry_max)
				back = cfg->retry_max;
			j->attempts++;
			j->next_try = pk_mono() + back;
		}
		cfg_put(d, cfg);
		pthread_mutex_lock(&d->mu);
		d->busy--;
		if (ok) {
			struct job **pp = &d->head, *q = NULL;

			/* Delivered from memory: nothing left to spool. */
			if (j->e.file == NULL)
				d->unspooled--;

			while (*pp != j) {
				q = *pp;
				pp = &(*pp)->next;
			}
			*pp = j->next;
			if (d->tail == j)
				d->tail = q;
			job_free(j);
		}
		pthread_cond_broadcast(&d->cv);
again:
		;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static void
deliv_push(struct deliv *d, struct job *j)
{
	pthread_mutex_lock(&d->mu);
	if (d->tail == NULL)
		d->head = j;
	else
		d->tail->next = j;
	d->tail = j;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

/* Queue what a previous run left in the spool, oldest first. */
static void
spool_recover(struct deliv *d)
{
	char **paths, why[256];
	size_t n, i;

	if (pk_alert_spool_list(d->spool, &paths, &n) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot read the spool '%s'", d->spool);
	for (i = 0; i < n; i++) {
		struct job *j = pk_xcalloc(1, sizeof(*j));

		if (pk_alert_spool_read(paths[i], &j->e, why, sizeof(why)) == -1) {
			pk_warn("%s: %s (left in place)", paths[i], why);
			free(j);
		} else {
			deliv_push(d, j);
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

/* Spool one notification for one receiver (one per Alertmanager peer). */
static void
spool_one(struct alert_ctx *x, const struct receiver *r, const json_t *rec,
    const char *key)
{
	size_t p, npeer = r->type->targets ? r->type->targets(r) : 1;

	for (p = 0; p < npeer; p++) {
		struct job *j = pk_xcalloc(1, sizeof(*j));
		struct deliv *d = &x->d;
		unsigned long held;
		int err;

		j->seq = ++x->seq;
		/*
		 * While earlier ones wait in memory this one waits behind
		 * them, so that the spool's order (its files' names) stays
		 * the order of the transitions.
		 */
		pthread_mutex_lock(&d->mu);
		held = d->unspooled;
		pthread_mutex_unlock(&d->mu);
		if (held == 0 && pk_alert_spool_write(d->spool, j->seq, r->name,
		    (int)p, key, rec, &j->e) == 0) {
			deliv_push(d, j);
			continue;
		}
		err = errno;
		j->e.receiver = pk_xstrdup(r->name);
		j->e.key = pk_xstrdup(key);
		j->e.peer = (int)p;
		if ((j->e.alert = json_deep_copy(rec)) == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		x->diskerr = 1;
		pthread_mutex_lock(&d->mu);
		if (held == 0 && d->unspooled == 0) {
			errno = err;
			pk_warn_errno("cannot write to the spool '%s'",
			    d->spool);
			pk_warn("notifications wait in memory (at most %d), are "
			    "delivered from there and written to the spool "
			    "once it takes writes", MEMCAP);
			d->next_spool = pk_mono() + 1;
		}
		if (d->unspooled >= MEMCAP) {
			if (d->dropped_ep++ == 0)
				pk_warn("more than %d notifications wait for the "
				    "spool '%s': dropping new ones (counted, "
				    "reported when it recovers and at exit)",
				    MEMCAP, d->spool);
			d->dropped++;
			pthread_mutex_unlock(&d->mu);
			pk_alert_spool_entry_release(&j->e);
			free(j);
			continue;
		}
		d->unspooled++;
		d->diskerr = 1;
		pthread_mutex_unlock(&d->mu);
		deliv_push(d, j);
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
		spool_one(x, &c->rx[i], rec, key);
	}
	in->notified = in->state;
}

/* Wait until the spool is empty or the time is up. */
void
drain(struct deliv *d, double wait_s)
{
	double end = pk_mono() + wait_s;

	pthread_mutex_lock(&d->mu);
	while ((d->head != NULL || d->busy > 0) && !pk_stop) {
		struct timespec ts;
		double now = pk_mono();

		if (now >= end)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&d->cv, &d->mu, &ts);
	}
	pthread_mutex_unlock(&d->mu);
}

void
deliv_start(struct alert_ctx *x)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int e;

	atomic_init(&x->d.stopping, 0);
	pthread_mutex_init(&x->d.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->d.cv, &ca);
	pthread_condattr_destroy(&ca);
	x->d.cfg = x->cfg;
	if (x->d.spool[0] == '\0')
		return;
	spool_recover(&x->d);
	/* Signals are for the record loop, not the delivery thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&x->d.th, NULL, deliv_main, &x->d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		errno = e;
		pk_die_errno(PK_EXIT_IO, "cannot start the delivery thread");
	}
	x->d.started = 1;
}

void
deliv_stop(struct alert_ctx *x)
{
	struct job *j, *next;
	unsigned long left = 0, lost = 0;

	atomic_store(&x->d.stopping, 1);
	pthread_mutex_lock(&x->d.mu);
	x->d.quit = 1;
	pthread_cond_broadcast(&x->d.cv);
	pthread_mutex_unlock(&x->d.mu);
	if (x->d.started)
		pthread_join(x->d.th, NULL);
	for (j = x->d.head; j != NULL; j = next) {
		next = j->next;
		if (j->e.file == NULL)
			lost++;
		else
			left++;
		job_free(j);
	}
	if (lost > 0 || x->d.dropped > 0)
		pk_warn("%lu notifications neither spooled nor delivered, %lu "
		    "dropped beyond the %d held in memory: lost", lost,
		    x->d.dropped, MEMCAP);
	if (left > 0)
		pk_warn("%lu notifications left in the spool '%s' for the "
		    "next run", left, x->d.spool);
	cfg_put(&x->d, x->d.cfg);
	pthread_cond_destroy(&x->d.cv);
	pthread_mutex_destroy(&x->d.mu);
}
