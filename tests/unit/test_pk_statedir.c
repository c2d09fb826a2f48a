/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_statedir.h"

static void
test_prepare_and_check(void **state)
{
	char top[] = "/tmp/pk_sd_XXXXXX", dir[256], link[512], err[512];
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(dir, sizeof(dir), "%s/a/b/state", top);
	/* Not there and not to be created. */
	assert_int_equal(pk_statedir_prepare(dir, 0700, 0, err, sizeof(err)), -1);
	assert_int_equal(pk_statedir_prepare(dir, 0700, 1, err, sizeof(err)), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(pk_statedir_check(dir, err, sizeof(err)), 0);
	/* Writable by others: refused. */
	chmod(dir, 0777);
	assert_int_equal(pk_statedir_check(dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by group or others"));
	chmod(dir, 0700);
	/* A directory above it writable by others, without the sticky bit. */
	snprintf(link, sizeof(link), "%s/a", top);
	chmod(link, 0777);
	assert_int_equal(pk_statedir_check(dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "above the state directory"));
	chmod(link, 01777);
	assert_int_equal(pk_statedir_check(dir, err, sizeof(err)), 0);
	chmod(link, 0755);
	/* A link to a directory is no state directory. */
	snprintf(link, sizeof(link), "%s/link", top);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(pk_statedir_check(link, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));
	/* Files in it: never through a link. */
	snprintf(link, sizeof(link), "%s/history.jsonl", dir);
	assert_int_equal(symlink("/etc/hostname", link), 0);
	errno = 0;
	assert_int_equal(pk_statedir_open(dir, "history.jsonl",
	    O_WRONLY | O_APPEND | O_CREAT, 0600), -1);
	assert_int_equal(errno, ELOOP);
	unlink(link);
	fd = pk_statedir_open(dir, "history.jsonl", O_WRONLY | O_APPEND |
	    O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	unlink(link);
	rmdir(dir);
	snprintf(link, sizeof(link), "%s/link", top);
	unlink(link);
	snprintf(dir, sizeof(dir), "%s/a/b", top);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/a", top);
	rmdir(dir);
	assert_int_equal(rmdir(top), 0);
}

static void
test_other_owner(void **state)
{
	char top[] = "/tmp/pk_sd_XXXXXX", err[512];

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(top));
	/* Pre-created by another user (nobody): refused, even for root. */
	assert_int_equal(chown(top, 65534, 65534), 0);
	assert_int_equal(pk_statedir_prepare(top, 0700, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "belongs to another user"));
	assert_int_equal(rmdir(top), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepare_and_check),
		cmocka_unit_test(test_other_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
