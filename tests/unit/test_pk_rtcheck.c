/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pk_rtcheck.h"

#define SYSROOT "tests/fixtures/rt-loop/sysroot"

static int
has_check(json_t *rep, const char *level, const char *check)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(rep, "recommendations"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "level")),
		    level) == 0 && strcmp(json_string_value(
		    json_object_get(r, "check")), check) == 0)
			return 1;
	return 0;
}

/* A fixture machine: PREEMPT_RT, CPU 1 isolated, SMT on, no capabilities. */
static void
test_fixture_tree(void **state)
{
	json_t *rep, *k;

	(void)state;
	rep = pk_rtcheck_report(SYSROOT);
	assert_non_null(rep);
	k = json_object_get(rep, "kernel");
	assert_string_equal(json_string_value(json_object_get(k, "preempt")),
	    "PREEMPT_RT");
	assert_string_equal(json_string_value(json_object_get(k,
	    "preempt_param")), "full");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(rep, "cpus"), "isolated")), "1");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(rep, "governor"), "cpu1")), "powersave");
	assert_int_equal(json_integer_value(json_object_get(rep,
	    "sched_rt_runtime_us")), 950000);
	assert_true(json_is_false(json_object_get(json_object_get(rep,
	    "capabilities"), "sys_nice")));
	assert_false(has_check(rep, "warn", "preempt"));
	assert_false(has_check(rep, "info", "isolcpus"));
	assert_true(has_check(rep, "info", "nohz_full"));
	assert_true(has_check(rep, "warn", "governor"));
	assert_true(has_check(rep, "warn", "smt"));
	json_decref(rep);
}

/* Nothing readable: the report still has every key, and says not RT. */
static void
test_empty_tree(void **state)
{
	static const char *keys[] = { "type", "kernel", "cpus", "governor",
	    "rlimit", "capabilities", "sched_fifo", "recommendations", "ready",
	    NULL };
	json_t *rep;
	size_t i;

	(void)state;
	rep = pk_rtcheck_report("/nonexistent-sysroot");
	assert_non_null(rep);
	for (i = 0; keys[i] != NULL; i++)
		if (json_object_get(rep, keys[i]) == NULL)
			fail_msg("no key '%s'", keys[i]);
	assert_true(has_check(rep, "warn", "preempt"));
	assert_true(has_check(rep, "info", "isolcpus"));
	assert_int_equal(json_object_size(json_object_get(rep, "governor")), 0);
	json_decref(rep);
}

/*
 * PREEMPT_DYNAMIC booted with preempt=full but switched to voluntary at
 * run time: debugfs tells, and the advice asks for full.
 */
static void
test_dynamic_mode(void **state)
{
	json_t *rep, *k, *r;
	size_t i;
	int found = 0;

	(void)state;
	rep = pk_rtcheck_report("tests/fixtures/rt-loop/sysroot-dynamic");
	assert_non_null(rep);
	k = json_object_get(rep, "kernel");
	assert_string_equal(json_string_value(json_object_get(k, "preempt")),
	    "PREEMPT_DYNAMIC");
	assert_string_equal(json_string_value(json_object_get(k,
	    "preempt_dynamic")), "voluntary");
	json_array_foreach(json_object_get(rep, "recommendations"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "check")),
		    "preempt") == 0) {
			assert_non_null(strstr(json_string_value(
			    json_object_get(r, "advice")), "preempt=full"));
			found = 1;
		}
	assert_true(found);
	json_decref(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_tree),
		cmocka_unit_test(test_empty_tree),
		cmocka_unit_test(test_dynamic_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
