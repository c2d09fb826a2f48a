/* SPDX-License-Identifier: MIT */
/*
 * The email receiver: a text message over SMTP (STARTTLS, AUTH with a
 * password from the environment or a file).
 */
#include "perf-alert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pk_alert_send.h"
#include "pk_err.h"

struct email {
	char **url;		/* one */
	size_t nurl;
	char *from, *user, *pass_env, *pass_file, *ca_file;
	char **to;
	size_t nto;
	int starttls;
};

static const char *const email_keys[] = { "url", "from", "to", "username",
	"password_env", "password_file", "starttls", "ca_file", NULL };

static void
email_release(void *conf)
{
	struct email *m = conf;

	strv_free(m->url, m->nurl);
	strv_free(m->to, m->nto);
	free(m->from);
	free(m->user);
	free(m->pass_env);
	free(m->pass_file);
	free(m->ca_file);
	free(m);
}

static void *
email_load(struct pk_ydoc *doc, const struct pk_ynode *n,
    const struct receiver *x)
{
	struct email *m = pk_xcalloc(1, sizeof(*m));
	const struct pk_ynode *v;
	int err = 0;

	err |= conf_str(doc, n, "from", &m->from);
	err |= conf_strv(doc, n, "to", &m->to, &m->nto);
	err |= conf_str(doc, n, "username", &m->user);
	err |= conf_str(doc, n, "password_env", &m->pass_env);
	err |= conf_str(doc, n, "password_file", &m->pass_file);
	err |= conf_str(doc, n, "ca_file", &m->ca_file);
	if ((v = pk_ymap_get(n, "starttls")) != NULL)
		err |= pk_ynode_bool(doc, v, &m->starttls);
	if (!err)
		err |= conf_urls(doc, n, x, 0, &m->url, &m->nurl);
	if (!err && (m->from == NULL || m->nto == 0))
		err = pk_yerror(doc, n, "receiver '%s' needs from and to",
		    x->name);
	if (err) {
		email_release(m);
		return NULL;
	}
	return m;
}

static int
email_deliver(struct receiver *x, const struct pk_alert_spool_entry *e,
    atomic_int *stop, char *err, size_t errsize, int *permanent)
{
	const struct email *m = x->conf;
	const json_t *a = e->alert;
	char date[64], pass[512];
	struct pk_alert_smtp smtp;
	const char *k;
	json_t *v;
	char *msg = NULL, *js;
	size_t msglen = 0, i;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int rc;

	(void)permanent;
	if (rx_secret(m->pass_env, m->pass_file, pass, sizeof(pass)) == -1) {
		snprintf(err, errsize, "cannot read '%s': %s", m->pass_file,
		    strerror(errno));
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if ((f = open_memstream(&msg, &msglen)) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	fprintf(f, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, m->from);
	for (i = 0; i < m->nto; i++)
		fprintf(f, "%s<%s>", i ? ", " : "", m->to[i]);
	fprintf(f, "\r\nMessage-ID: <%s@perf-alert>\r\n", e->key);
	fprintf(f, "Subject: [%s] %s %s on %s\r\n",
	    json_string_value(json_object_get(a, "severity")),
	    json_string_value(json_object_get(a, "rule")),
	    json_string_value(json_object_get(a, "state")),
	    json_string_value(json_object_get(a, "host")));
	fprintf(f, "MIME-Version: 1.0\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nX-Perf-Alert-Key: %s\r\n\r\n", e->key);
	json_object_foreach((json_t *)json_object_get(a, "annotations"), k, v)
		fprintf(f, "%s: %s\r\n", k, json_string_value(v));
	js = json_dumps(a, JSON_COMPACT);
	fprintf(f, "\r\n%s\r\n", js);
	free(js);
	fclose(f);
	smtp.url = m->url[0];
	smtp.from = m->from;
	smtp.to = m->to;
	smtp.nto = m->nto;
	smtp.user = m->user;
	smtp.password = pass;
	smtp.ca_file = m->ca_file;
	smtp.starttls = m->starttls;
	smtp.timeout = x->timeout_s;
	rc = pk_alert_smtp_send(&smtp, msg, msglen, stop, err, errsize);
	free(msg);
	memset(pass, 0, sizeof(pass));
	return rc;
}

const struct receiver_type rx_email = {
	.name = "email",
	.keys = email_keys,
	.load = email_load,
	.deliver = email_deliver,
	.release = email_release,
};
