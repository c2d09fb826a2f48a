/* SPDX-License-Identifier: MIT */
#include "pk_filter.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_hash.h"
#include "pk_io.h"
#include "pk_time.h"

void
pk_filter_init(struct pk_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->span = 60;
	f->span_name = "the span";
	f->late_verb = "read";
	f->step_what = "windows";
	f->late_mode = PK_FILTER_LATE_SKIP;
	f->pass = 1;
	f->max_line = PK_JSONL_MAX_LINE_DEFAULT;
	f->max_hosts = 4096;
	f->id_type = f->id_ts = f->id_host = -1;
}

int
pk_filter_set_paths(struct pk_filter *f, struct pk_jpaths *ps)
{
	size_t nt = 0, nn = 0, i, k;
	const char *const *p;
	struct pk_jval *v;
	size_t *at;
	int *ids;

	for (i = 0; f->types != NULL && f->types[i].name != NULL; i++) {
		nt++;
		for (p = f->types[i].need; p != NULL && *p != NULL; p++)
			nn++;
	}
	if ((f->id_type = pk_jpaths_add(ps, "type")) < 0 ||
	    (f->id_ts = pk_jpaths_add(ps, "ts")) < 0 ||
	    (f->id_host = pk_jpaths_add(ps, "host")) < 0)
		return -1;
	ids = calloc(nn + nt + 1, sizeof(*ids));
	at = calloc(nt + 1, sizeof(*at));
	if (ids == NULL || at == NULL) {
		free(ids);
		free(at);
		return -1;
	}
	for (i = 0, k = 0; i < nt; i++) {
		at[i] = k;
		for (p = f->types[i].need; p != NULL && *p != NULL; p++)
			if ((ids[k++] = pk_jpaths_add(ps, *p)) < 0) {
				free(ids);
				free(at);
				return -1;
			}
		ids[k++] = -1;
	}
	if ((v = realloc(f->vals, ((size_t)ps->npaths + 1) * sizeof(*v))) ==
	    NULL) {
		free(ids);
		free(at);
		return -1;
	}
	free(f->need_ids);
	free(f->need_at);
	f->need_ids = ids;
	f->need_at = at;
	f->ntypes = nt;
	f->vals = v;
	f->nvals = (size_t)ps->npaths;
	f->paths = ps;
	return 0;
}

void
pk_filter_pass(const struct pk_filter *f, const struct pk_rec *r)
{
	if (f->pass)
		pk_out_line(r->line, r->len);
}

void
pk_filter_bad(struct pk_filter *f, const struct pk_rec *r, const char *fmt,
    ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pk_bad_line(&f->bad, r->file, r->lineno, "%s", msg);
}

/* Which of the program's types v names: its index, or -1. */
static int
type_of(const struct pk_filter *f, const struct pk_jval *v)
{
	size_t i;

	if (v->type != PK_JSTR)
		return -1;
	for (i = 0; i < f->ntypes; i++) {
		const char *n = f->types[i].name;

		if (v->escaped) {
			if (pk_jval_streq(v, n))
				return (int)i;
		} else if (strlen(n) == v->len && memcmp(v->p, n, v->len) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static size_t
host_hash(const char *s, size_t n)
{
	return (size_t)pk_hash_fnv1a(PK_HASH_FNV_INIT, s, n);
}

static int
htab_grow(struct pk_filter *f)
{
	size_t ncap = f->hcap ? f->hcap * 2 : 64, i, *t;

	if ((t = calloc(ncap, sizeof(*t))) == NULL)
		return -1;
	for (i = 0; i < f->nhosts; i++) {
		size_t j = host_hash(f->hosts[i]->name, f->hosts[i]->len) &
		    (ncap - 1);

		while (t[j] != 0)
			j = (j + 1) & (ncap - 1);
		t[j] = i + 1;
	}
	free(f->htab);
	f->htab = t;
	f->hcap = ncap;
	return 0;
}

/*
 * The host named by (s, n): found, or made (NULL when there are
 * max_hosts already; *created is set for a new one).
 */
static struct pk_fhost *
host_get(struct pk_filter *f, const char *s, size_t n, int *created)
{
	struct pk_fhost *h;
	size_t j;

	*created = 0;
	if (f->last != NULL && f->last->len == n &&
	    memcmp(f->last->name, s, n) == 0)
		return f->last;
	if (f->hcap > 0) {
		j = host_hash(s, n) & (f->hcap - 1);
		while (f->htab[j] != 0) {
			h = f->hosts[f->htab[j] - 1];
			if (h->len == n && memcmp(h->name, s, n) == 0)
				return f->last = h;
			j = (j + 1) & (f->hcap - 1);
		}
	}
	if (f->nhosts >= f->max_hosts)
		return NULL;
	if ((f->nhosts + 1) * 2 > f->hcap && htab_grow(f) == -1)
		pk_die(PK_EXIT_IO, "out of memory");
	if (f->nhosts == f->caphosts) {
		f->caphosts = f->caphosts ? f->caphosts * 2 : 16;
		f->hosts = pk_xreallocarray(f->hosts, f->caphosts,
		    sizeof(*f->hosts));
	}
	h = pk_xcalloc(1, sizeof(*h));
	h->name = pk_xstrndup(s, n);
	h->len = n;
	pk_evclock_init(&h->ev);
	f->hosts[f->nhosts++] = h;
	j = host_hash(s, n) & (f->hcap - 1);
	while (f->htab[j] != 0)
		j = (j + 1) & (f->hcap - 1);
	f->htab[j] = f->nhosts;
	*created = 1;
	return f->last = h;
}

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static void
record(struct pk_filter *f, const struct pk_jsonl *in, const char *line,
    size_t len)
{
	struct pk_jscan_err err;
	const struct pk_jval *tv, *hv;
	char hbuf[PK_FILTER_HOST_MAX + 1];
	const char *hname = "";
	size_t hlen = 0;
	struct pk_fhost *h;
	struct pk_rec r;
	double back = 0;
	int created;

	if (blank(line, len))
		return;
	if (pk_jscan(f->paths, line, len, f->vals, &err) == -1) {
		pk_bad_line(&f->bad, in->name, in->lineno, "column %zu: %s",
		    err.col, err.msg);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.line = line;
	r.len = len;
	r.file = in->name;
	r.lineno = in->lineno;
	r.vals = f->vals;
	tv = &f->vals[f->id_type];
	r.type = type_of(f, tv);
	if (r.type < 0 && !f->all_types) {
		/* Not ours: through, unchanged and unchecked. */
		pk_filter_pass(f, &r);
		return;
	}
	r.type_name = r.type >= 0 ? f->types[r.type].name : "";
	if (f->vals[f->id_ts].type != PK_JNUM) {
		pk_bad_line(&f->bad, r.file, r.lineno,
		    "a%s%s record without a numeric ts", r.type_name[0] ?
		    " " : "", r.type_name);
		return;
	}
	r.ts = pk_jval_num(&f->vals[f->id_ts]);
	if (!isfinite(r.ts) || r.ts < 0) {
		pk_bad_line(&f->bad, r.file, r.lineno, "ts %.17g is not a time "
		    "(seconds since the epoch)", r.ts);
		return;
	}
	if (!pk_ts_plausible(r.ts, &f->ts_limit)) {
		pk_bad_line(&f->bad, r.file, r.lineno, "ts %.17g is more "
		    "than a day ahead of the clock (not seconds since the "
		    "epoch?)", r.ts);
		return;
	}
	hv = &f->vals[f->id_host];
	if (hv->type == PK_JSTR) {
		if (hv->escaped) {
			hlen = pk_jval_str(hv, hbuf, sizeof(hbuf));
			hname = hbuf;
		} else {
			hlen = hv->len;
			hname = hv->p;
		}
		if (hlen > PK_FILTER_HOST_MAX) {
			pk_bad_line(&f->bad, r.file, r.lineno, "host is %zu "
			    "bytes long (at most %d)", hlen, PK_FILTER_HOST_MAX);
			return;
		}
	} else if (hv->type != PK_JNONE) {
		pk_bad_line(&f->bad, r.file, r.lineno, "host is not a string");
		return;
	} else if (f->host_default != NULL) {
		hname = f->host_default;
		hlen = strlen(hname);
	}
	if (r.type >= 0) {
		const int *id = f->need_ids + f->need_at[r.type];

		for (; *id >= 0; id++)
			if (f->vals[*id].type != PK_JSTR) {
				const char *const *p = f->types[r.type].need;

				pk_bad_line(&f->bad, r.file, r.lineno,
				    "a %s record without %s", r.type_name,
				    p[id - (f->need_ids + f->need_at[r.type])]);
				return;
			}
	}
	if ((h = host_get(f, hname, hlen, &created)) == NULL) {
		f->overflow++;
		if (!f->warned_hosts)
			pk_warn("%s:%lu: more than %zu hosts: the records of "
			    "host '%.*s' and later new hosts are passed "
			    "through, not %s", r.file, r.lineno, f->max_hosts,
			    (int)hlen, hname, f->late_verb);
		f->warned_hosts = 1;
		pk_filter_pass(f, &r);
		return;
	}
	r.host = h;
	if (created && f->on_host != NULL)
		h->skip = f->on_host(f, h, &r);
	if (h->skip) {
		h->skipped++;
		pk_filter_pass(f, &r);
		return;
	}
	r.prev_clock = h->ev.clock;
	switch (pk_evclock_see(&h->ev, r.ts, f->span, &back)) {
	case PK_EVCLOCK_LATE:
		h->late++;
		f->late++;
		if (f->late_mode == PK_FILTER_LATE_MINE) {
			r.late = 1;
			break;
		}
		pk_filter_pass(f, &r);
		if (!f->warned_late)
			pk_warn("%s:%lu: ts %.3f is more than %s behind %.3f: "
			    "late records are passed through, not %s", r.file,
			    r.lineno, r.ts, f->span_name, h->ev.clock,
			    f->late_verb);
		f->warned_late = 1;
		return;
	case PK_EVCLOCK_STEP:
		pk_warn("%s: clock stepped back by %.0f s at %s:%lu; %s "
		    "restarted", h->len > 0 ? h->name : "-", back, r.file,
		    r.lineno, f->step_what);
		if (f->on_step != NULL)
			f->on_step(f, h, back, &r);
		break;
	case PK_EVCLOCK_ON:
		break;
	}
	f->records++;
	f->on_record(f, &r);
}

/* pk_jsonl's idle hook: a reload when SIGHUP asked for one, else idle. */
static void
idle(void *arg)
{
	struct pk_filter *f = arg;

	if (pk_reload) {
		pk_reload = 0;
		if (f->on_reload != NULL)
			f->on_reload(f);
		return;
	}
	if (f->on_idle != NULL)
		f->on_idle(f);
}

/* 0 at the end of the file, 1 stopped, -1 read error. */
static int
run_one(struct pk_filter *f, struct pk_jsonl *in)
{
	char *line;
	size_t len;
	int rc;

	for (;;) {
		rc = pk_jsonl_next(in, &line, &len);
		switch (rc) {
		case PK_JSONL_EOF:
			return 0;
		case PK_JSONL_STOP:
			return 1;
		case PK_JSONL_ERROR:
			pk_warn_errno("cannot read '%s'", in->name);
			return -1;
		case PK_JSONL_TOOLONG:
			pk_bad_line(&f->bad, in->name, in->lineno,
			    "line longer than %zu bytes", in->max_line);
			break;
		default:
			record(f, in, line, len);
			break;
		}
		if (pk_reload) {
			pk_reload = 0;
			if (f->on_reload != NULL)
				f->on_reload(f);
		}
		/* A bulk replay never blocks: SIGINT/SIGTERM are seen here. */
		if (pk_stop)
			return 1;
	}
}

int
pk_filter_run(struct pk_filter *f, int n, char *const *files)
{
	char *const stdin_only[] = { (char *)"-" };
	struct pk_jsonl in;
	int i, rc, status = 0;

	if (n == 0) {
		files = stdin_only;
		n = 1;
	}
	for (i = 0; i < n && !pk_stop; i++) {
		if (pk_jsonl_open(&in, files[i]) == -1) {
			pk_warn_errno("cannot open '%s'", files[i]);
			status = -1;
			continue;
		}
		in.max_line = f->max_line;
		in.idle_ms = f->idle_ms;
		in.on_idle = idle;
		in.arg = f;
		f->in = &in;
		rc = run_one(f, &in);
		f->in = NULL;
		pk_jsonl_release(&in);
		if (rc == -1)
			status = -1;
		if (rc == 1)
			break;
	}
	return status;
}

int
pk_filter_finish(struct pk_filter *f)
{
	if (f->late > 0 && f->late_mode == PK_FILTER_LATE_SKIP)
		pk_warn("%llu late record%s (older than %s) not %s", f->late,
		    f->late == 1 ? "" : "s", f->span_name, f->late_verb);
	if (f->overflow > 0)
		pk_warn("%llu record%s of hosts beyond the first %zu passed "
		    "through, not %s", f->overflow, f->overflow == 1 ? "" : "s",
		    f->max_hosts, f->late_verb);
	return pk_bad_finish(&f->bad);
}

void
pk_filter_release(struct pk_filter *f)
{
	size_t i;

	for (i = 0; i < f->nhosts; i++) {
		free(f->hosts[i]->name);
		free(f->hosts[i]);
	}
	free(f->hosts);
	free(f->htab);
	free(f->vals);
	free(f->need_ids);
	free(f->need_at);
	f->hosts = NULL;
	f->htab = NULL;
	f->vals = NULL;
	f->need_ids = NULL;
	f->need_at = NULL;
	f->nhosts = f->caphosts = f->hcap = 0;
}
