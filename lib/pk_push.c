/* SPDX-License-Identifier: MIT */
#include "pk_push.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "pk_err.h"
#include "pk_time.h"

/* Append s to a growing string; -1 when out of memory. */
static int
add(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 128;
		char *nb;

		while (ncap < *len + n + 1)
			ncap *= 2;
		if ((nb = realloc(*b, ncap)) == NULL)
			return -1;
		*b = nb;
		*cap = ncap;
	}
	memcpy(*b + *len, s, n);
	*len += n;
	(*b)[*len] = '\0';
	return 0;
}

/* "/LABEL/VALUE", the value encoded so that it is one path segment. */
static int
add_pair(char **b, size_t *len, size_t *cap, const char *label,
    const char *value)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *v = (const unsigned char *)value;
	size_t n = strlen(value), i;
	char e[4];

	if (add(b, len, cap, "/", 1) || add(b, len, cap, label, strlen(label)))
		return -1;
	if (n == 0 || strchr(value, '/') != NULL) {
		if (add(b, len, cap, "@base64/", 8))
			return -1;
		if (n == 0)
			return add(b, len, cap, "=", 1);
		for (i = 0; i < n; i += 3) {
			unsigned x = (unsigned)v[i] << 16 |
			    (i + 1 < n ? (unsigned)v[i + 1] << 8 : 0) |
			    (i + 2 < n ? v[i + 2] : 0);

			e[0] = b64[x >> 18 & 63];
			e[1] = b64[x >> 12 & 63];
			e[2] = i + 1 < n ? b64[x >> 6 & 63] : '=';
			e[3] = i + 2 < n ? b64[x & 63] : '=';
			if (add(b, len, cap, e, 4))
				return -1;
		}
		return 0;
	}
	if (add(b, len, cap, "/", 1))
		return -1;
	for (i = 0; i < n; i++) {
		if ((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || strchr("-._~", v[i]) != NULL) {
			if (add(b, len, cap, (const char *)v + i, 1))
				return -1;
		} else {
			snprintf(e, sizeof(e), "%%%02X", v[i]);
			if (add(b, len, cap, e, 3))
				return -1;
		}
	}
	return 0;
}

char *
pk_push_url(const char *base, const char *job, const char *instance,
    const char *const *extra)
{
	size_t len = 0, cap = 0, n = strlen(base);
	char *b = NULL;

	if (strstr(base, "/metrics/job/") != NULL) {
		if (add(&b, &len, &cap, base, n) == -1)
			return NULL;
		return b;
	}
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (add(&b, &len, &cap, base, n) || add(&b, &len, &cap, "/metrics", 8) ||
	    add_pair(&b, &len, &cap, "job", job) ||
	    add_pair(&b, &len, &cap, "instance", instance)) {
		free(b);
		return NULL;
	}
	for (; extra != NULL && extra[0] != NULL && extra[1] != NULL; extra += 2)
		if (add_pair(&b, &len, &cap, extra[0], extra[1])) {
			free(b);
			return NULL;
		}
	return b;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One request; 0 on a 2xx answer, -1 with p->last_err. */
static int
request(struct pk_push *p, CURL *c, const char *method, const char *body,
    size_t len, double timeout)
{
	struct curl_slist *hdr = NULL;
	long code = 0;
	CURLcode rc;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, p->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body != NULL) {
		hdr = curl_slist_append(hdr,
		    "Content-Type: text/plain; version=0.0.4");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	rc = curl_easy_perform(c);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		snprintf(p->last_err, sizeof(p->last_err), "%s",
		    curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		snprintf(p->last_err, sizeof(p->last_err), "HTTP %ld", code);
		return -1;
	}
	return 0;
}

int
pk_push_once(const char *url, const char *buf, size_t len, double timeout,
    char *err, size_t errsize)
{
	struct pk_push p;
	CURL *c;
	int rc;

	memset(&p, 0, sizeof(p));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c = curl_easy_init()) == NULL) {
		snprintf(err, errsize, "cannot initialise libcurl");
		return -1;
	}
	p.url = (char *)url;
	rc = request(&p, c, "PUT", buf, len, timeout);
	curl_easy_cleanup(c);
	if (rc == -1)
		snprintf(err, errsize, "%s", p.last_err);
	return rc;
}

static void
deadline(struct timespec *ts, double secs)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)secs;
	ts->tv_nsec += (long)((secs - floor(secs)) * 1e9);
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void *
push_main(void *arg)
{
	struct pk_push *p = arg;
	char *mine = NULL;
	size_t mlen = 0, mcap = 0;
	double due = 0, backoff = 1;
	CURL *c = curl_easy_init();
	int warned = 0;

	pthread_mutex_lock(&p->mu);
	while (!p->quit) {
		double now = pk_mono();

		if (!p->fresh || now < due) {
			struct timespec ts;

			if (!p->fresh)
				pthread_cond_wait(&p->cv, &p->mu);
			else {
				deadline(&ts, due - now);
				pthread_cond_timedwait(&p->cv, &p->mu, &ts);
			}
			continue;
		}
		mlen = 0;
		if (add(&mine, &mlen, &mcap, p->buf, p->len) == -1)
			break;
		p->fresh = 0;
		pthread_mutex_unlock(&p->mu);
		if (c != NULL && request(p, c, "PUT", mine, mlen, p->timeout) == 0) {
			pthread_mutex_lock(&p->mu);
			p->pushed++;
			if (warned)
				pk_warn("push to %s works again", p->url);
			warned = 0;
			backoff = 1;
			due = pk_mono() + p->interval;
		} else {
			pthread_mutex_lock(&p->mu);
			p->failed++;
			if (!warned)
				pk_warn("push to %s failed: %s (retrying)", p->url,
				    p->last_err);
			warned = 1;
			/* Retry with this or a newer snapshot. */
			p->fresh = 1;
			due = pk_mono() + backoff;
			backoff = fmin(backoff * 2, fmax(p->interval, 1));
		}
	}
	pthread_mutex_unlock(&p->mu);
	free(mine);
	if (c != NULL)
		curl_easy_cleanup(c);
	return NULL;
}

int
pk_push_start(struct pk_push *p, const char *url, double interval,
    int delete_at_end, char *err, size_t errsize)
{
	int e;

	memset(p, 0, sizeof(*p));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsize, "cannot initialise libcurl");
		return -1;
	}
	if ((p->url = strdup(url)) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	p->interval = interval > 0 ? interval : 15;
	p->delete_at_end = delete_at_end;
	p->timeout = fmin(10, fmax(1, p->interval));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if ((e = pthread_create(&p->thread, NULL, push_main, p)) != 0) {
		snprintf(err, errsize, "cannot start the push thread: %s",
		    strerror(e));
		free(p->url);
		p->url = NULL;
		return -1;
	}
	p->started = 1;
	return 0;
}

void
pk_push_publish(struct pk_push *p, const char *buf, size_t len)
{
	if (!p->started)
		return;
	pthread_mutex_lock(&p->mu);
	p->len = 0;
	if (add(&p->buf, &p->len, &p->cap, buf, len) == 0) {
		p->fresh = 1;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

void
pk_push_stop(struct pk_push *p, double wait_s)
{
	CURL *c;
	int have;

	if (!p->started)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	p->started = 0;
	/* The last word: what is newest, then the delete if asked. */
	have = p->len > 0;
	if ((have || p->delete_at_end) && wait_s > 0 &&
	    (c = curl_easy_init()) != NULL) {
		if (have && !p->delete_at_end) {
			if (request(p, c, "PUT", p->buf, p->len, wait_s) == 0)
				p->pushed++;
			else
				pk_warn("final push to %s failed: %s", p->url,
				    p->last_err);
		}
		if (p->delete_at_end &&
		    request(p, c, "DELETE", NULL, 0, wait_s) == -1)
			pk_warn("delete of %s failed: %s", p->url, p->last_err);
		curl_easy_cleanup(c);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->buf);
	free(p->url);
	p->buf = p->url = NULL;
}
