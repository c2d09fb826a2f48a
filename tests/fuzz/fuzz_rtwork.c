/* SPDX-License-Identifier: MIT */
/*
 * Fuzz rt-loop's --workload spec parser: the lookup in the table and each
 * row's parse. An error must be a message naming the workload (an unknown
 * name: listing every row). A spec it accepts is initialised and stepped,
 * as rt-loop would, when every number in it is small (the rows' own bounds
 * allow workloads too large or too slow to step in a fuzz run), and its
 * counters are read. Plugin specs are parsed only: loading a library is
 * not parsing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pk_rtwork.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The largest run of digits in s as a number, saturated. */
static uint64_t
largest_number(const char *s)
{
	uint64_t v = 0, max = 0;

	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9') {
			v = v > UINT64_MAX / 10 - 1 ? UINT64_MAX :
			    v * 10 + (uint64_t)(*s - '0');
			if (v > max)
				max = v;
		} else {
			v = 0;
		}
	}
	return max;
}

static void
check_error(const char *spec, const char *err, size_t errlen)
{
	const struct pk_rtwork_type *const *t;
	const char *colon;
	size_t len;

	if (memchr(err, '\0', errlen) == NULL || err[0] == '\0')
		abort();
	colon = strchr(spec, ':');
	len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	if (pk_rtwork_find(spec, len) != NULL) {
		/* A known row: the message names it. */
		if (strstr(err, pk_rtwork_find(spec, len)->name) == NULL)
			abort();
		return;
	}
	for (t = pk_rtwork_types; *t != NULL; t++)
		if (strstr(err, (*t)->name) == NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *names[PK_RTWORK_MAXCOUNTERS];
	unsigned long long v[PK_RTWORK_MAXCOUNTERS];
	struct pk_rtwork w;
	char spec[256], err[512];
	uint64_t t;

	if (size >= sizeof(spec))
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	err[0] = '\0';
	if (pk_rtwork_parse(&w, spec, err, sizeof(err)) == -1) {
		if (w.type != NULL || w.ctx != NULL)
			abort();
		check_error(spec, err, sizeof(err));
		return 0;
	}
	if (w.type == NULL || w.type->step == NULL)
		abort();
	/* spin:512 is 0.5 ms, mlp:512,512,512 half a million MACs a step. */
	if (largest_number(spec) <= 512 &&
	    pk_rtwork_init(&w, err, sizeof(err)) == 0) {
		for (t = 0; t < 3; t++)
			if (pk_rtwork_step(&w, t) != 0)
				abort();
		if (pk_rtwork_counters(&w, names, v) > PK_RTWORK_MAXCOUNTERS)
			abort();
	}
	pk_rtwork_release(&w);
	return 0;
}
