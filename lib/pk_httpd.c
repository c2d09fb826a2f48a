/* SPDX-License-Identifier: MIT */
#include "pk_httpd.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "pk_num.h"

#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

/*
 * libmicrohttpd is loaded with dlopen(3) when a server starts, not
 * linked: a program run without --listen does not pay for loading and
 * relocating it (and the TLS libraries it pulls in) at every start. The
 * -dev header still gives the types; the functions come from this table.
 */
#define PK_LIBMHD "libmicrohttpd.so.12"

static struct libmhd {
	struct MHD_Daemon *(*start_daemon)(unsigned, uint16_t,
	    MHD_AcceptPolicyCallback, void *, MHD_AccessHandlerCallback, void *,
	    ...);
	void (*stop_daemon)(struct MHD_Daemon *);
	const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *,
	    enum MHD_DaemonInfoType, ...);
	struct MHD_Response *(*create_response_from_buffer)(size_t, void *,
	    enum MHD_ResponseMemoryMode);
	enum MHD_Result (*add_response_header)(struct MHD_Response *,
	    const char *, const char *);
	enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned,
	    struct MHD_Response *);
	void (*destroy_response)(struct MHD_Response *);
	int ok;
	char err[256];
} mhd;

static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;

static void
mhd_load(void)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define SYM(f) { "MHD_" #f, offsetof(struct libmhd, f) }
		SYM(start_daemon), SYM(stop_daemon), SYM(get_daemon_info),
		SYM(create_response_from_buffer), SYM(add_response_header),
		SYM(queue_response), SYM(destroy_response),
#undef SYM
	};
	void *h = dlopen(PK_LIBMHD, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (h == NULL) {
		snprintf(mhd.err, sizeof(mhd.err), "cannot load %s "
		    "(libmicrohttpd, for --listen): %s", PK_LIBMHD, dlerror());
		return;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *f = dlsym(h, syms[i].name);

		if (f == NULL) {
			snprintf(mhd.err, sizeof(mhd.err), "%s has no %s",
			    PK_LIBMHD, syms[i].name);
			return;
		}
		memcpy((char *)&mhd + syms[i].off, &f, sizeof(f));
	}
	mhd.ok = 1;
}

int
pk_httpd_parse_addr(const char *spec, char *host, size_t hostsize, int *port,
    char *err, size_t errsize)
{
	const char *colon, *p, *why;
	uint64_t v;
	size_t hl;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':') {
			snprintf(err, errsize, "'%s': expected [ADDRESS]:PORT", spec);
			return -1;
		}
		hl = (size_t)(close - spec - 1);
		p = close + 2;
		spec++;
	} else if ((colon = strrchr(spec, ':')) != NULL) {
		if (strchr(spec, ':') != colon) {
			snprintf(err, errsize, "'%s': an IPv6 address goes in "
			    "brackets, [::1]:PORT", spec);
			return -1;
		}
		hl = (size_t)(colon - spec);
		p = colon + 1;
	} else {
		hl = 0;
		p = spec;
	}
	if (hl >= hostsize) {
		snprintf(err, errsize, "'%s': address too long", spec);
		return -1;
	}
	if (hl == 0) {
		snprintf(host, hostsize, "127.0.0.1");
	} else {
		memcpy(host, spec, hl);
		host[hl] = '\0';
	}
	if (pk_parse_u64(p, 0, 65535, &v, &why) == -1) {
		snprintf(err, errsize, "port '%s' is %s (0..65535)", p, why);
		return -1;
	}
	*port = (int)v;
	return 0;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
    const char *body, size_t len, int allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = mhd.create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct pk_httpd *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char page[512];

	(void)version;
	(void)upload;
	/*
	 * The first call is for the headers: answered at once, libmicrohttpd
	 * closes the connection (a body might follow); answered at the
	 * second, it keeps it alive for the scraper's next request.
	 */
	if (*con_cls == NULL) {
		*con_cls = h;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;	/* a body is not read */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		__atomic_add_fetch(&h->rejected, 1, __ATOMIC_RELAXED);
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
		    "method not allowed\n", 19, 1);
	}
	if (strcmp(url, "/metrics") == 0) {
		if (h->refresh != NULL)
			h->refresh(h->arg);
		pthread_mutex_lock(&h->mu);
		r = mhd.create_response_from_buffer(h->len,
		    h->buf != NULL ? h->buf : (void *)"", MHD_RESPMEM_MUST_COPY);
		pthread_mutex_unlock(&h->mu);
		if (r == NULL)
			return MHD_NO;
		mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		    CT_METRICS);
		ret = mhd.queue_response(c, MHD_HTTP_OK, r);
		mhd.destroy_response(r);
		__atomic_add_fetch(&h->scrapes, 1, __ATOMIC_RELAXED);
		return ret;
	}
	if (strcmp(url, "/healthz") == 0)
		return reply(c, MHD_HTTP_OK, "text/plain", "ok\n", 3, 0);
	if (strcmp(url, "/") == 0) {
		int n = snprintf(page, sizeof(page), "<!DOCTYPE html>\n"
		    "<html><head><title>%s</title></head><body>\n"
		    "<h1>%s</h1>\n<p><a href=\"/metrics\">Metrics</a> "
		    "<a href=\"/healthz\">Health</a></p>\n</body></html>\n",
		    h->name, h->name);

		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", page,
		    (size_t)n, 0);
	}
	__atomic_add_fetch(&h->rejected, 1, __ATOMIC_RELAXED);
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10, 0);
}

static void
log_quiet(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

int
pk_httpd_start(struct pk_httpd *h, const char *spec, const char *name,
    char *err, size_t errsize)
{
	struct addrinfo hints, *ai = NULL;
	char host[256], portstr[16];
	const union MHD_DaemonInfo *info;
	/*
	 * poll(2), not epoll: with MHD_USE_EPOLL, libmicrohttpd 0.9.75 still
	 * counts the connections of a flood it has just answered and closed,
	 * so the next flood beyond PK_HTTPD_MAX_CONN less those had its
	 * connections accepted and closed unanswered instead of left in the
	 * backlog (tests/prometheus-http.bats: 200 then 300 at once). poll
	 * is as cheap for PK_HTTPD_MAX_CONN descriptors.
	 */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	int port, e;

	if (pk_httpd_parse_addr(spec, host, sizeof(host), &port, err,
	    errsize) == -1)
		return -1;
	pthread_once(&mhd_once, mhd_load);
	if (!mhd.ok) {
		snprintf(err, errsize, "%s", mhd.err);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((e = getaddrinfo(host, portstr, &hints, &ai)) != 0) {
		snprintf(err, errsize, "'%s': %s (a numeric address is "
		    "expected)", host, gai_strerror(e));
		return -1;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
	h->name = name;
	h->daemon = mhd.start_daemon(flags, (uint16_t)port, NULL, NULL, handle,
	    h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)PK_HTTPD_MAX_CONN,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PK_HTTPD_MEM,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)PK_HTTPD_TIMEOUT,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	    MHD_OPTION_EXTERNAL_LOGGER, log_quiet, NULL,
	    MHD_OPTION_END);
	e = errno;
	freeaddrinfo(ai);
	if (h->daemon == NULL) {
		snprintf(err, errsize, "cannot listen on %s:%d: %s", host, port,
		    e ? strerror(e) : "libmicrohttpd failed");
		pthread_mutex_destroy(&h->mu);
		return -1;
	}
	info = mhd.get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : port;
	return 0;
}

void
pk_httpd_publish(struct pk_httpd *h, const char *buf, size_t len)
{
	pthread_mutex_lock(&h->mu);
	if (len + 1 > h->cap) {
		size_t ncap = h->cap ? h->cap : 4096;
		char *nb;

		while (ncap < len + 1)
			ncap *= 2;
		if ((nb = realloc(h->buf, ncap)) == NULL) {
			/* Keep serving the old snapshot rather than none. */
			pthread_mutex_unlock(&h->mu);
			return;
		}
		h->buf = nb;
		h->cap = ncap;
	}
	memcpy(h->buf, buf, len);
	h->buf[len] = '\0';
	h->len = len;
	pthread_mutex_unlock(&h->mu);
}

void
pk_httpd_stop(struct pk_httpd *h)
{
	if (h->daemon == NULL)
		return;
	mhd.stop_daemon(h->daemon);
	h->daemon = NULL;
	pthread_mutex_destroy(&h->mu);
	free(h->buf);
	h->buf = NULL;
	h->len = h->cap = 0;
}
