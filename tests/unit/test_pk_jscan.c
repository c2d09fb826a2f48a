/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pk_jscan.h"

static void
test_paths_and_values(void **state)
{
	struct pk_jpaths ps;
	struct pk_jval v[8];
	struct pk_jscan_err err;
	const char *line = "{\"type\":\"sample\",\"ts\":1732300000.125,"
	    "\"cpu\":{\"util\":93.5,\"cores\":[1,2,{\"x\":3}]},"
	    "\"psi\":{\"cpu\":{\"some_avg10\":1.25}},\"ok\":true,\"n\":null}";
	int type, ts, util, psi, missing, ok, cpu;

	(void)state;
	pk_jpaths_init(&ps);
	type = pk_jpaths_add(&ps, "type");
	ts = pk_jpaths_add(&ps, "ts");
	util = pk_jpaths_add(&ps, "cpu.util");
	psi = pk_jpaths_add(&ps, "psi.cpu.some_avg10");
	missing = pk_jpaths_add(&ps, "mem.used_pct");
	ok = pk_jpaths_add(&ps, "ok");
	cpu = pk_jpaths_add(&ps, "cpu");
	assert_int_equal(pk_jpaths_add(&ps, "cpu.util"), util);
	assert_int_equal(pk_jpaths_add(&ps, ""), -1);
	assert_int_equal(pk_jpaths_add(&ps, "a..b"), -1);
	assert_int_equal(ps.npaths, 7);

	assert_int_equal(pk_jscan(&ps, line, strlen(line), v, &err), 0);
	assert_true(pk_jval_streq(&v[type], "sample"));
	assert_false(pk_jval_streq(&v[type], "sampl"));
	assert_int_equal(v[ts].type, PK_JNUM);
	assert_true(pk_jval_num(&v[ts]) == 1732300000.125);
	assert_true(pk_jval_num(&v[util]) == 93.5);
	assert_true(pk_jval_num(&v[psi]) == 1.25);
	assert_int_equal(v[missing].type, PK_JNONE);
	assert_int_equal(v[ok].type, PK_JTRUE);
	assert_int_equal(v[cpu].type, PK_JOBJ);
	assert_int_equal(v[cpu].p[0], '{');
	assert_int_equal(v[cpu].p[v[cpu].len - 1], '}');
	pk_jpaths_release(&ps);
}

static void
test_invalid(void **state)
{
	static const char *bad[] = {
		"", "   ", "[1,2]", "\"str\"", "{", "{\"a\":}", "{\"a\":1,}",
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":tru}",
		"{\"a\":\"x\ty\"}", "{\"a\":\"\\q\"}", "{\"a\":\"\\u12\"}",
		"{\"a\":1} x", "{a:1}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}",
		"{\"a\":\"\xed\xa0\x80\"}", "{\"a\":[1,2}", "{\"a\" 1}",
		"{\"a\":1e}", "{\"a\":NaN}", "{\"a\":\"\\u0000\"}",
		"{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\"}",
		"{\"a\":\"\\ud800\\u0041\"}", NULL
	};
	struct pk_jpaths ps;
	struct pk_jval v[1];
	struct pk_jscan_err err;
	int i;

	(void)state;
	pk_jpaths_init(&ps);
	pk_jpaths_add(&ps, "a");
	for (i = 0; bad[i] != NULL; i++) {
		err.msg = NULL;
		if (pk_jscan(&ps, bad[i], strlen(bad[i]), v, &err) != -1)
			fail_msg("accepted invalid line %d: %s", i, bad[i]);
		assert_non_null(err.msg);
		assert_true(err.col >= 1);
	}
	pk_jpaths_release(&ps);
}

static void
test_valid_edge(void **state)
{
	static const char *good[] = {
		"{}", " { } ", "{\"a\":[]}", "{\"a\":{}}", "{\"a\":-0.5e-3}",
		"{\"a\":\"\\u00e9\\n\\\"\"}", "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		"{\"a\":[[[[1]]]],\"b\":false}", "{\"a\":1E+2}", NULL
	};
	struct pk_jpaths ps;
	struct pk_jval v[1];
	int i;

	(void)state;
	pk_jpaths_init(&ps);
	pk_jpaths_add(&ps, "a");
	for (i = 0; good[i] != NULL; i++)
		if (pk_jscan(&ps, good[i], strlen(good[i]), v, NULL) != 0)
			fail_msg("rejected valid line %d: %s", i, good[i]);
	pk_jpaths_release(&ps);
}

static void
test_deep_nesting(void **state)
{
	char line[2048];
	struct pk_jpaths ps;
	int i, n = 0;

	(void)state;
	pk_jpaths_init(&ps);
	n += snprintf(line + n, sizeof(line) - (size_t)n, "{\"a\":");
	for (i = 0; i < 500; i++)
		line[n++] = '[';
	line[n] = '\0';
	assert_int_equal(pk_jscan(&ps, line, strlen(line), NULL, NULL), -1);
	pk_jpaths_release(&ps);
}

static void
test_strings(void **state)
{
	struct pk_jpaths ps;
	struct pk_jval v[2];
	char buf[64];
	const char *line = "{\"host\":\"bo\\u0074\\n1\",\"c\":\"\\ud83d\\ude00\"}";

	(void)state;
	pk_jpaths_init(&ps);
	pk_jpaths_add(&ps, "host");
	pk_jpaths_add(&ps, "c");
	assert_int_equal(pk_jscan(&ps, line, strlen(line), v, NULL), 0);
	assert_true(v[0].escaped);
	assert_int_equal(pk_jval_str(&v[0], buf, sizeof(buf)), 5);
	assert_string_equal(buf, "bot\n1");
	assert_true(pk_jval_streq(&v[0], "bot\n1"));
	pk_jval_str(&v[1], buf, sizeof(buf));
	assert_string_equal(buf, "\xf0\x9f\x98\x80");
	/* Truncation keeps the NUL. */
	assert_int_equal(pk_jval_str(&v[0], buf, 3), 5);
	assert_string_equal(buf, "bo");
	pk_jpaths_release(&ps);
}

static void
test_numbers(void **state)
{
	static const struct { const char *s; double d; } t[] = {
		{ "0", 0 }, { "-0.5", -0.5 }, { "12345678901234567890", 12345678901234567890.0 },
		{ "1e3", 1000 }, { "0.1", 0.1 }, { "3.14159", 3.14159 },
		{ "1732300000.125", 1732300000.125 }, { "-2.5E-3", -2.5e-3 },
	};
	struct pk_jval v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v.type = PK_JNUM;
		v.p = t[i].s;
		v.len = strlen(t[i].s);
		assert_true(pk_jval_num(&v) == t[i].d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_and_values),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_valid_edge),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests_name("pk_jscan", tests, NULL, NULL);
}
