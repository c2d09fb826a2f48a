/* SPDX-License-Identifier: MIT */
#ifndef PK_EVCLOCK_H
#define PK_EVCLOCK_H

/*
 * A per-host event clock that tells a late record from a backward clock
 * step. The clock is the largest ts seen. A record more than span behind
 * it is late; PK_EVCLOCK_STEPS such records in a row (none in between
 * within span of the clock), each within span of the newest of them (one
 * new timeline), are a step back: the clock restarts from the newest of
 * them. A single stray old record stays late. A record ahead of
 * the clock moves it forward (a jump of days is just time). Replay of
 * the same input gives the same decisions: only ts are read, never the
 * wall clock.
 */
#define PK_EVCLOCK_STEPS 3

struct pk_evclock {
	double clock;		/* the largest ts, NAN before the first */
	double behind_max;	/* the newest of the run behind, for the step */
	unsigned behind;	/* records in a row more than span behind */
};

enum pk_evclock_verdict {
	PK_EVCLOCK_ON,		/* in time: clock is max(clock, t) */
	PK_EVCLOCK_LATE,	/* more than span behind: pass it, no more */
	PK_EVCLOCK_STEP,	/* the clock stepped back: restart from t */
};

void pk_evclock_init(struct pk_evclock *c);
/*
 * Classify t against span. On PK_EVCLOCK_STEP *back is set to how far
 * the clock went back (old clock - t) and the clock is t.
 */
enum pk_evclock_verdict pk_evclock_see(struct pk_evclock *c, double t,
    double span, double *back);

#endif
