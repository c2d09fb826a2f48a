/* SPDX-License-Identifier: MIT */
/* Fuzz the number and duration parsers: no crash, results in range. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pk_num.h"
#include "pk_time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[256];
	const char *why;
	double d;
	int64_t i, ns;
	uint64_t u;

	if (size >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (pk_duration_parse(buf, &d) == 0 && (!(d >= 0) || !isfinite(d)))
		abort();
	(void)pk_duration_parse_ns(buf, &ns);
	if (pk_parse_u64(buf, 5, 1000, &u, &why) == 0 && (u < 5 || u > 1000))
		abort();
	if (pk_parse_i64(buf, -7, 7, &i, &why) == 0 && (i < -7 || i > 7))
		abort();
	if (pk_parse_double(buf, -1, 1, &d, &why) == 0 && !(d >= -1 && d <= 1))
		abort();
	return 0;
}
