/* SPDX-License-Identifier: MIT */
#include "pk_opt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"

void
pk_list_options(const struct option *opts)
{
	const struct option *o;

	for (o = opts; o->name != NULL; o++) {
		if (strcmp(o->name, "list-options") == 0)
			continue;
		printf("--%s%s\n", o->name, o->has_arg == required_argument ?
		    "=" : "");
	}
}

void
pk_print_version(void)
{
	printf("%s (perfkit) %s\n", pk_progname, PK_VERSION);
}

const char *
pk_hostname(void)
{
	static char name[256];

	if (name[0] == '\0') {
		if (gethostname(name, sizeof(name) - 1) == -1 || name[0] == '\0')
			snprintf(name, sizeof(name), "unknown");
		name[sizeof(name) - 1] = '\0';
	}
	return name;
}

void
pk_usage(const char *usage)
{
	fputs(usage, stderr);
	exit(PK_EXIT_USAGE);
}

void
pk_help(const char *usage, const char *options)
{
	fputs(usage, stdout);
	fputs("\n", stdout);
	fputs(options, stdout);
	pk_close_stdout();
	exit(PK_EXIT_OK);
}
