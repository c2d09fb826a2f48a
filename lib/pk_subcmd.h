/* SPDX-License-Identifier: MIT */
#ifndef PK_SUBCMD_H
#define PK_SUBCMD_H

#include <getopt.h>

/*
 * Subcommands as a table (`perf-alert ack|stats`, `perf-qualityctl
 * set|release|status`), with one placement rule for every program, git's:
 *
 *   prog [options] subcommand [options] [operand ...]
 *
 * The program parses all its options as usual (getopt_long permutes, so
 * they may stand before or after the subcommand), recording each one it
 * saw with pk_subcmd_seen(); then pk_subcmd_dispatch() looks at the first
 * operand: if it names a row, the options seen must all be ones the row
 * takes, the operand count must fit, and the row's run() is called with
 * the operands after the name. An input file named like a subcommand is
 * given as ./name.
 */
struct pk_subcmd {
	const char *name;		/* "ack" */
	const int *opts;		/* the option codes it takes, 0-ended */
	int min_args, max_args;		/* operands after the name; -1: any */
	int (*run)(void *ctx, int argc, char **argv);
};

#define PK_SUBCMD_MAXSEEN 64

struct pk_subcmd_seen {
	int code[PK_SUBCMD_MAXSEEN];
	int n;
};

/* Record that option code c was given (the value getopt_long returned). */
void pk_subcmd_seen(struct pk_subcmd_seen *s, int c);
/* The row named name, or NULL. */
const struct pk_subcmd *pk_subcmd_find(const struct pk_subcmd *table,
    const char *name);
/*
 * If argv[0] (the first operand) names a row: check the options seen and
 * the operand count (a usage error names what does not apply, then the
 * usage, status 2), run it and set *ran. Returns run()'s status, or 0
 * with *ran = 0 when argc is 0 or argv[0] is no subcommand.
 */
int pk_subcmd_dispatch(const struct pk_subcmd *table,
    const struct pk_subcmd_seen *seen, const struct option *longopts,
    const char *usage, int argc, char **argv, void *ctx, int *ran);
/* The subcommand names, one a line (for --list-options). */
void pk_subcmd_list(const struct pk_subcmd *table);

#endif
