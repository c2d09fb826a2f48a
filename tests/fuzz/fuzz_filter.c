/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the filters' front end (pk_filter): any input, split into lines,
 * goes through every check (types, ts, host, needs, event clocks per
 * host, the host cap, the line limit), with small limits so that the
 * fuzzer reaches them. Invariants: every line is either handed to the
 * program, passed through, late, over the host cap, blank or bad; a
 * handed record has a finite ts and a host of at most
 * PK_FILTER_HOST_MAX bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "pk_filter.h"
#include "pk_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const need[] = { "comm", NULL };
static const struct pk_ftype types[] = {
	{ "sample", NULL },
	{ "proc", need },
	{ "metric", NULL },
	{ NULL, NULL }
};

static void
on_record(struct pk_filter *f, const struct pk_rec *r)
{
	if (!isfinite(r->ts) || r->host == NULL ||
	    r->host->len > PK_FILTER_HOST_MAX)
		abort();
	if (r->type < 0 && !f->all_types)
		abort();
	pk_filter_pass(f, r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	FILE *real = stdout;
	struct pk_filter f;
	struct pk_jpaths ps;
	const char *path;
	char *files[1];

	/* The records go nowhere while the front end runs. */
	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		return 0;
	fuzz_quiet();
	if ((path = fuzz_file(data, size)) == NULL)
		return 0;
	files[0] = (char *)path;
	pk_filter_init(&f);
	pk_jpaths_init(&ps);
	pk_jpaths_add(&ps, "cpu.util");
	f.types = types;
	f.all_types = size > 0 && (data[0] & 1);
	f.span = 5;
	f.max_hosts = 4;
	f.max_line = 512;
	f.on_record = on_record;
	stdout = null;
	if (pk_filter_set_paths(&f, &ps) == 0)
		(void)pk_filter_run(&f, 1, files);
	fflush(null);
	stdout = real;
	pk_filter_release(&f);
	pk_jpaths_release(&ps);
	return 0;
}
