/* SPDX-License-Identifier: MIT */
/*
 * The receiver types, one row each: adding a type is one file rx_NAME.c
 * and one line here (and its section in man/perf-alert.1, which
 * tests/perf-alert.bats holds against this table).
 */
#include "perf-alert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_io.h"

/*
 * The table: one line per type, whose row rx_NAME is in rx_NAME.c, in
 * the order --list-receivers and the man page show them.
 */
#define RECEIVER_TYPES(X) \
	X(webhook) \
	X(alertmanager) \
	X(email) \
	X(command) \
	X(ntfy) \
	/* the end of the table */

#define DECLARE(name) extern const struct receiver_type rx_##name;
#define ROW(name) &rx_##name,
RECEIVER_TYPES(DECLARE)

const struct receiver_type *const receiver_types[] = {
	RECEIVER_TYPES(ROW)
	NULL
};

const struct receiver_type *
receiver_type_find(const char *name)
{
	size_t i;

	for (i = 0; receiver_types[i] != NULL; i++)
		if (strcmp(receiver_types[i]->name, name) == 0)
			return receiver_types[i];
	return NULL;
}

void
receiver_type_names(char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; receiver_types[i] != NULL && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i ? ", " : "", receiver_types[i]->name);
}

void
receiver_types_list(void)
{
	size_t i, k;

	for (i = 0; receiver_types[i] != NULL; i++) {
		fputs(receiver_types[i]->name, stdout);
		for (k = 0; receiver_types[i]->keys[k] != NULL; k++)
			printf(" %s", receiver_types[i]->keys[k]);
		putchar('\n');
	}
}

int
rx_secret(const char *env, const char *file, char *buf, size_t size)
{
	const char *e;
	char *s;
	size_t n;

	buf[0] = '\0';
	if (env != NULL && (e = getenv(env)) != NULL) {
		snprintf(buf, size, "%s", e);
		return 0;
	}
	if (file != NULL) {
		/* Never cut: a longer secret is an error (EFBIG). */
		if (pk_read_file_max(file, size + 2, &s, &n) == -1)
			return -1;
		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
			s[--n] = '\0';
		if (n >= size) {
			free(s);
			errno = EFBIG;
			return -1;
		}
		snprintf(buf, size, "%s", s);
		free(s);
	}
	return 0;
}
