/* SPDX-License-Identifier: MIT */
#ifndef PK_ALERT_EXPR_H
#define PK_ALERT_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "pk_jscan.h"

/*
 * The pieces of perf-alert that are worth testing on their own: rule
 * conditions ("cpu.util > 90 and mem.used_pct >= 80", "state != \"end\""),
 * Nagios-style flap detection, fingerprints and annotation templates.
 */

enum pk_alert_op { PK_AOP_GT, PK_AOP_GE, PK_AOP_LT, PK_AOP_LE, PK_AOP_EQ,
	PK_AOP_NE };
enum pk_alert_lit { PK_ALIT_NUM, PK_ALIT_STR, PK_ALIT_BOOL };

struct pk_alert_cmp {
	char *path;
	int id;			/* the pk_jpaths id, set by the caller */
	enum pk_alert_op op;
	enum pk_alert_lit lit;
	double num;		/* number, or 0/1 for a bool */
	char *str;
};

/* A conjunction of comparisons joined by "and". */
struct pk_alert_cond {
	struct pk_alert_cmp *cmp;
	size_t n;
};

/*
 * Parse a condition. Returns 0, or -1 with a static reason in *why.
 * The paths are registered with ps (ids filled in).
 */
int pk_alert_cond_parse(struct pk_alert_cond *c, const char *s,
    struct pk_jpaths *ps, const char **why);
void pk_alert_cond_release(struct pk_alert_cond *c);
/*
 * Evaluate against scanned values (indexed by path id): 1 true, 0 false,
 * -1 when a path is absent or of another type (the rule does not apply).
 * *value receives the first numeric operand's value (or NAN).
 */
int pk_alert_cond_eval(const struct pk_alert_cond *c,
    const struct pk_jval *vals, double *value);
/* The threshold of the first numeric comparison, NAN if none. */
double pk_alert_cond_threshold(const struct pk_alert_cond *c);

/*
 * Flap detection as Nagios does it: the last 21 observed states, a state
 * change weighted from 0.8 (oldest) to 1.2 (newest), the percentage of
 * change compared with a high threshold (start flapping) and a low one
 * (stop flapping).
 */
#define PK_ALERT_FLAP_N 21
struct pk_alert_flap {
	uint32_t bits;		/* newest state in bit 0 */
	int n;			/* states observed, up to PK_ALERT_FLAP_N */
	int flapping;
	double pct;
};

/*
 * Record one observed state (0/1). Returns 1 when the flapping flag
 * changed (started or stopped), else 0.
 */
int pk_alert_flap_add(struct pk_alert_flap *f, int state, double low,
    double high);
double pk_alert_flap_pct(const struct pk_alert_flap *f);


/*
 * Expand "{{name}}" in tpl through lookup (which returns the text, or
 * NULL for an unknown name, expanded as empty). The output is truncated
 * to size, always NUL-terminated; returns the full length wanted.
 */
size_t pk_alert_template(const char *tpl,
    const char *(*lookup)(const char *name, size_t len, void *arg), void *arg,
    char *out, size_t size);

/* Severity names and levels: INFO 0, WARNING 1, CRITICAL 2, EMERGENCY 3. */
int pk_alert_severity(const char *s);
const char *pk_alert_severity_name(int level);

#endif
