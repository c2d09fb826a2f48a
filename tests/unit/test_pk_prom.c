/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mock.h"
#include "pk_err.h"
#include "pk_prom.h"

/* The exposition of p is exactly want. */
static void
rendered(const struct pk_prom *p, struct pk_jw *w, const char *want)
{
	pk_jw_reset(w);
	pk_prom_render(p, w);
	assert_false(w->oom);
	assert_int_equal(w->len, strlen(want));
	assert_memory_equal(w->buf, want, w->len);
}

/* Families in the order registered, HELP and TYPE once, samples grouped. */
static void
test_families(void **state)
{
	struct pk_prom_label cpu[2] = { { "cpu", "0" }, { "mode", "user" } };
	struct pk_prom p;
	struct pk_jw w;
	int a, b, c;

	(void)state;
	pk_prom_init(&p, 0);
	pk_jw_init(&w, 16);
	a = pk_prom_family(&p, "x_util_ratio", "Busy share (0-1).",
	    PK_PROM_GAUGE, "ratio");
	b = pk_prom_family(&p, "x_online", "Online CPUs.", PK_PROM_GAUGE, NULL);
	c = pk_prom_family(&p, "x_empty", "Never sampled.", PK_PROM_GAUGE, "");
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	assert_int_equal(c, 2);
	/* The same family again is the same number. */
	assert_int_equal(pk_prom_family(&p, "x_util_ratio", "Busy share (0-1).",
	    PK_PROM_GAUGE, "ratio"), a);
	pk_prom_begin(&p);
	/* Samples of one family apart from each other are written together. */
	assert_int_equal(pk_prom_sample(&p, a, cpu, 2, 0.7875, 6), 0);
	assert_int_equal(pk_prom_sample(&p, b, NULL, 0, 4, 0), 0);
	cpu[0].value = "1";
	assert_int_equal(pk_prom_sample(&p, a, cpu, 1, 0.25, 6), 0);
	rendered(&p, &w,
	    "# HELP x_util_ratio Busy share (0-1).\n"
	    "# TYPE x_util_ratio gauge\n"
	    "x_util_ratio{cpu=\"0\",mode=\"user\"} 0.7875\n"
	    "x_util_ratio{cpu=\"1\"} 0.25\n"
	    "# HELP x_online Online CPUs.\n"
	    "# TYPE x_online gauge\n"
	    "x_online 4\n");
	/* The next exposition forgets the samples of the last one. */
	pk_prom_begin(&p);
	assert_int_equal(pk_prom_sample(&p, c, NULL, 0, -5, 3), 0);
	rendered(&p, &w,
	    "# HELP x_empty Never sampled.\n"
	    "# TYPE x_empty gauge\n"
	    "x_empty -5\n");
	assert_int_equal(pk_prom_sample(&p, 3, NULL, 0, 1, 0), -1);
	assert_int_equal(pk_prom_sample(&p, -1, NULL, 0, 1, 0), -1);
	pk_jw_release(&w);
	pk_prom_release(&p);
}

static void
test_names_units_types(void **state)
{
	struct pk_prom p;

	(void)state;
	pk_prom_init(&p, 0);
	assert_int_equal(pk_prom_family(&p, "a_bytes", "", PK_PROM_GAUGE,
	    "bytes"), 0);
	assert_int_equal(pk_prom_family(&p, "ns:b_seconds_total", "",
	    PK_PROM_COUNTER, "seconds"), 1);
	assert_int_equal(pk_prom_family(&p, "oom_kills_total", "",
	    PK_PROM_COUNTER, NULL), 2);
	/* Not a name; a unit that is not the name's; a counter not _total. */
	assert_int_equal(pk_prom_family(&p, "9lives", "", PK_PROM_GAUGE, NULL), -1);
	assert_int_equal(pk_prom_family(&p, "a-b", "", PK_PROM_GAUGE, NULL), -1);
	assert_int_equal(pk_prom_family(&p, "", "", PK_PROM_GAUGE, NULL), -1);
	assert_int_equal(pk_prom_family(&p, "a_bytes_total", "", PK_PROM_GAUGE,
	    "bytes"), -1);
	assert_int_equal(pk_prom_family(&p, "bytes", "", PK_PROM_GAUGE,
	    "bytes"), -1);
	assert_int_equal(pk_prom_family(&p, "a_count", "", PK_PROM_COUNTER,
	    NULL), -1);
	assert_int_equal(pk_prom_family(&p, "a_x", "", 7, NULL), -1);
	/* The same name with another help or type is an error. */
	assert_int_equal(pk_prom_family(&p, "a_bytes", "other", PK_PROM_GAUGE,
	    "bytes"), -1);
	assert_int_equal(pk_prom_family(&p, "oom_kills_total", "",
	    PK_PROM_GAUGE, NULL), -1);
	assert_int_equal(p.nfam, 3);
	pk_prom_release(&p);
}

/* Text format 0.0.4: label values escape \ " and LF, help \ and LF. */
static void
test_escaping_and_values(void **state)
{
	struct pk_prom_label l[2] = {
		{ "comm", "a\\b\"c\nd" }, { "pid", "1" }
	};
	struct pk_prom p;
	struct pk_jw w;
	int f;

	(void)state;
	pk_prom_init(&p, 0);
	pk_jw_init(&w, 64);
	f = pk_prom_family(&p, "x", "Back\\slash \"quoted\"\nnext.",
	    PK_PROM_GAUGE, NULL);
	pk_prom_begin(&p);
	pk_prom_sample(&p, f, l, 2, 1.5, 1);
	pk_prom_sample(&p, f, l + 1, 1, NAN, 1);
	pk_prom_sample(&p, f, NULL, 0, INFINITY, 1);
	pk_prom_sample(&p, f, NULL, 0, -INFINITY, 1);
	pk_prom_sample(&p, f, NULL, 0, 1731005000.5, 3);
	rendered(&p, &w,
	    "# HELP x Back\\\\slash \"quoted\"\\nnext.\n"
	    "# TYPE x gauge\n"
	    "x{comm=\"a\\\\b\\\"c\\nd\",pid=\"1\"} 1.5\n"
	    "x{pid=\"1\"} NaN\n"
	    "x +Inf\n"
	    "x -Inf\n"
	    "x 1731005000.5\n");
	pk_jw_release(&w);
	pk_prom_release(&p);
}

/* Bytes that are not UTF-8 become U+FFFD; valid sequences stay. */
static void
test_invalid_utf8(void **state)
{
	struct pk_prom_label l[1] = {
		{ "comm", "a\xff\xc3(\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80z" }
	};
	struct pk_prom p;
	struct pk_jw w;
	int f;

	(void)state;
	pk_prom_init(&p, 0);
	pk_jw_init(&w, 64);
	f = pk_prom_family(&p, "x", "Caf\xc3\xa9 \xfe.", PK_PROM_GAUGE, NULL);
	pk_prom_begin(&p);
	pk_prom_sample(&p, f, l, 1, 1, 0);
	rendered(&p, &w,
	    "# HELP x Caf\xc3\xa9 \xef\xbf\xbd.\n"
	    "# TYPE x gauge\n"
	    "x{comm=\"a\xef\xbf\xbd\xef\xbf\xbd(\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\"} 1\n");
	pk_jw_release(&w);
	pk_prom_release(&p);
}

/* A series rendered once gives the line pk_prom_sample writes. */
static void
test_series_text(void **state)
{
	struct pk_prom_label l[2] = { { "mode", "us\"er" }, { "cpu", "1" } };
	struct pk_prom p;
	struct pk_jw w, t;
	int f;

	(void)state;
	pk_prom_init(&p, 1);
	pk_jw_init(&w, 64);
	pk_jw_init(&t, 64);
	f = pk_prom_family(&p, "x_seconds_total", "X.", PK_PROM_COUNTER,
	    "seconds");
	pk_prom_series_text(&p, f, l, 2, &t);
	assert_int_equal(t.len, strlen("x_seconds_total{mode=\"us\\\"er\",cpu=\"1\"} "));
	pk_prom_begin(&p);
	assert_int_equal(pk_prom_sample_text(&p, f, t.buf, t.len, 12.5, 2), 0);
	/* The cap counts these too. */
	assert_int_equal(pk_prom_sample_text(&p, f, t.buf, t.len, 1, 2), -1);
	assert_int_equal(pk_prom_sample_text(&p, 7, t.buf, t.len, 1, 2), -1);
	rendered(&p, &w,
	    "# HELP x_seconds_total X.\n"
	    "# TYPE x_seconds_total counter\n"
	    "x_seconds_total{mode=\"us\\\"er\",cpu=\"1\"} 12.5\n");
	pk_jw_release(&t);
	pk_jw_release(&w);
	pk_prom_release(&p);
}

static void
test_histogram(void **state)
{
	static const double le[3] = { 0.001, 0.01, 0.1 };
	static const uint64_t counts[4] = { 5, 0, 2, 1 };
	struct pk_prom_label l = { "lane", "a" };
	struct pk_prom p;
	struct pk_jw w;
	int h, g;

	(void)state;
	pk_prom_init(&p, 0);
	pk_jw_init(&w, 64);
	h = pk_prom_family(&p, "x_latency_seconds", "Latency.",
	    PK_PROM_HISTOGRAM, "seconds");
	g = pk_prom_family(&p, "x_gauge", "G.", PK_PROM_GAUGE, NULL);
	pk_prom_begin(&p);
	assert_int_equal(pk_prom_histogram(&p, h, &l, 1, le, counts, 3, 0.1234,
	    4), 0);
	assert_int_equal(pk_prom_histogram(&p, h, NULL, 0, le, counts, 0, 2, 0),
	    0);
	/* A histogram is not a gauge, and the other way round. */
	assert_int_equal(pk_prom_sample(&p, h, NULL, 0, 1, 0), -1);
	assert_int_equal(pk_prom_histogram(&p, g, NULL, 0, le, counts, 3, 0, 0),
	    -1);
	rendered(&p, &w,
	    "# HELP x_latency_seconds Latency.\n"
	    "# TYPE x_latency_seconds histogram\n"
	    "x_latency_seconds_bucket{lane=\"a\",le=\"0.001\"} 5\n"
	    "x_latency_seconds_bucket{lane=\"a\",le=\"0.01\"} 5\n"
	    "x_latency_seconds_bucket{lane=\"a\",le=\"0.1\"} 7\n"
	    "x_latency_seconds_bucket{lane=\"a\",le=\"+Inf\"} 8\n"
	    "x_latency_seconds_sum{lane=\"a\"} 0.1234\n"
	    "x_latency_seconds_count{lane=\"a\"} 8\n"
	    "x_latency_seconds_bucket{le=\"+Inf\"} 5\n"
	    "x_latency_seconds_sum 2\n"
	    "x_latency_seconds_count 5\n");
	pk_jw_release(&w);
	pk_prom_release(&p);
}

/* Beyond the cap samples are left out, counted, and warned about once. */
static void
test_cardinality_cap(void **state)
{
	char path[] = "/tmp/pk_prom_XXXXXX", line[256];
	struct pk_prom p;
	struct pk_jw w;
	FILE *err, *saved = stderr;
	int f, i, k, fd, nlines = 0;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd != -1);
	err = fdopen(fd, "w+");
	assert_non_null(err);
	stderr = err;
	pk_prom_init(&p, 3);
	pk_jw_init(&w, 64);
	f = pk_prom_family(&p, "x", "X.", PK_PROM_GAUGE, NULL);
	for (k = 0; k < 2; k++) {
		pk_prom_begin(&p);
		for (i = 0; i < 5; i++)
			assert_int_equal(pk_prom_sample(&p, f, NULL, 0, i, 0),
			    i < 3 ? 0 : -1);
	}
	stderr = saved;
	rendered(&p, &w, "# HELP x X.\n# TYPE x gauge\nx 0\nx 1\nx 2\n");
	assert_int_equal(p.dropped, 4);
	rewind(err);
	while (fgets(line, sizeof(line), err) != NULL) {
		assert_non_null(strstr(line, "more than 3 series in one "
		    "Prometheus exposition: the others are left out"));
		nlines++;
	}
	assert_int_equal(nlines, 1);
	fclose(err);
	unlink(path);
	pk_jw_release(&w);
	pk_prom_release(&p);
}

/* A steady state of same-shaped expositions allocates nothing. */
static void
test_no_allocation_in_steady_state(void **state)
{
	struct pk_prom_label l[2] = { { "dev", "sda" }, { "cpu", "0" } };
	struct pk_prom p;
	struct pk_jw w;
	unsigned long before = 0;
	int f[3], i, k;

	(void)state;
	pk_prom_init(&p, 0);
	pk_jw_init(&w, 64);
	f[0] = pk_prom_family(&p, "a_bytes", "A.", PK_PROM_GAUGE, "bytes");
	f[1] = pk_prom_family(&p, "b_ratio", "B.", PK_PROM_GAUGE, "ratio");
	f[2] = pk_prom_family(&p, "c", "C.", PK_PROM_GAUGE, NULL);
	for (i = 0; i < 50; i++) {
		if (i == 2)
			before = pk_mock_malloc_count;
		pk_prom_begin(&p);
		for (k = 0; k < 200; k++)
			pk_prom_sample(&p, f[k % 3], l, 2, i * 1.5 + k, 2);
		pk_jw_reset(&w);
		pk_prom_render(&p, &w);
	}
	assert_int_equal(pk_mock_malloc_count, before);
	assert_false(w.oom);
	pk_jw_release(&w);
	pk_prom_release(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_names_units_types),
		cmocka_unit_test(test_escaping_and_values),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_series_text),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_cardinality_cap),
		cmocka_unit_test(test_no_allocation_in_steady_state),
	};

	pk_init("test_pk_prom");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
