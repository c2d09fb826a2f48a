/* SPDX-License-Identifier: MIT */
#ifndef PK_RTWORK_H
#define PK_RTWORK_H

#include <stddef.h>
#include <stdint.h>

/*
 * The workloads rt-loop runs once per period, in its real-time thread.
 * Everything is parsed and allocated by pk_rtwork_parse()/pk_rtwork_init()
 * (a plugin is loaded with RTLD_NOW and initialised there too), so that
 * pk_rtwork_step() allocates nothing, takes no lock and makes no system
 * call of its own (a plugin's step is the plugin's responsibility).
 *
 *   none                  nothing (pure scheduling latency)
 *   spin:US               busy-wait US microseconds (monotonic clock)
 *   mlp:IN,HIDDEN,OUT     two dense float layers (ReLU), a stand-in for
 *                         policy inference: IN*HIDDEN + HIDDEN*OUT MACs
 *   constraints:N         N linear safety checks a.x <= b on an 8-state
 *                         vector, the violations counted
 *   plugin                a shared object with the rt-loop plugin ABI
 *                         (rtloop_init, rtloop_step, rtloop_fini)
 */
enum pk_rtwork_kind {
	PK_RTWORK_NONE,
	PK_RTWORK_SPIN,
	PK_RTWORK_MLP,
	PK_RTWORK_CONSTRAINTS,
	PK_RTWORK_PLUGIN
};

#define PK_RTWORK_DIM 8

struct pk_rtwork {
	enum pk_rtwork_kind kind;
	int64_t spin_ns;
	unsigned in, hidden, out;
	float *w1, *b1, *w2, *b2, *x, *h, *y;
	unsigned n;
	double *a, *b;
	double state[PK_RTWORK_DIM];
	unsigned long long violations;
	void *dl, *ctx;
	int (*p_step)(void *, unsigned long long);
	void (*p_fini)(void *);
	double sink;
};

/* Parse a --workload spec; 0, or -1 with a message in err. No allocation. */
int pk_rtwork_parse(struct pk_rtwork *w, const char *spec, char *err,
    size_t errlen);
/* Allocate and fill a parsed workload's data; 0, or -1 with a message. */
int pk_rtwork_init(struct pk_rtwork *w, char *err, size_t errlen);
/*
 * Load a plugin "LIB.so" or "LIB.so:ARGS" (ARGS are given to rtloop_init):
 * dlopen(RTLD_NOW), the three symbols, then rtloop_init. 0, or -1 with a
 * message in err.
 */
int pk_rtwork_plugin(struct pk_rtwork *w, const char *spec, char *err,
    size_t errlen);
/* One step; 0, or -1 if the workload reported an error. */
int pk_rtwork_step(struct pk_rtwork *w, uint64_t tick);
void pk_rtwork_release(struct pk_rtwork *w);

#endif
