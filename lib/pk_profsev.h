/* SPDX-License-Identifier: MIT */
#ifndef PK_PROFSEV_H
#define PK_PROFSEV_H

#include <stddef.h>

#include "pk_jscan.h"

/*
 * Bottleneck severity and the edge-triggered state of one check, for
 * perf-profile.
 *
 * The excess e says how far a value is past its threshold, relative to the
 * threshold: (v - thr) / thr for an upper limit, (thr - v) / thr for a
 * floor; e > 0 is past it. Severity is the sum of a "how far" and a
 * "how long" level, capped at critical:
 *
 *   far  = 0 if e < 0.10, 1 if e < 0.25, 2 if e < 0.50, else 3
 *   long = 0 if d < 60 s, 1 if d < 300 s, else 2   (the steps settable)
 *   severity = min(3, far + long)   (0 low, 1 medium, 2 high, 3 critical)
 *
 * where d is how long the bottleneck has lasted. A severity is lowered only
 * when e + 0.05 would lower it too (hysteresis against flapping), and a
 * bottleneck ends only when e < -0.05 (5 % back inside the target).
 */
enum {
	PK_SEV_LOW, PK_SEV_MEDIUM, PK_SEV_HIGH, PK_SEV_CRITICAL
};

enum {
	PK_EDGE_NONE, PK_EDGE_START, PK_EDGE_CHANGE, PK_EDGE_END
};

#define PK_PROFSEV_HYST 0.05

struct pk_profsev {
	int active;
	int level;
	int peak;
	double since;
	/*
	 * How long a bottleneck lasts before its severity gains one level
	 * and two; 0 means the defaults, 60 s and 300 s.
	 */
	double after1, after2;
};

const char *pk_profsev_name(int level);
/* The relative excess of v over thr (an upper limit) or under it (floor). */
double pk_profsev_excess(double v, double thr, int floor);
/*
 * The severity for excess e after d seconds, given the current level (or
 * -1), with the default steps of duration.
 */
int pk_profsev_level(double e, double d, int cur);
/* The same with the steps after1 < after2 (seconds). */
int pk_profsev_level_steps(double e, double d, int cur, double after1,
    double after2);
/*
 * Feed one evaluation at time t with excess e; past says the condition
 * holds now (usually e > 0), clear that it is over (usually e < -0.05).
 * Returns the edge to report.
 */
int pk_profsev_update(struct pk_profsev *s, double t, double e, int past,
    int clear);

/*
 * Iterate the members of a JSON object already validated by pk_jscan
 * (its raw text in obj). *pos starts at 0. Returns 1 with key and val
 * filled, 0 at the end.
 */
int pk_profsev_obj_next(const struct pk_jval *obj, size_t *pos,
    struct pk_jval *key, struct pk_jval *val);

#endif
