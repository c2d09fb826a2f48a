/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_filter.h"
#include "pk_io.h"

/* What the program saw. */
struct seen {
	int records, late_marked, steps, hosts_new;
	double last_back;
	char types[64];
	int id_util;
	double util_sum;
};

static void
on_record(struct pk_filter *f, const struct pk_rec *r)
{
	struct seen *s = f->arg;
	size_t n = strlen(s->types);

	s->records++;
	s->late_marked += r->late;
	if (n + 1 < sizeof(s->types))
		s->types[n] = r->type < 0 ? '?' : (char)('0' + r->type);
	if (r->vals[s->id_util].type == PK_JNUM)
		s->util_sum += pk_jval_num(&r->vals[s->id_util]);
	pk_filter_pass(f, r);
}

static void
on_step(struct pk_filter *f, struct pk_fhost *h, double back,
    const struct pk_rec *r)
{
	struct seen *s = f->arg;

	(void)h;
	(void)r;
	s->steps++;
	s->last_back = back;
}

static int
on_host(struct pk_filter *f, struct pk_fhost *h, const struct pk_rec *r)
{
	struct seen *s = f->arg;

	(void)r;
	s->hosts_new++;
	return strcmp(h->name, "foreign") == 0;
}

static const char *const proc_need[] = { "comm", NULL };
static const struct pk_ftype types[] = {
	{ "sample", NULL },
	{ "proc", proc_need },
	{ NULL, NULL }
};

/*
 * Run the filter over text; its standard output in out (malloc'd), its
 * status back. stderr goes to /dev/null.
 */
static int
run(struct pk_filter *f, struct pk_jpaths *ps, const char *text, char **out)
{
	char in[] = "/tmp/pk-filter-in-XXXXXX", outp[] = "/tmp/pk-filter-out-XXXXXX";
	char *files[1] = { in };
	int fd, ofd, saved_out, saved_err, null, st;
	size_t n;

	assert_true((fd = mkstemp(in)) != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_true((ofd = mkstemp(outp)) != -1);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(ofd, 1);
	null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	close(null);
	assert_int_equal(pk_filter_set_paths(f, ps), 0);
	assert_int_equal(pk_filter_run(f, 1, files), 0);
	st = pk_filter_finish(f);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	assert_int_equal(pk_read_file(outp, out, &n), 0);
	close(ofd);
	unlink(in);
	unlink(outp);
	return st;
}

static void
setup(struct pk_filter *f, struct pk_jpaths *ps, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	pk_filter_init(f);
	pk_jpaths_init(ps);
	s->id_util = pk_jpaths_add(ps, "cpu.util");
	f->types = types;
	f->span = 10;
	f->arg = s;
	f->on_record = on_record;
	f->on_step = on_step;
	f->on_host = on_host;
}

static void
teardown(struct pk_filter *f, struct pk_jpaths *ps)
{
	pk_filter_release(f);
	pk_jpaths_release(ps);
}

static void
test_checks_once_for_all(void **state)
{
	struct pk_filter f;
	struct pk_jpaths ps;
	struct seen s;
	char *out, longhost[400];
	char text[2048];

	(void)state;
	setup(&f, &ps, &s);
	memset(longhost, 'h', 300);
	longhost[300] = '\0';
	snprintf(text, sizeof(text),
	    "\n"						/* blank */
	    "   \t\n"					/* blank */
	    "{\"type\":\"bench\",\"name\":\"x\"}\n"	/* not ours, no ts: passed */
	    "{\"type\":\"sample\",\"ts\":100,\"host\":\"a\",\"cpu\":{\"util\":5}}\n"
	    "{\"type\":\"sample\",\"host\":\"a\"}\n"	/* no ts */
	    "{\"type\":\"sample\",\"ts\":\"100\"}\n"	/* ts not a number */
	    "{\"type\":\"sample\",\"ts\":1732300000500}\n"	/* milliseconds */
	    "{\"type\":\"sample\",\"ts\":-1}\n"		/* before the epoch */
	    "{\"type\":\"proc\",\"ts\":101,\"host\":\"a\",\"pid\":1}\n"	/* no comm */
	    "{\"type\":\"proc\",\"ts\":101,\"host\":\"a\",\"pid\":1,\"comm\":\"x\"}\n"
	    "not json\n"
	    "[1,2]\n"
	    "{\"type\":\"sample\",\"ts\":102,\"host\":\"%s\"}\n"	/* host too long */
	    "{\"type\":\"sample\",\"ts\":102,\"host\":7}\n"	/* host not a string */
	    "{\"type\":\"sample\",\"ts\":103,\"host\":\"a\",\"cpu\":{\"util\":7}}", /* no newline */
	    longhost);
	assert_int_equal(run(&f, &ps, text, &out), PK_EXIT_DATA);
	assert_int_equal(s.records, 3);
	assert_string_equal(s.types, "010");
	assert_true(s.util_sum == 12);
	assert_int_equal(f.bad.count, 9);
	assert_string_equal(out,
	    "{\"type\":\"bench\",\"name\":\"x\"}\n"
	    "{\"type\":\"sample\",\"ts\":100,\"host\":\"a\",\"cpu\":{\"util\":5}}\n"
	    "{\"type\":\"proc\",\"ts\":101,\"host\":\"a\",\"pid\":1,\"comm\":\"x\"}\n"
	    "{\"type\":\"sample\",\"ts\":103,\"host\":\"a\",\"cpu\":{\"util\":7}}\n");
	free(out);
	teardown(&f, &ps);
}

static void
test_clock_per_host(void **state)
{
	struct pk_filter f;
	struct pk_jpaths ps;
	struct seen s;
	char *out;

	(void)state;
	setup(&f, &ps, &s);
	/*
	 * Host b runs an hour behind host a: on its own clock, none of its
	 * records is late. One stray record of a, 20 s back, is late; three
	 * an hour back in a row are a step.
	 */
	assert_int_equal(run(&f, &ps,
	    "{\"type\":\"sample\",\"ts\":10000,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":6400,\"host\":\"b\"}\n"
	    "{\"type\":\"sample\",\"ts\":10001,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":6401,\"host\":\"b\"}\n"
	    "{\"type\":\"sample\",\"ts\":9981,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":10002,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":6402,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":6403,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":6404,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":6405,\"host\":\"a\"}\n", &out),
	    PK_EXIT_OK);
	/* 10 records: the stray and the first two of the step are late. */
	assert_int_equal(s.records, 7);
	assert_int_equal(f.late, 3);
	assert_int_equal(s.steps, 1);
	assert_true(fabs(s.last_back - (10002 - 6404)) < 1e-9);
	assert_int_equal(f.nhosts, 2);
	assert_int_equal(s.hosts_new, 2);
	/* Every line still passes, in order. */
	{
		int lines = 0;
		const char *p;

		for (p = out; *p != '\0'; p++)
			lines += *p == '\n';
		assert_int_equal(lines, 10);
	}
	free(out);
	teardown(&f, &ps);
}

static void
test_host_default(void **state)
{
	struct pk_filter f;
	struct pk_jpaths ps;
	struct seen s;
	char *out;

	(void)state;
	setup(&f, &ps, &s);
	/*
	 * Records without a host belong to host a: its clock, so three of
	 * them an hour back are a step of a's (without host_default they
	 * were a host "" of their own and nothing was late).
	 */
	f.host_default = "a";
	assert_int_equal(run(&f, &ps,
	    "{\"type\":\"sample\",\"ts\":10000,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":10001}\n"
	    "{\"type\":\"sample\",\"ts\":6400}\n"
	    "{\"type\":\"sample\",\"ts\":6401}\n"
	    "{\"type\":\"sample\",\"ts\":6402,\"host\":\"a\"}\n", &out),
	    PK_EXIT_OK);
	assert_int_equal(f.nhosts, 1);
	assert_int_equal(s.hosts_new, 1);
	assert_int_equal(f.late, 2);
	assert_int_equal(s.steps, 1);
	free(out);
	teardown(&f, &ps);
}

static void
test_late_mine_and_skip_host(void **state)
{
	struct pk_filter f;
	struct pk_jpaths ps;
	struct seen s;
	char *out;

	(void)state;
	setup(&f, &ps, &s);
	f.late_mode = PK_FILTER_LATE_MINE;
	assert_int_equal(run(&f, &ps,
	    "{\"type\":\"sample\",\"ts\":100,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":50,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":101,\"host\":\"foreign\"}\n"
	    "{\"type\":\"sample\",\"ts\":102,\"host\":\"foreign\"}\n", &out),
	    PK_EXIT_OK);
	/* The late one is handed over marked; the foreign host's are not. */
	assert_int_equal(s.records, 2);
	assert_int_equal(s.late_marked, 1);
	assert_int_equal(s.hosts_new, 2);
	/* And counted, for the program's final count. */
	assert_int_equal(f.nhosts, 2);
	assert_int_equal(f.hosts[1]->skipped, 2);
	assert_int_equal(f.hosts[0]->skipped, 0);
	assert_string_equal(out,
	    "{\"type\":\"sample\",\"ts\":100,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":50,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":101,\"host\":\"foreign\"}\n"
	    "{\"type\":\"sample\",\"ts\":102,\"host\":\"foreign\"}\n");
	free(out);
	teardown(&f, &ps);
}

static void
test_host_cap_and_line_limit(void **state)
{
	struct pk_filter f;
	struct pk_jpaths ps;
	struct seen s;
	char *out;

	(void)state;
	setup(&f, &ps, &s);
	f.max_hosts = 2;
	f.max_line = 60;
	assert_int_equal(run(&f, &ps,
	    "{\"type\":\"sample\",\"ts\":1,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":1,\"host\":\"b\"}\n"
	    "{\"type\":\"sample\",\"ts\":1,\"host\":\"c\"}\n"
	    "{\"type\":\"sample\",\"ts\":2,\"host\":\"a\"}\n"
	    "{\"type\":\"sample\",\"ts\":2,\"host\":\"c\",\"pad\":\"..................\"}\n",
	    &out), PK_EXIT_DATA);
	assert_int_equal(s.records, 3);
	assert_int_equal(f.overflow, 1);
	assert_int_equal(f.bad.count, 1);
	assert_int_equal(f.nhosts, 2);
	free(out);
	teardown(&f, &ps);
}

static void
test_all_types_and_reload_paths(void **state)
{
	struct pk_filter f;
	struct pk_jpaths ps, ps2;
	struct seen s;
	char *out;
	int id;

	(void)state;
	setup(&f, &ps, &s);
	f.types = NULL;
	f.all_types = 1;
	assert_int_equal(run(&f, &ps,
	    "{\"ts\":1,\"cpu\":{\"util\":1}}\n"
	    "{\"type\":\"x\",\"ts\":2}\n"
	    "{\"type\":\"x\"}\n", &out), PK_EXIT_DATA);
	assert_int_equal(s.records, 2);
	assert_string_equal(s.types, "??");
	assert_int_equal(f.bad.count, 1);
	free(out);
	/* New paths (a reloaded config): the program's ids are its own. */
	pk_jpaths_init(&ps2);
	id = pk_jpaths_add(&ps2, "mem.used_pct");
	s.id_util = pk_jpaths_add(&ps2, "cpu.util");
	assert_int_equal(id, 0);
	memset(s.types, 0, sizeof(s.types));
	s.util_sum = 0;
	assert_int_equal(run(&f, &ps2,
	    "{\"type\":\"x\",\"ts\":3,\"cpu\":{\"util\":4},\"mem\":{\"used_pct\":9}}\n",
	    &out), PK_EXIT_DATA);	/* the bad line above still counts */
	assert_true(s.util_sum == 4);
	free(out);
	pk_filter_release(&f);
	pk_jpaths_release(&ps);
	pk_jpaths_release(&ps2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checks_once_for_all),
		cmocka_unit_test(test_clock_per_host),
		cmocka_unit_test(test_host_default),
		cmocka_unit_test(test_late_mine_and_skip_host),
		cmocka_unit_test(test_host_cap_and_line_limit),
		cmocka_unit_test(test_all_types_and_reload_paths),
	};

	pk_out_init(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
