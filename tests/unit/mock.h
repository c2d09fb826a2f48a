/* SPDX-License-Identifier: MIT */
#ifndef PK_TEST_MOCK_H
#define PK_TEST_MOCK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Linker mocks (-Wl,--wrap=fn). Each falls through to the real function
 * unless its flag is set; then it fails with the errno given.
 */
extern bool pk_mock_read;	/* read() fails with pk_mock_errno */
extern bool pk_mock_write;	/* write() fails with pk_mock_errno */
extern bool pk_mock_fsync;
extern bool pk_mock_rename;
extern int pk_mock_errno;
/* malloc() fails after this many more successful calls (-1: never). */
extern long pk_mock_malloc_fail_after;
/* Successful malloc() calls counted since the last reset. */
extern unsigned long pk_mock_malloc_count;

#endif
