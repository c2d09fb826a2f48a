/* SPDX-License-Identifier: MIT */
/*
 * The Alertmanager receiver (API v2): every peer of an HA cluster gets
 * every alert; the active ones are resent before they expire.
 */
#include "perf-alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_alert_send.h"
#include "pk_err.h"
#include "pk_time.h"

/* The Alertmanager API v2 form: firing ones valid for 4 resend intervals. */
static json_t *
am_alert(const json_t *a, double resend_s)
{
	return pk_alert_am(a, pk_now() + 4 * resend_s);
}

int
deliver_am(struct receiver *x, const struct job *j, atomic_int *stopping,
    char *err, size_t errsize)
{
	json_t *arr = json_array(), *al = am_alert(j->e.alert, x->resend_s);
	const char *fp = json_string_value(json_object_get(j->e.alert,
	    "fingerprint"));
	const char *state = json_string_value(json_object_get(j->e.alert,
	    "state"));
	char url[2048], *body;
	int r;

	json_array_append(arr, al);
	body = json_dumps(arr, JSON_COMPACT);
	snprintf(url, sizeof(url), "%s/api/v2/alerts", x->urls[j->e.peer]);
	r = pk_alert_http_post(url, body, NULL, x->timeout_s, stopping, err,
	    errsize);
	free(body);
	json_decref(arr);
	if (r == 0 && fp != NULL && state != NULL) {
		if (strcmp(state, "resolved") == 0)
			json_object_del(x->active, fp);
		else
			json_object_set(x->active, fp, j->e.alert);
	}
	json_decref(al);
	return r;
}

/* Resend the active alerts to every Alertmanager peer, before they expire. */
void
am_resend(struct receiver *x, atomic_int *stopping)
{
	json_t *arr = json_array(), *v;
	const char *k;
	char url[2048], err[256], *body;
	size_t p;

	json_object_foreach(x->active, k, v)
		json_array_append_new(arr, am_alert(v, x->resend_s));
	if (json_array_size(arr) > 0) {
		body = json_dumps(arr, JSON_COMPACT);
		for (p = 0; p < x->nurls; p++) {
			snprintf(url, sizeof(url), "%s/api/v2/alerts",
			    x->urls[p]);
			if (pk_alert_http_post(url, body, NULL, x->timeout_s,
			    stopping, err, sizeof(err)) == -1)
				pk_warn("%s: resend to %s failed: %s", x->name,
				    x->urls[p], err);
		}
		free(body);
	}
	json_decref(arr);
}
