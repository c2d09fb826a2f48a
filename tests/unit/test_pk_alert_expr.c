/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "pk_hash.h"
#include "pk_alert_expr.h"
#include "pk_jscan.h"

static int
eval(const char *cond, const char *line, double *value)
{
	struct pk_jpaths ps;
	struct pk_alert_cond c;
	struct pk_jval vals[16];
	struct pk_jscan_err err;
	const char *why;
	int r;

	pk_jpaths_init(&ps);
	assert_int_equal(pk_alert_cond_parse(&c, cond, &ps, &why), 0);
	assert_int_equal(pk_jscan(&ps, line, strlen(line), vals, &err), 0);
	r = pk_alert_cond_eval(&c, vals, value);
	pk_alert_cond_release(&c);
	pk_jpaths_release(&ps);
	return r;
}

static void
test_conditions(void **state)
{
	const char *rec = "{\"type\":\"sample\",\"cpu\":{\"util\":91.5},"
	    "\"mem\":{\"used_pct\":40},\"state\":\"start\","
	    "\"throttle\":{\"now\":{\"under_voltage\":true}}}";
	double v;

	(void)state;
	assert_int_equal(eval("cpu.util > 90", rec, &v), 1);
	assert_true(v == 91.5);
	assert_int_equal(eval("cpu.util <= 90", rec, &v), 0);
	assert_int_equal(eval("cpu.util >= 91.5 and mem.used_pct < 50", rec, &v), 1);
	assert_int_equal(eval("cpu.util > 90 && mem.used_pct > 50", rec, &v), 0);
	assert_int_equal(eval("state != \"end\"", rec, &v), 1);
	assert_int_equal(eval("state == 'end'", rec, &v), 0);
	assert_int_equal(eval("throttle.now.under_voltage == true", rec, &v), 1);
	assert_int_equal(eval("temp_c.cpu_thermal >= 80", rec, &v), -1);
	assert_int_equal(eval("state > 3", rec, &v), -1);
}

static void
test_bad_conditions(void **state)
{
	static const char *bad[] = { "", "cpu.util", "cpu.util >", "> 3",
	    "cpu.util > abc", "state > \"x\"", "a > 1 or b < 2", "x == \"open",
	    ".a > 1", NULL };
	struct pk_jpaths ps;
	struct pk_alert_cond c;
	const char *why;
	int i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		pk_jpaths_init(&ps);
		if (pk_alert_cond_parse(&c, bad[i], &ps, &why) != -1)
			fail_msg("accepted '%s'", bad[i]);
		pk_alert_cond_release(&c);
		pk_jpaths_release(&ps);
	}
}

static void
test_flap(void **state)
{
	struct pk_alert_flap f;
	int i, changed = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	for (i = 0; i < 30; i++)
		assert_int_equal(pk_alert_flap_add(&f, 1, 25, 50), 0);
	assert_true(f.pct == 0);
	/* Alternating states: every transition a change, 100%. */
	for (i = 0; i < 30; i++)
		changed += pk_alert_flap_add(&f, i & 1, 25, 50);
	assert_int_equal(changed, 1);
	assert_true(f.flapping);
	assert_true(fabs(f.pct - 100.0) < 1e-9);
	/* Steady again: the percentage decays below the low threshold. */
	for (i = 0; i < 30; i++)
		changed += pk_alert_flap_add(&f, 1, 25, 50);
	assert_int_equal(changed, 2);
	assert_false(f.flapping);
	/* One change, newest: weight 1.2 over 20 slots = 6%. */
	memset(&f, 0, sizeof(f));
	for (i = 0; i < 20; i++)
		pk_alert_flap_add(&f, 0, 25, 50);
	pk_alert_flap_add(&f, 1, 25, 50);
	assert_true(fabs(f.pct - 6.0) < 1e-9);
}

static const char *
lookup(const char *name, size_t len, void *arg)
{
	(void)arg;
	if (len == 5 && strncmp(name, "value", 5) == 0)
		return "91.5";
	if (len == 4 && strncmp(name, "host", 4) == 0)
		return "bot1";
	return NULL;
}

static void
test_template(void **state)
{
	char buf[64];
	size_t n;

	(void)state;
	n = pk_alert_template("CPU {{value}}% on {{ host }}{{nope}}!", lookup,
	    NULL, buf, sizeof(buf));
	assert_string_equal(buf, "CPU 91.5% on bot1!");
	assert_int_equal(n, strlen(buf));
	n = pk_alert_template("{{host}}{{host}}", lookup, NULL, buf, 5);
	assert_string_equal(buf, "bot1");
	assert_int_equal(n, 8);
	pk_alert_template("a {{ unclosed", lookup, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "a {{ unclosed");
}

static void
test_severity(void **state)
{
	(void)state;
	assert_int_equal(pk_alert_severity("warning"), 1);
	assert_int_equal(pk_alert_severity("EMERGENCY"), 3);
	assert_int_equal(pk_alert_severity("fatal"), -1);
	assert_string_equal(pk_alert_severity_name(9), "EMERGENCY");
	assert_true(pk_hash_fnv1a(PK_HASH_FNV_INIT, "a", 1) ==
	    0xaf63dc4c8601ec8cULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_bad_conditions),
		cmocka_unit_test(test_flap),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_severity),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
