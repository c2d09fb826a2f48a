/* SPDX-License-Identifier: MIT */
#ifndef PK_QUALITY_H
#define PK_QUALITY_H

#include <stddef.h>

#include "pk_stats.h"

/*
 * The quality controller of perf-qualityctl: resource pressure (0-100) in,
 * one of five quality levels out, on event time only, so that replaying a
 * log gives the same decisions as living it. The algorithm is specified in
 * perf-qualityctl(1); this module is its reference implementation, free of
 * I/O so that it can be unit-tested on crafted sequences.
 */

#define PK_QUALITY_NLEVELS 5

enum pk_quality_level {
	PK_QUALITY_ULTRA_LOW,
	PK_QUALITY_LOW,
	PK_QUALITY_MEDIUM,
	PK_QUALITY_HIGH,
	PK_QUALITY_ULTRA_HIGH
};

/* "ULTRA_LOW" ... "ULTRA_HIGH". */
const char *pk_quality_level_name(int level);
/* A level by name (any case, '-' for '_') or index 0-4; -1 if none. */
int pk_quality_level_parse(const char *s);

/*
 * The normalised pressure of one input: 0 at or beyond low, 100 at or
 * beyond high, linear between; high < low inverts the scale (fps: less
 * is worse). NAN in, NAN out.
 */
double pk_quality_norm(double x, double low, double high);

/* The controller's parameters (perf-qualityctl(1), "control:"). */
struct pk_quality_params {
	double tau_fast, tau_slow;	/* EWMA time constants, s */
	double down, up;		/* thresholds: step down >=, up <= */
	int confirm;			/* evaluations at a level before a step down */
	double dwell, dwell_max;	/* dwell before a step up, and its cap, s */
	double undo_window;		/* a step down this soon undoes a step up, s */
	double hold_margin;		/* predicted pressure must stay <= down - this */
	double step_cost;		/* prior pressure rise of one step up */
	double impact_after;		/* when to measure a change's impact, s */
	double probe;			/* low this long: step up despite prediction */
	int initial;			/* the level at start */
};

void pk_quality_params_default(struct pk_quality_params *p);

enum pk_quality_reason {
	PK_QUALITY_R_NONE,
	PK_QUALITY_R_START,
	PK_QUALITY_R_HIGH,	/* pressure at or above down */
	PK_QUALITY_R_LOW,	/* pressure at or below up for the dwell */
	PK_QUALITY_R_OVERRIDE,
	PK_QUALITY_R_RELEASE
};

/* "start", "pressure_high", "pressure_low", "override", "release". */
const char *pk_quality_reason_name(enum pk_quality_reason r);

/* A level change, as the controller decided it. */
struct pk_quality_change {
	enum pk_quality_reason reason;
	int prev;		/* -1 at start */
	int level;
	double pressure;	/* the raw pressure of this evaluation */
	double fast, slow;	/* the averages that decided */
	double dwell;		/* dwell now required to step up from level */
	int undone;		/* this step down undid a recent step up */
	char detail[192];	/* one line for humans */
};

/* The measured impact of an earlier change. */
struct pk_quality_impact {
	double change_ts;
	int from, to;
	double after_s;
	int complete;		/* 0: cut short by the next change */
	double pressure_before, pressure_after;
	double fps_before, fps_after;	/* NAN when no fps was seen */
	int learned;		/* it updated the step cost estimate */
	double step_cost;	/* the estimate for that step after this one */
};

struct pk_quality_ctl {
	struct pk_quality_params p;
	int started;
	int level;
	int override;		/* the overriding level, or -1 */
	struct pk_ewma fast, slow, fps;
	double last_change;	/* ts */
	double first_t;		/* the first evaluation in the averages */
	int last_change_up;	/* the last change was an automatic step up */
	int n_at_level;		/* evaluations since the last change */
	double prev_raw;	/* the previous raw pressure at this level, or NAN */
	int low;		/* the averages have been <= up since low_since */
	double low_since;
	double dwell[PK_QUALITY_NLEVELS];	/* to step up into level L */
	double cost[PK_QUALITY_NLEVELS - 1];	/* learned rise of L -> L+1, or NAN */
	double last_t;
	/* the change whose impact is pending */
	int imp_pending;
	double imp_ts, imp_p, imp_fps;
	int imp_from, imp_to, imp_learn;
	struct pk_quality_impact imp;	/* measured, not yet handed out */
	int imp_ready;
	/* blocked step up: the predicted pressure at the level above */
	double predicted;
};

void pk_quality_init(struct pk_quality_ctl *c, const struct pk_quality_params *p);
/* Take new parameters, keeping the state (a config reload). */
void pk_quality_set_params(struct pk_quality_ctl *c, const struct pk_quality_params *p);
/*
 * The clock stepped back by shift seconds: move the controller's times
 * (averages, dwell, the last change) onto the new timeline, so that no
 * time passes across the step. The level, dwell and learned step costs
 * stay; an impact being measured across the step is dropped.
 */
void pk_quality_rebase(struct pk_quality_ctl *c, double shift);

/*
 * One evaluation at event time t with the raw pressure (NAN: no input,
 * nothing happens) and the applications' fps (NAN if unknown). Returns 1
 * and fills ch when the level changed; sets *have_imp and fills imp when
 * the impact of an earlier change is due.
 */
int pk_quality_step(struct pk_quality_ctl *c, double t, double pressure,
    double fps, struct pk_quality_change *ch, struct pk_quality_impact *imp,
    int *have_imp);

/*
 * A manual override at time t: level 0-4 holds that level until released;
 * -1 releases. Returns 1 and fills ch if anything changed.
 */
int pk_quality_override(struct pk_quality_ctl *c, double t, int level,
    struct pk_quality_change *ch);

/* An impact measured by an override's change; 1 if imp was filled. */
int pk_quality_impact_take(struct pk_quality_ctl *c,
    struct pk_quality_impact *imp);

/*
 * The smallest headroom below a trip point (trip - temp, degC) over the
 * zones of a temp_c object, given as validated JSON text; trip (may be
 * NULL) is the temp_trip_c object, trip_default stands in for a zone
 * without one. The zone's name and temperature go to zone and *temp.
 * NAN if there is no numeric zone. Allocation-free.
 */
double pk_quality_headroom(const char *temp, size_t tlen, const char *trip,
    size_t plen, double trip_default, char *zone, size_t zsize, double *tc);

/* The level of a component with priority prio (0-4) at level. */
int pk_quality_component_level(int level, int prio);

/*
 * Parse a CPU list ("0-3,6") into a bit mask of up to 1024 CPUs
 * (mask has 16 words). Returns the number of CPUs, or -1.
 */
int pk_quality_cpulist(const char *s, unsigned long long mask[16]);

#endif
