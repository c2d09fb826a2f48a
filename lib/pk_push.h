/* SPDX-License-Identifier: MIT */
#ifndef PK_PUSH_H
#define PK_PUSH_H

#include <pthread.h>
#include <stddef.h>

/*
 * Pushing the exposition to a Prometheus Pushgateway (--push URL), from a
 * thread of its own: the program publishes snapshots; the thread PUTs the
 * newest one to URL/metrics/job/JOB/instance/INSTANCE[/LABEL/VALUE...]
 * every interval and once more at the end, retrying a failure with an
 * exponential backoff (1 s doubling to the interval), and optionally
 * DELETEs the group at the end (a finished CI job or run). A Pushgateway
 * that is down or slow never holds the program back.
 *
 * Grouping values are encoded as the Pushgateway expects: percent-encoded,
 * or in its base64 form (LABEL@base64/VALUE) when a value holds a '/' or
 * is empty, so a host or command name can never change the URL's path.
 */
struct pk_push {
	char *url;		/* the group's URL */
	double interval;
	int delete_at_end;
	double timeout;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf;		/* the newest snapshot */
	size_t len, cap;
	int fresh;		/* not pushed yet */
	int quit;
	/* For tests and status: */
	unsigned long long pushed, failed;
	char last_err[256];
};

/*
 * The group's URL: base (the Pushgateway, http://host:9091, with or
 * without a trailing '/') + /metrics/job/JOB/instance/INSTANCE + each
 * (label, value) pair of extra (NULL-ended, may be NULL). If base already
 * holds "/metrics/job/", it is used as it is. malloc'd, or NULL.
 */
char *pk_push_url(const char *base, const char *job, const char *instance,
    const char *const *extra);
/*
 * One PUT of buf to url now, in the calling thread, waiting at most
 * timeout seconds: for a program that pushes once, at its end
 * (perf-bench). 0 on a 2xx answer, or -1 with a reason in err.
 */
int pk_push_once(const char *url, const char *buf, size_t len,
    double timeout, char *err, size_t errsize);
/* Start the thread. 0, or -1 with a reason in err. */
int pk_push_start(struct pk_push *p, const char *url, double interval,
    int delete_at_end, char *err, size_t errsize);
/* The newest snapshot (copied); pushed at the next interval. */
void pk_push_publish(struct pk_push *p, const char *buf, size_t len);
/*
 * Push what is left (and delete the group if asked), waiting at most
 * wait_s for the Pushgateway, then end the thread.
 */
void pk_push_stop(struct pk_push *p, double wait_s);

#endif
