/* SPDX-License-Identifier: MIT */
/*
 * The webhook receiver: the alert record POSTed as JSON, with an
 * Idempotency-Key header.
 */
#include "perf-alert.h"

#include <stdlib.h>

#include "pk_alert_send.h"

int
deliver_webhook(struct receiver *x, const struct job *j, atomic_int *stopping,
    char *err, size_t errsize)
{
	char *body = json_dumps(j->e.alert, JSON_COMPACT);
	int r;

	r = pk_alert_http_post(x->urls[0], body, j->e.key, x->timeout_s,
	    stopping, err, errsize);
	free(body);
	return r;
}
