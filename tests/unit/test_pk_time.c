/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "pk_num.h"
#include "pk_time.h"

static void
test_durations(void **state)
{
	static const struct { const char *s; double v; } ok[] = {
		{ "500ms", 0.5 }, { "30s", 30 }, { "5m", 300 }, { "1h", 3600 },
		{ "2d", 172800 }, { "250us", 250e-6 }, { "100ns", 100e-9 },
		{ "1.5", 1.5 }, { "1m30s", 90 }, { "0", 0 }, { "1h1m1s", 3661 },
		{ "1w", 604800 },
	};
	static const char *bad[] = { "", "abc", "-1s", "5x", "1s5", "s",
	    "1e400s", " 1s", "nan", "inf", NULL };
	double v;
	int64_t ns;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(pk_duration_parse(ok[i].s, &v), 0);
		assert_true(fabs(v - ok[i].v) < 1e-12 * (1 + ok[i].v));
	}
	for (i = 0; bad[i] != NULL; i++)
		if (pk_duration_parse(bad[i], &v) != -1)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(pk_duration_parse_ns("1ms", &ns), 0);
	assert_int_equal(ns, 1000000);
}

static void
test_numbers(void **state)
{
	const char *why;
	uint64_t u;
	int64_t i;
	double d;

	(void)state;
	assert_int_equal(pk_parse_u64("42", 0, 100, &u, &why), 0);
	assert_int_equal(u, 42);
	assert_int_equal(pk_parse_u64("101", 0, 100, &u, &why), -1);
	assert_string_equal(why, "too large");
	assert_int_equal(pk_parse_u64("-1", 0, 100, &u, &why), -1);
	assert_int_equal(pk_parse_u64("4x", 0, 100, &u, &why), -1);
	assert_string_equal(why, "invalid");
	assert_int_equal(pk_parse_u64("99999999999999999999999", 0, UINT64_MAX, &u, &why), -1);
	assert_int_equal(pk_parse_i64("-5", -10, 10, &i, &why), 0);
	assert_int_equal(i, -5);
	assert_int_equal(pk_parse_i64("-11", -10, 10, &i, &why), -1);
	assert_string_equal(why, "too small");
	assert_int_equal(pk_parse_double("2.5", 0, 10, &d, &why), 0);
	assert_true(d == 2.5);
	assert_int_equal(pk_parse_double("nan", 0, 10, &d, &why), -1);
	assert_int_equal(pk_parse_double("", 0, 10, &d, &why), -1);
}

static void
test_ts_plausible(void **state)
{
	double limit = 0, now = pk_now();

	(void)state;
	assert_true(pk_ts_plausible(1732300000.5, &limit));
	assert_true(limit >= now + PK_TS_AHEAD_MAX);
	assert_true(pk_ts_plausible(now + 3600, &limit));
	assert_true(pk_ts_plausible(-5, &limit));
	/* Milliseconds since the epoch, and far futures. */
	assert_false(pk_ts_plausible(now * 1000, &limit));
	assert_false(pk_ts_plausible(1e300, &limit));
	assert_false(pk_ts_plausible(now + 2 * PK_TS_AHEAD_MAX, &limit));
}

static void
test_clocks(void **state)
{
	double a, b;

	(void)state;
	a = pk_mono();
	b = pk_mono();
	assert_true(b >= a);
	assert_true(pk_now() > 1.6e9);
	assert_true(pk_mono_ns() > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_ts_plausible),
	};

	return cmocka_run_group_tests_name("pk_time", tests, NULL, NULL);
}
