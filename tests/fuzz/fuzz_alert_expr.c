/* SPDX-License-Identifier: MIT */
/*
 * Fuzz perf-alert's rule language (lib/pk_alert_expr): the first line of
 * the input is a condition, the rest a record it is evaluated against;
 * the condition is also expanded as an annotation template and read as a
 * severity name.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pk_alert_expr.h"
#include "pk_jscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
lookup(const char *name, size_t len, void *arg)
{
	(void)arg;
	if (len == 5 && memcmp(name, "value", 5) == 0)
		return "91.5";
	if (len == 4 && memcmp(name, "host", 4) == 0)
		return "{{host}}";	/* not expanded again */
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_alert_cond c;
	struct pk_jpaths ps;
	struct pk_jval *vals;
	struct pk_jscan_err jerr;
	const char *why = NULL, *nl;
	char *s, out[64];
	double value;
	size_t clen, want;
	int rc, sev;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	nl = memchr(s, '\n', size);
	clen = nl != NULL ? (size_t)(nl - s) : size;
	s[clen] = '\0';

	want = pk_alert_template(s, lookup, NULL, out, sizeof(out));
	if (memchr(out, '\0', sizeof(out)) == NULL ||
	    (want < sizeof(out) && strlen(out) != want))
		abort();
	sev = pk_alert_severity(s);
	if (sev >= 0 && pk_alert_severity_name(sev) == NULL)
		abort();

	pk_jpaths_init(&ps);
	memset(&c, 0, sizeof(c));
	if (pk_alert_cond_parse(&c, s, &ps, &why) == -1) {
		if (why == NULL)
			abort();
		pk_alert_cond_release(&c);
		pk_jpaths_release(&ps);
		free(s);
		return 0;
	}
	if (c.n == 0)
		abort();
	(void)pk_alert_cond_threshold(&c);
	vals = calloc((size_t)ps.npaths + 1, sizeof(*vals));
	if (vals != NULL && nl != NULL &&
	    pk_jscan(&ps, nl + 1, size - clen - 1, vals, &jerr) == 0) {
		rc = pk_alert_cond_eval(&c, vals, &value);
		if (rc < -1 || rc > 1)
			abort();
	}
	free(vals);
	pk_alert_cond_release(&c);
	pk_jpaths_release(&ps);
	free(s);
	return 0;
}
