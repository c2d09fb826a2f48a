/* SPDX-License-Identifier: MIT */
/*
 * The Alertmanager receiver (API v2): every peer of an HA cluster is a
 * target of its own and gets every alert; the active alerts are resent to
 * every peer each resend_interval, each valid for four intervals, so that
 * Alertmanager keeps them until they are resolved.
 *
 * Labels follow Alertmanager's and Prometheus's conventions: a rule's own
 * labels (severity included) are sent as written; without a severity
 * label, perf-alert's severity is sent in lower case (severity_case:
 * upper for routes written for the records' CRITICAL). generatorURL is
 * the generator_url template expanded, each value percent-encoded, or
 * left out without one.
 */
#include "perf-alert.h"

#include <pthread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "pk_alert_send.h"
#include "pk_err.h"
#include "pk_time.h"

struct am {
	char **urls;		/* the peers */
	size_t nurls;
	double resend_s;
	int sev_upper;		/* severity_case: upper */
	char *gen_url;		/* generator_url, a template, or NULL */
	json_t *active;		/* fingerprint -> alert */
	/*
	 * active is the delivery workers': one delivers this receiver's
	 * notifications at a time, but the resend may run in another.
	 */
	pthread_mutex_t mu;
};

static const char *const am_keys[] = { "url", "urls", "resend_interval",
	"severity_case", "generator_url", NULL };

/* What RFC 3986 allows in a URI, '%' included (the values are encoded). */
static int
uri_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("-._~:/?#[]@!$&'()*+,;=%", c) !=
	    NULL;
}

static void
am_release(void *conf)
{
	struct am *a = conf;

	strv_free(a->urls, a->nurls);
	free(a->gen_url);
	json_decref(a->active);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

static void *
am_load(struct pk_ydoc *doc, const struct pk_ynode *n,
    const struct receiver *x)
{
	struct am *a = pk_xcalloc(1, sizeof(*a));
	int err = 0;

	const struct pk_ynode *v;
	char *c = NULL;
	size_t i;

	a->resend_s = 60;
	a->active = json_object();
	pthread_mutex_init(&a->mu, NULL);
	err |= conf_dur(doc, n, "resend_interval", 0.1, &a->resend_s);
	if ((v = pk_ymap_get(n, "severity_case")) != NULL &&
	    conf_str(doc, n, "severity_case", &c) == 0) {
		if (strcmp(c, "upper") == 0)
			a->sev_upper = 1;
		else if (strcmp(c, "lower") != 0)
			err |= pk_yerror(doc, v, "severity_case '%s': lower or "
			    "upper", c);
		free(c);
	} else if (v != NULL) {
		err = 1;
	}
	if ((v = pk_ymap_get(n, "generator_url")) != NULL &&
	    conf_str(doc, n, "generator_url", &a->gen_url) == 0) {
		/* The template's own text: a URI, each value encoded. */
		if (strncmp(a->gen_url, "http://", 7) != 0 &&
		    strncmp(a->gen_url, "https://", 8) != 0)
			err |= pk_yerror(doc, v, "generator_url '%s': an http:// "
			    "or https:// URL is expected", a->gen_url);
		for (i = 0; !err && a->gen_url[i] != '\0'; i++) {
			const char *end;

			if (a->gen_url[i] == '{' && a->gen_url[i + 1] == '{' &&
			    (end = strstr(a->gen_url + i + 2, "}}")) != NULL) {
				i = (size_t)(end - a->gen_url) + 1;
				continue;
			}
			if (!uri_char((unsigned char)a->gen_url[i]))
				err |= pk_yerror(doc, v, "generator_url: '%c' "
				    "does not belong in a URL (encode it)",
				    a->gen_url[i]);
		}
	} else if (v != NULL) {
		err = 1;
	}
	if (!err)
		err |= conf_urls(doc, n, x, 1, &a->urls, &a->nurls);
	if (err) {
		am_release(a);
		return NULL;
	}
	return a;
}

/*
 * The record as the generator_url template sees it: every string it can
 * reach (host, component, rule, severity, fingerprint, labels.NAME)
 * percent-encoded, so that no value can end the URL's path or add to
 * its query.
 */
static json_t *
url_view(const json_t *rec)
{
	json_t *o = json_deep_copy(rec), *maps[2], *v;
	const char *k;
	char *e;
	size_t m;

	if (o == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	maps[0] = o;
	maps[1] = json_object_get(o, "labels");
	for (m = 0; m < 2; m++) {
		if (!json_is_object(maps[m]))
			continue;
		json_object_foreach(maps[m], k, v) {
			if (!json_is_string(v))
				continue;
			if ((e = curl_easy_escape(NULL, json_string_value(v),
			    (int)json_string_length(v))) == NULL)
				pk_die(PK_EXIT_IO, "out of memory");
			json_string_set(v, e);
			curl_free(e);
		}
	}
	return o;
}

/* The Alertmanager API v2 form: firing ones valid for 4 resend intervals. */
static json_t *
am_alert(const struct am *a, const json_t *rec)
{
	struct pk_alert_am_form f = { a->sev_upper, NULL };
	char url[2048];
	json_t *view, *al;

	if (a->gen_url != NULL) {
		view = url_view(rec);
		/* A link cut short is no link: none then. */
		if (alert_expand(a->gen_url, view, url, sizeof(url)) <
		    sizeof(url))
			f.generator_url = url;
		json_decref(view);
	}
	al = pk_alert_am(rec, pk_now() + 4 * a->resend_s, &f);
	return al;
}

static int
am_deliver(struct receiver *x, const struct pk_alert_spool_entry *e,
    atomic_int *stop, char *err, size_t errsize, int *permanent)
{
	struct am *a = x->conf;
	json_t *arr = json_array(), *al = am_alert(a, e->alert);
	const char *fp = json_string_value(json_object_get(e->alert,
	    "fingerprint"));
	const char *state = json_string_value(json_object_get(e->alert,
	    "state"));
	char url[2048], *body;
	int r;

	json_array_append(arr, al);
	body = json_dumps(arr, JSON_COMPACT);
	snprintf(url, sizeof(url), "%s/api/v2/alerts", a->urls[e->peer]);
	r = pk_alert_http_post_class(url, body, NULL, x->timeout_s, stop, err,
	    errsize, permanent);
	free(body);
	json_decref(arr);
	if (r == 0 && fp != NULL && state != NULL) {
		pthread_mutex_lock(&a->mu);
		if (strcmp(state, "resolved") == 0)
			json_object_del(a->active, fp);
		else
			json_object_set(a->active, fp, e->alert);
		pthread_mutex_unlock(&a->mu);
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

	pthread_mutex_lock(&a->mu);
	json_object_foreach(a->active, k, v)
		json_array_append_new(arr, am_alert(a, v));
	pthread_mutex_unlock(&a->mu);
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

	if (fp != NULL) {
		pthread_mutex_lock(&a->mu);
		json_object_set(a->active, fp, (json_t *)rec);
		pthread_mutex_unlock(&a->mu);
	}
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
