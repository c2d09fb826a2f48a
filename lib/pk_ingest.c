/* SPDX-License-Identifier: MIT */
/*
 * The ingest: datagram sockets whose lines (perfkit JSON metric records
 * or StatsD) become perfkit metric records on the reader's clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <ctype.h>

#include <jansson.h>

#include "pk_err.h"
#include "pk_ingest.h"
#include "pk_statedir.h"

#define BATCH 1024

int
pk_ingest_init(struct pk_ingest *in, const char *host, uint64_t cap)
{
	memset(in, 0, sizeof(*in));
	in->host = host;
	in->cap = cap;
	in->buf = malloc(PK_INGEST_DGRAM_MAX + 1);
	if (in->buf == NULL)
		return -1;
	pk_jw_init(&in->w, 1024);
	return 0;
}

static int
add_unix(struct pk_ingest_src *s, const char *path, char *err, size_t errsize)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)], why[256];
	struct stat st;
	char *slash;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path) || strlen(path) == 0)
		return pk_err_reason(err, errsize, 0, "'%s': a socket path has 1 to "
		    "107 bytes", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (pk_statedir_prepare(dir, 0700, 1, why, sizeof(why)) == -1)
		return pk_err_reason(err, errsize, 0, "%s", why);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	/* A socket left by a run that died is replaced, a live one is not. */
	if (lstat(path, &st) == 0) {
		int c;

		if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
			return pk_err_reason(err, errsize, 0, "'%s' exists and is not "
			    "a socket of ours", path);
		c = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (c != -1 && connect(c, (struct sockaddr *)&sa,
		    sizeof(sa)) == 0) {
			close(c);
			return pk_err_reason(err, errsize, 0, "'%s': another program "
			    "is reading this socket", path);
		}
		if (c != -1)
			close(c);
		if (unlink(path) == -1)
			return pk_err_reason(err, errsize, errno, "cannot remove '%s'",
			    path);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return pk_err_reason(err, errsize, errno, "socket for '%s'", path);
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		int e = errno;

		umask(old);
		close(fd);
		return pk_err_reason(err, errsize, e, "cannot bind '%s'", path);
	}
	umask(old);
	if (chmod(path, 0660) == -1 || lstat(path, &st) == -1) {
		int e = errno;

		close(fd);
		return pk_err_reason(err, errsize, e, "'%s'", path);
	}
	s->fd = fd;
	s->unix_sock = 1;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	snprintf(s->path, sizeof(s->path), "%s", path);
	return 0;
}

static int
add_udp(struct pk_ingest_src *s, const char *arg, char *err, size_t errsize)
{
	char host[128], *colon;
	struct addrinfo hints, *ai;
	int fd, one = 1, r;

	if (strlen(arg) >= sizeof(host))
		return pk_err_reason(err, errsize, 0, "'%s': too long", arg);
	snprintf(host, sizeof(host), "%s", arg);
	colon = strrchr(host, ':');
	if (colon == NULL || colon[1] == '\0')
		return pk_err_reason(err, errsize, 0, "'udp:%s': expected udp:ADDR:PORT",
		    arg);
	*colon = '\0';
	if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1, &hints,
	    &ai)) != 0) {
		snprintf(err, errsize, "'udp:%s': %s (a numeric address and "
		    "port)", arg, gai_strerror(r));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1 || bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		int e = errno;

		if (fd != -1)
			close(fd);
		freeaddrinfo(ai);
		return pk_err_reason(err, errsize, e, "cannot bind 'udp:%s'", arg);
	}
	freeaddrinfo(ai);
	/* The kernel's count of datagrams it dropped, in each recvmsg. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	s->fd = fd;
	return 0;
}

int
pk_ingest_add(struct pk_ingest *in, const char *spec, char *err,
    size_t errsize)
{
	struct pk_ingest_src *s;
	int r;

	if (in->n == PK_INGEST_MAXSRC)
		return pk_err_reason(err, errsize, 0, "at most %d ingest sockets", PK_INGEST_MAXSRC);
	s = &in->src[in->n];
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (strncmp(spec, "unix:", 5) == 0)
		r = add_unix(s, spec + 5, err, errsize);
	else if (strncmp(spec, "udp:", 4) == 0)
		r = add_udp(s, spec + 4, err, errsize);
	else
		return pk_err_reason(err, errsize, 0, "'%s': expected unix:PATH or "
		    "udp:ADDR:PORT", spec);
	if (r == -1)
		return -1;
	snprintf(s->spec, sizeof(s->spec), "%s", spec);
	in->n++;
	return 0;
}

/* ---- parsing ---- */

static int
bad(char *why, size_t size, const char *msg)
{
	if (why != NULL && size > 0)
		snprintf(why, size, "%s", msg);
	return -1;
}

/* A JSON metric record: checked, with ts and host added when absent. */
static int
parse_json(struct pk_ingest *in, const char *s, size_t n, double now,
    pk_ingest_emit_fn *emit, void *ctx, char *why, size_t whysize)
{
	json_error_t je;
	json_t *o, *t, *c, *ts, *h, *out;
	const char *k;
	json_t *v;
	char *text;
	size_t len;

	o = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL)
		return bad(why, whysize, "not a JSON object");
	if (!json_is_object(o)) {
		json_decref(o);
		return bad(why, whysize, "not a JSON object");
	}
	t = json_object_get(o, "type");
	c = json_object_get(o, "component");
	ts = json_object_get(o, "ts");
	h = json_object_get(o, "host");
	if (!json_is_string(t) || strcmp(json_string_value(t), "metric") != 0) {
		json_decref(o);
		return bad(why, whysize, "a JSON line that is not a metric "
		    "record");
	}
	if (!json_is_string(c) || json_string_length(c) == 0 ||
	    json_string_length(c) > 255) {
		json_decref(o);
		return bad(why, whysize, "a metric record without component");
	}
	if (ts != NULL && (!json_is_number(ts) || json_number_value(ts) < 0 ||
	    json_number_value(ts) > now + 86400)) {
		json_decref(o);
		return bad(why, whysize, "ts is not seconds since the epoch");
	}
	if (h != NULL && (!json_is_string(h) || json_string_length(h) > 255)) {
		json_decref(o);
		return bad(why, whysize, "host is not a string of at most "
		    "255 bytes");
	}
	/* The record's order: type, ts, host, component, then the line's. */
	out = json_object();
	if (out == NULL) {
		json_decref(o);
		return bad(why, whysize, "out of memory");
	}
	json_object_set(out, "type", t);
	if (ts != NULL)
		json_object_set(out, "ts", ts);
	else
		json_object_set_new(out, "ts", json_real(floor(now * 1e6) / 1e6));
	if (h != NULL)
		json_object_set(out, "host", h);
	else
		json_object_set_new(out, "host", json_string(in->host));
	json_object_set(out, "component", c);
	json_object_foreach(o, k, v)
		if (json_object_get(out, k) == NULL)
			json_object_set(out, k, v);
	text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(16));
	json_decref(out);
	json_decref(o);
	if (text == NULL)
		return bad(why, whysize, "out of memory");
	len = strlen(text);
	emit(ctx, text, len);
	free(text);
	return 0;
}

static int
name_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

static int
tag_char(int ch)
{
	return name_char(ch) || ch == '.' || ch == '/' || ch == ':';
}

/* The running total of a counter; NULL when the table is full. */
static double *
counter(struct pk_ingest *in, const char *comp, const char *key)
{
	struct pk_ingest_counter *c;
	size_t cl = strlen(comp);
	unsigned i;

	for (i = 0; i < in->ncounters; i++) {
		c = &in->counters[i];
		if (strcmp(c->key, comp) == 0 && strcmp(c->key + cl + 1, key) == 0)
			return &c->total;
	}
	if (in->ncounters == PK_INGEST_MAXCOUNTERS)
		return NULL;
	c = &in->counters[in->ncounters++];
	memcpy(c->key, comp, cl + 1);
	memcpy(c->key + cl + 1, key, strlen(key) + 1);
	c->total = 0;
	return &c->total;
}

/* The length of the tag's name at t (up to its ':' or its end ie). */
static size_t
tag_name_len(const char *t, const char *ie)
{
	const char *q = memchr(t, ':', (size_t)(ie - t));

	return (size_t)((q ? q : ie) - t);
}

/* Whether two tags of t[0..n) have the same name (at most 16 tags). */
static int
dup_tags(const char *t, size_t n)
{
	const char *start[17], *end[17], *p = t, *e = t + n;
	unsigned k = 0, i, j;

	while (p < e && k < 17) {
		const char *c = memchr(p, ',', (size_t)(e - p));

		start[k] = p;
		end[k++] = c ? c : e;
		p = c ? c + 1 : e;
	}
	for (i = 0; i < k; i++)
		for (j = i + 1; j < k; j++) {
			size_t a = tag_name_len(start[i], end[i]);

			if (a == tag_name_len(start[j], end[j]) &&
			    memcmp(start[i], start[j], a) == 0)
				return 1;
		}
	return 0;
}

/* name:value|g|ms|c[|@rate][|#tag:v,...] */
static int
parse_statsd(struct pk_ingest *in, const char *s, size_t n, double now,
    pk_ingest_emit_fn *emit, void *ctx, char *why, size_t whysize)
{
	char comp[PK_INGEST_NAME_MAX + 1], key[PK_INGEST_NAME_MAX + 8];
	char num[64], *end;
	const char *p = s, *e = s + n, *colon, *bar, *tags = NULL;
	size_t cl = 0, kl = 0, tl = 0;
	double v, rate = 1, *tot;
	int type, seen_dot = 0, have_comp_tag = 0;
	struct pk_jw *w = &in->w;

	colon = memchr(s, ':', n);
	if (colon == NULL || colon == s)
		return bad(why, whysize, "neither JSON nor StatsD "
		    "(name:value|type)");
	for (p = s; p < colon; p++) {
		if (*p == '.') {
			if (!seen_dot) {
				seen_dot = 1;
				continue;
			}
			if (kl + 1 > PK_INGEST_NAME_MAX)
				return bad(why, whysize, "a StatsD name over "
				    "64 bytes");
			key[kl++] = '_';
		} else if (!name_char((unsigned char)*p)) {
			return bad(why, whysize, "a StatsD name has letters, "
			    "digits, '_', '-' and '.'");
		} else if (!seen_dot) {
			if (cl + 1 > PK_INGEST_NAME_MAX)
				return bad(why, whysize, "a StatsD component "
				    "over 64 bytes");
			comp[cl++] = *p;
		} else {
			if (kl + 1 > PK_INGEST_NAME_MAX)
				return bad(why, whysize, "a StatsD name over "
				    "64 bytes");
			key[kl++] = *p;
		}
	}
	comp[cl] = '\0';
	key[kl] = '\0';
	bar = memchr(colon, '|', (size_t)(e - colon));
	if (bar == NULL || (size_t)(bar - colon - 1) >= sizeof(num) ||
	    bar == colon + 1)
		return bad(why, whysize, "a StatsD line without value|type");
	memcpy(num, colon + 1, (size_t)(bar - colon - 1));
	num[bar - colon - 1] = '\0';
	errno = 0;
	v = strtod(num, &end);
	if (*end != '\0' || errno != 0 || !isfinite(v) || isspace((unsigned
	    char)num[0]))
		return bad(why, whysize, "a StatsD value that is not a number");
	p = bar + 1;
	if (e - p >= 2 && p[0] == 'm' && p[1] == 's')
		type = 'm', p += 2;
	else if (e - p >= 1 && (p[0] == 'g' || p[0] == 'c'))
		type = p[0], p++;
	else
		return bad(why, whysize, "a StatsD type other than g, ms or c");
	if (type == 'g' && (num[0] == '+' || num[0] == '-'))
		return bad(why, whysize, "a relative StatsD gauge (+N, -N) is "
		    "not supported");
	while (p < e) {
		if (*p != '|' || e - p < 2)
			return bad(why, whysize, "a StatsD line with junk after "
			    "the type");
		p++;
		if (*p == '@') {
			const char *q = memchr(p, '|', (size_t)(e - p));
			size_t l = (size_t)((q ? q : e) - p - 1);

			if (l == 0 || l >= sizeof(num))
				return bad(why, whysize, "a bad StatsD sample "
				    "rate");
			memcpy(num, p + 1, l);
			num[l] = '\0';
			errno = 0;
			rate = strtod(num, &end);
			if (*end != '\0' || errno != 0 || !(rate > 0 &&
			    rate <= 1))
				return bad(why, whysize, "a StatsD sample rate "
				    "not in (0, 1]");
			p += l + 1;
		} else if (*p == '#') {
			const char *q = memchr(p, '|', (size_t)(e - p));

			tags = p + 1;
			tl = (size_t)((q ? q : e) - tags);
			p = tags + tl;
		} else {
			return bad(why, whysize, "a StatsD field other than "
			    "@rate or #tags");
		}
	}
	/* The tags: k:v,k2:v2; component: names the component. */
	if (tags != NULL) {
		const char *t = tags, *te = tags + tl;
		unsigned ntags = 0;

		while (t <= te) {
			const char *c = memchr(t, ',', (size_t)(te - t));
			const char *ie = c ? c : te;
			const char *q;

			if (ie == t || ++ntags > 16 || ie - t > 127)
				return bad(why, whysize, "bad StatsD tags (at "
				    "most 16, none empty or over 127 bytes)");
			for (q = t; q < ie; q++)
				if (!tag_char((unsigned char)*q))
					return bad(why, whysize, "a StatsD tag "
					    "with a byte other than letters, "
					    "digits, _-./:");
			if (ie - t > 10 && memcmp(t, "component:", 10) == 0) {
				size_t l = (size_t)(ie - t - 10);

				if (l > PK_INGEST_NAME_MAX)
					return bad(why, whysize, "a StatsD "
					    "component over 64 bytes");
				/* The whole name is the metric then. */
				if (seen_dot && cl > 0 && (cl != l ||
				    memcmp(comp, t + 10, l) != 0)) {
					char full[2 * PK_INGEST_NAME_MAX + 16];

					snprintf(full, sizeof(full), "%s_%s",
					    comp, key);
					if (strlen(full) > PK_INGEST_NAME_MAX)
						return bad(why, whysize, "a "
						    "StatsD name over 64 "
						    "bytes");
					memcpy(key, full, strlen(full) + 1);
					kl = strlen(key);
				} else if (!seen_dot) {
					memcpy(key, comp, cl + 1);
					kl = cl;
				}
				memcpy(comp, t + 10, l);
				comp[l] = '\0';
				cl = l;
				have_comp_tag = 1;
			}
			if (c == NULL)
				break;
			t = c + 1;
		}
	}
	if (!have_comp_tag && (!seen_dot || cl == 0))
		return bad(why, whysize, "a StatsD name without a component "
		    "(COMPONENT.METRIC, or tag #component:NAME)");
	if (kl == 0)
		return bad(why, whysize, "a StatsD name without a metric");
	if (strcmp(key, "type") == 0 || strcmp(key, "ts") == 0 ||
	    strcmp(key, "host") == 0 || strcmp(key, "component") == 0 ||
	    strcmp(key, "tags") == 0)
		return bad(why, whysize, "a StatsD metric named as a field of "
		    "the record (type, ts, host, component, tags)");
	if (tags != NULL && dup_tags(tags, tl))
		return bad(why, whysize, "a StatsD tag given twice");
	if (type == 'm' && (kl < 3 || strcmp(key + kl - 3, "_ms") != 0))
		memcpy(key + kl, "_ms", 4);
	if (type == 'c') {
		if (kl < 6 || strcmp(key + kl - 6, "_total") != 0)
			memcpy(key + kl, "_total", 7);
		if ((tot = counter(in, comp, key)) == NULL)
			return bad(why, whysize, "more than 256 StatsD counters");
		*tot += v / rate;
		v = *tot;
	}
	pk_jw_reset(w);
	pk_jw_obj_begin(w, NULL);
	pk_jw_str(w, "type", "metric");
	pk_jw_num(w, "ts", now, 6);
	pk_jw_str(w, "host", in->host);
	pk_jw_str(w, "component", comp);
	pk_jw_num(w, key, v, 6);
	if (tags != NULL) {
		const char *t = tags, *te = tags + tl;
		int any = 0;

		while (t < te) {
			const char *c = memchr(t, ',', (size_t)(te - t));
			const char *ie = c ? c : te;
			const char *q = memchr(t, ':', (size_t)(ie - t));
			char tk[128], tv[128];
			size_t l1 = (size_t)((q ? q : ie) - t);
			size_t l2 = q ? (size_t)(ie - q - 1) : 0;

			if (!(l1 == 9 && memcmp(t, "component", 9) == 0 && q)) {
				if (l1 >= sizeof(tk))
					l1 = sizeof(tk) - 1;
				if (l2 >= sizeof(tv))
					l2 = sizeof(tv) - 1;
				memcpy(tk, t, l1);
				tk[l1] = '\0';
				memcpy(tv, q ? q + 1 : "", l2);
				tv[l2] = '\0';
				if (!any)
					pk_jw_obj_begin(w, "tags");
				any = 1;
				pk_jw_str(w, tk, tv);
			}
			if (c == NULL)
				break;
			t = c + 1;
		}
		if (any)
			pk_jw_obj_end(w);
	}
	pk_jw_obj_end(w);
	if (w->oom)
		return bad(why, whysize, "out of memory");
	emit(ctx, w->buf, w->len);
	return 0;
}

int
pk_ingest_parse(struct pk_ingest *in, const char *d, size_t n, double now,
    pk_ingest_emit_fn *emit, void *ctx, char *why, size_t whysize)
{
	const char *p = d, *e = d + n;
	int nbad = 0;

	if (why != NULL && whysize > 0)
		why[0] = '\0';
	if (n > PK_INGEST_DGRAM_MAX)
		return bad(why, whysize, "a datagram over 65536 bytes") + 2;
	if (memchr(d, '\0', n) != NULL)
		return bad(why, whysize, "a binary datagram (a NUL byte)") + 2;
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *le = nl ? nl : e, *ls = p;
		char w1[160];
		int r;

		while (ls < le && (*ls == ' ' || *ls == '\t'))
			ls++;
		while (le > ls && (le[-1] == ' ' || le[-1] == '\t' ||
		    le[-1] == '\r'))
			le--;
		if (le > ls) {
			if (*ls == '{')
				r = parse_json(in, ls, (size_t)(le - ls), now,
				    emit, ctx, w1, sizeof(w1));
			else
				r = parse_statsd(in, ls, (size_t)(le - ls), now,
				    emit, ctx, w1, sizeof(w1));
			if (r == -1) {
				if (nbad++ == 0 && why != NULL)
					snprintf(why, whysize, "%s", w1);
			}
		}
		p = nl ? nl + 1 : e;
	}
	return nbad;
}

/* ---- reading ---- */

struct counted {
	struct pk_ingest *in;
	pk_ingest_emit_fn *emit;
	void *ctx;
};

static void
count_emit(void *ctx, const char *rec, size_t len)
{
	struct counted *c = ctx;

	c->in->iv.records++;
	c->in->total.records++;
	c->emit(c->ctx, rec, len);
}

unsigned
pk_ingest_read(struct pk_ingest *in, unsigned i, double now,
    pk_ingest_emit_fn *emit, void *ctx)
{
	struct pk_ingest_src *s = &in->src[i];
	struct counted cc = { in, emit, ctx };
	unsigned k;

	for (k = 0; k < BATCH; k++) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(uint32_t))];
		} cm;
		struct iovec iov = { in->buf, PK_INGEST_DGRAM_MAX + 1 };
		struct msghdr mh;
		struct cmsghdr *c;
		char why[160];
		ssize_t r;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		r = recvmsg(s->fd, &mh, MSG_TRUNC | MSG_DONTWAIT);
		if (r == -1)
			break;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t ov;

				memcpy(&ov, CMSG_DATA(c), sizeof(ov));
				in->iv.kernel_dropped += (uint32_t)(ov - s->ovfl);
				in->total.kernel_dropped += (uint32_t)(ov - s->ovfl);
				s->ovfl = ov;
			}
		in->iv.datagrams++;
		in->total.datagrams++;
		if (in->cap != 0 && in->iv.datagrams - in->iv.dropped > in->cap) {
			in->iv.dropped++;
			in->total.dropped++;
			continue;
		}
		if (pk_ingest_parse(in, in->buf, (size_t)r, now, count_emit, &cc,
		    why, sizeof(why)) != 0) {
			if (in->iv.bad++ == 0)
				snprintf(in->first_bad, sizeof(in->first_bad),
				    "%s: %s", s->spec, why);
			in->total.bad++;
		}
	}
	return k;
}

int
pk_ingest_interval(struct pk_ingest *in, double ts, double interval,
    struct pk_jw *w, struct pk_ingest_counts *iv, char *first_bad,
    size_t fbsize)
{
	int any = in->iv.datagrams != 0 || in->iv.kernel_dropped != 0;

	*iv = in->iv;
	snprintf(first_bad, fbsize, "%s", in->iv.bad ? in->first_bad : "");
	if (any) {
		pk_jw_reset(w);
		pk_jw_obj_begin(w, NULL);
		pk_jw_str(w, "type", "ingest");
		pk_jw_num(w, "ts", ts, 6);
		pk_jw_str(w, "host", in->host);
		pk_jw_num(w, "interval_s", interval, 6);
		pk_jw_u64(w, "datagrams", in->iv.datagrams);
		pk_jw_u64(w, "records", in->iv.records);
		pk_jw_u64(w, "bad", in->iv.bad);
		pk_jw_u64(w, "dropped", in->iv.dropped);
		pk_jw_u64(w, "kernel_dropped", in->iv.kernel_dropped);
		pk_jw_u64(w, "cap", in->cap);
		if (in->iv.bad)
			pk_jw_str(w, "first_bad", in->first_bad);
		pk_jw_obj_end(w);
	}
	memset(&in->iv, 0, sizeof(in->iv));
	in->first_bad[0] = '\0';
	return any;
}

void
pk_ingest_release(struct pk_ingest *in)
{
	unsigned i;

	for (i = 0; i < in->n; i++) {
		struct pk_ingest_src *s = &in->src[i];
		struct stat st;

		if (s->fd != -1)
			close(s->fd);
		if (s->unix_sock && lstat(s->path, &st) == 0 &&
		    st.st_dev == s->dev && st.st_ino == s->ino)
			(void)unlink(s->path);
	}
	in->n = 0;
	pk_jw_release(&in->w);
	free(in->buf);
	in->buf = NULL;
}
