/* SPDX-License-Identifier: MIT */
#ifndef PK_JW_H
#define PK_JW_H

#include <stddef.h>
#include <stdint.h>

/*
 * An allocation-free JSON writer for records produced at a high rate
 * (perf-sample): it appends to one buffer reused for every record, so a
 * steady state allocates nothing, and formats numbers in fixed point
 * without stdio. Strings are escaped as RFC 8259 requires, and bytes that
 * are not valid UTF-8 become U+FFFD, so a process name can never make the
 * record invalid. Nested objects up to PK_JW_DEPTH levels.
 *
 * The buffer can also be used raw (pk_jw_put*) for other text formats.
 */
#define PK_JW_DEPTH 16

struct pk_jw {
	char *buf;
	size_t len, cap;
	int depth;
	unsigned char first[PK_JW_DEPTH];	/* no member yet at this level */
	int oom;				/* a realloc failed: output truncated */
};

void pk_jw_init(struct pk_jw *w, size_t cap);
void pk_jw_release(struct pk_jw *w);
/* Start a new record (the buffer is kept). */
void pk_jw_reset(struct pk_jw *w);

/* key may be NULL inside an array or for the top-level object. */
void pk_jw_obj_begin(struct pk_jw *w, const char *key);
void pk_jw_obj_end(struct pk_jw *w);
void pk_jw_arr_begin(struct pk_jw *w, const char *key);
void pk_jw_arr_end(struct pk_jw *w);
void pk_jw_str(struct pk_jw *w, const char *key, const char *s);
void pk_jw_u64(struct pk_jw *w, const char *key, uint64_t v);
void pk_jw_i64(struct pk_jw *w, const char *key, int64_t v);
/* A number with at most decimals fractional digits, trailing zeros cut. */
void pk_jw_num(struct pk_jw *w, const char *key, double v, int decimals);
void pk_jw_bool(struct pk_jw *w, const char *key, int b);

/* Raw appends. */
void pk_jw_put(struct pk_jw *w, const char *s, size_t n);
void pk_jw_puts(struct pk_jw *w, const char *s);
void pk_jw_putc(struct pk_jw *w, char c);
void pk_jw_put_u64(struct pk_jw *w, uint64_t v);
void pk_jw_put_num(struct pk_jw *w, double v, int decimals);
/* s as the inside of a JSON string (no quotes). */
void pk_jw_put_escaped(struct pk_jw *w, const char *s);

#endif
