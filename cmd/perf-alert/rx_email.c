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
#include "pk_io.h"

static int
read_secret(const struct receiver *x, char *buf, size_t size)
{
	const char *e;
	char *s;
	size_t n;

	buf[0] = '\0';
	if (x->pass_env != NULL && (e = getenv(x->pass_env)) != NULL) {
		snprintf(buf, size, "%s", e);
		return 0;
	}
	if (x->pass_file != NULL) {
		if (pk_read_file(x->pass_file, &s, &n) == -1)
			return -1;
		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
			s[--n] = '\0';
		snprintf(buf, size, "%s", s);
		free(s);
	}
	return 0;
}

int
deliver_email(struct receiver *x, const struct job *j, atomic_int *stopping,
    char *err, size_t errsize)
{
	const json_t *a = j->e.alert;
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

	if (read_secret(x, pass, sizeof(pass)) == -1) {
		snprintf(err, errsize, "cannot read '%s': %s", x->pass_file,
		    strerror(errno));
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if ((f = open_memstream(&msg, &msglen)) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	fprintf(f, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, x->from);
	for (i = 0; i < x->nto; i++)
		fprintf(f, "%s<%s>", i ? ", " : "", x->to[i]);
	fprintf(f, "\r\nMessage-ID: <%s@perf-alert>\r\n", j->e.key);
	fprintf(f, "Subject: [%s] %s %s on %s\r\n",
	    json_string_value(json_object_get(a, "severity")),
	    json_string_value(json_object_get(a, "rule")),
	    json_string_value(json_object_get(a, "state")),
	    json_string_value(json_object_get(a, "host")));
	fprintf(f, "MIME-Version: 1.0\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nX-Perf-Alert-Key: %s\r\n\r\n", j->e.key);
	json_object_foreach((json_t *)json_object_get(a, "annotations"), k, v)
		fprintf(f, "%s: %s\r\n", k, json_string_value(v));
	js = json_dumps(a, JSON_COMPACT);
	fprintf(f, "\r\n%s\r\n", js);
	free(js);
	fclose(f);
	smtp.url = x->urls[0];
	smtp.from = x->from;
	smtp.to = x->to;
	smtp.nto = x->nto;
	smtp.user = x->user;
	smtp.password = pass;
	smtp.ca_file = x->ca_file;
	smtp.starttls = x->starttls;
	smtp.timeout = x->timeout_s;
	rc = pk_alert_smtp_send(&smtp, msg, msglen, stopping, err, errsize);
	free(msg);
	memset(pass, 0, sizeof(pass));
	return rc;
}
