/* SPDX-License-Identifier: MIT */
#ifndef PK_ALERT_SCHED_H
#define PK_ALERT_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "pk_alert_spool.h"

/*
 * perf-alert's delivery scheduler: the queue of notifications, each
 * target's in order (a retried "firing" never overtakes its "resolved"),
 * retries with exponential backoff, the rate limits, and the in-memory
 * fallback while the spool cannot be written. The transport, the spool
 * and the clock are the program's, through pk_alert_sched_ops, so the
 * scheduler is tested with fake ones (tests/unit/test_pk_alert_sched.c).
 *
 * A job is one notification for one target: a receiver (by name) and a
 * peer of it. A job normally enters the spool before it is queued and
 * leaves it once delivered; when the spool cannot be written it waits in
 * memory (at most memcap jobs; beyond, new ones are dropped and counted),
 * is delivered from there, and is written to the spool, in queue order,
 * once a second until the spool takes it. Later jobs then wait behind it,
 * so the spool's order stays the order of the notifications.
 *
 * pk_alert_sched_start() runs the rounds in a thread of their own; a
 * test calls pk_alert_sched_step() instead, one round at a time.
 */
struct pk_alert_job {
	struct pk_alert_spool_entry e;	/* e.file NULL: not in the spool */
	unsigned long seq;		/* for its spool file's name */
	int attempts;
	double next_try;		/* on the scheduler's clock */
	int inflight;			/* a worker is delivering it */
	struct pk_alert_job *next;
};

/* A target's rate limit; the program embeds it in its receiver. */
struct pk_alert_sched_target {
	double rate_per_min;		/* 0: none */
	double tokens, tok_at;		/* the token bucket, the scheduler's */
};

struct pk_alert_sched_ops {
	/* The clock of next_try and the rate limits, seconds (pk_mono). */
	double (*clock)(void *arg);
	/*
	 * The targets as they are now (the program's configuration), taken
	 * under the scheduler's lock at the start of a round and given back
	 * with release, without the lock, at its end.
	 */
	void *(*hold)(void *arg);
	void (*release)(void *arg, void *targets);
	/* The target named receiver, NULL when it is gone (under the lock). */
	struct pk_alert_sched_target *(*target)(void *arg, void *targets,
	    const char *receiver);
	/*
	 * One attempt, without the lock: 0 accepted, or -1 with the reason
	 * in err and *permanent set to PK_ALERT_REFUSED when trying again
	 * cannot help (the receiver refused this notification), or to
	 * PK_ALERT_SERVER_ERROR when the receiver failed it (tried again
	 * up to PK_ALERT_SCHED_DEAD_AFTER times in all); left 0 for a
	 * failure that may pass (no connection, a timeout, 408, 429). Gives
	 * up at once when *stop becomes non-zero.
	 */
	int (*deliver)(void *arg, struct pk_alert_sched_target *t,
	    const struct pk_alert_job *j, atomic_int *stop, char *err,
	    size_t errsize, int *permanent);
	/* Optional: periodic work at each round, without the lock. */
	void (*periodic)(void *arg, void *targets, double now,
	    atomic_int *stop);
	/* The spool: write j (setting j->e.file), remove its file; -1, errno. */
	int (*spool_write)(void *arg, struct pk_alert_job *j);
	int (*spool_remove)(void *arg, struct pk_alert_job *j);
	/*
	 * Optional: a job given up for good (refused, failed too often, or
	 * for a receiver no longer configured) into the dead letters, with
	 * its reason; j->e.file is spooled. 0, or -1 with errno (the file then
	 * stays in the spool).
	 */
	int (*spool_dead)(void *arg, struct pk_alert_job *j, const char *why);
};

#define PK_ALERT_REFUSED	1
#define PK_ALERT_SERVER_ERROR	2
#define PK_ALERT_SCHED_DEAD_AFTER 10

#define PK_ALERT_SCHED_MEMCAP 10000
/*
 * Delivery workers: receivers do not wait on each other (one that hangs
 * holds one worker, until its timeout); one receiver's notifications go
 * one at a time, in order, its peers included.
 */
#define PK_ALERT_SCHED_WORKERS 4
#define PK_ALERT_SCHED_MAXBLOCKED 64

struct pk_alert_sched {
	/* Set by pk_alert_sched_init; retry_* by pk_alert_sched_backoff. */
	const struct pk_alert_sched_ops *ops;
	void *arg;
	const char *spool;		/* its name, for messages */
	double retry_min, retry_max;	/* 0.5 and 60 s */
	size_t memcap;			/* PK_ALERT_SCHED_MEMCAP */
	double tick;			/* the longest wait between rounds, 0.2 s */

	/* The scheduler's own. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th[PK_ALERT_SCHED_WORKERS];
	struct pk_alert_job *head, *tail;
	int quit, busy, started;
	int spooling;			/* a worker is in the spool retry */
	int disk_ep;			/* in an episode of spool failures */
	unsigned long ep_written;	/* written from memory in it */
	atomic_int stopping;		/* abort transfers: we are exiting */
	unsigned long unspooled;	/* jobs not in the spool */
	unsigned long dropped;		/* beyond memcap, all told */
	unsigned long dropped_ep;	/* the same, this episode */
	unsigned long lost;		/* held in memory, then dropped */
	double next_spool;		/* the next try of the spool */
	int diskerr;			/* a spool write failed at some point */
	unsigned long delivered, failures;
	unsigned long dead;		/* jobs into the dead letters */
};

void pk_alert_sched_init(struct pk_alert_sched *s,
    const struct pk_alert_sched_ops *ops, void *arg, const char *spool);
/* The delays between attempts: min, doubling, at most max. Any thread. */
void pk_alert_sched_backoff(struct pk_alert_sched *s, double min, double max);
/* The scheduler's lock, to change what hold() returns. */
void pk_alert_sched_lock(struct pk_alert_sched *s);
void pk_alert_sched_unlock(struct pk_alert_sched *s);
/* Queue a job that is in the spool already (left by an earlier run). */
void pk_alert_sched_queue(struct pk_alert_sched *s, struct pk_alert_job *j);
/*
 * A new notification (e filled in, e.file NULL): written to the spool and
 * queued, or held in memory while the spool fails. Returns 0 spooled, 1
 * held in memory, -1 dropped (beyond memcap; j is freed).
 */
int pk_alert_sched_submit(struct pk_alert_sched *s, struct pk_alert_job *j);
/*
 * Call fn for every job waiting to be delivered (the one being delivered
 * included), in queue order, the lock held: fn reads only the job's
 * entry's receiver and created time (which never change; its attempts
 * and next try do, without the lock) and calls nothing of the
 * scheduler. For the program's gauges of what waits.
 */
void pk_alert_sched_foreach(struct pk_alert_sched *s,
    void (*fn)(void *arg, const struct pk_alert_job *j), void *arg);
/* How many jobs wait in memory for the spool. */
unsigned long pk_alert_sched_unspooled(struct pk_alert_sched *s);
/*
 * One round: the spool retried when due, the periodic work, then the
 * first due job whose target has no earlier job waiting, delivered.
 * 1 if it did something, 0 if nothing was due (*wake: when something
 * may be, on the scheduler's clock).
 */
int pk_alert_sched_step(struct pk_alert_sched *s, double *wake);
/* The rounds in a thread of their own (all signals blocked); -1, errno. */
int pk_alert_sched_start(struct pk_alert_sched *s);
/* Wait until the queue is empty, wait_s seconds pass or pk_stop is set. */
void pk_alert_sched_drain(struct pk_alert_sched *s, double wait_s);
/*
 * Abort the deliveries in progress, stop the thread, free the jobs and
 * report what is left in the spool for the next run and what was lost.
 */
void pk_alert_sched_stop(struct pk_alert_sched *s);
void pk_alert_job_free(struct pk_alert_job *j);

#endif
