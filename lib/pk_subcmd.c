/* SPDX-License-Identifier: MIT */
#include "pk_subcmd.h"

#include <stdio.h>
#include <string.h>

#include "pk_err.h"
#include "pk_opt.h"

void
pk_subcmd_seen(struct pk_subcmd_seen *s, int c)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->code[i] == c)
			return;
	if (s->n < PK_SUBCMD_MAXSEEN)
		s->code[s->n++] = c;
}

const struct pk_subcmd *
pk_subcmd_find(const struct pk_subcmd *table, const char *name)
{
	for (; table->name != NULL; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

/* The option as the user may have typed it: "--wait" or "-w". */
static void
optname(const struct option *longopts, int c, char *buf, size_t size)
{
	for (; longopts != NULL && longopts->name != NULL; longopts++)
		if (longopts->val == c && longopts->flag == NULL) {
			snprintf(buf, size, "--%s", longopts->name);
			return;
		}
	snprintf(buf, size, "-%c", c);
}

int
pk_subcmd_dispatch(const struct pk_subcmd *table,
    const struct pk_subcmd_seen *seen, const struct option *longopts,
    const char *usage, int argc, char **argv, void *ctx, int *ran)
{
	const struct pk_subcmd *s;
	char name[64];
	int i, n = argc - 1;
	const int *o;

	*ran = 0;
	if (argc == 0 || (s = pk_subcmd_find(table, argv[0])) == NULL)
		return 0;
	for (i = 0; seen != NULL && i < seen->n; i++) {
		for (o = s->opts; o != NULL && *o != 0; o++)
			if (*o == seen->code[i])
				break;
		if (o == NULL || *o == 0) {
			optname(longopts, seen->code[i], name, sizeof(name));
			pk_warn("%s: %s does not apply", s->name, name);
			pk_usage(usage);
		}
	}
	if (n < s->min_args || (s->max_args >= 0 && n > s->max_args)) {
		if (n < s->min_args)
			pk_warn("%s: too few operands", s->name);
		else
			pk_warn("%s: unexpected operand '%s'", s->name,
			    argv[1 + s->max_args]);
		pk_usage(usage);
	}
	*ran = 1;
	return s->run(ctx, n, argv + 1);
}

void
pk_subcmd_list(const struct pk_subcmd *table)
{
	for (; table->name != NULL; table++)
		puts(table->name);
}
