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
/* The usage on stderr, exit PK_EXIT_USAGE (a bad option or operand). */
__attribute__((noreturn)) void pk_usage(const char *usage);
/*
 * --help: the usage (as the man page's SYNOPSIS), a blank line, then the
 * options, on stdout; exit PK_EXIT_OK (or PK_EXIT_IO if stdout fails).
 */
__attribute__((noreturn)) void pk_help(const char *usage, const char *options);
/* "prog (perfkit) VERSION" on stdout. */
void pk_print_version(void);
/* The host name for records (cached), "unknown" if it cannot be read. */
const char *pk_hostname(void);

#define PK_OPT_LIST_OPTIONS 0x1000	/* value of the hidden --list-options */
#define PK_OPT_VERSION 0x1001

#endif
