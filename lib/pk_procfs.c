/* SPDX-License-Identifier: MIT */
#include "pk_procfs.h"

#include <stddef.h>
#include <string.h>

const char *const pk_procfs_throttle_names[PK_THROTTLE_NBITS] = {
	"under_voltage", "freq_capped", "throttled", "soft_temp_limit"
};

/*
 * A cursor over the lines of a buffer. Numbers are parsed by hand: the
 * buffers are not NUL-terminated and strtoull() would need a copy.
 */
struct cur {
	const char *p, *end;	/* the current line: [p, end) */
	const char *next;	/* the start of the next line */
	const char *bufend;
	unsigned long lineno;
};

static void
cur_init(struct cur *c, const char *buf, size_t len)
{
	c->next = buf;
	c->bufend = buf + len;
	c->lineno = 0;
}

static int
cur_line(struct cur *c)
{
	const char *nl;

	if (c->next >= c->bufend)
		return 0;
	c->p = c->next;
	nl = memchr(c->p, '\n', (size_t)(c->bufend - c->p));
	c->end = nl != NULL ? nl : c->bufend;
	c->next = nl != NULL ? nl + 1 : c->bufend;
	c->lineno++;
	return 1;
}

static void
skip_sp(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

/* An unsigned decimal; -1 if none or on overflow. */
static int
get_u64(const char **pp, const char *end, uint64_t *v)
{
	const char *p = *pp, *start;
	uint64_t x = 0;

	skip_sp(&p, end);
	if (p >= end || *p < '0' || *p > '9')
		return -1;
	start = p;
	/* 19 digits cannot overflow; check only beyond. */
	while (p < end && *p >= '0' && *p <= '9' && p - start < 19)
		x = x * 10 + (unsigned)(*p++ - '0');
	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
		p++;
	}
	*v = x;
	*pp = p;
	return 0;
}

/* A non-negative decimal number with an optional fraction ("0.25"). */
static int
get_dec(const char **pp, const char *end, double *v)
{
	const char *p;
	uint64_t ip;
	double f = 0, scale = 1;

	if (get_u64(pp, end, &ip) == -1)
		return -1;
	p = *pp;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return -1;
		while (p < end && *p >= '0' && *p <= '9') {
			if (scale > 1e-15) {
				scale /= 10;
				f += (*p - '0') * scale;
			}
			p++;
		}
	}
	*v = (double)ip + f;
	*pp = p;
	return 0;
}

/* The rest of the line is blank. */
static int
at_eol(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p == end;
}

/* A word up to a blank; its length, 0 if none. */
static size_t
get_word(const char **pp, const char *end, const char **w)
{
	const char *p = *pp;

	skip_sp(&p, end);
	*w = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	*pp = p;
	return (size_t)(p - *w);
}

static int
bad(struct pk_procfs_err *err, unsigned long line, const char *what, int *rc)
{
	if (*rc == 0 && err != NULL) {
		err->line = line;
		err->what = what;
	}
	*rc = -1;
	return -1;
}

static int
blank_line(const struct cur *c)
{
	return at_eol(c->p, c->end);
}

uint64_t
pk_procfs_cpu_total(const struct pk_procfs_cpu *c)
{
	return c->user + c->nice + c->system + c->idle + c->iowait + c->irq +
	    c->softirq + c->steal;
}

static int
cpu_fields(const char *p, const char *end, struct pk_procfs_cpu *t)
{
	uint64_t v[8];
	unsigned i;

	memset(v, 0, sizeof(v));
	for (i = 0; i < 8; i++) {
		skip_sp(&p, end);
		if (p >= end || *p == '\r')
			break;
		if (get_u64(&p, end, &v[i]) == -1)
			return -1;
	}
	if (i < 4)
		return -1;
	t->user = v[0];
	t->nice = v[1];
	t->system = v[2];
	t->idle = v[3];
	t->iowait = v[4];
	t->irq = v[5];
	t->softirq = v[6];
	t->steal = v[7];
	return 0;
}

int
pk_procfs_stat_parse(const char *buf, size_t len, struct pk_procfs_stat *st,
    struct pk_procfs_core *cores, unsigned maxcores, struct pk_procfs_err *err)
{
	struct cur c;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	cur_init(&c, buf, len);
	while (cur_line(&c)) {
		const char *p = c.p;
		size_t n = (size_t)(c.end - p);

		if (n >= 4 && memcmp(p, "cpu ", 4) == 0) {
			if (cpu_fields(p + 4, c.end, &st->all) == -1) {
				bad(err, c.lineno, "malformed cpu line", &rc);
				continue;
			}
			st->have_all = 1;
		} else if (n >= 4 && memcmp(p, "cpu", 3) == 0 &&
		    p[3] >= '0' && p[3] <= '9') {
			struct pk_procfs_cpu t;
			uint64_t id;

			p += 3;
			if (get_u64(&p, c.end, &id) == -1 || id > 1u << 20 ||
			    cpu_fields(p, c.end, &t) == -1) {
				bad(err, c.lineno, "malformed cpuN line", &rc);
				continue;
			}
			if (cores != NULL && st->ncores < maxcores) {
				cores[st->ncores].id = (unsigned)id;
				cores[st->ncores].t = t;
			}
			st->ncores++;
		} else if (n >= 6 && memcmp(p, "btime ", 6) == 0) {
			uint64_t v;

			p += 6;
			if (get_u64(&p, c.end, &v) == -1 || !at_eol(p, c.end)) {
				bad(err, c.lineno, "malformed btime line", &rc);
				continue;
			}
			st->btime = v;
		}
	}
	if (!st->have_all)
		bad(err, c.lineno, "no cpu line", &rc);
	return rc;
}

int
pk_procfs_meminfo_parse(const char *buf, size_t len, struct pk_procfs_mem *m,
    struct pk_procfs_err *err)
{
	static const struct { const char *key; size_t n; unsigned bit; } keys[] = {
		{ "MemTotal", 8, PK_MEM_TOTAL },
		{ "MemAvailable", 12, PK_MEM_AVAIL },
		{ "SwapTotal", 9, PK_MEM_SWAP_TOTAL },
		{ "SwapFree", 8, PK_MEM_SWAP_FREE },
	};
	const unsigned all = PK_MEM_TOTAL | PK_MEM_AVAIL | PK_MEM_SWAP_TOTAL |
	    PK_MEM_SWAP_FREE;
	struct cur c;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	cur_init(&c, buf, len);
	/* The wanted keys come early: stop once they are all seen. */
	while (m->have != all && cur_line(&c)) {
		const char *colon, *p;
		uint64_t v;
		unsigned i;

		if (blank_line(&c))
			continue;
		colon = memchr(c.p, ':', (size_t)(c.end - c.p));
		if (colon == NULL || colon == c.p) {
			bad(err, c.lineno, "expected 'Key: value'", &rc);
			continue;
		}
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if ((size_t)(colon - c.p) == keys[i].n &&
			    memcmp(c.p, keys[i].key, keys[i].n) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			continue;
		p = colon + 1;
		if (get_u64(&p, c.end, &v) == -1) {
			bad(err, c.lineno, "the value is not a number", &rc);
			continue;
		}
		skip_sp(&p, c.end);
		if (c.end - p >= 2 && memcmp(p, "kB", 2) == 0)
			p += 2;
		if (!at_eol(p, c.end)) {
			bad(err, c.lineno, "trailing text after the value", &rc);
			continue;
		}
		switch (keys[i].bit) {
		case PK_MEM_TOTAL: m->total_kb = v; break;
		case PK_MEM_AVAIL: m->avail_kb = v; break;
		case PK_MEM_SWAP_TOTAL: m->swap_total_kb = v; break;
		default: m->swap_free_kb = v; break;
		}
		m->have |= keys[i].bit;
	}
	return rc;
}

int
pk_procfs_loadavg_parse(const char *buf, size_t len, double load[3],
    struct pk_procfs_err *err)
{
	const char *p = buf, *end = buf + len;
	int rc = 0, i;

	for (i = 0; i < 3; i++)
		if (get_dec(&p, end, &load[i]) == -1 ||
		    (p < end && *p != ' ' && *p != '\n'))
			return bad(err, 1, "expected three load averages", &rc);
	return 0;
}

int
pk_procfs_uptime_parse(const char *buf, size_t len, double *up,
    struct pk_procfs_err *err)
{
	const char *p = buf, *end = buf + len;
	int rc = 0;

	if (get_dec(&p, end, up) == -1 || (p < end && *p != ' ' && *p != '\n'))
		return bad(err, 1, "expected the seconds since boot", &rc);
	return 0;
}

int
pk_procfs_psi_parse(const char *buf, size_t len, struct pk_procfs_psi *ps,
    struct pk_procfs_err *err)
{
	static const char *const win[3] = { "avg10=", "avg60=", "avg300=" };
	struct cur c;
	int rc = 0;

	memset(ps, 0, sizeof(*ps));
	cur_init(&c, buf, len);
	while (cur_line(&c)) {
		const char *p = c.p, *w;
		double v[3];
		size_t n;
		int i, full;

		if (blank_line(&c))
			continue;
		n = get_word(&p, c.end, &w);
		if (n == 4 && memcmp(w, "some", 4) == 0)
			full = 0;
		else if (n == 4 && memcmp(w, "full", 4) == 0)
			full = 1;
		else {
			bad(err, c.lineno, "expected 'some' or 'full'", &rc);
			continue;
		}
		for (i = 0; i < 3; i++) {
			size_t wl = strlen(win[i]);

			skip_sp(&p, c.end);
			if ((size_t)(c.end - p) < wl || memcmp(p, win[i], wl) != 0)
				break;
			p += wl;
			if (get_dec(&p, c.end, &v[i]) == -1)
				break;
		}
		if (i < 3) {
			bad(err, c.lineno, "expected avg10=, avg60=, avg300=", &rc);
			continue;
		}
		if (full) {
			memcpy(ps->full, v, sizeof(v));
			ps->have_full = 1;
		} else {
			memcpy(ps->some, v, sizeof(v));
			ps->have_some = 1;
		}
	}
	return rc;
}

static int
prefix_digits(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p;

	if (strncmp(name, prefix, n) != 0)
		return 0;
	p = name + n;
	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

int
pk_procfs_disk_ignored(const char *name)
{
	const char *p;
	size_t i;

	if (prefix_digits(name, "loop") || prefix_digits(name, "ram") ||
	    prefix_digits(name, "fd"))
		return 1;
	/* sda1, vdb2, hdc3, xvda1: letters then digits. */
	for (i = 0; i < 4; i++) {
		static const char *const pre[] = { "sd", "vd", "hd", "xvd" };
		size_t n = strlen(pre[i]);

		if (strncmp(name, pre[i], n) != 0)
			continue;
		p = name + n;
		if (*p < 'a' || *p > 'z')
			continue;
		while (*p >= 'a' && *p <= 'z')
			p++;
		if (*p >= '0' && *p <= '9')
			return 1;
	}
	/* nvme0n1p1, mmcblk0p1. */
	if (strncmp(name, "nvme", 4) == 0 || strncmp(name, "mmcblk", 6) == 0) {
		p = strrchr(name, 'p');
		if (p != NULL && p > name + 4 && p[-1] >= '0' && p[-1] <= '9' &&
		    prefix_digits(p, "p"))
			return 1;
	}
	return 0;
}

/* Copy a word of at most PK_PROCFS_NAME_MAX - 1 bytes; -1 if too long. */
static int
copy_name(char *dst, const char *w, size_t n)
{
	if (n == 0 || n >= PK_PROCFS_NAME_MAX)
		return -1;
	memcpy(dst, w, n);
	dst[n] = '\0';
	return 0;
}

int
pk_procfs_diskstats_parse(const char *buf, size_t len, struct pk_procfs_disk *d,
    unsigned max, unsigned *np, struct pk_procfs_err *err)
{
	struct cur c;
	unsigned n = 0;
	int rc = 0;

	cur_init(&c, buf, len);
	while (cur_line(&c)) {
		const char *p = c.p, *w;
		uint64_t v[10];
		char name[PK_PROCFS_NAME_MAX];
		size_t wl;
		int i;

		if (blank_line(&c))
			continue;
		/* major minor name, then at least 11 counters. */
		if (get_u64(&p, c.end, &v[0]) == -1 ||
		    get_u64(&p, c.end, &v[0]) == -1) {
			bad(err, c.lineno, "expected major and minor numbers", &rc);
			continue;
		}
		wl = get_word(&p, c.end, &w);
		if (copy_name(name, w, wl) == -1) {
			bad(err, c.lineno, "bad device name", &rc);
			continue;
		}
		if (pk_procfs_disk_ignored(name))
			continue;
		for (i = 0; i < 10; i++)
			if (get_u64(&p, c.end, &v[i]) == -1)
				break;
		if (i < 10) {
			bad(err, c.lineno, "expected the I/O counters", &rc);
			continue;
		}
		if (v[0] == 0 && v[4] == 0)
			continue;
		if (n < max) {
			memcpy(d[n].name, name, sizeof(name));
			d[n].rd_sectors = v[2];
			d[n].wr_sectors = v[6];
			d[n].io_ms = v[9];
			n++;
		}
	}
	*np = n;
	return rc;
}

int
pk_procfs_netdev_parse(const char *buf, size_t len, struct pk_procfs_net *d,
    unsigned max, unsigned *np, struct pk_procfs_err *err)
{
	struct cur c;
	unsigned n = 0;
	int rc = 0;

	cur_init(&c, buf, len);
	while (cur_line(&c)) {
		const char *p = c.p, *colon, *w;
		uint64_t v[9];
		char name[PK_PROCFS_NAME_MAX];
		int i;

		/* Two header lines. */
		if (c.lineno <= 2 || blank_line(&c))
			continue;
		colon = memchr(p, ':', (size_t)(c.end - p));
		if (colon == NULL) {
			bad(err, c.lineno, "expected 'iface:'", &rc);
			continue;
		}
		skip_sp(&p, colon);
		w = p;
		if (copy_name(name, w, (size_t)(colon - w)) == -1) {
			bad(err, c.lineno, "bad interface name", &rc);
			continue;
		}
		p = colon + 1;
		for (i = 0; i < 9; i++)
			if (get_u64(&p, c.end, &v[i]) == -1)
				break;
		if (i < 9) {
			bad(err, c.lineno, "expected the byte counters", &rc);
			continue;
		}
		if (v[0] == 0 && v[8] == 0)
			continue;
		if (n < max) {
			memcpy(d[n].name, name, sizeof(name));
			d[n].rx_bytes = v[0];
			d[n].tx_bytes = v[8];
			n++;
		}
	}
	*np = n;
	return rc;
}

int
pk_procfs_pid_stat_parse(const char *buf, size_t len, struct pk_procfs_pid *ps,
    struct pk_procfs_err *err)
{
	const char *end = buf + len, *open, *close, *p;
	uint64_t v;
	size_t n;
	int rc = 0, field;

	memset(ps, 0, sizeof(*ps));
	/* "pid (comm) state ...": comm may hold spaces and parentheses. */
	open = memchr(buf, '(', len);
	close = NULL;
	for (p = end; p > buf; p--)
		if (p[-1] == ')') {
			close = p - 1;
			break;
		}
	if (open == NULL || close == NULL || close < open)
		return bad(err, 1, "expected 'pid (comm) ...'", &rc);
	n = (size_t)(close - open - 1);
	if (n >= sizeof(ps->comm))
		n = sizeof(ps->comm) - 1;
	memcpy(ps->comm, open + 1, n);
	ps->comm[n] = '\0';
	p = close + 1;
	/* Field 3 is the state letter; utime is 14, stime 15, threads 20, rss 24. */
	skip_sp(&p, end);
	if (p >= end)
		return bad(err, 1, "truncated after comm", &rc);
	p++;
	for (field = 4; field <= 24; field++) {
		skip_sp(&p, end);
		if (p < end && *p == '-') {	/* signed fields: priority, nice */
			p++;
		}
		if (get_u64(&p, end, &v) == -1)
			return bad(err, 1, "truncated or malformed fields", &rc);
		switch (field) {
		case 14: ps->utime = v; break;
		case 15: ps->stime = v; break;
		case 20: ps->threads = v; break;
		case 24: ps->rss_pages = v; break;
		default: break;
		}
	}
	return 0;
}

int
pk_procfs_schedstat_parse(const char *buf, size_t len, uint64_t v[3],
    struct pk_procfs_err *err)
{
	const char *p = buf, *end = buf + len;
	int rc = 0, i;

	for (i = 0; i < 3; i++)
		if (get_u64(&p, end, &v[i]) == -1)
			return bad(err, 1, "expected three counters", &rc);
	if (!at_eol(p, end) && !(p < end && *p == '\n' && at_eol(p + 1, end)))
		return bad(err, 1, "trailing text after the counters", &rc);
	return 0;
}

int
pk_procfs_keyval_parse(const char *buf, size_t len, const char *const *keys,
    uint64_t *vals, unsigned *found, struct pk_procfs_err *err)
{
	struct cur c;
	int rc = 0;

	*found = 0;
	cur_init(&c, buf, len);
	while (cur_line(&c)) {
		const char *p = c.p, *k, *ke;
		unsigned i;
		uint64_t v;

		if (blank_line(&c))
			continue;
		k = p;
		while (p < c.end && *p != ':' && *p != ' ' && *p != '\t')
			p++;
		ke = p;
		if (ke == k) {
			bad(err, c.lineno, "expected 'key value'", &rc);
			continue;
		}
		for (i = 0; keys[i] != NULL; i++)
			if (strlen(keys[i]) == (size_t)(ke - k) &&
			    memcmp(keys[i], k, (size_t)(ke - k)) == 0)
				break;
		if (keys[i] == NULL)
			continue;	/* only wanted keys are checked */
		if (p < c.end && *p == ':')
			p++;
		if (get_u64(&p, c.end, &v) == -1) {
			bad(err, c.lineno, "the value is not a number", &rc);
			continue;
		}
		skip_sp(&p, c.end);
		if (c.end - p >= 2 && memcmp(p, "kB", 2) == 0)
			p += 2;
		if (!at_eol(p, c.end)) {
			bad(err, c.lineno, "trailing text after the value", &rc);
			continue;
		}
		vals[i] = v;
		*found |= 1u << i;
	}
	return rc;
}

static void
trim(const char **p, const char **end)
{
	while (*p < *end && (**p == ' ' || **p == '\t'))
		(*p)++;
	while (*end > *p && ((*end)[-1] == '\n' || (*end)[-1] == ' ' ||
	    (*end)[-1] == '\t' || (*end)[-1] == '\r'))
		(*end)--;
}

int
pk_procfs_u64_parse(const char *buf, size_t len, uint64_t *v,
    struct pk_procfs_err *err)
{
	const char *p = buf, *end = buf + len;
	int rc = 0;

	trim(&p, &end);
	if (end - p == 3 && memcmp(p, "max", 3) == 0) {
		*v = UINT64_MAX;
		return 0;
	}
	if (get_u64(&p, end, v) == -1 || p != end)
		return bad(err, 1, "expected a number", &rc);
	return 0;
}

int
pk_procfs_i64_parse(const char *buf, size_t len, int64_t *v,
    struct pk_procfs_err *err)
{
	const char *p = buf, *end = buf + len;
	uint64_t u;
	int rc = 0, neg = 0;

	trim(&p, &end);
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (get_u64(&p, end, &u) == -1 || p != end || u > INT64_MAX)
		return bad(err, 1, "expected a number", &rc);
	*v = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

int
pk_procfs_hex_parse(const char *buf, size_t len, uint64_t *v,
    struct pk_procfs_err *err)
{
	const char *p = buf, *end = buf + len;
	uint64_t x = 0;
	int rc = 0, nd = 0;

	trim(&p, &end);
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; p < end; p++, nd++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return bad(err, 1, "expected a hexadecimal number", &rc);
		if (nd >= 16)
			return bad(err, 1, "hexadecimal number too long", &rc);
		x = x << 4 | d;
	}
	if (nd == 0)
		return bad(err, 1, "expected a hexadecimal number", &rc);
	*v = x;
	return 0;
}

int
pk_procfs_word_parse(const char *buf, size_t len, char *out, size_t size,
    struct pk_procfs_err *err)
{
	const char *p = buf, *end = buf + len;
	int rc = 0;

	trim(&p, &end);
	if (p == end || (size_t)(end - p) >= size ||
	    memchr(p, '\n', (size_t)(end - p)) != NULL)
		return bad(err, 1, "expected one word", &rc);
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return 0;
}

int
pk_procfs_vmstat_parse(const char *buf, size_t len,
    struct pk_procfs_vmstat *vm, struct pk_procfs_err *err)
{
	static const struct { const char *key; size_t n, off; unsigned bit; } keys[] = {
		{ "pgfault", 7, offsetof(struct pk_procfs_vmstat, pgfault),
		    PK_VMSTAT_PGFAULT },
		{ "pgmajfault", 10, offsetof(struct pk_procfs_vmstat, pgmajfault),
		    PK_VMSTAT_PGMAJFAULT },
		{ "pswpin", 6, offsetof(struct pk_procfs_vmstat, pswpin),
		    PK_VMSTAT_PSWPIN },
		{ "pswpout", 7, offsetof(struct pk_procfs_vmstat, pswpout),
		    PK_VMSTAT_PSWPOUT },
		{ "pgpgin", 6, offsetof(struct pk_procfs_vmstat, pgpgin),
		    PK_VMSTAT_PGPGIN },
		{ "pgpgout", 7, offsetof(struct pk_procfs_vmstat, pgpgout),
		    PK_VMSTAT_PGPGOUT },
		{ "oom_kill", 8, offsetof(struct pk_procfs_vmstat, oom_kill),
		    PK_VMSTAT_OOM_KILL },
	};
	const unsigned nkeys = sizeof(keys) / sizeof(keys[0]);
	const unsigned all = (1u << nkeys) - 1;
	struct cur c;
	int rc = 0;

	memset(vm, 0, sizeof(*vm));
	cur_init(&c, buf, len);
	/* About 180 lines, the wanted ones in the middle: stop at the last. */
	while (vm->have != all && cur_line(&c)) {
		const char *p = c.p, *w;
		size_t n;
		uint64_t v;
		unsigned i;

		/* The nr_* gauges come first and are never wanted. */
		if (c.end - p < 6 || (*p != 'p' && *p != 'o'))
			continue;
		n = get_word(&p, c.end, &w);
		for (i = 0; i < nkeys; i++)
			if (keys[i].n == n && memcmp(keys[i].key, w, n) == 0)
				break;
		if (i == nkeys)
			continue;
		if (get_u64(&p, c.end, &v) == -1 || !at_eol(p, c.end)) {
			bad(err, c.lineno, "expected 'name number'", &rc);
			continue;
		}
		memcpy((char *)vm + keys[i].off, &v, sizeof(v));
		vm->have |= keys[i].bit;
	}
	return rc;
}
