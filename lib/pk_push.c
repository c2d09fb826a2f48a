/* SPDX-License-Identifier: MIT */
#include "pk_push.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dlfcn.h>
#include <pthread.h>

#include <curl/curl.h>

#include "pk_err.h"
#include "pk_time.h"

/*
 * libcurl is loaded with dlopen(3) on first use, not linked: a program
 * that never pushes (most runs of most programs) does not pay the ~14
 * million instructions that loading and relocating libcurl and its
 * dependencies costs at every start. The -dev headers still give the
 * types; the functions come from this table.
 */
#define PK_LIBCURL "libcurl.so.4"

static struct libcurl {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	int ok;
	char err[256];
} lc;

static pthread_once_t lc_once = PTHREAD_ONCE_INIT;

static void
lc_load(void)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define SYM(f, n) { n, offsetof(struct libcurl, f) }
		SYM(global_init, "curl_global_init"),
		SYM(easy_init, "curl_easy_init"),
		SYM(easy_cleanup, "curl_easy_cleanup"),
		SYM(easy_reset, "curl_easy_reset"),
		SYM(easy_setopt, "curl_easy_setopt"),
		SYM(easy_perform, "curl_easy_perform"),
		SYM(easy_getinfo, "curl_easy_getinfo"),
		SYM(easy_strerror, "curl_easy_strerror"),
		SYM(slist_append, "curl_slist_append"),
		SYM(slist_free_all, "curl_slist_free_all"),
#undef SYM
	};
	void *h = dlopen(PK_LIBCURL, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (h == NULL) {
		snprintf(lc.err, sizeof(lc.err), "cannot load %s (libcurl, "
		    "for --push): %s", PK_LIBCURL, dlerror());
		return;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *f = dlsym(h, syms[i].name);

		if (f == NULL) {
			snprintf(lc.err, sizeof(lc.err), "%s has no %s",
			    PK_LIBCURL, syms[i].name);
			return;
		}
		memcpy((char *)&lc + syms[i].off, &f, sizeof(f));
	}
	if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(lc.err, sizeof(lc.err), "cannot initialise libcurl");
		return;
	}
	lc.ok = 1;
}

/* libcurl loaded and initialised: 0, or -1 with the reason in err. */
static int
lc_ready(char *err, size_t errsize)
{
	pthread_once(&lc_once, lc_load);
	if (lc.ok)
		return 0;
	snprintf(err, errsize, "%s", lc.err);
	return -1;
}

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

	lc.easy_reset(c);
	lc.easy_setopt(c, CURLOPT_URL, p->url);
	lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	lc.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	lc.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout * 1000));
	lc.easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	lc.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body != NULL) {
		hdr = lc.slist_append(hdr,
		    "Content-Type: text/plain; version=0.0.4");
		lc.easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		lc.easy_setopt(c, CURLOPT_POSTFIELDS, body);
		lc.easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	rc = lc.easy_perform(c);
	lc.slist_free_all(hdr);
	if (rc != CURLE_OK) {
		snprintf(p->last_err, sizeof(p->last_err), "%s",
		    lc.easy_strerror(rc));
		return -1;
	}
	lc.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
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
	if (lc_ready(err, errsize) == -1)
		return -1;
	if ((c = lc.easy_init()) == NULL) {
		snprintf(err, errsize, "cannot initialise libcurl");
		return -1;
	}
	p.url = (char *)url;
	rc = request(&p, c, "PUT", buf, len, timeout);
	lc.easy_cleanup(c);
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
	CURL *c = lc.easy_init();
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
		lc.easy_cleanup(c);
	return NULL;
}

int
pk_push_start(struct pk_push *p, const char *url, double interval,
    int delete_at_end, char *err, size_t errsize)
{
	int e;

	memset(p, 0, sizeof(*p));
	if (lc_ready(err, errsize) == -1)
		return -1;
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
	    (c = lc.easy_init()) != NULL) {
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
		lc.easy_cleanup(c);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->buf);
	free(p->url);
	p->buf = p->url = NULL;
}
