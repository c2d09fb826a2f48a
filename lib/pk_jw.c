/* SPDX-License-Identifier: MIT */
#include "pk_jw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
pk_jw_init(struct pk_jw *w, size_t cap)
{
	memset(w, 0, sizeof(*w));
	if (cap < 64)
		cap = 64;
	w->buf = malloc(cap);
	if (w->buf == NULL)
		w->oom = 1;
	else
		w->cap = cap;
}

void
pk_jw_release(struct pk_jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void
pk_jw_reset(struct pk_jw *w)
{
	w->len = 0;
	w->depth = 0;
	w->first[0] = 1;
}

static int
reserve(struct pk_jw *w, size_t n)
{
	char *nb;
	size_t cap;

	if (w->cap - w->len >= n)
		return 0;
	if (w->oom)
		return -1;
	cap = w->cap ? w->cap : 64;
	while (cap - w->len < n)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (nb == NULL) {
		w->oom = 1;
		return -1;
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

void
pk_jw_put(struct pk_jw *w, const char *s, size_t n)
{
	if (reserve(w, n) == -1)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

void
pk_jw_puts(struct pk_jw *w, const char *s)
{
	pk_jw_put(w, s, strlen(s));
}

void
pk_jw_putc(struct pk_jw *w, char c)
{
	if (w->len < w->cap || reserve(w, 1) == 0)
		w->buf[w->len++] = c;
}

void
pk_jw_put_u64(struct pk_jw *w, uint64_t v)
{
	char tmp[24];
	int i = (int)sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	pk_jw_put(w, tmp + i, sizeof(tmp) - (size_t)i);
}

static const double pow10tab[] = {
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9
};

void
pk_jw_put_num(struct pk_jw *w, double v, int decimals)
{
	char tmp[32];
	uint64_t scaled, ip, fp, scale;
	int i, neg = 0;

	if (!isfinite(v)) {
		/* JSON has no NaN: callers omit such values; be safe. */
		pk_jw_putc(w, '0');
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	if (v < 0) {
		neg = 1;
		v = -v;
	}
	if (v * pow10tab[decimals] >= 9e15) {
		int n = snprintf(tmp, sizeof(tmp), "%s%.17g", neg ? "-" : "", v);

		pk_jw_put(w, tmp, (size_t)n);
		return;
	}
	scale = (uint64_t)pow10tab[decimals];
	scaled = (uint64_t)llround(v * pow10tab[decimals]);
	ip = scaled / scale;
	fp = scaled % scale;
	if (neg && scaled != 0)
		pk_jw_putc(w, '-');
	pk_jw_put_u64(w, ip);
	if (fp == 0)
		return;
	/* The fraction with leading zeros, trailing zeros cut. */
	i = decimals;
	while (fp % 10 == 0) {
		fp /= 10;
		i--;
	}
	tmp[0] = '.';
	{
		int k;

		for (k = i; k >= 1; k--) {
			tmp[k] = (char)('0' + fp % 10);
			fp /= 10;
		}
	}
	pk_jw_put(w, tmp, (size_t)i + 1);
}

/* The length of a valid UTF-8 sequence at s, 0 if invalid. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

void
pk_jw_put_escaped(struct pk_jw *w, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	/* The common case: printable ASCII only, one copy. */
	for (n = 0; s[n] >= 0x20 && s[n] < 0x80 && s[n] != '"' && s[n] != '\\';
	    n++)
		;
	if (s[n] == '\0') {
		pk_jw_put(w, str, n);
		return;
	}
	while (*s != '\0') {
		unsigned c = *s;

		if (c == '"' || c == '\\') {
			pk_jw_putc(w, '\\');
			pk_jw_putc(w, (char)c);
			s++;
		} else if (c < 0x20) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			if (c == '\n')
				pk_jw_put(w, "\\n", 2);
			else if (c == '\t')
				pk_jw_put(w, "\\t", 2);
			else
				pk_jw_put(w, e, 6);
			s++;
		} else if (c < 0x80) {
			pk_jw_putc(w, (char)c);
			s++;
		} else {
			size_t ul = utf8_len(s);

			if (ul == 0) {
				pk_jw_put(w, "\xef\xbf\xbd", 3);
				s++;
			} else {
				pk_jw_put(w, (const char *)s, ul);
				s += ul;
			}
		}
	}
}

static void
member(struct pk_jw *w, const char *key)
{
	if (w->first[w->depth])
		w->first[w->depth] = 0;
	else
		pk_jw_putc(w, ',');
	if (key != NULL) {
		pk_jw_putc(w, '"');
		pk_jw_put_escaped(w, key);
		pk_jw_put(w, "\":", 2);
	}
}

static void
open_level(struct pk_jw *w, const char *key, char c)
{
	if (w->len > 0 || w->depth > 0)
		member(w, key);
	pk_jw_putc(w, c);
	if (w->depth < PK_JW_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = 1;
}

void
pk_jw_obj_begin(struct pk_jw *w, const char *key)
{
	open_level(w, key, '{');
}

void
pk_jw_obj_end(struct pk_jw *w)
{
	pk_jw_putc(w, '}');
	if (w->depth > 0)
		w->depth--;
}

void
pk_jw_arr_begin(struct pk_jw *w, const char *key)
{
	open_level(w, key, '[');
}

void
pk_jw_arr_end(struct pk_jw *w)
{
	pk_jw_putc(w, ']');
	if (w->depth > 0)
		w->depth--;
}

void
pk_jw_str(struct pk_jw *w, const char *key, const char *s)
{
	member(w, key);
	pk_jw_putc(w, '"');
	pk_jw_put_escaped(w, s);
	pk_jw_putc(w, '"');
}

void
pk_jw_u64(struct pk_jw *w, const char *key, uint64_t v)
{
	member(w, key);
	pk_jw_put_u64(w, v);
}

void
pk_jw_i64(struct pk_jw *w, const char *key, int64_t v)
{
	member(w, key);
	if (v < 0) {
		pk_jw_putc(w, '-');
		pk_jw_put_u64(w, (uint64_t)0 - (uint64_t)v);
	} else
		pk_jw_put_u64(w, (uint64_t)v);
}

void
pk_jw_num(struct pk_jw *w, const char *key, double v, int decimals)
{
	member(w, key);
	pk_jw_put_num(w, v, decimals);
}

void
pk_jw_bool(struct pk_jw *w, const char *key, int b)
{
	member(w, key);
	if (b)
		pk_jw_put(w, "true", 4);
	else
		pk_jw_put(w, "false", 5);
}
