/* SPDX-License-Identifier: MIT */
/*
 * For fuzz targets whose code under test opens a path (the programs'
 * config and baseline loaders): the input becomes the contents of an
 * anonymous memory file, named by /proc/self/fd/N, so that nothing is left
 * behind and every run sees exactly the input.
 */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* The path of a file holding exactly data; NULL if it cannot be made. */
static inline const char *
fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd == -1) {
		fd = memfd_create("fuzz", 0);
		if (fd == -1)
			return NULL;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		return NULL;
	return path;
}

/*
 * Diagnostics are expected: keep the fuzzer's own output readable. The
 * stdio stream goes to /dev/null, not file descriptor 2, on which the
 * sanitizers write their reports.
 */
static inline int
fuzz_quiet(void)
{
	static FILE *null;

	if (null == NULL) {
		null = fopen("/dev/null", "w");
		if (null == NULL)
			return -1;
		stderr = null;
	}
	return 0;
}

#endif
