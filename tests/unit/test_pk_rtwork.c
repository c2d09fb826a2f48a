/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pk_rtwork.h"
#include "pk_time.h"
#include "mock.h"

static void
test_parse(void **state)
{
	static const char *bad[] = { "", "bogus", "spin", "spin:", "spin:0",
	    "spin:x", "mlp:1,2", "mlp:1,2,", "mlp:0,2,3", "mlp:1,2,3,4",
	    "mlp:5000,2,3", "constraints:", "constraints:-1", "nonex:3", NULL };
	struct pk_rtwork w;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(pk_rtwork_parse(&w, "none", err, sizeof(err)), 0);
	assert_int_equal(w.kind, PK_RTWORK_NONE);
	assert_int_equal(pk_rtwork_parse(&w, "spin:250", err, sizeof(err)), 0);
	assert_int_equal(w.kind, PK_RTWORK_SPIN);
	assert_int_equal(w.spin_ns, 250000);
	assert_int_equal(pk_rtwork_parse(&w, "mlp:16,64,4", err, sizeof(err)), 0);
	assert_int_equal(w.kind, PK_RTWORK_MLP);
	assert_int_equal(w.in, 16);
	assert_int_equal(w.hidden, 64);
	assert_int_equal(w.out, 4);
	assert_int_equal(pk_rtwork_parse(&w, "constraints:100", err,
	    sizeof(err)), 0);
	assert_int_equal(w.kind, PK_RTWORK_CONSTRAINTS);
	assert_int_equal(w.n, 100);
	for (i = 0; bad[i] != NULL; i++) {
		err[0] = '\0';
		if (pk_rtwork_parse(&w, bad[i], err, sizeof(err)) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(err[0] != '\0');
	}
}

/* After init, steps allocate nothing, and the results are deterministic. */
static void
test_steps_do_not_allocate(void **state)
{
	struct pk_rtwork a, b;
	unsigned long before;
	char err[256];
	uint64_t t;

	(void)state;
	assert_int_equal(pk_rtwork_parse(&a, "mlp:8,32,2", err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_init(&a, err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_parse(&b, "constraints:500", err,
	    sizeof(err)), 0);
	assert_int_equal(pk_rtwork_init(&b, err, sizeof(err)), 0);
	before = pk_mock_malloc_count;
	for (t = 0; t < 1000; t++) {
		assert_int_equal(pk_rtwork_step(&a, t), 0);
		assert_int_equal(pk_rtwork_step(&b, t), 0);
	}
	assert_int_equal(pk_mock_malloc_count, before);
	assert_true(a.sink == a.sink);	/* not NaN */
	assert_true(a.y[0] > -1.0f && a.y[0] < 1.0f);
	/* Some, not all, of 500 random half-spaces are violated. */
	assert_true(b.violations > 0);
	assert_true(b.violations < 500ULL * 1000);
	pk_rtwork_release(&a);
	pk_rtwork_release(&b);
}

static void
test_spin_takes_its_time(void **state)
{
	struct pk_rtwork w;
	char err[256];
	int64_t t0;

	(void)state;
	assert_int_equal(pk_rtwork_parse(&w, "spin:2000", err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_init(&w, err, sizeof(err)), 0);
	t0 = pk_mono_ns();
	assert_int_equal(pk_rtwork_step(&w, 0), 0);
	assert_true(pk_mono_ns() - t0 >= 2000000);
	pk_rtwork_release(&w);
}

static void
test_plugin_missing(void **state)
{
	struct pk_rtwork w;
	char err[256];

	(void)state;
	assert_int_equal(pk_rtwork_plugin(&w, "/nonexistent/x.so:args", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/x.so"));
	pk_rtwork_release(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_steps_do_not_allocate),
		cmocka_unit_test(test_spin_takes_its_time),
		cmocka_unit_test(test_plugin_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
