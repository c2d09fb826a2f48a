/* SPDX-License-Identifier: MIT */
/*
 * The exposition's outlets (--textfile/-o, --listen, --push, through
 * pk_outlet). On a schedule, every sample is handed to each of them: the
 * server serves the latest, the Pushgateway gets the newest at its
 * interval. With --listen alone (nothing on standard output, no other
 * outlet), there is no schedule: a scrape takes a reading, as
 * node_exporter does, and its rates are those since the reading before
 * (the previous scrape, or the start); a scrape that comes sooner than
 * --interval after the last reading is served that reading's exposition.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "perf-sample.h"
#include "pk_err.h"
#include "pk_time.h"

struct ps_outlet {
	struct pk_outlet out;
	pthread_mutex_t mu;		/* one reading at a time */
	struct ps_sampler *sp;
	int have_reading;		/* an exposition was rendered */
};

/* In the server's thread, before /metrics is served. */
static void
on_scrape(void *arg)
{
	struct ps_outlet *po = arg;
	struct ps_sampler *sp = po->sp;

	pthread_mutex_lock(&po->mu);
	if (!po->have_reading ||
	    pk_mono() - sp->mono[sp->prev] >= sp->o->interval) {
		ps_take(sp);
		ps_emit(sp);
		ps_procs_scan(sp);
		ps_swap(sp);
	}
	pthread_mutex_unlock(&po->mu);
}

void
ps_outlet_start(struct ps_sampler *sp)
{
	const struct perf_sample_opts *o = sp->o;
	struct ps_outlet *po;
	char err[512];

	if (!ps_outlets(o))
		return;
	po = pk_xcalloc(1, sizeof(*po));
	pthread_mutex_init(&po->mu, NULL);
	po->sp = sp;
	if (pk_outlet_start(&po->out, &o->out, err, sizeof(err)) == -1)
		pk_die(PK_EXIT_IO, "%s", err);
	sp->outlet = po;
	/*
	 * The server's thread reads the hook from now on: the baseline was
	 * taken before the server started, and only a scrape in the moment
	 * between the two gets an empty page.
	 */
	if (o->scrape) {
		po->out.http.arg = po;
		__atomic_store_n(&po->out.http.refresh, on_scrape,
		    __ATOMIC_RELEASE);
	}
}

void
ps_outlet_publish(struct ps_sampler *sp)
{
	pk_outlet_publish(&sp->outlet->out, sp->pw.buf, sp->pw.len);
	sp->outlet->have_reading = 1;
}

void
ps_serve(struct ps_sampler *sp)
{
	sigset_t stop, old;

	(void)sp;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	while (!pk_stop)
		sigsuspend(&old);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void
ps_outlet_stop(struct ps_sampler *sp)
{
	struct ps_outlet *po = sp->outlet;

	if (po == NULL)
		return;
	/* A scrape in progress ends before the sampler goes. */
	pk_outlet_stop(&po->out, 5);
}

int
ps_outlet_failed(const struct ps_sampler *sp)
{
	return sp->outlet != NULL && sp->outlet->out.textfile_failed;
}

void
ps_outlet_release(struct ps_sampler *sp)
{
	if (sp->outlet == NULL)
		return;
	pthread_mutex_destroy(&sp->outlet->mu);
	free(sp->outlet);
	sp->outlet = NULL;
}
