/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "pk_evclock.h"

static void
test_in_order_and_jumps(void **state)
{
	struct pk_evclock c;
	double back = -1;

	(void)state;
	pk_evclock_init(&c);
	assert_true(isnan(c.clock));
	assert_int_equal(pk_evclock_see(&c, 100, 10, &back), PK_EVCLOCK_ON);
	assert_true(c.clock == 100);
	/* Within the span behind: in time, the clock stays. */
	assert_int_equal(pk_evclock_see(&c, 95, 10, &back), PK_EVCLOCK_ON);
	assert_true(c.clock == 100);
	assert_int_equal(pk_evclock_see(&c, 90, 10, &back), PK_EVCLOCK_ON);
	/* A jump of days forward is just time. */
	assert_int_equal(pk_evclock_see(&c, 100 + 3 * 86400, 10, &back),
	    PK_EVCLOCK_ON);
	assert_true(c.clock == 100 + 3 * 86400);
	assert_true(back == -1);
}

static void
test_stray_late_is_late(void **state)
{
	struct pk_evclock c;
	double back = -1;
	int i;

	(void)state;
	pk_evclock_init(&c);
	pk_evclock_see(&c, 1000, 10, &back);
	/* Late records, each followed by one in time, never make a step. */
	for (i = 0; i < 10; i++) {
		assert_int_equal(pk_evclock_see(&c, 500, 10, &back),
		    PK_EVCLOCK_LATE);
		assert_int_equal(pk_evclock_see(&c, 1000 + i, 10, &back),
		    PK_EVCLOCK_ON);
	}
	/* Two in a row are still late. */
	assert_int_equal(pk_evclock_see(&c, 500, 10, &back), PK_EVCLOCK_LATE);
	assert_int_equal(pk_evclock_see(&c, 501, 10, &back), PK_EVCLOCK_LATE);
	assert_true(c.clock == 1009);
	assert_true(back == -1);
}

static void
test_step_back(void **state)
{
	struct pk_evclock c;
	double back = -1;

	(void)state;
	pk_evclock_init(&c);
	pk_evclock_see(&c, 86400 + 100, 60, &back);
	assert_int_equal(pk_evclock_see(&c, 100, 60, &back), PK_EVCLOCK_LATE);
	assert_int_equal(pk_evclock_see(&c, 101, 60, &back), PK_EVCLOCK_LATE);
	assert_int_equal(pk_evclock_see(&c, 102, 60, &back), PK_EVCLOCK_STEP);
	assert_true(back == 86400 - 2);
	assert_true(c.clock == 102);
	/* The new timeline goes on in time. */
	assert_int_equal(pk_evclock_see(&c, 103, 60, &back), PK_EVCLOCK_ON);
	assert_int_equal(pk_evclock_see(&c, 50, 60, &back), PK_EVCLOCK_ON);
	assert_true(c.clock == 103);
	/* The step starts from the newest of the run, not its last. */
	pk_evclock_init(&c);
	pk_evclock_see(&c, 10000, 60, &back);
	pk_evclock_see(&c, 200, 60, &back);
	pk_evclock_see(&c, 210, 60, &back);
	assert_int_equal(pk_evclock_see(&c, 205, 60, &back), PK_EVCLOCK_STEP);
	assert_true(c.clock == 210);
	assert_true(back == 10000 - 210);
	/* Old records from different times are no timeline: all late. */
	pk_evclock_init(&c);
	pk_evclock_see(&c, 10000, 60, &back);
	assert_int_equal(pk_evclock_see(&c, 9900, 60, &back), PK_EVCLOCK_LATE);
	assert_int_equal(pk_evclock_see(&c, 5000, 60, &back), PK_EVCLOCK_LATE);
	assert_int_equal(pk_evclock_see(&c, 5001, 60, &back), PK_EVCLOCK_LATE);
	assert_int_equal(pk_evclock_see(&c, 100, 60, &back), PK_EVCLOCK_LATE);
	assert_int_equal(pk_evclock_see(&c, 9000, 60, &back), PK_EVCLOCK_LATE);
	assert_true(c.clock == 10000);
	assert_int_equal(pk_evclock_see(&c, 9001, 60, &back), PK_EVCLOCK_LATE);
	assert_int_equal(pk_evclock_see(&c, 9002, 60, &back), PK_EVCLOCK_STEP);
	assert_true(c.clock == 9002);
	assert_true(back == 998);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_and_jumps),
		cmocka_unit_test(test_stray_late_is_late),
		cmocka_unit_test(test_step_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
