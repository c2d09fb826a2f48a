/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pk_quality.h"

#define NEAR(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

/* Feed one evaluation a second from t0; returns the number of changes. */
struct run {
	struct pk_quality_ctl c;
	struct pk_quality_change last;
	int changes;		/* not counting the start */
	int impacts;
	double t;
};

static int
feed(struct run *r, double pressure)
{
	struct pk_quality_change ch;
	struct pk_quality_impact im;
	int have, n;

	n = pk_quality_step(&r->c, r->t, pressure, NAN, &ch, &im, &have);
	if (n && ch.reason != PK_QUALITY_R_START) {
		r->changes++;
		r->last = ch;
	}
	if (have)
		r->impacts++;
	r->t += 1;
	return n && ch.reason != PK_QUALITY_R_START;
}

static void
start(struct run *r, int initial)
{
	struct pk_quality_params p;

	pk_quality_params_default(&p);
	p.initial = initial;
	memset(r, 0, sizeof(*r));
	pk_quality_init(&r->c, &p);
	r->t = 1000;
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(pk_quality_level_name(0), "ULTRA_LOW");
	assert_string_equal(pk_quality_level_name(4), "ULTRA_HIGH");
	assert_int_equal(pk_quality_level_parse("ultra-high"), 4);
	assert_int_equal(pk_quality_level_parse("MEDIUM"), 2);
	assert_int_equal(pk_quality_level_parse("1"), 1);
	assert_int_equal(pk_quality_level_parse("5"), -1);
	assert_int_equal(pk_quality_level_parse("max"), -1);
	assert_int_equal(pk_quality_level_parse(""), -1);
}

static void
test_norm(void **state)
{
	(void)state;
	NEAR(pk_quality_norm(60, 60, 95), 0, 0);
	NEAR(pk_quality_norm(77.5, 60, 95), 50, 1e-9);
	NEAR(pk_quality_norm(120, 60, 95), 100, 0);
	/* Inverted: fps, less is worse. */
	NEAR(pk_quality_norm(30, 25, 10), 0, 0);
	NEAR(pk_quality_norm(17.5, 25, 10), 50, 1e-9);
	NEAR(pk_quality_norm(5, 25, 10), 100, 0);
	assert_true(isnan(pk_quality_norm(NAN, 0, 1)));
}

static void
test_hover_no_change(void **state)
{
	struct run r;
	int i;

	(void)state;
	/* ±5 around the step-up threshold (50) and inside the dead band. */
	start(&r, PK_QUALITY_MEDIUM);
	for (i = 0; i < 600; i++)
		feed(&r, i % 2 ? 55 : 45);
	assert_int_equal(r.changes, 0);
	start(&r, PK_QUALITY_MEDIUM);
	for (i = 0; i < 600; i++)
		feed(&r, i % 2 ? 67.5 : 57.5);
	assert_int_equal(r.changes, 0);
}

static void
test_overload_two_samples(void **state)
{
	struct run r;
	int i;

	(void)state;
	start(&r, PK_QUALITY_HIGH);
	for (i = 0; i < 30; i++)
		assert_int_equal(feed(&r, 60), 0);
	/* The first overloaded sample alone does not decide ... */
	assert_int_equal(feed(&r, 90), 0);
	/* ... the second does. */
	assert_int_equal(feed(&r, 90), 1);
	assert_int_equal(r.last.reason, PK_QUALITY_R_HIGH);
	assert_int_equal(r.last.prev, PK_QUALITY_HIGH);
	assert_int_equal(r.last.level, PK_QUALITY_MEDIUM);
	/* A single spike does not step down. */
	start(&r, PK_QUALITY_HIGH);
	for (i = 0; i < 30; i++)
		feed(&r, i == 15 ? 90 : 60);
	assert_int_equal(r.changes, 0);
}

static void
test_recovery_one_level_after_dwell(void **state)
{
	struct run r;
	double prev_t = -1;
	int i, prev_level = PK_QUALITY_ULTRA_LOW;

	(void)state;
	start(&r, PK_QUALITY_ULTRA_LOW);
	for (i = 0; i < 300; i++) {
		double before = r.t;

		if (feed(&r, 20)) {
			assert_int_equal(r.last.level, prev_level + 1);
			assert_int_equal(r.last.reason, PK_QUALITY_R_LOW);
			if (prev_t >= 0)
				assert_true(before - prev_t >= 10);
			prev_t = before;
			prev_level = r.last.level;
		}
	}
	assert_int_equal(r.c.level, PK_QUALITY_ULTRA_HIGH);
	assert_int_equal(r.changes, 4);
}

static void
test_undone_step_up_doubles_dwell(void **state)
{
	struct run r;
	int i;

	(void)state;
	start(&r, PK_QUALITY_MEDIUM);
	/*
	 * No impact learning here: the measured relief of the step down
	 * would (rightly) forbid the next step up; see test_impact_*.
	 */
	r.c.p.impact_after = 1e6;
	for (i = 0; i < 30 && r.changes == 0; i++)
		feed(&r, 20);
	assert_int_equal(r.changes, 1);
	assert_int_equal(r.c.level, PK_QUALITY_HIGH);
	/* The higher level cannot be held. */
	feed(&r, 90);
	feed(&r, 90);
	assert_int_equal(r.changes, 2);
	assert_int_equal(r.last.level, PK_QUALITY_MEDIUM);
	assert_true(r.last.undone);
	NEAR(r.c.dwell[PK_QUALITY_HIGH], 20, 0);
	NEAR(r.last.dwell, 20, 0);
	/* Again: 40 s. */
	for (i = 0; i < 60 && r.changes == 2; i++)
		feed(&r, 20);
	assert_int_equal(r.c.level, PK_QUALITY_HIGH);
	feed(&r, 90);
	feed(&r, 90);
	NEAR(r.c.dwell[PK_QUALITY_HIGH], 40, 0);
	/* Capped at dwell_max. */
	r.c.dwell[PK_QUALITY_HIGH] = 250;
	for (i = 0; i < 400 && r.c.level != PK_QUALITY_HIGH; i++)
		feed(&r, 20);
	feed(&r, 90);
	feed(&r, 90);
	NEAR(r.c.dwell[PK_QUALITY_HIGH], 300, 0);
}

static void
test_never_up_to_unholdable(void **state)
{
	struct run r;
	int i;

	(void)state;
	start(&r, PK_QUALITY_LOW);
	r.c.p.step_cost = 30;	/* a step up adds 30 points */
	for (i = 0; i < 200; i++)
		feed(&r, 45);	/* 45 + 30 > 75 - 5 */
	assert_int_equal(r.changes, 0);
	NEAR(r.c.predicted, 75, 1);
	for (i = 0; i < 30 && r.changes == 0; i++)
		feed(&r, 30);	/* 30 + 30 <= 70, once the slow average agrees */
	assert_int_equal(r.changes, 1);
	assert_int_equal(r.last.level, PK_QUALITY_MEDIUM);
}

static void
test_impact_learns_cost(void **state)
{
	struct run r;
	int i;

	(void)state;
	start(&r, PK_QUALITY_HIGH);
	feed(&r, 40);
	feed(&r, 90);
	feed(&r, 90);
	assert_int_equal(r.c.level, PK_QUALITY_MEDIUM);
	/*
	 * The step down was decided at a fast average of 71.6 (40, then
	 * 90 twice with tau 2 s); 5 s later it reads 50: a step up from
	 * MEDIUM is estimated to cost 21.6 points.
	 */
	for (i = 0; i < 10; i++)
		feed(&r, 50);
	assert_int_equal(r.impacts, 1);
	NEAR(r.c.cost[PK_QUALITY_MEDIUM], 21.606, 0.01);
	/* So 50 + 21.6 > 75 - 5 at HIGH cannot be held: no step up ... */
	for (i = 0; i < 250; i++)
		feed(&r, 50);
	assert_int_equal(r.c.level, PK_QUALITY_MEDIUM);
	/* ... until the probe time (300 s) has passed. */
	for (i = 0; i < 100 && r.c.level == PK_QUALITY_MEDIUM; i++)
		feed(&r, 50);
	assert_int_equal(r.c.level, PK_QUALITY_HIGH);
	assert_non_null(strstr(r.last.detail, "probing"));
}

static void
test_override(void **state)
{
	struct pk_quality_change ch;
	struct run r;
	int i;

	(void)state;
	start(&r, PK_QUALITY_HIGH);
	feed(&r, 40);
	assert_int_equal(pk_quality_override(&r.c, r.t, PK_QUALITY_LOW, &ch), 1);
	assert_int_equal(ch.reason, PK_QUALITY_R_OVERRIDE);
	assert_int_equal(r.c.level, PK_QUALITY_LOW);
	assert_int_equal(pk_quality_override(&r.c, r.t, PK_QUALITY_LOW, &ch), 0);
	for (i = 0; i < 100; i++)
		feed(&r, i < 50 ? 99 : 5);
	assert_int_equal(r.changes, 0);
	assert_int_equal(pk_quality_override(&r.c, r.t, -1, &ch), 1);
	assert_int_equal(ch.reason, PK_QUALITY_R_RELEASE);
	assert_int_equal(pk_quality_override(&r.c, r.t, -1, &ch), 0);
	for (i = 0; i < 30; i++)
		feed(&r, 5);
	assert_true(r.c.level > PK_QUALITY_LOW);
}

static void
test_deterministic(void **state)
{
	struct run a, b;
	int i;

	(void)state;
	start(&a, PK_QUALITY_ULTRA_HIGH);
	start(&b, PK_QUALITY_ULTRA_HIGH);
	for (i = 0; i < 2000; i++) {
		double p = 50 + 45 * sin(i / 37.0) + 10 * sin(i * 1.3);

		feed(&a, p);
		feed(&b, p);
	}
	assert_true(a.changes > 0);
	assert_memory_equal(&a.c, &b.c, sizeof(a.c));
}

static void
test_components_and_cpus(void **state)
{
	unsigned long long m[16];

	(void)state;
	assert_int_equal(pk_quality_component_level(0, 2), 2);
	assert_int_equal(pk_quality_component_level(3, 2), 4);
	assert_int_equal(pk_quality_component_level(1, 0), 1);
	assert_int_equal(pk_quality_cpulist("0-3,6", m), 5);
	assert_true(m[0] == 0x4fULL);
	assert_int_equal(pk_quality_cpulist("70", m), 1);
	assert_true(m[1] == (1ULL << 6));
	assert_int_equal(pk_quality_cpulist("3-1", m), -1);
	assert_int_equal(pk_quality_cpulist("1,", m), -1);
	assert_int_equal(pk_quality_cpulist("a", m), -1);
	assert_int_equal(pk_quality_cpulist("2000", m), -1);
}

static void
test_headroom(void **state)
{
	const char *temp = "{\"soc\": 70.5, \"gpu\":78,\"x\":\"hot\",\"nested\":{\"a\":[1,{\"b\":2}]},\"nvme\":40}";
	const char *trip = "{ \"gpu\" : 90 , \"soc\":95}";
	char zone[16];
	double tc = 0, h;

	(void)state;
	h = pk_quality_headroom(temp, strlen(temp), trip, strlen(trip), 85,
	    zone, sizeof(zone), &tc);
	/* gpu 12, soc 24.5, nvme 45 (default trip 85). */
	NEAR(h, 12, 1e-12);
	assert_string_equal(zone, "gpu");
	NEAR(tc, 78, 0);
	h = pk_quality_headroom(temp, strlen(temp), NULL, 0, 80, zone,
	    sizeof(zone), &tc);
	NEAR(h, 2, 1e-12);
	assert_string_equal(zone, "gpu");
	assert_true(isnan(pk_quality_headroom("{}", 2, NULL, 0, 85, zone,
	    sizeof(zone), &tc)));
	assert_true(isnan(pk_quality_headroom("{\"a\":null}", 10, NULL, 0, 85,
	    zone, sizeof(zone), &tc)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_norm),
		cmocka_unit_test(test_hover_no_change),
		cmocka_unit_test(test_overload_two_samples),
		cmocka_unit_test(test_recovery_one_level_after_dwell),
		cmocka_unit_test(test_undone_step_up_doubles_dwell),
		cmocka_unit_test(test_never_up_to_unholdable),
		cmocka_unit_test(test_impact_learns_cost),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_components_and_cpus),
		cmocka_unit_test(test_headroom),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
