/* SPDX-License-Identifier: MIT */
#include "pk_prom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"

static const char *const type_names[] = { "gauge", "counter", "histogram" };

void
pk_prom_init(struct pk_prom *p, size_t maxseries)
{
	memset(p, 0, sizeof(*p));
	p->maxseries = maxseries != 0 ? maxseries : PK_PROM_MAXSERIES;
}

void
pk_prom_release(struct pk_prom *p)
{
	unsigned i;

	for (i = 0; i < p->nfam; i++)
		pk_jw_release(&p->fam[i].body);
	free(p->fam);
	memset(p, 0, sizeof(*p));
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
static int
valid_name(const char *s)
{
	const char *c;

	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	for (c = s; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '_' || *c == ':'))
			return 0;
	return 1;
}

/* Whether name ends in "_" suffix; *at is where that "_" is. */
static int
ends_with(const char *name, size_t n, const char *suffix, size_t *at)
{
	size_t k = strlen(suffix);

	if (n < k + 2 || name[n - k - 1] != '_' ||
	    memcmp(name + n - k, suffix, k) != 0)
		return 0;
	*at = n - k - 1;
	return 1;
}

static int
same(const char *a, const char *b)
{
	return (a == NULL || *a == '\0') ? (b == NULL || *b == '\0') :
	    (b != NULL && strcmp(a, b) == 0);
}

/* Whether s has a byte above 0x7f (to be checked as UTF-8). */
static int
has_high(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

int
pk_prom_family(struct pk_prom *p, const char *name, const char *help,
    int type, const char *unit)
{
	struct pk_prom_family *f;
	size_t n, at;
	unsigned i;

	if (!valid_name(name) || type < PK_PROM_GAUGE || type > PK_PROM_HISTOGRAM)
		return -1;
	n = strlen(name);
	if (type == PK_PROM_COUNTER) {
		if (!ends_with(name, n, "total", &at))
			return -1;
		n = at;
	}
	if (unit != NULL && *unit != '\0' && !ends_with(name, n, unit, &at))
		return -1;
	for (i = 0; i < p->nfam; i++) {
		f = &p->fam[i];
		if (strcmp(f->name, name) != 0)
			continue;
		if (f->type != type || !same(f->help, help) || !same(f->unit, unit))
			return -1;
		return (int)i;
	}
	if (p->nfam == p->capfam) {
		unsigned cap = p->capfam ? p->capfam * 2 : 16;
		struct pk_prom_family *nf = realloc(p->fam, cap * sizeof(*nf));

		if (nf == NULL) {
			p->oom = 1;
			return -1;
		}
		p->fam = nf;
		p->capfam = cap;
	}
	f = &p->fam[p->nfam];
	f->name = name;
	f->help = help != NULL ? help : "";
	f->unit = unit != NULL ? unit : "";
	f->type = type;
	f->nlines = 0;
	f->help_plain = strpbrk(f->help, "\\\n") == NULL &&
	    !has_high(f->help);
	pk_jw_init(&f->body, 256);
	if (f->body.oom) {
		p->oom = 1;
		return -1;
	}
	return (int)p->nfam++;
}

/* The most bytes a value takes ("%.17g" and a sign). */
#define VALUE_MAX 24

void
pk_prom_begin(struct pk_prom *p)
{
	unsigned i;

	for (i = 0; i < p->nfam; i++) {
		struct pk_prom_family *f = &p->fam[i];
		struct pk_jw *b = &f->body;
		size_t need = b->len + VALUE_MAX * f->nlines;

		/*
		 * Room for the same lines with every value at its longest,
		 * and as much again, so that a value longer next time never
		 * grows the buffer then: buffers grow in the first
		 * expositions and when series are added, not in a steady
		 * state.
		 */
		if (b->cap < need && !b->oom) {
			char *nb = realloc(b->buf, need + VALUE_MAX * f->nlines);

			if (nb != NULL) {
				b->buf = nb;
				b->cap = need + VALUE_MAX * f->nlines;
			}
		}
		b->len = 0;
		f->nlines = 0;
	}
	p->nseries = 0;
}

/* Room for n more series, or the sample is dropped (warned about once). */
static int
admit(struct pk_prom *p, int fam, size_t n)
{
	if (fam < 0 || (unsigned)fam >= p->nfam)
		return -1;
	if (p->nseries + n > p->maxseries) {
		if (p->dropped == 0)
			pk_warn("more than %zu series in one Prometheus "
			    "exposition: the others are left out", p->maxseries);
		p->dropped++;
		return -1;
	}
	p->nseries += n;
	return 0;
}

/* The length of a valid UTF-8 sequence at s, 0 if invalid. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80 || (c == 0xf0 && s[1] < 0x90) ||
		    (c == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * s with backslash, line feed and (for a label value) '"' escaped, and
 * each byte that is not part of valid UTF-8 written as U+FFFD: the
 * format is UTF-8, and a process name or a path may be anything.
 */
static void
put_escaped(struct pk_jw *w, const char *str, int quote)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *run = s;
	size_t ul;

	for (; *s != '\0'; s++) {
		if (*s < 0x80) {
			if (*s != '\\' && *s != '\n' && !(quote && *s == '"'))
				continue;
			pk_jw_put(w, (const char *)run, (size_t)(s - run));
			pk_jw_putc(w, '\\');
			pk_jw_putc(w, *s == '\n' ? 'n' : (char)*s);
			run = s + 1;
			continue;
		}
		if ((ul = utf8_len(s)) != 0) {
			s += ul - 1;
			continue;
		}
		pk_jw_put(w, (const char *)run, (size_t)(s - run));
		pk_jw_put(w, "\xef\xbf\xbd", 3);
		run = s + 1;
	}
	pk_jw_put(w, (const char *)run, (size_t)(s - run));
}

static void
put_value(struct pk_jw *w, double v, int decimals)
{
	if (isnan(v))
		pk_jw_puts(w, "NaN");
	else if (isinf(v))
		pk_jw_puts(w, v > 0 ? "+Inf" : "-Inf");
	else if (v >= 0 && v < 9e15 && (double)(uint64_t)v == v)
		pk_jw_put_u64(w, (uint64_t)v);	/* the same digits, sooner */
	else
		pk_jw_put_num(w, v, decimals);
}

/* NAME[SUFFIX]{labels[,le="x"]} */
static void
put_series(struct pk_jw *w, const char *name, const char *suffix,
    const struct pk_prom_label *l, unsigned nl, const char *le_text,
    const double *le, int decimals)
{
	unsigned i;

	pk_jw_puts(w, name);
	if (suffix != NULL)
		pk_jw_puts(w, suffix);
	for (i = 0; i < nl; i++) {
		pk_jw_putc(w, i == 0 ? '{' : ',');
		pk_jw_puts(w, l[i].name);
		pk_jw_put(w, "=\"", 2);
		put_escaped(w, l[i].value, 1);
		pk_jw_putc(w, '"');
	}
	if (le_text != NULL || le != NULL) {
		pk_jw_put(w, nl == 0 ? "{le=\"" : ",le=\"", 5);
		if (le_text != NULL)
			pk_jw_puts(w, le_text);
		else
			put_value(w, *le, decimals);
		pk_jw_putc(w, '"');
		nl = 1;
	}
	if (nl > 0)
		pk_jw_putc(w, '}');
	pk_jw_putc(w, ' ');
}

int
pk_prom_sample(struct pk_prom *p, int fam, const struct pk_prom_label *labels,
    unsigned nlabels, double v, int decimals)
{
	struct pk_prom_family *f;

	if (admit(p, fam, 1) == -1 || p->fam[fam].type == PK_PROM_HISTOGRAM)
		return -1;
	f = &p->fam[fam];
	put_series(&f->body, f->name, NULL, labels, nlabels, NULL, NULL, 0);
	put_value(&f->body, v, decimals);
	pk_jw_putc(&f->body, '\n');
	f->nlines++;
	return 0;
}

void
pk_prom_series_text(const struct pk_prom *p, int fam,
    const struct pk_prom_label *labels, unsigned nlabels, struct pk_jw *w)
{
	if (fam < 0 || (unsigned)fam >= p->nfam)
		return;
	put_series(w, p->fam[fam].name, NULL, labels, nlabels, NULL, NULL, 0);
}

int
pk_prom_sample_text(struct pk_prom *p, int fam, const char *series, size_t len,
    double v, int decimals)
{
	struct pk_prom_family *f;

	if (admit(p, fam, 1) == -1 || p->fam[fam].type == PK_PROM_HISTOGRAM)
		return -1;
	f = &p->fam[fam];
	pk_jw_put(&f->body, series, len);
	put_value(&f->body, v, decimals);
	pk_jw_putc(&f->body, '\n');
	f->nlines++;
	return 0;
}

int
pk_prom_histogram(struct pk_prom *p, int fam,
    const struct pk_prom_label *labels, unsigned nlabels, const double *le,
    const uint64_t *counts, unsigned nb, double sum, int decimals)
{
	struct pk_prom_family *f;
	uint64_t cum = 0;
	unsigned i;

	if (fam < 0 || (unsigned)fam >= p->nfam ||
	    p->fam[fam].type != PK_PROM_HISTOGRAM || admit(p, fam, nb + 3) == -1)
		return -1;
	f = &p->fam[fam];
	for (i = 0; i <= nb; i++) {
		cum += counts[i];
		put_series(&f->body, f->name, "_bucket", labels, nlabels,
		    i == nb ? "+Inf" : NULL, i == nb ? NULL : &le[i], decimals);
		pk_jw_put_u64(&f->body, cum);
		pk_jw_putc(&f->body, '\n');
	}
	put_series(&f->body, f->name, "_sum", labels, nlabels, NULL, NULL, 0);
	put_value(&f->body, sum, decimals);
	pk_jw_putc(&f->body, '\n');
	put_series(&f->body, f->name, "_count", labels, nlabels, NULL, NULL, 0);
	pk_jw_put_u64(&f->body, cum);
	pk_jw_putc(&f->body, '\n');
	f->nlines += nb + 3;
	return 0;
}

void
pk_prom_render(const struct pk_prom *p, struct pk_jw *w)
{
	unsigned i;

	for (i = 0; i < p->nfam; i++) {
		const struct pk_prom_family *f = &p->fam[i];

		/* A family that ran out of memory truncates the exposition. */
		if (f->body.oom)
			w->oom = 1;
		if (f->body.len == 0)
			continue;
		pk_jw_puts(w, "# HELP ");
		pk_jw_puts(w, f->name);
		pk_jw_putc(w, ' ');
		if (f->help_plain)
			pk_jw_puts(w, f->help);
		else
			put_escaped(w, f->help, 0);
		pk_jw_puts(w, "\n# TYPE ");
		pk_jw_puts(w, f->name);
		pk_jw_putc(w, ' ');
		pk_jw_puts(w, type_names[f->type]);
		pk_jw_putc(w, '\n');
		pk_jw_put(w, f->body.buf, f->body.len);
	}
}
