/* SPDX-License-Identifier: MIT */
#ifndef PK_TIME_H
#define PK_TIME_H

#include <stdint.h>
#include <time.h>

/*
 * Durations read "500ms", "30s", "5m", "1h", "2d", "250us", "100ns", or a
 * bare number of seconds ("1.5"). Compound forms such as "1m30s" add up.
 * Returns 0 and the duration in seconds, or -1 if s is not a duration.
 */
int pk_duration_parse(const char *s, double *secs);

/* The same, into nanoseconds. */
int pk_duration_parse_ns(const char *s, int64_t *ns);

/* Wall-clock time (CLOCK_REALTIME) in seconds. */
double pk_now(void);
/* Monotonic time (CLOCK_MONOTONIC) in seconds and nanoseconds. */
double pk_mono(void);
int64_t pk_mono_ns(void);

static inline int64_t
pk_ts_to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static inline struct timespec
pk_ns_to_ts(int64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	return ts;
}

/*
 * Whether an event time can be believed: not more than PK_TS_AHEAD_MAX
 * seconds ahead of the wall clock. A ts in milliseconds, or a corrupt one,
 * would otherwise move an event clock that never goes back far into the
 * future, and every later record would be late. *limit caches the bound
 * (start it at 0), so the clock is read only when a ts passes it.
 */
#define PK_TS_AHEAD_MAX 86400.0
int pk_ts_plausible(double ts, double *limit);

/* Format a duration in seconds compactly ("1.5s", "250ms", "2h3m"). */
void pk_duration_fmt(double secs, char *buf, size_t size);

#endif
