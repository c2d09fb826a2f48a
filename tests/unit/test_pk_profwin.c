/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pk_profwin.h"

#define NEAR(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

static void
test_stats(void **state)
{
	struct pk_profwin w;
	struct pk_profwin_stats st;
	double scratch[16];
	int i;

	(void)state;
	pk_profwin_init(&w, 60, 16, 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(pk_profwin_add(&w, i, (i + 1) * 10), 0);
	pk_profwin_stats(&w, scratch, &st);
	assert_int_equal(st.n, 5);
	NEAR(st.mean, 30, 1e-12);
	NEAR(st.min, 10, 0);
	NEAR(st.max, 50, 0);
	NEAR(st.p50, 30, 1e-12);
	NEAR(st.p95, 48, 1e-12);
	NEAR(st.sd, sqrt(250.0), 1e-9);
	NEAR(st.trend_per_min, 600, 1e-9);
	NEAR(st.r2, 1, 1e-12);
	pk_profwin_release(&w);
}

static void
test_expiry_and_late(void **state)
{
	struct pk_profwin w;
	double scratch[64];
	int i;

	(void)state;
	pk_profwin_init(&w, 10, 64, 0);
	for (i = 0; i < 30; i++)
		pk_profwin_add(&w, i, i);
	/* Only ts >= 29 - 10 are kept. */
	assert_int_equal(w.n, 11);
	NEAR(pk_profwin_quantile(&w, 0, scratch), 19, 0);
	/* Late: older than the clock minus the span. */
	assert_int_equal(pk_profwin_add(&w, 18, 1000), 1);
	assert_int_equal(w.n, 11);
	/* Out of order within the window: kept. */
	assert_int_equal(pk_profwin_add(&w, 25.5, 1000), 0);
	assert_int_equal(w.n, 12);
	NEAR(pk_profwin_quantile(&w, 1, scratch), 1000, 0);
	/* The clock moves on; everything expires. */
	pk_profwin_expire(&w, 100);
	assert_int_equal(w.n, 0);
	assert_true(isnan(pk_profwin_mean(&w)));
	pk_profwin_release(&w);
}

static void
test_cap(void **state)
{
	struct pk_profwin w;
	double scratch[8];
	int i;

	(void)state;
	pk_profwin_init(&w, 1e9, 8, 0);
	for (i = 0; i < 100; i++)
		pk_profwin_add(&w, i, i);
	assert_int_equal(w.n, 8);
	assert_int_equal(w.cap, 8);
	assert_int_equal(w.dropped, 92);
	NEAR(pk_profwin_quantile(&w, 0, scratch), 92, 0);
	NEAR(pk_profwin_mean(&w), 95.5, 1e-12);
	pk_profwin_release(&w);
}

static void
test_ewma_tau(void **state)
{
	struct pk_profwin w;
	int i;

	(void)state;
	pk_profwin_init(&w, 600, 1024, 10);
	pk_profwin_add(&w, 0, 0);
	for (i = 1; i <= 10; i++)
		pk_profwin_add(&w, i, 100);
	/* A step after one time constant: 1 - e^-1 of the way. */
	NEAR(w.ewma.value, 100 * (1 - exp(-1.0)), 1e-9);
	pk_profwin_release(&w);
}

static void
test_agg(void **state)
{
	struct pk_profagg a;
	int i;

	(void)state;
	pk_profagg_init(&a);
	for (i = 1; i <= 1000; i++)
		pk_profagg_add(&a, 2000 - i, i);
	NEAR(a.w.mean, 500.5, 1e-9);
	NEAR(a.first_t, 1000, 0);
	NEAR(a.last_t, 1999, 0);
	NEAR(pk_p2_get(&a.p50), 500, 10);
	NEAR(pk_p2_get(&a.p99), 990, 10);
}

static void
test_fmtnum(void **state)
{
	char b[40];

	(void)state;
	pk_profwin_fmtnum(b, 0);
	assert_string_equal(b, "0.0");
	pk_profwin_fmtnum(b, 60);
	assert_string_equal(b, "60.0");
	pk_profwin_fmtnum(b, 0.2);
	assert_string_equal(b, "0.2");
	pk_profwin_fmtnum(b, -7.61104);
	assert_string_equal(b, "-7.611");
	pk_profwin_fmtnum(b, 100476.05);
	assert_string_equal(b, "100476.05");
	pk_profwin_fmtnum(b, 0.00004);
	assert_string_equal(b, "0.0");
	pk_profwin_fmtnum(b, 0.00005);
	assert_string_equal(b, "0.0001");
	pk_profwin_fmtnum(b, 1732300160.1);
	assert_string_equal(b, "1732300160.1");
	pk_profwin_fmtnum(b, 1732300000.125);
	assert_string_equal(b, "1732300000.125");
	pk_profwin_fmtnum(b, 1e300);
	assert_string_equal(b, "1e+300");
	assert_int_equal(pk_profwin_fmtnum(b, NAN), 4);
	assert_string_equal(b, "null");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_expiry_and_late),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_ewma_tau),
		cmocka_unit_test(test_agg),
		cmocka_unit_test(test_fmtnum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
