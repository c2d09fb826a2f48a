/* SPDX-License-Identifier: MIT */
#ifndef PK_OPT_H
#define PK_OPT_H

#include <getopt.h>

#ifndef PK_VERSION
#define PK_VERSION "0.0.0"
#endif

/*
 * The hidden --list-options prints every long option of a getopt_long
 * table, one a line, "--name" or "--name=" when it takes an argument, so
 * that the shell completions follow the code.
 */
void pk_list_options(const struct option *opts);
/* "prog (perfkit) VERSION" on stdout. */
void pk_print_version(void);
/* The host name for records (cached), "unknown" if it cannot be read. */
const char *pk_hostname(void);

#define PK_OPT_LIST_OPTIONS 0x1000	/* value of the hidden --list-options */
#define PK_OPT_VERSION 0x1001

#endif
