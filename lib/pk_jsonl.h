/* SPDX-License-Identifier: MIT */
#ifndef PK_JSONL_H
#define PK_JSONL_H

#include <stddef.h>

#include <jansson.h>

#include "pk_err.h"

#define PK_JSONL_MAX_LINE_DEFAULT (1u << 20)	/* 1 MiB */

/*
 * The JSON-lines reader shared by every filter. It reads with read(2) into
 * one buffer reused for the whole stream, hands out lines without copying,
 * counts lines for FILE:LINE diagnostics and enforces a line limit (an
 * over-long line is skipped to its newline in constant memory).
 *
 * Before a read that may block, it calls pk_out_idle() so that records
 * already produced reach the next program in a live pipeline.
 *
 * With idle_ms > 0, a read that waits longer calls on_idle(arg) every
 * idle_ms milliseconds (a stalled stream is judged on the wall clock).
 * A read interrupted by a signal returns PK_JSONL_STOP when pk_stop is set,
 * and calls on_idle when pk_reload is set, so the program can reload.
 * What has arrived of a line by then is handed out first, as at the end
 * of input (a record whose newline is late is processed, half a line is
 * a bad line), so a stop never drops input unreported.
 */
struct pk_jsonl {
	int fd;
	int own_fd;
	const char *name;	/* "<stdin>" or the path */
	unsigned long lineno;
	char *buf;
	size_t cap, start, end;
	size_t max_line;
	int eof;
	int stopped;		/* PK_JSONL_STOP after the pending partial line */
	int idle_ms;
	void (*on_idle)(void *arg);
	void *arg;
};

enum {
	PK_JSONL_EOF = 0,
	PK_JSONL_LINE = 1,
	PK_JSONL_TOOLONG = 2,	/* the line was skipped */
	PK_JSONL_STOP = 3,	/* pk_stop was set */
	PK_JSONL_ERROR = -1	/* read error, errno set */
};

/* Open path ("-" or NULL is standard input). -1 with errno on failure. */
int pk_jsonl_open(struct pk_jsonl *r, const char *path);
void pk_jsonl_release(struct pk_jsonl *r);
/*
 * The next line without its newline (NUL-terminated in place: the
 * caller may modify it up to len). Returns one of the values above.
 */
int pk_jsonl_next(struct pk_jsonl *r, char **line, size_t *len);

/*
 * The bad-line policy of the toolkit: a diagnostic "prog: FILE:LINE: what"
 * on stderr, rate-limited (the first 10, then one per 1000), counted, and
 * fatal (exit PK_EXIT_DATA) with strict.
 */
struct pk_bad {
	unsigned long count;
	int strict;
};

void pk_bad_line(struct pk_bad *b, const char *file, unsigned long line,
    const char *fmt, ...) PK_PRINTF(4, 5);
/* At the end: a final count if lines were skipped; returns the exit status. */
int pk_bad_finish(const struct pk_bad *b);

/*
 * Parse a line into a JSON object with jansson. On failure returns NULL
 * and reports through pk_bad_line.
 */
json_t *pk_jsonl_parse(struct pk_bad *b, const struct pk_jsonl *r,
    const char *line, size_t len);

#endif
