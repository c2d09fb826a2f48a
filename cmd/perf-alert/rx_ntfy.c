/* SPDX-License-Identifier: MIT */
/*
 * The ntfy receiver (https://ntfy.sh, or a server of one's own): the
 * alert's summary POSTed as the message to the topic's URL, with a
 * Title (a template), a Priority from the severity and Tags. A bearer
 * token comes from the environment or a file, never from the config.
 * Header values are made single-line (control characters become
 * spaces), so a host or label cannot add a header.
 */
#include "perf-alert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_alert_send.h"
#include "pk_err.h"

#define NSEV 4		/* INFO .. EMERGENCY */

struct ntfy {
	char **url;		/* one: the server and the topic */
	size_t nurl;
	char *token_env, *token_file;
	int prio[NSEV];		/* ntfy's 1 (min) .. 5 (max, urgent) */
	char *tags;		/* comma-separated, or NULL */
	char *title;		/* a template, or NULL */
};

static const char *const ntfy_keys[] = { "url", "token_env", "token_file",
	"priority", "tags", "title", NULL };

/* ntfy's names of its priorities 1 to 5. */
static const char *const prionames[][2] = {
	{ "min", NULL }, { "low", NULL }, { "default", NULL },
	{ "high", NULL }, { "max", "urgent" }
};

static void
ntfy_release(void *conf)
{
	struct ntfy *n = conf;

	strv_free(n->url, n->nurl);
	free(n->token_env);
	free(n->token_file);
	free(n->tags);
	free(n->title);
	free(n);
}

/* A priority: 1 to 5, or one of ntfy's names for them. */
static int
prio_of(struct pk_ydoc *doc, const struct pk_ynode *v, int *out)
{
	const char *s;
	long long k;
	int i;

	if (pk_ynode_str(doc, v, &s) == -1)
		return -1;
	for (i = 0; i < 5; i++)
		if (strcmp(s, prionames[i][0]) == 0 || (prionames[i][1] != NULL &&
		    strcmp(s, prionames[i][1]) == 0)) {
			*out = i + 1;
			return 0;
		}
	if (pk_ynode_int(doc, v, 1, 5, &k) == -1)
		return -1;
	*out = (int)k;
	return 0;
}

/*
 * priority: {SEVERITY: PRIORITY, ...}; the severities not named keep
 * their default.
 */
static int
load_priority(struct pk_ydoc *doc, const struct pk_ynode *n, struct ntfy *f)
{
	const struct pk_ynode *m = pk_ymap_get(n, "priority");
	size_t i;
	int sev;

	f->prio[0] = 3;
	f->prio[1] = 4;
	f->prio[2] = 5;
	f->prio[3] = 5;
	if (m == NULL)
		return 0;
	if (pk_ynode_expect(doc, m, PK_YMAP, "priority") == -1)
		return -1;
	for (i = 0; i < m->n; i++) {
		if ((sev = pk_alert_severity(m->keys[i]->str)) < 0)
			return pk_yerror(doc, m->keys[i], "unknown severity "
			    "'%s' (INFO, WARNING, CRITICAL, EMERGENCY)",
			    m->keys[i]->str);
		if (prio_of(doc, m->items[i], &f->prio[sev]) == -1)
			return -1;
	}
	return 0;
}

/* tags: a list of strings (or one), sent comma-separated. */
static int
load_tags(struct pk_ydoc *doc, const struct pk_ynode *n, struct ntfy *f)
{
	const struct pk_ynode *v = pk_ymap_get(n, "tags");
	char **tags = NULL;
	size_t ntags = 0, i, len = 0;

	if (conf_strv(doc, n, "tags", &tags, &ntags) == -1) {
		strv_free(tags, ntags);
		return -1;
	}
	for (i = 0; i < ntags; i++) {
		const char *s;

		for (s = tags[i]; *s != '\0'; s++)
			if (*s == ',' || (unsigned char)*s < 0x20 || *s == 0x7f)
				break;
		if (*s != '\0' || tags[i][0] == '\0') {
			pk_yerror(doc, v, "tag '%s': not empty, no comma, no "
			    "control character", tags[i]);
			strv_free(tags, ntags);
			return -1;
		}
		len += strlen(tags[i]) + 1;
	}
	if (ntags > 0) {
		size_t at = 0;

		f->tags = pk_xcalloc(1, len);
		for (i = 0; i < ntags; i++)
			at += (size_t)snprintf(f->tags + at, len - at, "%s%s",
			    i > 0 ? "," : "", tags[i]);
	}
	strv_free(tags, ntags);
	return 0;
}

static void *
ntfy_load(struct pk_ydoc *doc, const struct pk_ynode *n,
    const struct receiver *x)
{
	struct ntfy *f = pk_xcalloc(1, sizeof(*f));
	int err = 0;

	err |= conf_str(doc, n, "token_env", &f->token_env);
	err |= conf_str(doc, n, "token_file", &f->token_file);
	err |= conf_str(doc, n, "title", &f->title);
	err |= load_priority(doc, n, f);
	err |= load_tags(doc, n, f);
	if (!err && f->token_env != NULL && f->token_file != NULL)
		err = pk_yerror(doc, pk_ymap_get(n, "token_file"), "receiver "
		    "'%s': token_env or token_file, not both", x->name);
	if (!err)
		err |= conf_urls(doc, n, x, 0, &f->url, &f->nurl);
	if (err) {
		ntfy_release(f);
		return NULL;
	}
	return f;
}

/* A header value on one line: every control character a space. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static int
ntfy_deliver(struct receiver *x, const struct pk_alert_spool_entry *e,
    atomic_int *stop, char *err, size_t errsize, int *permanent)
{
	const struct ntfy *f = x->conf;
	const json_t *a = e->alert;
	const char *summary = json_string_value(json_object_get(
	    json_object_get(a, "annotations"), "summary"));
	const char *headers[5];
	char title[1024], token[1024], th[1100], ph[32], tagh[1100], ah[1100];
	struct pk_alert_http h;
	size_t nh = 0;
	long status;
	int sev, rc;

	if (rx_secret(f->token_env, f->token_file, token, sizeof(token)) ==
	    -1) {
		snprintf(err, errsize, "cannot read '%s': %s", f->token_file,
		    strerror(errno));
		return -1;
	}
	if (f->title != NULL)
		alert_expand(f->title, a, title, sizeof(title));
	else
		snprintf(title, sizeof(title), "[%s] %s %s on %s",
		    json_string_value(json_object_get(a, "severity")),
		    json_string_value(json_object_get(a, "rule")),
		    json_string_value(json_object_get(a, "state")),
		    json_string_value(json_object_get(a, "host")));
	one_line(title);
	snprintf(th, sizeof(th), "Title: %s", title);
	headers[nh++] = th;
	sev = pk_alert_severity(json_string_value(json_object_get(a,
	    "severity")) ? json_string_value(json_object_get(a, "severity")) :
	    "");
	snprintf(ph, sizeof(ph), "Priority: %d", f->prio[sev < 0 ? 0 : sev]);
	headers[nh++] = ph;
	if (f->tags != NULL) {
		snprintf(tagh, sizeof(tagh), "Tags: %s", f->tags);
		headers[nh++] = tagh;
	}
	if (token[0] != '\0') {
		one_line(token);
		snprintf(ah, sizeof(ah), "Authorization: Bearer %s", token);
		headers[nh++] = ah;
	}
	headers[nh] = NULL;
	memset(&h, 0, sizeof(h));
	h.url = f->url[0];
	h.body = summary != NULL ? summary : title;
	h.len = strlen(h.body);
	h.content_type = "text/plain; charset=utf-8";
	h.headers = headers;
	h.timeout = x->timeout_s;
	rc = pk_alert_http_request(&h, stop, &status, err, errsize);
	memset(token, 0, sizeof(token));
	memset(ah, 0, sizeof(ah));
	if (rc == -1)
		*permanent = pk_alert_failure_class(status);
	return rc;
}

const struct receiver_type rx_ntfy = {
	.name = "ntfy",
	.keys = ntfy_keys,
	.load = ntfy_load,
	.deliver = ntfy_deliver,
	.release = ntfy_release,
};
