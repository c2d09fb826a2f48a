/* SPDX-License-Identifier: MIT */
#include "pk_alert_sched.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pk_err.h"

void
pk_alert_sched_init(struct pk_alert_sched *s,
    const struct pk_alert_sched_ops *ops, void *arg, const char *spool)
{
	pthread_condattr_t ca;

	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->arg = arg;
	s->spool = spool;
	s->retry_min = 0.5;
	s->retry_max = 60;
	s->memcap = PK_ALERT_SCHED_MEMCAP;
	s->tick = 0.2;
	atomic_init(&s->stopping, 0);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
}

void
pk_alert_sched_backoff(struct pk_alert_sched *s, double min, double max)
{
	pthread_mutex_lock(&s->mu);
	s->retry_min = min;
	s->retry_max = max;
	pthread_mutex_unlock(&s->mu);
}

void
pk_alert_sched_lock(struct pk_alert_sched *s)
{
	pthread_mutex_lock(&s->mu);
}

void
pk_alert_sched_unlock(struct pk_alert_sched *s)
{
	pthread_mutex_unlock(&s->mu);
}

void
pk_alert_job_free(struct pk_alert_job *j)
{
	pk_alert_spool_entry_release(&j->e);
	free(j);
}

/* Append j (the lock held). */
static void
push(struct pk_alert_sched *s, struct pk_alert_job *j)
{
	j->next = NULL;
	if (s->tail == NULL)
		s->head = j;
	else
		s->tail->next = j;
	s->tail = j;
	pthread_cond_broadcast(&s->cv);
}

/* Take j out of the queue (the lock held). */
static void
unlink_job(struct pk_alert_sched *s, struct pk_alert_job *j)
{
	struct pk_alert_job **pp = &s->head, *prev = NULL;

	while (*pp != j) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	*pp = j->next;
	if (s->tail == j)
		s->tail = prev;
}

void
pk_alert_sched_queue(struct pk_alert_sched *s, struct pk_alert_job *j)
{
	pthread_mutex_lock(&s->mu);
	push(s, j);
	pthread_mutex_unlock(&s->mu);
}

int
pk_alert_sched_submit(struct pk_alert_sched *s, struct pk_alert_job *j)
{
	unsigned long held;
	int err;

	/*
	 * While earlier ones wait in memory this one waits behind them, so
	 * that the spool's order (its files' names) stays the order of the
	 * notifications.
	 */
	pthread_mutex_lock(&s->mu);
	held = s->unspooled;
	pthread_mutex_unlock(&s->mu);
	if (held == 0 && s->ops->spool_write(s->arg, j) == 0) {
		pk_alert_sched_queue(s, j);
		return 0;
	}
	err = errno;
	pthread_mutex_lock(&s->mu);
	s->diskerr = 1;
	/*
	 * Said once an episode: until the spool takes writes again, even if
	 * the workers deliver what waits in memory meanwhile.
	 */
	if (held == 0 && s->unspooled == 0 && !s->disk_ep) {
		errno = err;
		pk_warn_errno("cannot write to the spool '%s'", s->spool);
		pk_warn("notifications wait in memory (at most %zu), are "
		    "delivered from there and written to the spool once it "
		    "takes writes", s->memcap);
		s->disk_ep = 1;
		s->ep_written = 0;
	}
	if (held == 0 && s->unspooled == 0)
		s->next_spool = s->ops->clock(s->arg) + 1;
	if (s->unspooled >= s->memcap) {
		if (s->dropped_ep++ == 0)
			pk_warn("more than %zu notifications wait for the spool "
			    "'%s': dropping new ones (counted, reported when it "
			    "recovers and at exit)", s->memcap, s->spool);
		s->dropped++;
		pthread_mutex_unlock(&s->mu);
		pk_alert_job_free(j);
		return -1;
	}
	s->unspooled++;
	push(s, j);
	pthread_mutex_unlock(&s->mu);
	return 1;
}

void
pk_alert_sched_foreach(struct pk_alert_sched *s,
    void (*fn)(void *arg, const struct pk_alert_job *j), void *arg)
{
	const struct pk_alert_job *j;

	pthread_mutex_lock(&s->mu);
	for (j = s->head; j != NULL; j = j->next)
		fn(arg, j);
	pthread_mutex_unlock(&s->mu);
}

unsigned long
pk_alert_sched_unspooled(struct pk_alert_sched *s)
{
	unsigned long n;

	pthread_mutex_lock(&s->mu);
	n = s->unspooled;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Whether the target's rate limit allows one more now (token bucket). */
static int
rate_ok(struct pk_alert_sched_target *t, double now)
{
	if (t->rate_per_min <= 0)
		return 1;
	if (t->tok_at == 0)
		t->tok_at = now;
	t->tokens += (now - t->tok_at) * t->rate_per_min / 60;
	if (t->tokens > t->rate_per_min)
		t->tokens = t->rate_per_min;
	t->tok_at = now;
	return t->tokens >= 1;
}

/*
 * Write the jobs that are not in the spool yet, in queue order, stopping
 * at the first failure. The lock is held, and let go for each write:
 * only the rounds remove jobs or deliver them, so none goes away.
 */
static void
spool_retry(struct pk_alert_sched *s)
{
	struct pk_alert_job *j;
	unsigned long done = 0;
	int r;

	/* One worker at a time; a job it writes is no other's meanwhile. */
	s->spooling = 1;
	for (j = s->head; j != NULL && s->unspooled > 0; j = j->next) {
		if (j->e.file != NULL)
			continue;
		/* Being delivered from memory: the spool's order waits for it. */
		if (j->inflight)
			break;
		j->inflight = 1;
		pthread_mutex_unlock(&s->mu);
		r = s->ops->spool_write(s->arg, j);
		pthread_mutex_lock(&s->mu);
		j->inflight = 0;
		if (r == -1)
			break;
		s->unspooled--;
		s->ep_written++;
		done++;
	}
	s->spooling = 0;
	s->next_spool = s->ops->clock(s->arg) + 1;
	/* The episode is over once all is written (some may go in passes). */
	if (s->unspooled == 0) {
		pk_warn("the spool '%s' takes writes again: %lu notifications "
		    "written from memory%s", s->spool, s->ep_written,
		    s->dropped_ep ? "" : ", none lost");
		s->disk_ep = 0;
		s->ep_written = 0;
		if (s->dropped_ep > 0)
			pk_warn("%lu notifications were dropped while the spool "
			    "could not be written (more than %zu held in memory)",
			    s->dropped_ep, s->memcap);
		s->dropped_ep = 0;
		pthread_cond_broadcast(&s->cv);
	}
}

/* A job whose target is gone, or that cannot be delivered: dropped. */
static void
drop(struct pk_alert_sched *s, struct pk_alert_job *j)
{
	unlink_job(s, j);
	if (j->e.file == NULL) {
		s->unspooled--;
		s->lost++;
	}
	pk_alert_job_free(j);
	pthread_cond_broadcast(&s->cv);
}

/*
 * The receivers of the jobs in flight (a worker's delivery, or the spool
 * retry's write), at most PK_ALERT_SCHED_WORKERS + 1: gathered once a
 * round, so that the round stays linear in the queue.
 */
#define INFLIGHT_MAX (PK_ALERT_SCHED_WORKERS + 1)

static size_t
inflight_receivers(const struct pk_alert_sched *s, const char **names)
{
	const struct pk_alert_job *k;
	size_t n = 0;

	for (k = s->head; k != NULL && n < INFLIGHT_MAX &&
	    s->busy + s->spooling > 0; k = k->next)
		if (k->inflight)
			names[n++] = k->e.receiver;
	return n;
}

/*
 * Another job of j's receiver is in flight (by name, so that a reload's
 * new receiver waits for the old one's delivery too): j waits, so that
 * each receiver sees its notifications in order.
 */
static int
receiver_busy(const char *const *names, size_t n, const struct pk_alert_job *j)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], j->e.receiver) == 0)
			return 1;
	return 0;
}

/*
 * A spooled job given up for good: into the dead letters (or, without
 * them, left in the spool), said once on stderr; it never blocks the
 * jobs behind it.
 */
static int
bury(struct pk_alert_sched *s, struct pk_alert_job *j, const char *why)
{
	if (s->ops->spool_dead != NULL && s->ops->spool_dead(s->arg, j,
	    why) == 0) {
		pk_warn("%s: delivery of %s failed for good: %s (a dead letter: "
		    "'%s')", j->e.receiver, j->e.key, why, j->e.file);
		return 1;
	}
	pk_warn("%s: delivery of %s failed for good: %s ('%s' stays in the "
	    "spool)", j->e.receiver, j->e.key, why, j->e.file);
	return 0;
}

/*
 * One round, the lock held (let go while delivering): 1 if it did
 * something, else 0 with *wake.
 */

static int
round_locked(struct pk_alert_sched *s, double *wake, int worker)
{
	struct {
		struct pk_alert_sched_target *t;
		int peer;
	} blocked[PK_ALERT_SCHED_MAXBLOCKED];
	struct pk_alert_sched_target *t = NULL;
	struct pk_alert_job *j;
	size_t nblocked = 0, b;
	double now = s->ops->clock(s->arg), back;
	char err[512];
	void *targets;
	const char *flying[INFLIGHT_MAX];
	size_t nflying;
	int ok, permanent = 0, buried = 0;

	*wake = now + s->tick;
	if (s->unspooled > 0 && now >= s->next_spool && !s->spooling) {
		spool_retry(s);
		return 1;
	}
	targets = s->ops->hold(s->arg);
	/* The periodic work is the first worker's: one at a time. */
	if (s->ops->periodic != NULL && worker == 0) {
		pthread_mutex_unlock(&s->mu);
		s->ops->periodic(s->arg, targets, now, &s->stopping);
		pthread_mutex_lock(&s->mu);
		now = s->ops->clock(s->arg);
	}
	/*
	 * The first due job whose target (receiver and peer) has no earlier
	 * job waiting: each target sees its notifications in order, so a
	 * retried "firing" never overtakes its "resolved".
	 */
	nflying = inflight_receivers(s, flying);
	for (j = s->head; j != NULL; j = j->next) {
		if (j->inflight || receiver_busy(flying, nflying, j))
			continue;
		t = s->ops->target(s->arg, targets, j->e.receiver);
		if (t == NULL) {
			/* Gone from the configuration: a dead letter. */
			if (j->e.file != NULL)
				s->dead += (unsigned long)bury(s, j,
				    "no such receiver any more");
			else
				pk_warn("no receiver '%s' any more: a "
				    "notification held in memory is dropped",
				    j->e.receiver);
			drop(s, j);
			pthread_mutex_unlock(&s->mu);
			s->ops->release(s->arg, targets);
			pthread_mutex_lock(&s->mu);
			return 1;
		}
		for (b = 0; b < nblocked; b++)
			if (blocked[b].t == t && blocked[b].peer == j->e.peer)
				break;
		if (b < nblocked)
			continue;
		if (j->next_try > now || !rate_ok(t, now)) {
			double at = j->next_try > now ? j->next_try :
			    now + (1 - t->tokens) * 60 / t->rate_per_min;

			if (at < *wake)
				*wake = at;
			if (nblocked < PK_ALERT_SCHED_MAXBLOCKED) {
				blocked[nblocked].t = t;
				blocked[nblocked++].peer = j->e.peer;
			}
			continue;
		}
		break;
	}
	if (j == NULL) {
		pthread_mutex_unlock(&s->mu);
		s->ops->release(s->arg, targets);
		pthread_mutex_lock(&s->mu);
		return 0;
	}
	/*
	 * The job stays in the queue, in its place, while it is being
	 * delivered: only the rounds remove jobs.
	 */
	if (t->rate_per_min > 0)
		t->tokens -= 1;
	s->busy++;
	j->inflight = 1;
	back = s->retry_min * pow(2, j->attempts);
	if (back > s->retry_max)
		back = s->retry_max;
	pthread_mutex_unlock(&s->mu);
	err[0] = '\0';
	ok = s->ops->deliver(s->arg, t, j, &s->stopping, err, sizeof(err),
	    &permanent) == 0;
	/* A receiver that keeps failing it: as refused, after a bound. */
	if (!ok && permanent == PK_ALERT_SERVER_ERROR)
		permanent = j->attempts + 1 >= PK_ALERT_SCHED_DEAD_AFTER ?
		    PK_ALERT_REFUSED : 0;
	if (ok && j->e.file != NULL) {
		if (s->ops->spool_remove(s->arg, j) == -1)
			pk_warn_errno("cannot remove '%s'", j->e.file);
	} else if (!ok && permanent) {
		if (j->e.file != NULL)
			buried = bury(s, j, err);
		else
			pk_warn("%s: delivery of %s failed for good: %s (it "
			    "was not in the spool: lost)", j->e.receiver,
			    j->e.key, err);
	} else if (!ok) {
		if (j->attempts < 3 || j->attempts % 10 == 0)
			pk_warn("%s: delivery of %s failed (attempt %d): %s",
			    j->e.receiver, j->e.key, j->attempts + 1, err);
		j->attempts++;
		j->next_try = s->ops->clock(s->arg) + back;
	}
	s->ops->release(s->arg, targets);
	pthread_mutex_lock(&s->mu);
	s->busy--;
	j->inflight = 0;
	if (ok) {
		s->delivered++;
		/* Delivered from memory: nothing left to spool. */
		if (j->e.file == NULL)
			s->unspooled--;
		unlink_job(s, j);
		pk_alert_job_free(j);
	} else {
		s->failures++;
		s->dead += (unsigned long)buried;
		if (permanent)
			drop(s, j);
	}
	pthread_cond_broadcast(&s->cv);
	return 1;
}

int
pk_alert_sched_step(struct pk_alert_sched *s, double *wake)
{
	int r;

	pthread_mutex_lock(&s->mu);
	r = round_locked(s, wake, 0);
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* Wait (the lock held) w seconds at most, on CLOCK_MONOTONIC. */
static void
wait_for(struct pk_alert_sched *s, double w)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (w < 0.001)
		w = 0.001;
	ts.tv_sec += (time_t)w;
	ts.tv_nsec += (long)((w - floor(w)) * 1e9);
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

struct worker {
	struct pk_alert_sched *s;
	int id;
};

static void *
sched_main(void *arg)
{
	struct worker *w = arg;
	struct pk_alert_sched *s = w->s;
	int id = w->id;
	double wake;

	free(w);
	pthread_mutex_lock(&s->mu);
	while (!s->quit)
		if (round_locked(s, &wake, id) == 0 && !s->quit)
			wait_for(s, wake - s->ops->clock(s->arg));
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
pk_alert_sched_start(struct pk_alert_sched *s)
{
	sigset_t all, old;
	int e;

	/* Signals are for the record loop, not the delivery thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (e = 0; s->started < PK_ALERT_SCHED_WORKERS && e == 0;) {
		struct worker *w = malloc(sizeof(*w));

		if (w == NULL) {
			e = ENOMEM;
			break;
		}
		w->s = s;
		w->id = s->started;
		e = pthread_create(&s->th[s->started], NULL, sched_main, w);
		if (e != 0)
			free(w);
		else
			s->started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* One worker will do, if no more could be had. */
	if (s->started == 0) {
		errno = e;
		return -1;
	}
	return 0;
}

void
pk_alert_sched_drain(struct pk_alert_sched *s, double wait_s)
{
	double end = s->ops->clock(s->arg) + wait_s;

	pthread_mutex_lock(&s->mu);
	while ((s->head != NULL || s->busy > 0) && !pk_stop &&
	    s->ops->clock(s->arg) < end)
		wait_for(s, 0.1);
	pthread_mutex_unlock(&s->mu);
}

void
pk_alert_sched_stop(struct pk_alert_sched *s)
{
	struct pk_alert_job *j, *next;
	unsigned long left = 0, lost = 0;

	atomic_store(&s->stopping, 1);
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	while (s->started > 0)
		pthread_join(s->th[--s->started], NULL);
	for (j = s->head; j != NULL; j = next) {
		next = j->next;
		if (j->e.file == NULL)
			lost++;
		else
			left++;
		pk_alert_job_free(j);
	}
	s->head = s->tail = NULL;
	lost += s->lost;
	if (lost > 0 || s->dropped > 0)
		pk_warn("%lu notifications neither spooled nor delivered, %lu "
		    "dropped beyond the %zu held in memory: lost", lost,
		    s->dropped, s->memcap);
	if (left > 0)
		pk_warn("%lu notifications left in the spool '%s' for the "
		    "next run", left, s->spool);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}
