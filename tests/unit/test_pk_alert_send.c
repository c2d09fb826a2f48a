/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "pk_alert_send.h"
#include "pk_io.h"

static void
test_rfc3339(void **state)
{
	char buf[64];

	(void)state;
	pk_alert_rfc3339(1732300000.125, buf, sizeof(buf));
	assert_string_equal(buf, "2024-11-22T18:26:40.125Z");
	pk_alert_rfc3339(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static const char *
am_label(const json_t *am, const char *name)
{
	return json_string_value(json_object_get(json_object_get(am,
	    "labels"), name));
}

static void
test_am(void **state)
{
	json_t *rec = json_pack("{s:s,s:f,s:s,s:f,s:{s:s,s:s},s:{s:s}}",
	    "state", "firing", "ts", 1732300010.0, "severity", "CRITICAL",
	    "since", 1732300000.0, "labels", "alertname", "hot", "host", "pi4",
	    "annotations", "summary", "SoC hot");
	struct pk_alert_am_form lower = { 0, NULL };
	struct pk_alert_am_form upper = { 1, "http://grafana/d/x?host=pi4" };
	json_t *am = pk_alert_am(rec, 1732300100.0, &lower);

	(void)state;
	/* Lower case by default, as Prometheus users write it. */
	assert_string_equal(am_label(am, "severity"), "critical");
	assert_string_equal(am_label(am, "host"), "pi4");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(am, "annotations"), "summary")), "SoC hot");
	assert_string_equal(json_string_value(json_object_get(am, "startsAt")),
	    "2024-11-22T18:26:40.000Z");
	assert_string_equal(json_string_value(json_object_get(am, "endsAt")),
	    "2024-11-22T18:28:20.000Z");
	/* No generator_url: no generatorURL at all. */
	assert_null(json_object_get(am, "generatorURL"));
	json_decref(am);
	am = pk_alert_am(rec, 1732300100.0, &upper);
	assert_string_equal(am_label(am, "severity"), "CRITICAL");
	assert_string_equal(json_string_value(json_object_get(am,
	    "generatorURL")), "http://grafana/d/x?host=pi4");
	json_decref(am);
	/* The rule's own severity label is kept, whatever the case asked. */
	json_object_set_new(json_object_get(rec, "labels"), "severity",
	    json_string("page"));
	am = pk_alert_am(rec, 1732300100.0, &upper);
	assert_string_equal(am_label(am, "severity"), "page");
	json_decref(am);
	/* Resolved: endsAt is the time of the resolution. */
	json_object_set_new(rec, "state", json_string("resolved"));
	am = pk_alert_am(rec, 1732300100.0, &lower);
	assert_string_equal(json_string_value(json_object_get(am, "endsAt")),
	    "2024-11-22T18:26:50.000Z");
	json_decref(am);
	json_decref(rec);
}

static void
test_command(void **state)
{
	char tmpl[] = "/tmp/pk_alert_send.XXXXXX", cmd[256], err[4096] = "";
	char *env[] = { (char *)"PERF_ALERT_RULE=hot", NULL }, *got;
	atomic_int stop;
	size_t n;

	(void)state;
	atomic_init(&stop, 0);
	assert_non_null(mkdtemp(tmpl));
	/* Its environment: env and PATH, nothing else of ours. */
	setenv("PK_TEST_SECRET", "s3cret", 1);
	snprintf(cmd, sizeof(cmd), "{ echo \"$PERF_ALERT_RULE\"; cat; "
	    "env | grep -v '^PWD=\\|^SHLVL=\\|^_=' | sort; } >%s/out", tmpl);
	assert_int_equal(pk_alert_command(cmd, env, "{\"a\":1}", 7, 5, &stop,
	    err, sizeof(err)), 0);
	unsetenv("PK_TEST_SECRET");
	snprintf(cmd, sizeof(cmd), "%s/out", tmpl);
	assert_int_equal(pk_read_file(cmd, &got, &n), 0);
	snprintf(err, sizeof(err), "hot\n{\"a\":1}\nPATH=%s\nPERF_ALERT_RULE=hot\n",
	    getenv("PATH"));
	assert_string_equal(got, err);
	free(got);
	unlink(cmd);
	rmdir(tmpl);
	/* A failure, a command that ignores its input, a timeout. */
	assert_int_equal(pk_alert_command("exit 3", NULL, "x", 1, 5, &stop,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "command exited with status 3");
	assert_int_equal(pk_alert_command("sleep 5", NULL, "x", 1, 0.2, &stop,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "command timed out");
	atomic_store(&stop, 1);
	assert_int_equal(pk_alert_command("sleep 5", NULL, "", 0, 60, &stop,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "command stopped");
}

static void
test_unreachable(void **state)
{
	struct pk_alert_smtp s = { "smtp://127.0.0.1:1", "a@example.org",
		NULL, 0, NULL, NULL, NULL, 0, 2 };
	char *to[] = { (char *)"b@example.org" };
	char err[256] = "";
	atomic_int stop;

	(void)state;
	atomic_init(&stop, 0);
	s.to = to;
	s.nto = 1;
	assert_int_equal(pk_alert_http_post("http://127.0.0.1:1/", "{}", "k",
	    2, &stop, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "127.0.0.1"));
	assert_int_equal(pk_alert_smtp_send(&s, "Subject: x\r\n\r\nx\r\n", 16,
	    &stop, err, sizeof(err), NULL), -1);
	assert_true(err[0] != '\0');
}

/* A header value with a line break is refused before any connection. */
static void
test_header_linebreak(void **state)
{
	const char *headers[] = { "Tags: a", "Title: x\r\nX-Injected: 1", NULL };
	struct pk_alert_http h = { "http://127.0.0.1:1/", "hi", 2,
		"text/plain", headers, 2 };
	char err[256] = "";
	atomic_int stop;
	long status = 7;

	(void)state;
	atomic_init(&stop, 0);
	assert_int_equal(pk_alert_http_request(&h, &stop, &status, err,
	    sizeof(err)), -1);
	assert_int_equal(status, 0);
	assert_string_equal(err, "a header with a line break");
	headers[1] = NULL;
	assert_int_equal(pk_alert_http_request(&h, &stop, &status, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "127.0.0.1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_am),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_header_linebreak),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
