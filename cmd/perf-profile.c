/* SPDX-License-Identifier: MIT */
/*
 * perf-profile: rolling event-time profiles of the system and of each
 * component, edge-triggered bottleneck records with a root-cause hint,
 * and a bounded-memory summary of recorded logs.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_jscan.h"
#include "pk_hash.h"
#include "pk_jsonl.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_profsev.h"
#include "pk_evclock.h"
#include "pk_profwin.h"
#include "pk_time.h"
#include "pk_yaml.h"

static const char usage_str[] =
    "usage: perf-profile [-hjsu] [-c config] [-i interval] [-p preset]\n"
    "                    [-w window] [--leak-window span] [--strict] "
    "[file ...]\n";

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "interval", required_argument, NULL, 'i' },
	{ "json", no_argument, NULL, 'j' },
	{ "preset", required_argument, NULL, 'p' },
	{ "summary", no_argument, NULL, 's' },
	{ "unbuffered", no_argument, NULL, 'u' },
	{ "window", required_argument, NULL, 'w' },
	{ "leak-window", required_argument, NULL, 'L' },
	{ "strict", no_argument, NULL, 'S' },
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
};

#define MAX_COMPONENTS	1024
#define MAX_HOSTS	256
#define MAX_EPISODES	10000
#define RING_MAX	8192	/* values per metric and window */
#define EVAL_STEP	1.0	/* checks run at most once per second */
#define MIN_FIT_R2	0.8	/* a trend must fit this well to start */
#define END_FIT_R2	0.5	/* ... and ends when it fits worse */
#define LEAK_BUCKETS	512	/* points held in the leak window */

/* The metrics kept per component, named as in the profile records. */
enum metric {
	M_CPU_UTIL, M_IOWAIT, M_MEM_USED, M_MEM_AVAIL, M_PSI_MEM, M_PSI_IO,
	M_TEMP, M_CPU_PCT, M_RSS, M_IO_BPS, M_FPS, M_LATENCY, M_THROUGHPUT,
	M_QUEUE, NMETRIC
};

static const char *const metric_name[NMETRIC] = {
	"cpu_util", "cpu_iowait", "mem_used_pct", "mem_avail_pct",
	"psi_memory_some", "psi_io_some", "temp_c", "cpu_pct", "rss_kb",
	"io_bytes_per_s", "fps", "latency_ms", "throughput_per_s",
	"queue_depth"
};

/* The checks; each has its own edge-triggered state per component. */
enum check {
	C_CPU, C_MEM_AVAIL, C_PSI_MEM, C_LEAK, C_LATENCY, C_FPS, C_THROUGHPUT,
	C_QUEUE_GROWTH, C_QUEUE_DEPTH, C_THERMAL, C_IOWAIT, C_PSI_IO, NCHECK
};

static const char *const check_kind[NCHECK] = {
	"cpu", "memory", "memory", "leak", "latency", "throughput",
	"throughput", "queue", "queue", "thermal", "io", "io"
};

/* Targets of a component; 0 disables a check, NAN inherits the default. */
enum target {
	T_LATENCY_P95, T_FPS_MIN, T_THROUGHPUT_MIN, T_CPU_PCT_MAX,
	T_RSS_GROWTH, T_QUEUE_GROWTH, T_QUEUE_MAX, NTARGET
};

static const char *const target_key[NTARGET + 1] = {
	"latency_p95_ms", "fps_min", "throughput_min", "cpu_pct_max",
	"rss_growth_kb_per_min", "queue_growth_per_min", "queue_depth_max",
	NULL
};

/* System targets. */
enum systarget {
	S_CPU_UTIL_MAX, S_MEM_AVAIL_MIN, S_PSI_MEM_MAX, S_IOWAIT_MAX,
	S_PSI_IO_MAX, S_TEMP_TRIP, S_TEMP_MARGIN, NSYS
};

static const char *const sys_key[NSYS + 1] = {
	"cpu_util_max", "mem_avail_min_pct", "psi_memory_max", "iowait_max",
	"psi_io_max", "temp_trip_c", "temp_margin_c", NULL
};

struct comp_targets {
	char *name;
	double t[NTARGET];
};

struct conf {
	double window, interval, smooth, leak_window;
	double esc[2];		/* a severity level more after, two after */
	double sys[NSYS];
	double def[NTARGET];
	struct comp_targets *comp;
	size_t ncomp;
};

struct episode {
	double since, end;
	int peak;
	int ongoing;
	enum check check;
	unsigned comp;		/* index in the component table */
};

/* A host's event clock: hosts' logs need not overlap in time. */
struct hostclk {
	char *name;
	double clock;		/* the largest ts of the host */
	double next_tick;
	struct pk_evclock ev;	/* late records and clock steps */
};

struct component {
	char *host, *name;
	unsigned hidx;		/* its host's clock */
	char *jhost, *jname;	/* as JSON strings, quoted and escaped */
	int system;
	double last_seen, last_eval;
	double trip_c;		/* the trip point of the hottest zone */
	int throttled;		/* 0 no, 1 capped, 2 throttled */
	struct pk_profwin win[NMETRIC];
	unsigned present;	/* bit per metric seen */
	struct pk_profsev sev[NCHECK];
	double val[NCHECK], thr[NCHECK];
	long episode[NCHECK];	/* index of the open episode, or -1 */
	/*
	 * The leak window: RSS over leak_window, as means of buckets of
	 * leak_window / LEAK_BUCKETS, so that a fast metric stream keeps
	 * it bounded and its fit is not drowned in per-sample noise.
	 */
	struct pk_profwin leak;
	double lb_t, lb_v, lb_t0;
	unsigned lb_n;
	struct pk_profagg *agg;	/* --summary only */
};

struct perf_profile_opts {
	const char *config;
	const char *preset;
	double window, interval, leak_window;
	int summary, json, unbuffered, strict;
};

/* Field ids of the scanner. */
enum field {
	F_TYPE, F_TS, F_HOST, F_CPU_UTIL, F_CPU_IOWAIT, F_MEM_TOTAL,
	F_MEM_AVAIL, F_MEM_USED, F_PSI_MEM, F_PSI_IO, F_TEMP, F_TRIP,
	F_THR_THROTTLED, F_THR_SOFT, F_THR_CAPPED, F_COMM, F_COMPONENT,
	F_CPU_PCT, F_RSS, F_READ_BPS, F_WRITE_BPS, F_GONE, F_FPS, F_LATENCY,
	F_THROUGHPUT, F_QUEUE, NFIELD
};

static const char *const field_path[NFIELD] = {
	"type", "ts", "host", "cpu.util", "cpu.iowait", "mem.total_kb",
	"mem.avail_kb", "mem.used_pct", "psi.memory.some_avg10",
	"psi.io.some_avg10", "temp_c", "temp_trip_c", "throttle.now.throttled",
	"throttle.now.soft_temp_limit", "throttle.now.freq_capped", "comm",
	"component", "cpu_pct", "rss_kb", "read_bytes_per_s",
	"write_bytes_per_s", "gone", "fps", "latency_ms", "throughput_per_s",
	"queue_depth"
};

struct state {
	const struct perf_profile_opts *o;
	struct conf conf;
	struct pk_jpaths paths;
	struct pk_jval vals[NFIELD];
	struct component *comp;
	size_t ncomp;
	unsigned *hash;		/* 1 + component index, 0 empty */
	size_t hcap;
	double ts_limit;	/* pk_ts_plausible's cache */
	struct hostclk hosts[MAX_HOSTS];
	size_t nhosts;
	int warned_hosts;
	unsigned long long late, records;
	int warned_late, warned_full;
	double *scratch;
	struct episode *ep;
	size_t nep;
	unsigned long long ep_lost;
	struct pk_bad bad;
	char *jb;		/* the profile record being written */
	size_t jn, jcap;
};

/* ---- configuration ---- */

static void
conf_defaults(struct conf *c, const char *preset)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->window = 60;
	c->interval = NAN;	/* the window */
	c->smooth = 10;
	c->leak_window = 600;
	c->esc[0] = 60;
	c->esc[1] = 300;
	c->sys[S_CPU_UTIL_MAX] = 90;
	c->sys[S_MEM_AVAIL_MIN] = 10;
	c->sys[S_PSI_MEM_MAX] = 10;
	c->sys[S_IOWAIT_MAX] = 20;
	c->sys[S_PSI_IO_MAX] = 30;
	c->sys[S_TEMP_TRIP] = 95;
	c->sys[S_TEMP_MARGIN] = 10;
	for (i = 0; i < NTARGET; i++)
		c->def[i] = 0;
	c->def[T_RSS_GROWTH] = 1024;
	c->def[T_QUEUE_GROWTH] = 6;
	if (preset != NULL && strcmp(preset, "rpi") == 0) {
		c->sys[S_CPU_UTIL_MAX] = 85;
		c->sys[S_MEM_AVAIL_MIN] = 15;
		c->sys[S_PSI_MEM_MAX] = 5;
		c->sys[S_TEMP_TRIP] = 80;
		c->sys[S_TEMP_MARGIN] = 8;
		c->def[T_RSS_GROWTH] = 256;
	}
}

static void
conf_release(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->ncomp; i++)
		free(c->comp[i].name);
	free(c->comp);
	c->comp = NULL;
	c->ncomp = 0;
}

static int
get_targets(struct pk_ydoc *d, struct pk_ynode *m, const char *what,
    const char *const *keys, int nkeys, double *out)
{
	struct pk_ynode *v;
	int i, err = 0;

	if (pk_ynode_expect(d, m, PK_YMAP, what) == -1)
		return -1;
	if (pk_ymap_check(d, m, what, keys) > 0)
		err = -1;
	for (i = 0; i < nkeys; i++) {
		v = pk_ymap_get(m, keys[i]);
		if (v != NULL && pk_ynode_double(d, v, 0, 1e15, &out[i]) == -1)
			err = -1;
	}
	return err;
}

/* Load path over the preset's defaults into c; -1 after reporting errors. */
static int
conf_load(struct conf *c, const char *path, const char *preset)
{
	static const char *const top[] = {
		"window", "interval", "smooth", "leak_window",
		"escalate_after", "system", "defaults", "components", NULL
	};
	struct pk_ydoc *d;
	struct pk_ynode *root, *n;
	size_t i;
	int j, err = 0;

	conf_defaults(c, preset);
	if (path == NULL)
		return 0;
	d = pk_yaml_load_file(path);
	if (d == NULL)
		return -1;
	root = d->root;
	if (root == NULL)
		goto out;
	if (pk_ynode_expect(d, root, PK_YMAP, "profile config") == -1) {
		err = -1;
		goto out;
	}
	if (pk_ymap_check(d, root, "profile config", top) > 0)
		err = -1;
	if ((n = pk_ymap_get(root, "window")) != NULL &&
	    pk_ynode_duration(d, n, 1, 86400, &c->window) == -1)
		err = -1;
	if ((n = pk_ymap_get(root, "interval")) != NULL &&
	    pk_ynode_duration(d, n, 0, 86400, &c->interval) == -1)
		err = -1;
	if ((n = pk_ymap_get(root, "leak_window")) != NULL &&
	    pk_ynode_duration(d, n, 1, 7 * 86400, &c->leak_window) == -1)
		err = -1;
	if ((n = pk_ymap_get(root, "escalate_after")) != NULL) {
		if (pk_ynode_expect(d, n, PK_YSEQ, "escalate_after") == -1 ||
		    n->n != 2) {
			if (n->type == PK_YSEQ)
				pk_yerror(d, n, "escalate_after is a list of two "
				    "durations, such as [1m, 5m]");
			err = -1;
		} else if (pk_ynode_duration(d, n->items[0], 0.001, 7 * 86400,
		    &c->esc[0]) == -1 || pk_ynode_duration(d, n->items[1],
		    0.001, 7 * 86400, &c->esc[1]) == -1) {
			err = -1;
		} else if (c->esc[1] <= c->esc[0]) {
			pk_yerror(d, n->items[1], "the second step of "
			    "escalate_after must come after the first");
			err = -1;
		}
	}
	if ((n = pk_ymap_get(root, "smooth")) != NULL &&
	    pk_ynode_duration(d, n, 0.001, 86400, &c->smooth) == -1)
		err = -1;
	if ((n = pk_ymap_get(root, "system")) != NULL &&
	    get_targets(d, n, "system", sys_key, NSYS, c->sys) == -1)
		err = -1;
	if ((n = pk_ymap_get(root, "defaults")) != NULL &&
	    get_targets(d, n, "defaults", target_key, NTARGET, c->def) == -1)
		err = -1;
	if ((n = pk_ymap_get(root, "components")) != NULL) {
		if (pk_ynode_expect(d, n, PK_YMAP, "components") == -1) {
			err = -1;
			goto out;
		}
		c->comp = calloc(n->n ? n->n : 1, sizeof(*c->comp));
		if (c->comp == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		for (i = 0; i < n->n; i++) {
			struct comp_targets *ct = &c->comp[c->ncomp++];

			ct->name = strdup(n->keys[i]->str);
			if (ct->name == NULL)
				pk_die(PK_EXIT_IO, "out of memory");
			for (j = 0; j < NTARGET; j++)
				ct->t[j] = NAN;
			if (get_targets(d, n->items[i], "component", target_key,
			    NTARGET, ct->t) == -1)
				err = -1;
		}
	}
	if (c->sys[S_TEMP_MARGIN] <= 0) {
		pk_yerror(d, pk_ymap_get(pk_ymap_get(root, "system"),
		    "temp_margin_c"), "temp_margin_c must be above 0");
		err = -1;
	}
out:
	pk_yaml_free(d);
	if (err)
		conf_release(c);
	return err;
}

static double
target(const struct state *s, const struct component *c, enum target t)
{
	size_t i;

	for (i = 0; i < s->conf.ncomp; i++)
		if (strcmp(s->conf.comp[i].name, c->name) == 0 &&
		    !isnan(s->conf.comp[i].t[t]))
			return s->conf.comp[i].t[t];
	return s->conf.def[t];
}

/* ---- components ---- */

static unsigned long
hash_key(const char *host, size_t hl, const char *name, size_t nl)
{
	uint64_t h = pk_hash_fnv1a(PK_HASH_FNV_INIT, host, hl);

	h = pk_hash_fnv1a(h, "\xff", 1);	/* never a byte of UTF-8 */
	return (unsigned long)pk_hash_fnv1a(h, name, nl);
}

/* A string as a JSON string, quoted and escaped by jansson. */
static char *
json_quote(const char *str)
{
	json_t *j = json_string(str);
	char *q;

	if (j == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	q = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	if (q == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	return q;
}

/* The clock of host, made on first sight; NULL when there are too many. */
static struct hostclk *
host_get(struct state *s, const char *host)
{
	struct hostclk *h;
	size_t i;

	for (i = 0; i < s->nhosts; i++)
		if (strcmp(s->hosts[i].name, host) == 0)
			return &s->hosts[i];
	if (s->nhosts == MAX_HOSTS) {
		if (!s->warned_hosts)
			pk_warn("more than %d hosts: the others are passed "
			    "through, not profiled", MAX_HOSTS);
		s->warned_hosts = 1;
		return NULL;
	}
	h = &s->hosts[s->nhosts++];
	if ((h->name = strdup(host)) == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	h->clock = h->next_tick = NAN;
	pk_evclock_init(&h->ev);
	return h;
}

static struct component *
comp_get(struct state *s, const char *host, const char *name, int system)
{
	size_t hl = strlen(host), nl = strlen(name), i, k;
	struct component *c;
	int m;

	k = hash_key(host, hl, name, nl) & (s->hcap - 1);
	for (i = 0; i < s->hcap; i++, k = (k + 1) & (s->hcap - 1)) {
		if (s->hash[k] == 0)
			break;
		c = &s->comp[s->hash[k] - 1];
		if (c->system == system && strcmp(c->host, host) == 0 &&
		    strcmp(c->name, name) == 0)
			return c;
	}
	if (s->ncomp == MAX_COMPONENTS) {
		if (!s->warned_full)
			pk_warn("more than %d components: the others are "
			    "passed through, not profiled", MAX_COMPONENTS);
		s->warned_full = 1;
		return NULL;
	}
	c = &s->comp[s->ncomp];
	memset(c, 0, sizeof(*c));
	c->host = strdup(host);
	c->name = strdup(name);
	c->jhost = json_quote(host);
	c->jname = json_quote(name);
	if (c->host == NULL || c->name == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	c->system = system;
	c->hidx = (unsigned)(host_get(s, host) - s->hosts);
	c->last_eval = -INFINITY;
	c->trip_c = NAN;
	for (m = 0; m < NMETRIC; m++)
		pk_profwin_init(&c->win[m], s->conf.window, RING_MAX,
		    s->conf.smooth);
	pk_profwin_init(&c->leak, s->conf.leak_window, RING_MAX,
	    s->conf.smooth);
	for (m = 0; m < NCHECK; m++)
		c->episode[m] = -1;
	if (s->o->summary) {
		c->agg = calloc(NMETRIC, sizeof(*c->agg));
		if (c->agg == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		for (m = 0; m < NMETRIC; m++)
			pk_profagg_init(&c->agg[m]);
	}
	s->hash[k] = (unsigned)++s->ncomp;
	return c;
}

/* RSS into the leak window: a bucket's mean once it spans its step. */
static void
leak_add(struct state *s, struct component *c, double t, double v)
{
	if (c->lb_n == 0)
		c->lb_t0 = t;
	c->lb_t += t;
	c->lb_v += v;
	c->lb_n++;
	if (t - c->lb_t0 < s->conf.leak_window / LEAK_BUCKETS)
		return;
	if (pk_profwin_add(&c->leak, c->lb_t / c->lb_n, c->lb_v / c->lb_n) ==
	    -1)
		pk_die(PK_EXIT_IO, "out of memory");
	c->lb_t = c->lb_v = 0;
	c->lb_n = 0;
}

/* Forget the RSS history (the process went away). */
static void
leak_reset(struct component *c)
{
	c->leak.n = c->leak.head = 0;
	c->lb_t = c->lb_v = 0;
	c->lb_n = 0;
}

static void
add(struct state *s, struct component *c, enum metric m, double t, double v)
{
	if (!isfinite(v))
		return;
	if (pk_profwin_add(&c->win[m], t, v) == -1)
		pk_die(PK_EXIT_IO, "out of memory");
	c->present |= 1u << m;
	if (m == M_RSS)
		leak_add(s, c, t, v);
	if (c->agg != NULL)
		pk_profagg_add(&c->agg[m], t, v);
}

static double
ewma(const struct component *c, enum metric m)
{
	if (!(c->present & (1u << m)) || c->win[m].n == 0)
		return NAN;
	return c->win[m].ewma.value;
}

/* The RSS slope per minute over the leak window (NAN below 5 points). */
static double
leak_slope(const struct component *c)
{
	double r2;

	return c->leak.n < 5 ? NAN : pk_profwin_slope(&c->leak, &r2);
}

/* ---- records ---- */

static double
rnd(double x)
{
	if (fabs(x) >= 1e9)	/* an event time: keep its milliseconds */
		return round(x * 1000) / 1000;
	return round(x * 1e4) / 1e4;
}

static void
set_num(json_t *o, const char *k, double v)
{
	if (isfinite(v))
		json_object_set_new(o, k, json_real(rnd(v)));
}

static json_t *
record(const char *type, double ts, const struct component *c)
{
	json_t *o = json_object();

	if (o == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "ts", json_real(round(ts * 1000) / 1000));
	json_object_set_new(o, "host", json_string(c->host));
	json_object_set_new(o, "component", json_string(c->name));
	return o;
}

static void
emit(struct state *s, json_t *o)
{
	if (!s->o->summary)
		pk_emit_json(o);
	json_decref(o);
}

/* The resource a kind of bottleneck is ranked by. */
static enum metric
rank_metric(enum check k)
{
	switch (k) {
	case C_MEM_AVAIL:
	case C_PSI_MEM:
	case C_LEAK:
		return M_RSS;
	case C_IOWAIT:
	case C_PSI_IO:
		return M_IO_BPS;
	default:
		return M_CPU_PCT;
	}
}

/* Contributors: the components of the host ranked by their share. */
static json_t *
contributors(struct state *s, const struct component *c, enum check k,
    const struct component **top)
{
	enum metric m = rank_metric(k);
	const struct component *best[5] = { NULL };
	double bv[5] = { 0 }, sum = 0, v;
	json_t *a = json_array();
	size_t i;
	int j, l;

	*top = NULL;
	for (i = 0; i < s->ncomp; i++) {
		const struct component *o = &s->comp[i];

		if (o->system || strcmp(o->host, c->host) != 0)
			continue;
		v = k == C_LEAK ? leak_slope(o) : ewma(o, m);
		if (!isfinite(v) || v <= 0 || o->win[m].n == 0)
			continue;
		sum += v;
		for (j = 0; j < 5 && best[j] != NULL && bv[j] >= v; j++)
			;
		if (j == 5)
			continue;
		for (l = 4; l > j; l--)
			best[l] = best[l - 1], bv[l] = bv[l - 1];
		best[j] = o;
		bv[j] = v;
	}
	for (j = 0; j < 5 && best[j] != NULL; j++) {
		json_t *e = json_object();

		json_object_set_new(e, "component", json_string(best[j]->name));
		json_object_set_new(e, "share", json_real(rnd(bv[j] / sum)));
		json_array_append_new(a, e);
	}
	*top = best[0];
	return a;
}

static struct component *
system_of(struct state *s, const struct component *c)
{
	size_t i;

	for (i = 0; i < s->ncomp; i++)
		if (s->comp[i].system && strcmp(s->comp[i].host, c->host) == 0)
			return &s->comp[i];
	return NULL;
}

static void
hint(struct state *s, const struct component *c, enum check k,
    const struct component *top, char *buf, size_t size)
{
	const struct component *sys;
	double v = c->val[k], t = c->thr[k];
	char ctx[160] = "";
	int n = 0;

	if (top != NULL)
		snprintf(ctx, sizeof(ctx), "; top %s: %s",
		    rank_metric(k) == M_RSS ? "memory" :
		    rank_metric(k) == M_IO_BPS ? "I/O" : "CPU", top->name);
	if (!c->system && (sys = system_of(s, c)) != NULL) {
		if (sys->sev[C_CPU].active)
			snprintf(ctx, sizeof(ctx), "; system CPU saturated "
			    "(%.0f%%)%s%s", sys->val[C_CPU],
			    top != NULL ? ", top: " : "",
			    top != NULL ? top->name : "");
		else if (sys->sev[C_THERMAL].active)
			snprintf(ctx, sizeof(ctx), "; system near its thermal "
			    "trip point (%.1f C)", sys->val[C_THERMAL]);
		else if (sys->sev[C_MEM_AVAIL].active ||
		    sys->sev[C_PSI_MEM].active)
			snprintf(ctx, sizeof(ctx), "; system under memory "
			    "pressure");
		else if (sys->sev[C_IOWAIT].active || sys->sev[C_PSI_IO].active)
			snprintf(ctx, sizeof(ctx), "; system waiting on I/O");
	}
	switch (k) {
	case C_CPU:
		n = c->system ?
		    snprintf(buf, size, "CPU saturated: %.1f%% busy over the "
		    "%.0f%% target", v, t) :
		    snprintf(buf, size, "%s uses %.1f%% CPU over the %.0f%% "
		    "target", c->name, v, t);
		break;
	case C_MEM_AVAIL:
		n = snprintf(buf, size, "memory short: %.1f%% of RAM available, "
		    "under the %.0f%% floor", v, t);
		break;
	case C_PSI_MEM:
		n = snprintf(buf, size, "memory pressure: tasks stalled %.1f%% "
		    "of the time (PSI some avg10), over %.0f%%", v, t);
		break;
	case C_LEAK:
		n = snprintf(buf, size, "leak suspected: RSS of %s grows %.0f "
		    "kB/min steadily, over %.0f kB/min", c->name, v, t);
		break;
	case C_LATENCY:
		n = snprintf(buf, size, "%s latency p95 %.1f ms over the %.1f "
		    "ms target", c->name, v, t);
		break;
	case C_FPS:
		n = snprintf(buf, size, "%s runs at %.1f fps, under the %.1f "
		    "fps floor", c->name, v, t);
		break;
	case C_THROUGHPUT:
		n = snprintf(buf, size, "%s throughput %.1f/s under the %.1f/s "
		    "target", c->name, v, t);
		break;
	case C_QUEUE_GROWTH:
		n = snprintf(buf, size, "queue of %s grows %.1f per minute: "
		    "its consumer is slower than its producer", c->name, v);
		break;
	case C_QUEUE_DEPTH:
		n = snprintf(buf, size, "queue of %s holds %.1f items, over "
		    "%.0f", c->name, v, t);
		break;
	case C_THERMAL:
		n = c->throttled == 2 ?
		    snprintf(buf, size, "thermal: throttled at %.1f C (trip "
		    "%.0f C)", v, c->trip_c) :
		    snprintf(buf, size, "thermal: %.1f C, %.1f C from the "
		    "%.0f C trip point", v, c->trip_c - v, c->trip_c);
		break;
	case C_IOWAIT:
		n = snprintf(buf, size, "I/O bound: CPUs wait on I/O %.1f%% of "
		    "the time, over %.0f%%", v, t);
		break;
	case C_PSI_IO:
		n = snprintf(buf, size, "I/O pressure: tasks stalled %.1f%% of "
		    "the time (PSI some avg10), over %.0f%%", v, t);
		break;
	default:
		break;
	}
	if (n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "%s", ctx);
}

static void
episode_open(struct state *s, struct component *c, enum check k, double t)
{
	struct episode *e;

	if (!s->o->summary)
		return;
	if (s->nep == MAX_EPISODES) {
		s->ep_lost++;
		return;
	}
	e = &s->ep[s->nep];
	e->since = t;
	e->end = t;
	e->peak = c->sev[k].level;
	e->ongoing = 1;
	e->check = k;
	e->comp = (unsigned)(c - s->comp);
	c->episode[k] = (long)s->nep++;
}

static void
edge(struct state *s, struct component *c, enum check k, int what, double t)
{
	static const char *const state_name[] = {
		"", "start", "change", "end"
	};
	const struct component *top;
	struct episode *e;
	const char *metric;
	char buf[512];
	json_t *o;

	if (what == PK_EDGE_START)
		episode_open(s, c, k, t);
	if (c->episode[k] >= 0) {
		e = &s->ep[c->episode[k]];
		e->end = t;
		if (c->sev[k].level > e->peak)
			e->peak = c->sev[k].level;
		if (what == PK_EDGE_END) {
			e->ongoing = 0;
			c->episode[k] = -1;
		}
	}
	if (s->o->summary)
		return;
	o = record("bottleneck", t, c);
	json_object_set_new(o, "kind", json_string(check_kind[k]));
	json_object_set_new(o, "state", json_string(state_name[what]));
	json_object_set_new(o, "severity",
	    json_string(pk_profsev_name(c->sev[k].level)));
	set_num(o, "value", c->val[k]);
	set_num(o, "threshold", c->thr[k]);
	metric = k == C_LEAK ? "rss_kb_trend_per_min" :
	    k == C_QUEUE_GROWTH ? "queue_depth_trend_per_min" :
	    k == C_CPU ? (c->system ? "cpu_util" : "cpu_pct") :
	    k == C_MEM_AVAIL ? "mem_avail_pct" :
	    k == C_PSI_MEM ? "psi_memory_some" :
	    k == C_LATENCY ? "latency_ms_p95" :
	    k == C_FPS ? "fps" :
	    k == C_THROUGHPUT ? "throughput_per_s" :
	    k == C_QUEUE_DEPTH ? "queue_depth" :
	    k == C_THERMAL ? "temp_c" :
	    k == C_IOWAIT ? "cpu_iowait" : "psi_io_some";
	json_object_set_new(o, "metric", json_string(metric));
	set_num(o, "since", round(c->sev[k].since * 1000) / 1000);
	if (what != PK_EDGE_START)
		set_num(o, "duration_s", t - c->sev[k].since);
	json_object_set_new(o, "contributors", contributors(s, c, k, &top));
	if (what == PK_EDGE_END) {
		snprintf(buf, sizeof(buf), "back within target: %s %.4g "
		    "(target %.4g) after %.0f s", metric, c->val[k], c->thr[k],
		    t - c->sev[k].since);
	} else {
		hint(s, c, k, top, buf, sizeof(buf));
	}
	json_object_set_new(o, "hint", json_string(buf));
	emit(s, o);
}

/* The edge of check k of c, with the configured steps of escalation. */
static int
sev_update(struct state *s, struct component *c, enum check k, double t,
    double e, int past, int clear)
{
	c->sev[k].after1 = s->conf.esc[0];
	c->sev[k].after2 = s->conf.esc[1];
	return pk_profsev_update(&c->sev[k], t, e, past, clear);
}

/*
 * One check: v against thr (a floor when floor is set). A threshold of 0
 * or NAN, or a missing value, disables the check (and ends a bottleneck
 * that was open).
 */
static void
judge(struct state *s, struct component *c, enum check k, double t,
    double v, double thr, int floor, double emin)
{
	double e;
	int what;

	if (!(thr > 0) || isnan(v)) {
		if (c->sev[k].active) {
			c->sev[k].active = 0;
			edge(s, c, k, PK_EDGE_END, t);
		}
		return;
	}
	e = pk_profsev_excess(v, thr, floor);
	if (e < emin && e > 0)
		e = emin;
	c->val[k] = v;
	c->thr[k] = thr;
	what = sev_update(s, c, k, t, e, e > 0,
	    e < -PK_PROFSEV_HYST);
	if (what != PK_EDGE_NONE)
		edge(s, c, k, what, t);
}

/*
 * A trend check over w, of span: the slope must also fit well and cover
 * half the span.
 */
static void
judge_trend(struct state *s, struct component *c, enum check k, double t,
    struct pk_profwin *w, double span, double thr)
{
	double slope, r2, e, cover;
	int what, past, clear;

	pk_profwin_expire(w, t);
	if (!(thr > 0) || w->n < 5) {
		judge(s, c, k, t, NAN, 0, 0, 0);
		return;
	}
	slope = pk_profwin_slope(w, &r2);
	cover = w->t[(w->head + w->n - 1) % w->cap] - w->t[w->head];
	if (isnan(slope))
		return;
	e = pk_profsev_excess(slope, thr, 0);
	past = e > 0 && r2 >= MIN_FIT_R2 && cover >= span / 2;
	clear = e < -PK_PROFSEV_HYST || r2 < END_FIT_R2;
	c->val[k] = slope;
	c->thr[k] = thr;
	what = sev_update(s, c, k, t, e, past, clear);
	if (what != PK_EDGE_NONE)
		edge(s, c, k, what, t);
}

static void
evaluate(struct state *s, struct component *c, double t)
{
	double v, thr, margin, e;
	int what;

	if (t < c->last_eval + EVAL_STEP)
		return;
	c->last_eval = t;
	if (c->system) {
		judge(s, c, C_CPU, t, ewma(c, M_CPU_UTIL),
		    s->conf.sys[S_CPU_UTIL_MAX], 0, 0);
		judge(s, c, C_MEM_AVAIL, t, ewma(c, M_MEM_AVAIL),
		    s->conf.sys[S_MEM_AVAIL_MIN], 1, 0);
		judge(s, c, C_PSI_MEM, t, ewma(c, M_PSI_MEM),
		    s->conf.sys[S_PSI_MEM_MAX], 0, 0);
		judge(s, c, C_IOWAIT, t, ewma(c, M_IOWAIT),
		    s->conf.sys[S_IOWAIT_MAX], 0, 0);
		judge(s, c, C_PSI_IO, t, ewma(c, M_PSI_IO),
		    s->conf.sys[S_PSI_IO_MAX], 0, 0);
		/*
		 * Thermal: the threshold is trip - margin; the excess is
		 * scaled so that reaching the trip point is critical (0.5),
		 * and a throttled CPU is at least high (0.25).
		 */
		v = ewma(c, M_TEMP);
		margin = s->conf.sys[S_TEMP_MARGIN];
		thr = (isnan(c->trip_c) ? s->conf.sys[S_TEMP_TRIP] : c->trip_c) -
		    margin;
		if (isnan(v)) {
			judge(s, c, C_THERMAL, t, NAN, 0, 0, 0);
			return;
		}
		e = (v - thr) / margin * 0.5;
		if (c->throttled == 2 && e < 0.25)
			e = 0.25;
		else if (c->throttled == 1 && e < 0.10)
			e = 0.10;
		c->val[C_THERMAL] = v;
		c->thr[C_THERMAL] = thr;
		what = sev_update(s, c, C_THERMAL, t, e, e > 0,
		    e < -PK_PROFSEV_HYST);
		if (what != PK_EDGE_NONE)
			edge(s, c, C_THERMAL, what, t);
		return;
	}
	judge(s, c, C_CPU, t, ewma(c, M_CPU_PCT), target(s, c, T_CPU_PCT_MAX),
	    0, 0);
	if (c->present & (1u << M_LATENCY))
		judge(s, c, C_LATENCY, t, c->win[M_LATENCY].n == 0 ? NAN :
		    pk_profwin_quantile(&c->win[M_LATENCY], 0.95, s->scratch),
		    target(s, c, T_LATENCY_P95), 0, 0);
	judge(s, c, C_FPS, t, ewma(c, M_FPS), target(s, c, T_FPS_MIN), 1, 0);
	judge(s, c, C_THROUGHPUT, t, ewma(c, M_THROUGHPUT),
	    target(s, c, T_THROUGHPUT_MIN), 1, 0);
	judge(s, c, C_QUEUE_DEPTH, t, ewma(c, M_QUEUE),
	    target(s, c, T_QUEUE_MAX), 0, 0);
	judge_trend(s, c, C_LEAK, t, &c->leak, s->conf.leak_window,
	    target(s, c, T_RSS_GROWTH));
	judge_trend(s, c, C_QUEUE_GROWTH, t, &c->win[M_QUEUE], s->conf.window,
	    target(s, c, T_QUEUE_GROWTH));
}

/* End every open bottleneck of c (the component went away or went quiet). */
static void
end_all(struct state *s, struct component *c, double t)
{
	int k;

	for (k = 0; k < NCHECK; k++)
		if (c->sev[k].active) {
			c->sev[k].active = 0;
			edge(s, c, (enum check)k, PK_EDGE_END, t);
		}
}

/*
 * The host's clock stepped back: end its open bottlenecks at the old
 * clock and start its windows and ticks again from the new timeline.
 * Targets and configuration stay.
 */
static void
host_restart(struct state *s, struct hostclk *h)
{
	unsigned hidx = (unsigned)(h - s->hosts);
	struct component *c;
	size_t i;
	int m;

	for (i = 0; i < s->ncomp; i++) {
		c = &s->comp[i];
		if (c->hidx != hidx)
			continue;
		end_all(s, c, h->clock);
		for (m = 0; m < NMETRIC; m++)
			pk_profwin_restart(&c->win[m]);
		pk_profwin_restart(&c->leak);
		leak_reset(c);
		c->last_eval = -INFINITY;
	}
	h->clock = h->next_tick = NAN;
}

/*
 * The efficiency score of a component: 100 times the product over its
 * enabled targets of max(0, 1 - e), e the relative excess of the window's
 * statistic over the target (0 when met).
 */
static double
efficiency(const struct state *s, const struct component *c,
    const struct pk_profwin_stats *st)
{
	double eff = 1, e;

#define TERM(val, thr, floor) do { \
	if ((thr) > 0 && !isnan(val)) { \
		e = pk_profsev_excess((val), (thr), (floor)); \
		if (e > 0) \
			eff *= e >= 1 ? 0 : 1 - e; \
	} \
} while (0)
	if (c->system) {
		TERM(st[M_CPU_UTIL].mean, s->conf.sys[S_CPU_UTIL_MAX], 0);
		TERM(st[M_MEM_AVAIL].mean, s->conf.sys[S_MEM_AVAIL_MIN], 1);
		TERM(st[M_PSI_MEM].mean, s->conf.sys[S_PSI_MEM_MAX], 0);
		TERM(st[M_IOWAIT].mean, s->conf.sys[S_IOWAIT_MAX], 0);
		TERM(st[M_PSI_IO].mean, s->conf.sys[S_PSI_IO_MAX], 0);
		TERM(st[M_TEMP].max, (isnan(c->trip_c) ?
		    s->conf.sys[S_TEMP_TRIP] : c->trip_c), 0);
	} else {
		TERM(st[M_CPU_PCT].mean, target(s, c, T_CPU_PCT_MAX), 0);
		TERM(st[M_LATENCY].p95, target(s, c, T_LATENCY_P95), 0);
		TERM(st[M_FPS].mean, target(s, c, T_FPS_MIN), 1);
		TERM(st[M_THROUGHPUT].mean, target(s, c, T_THROUGHPUT_MIN), 1);
		TERM(st[M_QUEUE].mean, target(s, c, T_QUEUE_MAX), 0);
		/* RSS growth counts while the leak check holds it a leak. */
		TERM(c->sev[C_LEAK].active ? c->val[C_LEAK] : NAN,
		    target(s, c, T_RSS_GROWTH), 0);
		TERM(st[M_QUEUE].trend_per_min, target(s, c, T_QUEUE_GROWTH), 0);
	}
#undef TERM
	return 100 * eff;
}

static void
jb_putn(struct state *s, const char *p, size_t n)
{
	if (s->jn + n + 1 > s->jcap) {
		size_t ncap = (s->jn + n + 1) * 2;
		char *nb = realloc(s->jb, ncap);

		if (nb == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		s->jb = nb;
		s->jcap = ncap;
	}
	memcpy(s->jb + s->jn, p, n);
	s->jn += n;
}

static void
jb_put(struct state *s, const char *str)
{
	jb_putn(s, str, strlen(str));
}

static void
jb_num(struct state *s, double x)
{
	char buf[40];

	jb_putn(s, buf, pk_profwin_fmtnum(buf, x));
}

/*
 * ,"key":x, or "key":x right after the object's '{'; a value that is not
 * finite is left out.
 */
static void
jb_field(struct state *s, const char *key, double x)
{
	if (!isfinite(x))
		return;
	jb_put(s, s->jn > 0 && s->jb[s->jn - 1] == '{' ? "\"" : ",\"");
	jb_put(s, key);
	jb_put(s, "\":");
	jb_num(s, x);
}

static void
profile(struct state *s, struct component *c, double t)
{
	struct pk_profwin_stats st[NMETRIC];
	char num[64];
	int i, any = 0;

	for (i = 0; i < NMETRIC; i++) {
		pk_profwin_expire(&c->win[i], t);
		any |= c->win[i].n > 0;
	}
	if (!any) {
		/* Nothing left in the window: the component went quiet. */
		end_all(s, c, t);
		return;
	}
	if (s->o->summary)
		return;
	for (i = 0; i < NMETRIC; i++)
		pk_profwin_stats(&c->win[i], s->scratch, &st[i]);
	/*
	 * The hottest record: written directly (strings quoted by jansson
	 * once per component, numbers by pk_profwin_fmtnum), since building
	 * and dumping a tree of some 80 reals cost more than the scan.
	 */
	s->jn = 0;
	jb_put(s, "{\"type\":\"profile\",\"ts\":");
	jb_num(s, t);
	jb_put(s, ",\"host\":");
	jb_put(s, c->jhost);
	jb_put(s, ",\"component\":");
	jb_put(s, c->jname);
	jb_put(s, ",\"window_s\":");
	jb_num(s, s->conf.window);
	for (i = 0; i < NMETRIC; i++) {
		if (st[i].n == 0)
			continue;
		jb_put(s, ",\"");
		jb_put(s, metric_name[i]);
		jb_put(s, "\":{");
		jb_field(s, "mean", st[i].mean);
		jb_field(s, "min", st[i].min);
		jb_field(s, "max", st[i].max);
		jb_field(s, "stddev", st[i].sd);
		jb_field(s, "p50", st[i].p50);
		jb_field(s, "p95", st[i].p95);
		jb_field(s, "p99", st[i].p99);
		jb_field(s, "ewma", st[i].ewma);
		jb_field(s, "trend_per_min", st[i].trend_per_min);
		snprintf(num, sizeof(num), "%s\"n\":%zu}",
		    s->jb[s->jn - 1] == '{' ? "" : ",", st[i].n);
		jb_put(s, num);
	}
	snprintf(num, sizeof(num), ",\"efficiency\":%d}",
	    (int)round(efficiency(s, c, st)));
	jb_put(s, num);
	pk_out_line(s->jb, s->jn);
}

/* The profiles of host h's components at t. */
static void
profile_host(struct state *s, const struct hostclk *h, double t)
{
	unsigned hi = (unsigned)(h - s->hosts);
	size_t i;

	for (i = 0; i < s->ncomp; i++)
		if (s->comp[i].hidx == hi)
			profile(s, &s->comp[i], t);
}

/* A host's clock moves forward: emit the profiles of each tick passed. */
static void
tick(struct state *s, struct hostclk *h, double t)
{
	if (s->conf.interval <= 0)
		return;
	if (isnan(h->next_tick))
		h->next_tick = (floor(t / s->conf.interval) + 1) *
		    s->conf.interval;
	if (t < h->next_tick)
		return;
	profile_host(s, h, h->next_tick);
	/* A gap in the input gives one tick, not one per interval missed. */
	h->next_tick = (floor(t / s->conf.interval) + 1) * s->conf.interval;
}

static double
num(const struct state *s, enum field f)
{
	return s->vals[f].type == PK_JNUM ? pk_jval_num(&s->vals[f]) : NAN;
}

static void
on_sample(struct state *s, struct component *c, double t)
{
	struct pk_jval key, val;
	double total, avail, best = NAN, bmargin = INFINITY, trip, temp;
	size_t pos = 0;
	char zone[128];

	add(s, c, M_CPU_UTIL, t, num(s, F_CPU_UTIL));
	add(s, c, M_IOWAIT, t, num(s, F_CPU_IOWAIT));
	add(s, c, M_MEM_USED, t, num(s, F_MEM_USED));
	total = num(s, F_MEM_TOTAL);
	avail = num(s, F_MEM_AVAIL);
	if (total > 0 && !isnan(avail))
		add(s, c, M_MEM_AVAIL, t, 100.0 * avail / total);
	else if (!isnan(num(s, F_MEM_USED)))
		add(s, c, M_MEM_AVAIL, t, 100.0 - num(s, F_MEM_USED));
	add(s, c, M_PSI_MEM, t, num(s, F_PSI_MEM));
	add(s, c, M_PSI_IO, t, num(s, F_PSI_IO));
	/* The hottest zone is the one closest to its own trip point. */
	while (pk_profsev_obj_next(&s->vals[F_TEMP], &pos, &key, &val)) {
		size_t p2 = 0;
		struct pk_jval k2, v2;

		if (val.type != PK_JNUM)
			continue;
		temp = pk_jval_num(&val);
		trip = NAN;
		pk_jval_str(&key, zone, sizeof(zone));
		while (pk_profsev_obj_next(&s->vals[F_TRIP], &p2, &k2, &v2))
			if (v2.type == PK_JNUM && pk_jval_streq(&k2, zone)) {
				trip = pk_jval_num(&v2);
				break;
			}
		/* The configured trip caps the zone's (a Pi throttles at 80 C). */
		if (isnan(trip) || trip > s->conf.sys[S_TEMP_TRIP])
			trip = s->conf.sys[S_TEMP_TRIP];
		if (trip - temp < bmargin) {
			bmargin = trip - temp;
			best = temp;
			c->trip_c = trip;
		}
	}
	add(s, c, M_TEMP, t, best);
	c->throttled = s->vals[F_THR_THROTTLED].type == PK_JTRUE ||
	    s->vals[F_THR_SOFT].type == PK_JTRUE ? 2 :
	    s->vals[F_THR_CAPPED].type == PK_JTRUE ? 1 : 0;
}

static void
on_app(struct state *s, struct component *c, double t, int proc)
{
	double r, w;

	add(s, c, M_CPU_PCT, t, num(s, F_CPU_PCT));
	add(s, c, M_RSS, t, num(s, F_RSS));
	if (proc) {
		r = num(s, F_READ_BPS);
		w = num(s, F_WRITE_BPS);
		if (!isnan(r) || !isnan(w))
			add(s, c, M_IO_BPS, t, (isnan(r) ? 0 : r) +
			    (isnan(w) ? 0 : w));
		return;
	}
	add(s, c, M_FPS, t, num(s, F_FPS));
	add(s, c, M_LATENCY, t, num(s, F_LATENCY));
	add(s, c, M_THROUGHPUT, t, num(s, F_THROUGHPUT));
	add(s, c, M_QUEUE, t, num(s, F_QUEUE));
}

/* A name from a string value, cut (if it must be) on a UTF-8 boundary. */
static void
copy_name(const struct pk_jval *v, char *buf, size_t size)
{
	size_t n;

	if (pk_jval_str(v, buf, size) < size)
		return;
	n = strlen(buf);
	while (n > 0 && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
		n--;
	if (n > 0 && ((unsigned char)buf[n - 1] & 0x80))
		n--;
	buf[n] = '\0';
}

static void
line(struct state *s, const struct pk_jsonl *r, const char *ln, size_t len)
{
	struct pk_jscan_err err;
	struct component *c;
	char host[256], name[256];
	struct hostclk *h;
	int kind;		/* 1 sample, 2 proc, 3 metric */
	double t, back = 0;

	if (pk_jscan(&s->paths, ln, len, s->vals, &err) == -1) {
		pk_bad_line(&s->bad, r->name, r->lineno, "column %zu: %s",
		    err.col, err.msg);
		return;
	}
	kind = 0;
	if (s->vals[F_TYPE].type == PK_JSTR && !s->vals[F_TYPE].escaped &&
	    s->vals[F_TYPE].len >= 4 && s->vals[F_TYPE].len <= 6) {
		if (pk_jval_streq(&s->vals[F_TYPE], "sample"))
			kind = 1;
		else if (pk_jval_streq(&s->vals[F_TYPE], "proc"))
			kind = 2;
		else if (pk_jval_streq(&s->vals[F_TYPE], "metric"))
			kind = 3;
	}
	if (kind == 0) {
		/* Not ours: through unchanged. */
		if (!s->o->summary)
			pk_out_line(ln, len);
		return;
	}
	t = num(s, F_TS);
	if (!isfinite(t)) {
		pk_bad_line(&s->bad, r->name, r->lineno,
		    "a %s record without a numeric ts",
		    kind == 1 ? "sample" : kind == 2 ? "proc" : "metric");
		return;
	}
	if (!pk_ts_plausible(t, &s->ts_limit)) {
		pk_bad_line(&s->bad, r->name, r->lineno, "ts %.17g is more "
		    "than a day ahead of the clock (not seconds since the "
		    "epoch?)", t);
		return;
	}
	if (kind == 2 && s->vals[F_COMM].type != PK_JSTR) {
		pk_bad_line(&s->bad, r->name, r->lineno,
		    "a proc record without comm");
		return;
	}
	if (kind == 3 && s->vals[F_COMPONENT].type != PK_JSTR) {
		pk_bad_line(&s->bad, r->name, r->lineno,
		    "a metric record without component");
		return;
	}
	s->records++;
	if (s->vals[F_HOST].type == PK_JSTR)
		copy_name(&s->vals[F_HOST], host, sizeof(host));
	else
		snprintf(host, sizeof(host), "unknown");
	if ((h = host_get(s, host)) == NULL) {
		if (!s->o->summary)
			pk_out_line(ln, len);
		return;
	}
	switch (pk_evclock_see(&h->ev, t, s->conf.window, &back)) {
	case PK_EVCLOCK_LATE:
		if (!s->o->summary)
			pk_out_line(ln, len);
		if (!s->warned_late)
			pk_warn("%s:%lu: ts %.3f is more than the window behind "
			    "%.3f: late records are passed through, not "
			    "profiled", r->name, r->lineno, t, h->clock);
		s->warned_late = 1;
		s->late++;
		return;
	case PK_EVCLOCK_STEP:
		pk_warn("%s: clock stepped back by %.0f s at %s:%lu; windows "
		    "restarted", h->name, back, r->name, r->lineno);
		host_restart(s, h);
		break;
	case PK_EVCLOCK_ON:
		break;
	}
	/* Profiles of the ticks this record passes come before it. */
	if (t > h->clock || isnan(h->clock))
		tick(s, h, t);
	if (!s->o->summary)
		pk_out_line(ln, len);
	h->clock = h->ev.clock;
	if (kind == 1)
		snprintf(name, sizeof(name), "system");
	else
		copy_name(&s->vals[kind == 2 ? F_COMM : F_COMPONENT], name,
		    sizeof(name));
	c = comp_get(s, host, name, kind == 1);
	if (c == NULL)
		return;
	c->last_seen = t;
	if (kind == 1)
		on_sample(s, c, t);
	else
		on_app(s, c, t, kind == 2);
	if (kind == 2 && s->vals[F_GONE].type == PK_JTRUE) {
		end_all(s, c, h->clock);
		leak_reset(c);
		return;
	}
	/* Decisions run on the host's event clock, which never goes back. */
	evaluate(s, c, h->clock);
}

/* ---- summary ---- */

static void
fmt_ts(double t, char *buf, size_t size)
{
	time_t tt = fabs(t) < 1e15 ? (time_t)floor(t) : 0;
	struct tm tm;

	if (!(fabs(t) < 1e15) || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, size, "-");
		return;
	}
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *
ep_metric(const struct episode *e, const struct component *c)
{
	static const char *const names[NCHECK] = {
		NULL, "mem_avail_pct", "psi_memory_some",
		"rss_kb_trend_per_min", "latency_ms_p95", "fps",
		"throughput_per_s", "queue_depth_trend_per_min", "queue_depth",
		"temp_c", "cpu_iowait", "psi_io_some"
	};

	if (e->check == C_CPU)
		return c->system ? "cpu_util" : "cpu_pct";
	return names[e->check];
}

static void
summary_json(struct state *s)
{
	size_t i;
	int m;
	json_t *o, *ms, *x;

	for (i = 0; i < s->ncomp; i++) {
		struct component *c = &s->comp[i];
		double from = NAN, to = NAN;

		ms = json_object();
		for (m = 0; m < NMETRIC; m++) {
			struct pk_profagg *a = &c->agg[m];

			if (a->w.n == 0)
				continue;
			if (isnan(from) || a->first_t < from)
				from = a->first_t;
			if (isnan(to) || a->last_t > to)
				to = a->last_t;
			x = json_object();
			json_object_set_new(x, "n", json_integer((json_int_t)a->w.n));
			set_num(x, "mean", a->w.mean);
			set_num(x, "stddev", a->w.n > 1 ? pk_welford_sd(&a->w) : 0);
			set_num(x, "min", a->w.min);
			set_num(x, "max", a->w.max);
			set_num(x, "p50", pk_p2_get(&a->p50));
			set_num(x, "p95", pk_p2_get(&a->p95));
			set_num(x, "p99", pk_p2_get(&a->p99));
			json_object_set_new(ms, metric_name[m], x);
		}
		o = record("summary", isnan(to) ? 0 : to, c);
		set_num(o, "from", from);
		set_num(o, "to", to);
		json_object_set_new(o, "metrics", ms);
		pk_emit_json(o);
		json_decref(o);
	}
	for (i = 0; i < s->nep; i++) {
		struct episode *e = &s->ep[i];
		struct component *c = &s->comp[e->comp];

		o = record("episode", e->since, c);
		json_object_set_new(o, "kind", json_string(check_kind[e->check]));
		json_object_set_new(o, "metric", json_string(ep_metric(e, c)));
		json_object_set_new(o, "severity",
		    json_string(pk_profsev_name(e->peak)));
		set_num(o, "since", e->since);
		if (!e->ongoing)
			set_num(o, "end", e->end);
		set_num(o, "duration_s", e->end - e->since);
		json_object_set_new(o, "ongoing", json_boolean(e->ongoing));
		pk_emit_json(o);
		json_decref(o);
	}
}

/* A component's name, with @host when it is not of the first host. */
static void
comp_label(const struct state *s, const struct component *c, char *buf,
    size_t size)
{
	if (strcmp(c->host, s->comp[0].host) != 0)
		snprintf(buf, size, "%s@%s", c->name, c->host);
	else
		snprintf(buf, size, "%s", c->name);
}

static void
summary_table(struct state *s)
{
	char a[32], dur[32];
	size_t i;
	int m;

	pk_out_printf("%-20s %-18s %8s %12s %12s %12s %12s %12s %12s\n",
	    "COMPONENT", "METRIC", "N", "MEAN", "MIN", "MAX", "P50", "P95",
	    "P99");
	for (i = 0; i < s->ncomp; i++) {
		struct component *c = &s->comp[i];
		char label[300];

		comp_label(s, c, label, sizeof(label));
		for (m = 0; m < NMETRIC; m++) {
			struct pk_profagg *g = &c->agg[m];

			if (g->w.n == 0)
				continue;
			pk_out_printf("%-20s %-18s %8llu %12.2f %12.2f %12.2f "
			    "%12.2f %12.2f %12.2f\n", label, metric_name[m],
			    g->w.n, g->w.mean, g->w.min, g->w.max,
			    pk_p2_get(&g->p50), pk_p2_get(&g->p95),
			    pk_p2_get(&g->p99));
		}
	}
	pk_out_printf("\nBOTTLENECKS\n");
	if (s->nep == 0) {
		pk_out_printf("none\n");
		return;
	}
	pk_out_printf("%-20s %10s %-8s %-10s %-20s %s\n", "START", "DURATION",
	    "PEAK", "KIND", "COMPONENT", "METRIC");
	for (i = 0; i < s->nep; i++) {
		struct episode *e = &s->ep[i];
		struct component *c = &s->comp[e->comp];
		char label[300];

		comp_label(s, c, label, sizeof(label));
		fmt_ts(e->since, a, sizeof(a));
		pk_duration_fmt(e->end - e->since, dur, sizeof(dur));
		pk_out_printf("%-20s %10s %-8s %-10s %-20s %s%s\n", a, dur,
		    pk_profsev_name(e->peak), check_kind[e->check], label,
		    ep_metric(e, c), e->ongoing ? " (ongoing)" : "");
	}
	if (s->ep_lost > 0)
		pk_out_printf("(%llu more not listed)\n", s->ep_lost);
}

/* ---- main ---- */

static void
help(void)
{
	pk_help(usage_str,
	    "  -c, --config FILE     targets and windows (YAML)\n"
	    "  -i, --interval DUR    profile records every DUR of event time "
	    "(default: the window, 0 none)\n"
	    "  -j, --json            with --summary: JSON lines, not a table\n"
	    "  -p, --preset NAME     built-in targets: default or rpi\n"
	    "  -s, --summary         no records: a summary at the end of input\n"
	    "  -u, --unbuffered      flush after every record\n"
	    "  -w, --window DUR      rolling window (default 60s)\n"
	    "      --leak-window DUR the RSS trend of the leak check "
	    "(default 10m)\n"
	    "      --strict          the first bad line is fatal\n"
	    "  -h, --help            this help\n"
	    "      --version         print the version\n");
}

static void
parse_opts(int argc, char **argv, struct perf_profile_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->window = o->interval = o->leak_window = NAN;
	while ((ch = getopt_long(argc, argv, "c:hi:jp:suw:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'h':
			help();
			break;
		case 'i':
			o->interval = pk_opt_duration(optarg, 0, 86400,
			    "--interval");
			break;
		case 'j':
			o->json = 1;
			break;
		case 'p':
			if (strcmp(optarg, "default") != 0 &&
			    strcmp(optarg, "rpi") != 0)
				pk_die(PK_EXIT_USAGE, "unknown preset '%s' "
				    "(default, rpi)", optarg);
			o->preset = optarg;
			break;
		case 's':
			o->summary = 1;
			break;
		case 'u':
			o->unbuffered = 1;
			break;
		case 'w':
			o->window = pk_opt_duration(optarg, 1, 86400, "--window");
			break;
		case 'S':
			o->strict = 1;
			break;
		case 'L':
			o->leak_window = pk_opt_duration(optarg, 1, 7 * 86400,
			    "--leak-window");
			break;
		case PK_OPT_VERSION:
			pk_print_version();
			pk_close_stdout();
			exit(PK_EXIT_OK);
		case PK_OPT_LIST_OPTIONS:
			pk_list_options(longopts);
			pk_close_stdout();
			exit(PK_EXIT_OK);
		default:
			pk_usage(usage_str);
		}
	}
	if (o->json && !o->summary)
		pk_die(PK_EXIT_USAGE, "--json needs --summary");
}

/* SIGHUP: a new config replaces the targets; a bad one is reported. */
static void
reload(void *arg)
{
	struct state *s = arg;
	struct conf c;

	if (!pk_reload)
		return;
	pk_reload = 0;
	if (s->o->config == NULL)
		return;
	if (conf_load(&c, s->o->config, s->o->preset) == -1) {
		pk_warn("%s: config not reloaded, the old one stays in force",
		    s->o->config);
		return;
	}
	/* Windows keep their span: only the targets change. */
	c.window = s->conf.window;
	c.interval = s->conf.interval;
	c.smooth = s->conf.smooth;
	c.leak_window = s->conf.leak_window;
	conf_release(&s->conf);
	s->conf = c;
	pk_warn("%s: config reloaded", s->o->config);
}

static int
run_file(struct state *s, const char *path)
{
	struct pk_jsonl r;
	char *ln;
	size_t len;
	int rc;

	if (pk_jsonl_open(&r, path) == -1) {
		pk_warn_errno("cannot open '%s'", path);
		return -1;
	}
	r.on_idle = reload;
	r.arg = s;
	while ((rc = pk_jsonl_next(&r, &ln, &len)) != PK_JSONL_EOF) {
		if (rc == PK_JSONL_STOP)
			break;
		if (rc == PK_JSONL_ERROR) {
			pk_warn_errno("read error on '%s'", r.name);
			pk_jsonl_release(&r);
			return -1;
		}
		if (rc == PK_JSONL_TOOLONG) {
			pk_bad_line(&s->bad, r.name, r.lineno,
			    "line longer than %zu bytes", r.max_line);
			continue;
		}
		if (len == 0)
			continue;
		line(s, &r, ln, len);
		if (pk_reload)
			reload(s);
		/* A bulk replay never blocks: SIGINT/SIGTERM are seen here. */
		if (pk_stop)
			break;
	}
	pk_jsonl_release(&r);
	return 0;
}

int
main(int argc, char **argv)
{
	struct perf_profile_opts o;
	struct state s;
	int i, status, ioerr = 0;
	size_t j;

	pk_init(argv[0]);
	parse_opts(argc, argv, &o);
	argc -= optind;
	argv += optind;

	memset(&s, 0, sizeof(s));
	s.o = &o;
	s.bad.strict = o.strict;
	if (conf_load(&s.conf, o.config, o.preset) == -1)
		exit(PK_EXIT_USAGE);
	if (!isnan(o.window))
		s.conf.window = o.window;
	if (!isnan(o.interval))
		s.conf.interval = o.interval;
	if (!isnan(o.leak_window))
		s.conf.leak_window = o.leak_window;
	if (isnan(s.conf.interval))
		s.conf.interval = s.conf.window;
	pk_jpaths_init(&s.paths);
	for (i = 0; i < NFIELD; i++)
		if (pk_jpaths_add(&s.paths, field_path[i]) != i)
			pk_die(PK_EXIT_IO, "cannot set up the scanner");
	s.comp = calloc(MAX_COMPONENTS, sizeof(*s.comp));
	s.hcap = 2 * MAX_COMPONENTS;
	s.hash = calloc(s.hcap, sizeof(*s.hash));
	s.scratch = malloc(RING_MAX * sizeof(*s.scratch));
	if (o.summary)
		s.ep = malloc(MAX_EPISODES * sizeof(*s.ep));
	if (s.comp == NULL || s.hash == NULL || s.scratch == NULL ||
	    (o.summary && s.ep == NULL))
		pk_die(PK_EXIT_IO, "out of memory");

	pk_out_init(o.unbuffered);
	pk_sig_install(1);
	if (argc == 0) {
		if (run_file(&s, "-") == -1)
			ioerr = 1;
	}
	for (i = 0; i < argc && !pk_stop; i++)
		if (run_file(&s, argv[i]) == -1)
			ioerr = 1;

	/* The final profiles, as of each host's last event time. */
	if (s.conf.interval > 0)
		for (j = 0; j < s.nhosts; j++)
			if (!isnan(s.hosts[j].clock))
				profile_host(&s, &s.hosts[j], s.hosts[j].clock);
	if (o.summary) {
		for (j = 0; j < s.nep; j++)
			if (s.ep[j].ongoing)
				s.ep[j].end = s.hosts[s.comp[s.ep[j].comp].hidx].clock;
		if (o.json)
			summary_json(&s);
		else
			summary_table(&s);
	}
	if (s.late > 0)
		pk_warn("%llu late record%s (older than the window) not "
		    "profiled", s.late, s.late == 1 ? "" : "s");
	status = pk_bad_finish(&s.bad);
	for (j = 0; j < s.ncomp; j++) {
		for (i = 0; i < NMETRIC; i++)
			pk_profwin_release(&s.comp[j].win[i]);
		pk_profwin_release(&s.comp[j].leak);
		free(s.comp[j].host);
		free(s.comp[j].name);
		free(s.comp[j].jhost);
		free(s.comp[j].jname);
		free(s.comp[j].agg);
	}
	for (j = 0; j < s.nhosts; j++)
		free(s.hosts[j].name);
	free(s.comp);
	free(s.hash);
	free(s.scratch);
	free(s.ep);
	free(s.jb);
	pk_jpaths_release(&s.paths);
	conf_release(&s.conf);
	pk_close_stdout();
	if (ioerr)
		return PK_EXIT_IO;
	return status;
}
