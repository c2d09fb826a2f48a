/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pk_hash.h"
#include "pk_bench_stats.h"

#define NEAR(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

/* Welch's example 1 on Wikipedia: t = -2.46, df = 24.99, p = 0.021. */
static const double wa[] = { 27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1,
    21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4 };
static const double wb[] = { 27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0,
    24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4 };

static void
test_summary(void **state)
{
	double x[] = { 5, 1, 4, 2, 3, 100 };
	double tmp[12];
	struct pk_bench_summary s;

	(void)state;
	pk_bench_summarize(x, 6, 0.95, tmp, &s);
	assert_int_equal(s.n, 6);
	NEAR(s.mean, 115.0 / 6, 1e-12);
	NEAR(s.median, 3.5, 1e-12);
	NEAR(s.min, 1, 0);
	NEAR(s.max, 100, 0);
	/* |x - 3.5| = 1.5 2.5 0.5 1.5 0.5 96.5: median 1.5. */
	NEAR(s.mad, 1.5, 1e-12);
	/* 100 is the one outlier: 0.6745 * 96.5 / 1.5 = 43.4. */
	assert_int_equal(s.outliers, 1);
	/* Jitter: (4 + 3 + 2 + 1 + 97) / 5. */
	NEAR(s.jitter, 107.0 / 5, 1e-12);
	NEAR(s.cv, s.sd / s.mean, 1e-12);
	/* The interval is symmetric around the mean with t(0.975, 5) = 2.5706. */
	NEAR(s.ci_high - s.mean, 2.5706 * s.sd / sqrt(6), 1e-3);
	NEAR(s.mean - s.ci_low, s.ci_high - s.mean, 1e-12);
	/* Type 7 quantiles: p95 of 1 2 3 4 5 100 is 5 + 0.75 * 95. */
	NEAR(s.p95, 5 + 0.75 * 95, 1e-9);
	x[5] = 6;
	pk_bench_summarize(x, 6, 0.95, tmp, &s);
	assert_int_equal(s.outliers, 0);
	pk_bench_summarize(x, 0, 0.95, tmp, &s);
	assert_true(isnan(s.mean));
	pk_bench_summarize(x, 1, 0.95, tmp, &s);
	NEAR(s.mean, 5, 0);
	assert_true(isnan(s.ci_low));
}

static void
test_outliers(void **state)
{
	double x[] = { 10, 11, 10, 12, 11, 50, 10, 1 };
	double tmp[16], out[8];
	size_t k;

	(void)state;
	k = pk_bench_drop_outliers(x, 8, PK_BENCH_OUTLIER_Z, tmp, out);
	assert_int_equal(k, 6);
	NEAR(out[5], 10, 0);
	NEAR(pk_bench_modz(3, 3, 0), 0, 0);
	assert_true(isinf(pk_bench_modz(4, 3, 0)));
	NEAR(pk_bench_modz(5, 3, 0.6745), 2, 1e-12);
}

static void
test_welch(void **state)
{
	struct pk_bench_test r;
	struct pk_bench_summary a, b;
	double tmp[30], m1, s1, m2, s2;

	(void)state;
	pk_bench_summarize(wa, 15, 0.95, tmp, &a);
	pk_bench_summarize(wb, 15, 0.95, tmp, &b);
	m1 = a.mean, s1 = a.sd, m2 = b.mean, s2 = b.sd;
	NEAR(m1, 20.82, 1e-9);
	NEAR(s2, 1.952605097470215, 1e-9);
	assert_int_equal(pk_bench_welch(m1, s1, 15, m2, s2, 15, &r), 0);
	NEAR(r.stat, -2.455356398286006, 1e-9);
	NEAR(r.df, 24.98852929023142, 1e-9);
	NEAR(r.p, 0.021, 0.0006);
	/* Symmetric. */
	assert_int_equal(pk_bench_welch(m2, s2, 15, m1, s1, 15, &r), 0);
	NEAR(r.stat, 2.455356398286006, 1e-9);
	/* No spread. */
	assert_int_equal(pk_bench_welch(1, 0, 5, 1, 0, 5, &r), 0);
	NEAR(r.p, 1, 0);
	assert_int_equal(pk_bench_welch(1, 0, 5, 2, 0, 5, &r), 0);
	NEAR(r.p, 0, 0);
	assert_int_equal(pk_bench_welch(1, 1, 1, 2, 1, 5, &r), -1);
}

static void
test_mannwhitney(void **state)
{
	double x[] = { 1, 2, 3 }, y[] = { 4, 5, 6 };
	double tx[] = { 1, 2, 2, 3, 5 }, ty[] = { 2, 3, 4, 4, 6, 7 };
	double tmp[16];
	size_t idx[16];
	struct pk_bench_test r;

	(void)state;
	/* scipy.stats.mannwhitneyu(x, y, method="asymptotic"): U 0, p 0.08086. */
	assert_int_equal(pk_bench_mannwhitney(x, 3, y, 3, tmp, idx, &r), 0);
	NEAR(r.u, 0, 0);
	NEAR(r.stat, -1.7457431218879391, 1e-9);
	NEAR(r.p, 0.0808555983700523, 1e-9);
	assert_int_equal(pk_bench_mannwhitney(y, 3, x, 3, tmp, idx, &r), 0);
	NEAR(r.u, 9, 0);
	NEAR(r.p, 0.0808555983700523, 1e-9);
	/* Ties: average ranks and the tie-corrected variance. */
	assert_int_equal(pk_bench_mannwhitney(tx, 5, ty, 6, tmp, idx, &r), 0);
	NEAR(r.u, 6.5, 1e-12);
	NEAR(r.stat, -1.4809275530712105, 1e-9);
	NEAR(r.p, 0.13862587987892772, 1e-9);
	/* All equal: no evidence. */
	assert_int_equal(pk_bench_mannwhitney(x, 1, x, 1, tmp, idx, &r), 0);
	NEAR(r.p, 1, 0);
	assert_int_equal(pk_bench_mannwhitney(x, 0, y, 3, tmp, idx, &r), -1);
}

static void
test_ratio(void **state)
{
	double r, sd, lo, hi;

	(void)state;
	pk_bench_ratio(12, 0.3, 10, 0.4, NAN, 0.95, &r, &sd, &lo, &hi);
	NEAR(r, 1.2, 1e-12);
	/* 1.2 * sqrt(0.025^2 + 0.04^2) */
	NEAR(sd, 1.2 * sqrt(0.025 * 0.025 + 0.04 * 0.04), 1e-12);
	/* Symmetric on the log scale: r exp(+-1.96 rel). */
	NEAR(hi, 1.2 * exp(1.959964 * sqrt(0.025 * 0.025 + 0.04 * 0.04)),
	    1e-5);
	NEAR(lo * hi, r * r, 1e-12);
	/*
	 * A wide interval: r - 1.96 sd would be -0.58, a negative ratio of
	 * two durations.
	 */
	pk_bench_ratio(1, 0.8, 1, 0.1, NAN, 0.95, &r, &sd, &lo, &hi);
	NEAR(sd, sqrt(0.65), 1e-12);
	assert_true(lo > 0);
	NEAR(lo, exp(-1.959964 * sqrt(0.65)), 1e-5);
	NEAR(lo * hi, 1, 1e-12);
}

static void
test_fnv(void **state)
{
	(void)state;
	/* Published FNV-1a 64 test vectors. */
	assert_true(pk_hash_fnv1a(PK_HASH_FNV_INIT, "", 0) ==
	    0xcbf29ce484222325ULL);
	assert_true(pk_hash_fnv1a(PK_HASH_FNV_INIT, "a", 1) ==
	    0xaf63dc4c8601ec8cULL);
	assert_true(pk_hash_fnv1a(pk_hash_fnv1a(PK_HASH_FNV_INIT, "foo",
	    3), "bar", 3) == pk_hash_fnv1a(PK_HASH_FNV_INIT, "foobar", 6));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_outliers),
		cmocka_unit_test(test_welch),
		cmocka_unit_test(test_mannwhitney),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_fnv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
