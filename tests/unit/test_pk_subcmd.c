/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "pk_subcmd.h"

static int last_argc;
static char *last_arg;

static int
run_ack(void *ctx, int argc, char **argv)
{
	(void)ctx;
	last_argc = argc;
	last_arg = argc > 0 ? argv[0] : NULL;
	return 7;
}

static const int ack_opts[] = { 'c', 's', 'm', 0 };
static const struct pk_subcmd table[] = {
	{ "ack", ack_opts, 1, -1, run_ack },
	{ "stats", NULL, 0, 0, run_ack },
	{ NULL, NULL, 0, 0, NULL }
};

static void
test_dispatch(void **state)
{
	struct pk_subcmd_seen seen = { { 0 }, 0 };
	char a0[] = "ack", a1[] = "abc", f0[] = "input.jsonl";
	char *argv[] = { a0, a1, NULL };
	char *files[] = { f0, NULL };
	int ran;

	(void)state;
	assert_ptr_equal(pk_subcmd_find(table, "stats"), &table[1]);
	assert_null(pk_subcmd_find(table, "ac"));
	pk_subcmd_seen(&seen, 'c');
	pk_subcmd_seen(&seen, 'm');
	pk_subcmd_seen(&seen, 'c');
	assert_int_equal(seen.n, 2);
	assert_int_equal(pk_subcmd_dispatch(table, &seen, NULL, "usage", 2,
	    argv, NULL, &ran), 7);
	assert_true(ran);
	assert_int_equal(last_argc, 1);
	assert_string_equal(last_arg, "abc");
	/* Not a subcommand: an input file, nothing run. */
	assert_int_equal(pk_subcmd_dispatch(table, &seen, NULL, "usage", 1,
	    files, NULL, &ran), 0);
	assert_false(ran);
	assert_int_equal(pk_subcmd_dispatch(table, &seen, NULL, "usage", 0,
	    files, NULL, &ran), 0);
	assert_false(ran);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
