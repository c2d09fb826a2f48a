/* SPDX-License-Identifier: MIT */
/*
 * The --export-* formats: one row each, in its own file (exp_*.c), all
 * rendering from the results model. Their options, --help lines and the
 * man page's list follow this table (tests/perf-bench.bats holds the man
 * page against it). Adding a format is one file and one line here.
 */
#include "perf-bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_io.h"

extern const struct bench_exporter exp_csv;
extern const struct bench_exporter exp_html;
extern const struct bench_exporter exp_json;
extern const struct bench_exporter exp_markdown;

/* Sorted by option, as --help and --list-options show them. */
const struct bench_exporter *const bench_exporters[] = {
	&exp_csv,
	&exp_html,
	&exp_json,
	&exp_markdown,
	NULL
};

size_t
bench_exporters_count(void)
{
	size_t n = 0;

	while (bench_exporters[n] != NULL)
		n++;
	return n;
}

const struct bench_exporter *
bench_exporter_find(const char *name)
{
	size_t i;

	for (i = 0; bench_exporters[i] != NULL; i++)
		if (strcmp(bench_exporters[i]->name, name) == 0)
			return bench_exporters[i];
	return NULL;
}

int
bench_export(const struct bench_results *r, const struct bench_opts *o)
{
	struct bench_buf b = { NULL, 0, 0 };
	size_t i;
	int rc = 0;

	for (i = 0; bench_exporters[i] != NULL; i++) {
		const char *path = o->export_path[i];

		if (path == NULL)
			continue;
		b.len = 0;
		bench_exporters[i]->render(r, &b);
		if (pk_atomic_write(path, b.p != NULL ? b.p : "", b.len,
		    0644) == -1) {
			pk_warn_errno("cannot write '%s'", path);
			rc = -1;
		}
	}
	free(b.p);
	return rc;
}

/* ---- the buffer ---- */

static void
reserve(struct bench_buf *b, size_t more)
{
	if (b->len + more < b->cap)
		return;
	b->cap = (b->len + more + 1) * 2;
	b->p = pk_xrealloc(b->p, b->cap);
}

void
bench_buf_put(struct bench_buf *b, const char *s, size_t len)
{
	reserve(b, len);
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void
bench_buf_puts(struct bench_buf *b, const char *s)
{
	bench_buf_put(b, s, strlen(s));
}

void
bench_buf_printf(struct bench_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		pk_die(PK_EXIT_IO, "cannot format the report");
	reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}
