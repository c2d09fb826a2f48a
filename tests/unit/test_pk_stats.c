/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pk_stats.h"

#define NEAR(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

static void
test_welford(void **state)
{
	struct pk_welford w, a, b;
	double x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	int i;

	(void)state;
	pk_welford_init(&w);
	pk_welford_init(&a);
	pk_welford_init(&b);
	for (i = 0; i < 8; i++) {
		pk_welford_add(&w, x[i]);
		pk_welford_add(i < 3 ? &a : &b, x[i]);
	}
	NEAR(w.mean, 5, 1e-12);
	NEAR(pk_welford_var(&w), 32.0 / 7, 1e-12);
	NEAR(w.min, 2, 0);
	NEAR(w.max, 9, 0);
	pk_welford_merge(&a, &b);
	NEAR(a.mean, w.mean, 1e-12);
	NEAR(pk_welford_var(&a), pk_welford_var(&w), 1e-12);
	assert_int_equal(a.n, 8);
}

static void
test_ewma(void **state)
{
	struct pk_ewma e;

	(void)state;
	pk_ewma_init(&e, 0.5, 0);
	NEAR(pk_ewma_add(&e, 0, 10), 10, 0);
	NEAR(pk_ewma_add(&e, 1, 20), 15, 1e-12);
	/* Time-constant form: after one tau, 1 - 1/e of the step. */
	pk_ewma_init(&e, 0, 10);
	pk_ewma_add(&e, 0, 0);
	NEAR(pk_ewma_add(&e, 10, 100), 100 * (1 - exp(-1)), 1e-9);
}

static void
test_linreg(void **state)
{
	struct pk_linreg r;
	int i;

	(void)state;
	pk_linreg_init(&r);
	assert_true(isnan(pk_linreg_slope(&r)));
	for (i = 0; i < 100; i++)
		pk_linreg_add(&r, 1.7e9 + i, 3.0 + 0.25 * i);
	NEAR(pk_linreg_slope(&r), 0.25, 1e-9);
	NEAR(pk_linreg_r2(&r), 1, 1e-9);
	for (i = 0; i < 50; i++)
		pk_linreg_sub(&r, 1.7e9 + i, 3.0 + 0.25 * i);
	assert_int_equal(r.n, 50);
	NEAR(pk_linreg_slope(&r), 0.25, 1e-9);
}

static void
test_quantiles(void **state)
{
	double v[] = { 5, 1, 4, 2, 3 }, tmp[5];
	struct pk_p2 p;
	int i;

	(void)state;
	pk_sort_doubles(v, 5);
	NEAR(pk_quantile_sorted(v, 5, 0.5), 3, 0);
	NEAR(pk_quantile_sorted(v, 5, 0.25), 2, 0);
	NEAR(pk_quantile_sorted(v, 5, 0.9), 4.6, 1e-12);
	NEAR(pk_mad_sorted(v, 5, tmp), 1, 0);
	pk_p2_init(&p, 0.9);
	srand(1);
	for (i = 0; i < 100000; i++)
		pk_p2_add(&p, (double)rand() / RAND_MAX);
	NEAR(pk_p2_get(&p), 0.9, 0.01);
}

static void
test_distributions(void **state)
{
	(void)state;
	NEAR(pk_norm_quantile(0.975), 1.959963985, 1e-8);
	NEAR(pk_norm_quantile(0.5), 0, 1e-12);
	NEAR(pk_t_quantile(0.975, 10), 2.228138852, 1e-6);
	NEAR(pk_t_quantile(0.975, 1), 12.70620474, 1e-5);
	NEAR(pk_t_pvalue(2.228138852, 10), 0.05, 1e-7);
	NEAR(pk_t_pvalue(0, 5), 1, 1e-12);
}

static void
test_hist(void **state)
{
	struct pk_hist h, h2;
	unsigned long long i;

	(void)state;
	assert_int_equal(pk_hist_init(&h, 7, 1000000000ULL), 0);
	for (i = 1; i <= 100000; i++)
		pk_hist_add(&h, i);
	assert_int_equal(h.total, 100000);
	assert_int_equal(h.min, 1);
	assert_int_equal(h.max, 100000);
	/* Within 1/128 relative error. */
	NEAR((double)pk_hist_quantile(&h, 0.5), 50000, 50000.0 / 64);
	NEAR((double)pk_hist_quantile(&h, 0.99), 99000, 99000.0 / 64);
	assert_int_equal(pk_hist_quantile(&h, 1.0), 100000);
	assert_int_equal(pk_hist_quantile(&h, 0.00001), 1);
	/* Values beyond the range land in the last bucket, max stays exact. */
	pk_hist_add(&h, 5000000000ULL);
	assert_int_equal(pk_hist_quantile(&h, 1.0), 5000000000ULL);
	assert_int_equal(pk_hist_init(&h2, 7, 1000000000ULL), 0);
	pk_hist_add(&h2, 3);
	pk_hist_merge(&h2, &h);
	assert_int_equal(h2.total, 100002);
	pk_hist_release(&h);
	pk_hist_release(&h2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_welford),
		cmocka_unit_test(test_ewma),
		cmocka_unit_test(test_linreg),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_distributions),
		cmocka_unit_test(test_hist),
	};

	return cmocka_run_group_tests_name("pk_stats", tests, NULL, NULL);
}
