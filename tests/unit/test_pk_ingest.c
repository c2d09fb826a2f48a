/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pk_ingest.h"

static char got[8][512];
static unsigned ngot;

static void
collect(void *ctx, const char *rec, size_t len)
{
	(void)ctx;
	assert_true(ngot < 8 && len < sizeof(got[0]));
	memcpy(got[ngot], rec, len);
	got[ngot++][len] = '\0';
}

static int
parse(struct pk_ingest *in, const char *s, char *why)
{
	ngot = 0;
	return pk_ingest_parse(in, s, strlen(s), 1732300001.25, collect, NULL,
	    why, 160);
}

static void
test_statsd(void **state)
{
	struct pk_ingest in;
	char why[160];

	(void)state;
	assert_int_equal(pk_ingest_init(&in, "bot1", 0), 0);
	assert_int_equal(parse(&in, "lane_detector.fps:29.5|g", why), 0);
	assert_string_equal(got[0], "{\"type\":\"metric\",\"ts\":1732300001.25,"
	    "\"host\":\"bot1\",\"component\":\"lane_detector\",\"fps\":29.5}");
	assert_int_equal(parse(&in, "cam.latency:41|ms|#cam:front", why), 0);
	assert_non_null(strstr(got[0], "\"latency_ms\":41,\"tags\":"
	    "{\"cam\":\"front\"}"));
	assert_int_equal(parse(&in, "cam.latency_ms:41|ms", why), 0);
	assert_non_null(strstr(got[0], "\"latency_ms\":41}"));
	/* Counters: running totals, sample rate applied. */
	assert_int_equal(parse(&in, "app.frames:3|c\napp.frames:1|c|@0.5",
	    why), 0);
	assert_int_equal(ngot, 2);
	assert_non_null(strstr(got[0], "\"frames_total\":3}"));
	assert_non_null(strstr(got[1], "\"frames_total\":5}"));
	/* The component from a tag; further dots made underscores. */
	assert_int_equal(parse(&in, "stage.q.len:4|g|#component:planner", why),
	    0);
	assert_non_null(strstr(got[0], "\"component\":\"planner\","
	    "\"stage_q_len\":4}"));
	assert_int_equal(parse(&in, "planner.q:4|g|#component:planner", why),
	    0);
	assert_non_null(strstr(got[0], "\"component\":\"planner\",\"q\":4}"));
	pk_ingest_release(&in);
}

static void
test_statsd_bad(void **state)
{
	static const char *const bad[] = {
		"fps:30|g", "a.b:30", "a.b:x|g", "a.b:1|s", "a.b:+1|g",
		"a.b:1|c|@0", "a.b:1|c|@2", "a.b:1|g|junk", "a b.c:1|g",
		"a.b:1|g|#x:1,x:2", "a.type:1|g", "a.b:nan|g", "a.b:1e999|g",
		"a.b:1|g|#", "not statsd at all",
	};
	struct pk_ingest in;
	char why[160];
	unsigned i;

	(void)state;
	assert_int_equal(pk_ingest_init(&in, "h", 0), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&in, bad[i], why) != 1)
			fail_msg("'%s' was taken", bad[i]);
		assert_int_equal(ngot, 0);
		assert_true(why[0] != '\0');
	}
	/* The good lines of a datagram with a bad one still go out. */
	assert_int_equal(parse(&in, "a.b:1|g\njunk\nc.d:2|g\n", why), 1);
	assert_int_equal(ngot, 2);
	assert_int_equal(pk_ingest_parse(&in, "a\0b", 3, 1, collect, NULL, why,
	    sizeof(why)), 1);
	assert_non_null(strstr(why, "binary"));
	pk_ingest_release(&in);
}

static void
test_json(void **state)
{
	struct pk_ingest in;
	char why[160];

	(void)state;
	assert_int_equal(pk_ingest_init(&in, "bot1", 0), 0);
	assert_int_equal(parse(&in, "{\"fps\":3,\"component\":\"c\","
	    "\"type\":\"metric\"}", why), 0);
	assert_string_equal(got[0], "{\"type\":\"metric\",\"ts\":1732300001.25,"
	    "\"host\":\"bot1\",\"component\":\"c\",\"fps\":3}");
	assert_int_equal(parse(&in, "{\"type\":\"metric\",\"ts\":1732300000.1,"
	    "\"host\":\"x\",\"component\":\"c\",\"fps\":3}", why), 0);
	assert_string_equal(got[0], "{\"type\":\"metric\",\"ts\":1732300000.1,"
	    "\"host\":\"x\",\"component\":\"c\",\"fps\":3}");
	assert_int_equal(parse(&in, "{\"type\":\"sample\",\"component\":\"c\"}",
	    why), 1);
	assert_int_equal(parse(&in, "{\"type\":\"metric\"}", why), 1);
	assert_string_equal(why, "a metric record without component");
	assert_int_equal(parse(&in, "{\"type\":\"metric\",\"component\":\"c\","
	    "\"ts\":\"now\"}", why), 1);
	assert_int_equal(parse(&in, "{\"type\":\"metric\",\"component\":\"c\","
	    "\"ts\":1732300033500}", why), 1);
	assert_int_equal(parse(&in, "{\"type\":\"metric\",\"component\":\"c\","
	    "\"component\":\"d\"}", why), 1);
	assert_int_equal(parse(&in, "{\"type\":\"metric\",", why), 1);
	pk_ingest_release(&in);
}

static void
test_unix_socket(void **state)
{
	char top[] = "/tmp/pk_ing_XXXXXX", path[256], err[512];
	struct pk_ingest in;
	struct sockaddr_un sa;
	struct stat st;
	int c;

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/d/s", top);
	assert_int_equal(pk_ingest_init(&in, "h", 2), 0);
	assert_int_equal(pk_ingest_add(&in, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expected unix:PATH"));
	snprintf(path, sizeof(path), "unix:%s/d/s", top);
	assert_int_equal(pk_ingest_add(&in, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path + 5, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_true(S_ISSOCK(st.st_mode));
	/* A second reader of the same socket is refused. */
	{
		struct pk_ingest in2;

		assert_int_equal(pk_ingest_init(&in2, "h", 0), 0);
		assert_int_equal(pk_ingest_add(&in2, path, err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, "another program"));
		pk_ingest_release(&in2);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path + 5) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path + 5, strlen(path + 5));
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(c, "a.b:1|g", 7, 0), 7);
	assert_int_equal(send(c, "junk", 4, 0), 4);
	assert_int_equal(send(c, "a.b:2|g", 7, 0), 7);
	assert_int_equal(send(c, "a.b:3|g", 7, 0), 7);
	ngot = 0;
	/* The cap is 2 an interval: the last two are read and dropped. */
	assert_int_equal(pk_ingest_read(&in, 0, 5, collect, NULL), 4);
	assert_int_equal(ngot, 1);
	assert_int_equal(in.iv.datagrams, 4);
	assert_int_equal(in.iv.bad, 1);
	assert_int_equal(in.iv.dropped, 2);
	assert_int_equal(in.iv.records, 1);
	{
		struct pk_ingest_counts iv;
		struct pk_jw w;
		char first[320];

		pk_jw_init(&w, 256);
		assert_int_equal(pk_ingest_interval(&in, 5, 1, &w, &iv, first,
		    sizeof(first)), 1);
		assert_non_null(strstr(first, "neither JSON nor StatsD"));
		assert_non_null(strstr(w.buf, "\"datagrams\":4,\"records\":1,"
		    "\"bad\":1,\"dropped\":2"));
		assert_int_equal(pk_ingest_interval(&in, 6, 1, &w, &iv, first,
		    sizeof(first)), 0);
		pk_jw_release(&w);
	}
	close(c);
	pk_ingest_release(&in);
	/* Removed at the end. */
	assert_int_equal(stat(path + 5, &st), -1);
	snprintf(path, sizeof(path), "%s/d", top);
	rmdir(path);
	rmdir(top);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statsd),
		cmocka_unit_test(test_statsd_bad),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_unix_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
