/* SPDX-License-Identifier: MIT */
#include "pk_alert_expr.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pk_num.h"

static const char *const sevnames[] = { "INFO", "WARNING", "CRITICAL",
	"EMERGENCY" };

int
pk_alert_severity(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(sevnames) / sizeof(sevnames[0]); i++)
		if (strcasecmp(s, sevnames[i]) == 0)
			return (int)i;
	return -1;
}

const char *
pk_alert_severity_name(int level)
{
	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	return sevnames[level];
}

static const char *
skipws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Parse one comparison at *sp; advance *sp past it. */
static int
parse_cmp(struct pk_alert_cmp *c, const char **sp, struct pk_jpaths *ps,
    const char **why)
{
	const char *s = skipws(*sp), *b;
	char numbuf[64];
	size_t n;

	memset(c, 0, sizeof(*c));
	b = s;
	while (isalnum((unsigned char)*s) || *s == '_' || *s == '.' ||
	    *s == '-')
		s++;
	if (s == b || b[0] == '.' || s[-1] == '.') {
		*why = "expected a dotted path";
		return -1;
	}
	c->path = strndup(b, (size_t)(s - b));
	if (c->path == NULL) {
		*why = "out of memory";
		return -1;
	}
	s = skipws(s);
	if (s[0] == '>' && s[1] == '=')
		c->op = PK_AOP_GE, s += 2;
	else if (s[0] == '<' && s[1] == '=')
		c->op = PK_AOP_LE, s += 2;
	else if (s[0] == '=' && s[1] == '=')
		c->op = PK_AOP_EQ, s += 2;
	else if (s[0] == '!' && s[1] == '=')
		c->op = PK_AOP_NE, s += 2;
	else if (s[0] == '>')
		c->op = PK_AOP_GT, s += 1;
	else if (s[0] == '<')
		c->op = PK_AOP_LT, s += 1;
	else {
		*why = "expected an operator (> >= < <= == !=)";
		return -1;
	}
	s = skipws(s);
	if (*s == '"' || *s == '\'') {
		char q = *s++;

		b = s;
		while (*s != '\0' && *s != q)
			s++;
		if (*s != q) {
			*why = "unterminated string";
			return -1;
		}
		c->lit = PK_ALIT_STR;
		c->str = strndup(b, (size_t)(s - b));
		if (c->str == NULL) {
			*why = "out of memory";
			return -1;
		}
		s++;
	} else if (strncmp(s, "true", 4) == 0 || strncmp(s, "false", 5) == 0) {
		c->lit = PK_ALIT_BOOL;
		c->num = s[0] == 't';
		s += s[0] == 't' ? 4 : 5;
	} else {
		const char *w;

		b = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		n = (size_t)(s - b);
		if (n == 0 || n >= sizeof(numbuf)) {
			*why = "expected a number, a quoted string, true or false";
			return -1;
		}
		memcpy(numbuf, b, n);
		numbuf[n] = '\0';
		if (pk_parse_double(numbuf, -HUGE_VAL, HUGE_VAL, &c->num,
		    &w) == -1) {
			*why = "expected a number, a quoted string, true or false";
			return -1;
		}
		c->lit = PK_ALIT_NUM;
	}
	if ((c->lit != PK_ALIT_NUM) && c->op != PK_AOP_EQ &&
	    c->op != PK_AOP_NE) {
		*why = "strings and booleans compare only with == and !=";
		return -1;
	}
	c->id = pk_jpaths_add(ps, c->path);
	if (c->id < 0) {
		*why = "invalid path";
		return -1;
	}
	*sp = s;
	return 0;
}

int
pk_alert_cond_parse(struct pk_alert_cond *c, const char *s,
    struct pk_jpaths *ps, const char **why)
{
	struct pk_alert_cmp *nc;

	memset(c, 0, sizeof(*c));
	for (;;) {
		nc = realloc(c->cmp, (c->n + 1) * sizeof(*nc));
		if (nc == NULL) {
			*why = "out of memory";
			return -1;
		}
		c->cmp = nc;
		if (parse_cmp(&c->cmp[c->n], &s, ps, why) == -1) {
			c->n++;
			return -1;
		}
		c->n++;
		s = skipws(s);
		if (*s == '\0')
			return 0;
		if (strncmp(s, "and", 3) == 0 && (s[3] == ' ' || s[3] == '\t'))
			s += 3;
		else if (s[0] == '&' && s[1] == '&')
			s += 2;
		else {
			*why = "expected 'and' or the end of the condition";
			return -1;
		}
	}
}

void
pk_alert_cond_release(struct pk_alert_cond *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->cmp[i].path);
		free(c->cmp[i].str);
	}
	free(c->cmp);
	c->cmp = NULL;
	c->n = 0;
}

static int
cmpnum(enum pk_alert_op op, double a, double b)
{
	switch (op) {
	case PK_AOP_GT: return a > b;
	case PK_AOP_GE: return a >= b;
	case PK_AOP_LT: return a < b;
	case PK_AOP_LE: return a <= b;
	case PK_AOP_EQ: return a == b;
	case PK_AOP_NE: return a != b;
	}
	return 0;
}

int
pk_alert_cond_eval(const struct pk_alert_cond *c, const struct pk_jval *vals,
    double *value)
{
	int result = 1, eq;
	size_t i;

	*value = NAN;
	for (i = 0; i < c->n; i++) {
		const struct pk_alert_cmp *m = &c->cmp[i];
		const struct pk_jval *v = &vals[m->id];
		double x;

		switch (m->lit) {
		case PK_ALIT_NUM:
			if (v->type != PK_JNUM)
				return -1;
			x = pk_jval_num(v);
			if (isnan(*value))
				*value = x;
			if (!cmpnum(m->op, x, m->num))
				result = 0;
			break;
		case PK_ALIT_STR:
			if (v->type != PK_JSTR)
				return -1;
			eq = pk_jval_streq(v, m->str);
			if (eq != (m->op == PK_AOP_EQ))
				result = 0;
			break;
		case PK_ALIT_BOOL:
			if (v->type != PK_JTRUE && v->type != PK_JFALSE)
				return -1;
			eq = (v->type == PK_JTRUE) == (m->num != 0);
			if (eq != (m->op == PK_AOP_EQ))
				result = 0;
			break;
		}
	}
	return result;
}

double
pk_alert_cond_threshold(const struct pk_alert_cond *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->cmp[i].lit == PK_ALIT_NUM)
			return c->cmp[i].num;
	return NAN;
}

double
pk_alert_flap_pct(const struct pk_alert_flap *f)
{
	double sum = 0;
	int i, nchanges;

	if (f->n < 2)
		return 0;
	nchanges = f->n - 1;
	/*
	 * Transition i is between state i+1 (older) and state i (newer);
	 * bit 0 is the newest. The oldest transition weighs 0.8, the newest
	 * 1.2, linearly between, over the PK_ALERT_FLAP_N - 1 slots.
	 */
	for (i = 0; i < nchanges; i++) {
		int a = (f->bits >> i) & 1, b = (f->bits >> (i + 1)) & 1;

		if (a != b)
			sum += 0.8 + 0.4 * (double)(PK_ALERT_FLAP_N - 2 - i) /
			    (double)(PK_ALERT_FLAP_N - 2);
	}
	return 100.0 * sum / (double)(PK_ALERT_FLAP_N - 1);
}

int
pk_alert_flap_add(struct pk_alert_flap *f, int state, double low, double high)
{
	int was = f->flapping;

	f->bits = ((f->bits << 1) | (state ? 1u : 0u)) &
	    ((1u << PK_ALERT_FLAP_N) - 1);
	if (f->n < PK_ALERT_FLAP_N)
		f->n++;
	f->pct = pk_alert_flap_pct(f);
	if (!f->flapping && f->pct >= high)
		f->flapping = 1;
	else if (f->flapping && f->pct < low)
		f->flapping = 0;
	return f->flapping != was;
}

size_t
pk_alert_template(const char *tpl,
    const char *(*lookup)(const char *name, size_t len, void *arg), void *arg,
    char *out, size_t size)
{
	size_t o = 0;

#define PUT(ch) do { \
		char c_ = (ch); \
		if (o + 1 < size) \
			out[o] = c_; \
		o++; \
	} while (0)
	while (*tpl != '\0') {
		const char *end;

		if (tpl[0] == '{' && tpl[1] == '{' &&
		    (end = strstr(tpl + 2, "}}")) != NULL) {
			const char *nb = tpl + 2, *ne = end, *v;

			while (nb < ne && *nb == ' ')
				nb++;
			while (ne > nb && ne[-1] == ' ')
				ne--;
			v = lookup(nb, (size_t)(ne - nb), arg);
			if (v != NULL)
				while (*v != '\0')
					PUT(*v++);
			tpl = end + 2;
			continue;
		}
		PUT(*tpl);
		tpl++;
	}
#undef PUT
	if (size > 0)
		out[o < size ? o : size - 1] = '\0';
	return o;
}
