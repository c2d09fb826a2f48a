/* SPDX-License-Identifier: MIT */
#ifndef PK_OUTLET_H
#define PK_OUTLET_H

#include <getopt.h>
#include <stddef.h>

#include "pk_httpd.h"
#include "pk_push.h"

/*
 * The three outlets of the Prometheus exposition, with the same flags in
 * every long-running program:
 *
 *   --textfile FILE       written atomically at each publish, for
 *                         node_exporter's textfile collector
 *   --listen ADDR:PORT    GET /metrics (pk_httpd; 127.0.0.1 unless an
 *                         address is given)
 *   --push URL            a Pushgateway (pk_push): every --push-interval
 *                         (15s) and at the end; --push-delete deletes the
 *                         group at the end
 *
 * The program renders its exposition when its figures change and hands it
 * to pk_outlet_publish(); the outlets never block it. The outlets' threads
 * start with every signal blocked, so that SIGINT, SIGTERM and SIGHUP reach
 * the program's own thread (and interrupt the read it waits in).
 */
enum {
	PK_OPT_TEXTFILE = 0x1010,
	PK_OPT_LISTEN,
	PK_OPT_PUSH,
	PK_OPT_PUSH_INTERVAL,
	PK_OPT_PUSH_DELETE
};

/* For the program's getopt_long table. */
#define PK_OUTLET_LONGOPTS \
	{ "textfile", required_argument, NULL, PK_OPT_TEXTFILE }, \
	{ "listen", required_argument, NULL, PK_OPT_LISTEN }, \
	{ "push", required_argument, NULL, PK_OPT_PUSH }, \
	{ "push-interval", required_argument, NULL, PK_OPT_PUSH_INTERVAL }, \
	{ "push-delete", no_argument, NULL, PK_OPT_PUSH_DELETE }

/* The usage fragment and the --help lines of those options. */
#define PK_OUTLET_USAGE "[--listen addr:port] [--push url] [--textfile file]"
extern const char pk_outlet_help[];

struct pk_outlet_opts {
	const char *textfile;
	const char *listen;
	const char *push;
	double push_interval;
	int push_delete;
	const char *job;		/* the Pushgateway job: the program */
	const char *instance;		/* and instance: the host name */
};

/*
 * Take option c if it is one of the outlets' (1), else 0. Bad values die
 * with PK_EXIT_USAGE, as pk_opt_* do.
 */
int pk_outlet_opt(struct pk_outlet_opts *o, int c, const char *arg);

struct pk_outlet {
	struct pk_outlet_opts o;
	struct pk_httpd http;
	struct pk_push push;
	int have_http, have_push;
	int textfile_failed;		/* reported once until it works again */
	unsigned long long published;
	double last_publish;		/* pk_mono() of the last publish */
};

/*
 * At most this many seconds between two expositions of a program whose
 * figures change faster (a filter replaying a log): see pk_outlet_due().
 */
#define PK_OUTLET_GAP 0.1

/* Start the outlets asked for. 0, or -1 with a reason in err. */
int pk_outlet_start(struct pk_outlet *out, const struct pk_outlet_opts *o,
    char *err, size_t errsize);
/* Whether any outlet is on (whether rendering is worth it). */
int pk_outlet_active(const struct pk_outlet *out);
/*
 * Hand the newest exposition to every outlet. A textfile that cannot be
 * written is reported once (and again once it works), never fatal.
 */
void pk_outlet_publish(struct pk_outlet *out, const char *buf, size_t len);
/*
 * Whether an exposition rendered at now (pk_mono()) would be PK_OUTLET_GAP
 * or more after the last publish: a program whose figures change with its
 * input renders when this says so and leaves the change pending
 * otherwise, so that a fast replay renders ten times a second, not once
 * per change.
 */
int pk_outlet_due(const struct pk_outlet *out, double now);
/* The final push (waiting at most wait_s), then everything closed. */
void pk_outlet_stop(struct pk_outlet *out, double wait_s);

#endif
