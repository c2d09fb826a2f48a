/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mock.h"
#include "pk_jsonl.h"

static char *
tmpfile_with(const char *content, size_t len)
{
	char *path = strdup("/tmp/pk_jsonl_XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static void
test_lines(void **state)
{
	const char data[] = "{\"a\":1}\n\n{\"b\":2}\r\nlast";
	struct pk_jsonl r;
	char *path = tmpfile_with(data, sizeof(data) - 1), *line;
	size_t len;

	(void)state;
	assert_int_equal(pk_jsonl_open(&r, path), 0);
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_LINE);
	assert_string_equal(line, "{\"a\":1}");
	assert_int_equal(r.lineno, 1);
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_LINE);
	assert_int_equal(len, 0);
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_LINE);
	assert_string_equal(line, "{\"b\":2}");
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_LINE);
	assert_string_equal(line, "last");
	assert_int_equal(r.lineno, 4);
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_EOF);
	pk_jsonl_release(&r);
	unlink(path);
	free(path);
}

static void
test_long_lines(void **state)
{
	size_t big = 300000, i;
	char *data = malloc(big + 64), *path, *line;
	struct pk_jsonl r;
	size_t len, n = 0;

	(void)state;
	n += (size_t)snprintf(data, 64, "{\"a\":1}\n");
	for (i = 0; i < big; i++)
		data[n++] = 'x';
	data[n++] = '\n';
	memcpy(data + n, "{\"b\":2}\n", 8);
	n += 8;
	path = tmpfile_with(data, n);
	assert_int_equal(pk_jsonl_open(&r, path), 0);
	r.max_line = 1000;
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_LINE);
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_TOOLONG);
	assert_int_equal(r.lineno, 2);
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_LINE);
	assert_string_equal(line, "{\"b\":2}");
	assert_int_equal(r.lineno, 3);
	/* Memory stayed bounded by the line limit, not the line. */
	assert_true(r.cap < 300000);
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_EOF);
	pk_jsonl_release(&r);
	unlink(path);
	free(path);
	free(data);
}

static void
test_many_lines_across_chunks(void **state)
{
	size_t n = 0, i, count = 0, len;
	char *data = malloc(200000 * 16), *path, *line;
	struct pk_jsonl r;

	(void)state;
	for (i = 0; i < 200000; i++)
		n += (size_t)snprintf(data + n, 32, "{\"i\":%zu}\n", i);
	path = tmpfile_with(data, n);
	assert_int_equal(pk_jsonl_open(&r, path), 0);
	while (pk_jsonl_next(&r, &line, &len) == PK_JSONL_LINE) {
		char want[32];

		snprintf(want, sizeof(want), "{\"i\":%zu}", count);
		assert_string_equal(line, want);
		count++;
	}
	assert_int_equal(count, 200000);
	pk_jsonl_release(&r);
	unlink(path);
	free(path);
	free(data);
}

static void
test_read_error(void **state)
{
	struct pk_jsonl r;
	char *path = tmpfile_with("{}\n", 3), *line;
	size_t len;

	(void)state;
	assert_int_equal(pk_jsonl_open(&r, path), 0);
	pk_mock_read = true;
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_ERROR);
	pk_mock_read = false;
	pk_jsonl_release(&r);
	unlink(path);
	free(path);
}

static void
stop_now(void *arg)
{
	(*(int *)arg)++;
	pk_stop = 1;
}

/* A stop while half a line waits: the half line first, then the stop. */
static void
test_stop_mid_line(void **state)
{
	const char data[] = "{\"a\":1}\n{\"b\":";
	struct pk_jsonl r;
	char *line;
	size_t len;
	int fds[2], idles = 0;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], data, sizeof(data) - 1),
	    (ssize_t)sizeof(data) - 1);
	assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	assert_int_equal(pk_jsonl_open(&r, "-"), 0);
	r.idle_ms = 10;
	r.on_idle = stop_now;
	r.arg = &idles;
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_LINE);
	assert_string_equal(line, "{\"a\":1}");
	/* The writer stays open: the input idles, the stop comes. */
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_LINE);
	assert_int_equal(idles, 1);
	assert_string_equal(line, "{\"b\":");
	assert_int_equal(len, 5);
	assert_int_equal(r.lineno, 2);
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_STOP);
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_STOP);
	pk_jsonl_release(&r);
	/* Nothing pending: the stop at once. */
	assert_int_equal(pk_jsonl_open(&r, "-"), 0);
	r.idle_ms = 10;
	r.on_idle = stop_now;
	r.arg = &idles;
	assert_int_equal(pk_jsonl_next(&r, &line, &len), PK_JSONL_STOP);
	pk_jsonl_release(&r);
	pk_stop = 0;
	close(fds[1]);
}

static void
test_missing_file(void **state)
{
	struct pk_jsonl r;

	(void)state;
	assert_int_equal(pk_jsonl_open(&r, "/nonexistent/x.jsonl"), -1);
}

static void
test_parse_and_bad(void **state)
{
	struct pk_jsonl r;
	struct pk_bad b = { 0, 0 };
	json_t *j;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.name = "t.jsonl";
	r.lineno = 7;
	j = pk_jsonl_parse(&b, &r, "{\"a\":1}", 7);
	assert_non_null(j);
	json_decref(j);
	assert_null(pk_jsonl_parse(&b, &r, "[1]", 3));
	assert_null(pk_jsonl_parse(&b, &r, "{", 1));
	assert_int_equal(b.count, 2);
	assert_int_equal(pk_bad_finish(&b), 3);
	b.count = 0;
	assert_int_equal(pk_bad_finish(&b), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_many_lines_across_chunks),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_stop_mid_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_parse_and_bad),
	};

	return cmocka_run_group_tests_name("pk_jsonl", tests, NULL, NULL);
}
