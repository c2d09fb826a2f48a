/* SPDX-License-Identifier: MIT */
#ifndef PK_INGEST_H
#define PK_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pk_jw.h"

/*
 * Application metrics in: datagram sockets (unix:PATH, udp:ADDR:PORT)
 * that take perfkit JSON metric lines and StatsD lines and turn each into
 * one perfkit metric record. The caller polls the descriptors in its own
 * event loop; nothing here blocks or starts a thread.
 *
 * Caps: PK_INGEST_MAXSRC sockets, datagrams up to PK_INGEST_DGRAM_MAX
 * bytes (larger ones are bad), PK_INGEST_MAXCOUNTERS StatsD counters,
 * and a cap of datagrams per interval set by the caller: the datagrams
 * over it are read, counted and dropped, never queued.
 */
#define PK_INGEST_MAXSRC 8
#define PK_INGEST_DGRAM_MAX 65536
#define PK_INGEST_MAXCOUNTERS 256
#define PK_INGEST_NAME_MAX 64

/* Emit one record (a JSON object, no newline). */
typedef void pk_ingest_emit_fn(void *ctx, const char *rec, size_t len);

struct pk_ingest_counts {
	uint64_t datagrams;	/* read from the sockets */
	uint64_t records;	/* metric records emitted */
	uint64_t bad;		/* datagrams with a bad line */
	uint64_t dropped;	/* over the cap: read and dropped */
	uint64_t kernel_dropped;	/* UDP: dropped by the kernel */
};

struct pk_ingest_counter {
	char key[2 * PK_INGEST_NAME_MAX + 2];	/* component '\0' metric */
	double total;
};

struct pk_ingest_src {
	int fd;
	int unix_sock;
	char spec[128];
	char path[108];
	dev_t dev;
	ino_t ino;
	uint32_t ovfl;		/* the kernel's drop count seen last */
};

struct pk_ingest {
	struct pk_ingest_src src[PK_INGEST_MAXSRC];
	unsigned n;
	uint64_t cap;		/* datagrams per interval, 0: no cap */
	struct pk_ingest_counts iv, total;
	char first_bad[320];	/* of this interval: where and why */
	const char *host;
	char *buf;
	struct pk_jw w;
	struct pk_ingest_counter counters[PK_INGEST_MAXCOUNTERS];
	unsigned ncounters;
};

/* Set up (no socket yet); host names records without one. 0 or -1. */
int pk_ingest_init(struct pk_ingest *in, const char *host, uint64_t cap);
/*
 * Open one socket: "unix:PATH" (a datagram socket, mode 0660, in a
 * directory that pk_statedir accepts, created 0700 if missing; a stale
 * socket there is replaced, a live one refused) or "udp:ADDR:PORT"
 * (numeric address). 0, or -1 with a reason in err.
 */
int pk_ingest_add(struct pk_ingest *in, const char *spec, char *err,
    size_t errsize);
/*
 * Read what socket i has (up to a batch, non-blocking), parse it and
 * emit the records; now is the arrival time (seconds since the epoch).
 * Returns the number of datagrams read.
 */
unsigned pk_ingest_read(struct pk_ingest *in, unsigned i, double now,
    pk_ingest_emit_fn *emit, void *ctx);
/*
 * Parse one datagram into records. Returns the number of bad lines (0:
 * all good); why gets the first reason.
 */
int pk_ingest_parse(struct pk_ingest *in, const char *d, size_t n, double now,
    pk_ingest_emit_fn *emit, void *ctx, char *why, size_t whysize);
/*
 * The interval is over: its ingest record into w (returns 1; 0 when no
 * datagram came), then its counts start again.
 */
int pk_ingest_interval(struct pk_ingest *in, double ts, double interval,
    struct pk_jw *w, struct pk_ingest_counts *iv, char *first_bad,
    size_t fbsize);
/* Close the sockets and remove the unix ones that are still ours. */
void pk_ingest_release(struct pk_ingest *in);

#endif
