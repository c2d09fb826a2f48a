/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pk_rtwork.h"
#include "pk_time.h"
#include "mock.h"

static void
test_parse(void **state)
{
	static const char *const good[] = { "none", "spin:250", "mlp:16,64,4",
	    "constraints:100", "memtouch:64", NULL };
	static const char *bad[] = { "", "bogus", "spin", "spin:", "spin:0",
	    "spin:x", "mlp:1,2", "mlp:1,2,", "mlp:0,2,3", "mlp:1,2,3,4",
	    "mlp:5000,2,3", "constraints:", "constraints:-1", "nonex:3",
	    "none:1", "memtouch", "memtouch:0", "memtouch:1048577",
	    "memtouch:4k", NULL };
	struct pk_rtwork w;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; good[i] != NULL; i++) {
		if (pk_rtwork_parse(&w, good[i], err, sizeof(err)) != 0)
			fail_msg("refused '%s': %s", good[i], err);
		assert_non_null(w.type);
		assert_int_equal(strncmp(good[i], w.type->name,
		    strlen(w.type->name)), 0);
		pk_rtwork_release(&w);
	}
	for (i = 0; bad[i] != NULL; i++) {
		err[0] = '\0';
		if (pk_rtwork_parse(&w, bad[i], err, sizeof(err)) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(err[0] != '\0');
		assert_null(w.type);
		assert_null(w.ctx);
		pk_rtwork_release(&w);
	}
}

/*
 * The error of a bad spec names the workload; that of an unknown name
 * lists every row of the table as --workload takes it.
 */
static void
test_errors_come_from_the_table(void **state)
{
	const struct pk_rtwork_type *const *t;
	struct pk_rtwork w;
	char list[512], err[256], want[64];

	(void)state;
	assert_int_equal(pk_rtwork_parse(&w, "nope:1", list, sizeof(list)), -1);
	assert_non_null(strstr(list, "unknown workload 'nope:1' ("));
	for (t = pk_rtwork_types; *t != NULL; t++) {
		snprintf(want, sizeof(want), "%s%s%s", (*t)->name,
		    (*t)->args != NULL ? ":" : "",
		    (*t)->args != NULL ? (*t)->args : "");
		if (strstr(list, want) == NULL)
			fail_msg("'%s' is not listed in: %s", want, list);
		/* Each row is found by its name, and a bad ARGS names it. */
		assert_ptr_equal(pk_rtwork_find((*t)->name,
		    strlen((*t)->name)), *t);
		snprintf(want, sizeof(want), "%s:x,", (*t)->name);
		assert_int_equal(pk_rtwork_parse(&w, want, err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, (*t)->name));
		assert_non_null((*t)->step);
		assert_non_null((*t)->help);
		/* Counters are read whole into PK_RTWORK_MAXCOUNTERS. */
		if ((*t)->counters != NULL) {
			size_t n = 0;

			while ((*t)->counters[n] != NULL)
				n++;
			assert_true(n <= PK_RTWORK_MAXCOUNTERS);
			assert_non_null((*t)->count);
		}
	}
	assert_null(pk_rtwork_find("spi", 3));
	assert_null(pk_rtwork_find("spinx", 5));
}

static unsigned long long
counter(const struct pk_rtwork *w, const char *name)
{
	unsigned long long v[PK_RTWORK_MAXCOUNTERS];
	const char *names[PK_RTWORK_MAXCOUNTERS];
	size_t i, n;

	n = pk_rtwork_counters(w, names, v);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return v[i];
	fail_msg("no counter '%s'", name);
	return 0;
}

/* After init, steps allocate nothing, and the results are deterministic. */
static void
test_steps_do_not_allocate(void **state)
{
	struct pk_rtwork a, b, c, d;
	unsigned long before;
	char err[256];
	uint64_t t;

	(void)state;
	assert_int_equal(pk_rtwork_parse(&a, "mlp:8,32,2", err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_init(&a, err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_parse(&b, "constraints:500", err,
	    sizeof(err)), 0);
	assert_int_equal(pk_rtwork_init(&b, err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_parse(&c, "memtouch:16", err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_init(&c, err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_parse(&d, "none", err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_init(&d, err, sizeof(err)), 0);
	before = pk_mock_malloc_count;
	for (t = 0; t < 1000; t++) {
		assert_int_equal(pk_rtwork_step(&a, t), 0);
		assert_int_equal(pk_rtwork_step(&b, t), 0);
		assert_int_equal(pk_rtwork_step(&c, t), 0);
		assert_int_equal(pk_rtwork_step(&d, t), 0);
	}
	assert_int_equal(pk_mock_malloc_count, before);
	/* Some, not all, of 500 random half-spaces are violated. */
	assert_true(counter(&b, "violations") > 0);
	assert_true(counter(&b, "violations") < 500ULL * 1000);
	pk_rtwork_release(&a);
	pk_rtwork_release(&b);
	pk_rtwork_release(&c);
	pk_rtwork_release(&d);
}

/*
 * memtouch: step t writes (t + 1) mod 256 in every 64-byte line after
 * adding what it overwrites, so after n steps the checksum is lines times
 * the sum of t mod 256 for t < n: a line skipped or touched twice shows.
 */
static void
test_memtouch_touches_every_line(void **state)
{
	static const unsigned kb[] = { 1, 3, 64, 1000 };
	unsigned long long want, sum;
	struct pk_rtwork w;
	char spec[32], err[256];
	size_t i;
	uint64_t t;

	(void)state;
	for (i = 0; i < sizeof(kb) / sizeof(kb[0]); i++) {
		snprintf(spec, sizeof(spec), "memtouch:%u", kb[i]);
		assert_int_equal(pk_rtwork_parse(&w, spec, err, sizeof(err)), 0);
		assert_int_equal(pk_rtwork_init(&w, err, sizeof(err)), 0);
		assert_int_equal(counter(&w, "checksum"), 0);
		sum = 0;
		for (t = 0; t < 300; t++) {
			assert_int_equal(pk_rtwork_step(&w, t), 0);
			sum += t % 256;
		}
		want = (unsigned long long)kb[i] * 1024 / 64 * sum;
		if (counter(&w, "checksum") != want)
			fail_msg("%s: checksum %llu, want %llu", spec,
			    counter(&w, "checksum"), want);
		pk_rtwork_release(&w);
	}
}

static void
test_spin_takes_its_time(void **state)
{
	struct pk_rtwork w;
	char err[256];
	int64_t t0;

	(void)state;
	assert_int_equal(pk_rtwork_parse(&w, "spin:2000", err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_init(&w, err, sizeof(err)), 0);
	t0 = pk_mono_ns();
	assert_int_equal(pk_rtwork_step(&w, 0), 0);
	assert_true(pk_mono_ns() - t0 >= 2000000);
	pk_rtwork_release(&w);
}

static void
test_plugin_missing(void **state)
{
	struct pk_rtwork w;
	char err[256];

	(void)state;
	assert_int_equal(pk_rtwork_plugin(&w, "/nonexistent/x.so:args", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/x.so"));
	assert_null(w.type);
	pk_rtwork_release(&w);
}

/* A plugin in this file: it counts its steps and fails every third. */
static int plug_finis;

static int
plug_init(void **ctx, const char *args)
{
	unsigned long long *n;

	if (args != NULL && strcmp(args, "refuse") == 0)
		return 1;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return 1;
	*ctx = n;
	return 0;
}

static int
plug_step(void *ctx, unsigned long long tick)
{
	unsigned long long *n = ctx;

	(*n)++;
	return tick % 3 == 2;
}

static void
plug_fini(void *ctx)
{
	plug_finis++;
	free(ctx);
}

/* A plugin and a built-in run through the same entry points. */
static void
test_plugin_and_builtin_alike(void **state)
{
	struct pk_rtwork w[2];
	char err[256];
	unsigned errs[2] = { 0, 0 };
	size_t i;
	uint64_t t;

	(void)state;
	assert_int_equal(pk_rtwork_plugin_abi(&w[0], "test", "refuse",
	    plug_init, plug_step, plug_fini, err, sizeof(err)), -1);
	assert_string_equal(err, "'test': rtloop_init failed");
	pk_rtwork_release(&w[0]);
	assert_int_equal(plug_finis, 0);

	assert_int_equal(pk_rtwork_plugin_abi(&w[0], "test", NULL, plug_init,
	    plug_step, plug_fini, err, sizeof(err)), 0);
	assert_int_equal(pk_rtwork_parse(&w[1], "constraints:10", err,
	    sizeof(err)), 0);
	assert_string_equal(w[0].type->name, "plugin");
	/* The plugin's step is its own rtloop_step: one indirect call. */
	assert_ptr_equal(w[0].type->step, plug_step);
	for (i = 0; i < 2; i++)
		assert_int_equal(pk_rtwork_init(&w[i], err, sizeof(err)), 0);
	for (t = 0; t < 9; t++)
		for (i = 0; i < 2; i++)
			errs[i] += pk_rtwork_step(&w[i], t) != 0;
	assert_int_equal(errs[0], 3);
	assert_int_equal(errs[1], 0);
	assert_int_equal(*(unsigned long long *)w[0].ctx, 9);
	{
		const char *names[PK_RTWORK_MAXCOUNTERS];
		unsigned long long v[PK_RTWORK_MAXCOUNTERS];

		assert_int_equal(pk_rtwork_counters(&w[0], names, v), 0);
		assert_int_equal(pk_rtwork_counters(&w[1], names, v), 1);
		assert_string_equal(names[0], "violations");
	}
	for (i = 0; i < 2; i++)
		pk_rtwork_release(&w[i]);
	assert_int_equal(plug_finis, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors_come_from_the_table),
		cmocka_unit_test(test_steps_do_not_allocate),
		cmocka_unit_test(test_memtouch_touches_every_line),
		cmocka_unit_test(test_spin_takes_its_time),
		cmocka_unit_test(test_plugin_missing),
		cmocka_unit_test(test_plugin_and_builtin_alike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
