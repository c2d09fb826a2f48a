/* SPDX-License-Identifier: MIT */
#ifndef PK_EXIT_H
#define PK_EXIT_H

/*
 * The exit-status contract shared by every perfkit program.
 * Each man page states it in its EXIT STATUS section.
 */
enum pk_exit {
	PK_EXIT_OK = 0,		/* success */
	PK_EXIT_NEGATIVE = 1,	/* a documented negative answer (gate failed) */
	PK_EXIT_USAGE = 2,	/* usage or configuration error */
	PK_EXIT_DATA = 3,	/* bad input data (lines were skipped) */
	PK_EXIT_IO = 4,		/* system or I/O error */
	PK_EXIT_NOEXEC = 126,	/* a child could not be executed */
	PK_EXIT_NOTFOUND = 127,	/* a child was not found */
	PK_EXIT_SIGBASE = 128	/* a child killed by signal N: 128 + N */
};

#endif
