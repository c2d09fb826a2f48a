/* SPDX-License-Identifier: MIT */
#include "pk_alert_send.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "pk_spawn.h"
#include "pk_time.h"


void
pk_alert_rfc3339(double t, char *buf, size_t size)
{
	time_t s = (time_t)floor(t);
	struct tm tm;
	char tmp[32];
	int ms = (int)((t - floor(t)) * 1000);

	gmtime_r(&s, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03dZ", tmp, ms > 999 ? 999 : ms);
}

json_t *
pk_alert_am(const json_t *a, double until, const struct pk_alert_am_form *f)
{
	json_t *o = json_object(), *labels, *ann;
	const char *state = json_string_value(json_object_get(a, "state"));
	const char *sev = json_string_value(json_object_get(a, "severity"));
	char t[64], s[32];
	size_t i;

	labels = json_deep_copy(json_object_get(a, "labels"));
	if (labels == NULL)
		labels = json_object();
	/* The rule's own severity label stays as the user wrote it. */
	if (json_object_get(labels, "severity") == NULL && sev != NULL) {
		for (i = 0; sev[i] != '\0' && i + 1 < sizeof(s); i++)
			s[i] = (char)(f->severity_upper ?
			    toupper((unsigned char)sev[i]) :
			    tolower((unsigned char)sev[i]));
		s[i] = '\0';
		json_object_set_new(labels, "severity", json_string(s));
	}
	json_object_set_new(o, "labels", labels);
	ann = json_deep_copy(json_object_get(a, "annotations"));
	json_object_set_new(o, "annotations", ann ? ann : json_object());
	pk_alert_rfc3339(json_number_value(json_object_get(a, "since")), t,
	    sizeof(t));
	json_object_set_new(o, "startsAt", json_string(t));
	if (state != NULL && strcmp(state, "resolved") == 0)
		pk_alert_rfc3339(json_number_value(json_object_get(a, "ts")), t,
		    sizeof(t));
	else
		pk_alert_rfc3339(until, t, sizeof(t));
	json_object_set_new(o, "endsAt", json_string(t));
	if (f->generator_url != NULL && f->generator_url[0] != '\0')
		json_object_set_new(o, "generatorURL",
		    json_string(f->generator_url));
	return o;
}

static size_t
discard_cb(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

struct readbuf {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *out, size_t size, size_t n, void *arg)
{
	struct readbuf *rb = arg;
	size_t k = size * n;

	if (k > rb->left)
		k = rb->left;
	memcpy(out, rb->p, k);
	rb->p += k;
	rb->left -= k;
	return k;
}

static int
progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load((atomic_int *)arg) ? 1 : 0;
}

/* Common options: no signals, a timeout, an abort when *stop is set. */
static void
curl_common(CURL *c, double timeout, atomic_int *stop, char *ebuf)
{
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, stop);
}

int
pk_alert_http_request(const struct pk_alert_http *h, atomic_int *stop,
    long *status, char *err, size_t errsize)
{
	struct curl_slist *hl = NULL;
	char hdr[256], ebuf[CURL_ERROR_SIZE] = "";
	const char *const *p;
	long code = 0;
	CURL *c;
	CURLcode rc;

	*status = 0;
	for (p = h->headers; p != NULL && *p != NULL; p++)
		if (strpbrk(*p, "\r\n") != NULL) {
			snprintf(err, errsize, "a header with a line break");
			return -1;
		}
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errsize, "curl_easy_init failed");
		return -1;
	}
	snprintf(hdr, sizeof(hdr), "Content-Type: %s", h->content_type);
	hl = curl_slist_append(hl, hdr);
	for (p = h->headers; p != NULL && *p != NULL; p++)
		hl = curl_slist_append(hl, *p);
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, h->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)h->len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "perf-alert");
	curl_common(c, h->timeout, stop, ebuf);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	if (rc != CURLE_OK) {
		snprintf(err, errsize, "%s", ebuf[0] ? ebuf :
		    curl_easy_strerror(rc));
		return -1;
	}
	*status = code;
	if (code < 200 || code > 299) {
		snprintf(err, errsize, "HTTP status %ld", code);
		return -1;
	}
	return 0;
}

int
pk_alert_failure_class(long status)
{
	if (status == 408 || status == 429)
		return 0;
	if (status >= 400 && status <= 499)
		return PK_ALERT_REFUSED_STATUS;
	if (status >= 500 && status <= 599)
		return PK_ALERT_SERVER_STATUS;
	return 0;
}

int
pk_alert_http_post(const char *url, const char *body, const char *key,
    double timeout, atomic_int *stop, char *err, size_t errsize)
{
	return pk_alert_http_post_class(url, body, key, timeout, stop, err,
	    errsize, NULL);
}

int
pk_alert_http_post_class(const char *url, const char *body, const char *key,
    double timeout, atomic_int *stop, char *err, size_t errsize, int *cls)
{
	struct pk_alert_http h = { url, body, strlen(body), "application/json",
		NULL, timeout };
	const char *headers[2] = { NULL, NULL };
	char hdr[256];
	long status;

	if (key != NULL) {
		snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
		headers[0] = hdr;
		h.headers = headers;
	}
	if (pk_alert_http_request(&h, stop, &status, err, errsize) == 0)
		return 0;
	if (cls != NULL)
		*cls = pk_alert_failure_class(status);
	return -1;
}

int
pk_alert_smtp_send(const struct pk_alert_smtp *s, const char *msg, size_t len,
    atomic_int *stop, char *err, size_t errsize, int *cls)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpt = NULL;
	struct readbuf rb = { msg, len };
	long code = 0;
	size_t i;
	CURL *c;
	CURLcode rc;

	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errsize, "curl_easy_init failed");
		return -1;
	}
	for (i = 0; i < s->nto; i++)
		rcpt = curl_slist_append(rcpt, s->to[i]);
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, s->from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rb);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_common(c, s->timeout, stop, ebuf);
	if (s->starttls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (s->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	if (s->user != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD,
		    s->password ? s->password : "");
	}
	/*
	 * libcurl fails the transfer unless the server's reply to the end of
	 * the message is 250: a 451 (try again later) is a failure.
	 */
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpt);
	if (rc != CURLE_OK) {
		snprintf(err, errsize, "%s (server reply %ld)", ebuf[0] ? ebuf :
		    curl_easy_strerror(rc), code);
		/* 5xx: the server refused this message; 4xx: try later. */
		if (cls != NULL)
			*cls = code >= 500 && code <= 599 ?
			    PK_ALERT_REFUSED_STATUS : 0;
		return -1;
	}
	return 0;
}

static int
atomic_stop(void *arg)
{
	return atomic_load((atomic_int *)arg);
}

int
pk_alert_command(const char *cmd, char *const *env, const char *input,
    size_t len, double timeout, atomic_int *stop, char *err, size_t errsize)
{
	static const char *const keep[] = { "PATH", NULL };
	struct pk_spawn s;
	char *in = NULL;

	/* The alert on its input, as one line. */
	if (len > 0 && input[len - 1] != '\n') {
		if ((in = malloc(len + 1)) == NULL) {
			snprintf(err, errsize, "out of memory");
			return -1;
		}
		memcpy(in, input, len);
		in[len++] = '\n';
		input = in;
	}
	memset(&s, 0, sizeof(s));
	s.shell_cmd = cmd;
	s.clean_env = 1;
	s.env_keep = keep;
	s.env = (const char *const *)env;
	s.input = input;
	s.input_len = len;
	s.no_stdin = input == NULL;
	/* Its output is no record of ours: to our standard error. */
	s.stdout_to_stderr = 1;
	s.new_pgroup = 1;
	s.timeout = timeout;
	s.should_stop = atomic_stop;
	s.stop_arg = stop;
	if (pk_spawn_run(&s) == -1) {
		snprintf(err, errsize, "%s", s.err);
		free(in);
		return -1;
	}
	free(in);
	pk_spawn_release(&s);
	if (pk_spawn_ok(&s))
		return 0;
	if (s.timed_out)
		snprintf(err, errsize, "command timed out");
	else
		snprintf(err, errsize, "command %s",
		    pk_spawn_describe(&s, (char[64]){ 0 }, 64));
	return -1;
}
