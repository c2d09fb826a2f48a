/* SPDX-License-Identifier: MIT */
/*
 * The Alertmanager receiver (API v2): every peer of an HA cluster is a
 * target of its own and gets every alert; the active alerts are resent to
 * every peer each resend_interval, each valid for four intervals, so that
 * Alertmanager keeps them until they are resolved.
 */
#include "perf-alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_alert_send.h"
#include "pk_err.h"
#include "pk_time.h"

struct am {
	char **urls;		/* the peers */
	size_t nurls;
	double resend_s;
	json_t *active;		/* fingerprint -> alert (delivery thread) */
};

static const char *const am_keys[] = { "url", "urls", "resend_interval",
	NULL };

static void
am_release(void *conf)
{
	struct am *a = conf;

	strv_free(a->urls, a->nurls);
	json_decref(a->active);
	free(a);
}

static void *
am_load(struct pk_ydoc *doc, const struct pk_ynode *n,
    const struct receiver *x)
{
	struct am *a = pk_xcalloc(1, sizeof(*a));
	int err = 0;

	a->resend_s = 60;
	a->active = json_object();
	err |= conf_dur(doc, n, "resend_interval", 0.1, &a->resend_s);
	if (!err)
		err |= conf_urls(doc, n, x, 1, &a->urls, &a->nurls);
	if (err) {
		am_release(a);
		return NULL;
	}
	return a;
}

/* The Alertmanager API v2 form: firing ones valid for 4 resend intervals. */
static json_t *
am_alert(const json_t *rec, double resend_s)
{
	return pk_alert_am(rec, pk_now() + 4 * resend_s);
}

static int
am_deliver(struct receiver *x, const struct pk_alert_spool_entry *e,
    atomic_int *stop, char *err, size_t errsize, int *permanent)
{
	struct am *a = x->conf;
	json_t *arr = json_array(), *al = am_alert(e->alert, a->resend_s);
	const char *fp = json_string_value(json_object_get(e->alert,
	    "fingerprint"));
	const char *state = json_string_value(json_object_get(e->alert,
	    "state"));
	char url[2048], *body;
	int r;

	(void)permanent;
	json_array_append(arr, al);
	body = json_dumps(arr, JSON_COMPACT);
	snprintf(url, sizeof(url), "%s/api/v2/alerts", a->urls[e->peer]);
	r = pk_alert_http_post(url, body, NULL, x->timeout_s, stop, err,
	    errsize);
	free(body);
	json_decref(arr);
	if (r == 0 && fp != NULL && state != NULL) {
		if (strcmp(state, "resolved") == 0)
			json_object_del(a->active, fp);
		else
			json_object_set(a->active, fp, e->alert);
	}
	json_decref(al);
	return r;
}

static size_t
am_targets(const struct receiver *x)
{
	const struct am *a = x->conf;

	return a->nurls;
}

static double
am_period(const struct receiver *x)
{
	const struct am *a = x->conf;

	return a->resend_s;
}

/* Resend the active alerts to every peer, before they expire. */
static void
am_resend(struct receiver *x, atomic_int *stop)
{
	struct am *a = x->conf;
	json_t *arr = json_array(), *v;
	const char *k;
	char url[2048], err[256], *body;
	size_t p;

	json_object_foreach(a->active, k, v)
		json_array_append_new(arr, am_alert(v, a->resend_s));
	if (json_array_size(arr) > 0) {
		body = json_dumps(arr, JSON_COMPACT);
		for (p = 0; p < a->nurls; p++) {
			snprintf(url, sizeof(url), "%s/api/v2/alerts",
			    a->urls[p]);
			if (pk_alert_http_post(url, body, NULL, x->timeout_s,
			    stop, err, sizeof(err)) == -1)
				pk_warn("%s: resend to %s failed: %s", x->name,
				    a->urls[p], err);
		}
		free(body);
	}
	json_decref(arr);
}

/* Alertmanager forgets an alert unless it is resent: resend it. */
static void
am_resume(struct receiver *x, const json_t *rec)
{
	struct am *a = x->conf;
	const char *fp = json_string_value(json_object_get(rec,
	    "fingerprint"));

	if (fp != NULL)
		json_object_set(a->active, fp, (json_t *)rec);
}

const struct receiver_type rx_alertmanager = {
	.name = "alertmanager",
	.keys = am_keys,
	.load = am_load,
	.deliver = am_deliver,
	.release = am_release,
	.targets = am_targets,
	.period = am_period,
	.periodic = am_resend,
	.resume = am_resume,
};
