/* SPDX-License-Identifier: MIT */
#include "pk_jscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXDEPTH 128

void
pk_jpaths_init(struct pk_jpaths *ps)
{
	memset(ps, 0, sizeof(*ps));
}

void
pk_jpaths_release(struct pk_jpaths *ps)
{
	int i;

	for (i = 0; i < ps->nnodes; i++)
		free(ps->keys[i]);
	free(ps->keys);
	free(ps->nodes);
	memset(ps, 0, sizeof(*ps));
}

static int
newnode(struct pk_jpaths *ps, const char *key, size_t keylen)
{
	struct pk_jnode *nn;
	char **nk;
	char *k;

	if (ps->nnodes == ps->capnodes) {
		int cap = ps->capnodes ? ps->capnodes * 2 : 16;

		nn = realloc(ps->nodes, (size_t)cap * sizeof(*nn));
		if (nn == NULL)
			return -1;
		ps->nodes = nn;
		nk = realloc(ps->keys, (size_t)cap * sizeof(*nk));
		if (nk == NULL)
			return -1;
		ps->keys = nk;
		ps->capnodes = cap;
	}
	k = malloc(keylen + 1);
	if (k == NULL)
		return -1;
	memcpy(k, key, keylen);
	k[keylen] = '\0';
	ps->keys[ps->nnodes] = k;
	ps->nodes[ps->nnodes].key = k;
	ps->nodes[ps->nnodes].keylen = keylen;
	ps->nodes[ps->nnodes].id = -1;
	ps->nodes[ps->nnodes].child = -1;
	ps->nodes[ps->nnodes].next = -1;
	return ps->nnodes++;
}

int
pk_jpaths_add(struct pk_jpaths *ps, const char *dotted)
{
	const char *p = dotted;
	int parent = -1, cur = -1;

	if (*dotted == '\0')
		return -1;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t kl = dot != NULL ? (size_t)(dot - p) : strlen(p);
		int first, i, n;

		if (kl == 0)
			return -1;
		/* Root level nodes chain from node 0's siblings. */
		first = parent == -1 ? (ps->nnodes > 0 ? 0 : -1) :
		    ps->nodes[parent].child;
		cur = -1;
		for (i = first; i != -1; i = ps->nodes[i].next) {
			if (ps->nodes[i].keylen == kl &&
			    memcmp(ps->nodes[i].key, p, kl) == 0) {
				cur = i;
				break;
			}
		}
		if (cur == -1) {
			n = newnode(ps, p, kl);
			if (n == -1)
				return -1;
			if (first == -1) {
				if (parent != -1)
					ps->nodes[parent].child = n;
			} else {
				for (i = first; ps->nodes[i].next != -1;
				    i = ps->nodes[i].next)
					;
				ps->nodes[i].next = n;
			}
			cur = n;
		}
		parent = cur;
		p += kl;
		if (*p == '.')
			p++;
	}
	if (ps->nodes[cur].id == -1)
		ps->nodes[cur].id = ps->npaths++;
	return ps->nodes[cur].id;
}

struct scan {
	const char *s, *p, *e;
	const struct pk_jpaths *ps;
	struct pk_jval *vals;
	const char *msg;
	int depth;
};

static const unsigned char ws_tab[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1
};

static inline void
skip_ws(struct scan *sc)
{
	while (sc->p < sc->e && ws_tab[(unsigned char)*sc->p])
		sc->p++;
}

static int
fail(struct scan *sc, const char *msg)
{
	sc->msg = msg;
	return -1;
}

/* Validate one UTF-8 sequence at p (first byte >= 0x80); returns its length or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *e)
{
	unsigned c = p[0];
	size_t n, i;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(e - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static inline int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at p, or -1. */
static long
hex4(const unsigned char *p, const unsigned char *e)
{
	long v = 0;
	int i, h;

	if (e - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		h = hexval(p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* At the opening quote; leaves p after the closing quote. */
static int
scan_string(struct scan *sc, const char **start, size_t *len, int *escaped)
{
	const unsigned char *p = (const unsigned char *)sc->p + 1;
	const unsigned char *e = (const unsigned char *)sc->e;
	int esc = 0;

	*start = (const char *)p;
	for (;;) {
		/* Fast path over plain ASCII. */
		while (p < e && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
			p++;
		if (p >= e)
			return fail(sc, "unterminated string");
		if (*p == '"')
			break;
		if (*p < 0x20)
			return fail(sc, "control character in string");
		if (*p == '\\') {
			esc = 1;
			if (p + 1 >= e)
				return fail(sc, "unterminated string");
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				p += 2;
				break;
			case 'u': {
				long cp = hex4(p + 2, e);

				if (cp < 0)
					return fail(sc, "invalid \\u escape");
				p += 6;
				/*
				 * As jansson: no NUL, and surrogates only
				 * in valid pairs, so that every line the
				 * scanner accepts also parses as a tree.
				 */
				if (cp == 0)
					return fail(sc, "\\u0000 in string");
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return fail(sc, "lone low surrogate");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					long lo = e - p >= 6 && p[0] == '\\' &&
					    p[1] == 'u' ? hex4(p + 2, e) : -1;

					if (lo < 0xdc00 || lo > 0xdfff)
						return fail(sc, "lone high surrogate");
					p += 6;
				}
				break;
			}
			default:
				return fail(sc, "invalid escape in string");
			}
			continue;
		}
		{
			size_t n = utf8_len(p, e);

			if (n == 0)
				return fail(sc, "invalid UTF-8 in string");
			p += n;
		}
	}
	*len = (size_t)((const char *)p - *start);
	*escaped = esc;
	sc->p = (const char *)p + 1;
	return 0;
}

static int
scan_number(struct scan *sc)
{
	const char *p = sc->p, *e = sc->e;

	if (p < e && *p == '-')
		p++;
	if (p >= e)
		return fail(sc, "invalid number");
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	} else {
		return fail(sc, "invalid value");
	}
	if (p < e && *p == '.') {
		p++;
		if (p >= e || *p < '0' || *p > '9')
			return fail(sc, "invalid number");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return fail(sc, "invalid number");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	sc->p = p;
	return 0;
}

static int scan_value(struct scan *sc, int node, struct pk_jval *out);

static int
scan_object(struct scan *sc, int node)
{
	const struct pk_jnode *nodes = sc->ps->nodes;
	int first = node == -2 ? -1 : (node == -1 ? (sc->ps->nnodes ? 0 : -1) :
	    nodes[node].child);

	if (++sc->depth > MAXDEPTH)
		return fail(sc, "nesting too deep");
	sc->p++;	/* '{' */
	skip_ws(sc);
	if (sc->p < sc->e && *sc->p == '}') {
		sc->p++;
		sc->depth--;
		return 0;
	}
	for (;;) {
		const char *k;
		size_t kl;
		int esc, i, match = -2;

		skip_ws(sc);
		if (sc->p >= sc->e || *sc->p != '"')
			return fail(sc, "expected a string key");
		if (scan_string(sc, &k, &kl, &esc) == -1)
			return -1;
		skip_ws(sc);
		if (sc->p >= sc->e || *sc->p != ':')
			return fail(sc, "expected ':' after key");
		sc->p++;
		skip_ws(sc);
		if (!esc) {
			for (i = first; i != -1; i = nodes[i].next) {
				if (nodes[i].keylen == kl &&
				    memcmp(nodes[i].key, k, kl) == 0) {
					match = i;
					break;
				}
			}
		}
		if (match >= 0 && nodes[match].id >= 0) {
			if (scan_value(sc, match, &sc->vals[nodes[match].id]) == -1)
				return -1;
		} else if (scan_value(sc, match, NULL) == -1) {
			return -1;
		}
		skip_ws(sc);
		if (sc->p >= sc->e)
			return fail(sc, "unterminated object");
		if (*sc->p == ',') {
			sc->p++;
			continue;
		}
		if (*sc->p == '}') {
			sc->p++;
			sc->depth--;
			return 0;
		}
		return fail(sc, "expected ',' or '}' in object");
	}
}

static int
scan_array(struct scan *sc)
{
	if (++sc->depth > MAXDEPTH)
		return fail(sc, "nesting too deep");
	sc->p++;
	skip_ws(sc);
	if (sc->p < sc->e && *sc->p == ']') {
		sc->p++;
		sc->depth--;
		return 0;
	}
	for (;;) {
		skip_ws(sc);
		if (scan_value(sc, -2, NULL) == -1)
			return -1;
		skip_ws(sc);
		if (sc->p >= sc->e)
			return fail(sc, "unterminated array");
		if (*sc->p == ',') {
			sc->p++;
			continue;
		}
		if (*sc->p == ']') {
			sc->p++;
			sc->depth--;
			return 0;
		}
		return fail(sc, "expected ',' or ']' in array");
	}
}

static int
literal(struct scan *sc, const char *lit, size_t n)
{
	if ((size_t)(sc->e - sc->p) < n || memcmp(sc->p, lit, n) != 0)
		return fail(sc, "invalid value");
	sc->p += n;
	return 0;
}

/*
 * node: the trie node of this value (-2: nobody wants anything below it).
 * out: where to record the value, or NULL.
 */
static int
scan_value(struct scan *sc, int node, struct pk_jval *out)
{
	const char *start = sc->p;
	enum pk_jtype t;
	int esc = 0;

	if (sc->p >= sc->e)
		return fail(sc, "expected a value");
	switch (*sc->p) {
	case '{':
		t = PK_JOBJ;
		if (scan_object(sc, node >= 0 && sc->ps->nodes[node].child != -1 ?
		    node : -2) == -1)
			return -1;
		break;
	case '[':
		t = PK_JARR;
		if (scan_array(sc) == -1)
			return -1;
		break;
	case '"': {
		const char *s;
		size_t l;

		if (scan_string(sc, &s, &l, &esc) == -1)
			return -1;
		if (out != NULL) {
			out->type = PK_JSTR;
			out->p = s;
			out->len = l;
			out->escaped = esc;
		}
		return 0;
	}
	case 't':
		t = PK_JTRUE;
		if (literal(sc, "true", 4) == -1)
			return -1;
		break;
	case 'f':
		t = PK_JFALSE;
		if (literal(sc, "false", 5) == -1)
			return -1;
		break;
	case 'n':
		t = PK_JNULL;
		if (literal(sc, "null", 4) == -1)
			return -1;
		break;
	default:
		t = PK_JNUM;
		if (scan_number(sc) == -1)
			return -1;
		break;
	}
	if (out != NULL) {
		out->type = t;
		out->p = start;
		out->len = (size_t)(sc->p - start);
		out->escaped = 0;
	}
	return 0;
}

int
pk_jscan(const struct pk_jpaths *ps, const char *s, size_t n,
    struct pk_jval *vals, struct pk_jscan_err *err)
{
	struct scan sc;

	if (ps->npaths > 0)
		memset(vals, 0, (size_t)ps->npaths * sizeof(*vals));
	sc.s = s;
	sc.p = s;
	sc.e = s + n;
	sc.ps = ps;
	sc.vals = vals;
	sc.msg = NULL;
	sc.depth = 0;
	skip_ws(&sc);
	if (sc.p >= sc.e || *sc.p != '{') {
		sc.msg = sc.p >= sc.e ? "empty line" : "not a JSON object";
		goto bad;
	}
	if (scan_object(&sc, -1) == -1)
		goto bad;
	skip_ws(&sc);
	if (sc.p != sc.e) {
		sc.msg = "trailing characters after the object";
		goto bad;
	}
	return 0;
bad:
	if (err != NULL) {
		err->col = (size_t)(sc.p - s) + 1;
		err->msg = sc.msg;
	}
	return -1;
}

static const double pow10tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

double
pk_jval_num(const struct pk_jval *v)
{
	const char *p = v->p, *e = v->p + v->len;
	uint64_t m = 0;
	int neg = 0, digits = 0, frac = 0;
	char tmp[64];

	if (v->type != PK_JNUM)
		return 0.0;
	if (p < e && *p == '-')
		neg = 1, p++;
	while (p < e && *p >= '0' && *p <= '9') {
		m = m * 10 + (uint64_t)(*p++ - '0');
		if (m != 0)
			digits++;
	}
	if (p < e && *p == '.') {
		p++;
		while (p < e && *p >= '0' && *p <= '9') {
			m = m * 10 + (uint64_t)(*p++ - '0');
			frac++;
			if (m != 0)
				digits++;
		}
	}
	/* Exact: mantissa below 2^53 and the power of ten exact in a double. */
	if (p == e && digits <= 15 && frac <= 22) {
		double d = (double)m / pow10tab[frac];

		return neg ? -d : d;
	}
	if (v->len >= sizeof(tmp))
		return strtod(v->p, NULL);
	memcpy(tmp, v->p, v->len);
	tmp[v->len] = '\0';
	return strtod(tmp, NULL);
}

static size_t
put_utf8(char *buf, size_t size, size_t o, uint32_t cp)
{
	unsigned char u[4];
	size_t n, i;

	if (cp < 0x80)
		u[0] = (unsigned char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (unsigned char)(0xc0 | (cp >> 6)),
		u[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		u[0] = (unsigned char)(0xe0 | (cp >> 12)),
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
		u[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
	else
		u[0] = (unsigned char)(0xf0 | (cp >> 18)),
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f)),
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
		u[3] = (unsigned char)(0x80 | (cp & 0x3f)), n = 4;
	for (i = 0; i < n; i++, o++)
		if (o + 1 < size)
			buf[o] = (char)u[i];
	return o;
}

size_t
pk_jval_str(const struct pk_jval *v, char *buf, size_t size)
{
	const char *p = v->p, *e = v->p + v->len;
	size_t o = 0;

	if (v->type != PK_JSTR) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	while (p < e) {
		uint32_t cp;

		if (*p != '\\') {
			if (o + 1 < size)
				buf[o] = *p;
			o++, p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			cp = (uint32_t)(hexval(p[1]) << 12 | hexval(p[2]) << 8 |
			    hexval(p[3]) << 4 | hexval(p[4]));
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 7 &&
			    p[1] == '\\' && p[2] == 'u') {
				uint32_t lo = (uint32_t)(hexval(p[3]) << 12 |
				    hexval(p[4]) << 8 | hexval(p[5]) << 4 |
				    hexval(p[6]));

				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					p += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			break;
		default: cp = (unsigned char)*p; break;
		}
		p++;
		o = put_utf8(buf, size, o, cp);
	}
	if (size > 0)
		buf[o < size ? o : size - 1] = '\0';
	return o;
}

int
pk_jval_streq(const struct pk_jval *v, const char *s)
{
	char buf[256];
	size_t n;

	if (v->type != PK_JSTR)
		return 0;
	if (!v->escaped)
		return strlen(s) == v->len && memcmp(v->p, s, v->len) == 0;
	n = pk_jval_str(v, buf, sizeof(buf));
	return n < sizeof(buf) && strcmp(buf, s) == 0;
}
