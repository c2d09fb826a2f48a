/* SPDX-License-Identifier: MIT */
/*
 * The email receiver: a text message over SMTP (STARTTLS, AUTH with a
 * password from the environment or a file).
 */
#include "perf-alert.h"

#include <ctype.h>
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

/*
 * An address from the configuration goes into a header between <>: a
 * control character, a space or <>,;"() there could end the header or
 * add a recipient. Refused with its FILE:LINE:COL.
 */
static int
addr_check(struct pk_ydoc *doc, const struct pk_ynode *n, const char *key,
    const char *v)
{
	const unsigned char *p;

	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("<>,;\"()", *p) != NULL)
			return pk_yerror(doc, pk_ymap_get(n, key), "'%s' is not "
			    "an e-mail address (a space, a control character or "
			    "one of <>,;\"() in it)", v);
	return *v == '\0' ? pk_yerror(doc, pk_ymap_get(n, key), "an empty "
	    "e-mail address") : 0;
}

static void
b64(FILE *f, const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3)
		fprintf(f, "%c%c%c%c", t[p[i] >> 2],
		    t[(p[i] & 3) << 4 | p[i + 1] >> 4],
		    t[(p[i + 1] & 15) << 2 | p[i + 2] >> 6], t[p[i + 2] & 63]);
	if (n - i == 1)
		fprintf(f, "%c%c==", t[p[i] >> 2], t[(p[i] & 3) << 4]);
	else if (n - i == 2)
		fprintf(f, "%c%c%c=", t[p[i] >> 2],
		    t[(p[i] & 3) << 4 | p[i + 1] >> 4], t[(p[i + 1] & 15) << 2]);
}

/*
 * A header's value from templated text (the record's host, rule, …):
 * every control character (CR and LF above all: they would end the
 * header and start another, or the header block) becomes a space; text
 * that is not all ASCII is RFC 2047 encoded, in encoded words of at most
 * 39 bytes of text (64 characters encoded, a line of at most 76) that
 * never cut a UTF-8 character, folded onto continuation lines.
 */
static void
email_header(FILE *f, const char *name, const char *v)
{
	unsigned char *t = (unsigned char *)pk_xstrdup(v);
	size_t n = strlen((char *)t), i, at, len;
	int ascii = 1;

	for (i = 0; i < n; i++) {
		if (t[i] < ' ' || t[i] == 0x7f)
			t[i] = ' ';
		if (t[i] >= 0x80)
			ascii = 0;
	}
	fprintf(f, "%s: ", name);
	if (ascii) {
		fprintf(f, "%s\r\n", t);
		free(t);
		return;
	}
	for (at = 0; at < n; at += len) {
		len = n - at < 39 ? n - at : 39;
		/* Back off a continuation byte: whole characters only. */
		while (at + len < n && (t[at + len] & 0xc0) == 0x80)
			len--;
		fprintf(f, "%s=?UTF-8?B?", at ? "\r\n " : "");
		b64(f, t + at, len);
		fprintf(f, "?=");
	}
	fprintf(f, "\r\n");
	free(t);
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
	if (!err)
		err |= addr_check(doc, n, "from", m->from);
	for (size_t i = 0; !err && i < m->nto; i++)
		err |= addr_check(doc, n, "to", m->to[i]);
	if (err) {
		email_release(m);
		return NULL;
	}
	return m;
}

static const char *
str_of(const json_t *a, const char *key)
{
	const char *v = json_string_value(json_object_get(a, key));

	return v != NULL ? v : "";
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
	char *msg = NULL, *js, *subj, *mid;
	size_t msglen = 0, i;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int rc;

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
	fprintf(f, "\r\n");
	/* Every value from the record or the spool through email_header. */
	mid = pk_xasprintf("<%s@perf-alert>", e->key);
	for (i = 1; mid[i + 12] != '\0'; i++)
		if (!isalnum((unsigned char)mid[i]) && strchr("._-", mid[i]) ==
		    NULL)
			mid[i] = '_';
	email_header(f, "Message-ID", mid);
	free(mid);
	subj = pk_xasprintf("[%s] %s %s on %s", str_of(a, "severity"),
	    str_of(a, "rule"), str_of(a, "state"), str_of(a, "host"));
	email_header(f, "Subject", subj);
	free(subj);
	fprintf(f, "MIME-Version: 1.0\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\n");
	email_header(f, "X-Perf-Alert-Key", e->key);
	fprintf(f, "\r\n");
	/* The body: a line break in a value is one of its lines, CRLF. */
	json_object_foreach((json_t *)json_object_get(a, "annotations"), k, v) {
		const char *p = json_string_value(v);

		fprintf(f, "%s: ", k);
		for (; p != NULL && *p != '\0'; p++)
			if (*p == '\n')
				fputs("\r\n", f);
			else if (*p != '\r')
				fputc(*p, f);
		fputs("\r\n", f);
	}
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
	rc = pk_alert_smtp_send(&smtp, msg, msglen, stop, err, errsize,
	    permanent);
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
