/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the ingest's datagram parser (StatsD and JSON metric lines): no
 * crash, and every record it emits is one JSON object of type metric
 * with a non-empty string component, a numeric ts and a string host.
 * Anything else aborts, so the fuzzer reports it as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pk_ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(void *ctx, const char *rec, size_t len)
{
	json_error_t e;
	json_t *o = json_loadb(rec, len, JSON_REJECT_DUPLICATES, &e), *c;

	(void)ctx;
	if (o == NULL || !json_is_object(o) || memchr(rec, '\n', len) != NULL)
		abort();
	c = json_object_get(o, "component");
	if (!json_is_string(c) || json_string_length(c) == 0 ||
	    strcmp(json_string_value(json_object_get(o, "type")), "metric") != 0 ||
	    !json_is_number(json_object_get(o, "ts")) ||
	    !json_is_string(json_object_get(o, "host")))
		abort();
	json_decref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pk_ingest in;
	static int ready;
	char why[160];
	int r;

	if (!ready) {
		if (pk_ingest_init(&in, "fuzzhost", 0) == -1)
			abort();
		ready = 1;
	}
	r = pk_ingest_parse(&in, (const char *)data, size, 1732300000.5, check,
	    NULL, why, sizeof(why));
	if (r < 0 || (r > 0 && why[0] == '\0'))
		abort();
	return 0;
}
