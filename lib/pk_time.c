/* SPDX-License-Identifier: MIT */
#include "pk_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	double mult;
} units[] = {
	{ "ns", 1e-9 }, { "us", 1e-6 }, { "µs", 1e-6 }, { "ms", 1e-3 },
	{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 }, { "w", 604800 },
};

int
pk_duration_parse(const char *s, double *secs)
{
	double total = 0;
	int parts = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		char *end;
		double v;
		size_t i, best = 0, bestlen = 0;

		if (*s == '-' || *s == '+' || *s == ' ')
			return -1;
		v = strtod(s, &end);
		if (end == s || !isfinite(v) || v < 0)
			return -1;
		s = end;
		if (*s == '\0') {
			/* A bare number is seconds, only on its own. */
			if (parts > 0)
				return -1;
			total += v;
			parts++;
			break;
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].name);

			if (strncmp(s, units[i].name, l) == 0 && l > bestlen) {
				best = i;
				bestlen = l;
			}
		}
		if (bestlen == 0)
			return -1;
		total += v * units[best].mult;
		s += bestlen;
		parts++;
	}
	if (!isfinite(total))
		return -1;
	*secs = total;
	return 0;
}

int
pk_duration_parse_ns(const char *s, int64_t *ns)
{
	double d;

	if (pk_duration_parse(s, &d) == -1 || d > 9.2e9)
		return -1;
	*ns = (int64_t)llround(d * 1e9);
	return 0;
}

double
pk_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
pk_ts_plausible(double ts, double *limit)
{
	if (ts <= *limit)
		return 1;
	*limit = pk_now() + PK_TS_AHEAD_MAX;
	return ts <= *limit;
}

double
pk_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t
pk_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return pk_ts_to_ns(&ts);
}

void
pk_duration_fmt(double secs, char *buf, size_t size)
{
	if (secs < 1e-6)
		snprintf(buf, size, "%.0fns", secs * 1e9);
	else if (secs < 1e-3)
		snprintf(buf, size, "%.3gus", secs * 1e6);
	else if (secs < 1)
		snprintf(buf, size, "%.3gms", secs * 1e3);
	else if (secs < 60)
		snprintf(buf, size, "%.3gs", secs);
	else if (secs < 3600)
		snprintf(buf, size, "%dm%ds", (int)(secs / 60),
		    (int)fmod(secs, 60));
	else
		snprintf(buf, size, "%dh%dm", (int)(secs / 3600),
		    (int)fmod(secs, 3600) / 60);
}
