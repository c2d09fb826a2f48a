/* SPDX-License-Identifier: MIT */
/*
 * Fuzz rt-loop's --workload spec parser. A spec it accepts is then
 * allocated and stepped, as rt-loop would, when its size is modest (the
 * parser's own bounds allow workloads too large to step in a fuzz run).
 * Plugin specs are parsed only: loading a library is not parsing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pk_rtwork.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_rtwork w;
	char spec[256], err[256];
	uint64_t t;

	if (size >= sizeof(spec))
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	memset(&w, 0, sizeof(w));
	err[0] = '\0';
	if (pk_rtwork_parse(&w, spec, err, sizeof(err)) == -1) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		return 0;
	}
	switch (w.kind) {
	case PK_RTWORK_NONE:
		break;
	case PK_RTWORK_SPIN:
		if (w.spin_ns < 0)
			abort();
		if (w.spin_ns > 100000)	/* 100 us a step at most here */
			return 0;
		break;
	case PK_RTWORK_MLP:
		if (w.in == 0 || w.hidden == 0 || w.out == 0)
			abort();
		if ((uint64_t)w.in * w.hidden + (uint64_t)w.hidden * w.out >
		    (1u << 20))
			return 0;
		break;
	case PK_RTWORK_CONSTRAINTS:
		if (w.n > (1u << 16))
			return 0;
		break;
	case PK_RTWORK_PLUGIN:
		return 0;
	default:
		abort();
	}
	if (pk_rtwork_init(&w, err, sizeof(err)) == -1)
		return 0;
	for (t = 0; t < 3; t++)
		if (pk_rtwork_step(&w, t) == -1)
			abort();
	pk_rtwork_release(&w);
	return 0;
}
