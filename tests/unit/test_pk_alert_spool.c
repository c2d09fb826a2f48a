/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pk_alert_spool.h"

static void
test_roundtrip(void **state)
{
	char dir[] = "/tmp/pk_alert_spool.XXXXXX", why[128], junk[4200];
	struct pk_alert_spool_entry w[3], r;
	json_t *alert = json_pack("{s:s,s:s}", "rule", "hot", "state",
	    "firing");
	char **paths;
	struct stat st;
	size_t n, i;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 3; i++) {
		json_object_set_new(alert, "n", json_integer((json_int_t)i));
		assert_int_equal(pk_alert_spool_write(dir, i + 1, "hook", (int)i,
		    "fp-firing-1.000-0", alert, &w[i]), 0);
		/* The entry owns a copy: later changes do not reach it. */
		assert_int_equal(json_integer_value(json_object_get(w[i].alert,
		    "n")), (json_int_t)i);
		assert_int_equal(stat(w[i].file, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	/* A torn temporary file and a foreign file. */
	snprintf(junk, sizeof(junk), "%s/x.json.tmp.123", dir);
	f = fopen(junk, "w");
	fputs("{\"recei", f);
	fclose(f);
	snprintf(junk, sizeof(junk), "%s/bad.json", dir);
	f = fopen(junk, "w");
	fputs("{\"receiver\":\"hook\"}", f);
	fclose(f);
	assert_int_equal(pk_alert_spool_list(dir, &paths, &n), 0);
	assert_int_equal(n, 4);		/* the three, then bad.json */
	for (i = 0; i < 3; i++) {
		assert_string_equal(paths[i], w[i].file);
		assert_int_equal(pk_alert_spool_read(paths[i], &r, why,
		    sizeof(why)), 0);
		assert_string_equal(r.receiver, "hook");
		assert_string_equal(r.key, "fp-firing-1.000-0");
		assert_int_equal(r.peer, (int)i);
		assert_true(json_equal(r.alert, w[i].alert));
		pk_alert_spool_entry_release(&r);
	}
	assert_int_equal(pk_alert_spool_read(paths[3], &r, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "not a spool entry");
	snprintf(junk, sizeof(junk), "%s/x.json.tmp.123", dir);
	assert_int_equal(access(junk, F_OK), -1);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pk_alert_spool_remove(&w[i]), 0);
		assert_int_equal(pk_alert_spool_remove(&w[i]), 0);
		pk_alert_spool_entry_release(&w[i]);
	}
	snprintf(junk, sizeof(junk), "%s/bad.json", dir);
	unlink(junk);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(pk_alert_spool_list(dir, &paths, &n), -1);
	json_decref(alert);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
