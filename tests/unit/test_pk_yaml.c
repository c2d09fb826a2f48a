/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pk_yaml.h"

static struct pk_ydoc *
load(const char *s)
{
	return pk_yaml_load_string("t.yaml", s, strlen(s));
}

static void
test_tree(void **state)
{
	struct pk_ydoc *doc = load(
	    "# comment\n"
	    "interval: 500ms\n"
	    "rules:\n"
	    "  - name: cpu\n"
	    "    expr: \"cpu.util > 90\"\n"
	    "    enabled: yes\n"
	    "  - name: mem\n"
	    "    threshold: 85.5\n");
	struct pk_ynode *rules, *r0, *r1;
	const char *s;
	double d;
	int b;

	(void)state;
	assert_non_null(doc);
	assert_int_equal(doc->root->type, PK_YMAP);
	assert_int_equal(pk_ynode_duration(doc, pk_ymap_get(doc->root, "interval"),
	    0, 10, &d), 0);
	assert_true(d == 0.5);
	rules = pk_ymap_get(doc->root, "rules");
	assert_int_equal(rules->type, PK_YSEQ);
	assert_int_equal(rules->n, 2);
	r0 = rules->items[0];
	r1 = rules->items[1];
	assert_int_equal(pk_ynode_str(doc, pk_ymap_get(r0, "expr"), &s), 0);
	assert_string_equal(s, "cpu.util > 90");
	assert_int_equal(pk_ynode_bool(doc, pk_ymap_get(r0, "enabled"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(pk_ymap_get(r0, "expr")->line, 5);
	assert_int_equal(pk_ymap_get(r0, "expr")->col, 11);
	assert_int_equal(pk_ynode_double(doc, pk_ymap_get(r1, "threshold"), 0,
	    100, &d), 0);
	assert_true(d == 85.5);
	assert_int_equal(pk_ynode_double(doc, pk_ymap_get(r1, "threshold"), 0,
	    50, &d), -1);
	assert_int_equal(doc->errors, 1);
	pk_yaml_free(doc);
}

static void
test_unknown_keys(void **state)
{
	static const char *const allowed[] = { "name", "expr", "for", NULL };
	struct pk_ydoc *doc = load("name: x\nexpt: y\nzzz: 1\n");

	(void)state;
	assert_non_null(doc);
	assert_int_equal(pk_ymap_check(doc, doc->root, "a rule", allowed), 2);
	assert_int_equal(doc->errors, 2);
	pk_yaml_free(doc);
}

static void
test_errors(void **state)
{
	(void)state;
	assert_null(load("a: [1, 2\n"));
	assert_null(load("a: 1\na: 2\n"));
	assert_null(load("a: &x 1\nb: *x\n"));
	assert_null(load("a: 1\n---\nb: 2\n"));
	assert_null(load("\t- bad"));
}

static void
test_empty_and_json(void **state)
{
	struct pk_ydoc *doc = load("# nothing\n");
	json_t *j;
	char *s;

	(void)state;
	assert_non_null(doc);
	assert_null(doc->root);
	pk_yaml_free(doc);
	doc = load("a: 1\nb: 2.5\nc: true\nd: \"7\"\ne: [x, null]\n");
	j = pk_ynode_to_json(doc->root);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"a\":1,\"b\":2.5,\"c\":true,\"d\":\"7\",\"e\":[\"x\",null]}");
	free(s);
	json_decref(j);
	pk_yaml_free(doc);
}

static void
test_missing_file(void **state)
{
	(void)state;
	assert_null(pk_yaml_load_file("/nonexistent/config.yaml"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_empty_and_json),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests_name("pk_yaml", tests, NULL, NULL);
}
