/* SPDX-License-Identifier: MIT */
#ifndef PK_NUM_H
#define PK_NUM_H

#include <stdint.h>

/*
 * Range-checked number parsing in the spirit of strtonum(3): the whole
 * string must be a number within [min, max]. Returns 0, or -1 with a
 * reason in *why ("invalid", "too small", "too large").
 */
int pk_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why);
int pk_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out,
    const char **why);
int pk_parse_double(const char *s, double min, double max, double *out,
    const char **why);

/*
 * For option parsing in main(): the same, dying with PK_EXIT_USAGE and a
 * message naming the option on error.
 */
uint64_t pk_opt_u64(const char *s, uint64_t min, uint64_t max, const char *name);
int64_t pk_opt_i64(const char *s, int64_t min, int64_t max, const char *name);
double pk_opt_double(const char *s, double min, double max, const char *name);
/* A duration option ("500ms"), in seconds, within [min, max]. */
double pk_opt_duration(const char *s, double min, double max, const char *name);
/*
 * A number with an optional one-character suffix out of suffixes ("95%",
 * "10x") within [min, max]; *had_suffix (if not NULL) says whether it
 * had one. The message names the value as the user typed it.
 */
double pk_opt_suffixed(const char *s, const char *suffixes, double min,
    double max, const char *name, int *had_suffix);
/* A stress factor "Nx" (or "N"): a whole number in 1..64. */
unsigned long pk_opt_factor(const char *s, const char *name);

#endif
