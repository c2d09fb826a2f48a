/* SPDX-License-Identifier: MIT */
#include "pk_jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_io.h"

#define CHUNK (1u << 16)

int
pk_jsonl_open(struct pk_jsonl *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->max_line = PK_JSONL_MAX_LINE_DEFAULT;
	if (path == NULL || strcmp(path, "-") == 0) {
		r->fd = STDIN_FILENO;
		r->name = "<stdin>";
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd == -1)
			return -1;
		r->own_fd = 1;
		r->name = path;
	}
	r->cap = CHUNK * 2;
	r->buf = malloc(r->cap + 1);
	if (r->buf == NULL) {
		if (r->own_fd)
			close(r->fd);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
pk_jsonl_release(struct pk_jsonl *r)
{
	if (r->own_fd)
		close(r->fd);
	free(r->buf);
	r->buf = NULL;
}

/* Wait for input, calling on_idle every idle_ms. 1 ready, 0 stop, -1 error. */
static int
wait_input(struct pk_jsonl *r)
{
	struct pollfd pfd;
	int n;

	if (r->idle_ms <= 0 || r->on_idle == NULL)
		return 1;
	pfd.fd = r->fd;
	pfd.events = POLLIN;
	for (;;) {
		if (pk_stop)
			return 0;
		n = poll(&pfd, 1, r->idle_ms);
		if (n > 0)
			return 1;
		if (n == -1 && errno != EINTR)
			return -1;
		r->on_idle(r->arg);
		pk_out_idle();
	}
}

/* Read more into the buffer. >0 bytes, 0 EOF, -1 error, -2 stop. */
static ssize_t
fill(struct pk_jsonl *r)
{
	ssize_t n;
	int w;

	if (r->start > 0 && r->start == r->end) {
		r->start = r->end = 0;
	} else if (r->start > 0 && r->cap - r->end < CHUNK) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < CHUNK) {
		size_t ncap = r->cap * 2;
		char *nb = realloc(r->buf, ncap + 1);

		if (nb == NULL) {
			errno = ENOMEM;
			return -1;
		}
		r->buf = nb;
		r->cap = ncap;
	}
	/* Our output must not wait in a buffer while we wait for input. */
	pk_out_idle();
	for (;;) {
		w = wait_input(r);
		if (w == 0)
			return -2;
		if (w == -1)
			return -1;
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n >= 0)
			break;
		if (errno != EINTR)
			return -1;
		if (pk_stop)
			return -2;
		if (pk_reload && r->on_idle != NULL)
			r->on_idle(r->arg);
	}
	r->end += (size_t)n;
	return n;
}

int
pk_jsonl_next(struct pk_jsonl *r, char **line, size_t *len)
{
	size_t scanned = 0;
	int toolong = 0;

	if (r->stopped)
		return PK_JSONL_STOP;
	for (;;) {
		char *s = r->buf + r->start + scanned;
		char *nl = memchr(s, '\n', r->end - r->start - scanned);
		ssize_t n;

		if (nl != NULL) {
			size_t l = (size_t)(nl - (r->buf + r->start));

			r->lineno++;
			if (toolong || l > r->max_line) {
				r->start += l + 1;
				return PK_JSONL_TOOLONG;
			}
			*nl = '\0';
			if (l > 0 && nl[-1] == '\r')
				nl[-1] = '\0', l--;
			*line = r->buf + r->start;
			*len = l;
			r->start += (size_t)(nl - (r->buf + r->start)) + 1;
			return PK_JSONL_LINE;
		}
		scanned = r->end - r->start;
		if (scanned > r->max_line) {
			/* Drop what we have of an over-long line, keep scanning. */
			toolong = 1;
			r->start = r->end = 0;
			scanned = 0;
		}
		if (r->eof)
			n = 0;
		else
			n = fill(r);
		if (n == -1)
			return PK_JSONL_ERROR;
		if (n == -2) {
			if (r->end == r->start && !toolong)
				return PK_JSONL_STOP;
			/* What arrived of a line: handed out, then the stop. */
			r->stopped = 1;
		}
		if (n == 0) {
			r->eof = 1;
			if (r->end == r->start && !toolong)
				return PK_JSONL_EOF;
		}
		if (n == 0 || n == -2) {
			/* A last line without its newline. */
			r->lineno++;
			if (toolong || r->end - r->start > r->max_line) {
				r->start = r->end;
				return PK_JSONL_TOOLONG;
			}
			r->buf[r->end] = '\0';
			*line = r->buf + r->start;
			*len = r->end - r->start;
			r->start = r->end;
			return PK_JSONL_LINE;
		}
	}
}

void
pk_bad_line(struct pk_bad *b, const char *file, unsigned long line,
    const char *fmt, ...)
{
	va_list ap;

	b->count++;
	if (b->strict || b->count <= 10 || b->count % 1000 == 0) {
		fprintf(stderr, "%s: %s:%lu: ", pk_progname, file, line);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
		if (!b->strict && b->count == 10)
			fprintf(stderr, "%s: further bad lines are reported "
			    "once per 1000\n", pk_progname);
	}
	if (b->strict)
		exit(PK_EXIT_DATA);
}

int
pk_bad_finish(const struct pk_bad *b)
{
	if (b->count == 0)
		return PK_EXIT_OK;
	fprintf(stderr, "%s: %lu bad input line%s skipped\n", pk_progname,
	    b->count, b->count == 1 ? "" : "s");
	return PK_EXIT_DATA;
}

json_t *
pk_jsonl_parse(struct pk_bad *b, const struct pk_jsonl *r, const char *line,
    size_t len)
{
	json_error_t err;
	json_t *j;

	j = json_loadb(line, len, 0, &err);
	if (j == NULL) {
		pk_bad_line(b, r->name, r->lineno, "invalid JSON at column %d: %s",
		    err.column, err.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		pk_bad_line(b, r->name, r->lineno, "not a JSON object");
		return NULL;
	}
	return j;
}
