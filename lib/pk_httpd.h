/* SPDX-License-Identifier: MIT */
#ifndef PK_HTTPD_H
#define PK_HTTPD_H

#include <pthread.h>
#include <stddef.h>

/*
 * The toolkit's HTTP endpoint (--listen ADDR:PORT), on libmicrohttpd: it
 * serves the newest snapshot the program published and nothing else, from
 * a thread of its own, so that a client that never reads, a scrape flood
 * or a hostile request never stalls the program (nor, in rt-loop, its
 * real-time thread: the program publishes from whatever thread already has
 * the figures).
 *
 *   GET|HEAD /metrics   the snapshot, text/plain; version=0.0.4
 *   GET|HEAD /healthz   "ok"
 *   GET|HEAD /          a short page naming the program and its paths
 *   another path        404
 *   another method      405 (Allow: GET, HEAD)
 *
 * Bounds (documented in every program's man page): PK_HTTPD_MAX_CONN
 * connections at once (more wait in the kernel's backlog), PK_HTTPD_MEM
 * bytes of request (headers) per connection (a larger request gets 431),
 * a connection idle for PK_HTTPD_TIMEOUT seconds is closed.
 */
#define PK_HTTPD_MAX_CONN 256
#define PK_HTTPD_MEM (32 * 1024)
#define PK_HTTPD_TIMEOUT 10

struct pk_httpd {
	void *daemon;		/* struct MHD_Daemon */
	pthread_mutex_t mu;
	char *buf;		/* the snapshot */
	size_t len, cap;
	unsigned long long scrapes;	/* /metrics served */
	unsigned long long rejected;	/* 404, 405, 431 answered */
	/*
	 * Called in the server's thread before /metrics is served (perf-sample
	 * samples at scrape time, as node_exporter does); it may publish a
	 * fresh snapshot. NULL: the last published one is served.
	 */
	void (*refresh)(void *arg);
	void *arg;
	const char *name;	/* for the page at / */
	int port;		/* the port bound (useful with port 0) */
};

/*
 * Parse "ADDR:PORT", "[ADDR6]:PORT", ":PORT" or "PORT" (a missing address
 * is 127.0.0.1: serving other hosts is asked for by name, 0.0.0.0 or ::).
 * 0, or -1 with a reason in err.
 */
int pk_httpd_parse_addr(const char *spec, char *host, size_t hostsize,
    int *port, char *err, size_t errsize);
/* Start serving on spec; 0, or -1 with a reason in err. */
int pk_httpd_start(struct pk_httpd *h, const char *spec, const char *name,
    char *err, size_t errsize);
/* Replace the snapshot (copied). Safe from any thread. */
void pk_httpd_publish(struct pk_httpd *h, const char *buf, size_t len);
void pk_httpd_stop(struct pk_httpd *h);

#endif
