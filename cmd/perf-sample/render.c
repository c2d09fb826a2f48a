/* SPDX-License-Identifier: MIT */
/*
 * The two walks over the metric descriptors: one writes a set's values
 * into the JSON record, the other its samples into the Prometheus
 * exposition. No group renders itself.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf-sample.h"
#include "pk_err.h"
#include "pk_hash.h"
#include "pk_opt.h"

enum { KC_MEMBER, KC_ARRAY, KC_ELEM };

/*
 * The exposition is in base units: what a JSON unit becomes, and the
 * unit that the family's name ends with.
 */
static const struct {
	const char *json, *prom;
	double mul, div;
} units[] = {
	{ "%", "ratio", 1, 100 },
	{ "KiB", "bytes", 1024, 1 },
	{ "KiB/s", "bytes_per_second", 1024, 1 },
	{ "MHz", "hertz", 1e6, 1 },
	{ "s", "seconds", 1, 1 },
	{ "B", "bytes", 1, 1 },
	{ "B/s", "bytes_per_second", 1, 1 },
	{ "1/s", "per_second", 1, 1 },
	{ "C", "celsius", 1, 1 },
};

const char *
ps_utoa(uint64_t v, char *buf)
{
	char *p = buf + 23;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

/* The one copy of the text s[0..n). */
static const char *
intern(struct ps_names *names, const char *s, size_t n)
{
	uint64_t h = pk_hash_fnv1a(PK_HASH_FNV_INIT, s, n);
	unsigned i;

	for (i = 0; i < names->n; i++)
		if (names->h[i] == h && strncmp(names->s[i], s, n) == 0 &&
		    names->s[i][n] == '\0')
			return names->s[i];
	if (names->n == names->cap) {
		names->cap = names->cap ? names->cap * 2 : 64;
		names->s = pk_xreallocarray(names->s, names->cap,
		    sizeof(*names->s));
		names->h = pk_xreallocarray(names->h, names->cap,
		    sizeof(*names->h));
	}
	names->h[names->n] = h;
	return names->s[names->n++] = pk_xstrndup(s, n);
}

void
ps_names_release(struct ps_names *names)
{
	unsigned i;

	for (i = 0; i < names->n; i++)
		free(names->s[i]);
	free(names->s);
	free(names->h);
	memset(names, 0, sizeof(*names));
}

/* Whether s[0..n) can go into a JSON key as it is. */
static int
plain(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x80 ||
		    s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

/* What the walk writes for a component without a '*'. */
static void
compile_q(struct ps_kc *c, unsigned char open, struct ps_names *names)
{
	char q[128];
	size_t n;

	if (c->kind == KC_ELEM)
		n = (size_t)snprintf(q, sizeof(q), ",{");
	else
		n = (size_t)snprintf(q, sizeof(q), ",\"%s\":%s", c->text,
		    open == 0 ? "" : open == '{' ? "{" : "[");
	c->q = intern(names, q, n);
	c->qlen = (unsigned char)n;
}

static void
compile_key(struct ps_key *k, const char *key, struct ps_names *names)
{
	const char *p = key;
	unsigned i;

	k->n = 0;
	if (key == NULL)
		return;
	if (!plain(key, strlen(key)))
		pk_die(PK_EXIT_IO, "internal error: JSON key '%s'", key);
	for (;;) {
		size_t n = strcspn(p, ".");
		const char *star = memchr(p, '*', n);
		struct ps_kc *c;

		if (k->n + 2 > PS_KEYDEPTH || n == 0 || n > 100)
			pk_die(PK_EXIT_IO, "internal error: JSON key '%s'", key);
		c = &k->c[k->n++];
		c->star = star != NULL ? (signed char)(star - p) : -1;
		c->kind = KC_MEMBER;
		if (n > 2 && p[n - 2] == '[' && p[n - 1] == ']') {
			c->kind = KC_ARRAY;
			n -= 2;
			k->c[k->n].kind = KC_ELEM;
			k->c[k->n].text = intern(names, "", 0);
			k->c[k->n].star = -1;
			k->n++;
		}
		c->text = intern(names, p, n);
		p += n;
		if (c->kind == KC_ARRAY)
			p += 2;
		if (*p == '\0')
			break;
		p++;
	}
	if (k->c[k->n - 1].kind != KC_MEMBER)
		pk_die(PK_EXIT_IO, "internal error: JSON key '%s'", key);
	for (i = 0; i < k->n; i++)
		compile_q(&k->c[i], i + 1 == k->n ? 0 :
		    k->c[i].kind == KC_ARRAY ? '[' : '{', names);
	p = strrchr(key, '.');
	k->parent = intern(names, key, p != NULL ? (size_t)(p - key) : 0);
	k->parent_inst = p != NULL && (memchr(key, '*', (size_t)(p - key)) !=
	    NULL || memchr(key, '[', (size_t)(p - key)) != NULL);
}

void
ps_view_one(struct ps_view *view, struct ps_inst *inst, const double *v)
{
	inst->v = v;
	view->inst = inst;
	view->n = 1;
}

void
ps_live_init(struct ps_live_set *ls, const struct ps_set *set, const void *st,
    struct pk_prom *prom, struct ps_names *names)
{
	unsigned i, j, k, n = set->nm;

	memset(ls, 0, sizeof(*ls));
	ls->set = set;
	ls->st = st;
	ls->keys = pk_xcalloc(n, sizeof(*ls->keys));
	ls->fam = pk_xcalloc(n, sizeof(*ls->fam));
	ls->mul = pk_xcalloc(n, sizeof(*ls->mul));
	ls->div = pk_xcalloc(n, sizeof(*ls->div));
	ls->jm = pk_xcalloc(n, sizeof(*ls->jm));
	ls->order = pk_xcalloc(n, sizeof(*ls->order));
	ls->fend = pk_xcalloc(n, sizeof(*ls->fend));
	for (i = 0; i < n; i++) {
		const struct ps_metric *m = &set->m[i];
		const char *unit = m->unit;
		unsigned u;

		compile_key(&ls->keys[i], m->key, names);
		if (ls->keys[i].n != 0)
			ls->jm[ls->njm++] = i;
		/* The instance is outside the metric: disk.DEV.util_pct. */
		for (k = 0; k + 1 < ls->keys[i].n; k++)
			if (ls->keys[i].c[k].star >= 0 ||
			    ls->keys[i].c[k].kind == KC_ELEM)
				ls->by_inst = 1;
		ls->mul[i] = ls->div[i] = 1;
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
			if (strcmp(units[u].json, m->unit) == 0) {
				unit = units[u].prom;
				ls->mul[i] = units[u].mul;
				ls->div[i] = units[u].div;
			}
		ls->fam[i] = -1;
		if (prom != NULL && m->prom != NULL &&
		    (ls->fam[i] = pk_prom_family(prom, m->prom, m->help, m->type,
		    unit)) == -1)
			pk_die(PK_EXIT_IO, "internal error: metric family '%s'",
			    m->prom);
	}
	/* A set without instances' labels: each series' text, once. */
	if (prom != NULL && set->labels[0] == NULL) {
		struct pk_jw t;

		pk_jw_init(&t, 256);
		ls->series = pk_xcalloc(n, sizeof(*ls->series));
		ls->slen = pk_xcalloc(n, sizeof(*ls->slen));
		for (i = 0; i < n; i++) {
			const struct ps_metric *m = &set->m[i];

			if (ls->fam[i] == -1)
				continue;
			for (k = 0; k < 2 && m->cl[k].name != NULL; k++)
				;
			pk_jw_reset(&t);
			pk_prom_series_text(prom, ls->fam[i], m->cl, k, &t);
			if (t.oom)
				pk_die(PK_EXIT_IO, "out of memory");
			ls->series[i] = pk_xstrndup(t.buf, t.len);
			ls->slen[i] = t.len;
		}
		pk_jw_release(&t);
	}
	/* The metrics of each family together, families as they come. */
	for (i = 0, k = 0; prom != NULL && i < n; i++) {
		int seen = ls->fam[i] == -1;

		for (j = 0; j < i && !seen; j++)
			seen = ls->fam[j] == ls->fam[i];
		if (seen)
			continue;
		for (j = i; j < n; j++)
			if (ls->fam[j] == ls->fam[i])
				ls->order[k++] = j;
		ls->fend[ls->nfam++] = k;
	}
}

void
ps_live_release(struct ps_live_set *ls)
{
	unsigned i;

	for (i = 0; ls->series != NULL && i < ls->set->nm; i++)
		free(ls->series[i]);
	free(ls->series);
	free(ls->slen);
	free(ls->keys);
	free(ls->fam);
	free(ls->mul);
	free(ls->div);
	free(ls->jm);
	free(ls->order);
	free(ls->fend);
	memset(ls, 0, sizeof(*ls));
}

/* ---- JSON ---- */

/*
 * The walk writes the record's bytes with pk_jw's raw appends: every key
 * is one copy of text made when the set was compiled (separator, quotes
 * and colon included), and only an instance's name is escaped as it goes.
 */

/* The literal s, of a length the compiler knows. */
#define PUT_LIT(w, s) pk_jw_put((w), (s), sizeof(s) - 1)

void
ps_json_begin(struct pk_jw *w, struct ps_jpath *jp, const char *type,
    double ts)
{
	pk_jw_reset(w);
	PUT_LIT(w, "{\"type\":\"");
	pk_jw_puts(w, type);
	PUT_LIT(w, "\",\"ts\":");
	pk_jw_put_num(w, ts, 6);
	PUT_LIT(w, ",\"host\":\"");
	pk_jw_put_escaped(w, pk_hostname());
	pk_jw_putc(w, '"');
	jp->depth = 0;
	jp->parent = NULL;
	jp->first[0] = 0;
}

static void
close_to(struct pk_jw *w, struct ps_jpath *jp, unsigned depth)
{
	jp->parent = NULL;
	while (jp->depth > depth) {
		jp->depth--;
		pk_jw_putc(w, jp->open[jp->depth].c->kind == KC_ARRAY ? ']' : '}');
	}
}

void
ps_json_end(struct pk_jw *w, struct ps_jpath *jp)
{
	close_to(w, jp, 0);
	pk_jw_putc(w, '}');
}

static int
same_level(const struct ps_kc *a, const char *ia, const struct ps_kc *b,
    const char *ib)
{
	if (a->text != b->text || a->kind != b->kind)
		return 0;
	if (a->kind == KC_ELEM || a->star >= 0)
		return ia == ib || strcmp(ia != NULL ? ia : "",
		    ib != NULL ? ib : "") == 0;
	return 1;
}

/*
 * Component c at level d: its separator, its key (a '*' replaced by the
 * instance's name, escaped) and its opening bracket (open, or none).
 */
static void
put_kc(struct pk_jw *w, struct ps_jpath *jp, unsigned d,
    const struct ps_kc *c, const char *inst)
{
	unsigned skip = jp->first[d];
	size_t n;

	jp->first[d] = 0;
	if (c->star < 0) {
		pk_jw_put(w, c->q + skip, c->qlen - skip);
		return;
	}
	/* ,"pre*post":[{ : the text around the '*' is plain. */
	n = strlen(c->text);
	pk_jw_put(w, ",\"" + skip, 2 - skip);
	pk_jw_put(w, c->text, (size_t)c->star);
	pk_jw_put_escaped(w, inst != NULL ? inst : "");
	pk_jw_put(w, c->text + c->star + 1, n - (size_t)c->star - 1);
	pk_jw_put(w, "\":", 2);
	/* The bracket, as the compiled text ends. */
	if (c->q[c->qlen - 1] == '{' || c->q[c->qlen - 1] == '[')
		pk_jw_putc(w, c->q[c->qlen - 1]);
}

/* Close and open containers so that the leaf of key k goes in. */
static void
json_open(struct pk_jw *w, struct ps_jpath *jp, const struct ps_key *k,
    const struct ps_inst *in)
{
	unsigned i, last = k->n - 1;

	for (i = 0; i < last && i < jp->depth; i++)
		if (!same_level(jp->open[i].c, jp->open[i].inst, &k->c[i],
		    in->name))
			break;
	close_to(w, jp, i);
	for (; i < last; i++) {
		const struct ps_kc *c = &k->c[i];

		put_kc(w, jp, i, c, in->name);
		jp->open[i].c = c;
		jp->open[i].inst = in->name;
		jp->first[i + 1] = 1;
		jp->depth = i + 1;
	}
	jp->parent = k->parent;
	jp->pinst = k->parent_inst ? in->name : NULL;
}

static void
json_value(struct pk_jw *w, const struct ps_metric *m,
    const struct ps_inst *in, double v)
{
	static const char hex[] = "0123456789abcdef";
	char buf[24], *p = buf + sizeof(buf);
	uint64_t x;

	switch (m->fmt) {
	case PS_BOOL:
		if (v != 0)
			PUT_LIT(w, "true");
		else
			PUT_LIT(w, "false");
		break;
	case PS_HEX:
		x = (uint64_t)v;
		do {
			*--p = hex[x & 15];
			x >>= 4;
		} while (x != 0);
		*--p = 'x';
		*--p = '0';
		*--p = '"';
		pk_jw_put(w, p, (size_t)(buf + sizeof(buf) - p));
		pk_jw_putc(w, '"');
		break;
	case PS_NAME:
		pk_jw_putc(w, '"');
		pk_jw_put_escaped(w, in->name != NULL ? in->name : "");
		pk_jw_putc(w, '"');
		break;
	}
}

/*
 * A number as pk_jw_put_num writes it: a whole one (most counters, every
 * zero) in digits at once, the same bytes without the rounding.
 */
static inline void
put_number(struct pk_jw *w, double v, int dec)
{
	if (v >= 0 && v < 9e15 && (double)(uint64_t)v == v)
		pk_jw_put_u64(w, (uint64_t)v);
	else
		pk_jw_put_num(w, v, dec);
}

/* One value at its key. Most go where the last one went: the fast path. */
static inline void
json_leaf(struct pk_jw *w, struct ps_jpath *jp, const struct ps_key *k,
    const struct ps_metric *m, const struct ps_inst *in, double v)
{
	if (jp->parent != k->parent ||
	    jp->pinst != (k->parent_inst ? in->name : NULL))
		json_open(w, jp, k, in);
	put_kc(w, jp, jp->depth, &k->c[k->n - 1], in->name);
	if (m->fmt == PS_NUM)
		put_number(w, v, m->dec);
	else
		json_value(w, m, in, v);
}

/* The instances of a set in this sample. */
static const struct ps_view *
view(const struct ps_live_set *ls)
{
	return (const struct ps_view *)((const char *)ls->st + ls->set->view);
}

void
ps_json_set(struct pk_jw *w, struct ps_jpath *jp, const struct ps_live_set *ls)
{
	const struct ps_metric *ms = ls->set->m;
	const struct ps_view *vw = view(ls);
	const struct ps_inst *inst = vw->inst;
	unsigned i, j, n = vw->n, nj = ls->njm;

	if (ls->by_inst || n == 1) {
		for (i = 0; i < n; i++) {
			const double *v = inst[i].v;

			for (j = 0; j < nj; j++) {
				unsigned m = ls->jm[j];

				if (!isnan(v[m]))
					json_leaf(w, jp, &ls->keys[m], &ms[m],
					    &inst[i], v[m]);
			}
		}
		return;
	}
	for (j = 0; j < nj; j++) {
		unsigned m = ls->jm[j];

		for (i = 0; i < n; i++)
			if (!isnan(inst[i].v[m]))
				json_leaf(w, jp, &ls->keys[m], &ms[m], &inst[i],
				    inst[i].v[m]);
	}
}

/* ---- Prometheus ---- */

void
ps_prom_set(struct pk_prom *p, const struct ps_live_set *ls)
{
	ps_prom_view(p, ls, view(ls));
}

void
ps_prom_view(struct pk_prom *p, const struct ps_live_set *ls,
    const struct ps_view *vw)
{
	const struct ps_set *s = ls->set;
	const struct ps_inst *inst = vw->inst;
	unsigned n = vw->n;
	struct pk_prom_label lab[PS_MAXLABELS + 2];
	unsigned f, i, k, nl, from;

	for (f = 0, from = 0; f < ls->nfam; from = ls->fend[f++]) {
		for (i = 0; i < n; i++) {
			for (nl = 0; s->labels[nl] != NULL; nl++) {
				lab[nl].name = s->labels[nl];
				lab[nl].value = inst[i].lv[nl];
			}
			for (k = from; k < ls->fend[f]; k++) {
				unsigned mi = ls->order[k], c, nc = nl;
				const struct ps_metric *m = &s->m[mi];
				double v = inst[i].v[mi];

				if (isnan(v))
					continue;
				if (ls->series != NULL) {
					(void)pk_prom_sample_text(p, ls->fam[mi],
					    ls->series[mi], ls->slen[mi],
					    v * ls->mul[mi] / ls->div[mi], m->pdec);
					continue;
				}
				for (c = 0; c < 2 && m->cl[c].name != NULL; c++)
					lab[nc++] = m->cl[c];
				(void)pk_prom_sample(p, ls->fam[mi], lab, nc,
				    v * ls->mul[mi] / ls->div[mi], m->pdec);
			}
		}
	}
}
