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
	unsigned char key[PK_ALERT_SPOOL_KEYLEN] = "0123456789abcde";
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
		assert_int_equal(pk_alert_spool_write(dir, key, i + 1, "hook",
		    (int)i,
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
		assert_int_equal(pk_alert_spool_read(paths[i], key, &r, why,
		    sizeof(why)), 0);
		assert_string_equal(r.receiver, "hook");
		assert_string_equal(r.key, "fp-firing-1.000-0");
		assert_int_equal(r.peer, (int)i);
		assert_true(json_equal(r.alert, w[i].alert));
		pk_alert_spool_entry_release(&r);
	}
	assert_int_equal(pk_alert_spool_read(paths[3], key, &r, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "no integrity check"));
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

/* Read a file whole into a string. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_true(fread(buf, 1, 65535, f) > 0);
	fclose(f);
	return buf;
}

static void
spit(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void
test_integrity(void **state)
{
	char dir[] = "/tmp/pk_alert_spool.XXXXXX", why[128], to[4200];
	char path[4200], *s, *p;
	unsigned char key[PK_ALERT_SPOOL_KEYLEN], key2[PK_ALERT_SPOOL_KEYLEN];
	struct pk_alert_spool_entry w, r;
	json_t *alert = json_pack("{s:s,s:f}", "host", "bot1", "ts", 1.5);
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* The key: made once, 0600, the same when read back. */
	assert_int_equal(pk_alert_spool_key(dir, key, why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/spool.key", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, PK_ALERT_SPOOL_KEYLEN);
	assert_int_equal(pk_alert_spool_key(dir, key2, why, sizeof(why)), 0);
	assert_memory_equal(key, key2, sizeof(key));
	chmod(path, 0644);
	assert_int_equal(pk_alert_spool_key(dir, key2, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "is not a spool key of ours"));
	chmod(path, 0600);

	assert_int_equal(pk_alert_spool_write(dir, key, 1, "hook", 0, "k",
	    alert, &w), 0);
	assert_int_equal(pk_alert_spool_read(w.file, key, &r, why,
	    sizeof(why)), 0);
	pk_alert_spool_entry_release(&r);
	/* Another key: refused. */
	key2[0] ^= 1;
	assert_int_equal(pk_alert_spool_read(w.file, key2, &r, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "fails its integrity check"));
	/* One byte of the content changed, the mac kept: refused. */
	s = slurp(w.file);
	assert_non_null(p = strstr(s, "bot1"));
	p[3] = '2';
	spit(w.file, s);
	assert_int_equal(pk_alert_spool_read(w.file, key, &r, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "fails its integrity check"));
	/* The old format (no mac): refused as well. */
	p[3] = '1';
	*strstr(s, ",\"mac\"") = '\0';
	strcat(s, "}");
	spit(w.file, s);
	assert_int_equal(pk_alert_spool_read(w.file, key, &r, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "no integrity check"));
	free(s);
	/* Moved aside. */
	assert_int_equal(pk_alert_spool_reject(w.file, to, sizeof(to)), 0);
	assert_int_equal(access(w.file, F_OK), -1);
	assert_int_equal(access(to, F_OK), 0);
	unlink(to);
	snprintf(path, sizeof(path), "%s/rejected", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/spool.key", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	pk_alert_spool_entry_release(&w);
	json_decref(alert);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_integrity),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
