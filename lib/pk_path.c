/* SPDX-License-Identifier: MIT */
#include "pk_path.h"

#include <string.h>

json_t *
pk_path_get(const json_t *root, const char *path)
{
	const json_t *cur = root;
	const char *p = path;

	while (cur != NULL) {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (!json_is_object(cur))
			return NULL;
		cur = json_object_getn(cur, p, n);
		if (dot == NULL)
			return (json_t *)cur;
		p = dot + 1;
	}
	return NULL;
}

int
pk_path_num(const json_t *root, const char *path, double *out)
{
	json_t *v = pk_path_get(root, path);

	if (v == NULL || !json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return 0;
}

const char *
pk_path_str(const json_t *root, const char *path)
{
	return json_string_value(pk_path_get(root, path));
}

int
pk_path_set_new(json_t *root, const char *path, json_t *value)
{
	json_t *cur = root;
	const char *p = path;

	if (value == NULL)
		return -1;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		json_t *next;

		if (!json_is_object(cur))
			break;
		if (dot == NULL)
			return json_object_setn_new(cur, p, n, value);
		next = json_object_getn(cur, p, n);
		if (next == NULL) {
			next = json_object();
			if (next == NULL || json_object_setn_new(cur, p, n, next) == -1)
				break;
		}
		cur = next;
		p = dot + 1;
	}
	json_decref(value);
	return -1;
}
