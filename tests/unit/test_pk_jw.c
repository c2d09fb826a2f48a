/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "mock.h"
#include "pk_jw.h"

static const char *
text(struct pk_jw *w)
{
	pk_jw_putc(w, '\0');
	w->len--;
	return w->buf;
}

static void
test_record(void **state)
{
	struct pk_jw w;

	(void)state;
	pk_jw_init(&w, 16);
	pk_jw_reset(&w);
	pk_jw_obj_begin(&w, NULL);
	pk_jw_str(&w, "type", "sample");
	pk_jw_num(&w, "ts", 1732300000.125, 6);
	pk_jw_obj_begin(&w, "cpu");
	pk_jw_num(&w, "util", 78.75, 2);
	pk_jw_u64(&w, "ncpu", 4);
	pk_jw_arr_begin(&w, "cores");
	pk_jw_obj_begin(&w, NULL);
	pk_jw_u64(&w, "cpu", 0);
	pk_jw_obj_end(&w);
	pk_jw_obj_begin(&w, NULL);
	pk_jw_u64(&w, "cpu", 1);
	pk_jw_obj_end(&w);
	pk_jw_arr_end(&w);
	pk_jw_obj_end(&w);
	pk_jw_obj_begin(&w, "empty");
	pk_jw_obj_end(&w);
	pk_jw_bool(&w, "gone", 1);
	pk_jw_bool(&w, "ok", 0);
	pk_jw_i64(&w, "neg", -42);
	pk_jw_obj_end(&w);
	assert_false(w.oom);
	assert_string_equal(text(&w),
	    "{\"type\":\"sample\",\"ts\":1732300000.125,\"cpu\":{\"util\":78.75,"
	    "\"ncpu\":4,\"cores\":[{\"cpu\":0},{\"cpu\":1}]},\"empty\":{},"
	    "\"gone\":true,\"ok\":false,\"neg\":-42}");
	pk_jw_release(&w);
}

static void
test_numbers(void **state)
{
	static const struct { double v; int d; const char *s; } cases[] = {
		{ 0, 2, "0" }, { 100, 2, "100" }, { 33.333333, 2, "33.33" },
		{ 0.005, 2, "0.01" }, { 0.004, 2, "0" }, { -5, 3, "-5" },
		{ -0.0001, 2, "0" }, { 81.234, 3, "81.234" }, { 1.05, 1, "1.1" },
		{ 0.000123, 6, "0.000123" }, { 1024000, 1, "1024000" },
		{ 1e300, 2, "1.0000000000000001e+300" }, { 2.5, 0, "3" },
		{ 12.1, 12, "12.1" }, { 7, -1, "7" },
	};
	struct pk_jw w;
	size_t i;

	(void)state;
	pk_jw_init(&w, 64);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pk_jw_reset(&w);
		pk_jw_put_num(&w, cases[i].v, cases[i].d);
		if (strcmp(text(&w), cases[i].s) != 0)
			fail_msg("%g with %d decimals: got '%s', want '%s'",
			    cases[i].v, cases[i].d, w.buf, cases[i].s);
	}
	pk_jw_reset(&w);
	pk_jw_put_u64(&w, UINT64_MAX);
	assert_string_equal(text(&w), "18446744073709551615");
	pk_jw_reset(&w);
	pk_jw_i64(&w, NULL, INT64_MIN);
	assert_string_equal(text(&w), "-9223372036854775808");
	pk_jw_release(&w);
}

static void
test_escaping(void **state)
{
	struct pk_jw w;
	json_error_t err;
	json_t *j;

	(void)state;
	pk_jw_init(&w, 8);
	pk_jw_reset(&w);
	pk_jw_obj_begin(&w, NULL);
	pk_jw_str(&w, "comm", "a\"b\\c\n\t\x01 \xc3\xa9 \xff\xfe \xe2\x82 "
	    "\xed\xa0\x80 \xf0\x9f\x98\x80");
	pk_jw_str(&w, "k\"ey", "");
	pk_jw_obj_end(&w);
	assert_string_equal(text(&w),
	    "{\"comm\":\"a\\\"b\\\\c\\n\\t\\u0001 \xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd "
	    "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
	    "\xf0\x9f\x98\x80\",\"k\\\"ey\":\"\"}");
	/* jansson, which rejects invalid UTF-8, reads it back. */
	j = json_loadb(w.buf, w.len, 0, &err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "k\"ey")), "");
	json_decref(j);
	pk_jw_release(&w);
}

/* A steady state of same-shaped records allocates nothing. */
static void
test_no_allocation_in_steady_state(void **state)
{
	struct pk_jw w;
	unsigned long before;
	size_t cap;
	int i, k;

	(void)state;
	pk_jw_init(&w, 32);
	for (i = 0; i < 100; i++) {
		if (i == 2) {
			before = pk_mock_malloc_count;
			cap = w.cap;
		}
		pk_jw_reset(&w);
		pk_jw_obj_begin(&w, NULL);
		for (k = 0; k < 50; k++)
			pk_jw_num(&w, "value", i * 1.5 + k, 2);
		pk_jw_obj_end(&w);
	}
	assert_int_equal(pk_mock_malloc_count, before);
	assert_int_equal(w.cap, cap);
	assert_false(w.oom);
	pk_jw_release(&w);
}

static void
test_init_failure(void **state)
{
	struct pk_jw w;

	(void)state;
	pk_mock_malloc_fail_after = 0;
	pk_jw_init(&w, 64);
	pk_mock_malloc_fail_after = -1;
	assert_true(w.oom);
	pk_jw_reset(&w);
	pk_jw_str(&w, "a", "b");
	assert_int_equal(w.len, 0);
	pk_jw_release(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_no_allocation_in_steady_state),
		cmocka_unit_test(test_init_failure),
	};

	return cmocka_run_group_tests_name("pk_jw", tests, NULL, NULL);
}
