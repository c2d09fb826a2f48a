/* SPDX-License-Identifier: MIT */
#include "pk_profsev.h"

#include <math.h>
#include <string.h>

static const char *const names[] = { "low", "medium", "high", "critical" };

const char *
pk_profsev_name(int level)
{
	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	return names[level];
}

double
pk_profsev_excess(double v, double thr, int floor)
{
	double d = floor ? thr - v : v - thr;

	if (isnan(v) || isnan(thr))
		return NAN;
	if (thr == 0)
		return d > 0 ? INFINITY : d < 0 ? -INFINITY : 0;
	return d / fabs(thr);
}

static int
far_level(double e)
{
	if (e >= 0.50)
		return 3;
	if (e >= 0.25)
		return 2;
	if (e >= 0.10)
		return 1;
	return 0;
}

static int
long_level(double d, double after1, double after2)
{
	if (d >= after2)
		return 2;
	if (d >= after1)
		return 1;
	return 0;
}

int
pk_profsev_level(double e, double d, int cur)
{
	return pk_profsev_level_steps(e, d, cur, 60, 300);
}

int
pk_profsev_level_steps(double e, double d, int cur, double after1,
    double after2)
{
	int lv, lo;

	lv = far_level(e) + long_level(d, after1, after2);
	if (lv > 3)
		lv = 3;
	if (cur >= 0 && lv < cur) {
		lo = far_level(e + PK_PROFSEV_HYST) +
		    long_level(d, after1, after2);
		if (lo > 3)
			lo = 3;
		lv = lo < cur ? lo : cur;
	}
	return lv;
}

int
pk_profsev_update(struct pk_profsev *s, double t, double e, int past,
    int clear)
{
	int lv;

	if (!s->active) {
		if (!past)
			return PK_EDGE_NONE;
		s->active = 1;
		s->since = t;
		s->level = s->peak = pk_profsev_level(e, 0, -1);
		return PK_EDGE_START;
	}
	if (clear) {
		s->active = 0;
		return PK_EDGE_END;
	}
	lv = pk_profsev_level_steps(e > 0 ? e : 0, t - s->since, s->level,
	    s->after1 > 0 ? s->after1 : 60, s->after2 > 0 ? s->after2 : 300);
	if (lv == s->level)
		return PK_EDGE_NONE;
	s->level = lv;
	if (lv > s->peak)
		s->peak = lv;
	return PK_EDGE_CHANGE;
}

/* Skip a string starting at the opening quote; returns the index after it. */
static size_t
skip_str(const char *p, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i + 1;
	}
	return n;
}

static size_t
skip_ws(const char *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	return i;
}

int
pk_profsev_obj_next(const struct pk_jval *obj, size_t *pos,
    struct pk_jval *key, struct pk_jval *val)
{
	const char *p = obj->p;
	size_t n = obj->len, i = *pos, j;
	int depth;

	if (obj->type != PK_JOBJ)
		return 0;
	if (i == 0)
		i = skip_ws(p, 0, n) + 1;	/* past '{' */
	i = skip_ws(p, i, n);
	if (i < n && p[i] == ',')
		i = skip_ws(p, i + 1, n);
	if (i >= n || p[i] != '"')
		return 0;
	j = skip_str(p, i, n);
	memset(key, 0, sizeof(*key));
	key->type = PK_JSTR;
	key->p = p + i + 1;
	key->len = j - i - 2;
	key->escaped = memchr(key->p, '\\', key->len) != NULL;
	i = skip_ws(p, j, n);
	i = skip_ws(p, i + 1, n);	/* past ':' */
	memset(val, 0, sizeof(*val));
	j = i;
	switch (i < n ? p[i] : '\0') {
	case '"':
		j = skip_str(p, i, n);
		val->type = PK_JSTR;
		val->p = p + i + 1;
		val->len = j - i - 2;
		val->escaped = memchr(val->p, '\\', val->len) != NULL;
		*pos = j;
		return 1;
	case '{':
	case '[':
		val->type = p[i] == '{' ? PK_JOBJ : PK_JARR;
		for (depth = 0; j < n; ) {
			if (p[j] == '"') {
				j = skip_str(p, j, n);
				continue;
			}
			if (p[j] == '{' || p[j] == '[')
				depth++;
			else if ((p[j] == '}' || p[j] == ']') && --depth == 0) {
				j++;
				break;
			}
			j++;
		}
		break;
	default:
		while (j < n && p[j] != ',' && p[j] != '}' && p[j] != ' ' &&
		    p[j] != '\t' && p[j] != '\n' && p[j] != '\r')
			j++;
		if (p[i] == 't')
			val->type = PK_JTRUE;
		else if (p[i] == 'f')
			val->type = PK_JFALSE;
		else if (p[i] == 'n')
			val->type = PK_JNULL;
		else
			val->type = PK_JNUM;
		break;
	}
	val->p = p + i;
	val->len = j - i;
	*pos = j;
	return 1;
}
