/* SPDX-License-Identifier: MIT */
#ifndef PK_PATH_H
#define PK_PATH_H

#include <jansson.h>

/*
 * Dotted-path access to nested JSON objects: "cpu.util" is
 * root["cpu"]["util"]. Returns NULL if any step is missing or not an object.
 */
json_t *pk_path_get(const json_t *root, const char *path);
/* The number at path (integer or real) into *out; -1 if absent or not a number. */
int pk_path_num(const json_t *root, const char *path, double *out);
/* The string at path, or NULL. */
const char *pk_path_str(const json_t *root, const char *path);
/* Set path to value (stealing the reference), creating objects on the way. */
int pk_path_set_new(json_t *root, const char *path, json_t *value);

#endif
