/* SPDX-License-Identifier: MIT */
/*
 * Fuzz perf-alert's spool entry reader (pk_alert_spool_parse: the
 * integrity check, then the entry): whatever a file holds, it is an
 * entry or a reason, never a crash. An input whose mac is right under the
 * fixed key below reaches the JSON side too (the seeds have one), and
 * every entry read back must have what the delivery needs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pk_alert_spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[PK_ALERT_SPOOL_KEYLEN] =
	    "perf-alert-fuzz";
	struct pk_alert_spool_entry e;
	char why[256] = "", *buf;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (pk_alert_spool_parse("fuzz.json", buf, size, key, &e, why,
	    sizeof(why)) == 0) {
		if (e.receiver == NULL || e.key == NULL || e.alert == NULL ||
		    !json_is_object(e.alert))
			abort();
		pk_alert_spool_entry_release(&e);
	} else if (why[0] == '\0') {
		abort();
	}
	/* The bytes are put back as they were. */
	if (memcmp(buf, data, size) != 0)
		abort();
	free(buf);
	return 0;
}
