/* SPDX-License-Identifier: MIT */
#include "pk_outlet.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_time.h"

const char pk_outlet_help[] =
    "      --listen ADDR:PORT  serve the metrics at GET /metrics (127.0.0.1\n"
    "                          unless ADDR is given)\n"
    "      --push URL          push the metrics to a Pushgateway\n"
    "      --push-interval DUR every DUR (15s) and at the end\n"
    "      --push-delete       delete the pushed group at the end\n"
    "      --textfile FILE     write the metrics atomically to FILE\n";

int
pk_outlet_opt(struct pk_outlet_opts *o, int c, const char *arg)
{
	char host[256], err[256];
	int port;

	switch (c) {
	case PK_OPT_TEXTFILE:
		o->textfile = arg;
		return 1;
	case PK_OPT_LISTEN:
		if (pk_httpd_parse_addr(arg, host, sizeof(host), &port, err,
		    sizeof(err)) == -1)
			pk_die(PK_EXIT_USAGE, "--listen %s", err);
		o->listen = arg;
		return 1;
	case PK_OPT_PUSH:
		if (strncmp(arg, "http://", 7) != 0 &&
		    strncmp(arg, "https://", 8) != 0)
			pk_die(PK_EXIT_USAGE, "--push '%s': an http:// or "
			    "https:// URL is expected", arg);
		o->push = arg;
		return 1;
	case PK_OPT_PUSH_INTERVAL:
		o->push_interval = pk_opt_duration(arg, 0.1, 86400,
		    "--push-interval");
		return 1;
	case PK_OPT_PUSH_DELETE:
		o->push_delete = 1;
		return 1;
	default:
		return 0;
	}
}

int
pk_outlet_start(struct pk_outlet *out, const struct pk_outlet_opts *o,
    char *err, size_t errsize)
{
	sigset_t all, old;
	char *url;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->o = *o;
	out->last_publish = -1e9;
	/*
	 * The threads inherit the mask: with every signal blocked there, a
	 * SIGTERM is delivered to the program's thread, whose blocking read
	 * it interrupts, and never lost in a server's.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (o->listen != NULL) {
		if (pk_httpd_start(&out->http, o->listen,
		    o->job != NULL ? o->job : pk_progname, err, errsize) == -1)
			goto fail;
		out->have_http = 1;
	}
	if (o->push != NULL) {
		url = pk_push_url(o->push, o->job != NULL ? o->job : pk_progname,
		    o->instance != NULL ? o->instance : pk_hostname(), NULL);
		if (url == NULL) {
			snprintf(err, errsize, "out of memory");
			goto fail;
		}
		if (pk_push_start(&out->push, url, o->push_interval,
		    o->push_delete, err, errsize) == -1) {
			free(url);
			goto fail;
		}
		free(url);
		out->have_push = 1;
	}
	rc = 0;
fail:
	if (rc == -1 && out->have_http)
		pk_httpd_stop(&out->http);
	if (rc == -1)
		out->have_http = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int
pk_outlet_active(const struct pk_outlet *out)
{
	return out->have_http || out->have_push || out->o.textfile != NULL;
}

void
pk_outlet_publish(struct pk_outlet *out, const char *buf, size_t len)
{
	out->published++;
	out->last_publish = pk_mono();
	if (out->have_http)
		pk_httpd_publish(&out->http, buf, len);
	if (out->have_push)
		pk_push_publish(&out->push, buf, len);
	if (out->o.textfile != NULL) {
		if (pk_atomic_write(out->o.textfile, buf, len, 0644) == -1) {
			if (!out->textfile_failed)
				pk_warn_errno("cannot write '%s' (retrying at "
				    "each update)", out->o.textfile);
			out->textfile_failed = 1;
		} else if (out->textfile_failed) {
			pk_warn("'%s' written again", out->o.textfile);
			out->textfile_failed = 0;
		}
	}
}

int
pk_outlet_due(const struct pk_outlet *out, double now)
{
	return now - out->last_publish >= PK_OUTLET_GAP;
}

void
pk_outlet_stop(struct pk_outlet *out, double wait_s)
{
	if (out->have_push)
		pk_push_stop(&out->push, wait_s);
	if (out->have_http)
		pk_httpd_stop(&out->http);
	out->have_push = out->have_http = 0;
}
