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

/*
 * /proc/interrupts of the 2-vCPU VM where the loop woke late on CPU 1:
 * the device interrupts per CPU (LOC, RES and the like not counted), the
 * busiest CPU and its busiest device, and advice to pin elsewhere.
 */
static void
test_irqs(void **state)
{
	json_t *rep, *irqs, *counts, *r;
	const char *advice = NULL;
	size_t i;

	(void)state;
	rep = pk_rtcheck_report(SYSROOT);
	assert_non_null(rep);
	irqs = json_object_get(rep, "irqs");
	assert_non_null(irqs);
	counts = json_object_get(irqs, "device_per_cpu");
	assert_int_equal(json_array_size(counts), 2);
	assert_int_equal(json_integer_value(json_array_get(counts, 0)),
	    41 + 1 + 3741);
	assert_int_equal(json_integer_value(json_array_get(counts, 1)),
	    294994 + 8490);
	assert_int_equal(json_integer_value(json_object_get(irqs,
	    "busiest_cpu")), 1);
	assert_int_equal(json_integer_value(json_object_get(irqs,
	    "quietest_cpu")), 0);
	assert_string_equal(json_string_value(json_object_get(irqs,
	    "busiest_irq")), "virtio1-req.0");
	json_array_foreach(json_object_get(rep, "recommendations"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "check")),
		    "irq") == 0)
			advice = json_string_value(json_object_get(r,
			    "advice"));
	assert_non_null(advice);
	assert_string_equal(advice, "CPU 1 takes 99% of the device "
	    "interrupts (most from virtio1-req.0): run the loop on CPU 0, "
	    "which takes the fewest (rt-loop -a 0), or move them with "
	    "/proc/irq/N/smp_affinity_list");
	json_decref(rep);
	/* No /proc/interrupts: no irqs key, no advice. */
	rep = pk_rtcheck_report("/nonexistent-sysroot");
	assert_null(json_object_get(rep, "irqs"));
	assert_false(has_check(rep, "info", "irq"));
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
		cmocka_unit_test(test_irqs),
		cmocka_unit_test(test_empty_tree),
		cmocka_unit_test(test_dynamic_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
