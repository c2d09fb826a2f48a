/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the JSON-lines reader and both parsers over it: every line goes
 * through pk_jscan (the hot filters' scanner) and jansson (the tree
 * parser), and the two must agree on what is a valid JSON object, apart
 * from the documented differences (jansson refuses numbers out of range,
 * pk_jscan refuses nesting over 128). A disagreement aborts, so the fuzzer reports it as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "pk_jscan.h"
#include "pk_jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
depth_over(const char *s, size_t n, int max)
{
	int d = 0, instr = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
			continue;
		}
		if (s[i] == '"')
			instr = 1;
		else if (s[i] == '{' || s[i] == '[') {
			if (++d > max)
				return 1;
		} else if (s[i] == '}' || s[i] == ']')
			d--;
	}
	return 0;
}

static void
check_line(const struct pk_jpaths *ps, struct pk_jval *vals, const char *line,
    size_t len)
{
	struct pk_jscan_err err;
	json_error_t jerr;
	json_t *j;
	int a, b, i;

	a = pk_jscan(ps, line, len, vals, &err) == 0;
	j = json_loadb(line, len, 0, &jerr);
	b = j != NULL && json_is_object(j);
	if (a) {
		for (i = 0; i < ps->npaths; i++) {
			char buf[64];

			if (vals[i].type == PK_JNUM)
				(void)pk_jval_num(&vals[i]);
			else if (vals[i].type == PK_JSTR)
				(void)pk_jval_str(&vals[i], buf, sizeof(buf));
		}
	}
	if (a && !b) {
		/* jansson's own limits, not grammar. */
		if (strstr(jerr.text, "too big") == NULL &&
		    strstr(jerr.text, "overflow") == NULL &&
		    strstr(jerr.text, "maximum parsing depth") == NULL) {
			fprintf(stderr, "pk_jscan accepted, jansson refused: %s\n",
			    jerr.text);
			abort();
		}
	}
	if (b && !a && !depth_over(line, len, 128)) {
		fprintf(stderr, "jansson accepted, pk_jscan refused: %s\n",
		    err.msg);
		abort();
	}
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pk_jpaths ps;
	static struct pk_jval vals[8];
	static int init;
	struct pk_jsonl r;
	char *line;
	size_t len;
	int fd, st;

	if (!init) {
		pk_jpaths_init(&ps);
		pk_jpaths_add(&ps, "type");
		pk_jpaths_add(&ps, "ts");
		pk_jpaths_add(&ps, "cpu.util");
		pk_jpaths_add(&ps, "a");
		pk_jpaths_add(&ps, "a.b");
		pk_jpaths_add(&ps, "host");
		init = 1;
	}
	fd = memfd_create("fuzz", 0);
	if (fd == -1)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	lseek(fd, 0, SEEK_SET);
	if (pk_jsonl_open(&r, "/dev/null") == -1) {
		close(fd);
		return 0;
	}
	close(r.fd);
	r.fd = fd;
	r.max_line = 4096;
	while ((st = pk_jsonl_next(&r, &line, &len)) != PK_JSONL_EOF) {
		if (st == PK_JSONL_ERROR)
			break;
		if (st == PK_JSONL_LINE) {
			if (strlen(line) != len)
				continue;	/* an embedded NUL: both refuse */
			check_line(&ps, vals, line, len);
		}
	}
	pk_jsonl_release(&r);
	return 0;
}
