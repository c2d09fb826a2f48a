/* SPDX-License-Identifier: MIT */
#ifndef PK_JSCAN_H
#define PK_JSCAN_H

#include <stddef.h>

/*
 * A fast, allocation-free JSON object scanner for hot filters.
 *
 * Building a jansson tree for every line costs more than most filters
 * need: perf-profile and perf-alert read a handful of fields and pass
 * the line through unchanged. pk_jscan() validates the whole line as one
 * JSON object (RFC 8259 grammar, UTF-8) in a single pass and records,
 * for each wanted dotted path, where its value lies in the line. Values
 * of paths nobody wants are skipped (still validated).
 *
 * Dotted paths address nested objects: "cpu.util", "psi.cpu.some_avg10".
 * A key that itself contains a dot cannot be addressed.
 */

enum pk_jtype {
	PK_JNONE = 0,	/* absent */
	PK_JNULL,
	PK_JFALSE,
	PK_JTRUE,
	PK_JNUM,
	PK_JSTR,
	PK_JOBJ,
	PK_JARR
};

struct pk_jval {
	enum pk_jtype type;
	const char *p;	/* the raw text; for strings, inside the quotes */
	size_t len;
	int escaped;	/* a string that contains backslash escapes */
};

struct pk_jnode {
	const char *key;
	size_t keylen;
	int id;		/* the path's id, or -1 for an inner node only */
	int child;	/* first child, -1 if none */
	int next;	/* next sibling, -1 if none */
};

struct pk_jpaths {
	struct pk_jnode *nodes;
	int nnodes, capnodes;
	int npaths;
	char **keys;	/* owned key copies */
};

struct pk_jscan_err {
	size_t col;	/* 1-based byte column */
	const char *msg;
};

void pk_jpaths_init(struct pk_jpaths *ps);
void pk_jpaths_release(struct pk_jpaths *ps);
/* Add a dotted path; returns its id (the same id for the same path), -1 on error. */
int pk_jpaths_add(struct pk_jpaths *ps, const char *dotted);

/*
 * Scan one line. vals has ps->npaths entries and is filled (absent paths
 * get PK_JNONE). Returns 0, or -1 with err filled if the line is not one
 * valid JSON object.
 */
int pk_jscan(const struct pk_jpaths *ps, const char *s, size_t n,
    struct pk_jval *vals, struct pk_jscan_err *err);

/* The number a PK_JNUM value holds (fast exact path for plain decimals). */
double pk_jval_num(const struct pk_jval *v);
/* Whether a string value equals the NUL-terminated s (escapes decoded). */
int pk_jval_streq(const struct pk_jval *v, const char *s);
/*
 * Copy a string value into buf (escapes decoded, NUL-terminated,
 * truncated to size); returns the decoded length.
 */
size_t pk_jval_str(const struct pk_jval *v, char *buf, size_t size);

#endif
