/* SPDX-License-Identifier: MIT */
#include "mock.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

bool pk_mock_read;
bool pk_mock_write;
bool pk_mock_fsync;
bool pk_mock_rename;
int pk_mock_errno = EIO;
long pk_mock_malloc_fail_after = -1;
unsigned long pk_mock_malloc_count;

ssize_t __real_read(int, void *, size_t);
ssize_t __wrap_read(int, void *, size_t);
ssize_t __real_write(int, const void *, size_t);
ssize_t __wrap_write(int, const void *, size_t);
int __real_poll(struct pollfd *, nfds_t, int);
int __wrap_poll(struct pollfd *, nfds_t, int);
int __real_fsync(int);
int __wrap_fsync(int);
int __real_rename(const char *, const char *);
int __wrap_rename(const char *, const char *);
void *__real_malloc(size_t);
void *__wrap_malloc(size_t);

ssize_t
__wrap_read(int fd, void *buf, size_t n)
{
	if (pk_mock_read) {
		errno = pk_mock_errno;
		return -1;
	}
	return __real_read(fd, buf, n);
}

ssize_t
__wrap_write(int fd, const void *buf, size_t n)
{
	if (pk_mock_write) {
		errno = pk_mock_errno;
		return -1;
	}
	return __real_write(fd, buf, n);
}

int
__wrap_poll(struct pollfd *fds, nfds_t n, int ms)
{
	return __real_poll(fds, n, ms);
}

int
__wrap_fsync(int fd)
{
	if (pk_mock_fsync) {
		errno = pk_mock_errno;
		return -1;
	}
	return __real_fsync(fd);
}

int
__wrap_rename(const char *a, const char *b)
{
	if (pk_mock_rename) {
		errno = pk_mock_errno;
		return -1;
	}
	return __real_rename(a, b);
}

void *
__wrap_malloc(size_t n)
{
	if (pk_mock_malloc_fail_after == 0)
		return NULL;
	if (pk_mock_malloc_fail_after > 0)
		pk_mock_malloc_fail_after--;
	pk_mock_malloc_count++;
	return __real_malloc(n);
}
