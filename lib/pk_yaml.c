/* SPDX-License-Identifier: MIT */
#include "pk_yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "pk_io.h"
#include "pk_num.h"
#include "pk_time.h"

static void
node_free(struct pk_ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			node_free(n->keys[i]);
		node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->str);
	free(n);
}

void
pk_yaml_free(struct pk_ydoc *doc)
{
	if (doc == NULL)
		return;
	node_free(doc->root);
	free(doc->name);
	free(doc);
}

int
pk_yerror(struct pk_ydoc *doc, const struct pk_ynode *node, const char *fmt, ...)
{
	va_list ap;

	if (doc != NULL)
		doc->errors++;
	fprintf(stderr, "%s: ", pk_progname);
	if (doc != NULL && node != NULL)
		fprintf(stderr, "%s:%u:%u: ", doc->name, node->line, node->col);
	else if (doc != NULL)
		fprintf(stderr, "%s: ", doc->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static struct pk_ynode *
node_new(enum pk_ytype t, const yaml_mark_t *m)
{
	struct pk_ynode *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->type = t;
	n->line = (unsigned)m->line + 1;
	n->col = (unsigned)m->column + 1;
	return n;
}

static int
node_push(struct pk_ynode *parent, struct pk_ynode *key, struct pk_ynode *val)
{
	struct pk_ynode **ni, **nk;

	ni = realloc(parent->items, (parent->n + 1) * sizeof(*ni));
	if (ni == NULL)
		return -1;
	parent->items = ni;
	if (parent->type == PK_YMAP) {
		nk = realloc(parent->keys, (parent->n + 1) * sizeof(*nk));
		if (nk == NULL)
			return -1;
		parent->keys = nk;
		parent->keys[parent->n] = key;
	}
	parent->items[parent->n++] = val;
	return 0;
}

struct ystate {
	yaml_parser_t parser;
	struct pk_ydoc *doc;
	int depth;
};

static void
parser_error(struct ystate *st)
{
	yaml_parser_t *p = &st->parser;
	const yaml_mark_t *m = p->problem != NULL ? &p->problem_mark :
	    &p->context_mark;

	st->doc->errors++;
	fprintf(stderr, "%s: %s:%lu:%lu: %s%s%s\n", pk_progname, st->doc->name,
	    (unsigned long)m->line + 1, (unsigned long)m->column + 1,
	    p->problem != NULL ? p->problem : "invalid YAML",
	    p->context != NULL ? " " : "", p->context != NULL ? p->context : "");
}

/* Parse the node that starts with ev (consumed). NULL on error (reported). */
static struct pk_ynode *
parse_node(struct ystate *st, yaml_event_t *ev)
{
	struct pk_ynode *n = NULL, *k, *v;
	yaml_event_t e;
	size_t i;

	if (++st->depth > 64) {
		fprintf(stderr, "%s: %s:%lu:%lu: nesting too deep\n", pk_progname,
		    st->doc->name, (unsigned long)ev->start_mark.line + 1,
		    (unsigned long)ev->start_mark.column + 1);
		st->doc->errors++;
		yaml_event_delete(ev);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = node_new(PK_YSCALAR, &ev->start_mark);
		if (n == NULL)
			break;
		n->str = strndup((const char *)ev->data.scalar.value,
		    ev->data.scalar.length);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (n->str == NULL) {
			node_free(n);
			n = NULL;
		}
		yaml_event_delete(ev);
		break;
	case YAML_ALIAS_EVENT:
		fprintf(stderr, "%s: %s:%lu:%lu: aliases are not supported\n",
		    pk_progname, st->doc->name,
		    (unsigned long)ev->start_mark.line + 1,
		    (unsigned long)ev->start_mark.column + 1);
		st->doc->errors++;
		yaml_event_delete(ev);
		st->depth--;
		return NULL;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int ismap = ev->type == YAML_MAPPING_START_EVENT;

		n = node_new(ismap ? PK_YMAP : PK_YSEQ, &ev->start_mark);
		yaml_event_delete(ev);
		if (n == NULL)
			break;
		for (;;) {
			if (!yaml_parser_parse(&st->parser, &e)) {
				parser_error(st);
				node_free(n);
				st->depth--;
				return NULL;
			}
			if (e.type == YAML_SEQUENCE_END_EVENT ||
			    e.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&e);
				break;
			}
			k = parse_node(st, &e);
			if (k == NULL) {
				node_free(n);
				st->depth--;
				return NULL;
			}
			v = NULL;
			if (ismap) {
				if (k->type != PK_YSCALAR) {
					pk_yerror(st->doc, k, "a key must be a scalar");
					node_free(k);
					node_free(n);
					st->depth--;
					return NULL;
				}
				for (i = 0; i < n->n; i++) {
					if (strcmp(n->keys[i]->str, k->str) == 0) {
						pk_yerror(st->doc, k,
						    "duplicate key '%s' (first at "
						    "line %u)", k->str,
						    n->keys[i]->line);
						node_free(k);
						node_free(n);
						st->depth--;
						return NULL;
					}
				}
				if (!yaml_parser_parse(&st->parser, &e)) {
					parser_error(st);
					node_free(k);
					node_free(n);
					st->depth--;
					return NULL;
				}
				v = parse_node(st, &e);
				if (v == NULL) {
					node_free(k);
					node_free(n);
					st->depth--;
					return NULL;
				}
			}
			if (node_push(n, ismap ? k : NULL, ismap ? v : k) == -1) {
				node_free(k);
				node_free(v);
				node_free(n);
				n = NULL;
				break;
			}
		}
		break;
	}
	default:
		yaml_event_delete(ev);
		break;
	}
	st->depth--;
	if (n == NULL) {
		st->doc->errors++;
		fprintf(stderr, "%s: %s: out of memory\n", pk_progname,
		    st->doc->name);
	}
	return n;
}

struct pk_ydoc *
pk_yaml_load_string(const char *name, const char *s, size_t len)
{
	struct ystate st;
	struct pk_ydoc *doc;
	yaml_event_t ev;
	int done = 0, ndocs = 0;

	doc = calloc(1, sizeof(*doc));
	if (doc == NULL)
		return NULL;
	doc->name = strdup(name);
	if (doc->name == NULL) {
		free(doc);
		return NULL;
	}
	memset(&st, 0, sizeof(st));
	st.doc = doc;
	if (!yaml_parser_initialize(&st.parser)) {
		pk_yaml_free(doc);
		return NULL;
	}
	yaml_parser_set_input_string(&st.parser, (const unsigned char *)s, len);
	while (!done) {
		if (!yaml_parser_parse(&st.parser, &ev)) {
			parser_error(&st);
			goto fail;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			yaml_event_delete(&ev);
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1) {
				fprintf(stderr, "%s: %s:%lu:%lu: only one YAML "
				    "document is allowed\n", pk_progname, name,
				    (unsigned long)ev.start_mark.line + 1,
				    (unsigned long)ev.start_mark.column + 1);
				yaml_event_delete(&ev);
				goto fail;
			}
			yaml_event_delete(&ev);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			doc->root = parse_node(&st, &ev);
			if (doc->root == NULL)
				goto fail;
			break;
		default:
			yaml_event_delete(&ev);
			break;
		}
	}
	yaml_parser_delete(&st.parser);
	/* An empty scalar document (a file of comments) is empty. */
	if (doc->root != NULL && doc->root->type == PK_YSCALAR &&
	    doc->root->plain && doc->root->str[0] == '\0') {
		node_free(doc->root);
		doc->root = NULL;
	}
	return doc;
fail:
	yaml_parser_delete(&st.parser);
	pk_yaml_free(doc);
	return NULL;
}

struct pk_ydoc *
pk_yaml_load_file(const char *path)
{
	struct pk_ydoc *doc;
	char *buf;
	size_t len;

	if (pk_read_file_max(path, PK_YAML_MAX_FILE, &buf, &len) == -1) {
		if (errno == EFBIG)
			pk_warn("%s: larger than %d bytes, the limit of a "
			    "configuration file", path, PK_YAML_MAX_FILE);
		else
			pk_warn_errno("cannot read '%s'", path);
		return NULL;
	}
	doc = pk_yaml_load_string(path, buf, len);
	free(buf);
	return doc;
}

struct pk_ynode *
pk_ymap_get(const struct pk_ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != PK_YMAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->str, key) == 0)
			return map->items[i];
	return NULL;
}

/* Levenshtein distance, capped, for "did you mean". */
static size_t
editdist(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0], tmp;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);

			tmp = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

int
pk_ymap_check(struct pk_ydoc *doc, const struct pk_ynode *map,
    const char *what, const char *const *allowed)
{
	int errs = 0;
	size_t i, j;

	if (pk_ynode_expect(doc, map, PK_YMAP, what) == -1)
		return 1;
	for (i = 0; i < map->n; i++) {
		const char *k = map->keys[i]->str, *best = NULL;
		size_t bd = 3;

		for (j = 0; allowed[j] != NULL; j++) {
			size_t d;

			if (strcmp(allowed[j], k) == 0)
				break;
			d = editdist(k, allowed[j]);
			if (d < bd) {
				bd = d;
				best = allowed[j];
			}
		}
		if (allowed[j] != NULL)
			continue;
		errs++;
		if (best != NULL)
			pk_yerror(doc, map->keys[i], "unknown key '%s' in %s "
			    "(did you mean '%s'?)", k, what, best);
		else
			pk_yerror(doc, map->keys[i], "unknown key '%s' in %s",
			    k, what);
	}
	return errs;
}

static const char *
tname(enum pk_ytype t)
{
	return t == PK_YMAP ? "a mapping" : t == PK_YSEQ ? "a list" : "a scalar";
}

int
pk_ynode_expect(struct pk_ydoc *doc, const struct pk_ynode *n,
    enum pk_ytype type, const char *what)
{
	if (n == NULL)
		return pk_yerror(doc, NULL, "%s is missing", what);
	if (n->type != type)
		return pk_yerror(doc, n, "%s must be %s, not %s", what,
		    tname(type), tname(n->type));
	return 0;
}

int
pk_ynode_str(struct pk_ydoc *doc, const struct pk_ynode *n, const char **out)
{
	if (n == NULL || n->type != PK_YSCALAR)
		return pk_yerror(doc, n, "expected a string, found %s",
		    n != NULL ? tname(n->type) : "nothing");
	*out = n->str;
	return 0;
}

int
pk_ynode_double(struct pk_ydoc *doc, const struct pk_ynode *n, double min,
    double max, double *out)
{
	const char *why;

	if (n == NULL || n->type != PK_YSCALAR)
		return pk_yerror(doc, n, "expected a number, found %s",
		    n != NULL ? tname(n->type) : "nothing");
	if (pk_parse_double(n->str, min, max, out, &why) == -1)
		return pk_yerror(doc, n, "'%s' is %s (expected a number in "
		    "%g..%g)", n->str, why, min, max);
	return 0;
}

int
pk_ynode_int(struct pk_ydoc *doc, const struct pk_ynode *n, long long min,
    long long max, long long *out)
{
	const char *why;
	int64_t v;

	if (n == NULL || n->type != PK_YSCALAR)
		return pk_yerror(doc, n, "expected an integer, found %s",
		    n != NULL ? tname(n->type) : "nothing");
	if (pk_parse_i64(n->str, min, max, &v, &why) == -1)
		return pk_yerror(doc, n, "'%s' is %s (expected an integer in "
		    "%lld..%lld)", n->str, why, min, max);
	*out = v;
	return 0;
}

int
pk_ynode_bool(struct pk_ydoc *doc, const struct pk_ynode *n, int *out)
{
	static const char *const t[] = { "true", "yes", "on", "True", "TRUE", NULL };
	static const char *const f[] = { "false", "no", "off", "False", "FALSE", NULL };
	int i;

	if (n == NULL || n->type != PK_YSCALAR)
		return pk_yerror(doc, n, "expected true or false");
	for (i = 0; t[i] != NULL; i++)
		if (strcmp(n->str, t[i]) == 0)
			return *out = 1, 0;
	for (i = 0; f[i] != NULL; i++)
		if (strcmp(n->str, f[i]) == 0)
			return *out = 0, 0;
	return pk_yerror(doc, n, "'%s' is not true or false", n->str);
}

int
pk_ynode_duration(struct pk_ydoc *doc, const struct pk_ynode *n, double min,
    double max, double *out)
{
	double v;

	if (n == NULL || n->type != PK_YSCALAR)
		return pk_yerror(doc, n, "expected a duration");
	if (pk_duration_parse(n->str, &v) == -1)
		return pk_yerror(doc, n, "'%s' is not a duration (e.g. 500ms, "
		    "30s, 5m, 1h)", n->str);
	if (v < min || v > max)
		return pk_yerror(doc, n, "duration '%s' is out of range "
		    "(%gs..%gs)", n->str, min, max);
	*out = v;
	return 0;
}

json_t *
pk_ynode_to_json(const struct pk_ynode *n)
{
	json_t *j;
	size_t i;

	if (n == NULL)
		return json_null();
	switch (n->type) {
	case PK_YMAP:
		j = json_object();
		for (i = 0; j != NULL && i < n->n; i++)
			json_object_set_new(j, n->keys[i]->str,
			    pk_ynode_to_json(n->items[i]));
		return j;
	case PK_YSEQ:
		j = json_array();
		for (i = 0; j != NULL && i < n->n; i++)
			json_array_append_new(j, pk_ynode_to_json(n->items[i]));
		return j;
	case PK_YSCALAR:
		break;
	}
	if (n->plain) {
		const char *why;
		int64_t iv;
		double dv;

		if (strcmp(n->str, "true") == 0)
			return json_true();
		if (strcmp(n->str, "false") == 0)
			return json_false();
		if (strcmp(n->str, "null") == 0 || strcmp(n->str, "~") == 0 ||
		    n->str[0] == '\0')
			return json_null();
		if (pk_parse_i64(n->str, INT64_MIN, INT64_MAX, &iv, &why) == 0)
			return json_integer(iv);
		if (pk_parse_double(n->str, -HUGE_VAL, HUGE_VAL, &dv, &why) == 0 &&
		    isfinite(dv))
			return json_real(dv);
	}
	return json_string(n->str);
}
