/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "pk_profsev.h"

#define NEAR(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

static void
test_excess(void **state)
{
	(void)state;
	NEAR(pk_profsev_excess(99, 90, 0), 0.1, 1e-12);
	NEAR(pk_profsev_excess(20, 25, 1), 0.2, 1e-12);
	NEAR(pk_profsev_excess(30, 25, 1), -0.2, 1e-12);
	assert_true(isnan(pk_profsev_excess(NAN, 1, 0)));
}

static void
test_level(void **state)
{
	(void)state;
	/* far only */
	assert_int_equal(pk_profsev_level(0.05, 0, -1), PK_SEV_LOW);
	assert_int_equal(pk_profsev_level(0.10, 0, -1), PK_SEV_MEDIUM);
	assert_int_equal(pk_profsev_level(0.30, 0, -1), PK_SEV_HIGH);
	assert_int_equal(pk_profsev_level(0.50, 0, -1), PK_SEV_CRITICAL);
	/* long adds */
	assert_int_equal(pk_profsev_level(0.05, 60, -1), PK_SEV_MEDIUM);
	assert_int_equal(pk_profsev_level(0.05, 300, -1), PK_SEV_HIGH);
	assert_int_equal(pk_profsev_level(0.30, 300, -1), PK_SEV_CRITICAL);
	/* lowering needs 0.05 of margin: 0.22 + 0.05 is still high */
	assert_int_equal(pk_profsev_level(0.22, 0, PK_SEV_HIGH), PK_SEV_HIGH);
	assert_int_equal(pk_profsev_level(0.19, 0, PK_SEV_HIGH), PK_SEV_MEDIUM);
	assert_string_equal(pk_profsev_name(PK_SEV_CRITICAL), "critical");
	assert_string_equal(pk_profsev_name(9), "critical");
}

static void
test_edges(void **state)
{
	struct pk_profsev s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(pk_profsev_update(&s, 0, -0.1, 0, 1), PK_EDGE_NONE);
	assert_int_equal(pk_profsev_update(&s, 1, 0.01, 1, 0), PK_EDGE_START);
	assert_true(s.active);
	NEAR(s.since, 1, 0);
	/* Same level: nothing. */
	assert_int_equal(pk_profsev_update(&s, 2, 0.02, 1, 0), PK_EDGE_NONE);
	/* Inside the hysteresis band: still open, nothing. */
	assert_int_equal(pk_profsev_update(&s, 3, -0.02, 0, 0), PK_EDGE_NONE);
	/* Lasting a minute makes it medium. */
	assert_int_equal(pk_profsev_update(&s, 61, 0.01, 1, 0), PK_EDGE_CHANGE);
	assert_int_equal(s.level, PK_SEV_MEDIUM);
	assert_int_equal(pk_profsev_update(&s, 62, 0.6, 1, 0), PK_EDGE_CHANGE);
	assert_int_equal(s.level, PK_SEV_CRITICAL);
	assert_int_equal(s.peak, PK_SEV_CRITICAL);
	assert_int_equal(pk_profsev_update(&s, 70, -0.1, 0, 1), PK_EDGE_END);
	assert_false(s.active);
}

static void
test_steps(void **state)
{
	struct pk_profsev s;

	(void)state;
	assert_int_equal(pk_profsev_level_steps(0.05, 500, -1, 600, 3600),
	    PK_SEV_LOW);
	assert_int_equal(pk_profsev_level_steps(0.05, 600, -1, 600, 3600),
	    PK_SEV_MEDIUM);
	assert_int_equal(pk_profsev_level_steps(0.05, 3600, -1, 600, 3600),
	    PK_SEV_HIGH);
	/* A slow escalation, set on the state: a minute changes nothing. */
	memset(&s, 0, sizeof(s));
	s.after1 = 600;
	s.after2 = 3600;
	assert_int_equal(pk_profsev_update(&s, 0, 0.01, 1, 0), PK_EDGE_START);
	assert_int_equal(pk_profsev_update(&s, 60, 0.01, 1, 0), PK_EDGE_NONE);
	assert_int_equal(pk_profsev_update(&s, 600, 0.01, 1, 0),
	    PK_EDGE_CHANGE);
	assert_int_equal(s.level, PK_SEV_MEDIUM);
}

static void
test_obj_next(void **state)
{
	const char *txt = "{ \"cpu_thermal\" : 61.5, \"a\\\"b\":{\"x\":[1,{\"y\":\"}\"}]},"
	    "\"gpu\":true , \"s\":\"v,}\" ,\"n\":-1e3}";
	struct pk_jval obj, k, v;
	size_t pos = 0;
	char buf[32];

	(void)state;
	obj.type = PK_JOBJ;
	obj.p = txt;
	obj.len = strlen(txt);
	obj.escaped = 0;
	assert_int_equal(pk_profsev_obj_next(&obj, &pos, &k, &v), 1);
	assert_true(pk_jval_streq(&k, "cpu_thermal"));
	assert_int_equal(v.type, PK_JNUM);
	NEAR(pk_jval_num(&v), 61.5, 0);
	assert_int_equal(pk_profsev_obj_next(&obj, &pos, &k, &v), 1);
	pk_jval_str(&k, buf, sizeof(buf));
	assert_string_equal(buf, "a\"b");
	assert_int_equal(v.type, PK_JOBJ);
	assert_int_equal(pk_profsev_obj_next(&obj, &pos, &k, &v), 1);
	assert_true(pk_jval_streq(&k, "gpu"));
	assert_int_equal(v.type, PK_JTRUE);
	assert_int_equal(pk_profsev_obj_next(&obj, &pos, &k, &v), 1);
	assert_true(pk_jval_streq(&v, "v,}"));
	assert_int_equal(pk_profsev_obj_next(&obj, &pos, &k, &v), 1);
	NEAR(pk_jval_num(&v), -1000, 0);
	assert_int_equal(pk_profsev_obj_next(&obj, &pos, &k, &v), 0);
	/* An empty object, and a value that is not one. */
	obj.p = "{ }";
	obj.len = 3;
	pos = 0;
	assert_int_equal(pk_profsev_obj_next(&obj, &pos, &k, &v), 0);
	obj.type = PK_JNUM;
	pos = 0;
	assert_int_equal(pk_profsev_obj_next(&obj, &pos, &k, &v), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_excess),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_obj_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
