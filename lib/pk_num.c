/* SPDX-License-Identifier: MIT */
#include "pk_num.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_time.h"

int
pk_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why)
{
	unsigned long long v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s)) {
		*why = "invalid";
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0') {
		*why = "invalid";
		return -1;
	}
	if (errno == ERANGE || v > max) {
		*why = "too large";
		return -1;
	}
	if (v < min) {
		*why = "too small";
		return -1;
	}
	*out = v;
	return 0;
}

int
pk_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out,
    const char **why)
{
	long long v;
	char *end;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s)) {
		*why = "invalid";
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0') {
		*why = "invalid";
		return -1;
	}
	if ((errno == ERANGE && v > 0) || v > max) {
		*why = "too large";
		return -1;
	}
	if ((errno == ERANGE && v < 0) || v < min) {
		*why = "too small";
		return -1;
	}
	*out = v;
	return 0;
}

int
pk_parse_double(const char *s, double min, double max, double *out,
    const char **why)
{
	double v;
	char *end;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s)) {
		*why = "invalid";
		return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || isnan(v)) {
		*why = "invalid";
		return -1;
	}
	if (v > max) {
		*why = "too large";
		return -1;
	}
	if (v < min) {
		*why = "too small";
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Every program names an option the same way in its messages: as the
 * user typed the long form ("--window"), whatever the caller passed.
 */
static const char *
optname(const char *name, char *buf, size_t size)
{
	if (name[0] == '-')
		return name;
	snprintf(buf, size, "--%s", name);
	return buf;
}

uint64_t
pk_opt_u64(const char *s, uint64_t min, uint64_t max, const char *name)
{
	char nb[64];
	const char *why;
	uint64_t v;

	if (pk_parse_u64(s, min, max, &v, &why) == -1)
		pk_die(PK_EXIT_USAGE, "%s '%s' is %s (%llu..%llu)",
		    optname(name, nb, sizeof(nb)), s, why,
		    (unsigned long long)min, (unsigned long long)max);
	return v;
}

int64_t
pk_opt_i64(const char *s, int64_t min, int64_t max, const char *name)
{
	char nb[64];
	const char *why;
	int64_t v;

	if (pk_parse_i64(s, min, max, &v, &why) == -1)
		pk_die(PK_EXIT_USAGE, "%s '%s' is %s (%lld..%lld)",
		    optname(name, nb, sizeof(nb)), s, why, (long long)min,
		    (long long)max);
	return v;
}

double
pk_opt_double(const char *s, double min, double max, const char *name)
{
	char nb[64];
	const char *why;
	double v;

	if (pk_parse_double(s, min, max, &v, &why) == -1)
		pk_die(PK_EXIT_USAGE, "%s '%s' is %s (%g..%g)",
		    optname(name, nb, sizeof(nb)), s, why, min, max);
	return v;
}

double
pk_opt_duration(const char *s, double min, double max, const char *name)
{
	char nb[64];
	double v;

	if (pk_duration_parse(s, &v) == -1)
		pk_die(PK_EXIT_USAGE, "%s '%s' is not a duration "
		    "(e.g. 500ms, 30s, 5m, 1h)", optname(name, nb, sizeof(nb)),
		    s);
	if (v < min || v > max)
		pk_die(PK_EXIT_USAGE, "%s '%s' is out of range (%gs..%gs)",
		    optname(name, nb, sizeof(nb)),
		    s, min, max);
	return v;
}

double
pk_opt_suffixed(const char *s, const char *suffixes, double min, double max,
    const char *name, int *had_suffix)
{
	char buf[64], nb[64];
	const char *why;
	size_t len = strlen(s);
	double v;
	int suffix = 0;

	if (len == 0 || len >= sizeof(buf))
		pk_die(PK_EXIT_USAGE, "%s '%s' is invalid",
		    optname(name, nb, sizeof(nb)), s);
	memcpy(buf, s, len + 1);
	if (strchr(suffixes, buf[len - 1]) != NULL) {
		buf[len - 1] = '\0';
		suffix = 1;
	}
	if (pk_parse_double(buf, min, max, &v, &why) == -1)
		pk_die(PK_EXIT_USAGE, "%s '%s' is %s (%g..%g)",
		    optname(name, nb, sizeof(nb)), s, why, min, max);
	if (had_suffix != NULL)
		*had_suffix = suffix;
	return v;
}

unsigned long
pk_opt_factor(const char *s, const char *name)
{
	char nb[64];
	double v = pk_opt_suffixed(s, "xX", 1, 64, name, NULL);

	if (v != (double)(unsigned long)v)
		pk_die(PK_EXIT_USAGE, "%s '%s' is not a whole number",
		    optname(name, nb, sizeof(nb)), s);
	return (unsigned long)v;
}
