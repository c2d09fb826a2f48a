/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "pk_httpd.h"
#include "pk_io.h"
#include "pk_outlet.h"
#include "pk_push.h"
#include "pk_time.h"

struct body {
	char buf[65536];
	size_t len;
};

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t k = size * n;

	if (k > sizeof(b->buf) - 1 - b->len)
		k = sizeof(b->buf) - 1 - b->len;
	memcpy(b->buf + b->len, p, k);
	b->len += k;
	b->buf[b->len] = '\0';
	return size * n;
}

/* One request; the status back, the body in b, the Content-Type in ct. */
static long
fetch(int port, const char *method, const char *path, const char *header,
    struct body *b, char *ct, size_t ctsize)
{
	struct curl_slist *h = NULL;
	char url[256];
	long code = 0;
	char *type = NULL;
	CURL *c = curl_easy_init();

	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	b->len = 0;
	b->buf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (header != NULL) {
		h = curl_slist_append(h, header);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
		snprintf(ct, ctsize, "%s", type != NULL ? type : "");
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return code;
}

static void
test_addr(void **state)
{
	char host[64], err[128];
	int port;

	(void)state;
	assert_int_equal(pk_httpd_parse_addr("9100", host, sizeof(host), &port,
	    err, sizeof(err)), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9100);
	assert_int_equal(pk_httpd_parse_addr(":9101", host, sizeof(host),
	    &port, err, sizeof(err)), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(pk_httpd_parse_addr("0.0.0.0:80", host, sizeof(host),
	    &port, err, sizeof(err)), 0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(pk_httpd_parse_addr("[::1]:8080", host, sizeof(host),
	    &port, err, sizeof(err)), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8080);
	assert_int_equal(pk_httpd_parse_addr("::1:80", host, sizeof(host),
	    &port, err, sizeof(err)), -1);
	assert_int_equal(pk_httpd_parse_addr("h:99999", host, sizeof(host),
	    &port, err, sizeof(err)), -1);
	assert_int_equal(pk_httpd_parse_addr("h:x", host, sizeof(host),
	    &port, err, sizeof(err)), -1);
}

static void
test_serve(void **state)
{
	static const char m1[] = "# TYPE x gauge\nx 1\n";
	static const char m2[] = "# TYPE x gauge\nx 2\n";
	struct pk_httpd h;
	struct body b;
	char err[256], ct[128], big[40000];

	(void)state;
	assert_int_equal(pk_httpd_start(&h, "127.0.0.1:0", "perf-test", err,
	    sizeof(err)), 0);
	assert_true(h.port > 0);
	/* Nothing published yet: an empty exposition, not an error. */
	assert_int_equal(fetch(h.port, "GET", "/metrics", NULL, &b, ct,
	    sizeof(ct)), 200);
	assert_int_equal(b.len, 0);
	pk_httpd_publish(&h, m1, strlen(m1));
	assert_int_equal(fetch(h.port, "GET", "/metrics", NULL, &b, ct,
	    sizeof(ct)), 200);
	assert_string_equal(b.buf, m1);
	assert_string_equal(ct, "text/plain; version=0.0.4; charset=utf-8");
	pk_httpd_publish(&h, m2, strlen(m2));
	assert_int_equal(fetch(h.port, "GET", "/metrics", NULL, &b, ct,
	    sizeof(ct)), 200);
	assert_string_equal(b.buf, m2);
	assert_int_equal(fetch(h.port, "HEAD", "/metrics", NULL, &b, ct,
	    sizeof(ct)), 200);
	assert_int_equal(b.len, 0);
	assert_int_equal(fetch(h.port, "GET", "/healthz", NULL, &b, ct,
	    sizeof(ct)), 200);
	assert_string_equal(b.buf, "ok\n");
	assert_int_equal(fetch(h.port, "GET", "/", NULL, &b, ct, sizeof(ct)),
	    200);
	assert_non_null(strstr(b.buf, "perf-test"));
	assert_int_equal(fetch(h.port, "GET", "/etc/passwd", NULL, &b, ct,
	    sizeof(ct)), 404);
	assert_int_equal(fetch(h.port, "POST", "/metrics", NULL, &b, ct,
	    sizeof(ct)), 405);
	assert_int_equal(fetch(h.port, "DELETE", "/metrics", NULL, &b, ct,
	    sizeof(ct)), 405);
	/* A header larger than a connection may hold. */
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', sizeof(big) - 8);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(fetch(h.port, "GET", "/metrics", big, &b, ct,
	    sizeof(ct)), 431);
	/* And it still serves. */
	assert_int_equal(fetch(h.port, "GET", "/metrics", NULL, &b, ct,
	    sizeof(ct)), 200);
	assert_true(h.scrapes == 5);
	assert_true(h.rejected == 3);
	pk_httpd_stop(&h);
}

static void
test_push_url(void **state)
{
	const char *const extra[] = { "command", "make test/all", NULL };
	char *u;

	(void)state;
	u = pk_push_url("http://127.0.0.1:9091/", "perf-bench", "bot 1", NULL);
	assert_string_equal(u, "http://127.0.0.1:9091/metrics/job/perf-bench/instance/bot%201");
	free(u);
	/* A '/' or an empty value: the base64 form, one path segment. */
	u = pk_push_url("http://pg:9091", "j", "", extra);
	assert_string_equal(u, "http://pg:9091/metrics/job/j/instance@base64/=/command@base64/bWFrZSB0ZXN0L2FsbA==");
	free(u);
	u = pk_push_url("http://pg:9091/metrics/job/x/instance/y", "j", "i", NULL);
	assert_string_equal(u, "http://pg:9091/metrics/job/x/instance/y");
	free(u);
}

static void
test_push_once(void **state)
{
	struct pk_httpd h;
	char url[128], err[256];
	int port;

	(void)state;
	/* pk_httpd answers a PUT with 405: an error, named. */
	assert_int_equal(pk_httpd_start(&h, "127.0.0.1:0", "t", err,
	    sizeof(err)), 0);
	port = h.port;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics/job/j", port);
	assert_int_equal(pk_push_once(url, "a 1\n", 4, 5, err, sizeof(err)), -1);
	assert_string_equal(err, "HTTP 405");
	pk_httpd_stop(&h);
	/* Nobody there any more. */
	err[0] = '\0';
	assert_int_equal(pk_push_once(url, "a 1\n", 4, 5, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

static void
test_outlet_textfile(void **state)
{
	struct pk_outlet_opts o;
	struct pk_outlet out;
	char dir[] = "/tmp/pk-outlet-XXXXXX", path[128], err[128], *got;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.prom", dir);
	memset(&o, 0, sizeof(o));
	assert_int_equal(pk_outlet_opt(&o, PK_OPT_TEXTFILE, path), 1);
	assert_int_equal(pk_outlet_opt(&o, 'x', NULL), 0);
	assert_int_equal(pk_outlet_start(&out, &o, err, sizeof(err)), 0);
	assert_true(pk_outlet_active(&out));
	pk_outlet_publish(&out, "a 1\n", 4);
	assert_int_equal(pk_read_file(path, &got, &n), 0);
	assert_string_equal(got, "a 1\n");
	free(got);
	/* A directory that is gone: reported, not fatal, and back later. */
	unlink(path);
	rmdir(dir);
	pk_outlet_publish(&out, "a 2\n", 4);
	assert_true(out.textfile_failed);
	assert_int_equal(mkdir(dir, 0700), 0);
	pk_outlet_publish(&out, "a 3\n", 4);
	assert_false(out.textfile_failed);
	assert_int_equal(pk_read_file(path, &got, &n), 0);
	assert_string_equal(got, "a 3\n");
	free(got);
	pk_outlet_stop(&out, 0);
	unlink(path);
	rmdir(dir);
}

/* The SigBlk mask of thread tid, from /proc. */
static unsigned long long
sigblk(const char *tid)
{
	char path[300], line[256];
	unsigned long long m = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "SigBlk: %llx", &m) == 1)
			break;
	fclose(f);
	return m;
}

static void
test_outlet_signals(void **state)
{
	const unsigned long long want = 1ULL << (SIGHUP - 1) |
	    1ULL << (SIGINT - 1) | 1ULL << (SIGTERM - 1);
	struct pk_outlet_opts o;
	struct pk_outlet out;
	struct dirent *e;
	char err[256], self[32];
	sigset_t now;
	DIR *d;
	int others = 0;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.listen = "127.0.0.1:0";
	o.push = "http://127.0.0.1:1";
	assert_int_equal(pk_outlet_start(&out, &o, err, sizeof(err)), 0);
	/* Not due before a first publish, then not within the gap. */
	assert_true(pk_outlet_due(&out, pk_mono()));
	pk_outlet_publish(&out, "a 1\n", 4);
	assert_false(pk_outlet_due(&out, pk_mono()));
	assert_true(pk_outlet_due(&out, pk_mono() + PK_OUTLET_GAP));
	/* The caller's mask is as it was; the outlets' threads block all. */
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	assert_false(sigismember(&now, SIGTERM));
	snprintf(self, sizeof(self), "%d", (int)gettid());
	assert_non_null(d = opendir("/proc/self/task"));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, self) == 0)
			continue;
		assert_true((sigblk(e->d_name) & want) == want);
		others++;
	}
	closedir(d);
	assert_true(others >= 2);
	pk_outlet_stop(&out, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_serve),
		cmocka_unit_test(test_push_url),
		cmocka_unit_test(test_push_once),
		cmocka_unit_test(test_outlet_textfile),
		cmocka_unit_test(test_outlet_signals),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
