/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>

#include <cmocka.h>

#include "pk_rtring.h"
#include "mock.h"

struct el {
	uint64_t seq;
	uint64_t check;
};

static void
test_fifo_full_empty(void **state)
{
	struct pk_rtring r;
	struct el e;
	uint64_t i;

	(void)state;
	assert_int_equal(pk_rtring_init(&r, 5, sizeof(e)), 0);
	assert_int_equal(pk_rtring_capacity(&r), 8);
	assert_int_equal(pk_rtring_pop(&r, &e), -1);
	for (i = 0; i < 8; i++) {
		e.seq = i;
		e.check = ~i;
		assert_int_equal(pk_rtring_push(&r, &e), 0);
	}
	assert_int_equal(pk_rtring_push(&r, &e), -1);
	assert_int_equal(pk_rtring_push(&r, &e), -1);
	assert_int_equal(pk_rtring_dropped(&r), 2);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pk_rtring_pop(&r, &e), 0);
		assert_int_equal(e.seq, i);
		assert_int_equal(e.check, ~i);
	}
	assert_int_equal(pk_rtring_pop(&r, &e), -1);
	/* Wrap around many times. */
	for (i = 0; i < 1000; i++) {
		e.seq = i;
		assert_int_equal(pk_rtring_push(&r, &e), 0);
		assert_int_equal(pk_rtring_pop(&r, &e), 0);
		assert_int_equal(e.seq, i);
	}
	pk_rtring_release(&r);
}

static void
test_no_allocation_after_init(void **state)
{
	struct pk_rtring r;
	struct el e = { 1, 2 };
	unsigned long before;
	int i;

	(void)state;
	assert_int_equal(pk_rtring_init(&r, 64, sizeof(e)), 0);
	before = pk_mock_malloc_count;
	for (i = 0; i < 10000; i++) {
		pk_rtring_push(&r, &e);
		pk_rtring_pop(&r, &e);
	}
	assert_int_equal(pk_mock_malloc_count, before);
	pk_rtring_release(&r);
}

#define STRESS_N 2000000ULL

static void *
producer(void *arg)
{
	struct pk_rtring *r = arg;
	struct el e;
	uint64_t i;

	for (i = 0; i < STRESS_N; i++) {
		e.seq = i;
		e.check = i * 0x9e3779b97f4a7c15ULL;
		while (pk_rtring_push(r, &e) != 0)
			sched_yield();
	}
	return NULL;
}

/*
 * Two threads, a small ring: every element arrives once, in order, intact.
 * (The producer retries on full here; rt-loop's producer never does.)
 */
static void
test_two_thread_stress(void **state)
{
	struct pk_rtring r;
	struct el e;
	pthread_t t;
	uint64_t want = 0;

	(void)state;
	assert_int_equal(pk_rtring_init(&r, 16, sizeof(e)), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, &r), 0);
	while (want < STRESS_N) {
		if (pk_rtring_pop(&r, &e) != 0) {
			sched_yield();
			continue;
		}
		if (e.seq != want || e.check != want * 0x9e3779b97f4a7c15ULL)
			fail_msg("element %llu: got seq %llu",
			    (unsigned long long)want, (unsigned long long)e.seq);
		want++;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(pk_rtring_pop(&r, &e), -1);
	pk_rtring_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_full_empty),
		cmocka_unit_test(test_no_allocation_after_init),
		cmocka_unit_test(test_two_thread_stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
