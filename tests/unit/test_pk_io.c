/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mock.h"
#include "pk_io.h"
#include "pk_path.h"

static void
test_atomic_write(void **state)
{
	char dir[] = "/tmp/pk_io_XXXXXX", path[64], *buf;
	struct stat st;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	assert_int_equal(pk_atomic_write(path, "one\n", 4, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(pk_read_file(path, &buf, &len), 0);
	assert_string_equal(buf, "one\n");
	free(buf);
	/* A failed fsync leaves the old content and no temporary file. */
	pk_mock_fsync = true;
	pk_mock_errno = ENOSPC;
	assert_int_equal(pk_atomic_write(path, "two\n", 4, 0600), -1);
	assert_int_equal(errno, ENOSPC);
	pk_mock_fsync = false;
	pk_mock_rename = true;
	assert_int_equal(pk_atomic_write(path, "two\n", 4, 0600), -1);
	pk_mock_rename = false;
	assert_int_equal(pk_read_file(path, &buf, &len), 0);
	assert_string_equal(buf, "one\n");
	free(buf);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);	/* nothing left behind */
	assert_int_equal(pk_atomic_write("/nonexistent/dir/x", "a", 1, 0600), -1);
}

/*
 * Symbolic links planted in a shared directory for the temporary names
 * of the next PIDs (the attack of #18) are never followed: the victim
 * file keeps its content, the link is left alone, the write succeeds.
 */
static void
test_atomic_write_planted_links(void **state)
{
	char dir[] = "/tmp/pk_io_XXXXXX", path[64], victim[64], f[128], *buf;
	struct stat st;
	size_t len;
	long pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/lat.hist", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	assert_int_equal(pk_atomic_write(victim, "precious\n", 9, 0600), 0);
	for (pid = getpid(); pid < getpid() + 4; pid++) {
		snprintf(f, sizeof(f), "%s.tmp.%ld", path, pid);
		assert_int_equal(symlink(victim, f), 0);
	}
	assert_int_equal(pk_atomic_write(path, "new\n", 4, 0644), 0);
	assert_int_equal(pk_read_file(victim, &buf, &len), 0);
	assert_string_equal(buf, "precious\n");
	free(buf);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0644);
	/* path itself a planted link: replaced by the file, not followed. */
	unlink(path);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(pk_atomic_write(path, "new\n", 4, 0600), 0);
	assert_int_equal(pk_read_file(victim, &buf, &len), 0);
	assert_string_equal(buf, "precious\n");
	free(buf);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	for (pid = getpid(); pid < getpid() + 4; pid++) {
		snprintf(f, sizeof(f), "%s.tmp.%ld", path, pid);
		assert_int_equal(unlink(f), 0);
	}
	unlink(path);
	unlink(victim);
	assert_int_equal(rmdir(dir), 0);
}

/* The temporary files of killed writers go; a live writer's stays. */
static void
test_atomic_sweep(void **state)
{
	char dir[] = "/tmp/pk_io_XXXXXX", path[64], f[128];
	struct stat st;
	pid_t dead;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	assert_int_equal(pk_atomic_write(path, "one\n", 4, 0600), 0);
	/* A pid that ran and is gone: a child reaped at once. */
	dead = fork();
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	snprintf(f, sizeof(f), "%s.tmp.%ld", path, (long)dead);
	assert_true((fd = open(f, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	snprintf(f, sizeof(f), "%s.tmp.%ld", path, (long)getppid());
	assert_true((fd = open(f, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	snprintf(f, sizeof(f), "%s/other.tmp.%ld", dir, (long)dead);
	assert_true((fd = open(f, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	/* Today's names carry a random part after the pid. */
	snprintf(f, sizeof(f), "%s.tmp.%ld.0123456789abcdef", path, (long)dead);
	assert_true((fd = open(f, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	assert_int_equal(pk_atomic_sweep(path), 2);
	assert_int_equal(pk_atomic_sweep(path), 0);
	assert_int_equal(stat(path, &st), 0);
	snprintf(f, sizeof(f), "%s.tmp.%ld", path, (long)dead);
	assert_int_equal(stat(f, &st), -1);
	snprintf(f, sizeof(f), "%s.tmp.%ld", path, (long)getppid());
	assert_int_equal(unlink(f), 0);
	snprintf(f, sizeof(f), "%s/other.tmp.%ld", dir, (long)dead);
	assert_int_equal(unlink(f), 0);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(pk_atomic_sweep("/nonexistent/dir/x"), -1);
}

static void
test_path(void **state)
{
	json_t *j = json_loads("{\"cpu\":{\"util\":42.5,\"n\":3},\"host\":\"b\"}", 0, NULL);
	double d;

	(void)state;
	assert_int_equal(pk_path_num(j, "cpu.util", &d), 0);
	assert_true(d == 42.5);
	assert_int_equal(pk_path_num(j, "cpu.n", &d), 0);
	assert_true(d == 3);
	assert_int_equal(pk_path_num(j, "cpu.none", &d), -1);
	assert_int_equal(pk_path_num(j, "host.x", &d), -1);
	assert_string_equal(pk_path_str(j, "host"), "b");
	assert_int_equal(pk_path_set_new(j, "mem.used_pct", json_real(12.5)), 0);
	assert_int_equal(pk_path_num(j, "mem.used_pct", &d), 0);
	assert_true(d == 12.5);
	assert_int_equal(pk_path_set_new(j, "host.x", json_real(1)), -1);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atomic_write),
		cmocka_unit_test(test_atomic_write_planted_links),
		cmocka_unit_test(test_atomic_sweep),
		cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests_name("pk_io", tests, NULL, NULL);
}
