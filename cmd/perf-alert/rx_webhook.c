/* SPDX-License-Identifier: MIT */
/*
 * The webhook receiver: the alert record POSTed as JSON, with an
 * Idempotency-Key header.
 */
#include "perf-alert.h"

#include <stdlib.h>

#include "pk_alert_send.h"
#include "pk_err.h"

struct webhook {
	char **url;		/* one */
	size_t nurl;
};

static const char *const webhook_keys[] = { "url", NULL };

static void
webhook_release(void *conf)
{
	struct webhook *w = conf;

	strv_free(w->url, w->nurl);
	free(w);
}

static void *
webhook_load(struct pk_ydoc *doc, const struct pk_ynode *n,
    const struct receiver *x)
{
	struct webhook *w = pk_xcalloc(1, sizeof(*w));

	if (conf_urls(doc, n, x, 0, &w->url, &w->nurl) == -1) {
		webhook_release(w);
		return NULL;
	}
	return w;
}

static int
webhook_deliver(struct receiver *x, const struct pk_alert_spool_entry *e,
    atomic_int *stop, char *err, size_t errsize, int *permanent)
{
	const struct webhook *w = x->conf;
	char *body = json_dumps(e->alert, JSON_COMPACT);
	int r;

	r = pk_alert_http_post_class(w->url[0], body, e->key, x->timeout_s,
	    stop, err, errsize, permanent);
	free(body);
	return r;
}

const struct receiver_type rx_webhook = {
	.name = "webhook",
	.keys = webhook_keys,
	.load = webhook_load,
	.deliver = webhook_deliver,
	.release = webhook_release,
};
