/* SPDX-License-Identifier: MIT */
#ifndef PK_RTWORK_H
#define PK_RTWORK_H

#include <stddef.h>
#include <stdint.h>

/*
 * The workloads rt-loop runs once per period in its real-time thread.
 * Each is a row with the shape of the plugin ABI (examples/rt-loop-plugin.h):
 * a built-in is defined in lib/pk_rtwork_NAME.c and listed on one line of
 * the table in lib/pk_rtwork.c; pk_rtwork_plugin() makes the same row from
 * a shared object's rtloop_step and rtloop_fini. Built-ins and plugins
 * then take one path: pk_rtwork_init(), pk_rtwork_step() (one indirect
 * call), pk_rtwork_counters(), pk_rtwork_release().
 *
 * Everything is parsed, allocated and touched before the loop, so that a
 * built-in's step allocates nothing, takes no lock and makes no system
 * call of its own (a plugin's step is the plugin's responsibility).
 */

struct pk_rtwork_type {
	const char *name;		/* "spin", as --workload names it */
	const char *args;		/* "US": the synopsis of ARGS; NULL: none */
	const char *help;		/* one line for --help */
	const char *const *counters;	/* counter names, NULL-terminated */
	/*
	 * ARGS ("" when the spec has none) into a new *ctx, holding the
	 * parameters only. 0, or -1 with a message in err that names the
	 * workload, *ctx left NULL. NULL: the row takes no arguments.
	 */
	int (*parse)(void **ctx, const char *args, char *err, size_t errlen);
	/* Allocate, fill and touch what step uses. 0, or -1 with a message. */
	int (*init)(void *ctx, char *err, size_t errlen);
	/* rtloop_step: one period. 0, or non-zero for a work error. */
	int (*step)(void *ctx, unsigned long long tick);
	/* rtloop_fini: release ctx, whether init ran or not. */
	void (*fini)(void *ctx);
	/* The counters' values, in the order of counters. */
	void (*count)(const void *ctx, unsigned long long *values);
};

/* The built-in rows, NULL-terminated, in the order --help lists them. */
extern const struct pk_rtwork_type *const pk_rtwork_types[];

#define PK_RTWORK_MAXCOUNTERS 4

/*
 * A workload: its row and context. A plugin's row lives here, so a
 * struct pk_rtwork is used where it was parsed, never copied.
 */
struct pk_rtwork {
	const struct pk_rtwork_type *type;	/* NULL: nothing to release */
	void *ctx;
	struct pk_rtwork_type plugin;
	void *dl;
};

/* The row named by the first len bytes of name, or NULL. */
const struct pk_rtwork_type *pk_rtwork_find(const char *name, size_t len);
/* "none, spin:US, ...": the table as --workload takes it, into buf. */
void pk_rtwork_names(char *buf, size_t len);
/*
 * Parse a --workload spec "NAME" or "NAME:ARGS". 0, or -1 with a message
 * in err (an unknown name lists the valid ones). Allocates the context's
 * parameters only: pk_rtwork_init() allocates the data.
 */
int pk_rtwork_parse(struct pk_rtwork *w, const char *spec, char *err,
    size_t errlen);
/*
 * Load a plugin "LIB.so" or "LIB.so:ARGS": dlopen(RTLD_NOW), the three
 * symbols, then rtloop_init(ARGS, or NULL), which parses and allocates.
 * 0, or -1 with a message in err.
 */
int pk_rtwork_plugin(struct pk_rtwork *w, const char *spec, char *err,
    size_t errlen);
/*
 * The row of a plugin from its three ABI functions: rtloop_init(ctx, args)
 * runs now. 0, or -1 with a message in err naming the plugin as `what`.
 */
int pk_rtwork_plugin_abi(struct pk_rtwork *w, const char *what,
    const char *args, int (*init)(void **, const char *),
    int (*step)(void *, unsigned long long), void (*fini)(void *),
    char *err, size_t errlen);
/* Allocate the data of a parsed workload. 0, or -1 with a message. */
int pk_rtwork_init(struct pk_rtwork *w, char *err, size_t errlen);

/* One period: 0, or non-zero if the workload reported an error. */
static inline int
pk_rtwork_step(const struct pk_rtwork *w, uint64_t tick)
{
	return w->type->step(w->ctx, (unsigned long long)tick);
}

/* The counters' names and values (up to PK_RTWORK_MAXCOUNTERS); how many. */
size_t pk_rtwork_counters(const struct pk_rtwork *w, const char **names,
    unsigned long long *values);
void pk_rtwork_release(struct pk_rtwork *w);

/* For the rows: a message into err, and -1. */
int pk_rtwork_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For the rows: a whole unsigned number within [1, max] in s[0..len). */
int pk_rtwork_uint(const char *s, size_t len, uint64_t max, uint64_t *v);
/* For the rows: n weights in [-scale, scale) from a deterministic seed. */
float *pk_rtwork_weights(size_t n, uint32_t *seed, float scale);
/* For the rows: one value in [-1, 1) of the same generator. */
float pk_rtwork_lcg(uint32_t *seed);

#endif
