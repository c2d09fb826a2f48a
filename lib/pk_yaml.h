/* SPDX-License-Identifier: MIT */
#ifndef PK_YAML_H
#define PK_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "pk_err.h"

/*
 * YAML configuration files as a small tree that remembers where each node
 * was written, so that every config error names FILE:LINE:COL and unknown
 * keys can be rejected (a typo must not silently disable an alert).
 * Anchors and aliases are refused; duplicate keys are errors.
 */
enum pk_ytype { PK_YSCALAR, PK_YMAP, PK_YSEQ };

struct pk_ynode {
	enum pk_ytype type;
	char *str;		/* scalar text */
	int plain;		/* a plain (unquoted) scalar */
	unsigned line, col;	/* 1-based */
	size_t n;		/* map pairs or sequence items */
	struct pk_ynode **keys;	/* map keys (scalars) */
	struct pk_ynode **items;	/* map values or sequence items */
};

struct pk_ydoc {
	char *name;		/* the file name used in messages */
	struct pk_ynode *root;	/* NULL for an empty document */
	int errors;		/* errors reported through this document */
};

/*
 * Load and parse; on error print "prog: FILE:LINE:COL: msg" and return NULL.
 * A file over PK_YAML_MAX_FILE bytes is refused ("FILE: larger than …"):
 * a configuration is read whole.
 */
#define PK_YAML_MAX_FILE (1 << 20)
struct pk_ydoc *pk_yaml_load_file(const char *path);
struct pk_ydoc *pk_yaml_load_string(const char *name, const char *s, size_t len);
void pk_yaml_free(struct pk_ydoc *doc);

/* Report an error at node (or the file if node is NULL); counts it; returns -1. */
int pk_yerror(struct pk_ydoc *doc, const struct pk_ynode *node,
    const char *fmt, ...) PK_PRINTF(3, 4);

/* The value for key in a map, or NULL. */
struct pk_ynode *pk_ymap_get(const struct pk_ynode *map, const char *key);
/*
 * Check that node is a map whose keys are all in allowed (a NULL-terminated
 * list); each unknown key is reported (with a suggestion when one is close).
 * Returns the number of errors.
 */
int pk_ymap_check(struct pk_ydoc *doc, const struct pk_ynode *map,
    const char *what, const char *const *allowed);

/*
 * Typed scalar getters: 0 on success, -1 after reporting the error.
 * Bools accept true/false/yes/no/on/off.
 */
int pk_ynode_str(struct pk_ydoc *doc, const struct pk_ynode *n, const char **out);
int pk_ynode_double(struct pk_ydoc *doc, const struct pk_ynode *n, double min,
    double max, double *out);
int pk_ynode_int(struct pk_ydoc *doc, const struct pk_ynode *n, long long min,
    long long max, long long *out);
int pk_ynode_bool(struct pk_ydoc *doc, const struct pk_ynode *n, int *out);
int pk_ynode_duration(struct pk_ydoc *doc, const struct pk_ynode *n,
    double min, double max, double *out);
int pk_ynode_expect(struct pk_ydoc *doc, const struct pk_ynode *n,
    enum pk_ytype type, const char *what);

/* The node as JSON (plain scalars typed as YAML 1.2 core schema). */
json_t *pk_ynode_to_json(const struct pk_ynode *n);

#endif
