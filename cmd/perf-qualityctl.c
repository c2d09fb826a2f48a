/* SPDX-License-Identifier: MIT */
/*
 * perf-qualityctl: resource pressure to a quality level, stable and
 * actuated. A filter: every input line passes through unchanged, and a
 * `quality` record is interleaved on every level change and when the
 * impact of a change has been measured. The algorithm lives in
 * lib/pk_quality.c and is specified in perf-qualityctl(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_jscan.h"
#include "pk_jsonl.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_evclock.h"
#include "pk_quality.h"
#include "pk_time.h"
#include "pk_yaml.h"

extern char **environ;

static const char usage_str[] =
    "usage: perf-qualityctl [-hnu] [-c config] [-d dir] [-e command] [-H host]\n"
    "                       [--strict] [file ...]\n"
    "       perf-qualityctl [-d dir] set level\n"
    "       perf-qualityctl [-d dir] release\n"
    "       perf-qualityctl [-d dir] status\n";

enum { OPT_STRICT = 0x100 };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state-dir", required_argument, NULL, 'd' },
	{ "on-change", required_argument, NULL, 'e' },
	{ "help", no_argument, NULL, 'h' },
	{ "host", required_argument, NULL, 'H' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "unbuffered", no_argument, NULL, 'u' },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
};

#define MAX_COMPONENTS 64
#define MAX_CHILDREN 8
#define NAME_MAX_LEN 64
#define METRIC_STEP 1.0	/* metric-driven evaluations, at most one a second */

enum term_kind { T_CPU, T_MEM, T_TEMP, T_FPS, T_LAT, T_EXTRA };

struct term {
	char *name;
	enum term_kind kind;
	char *path;		/* T_EXTRA: a dotted path of sample records */
	int id;			/* its jscan path id */
	double weight, low, high;
	int enabled;
};

struct levelset {
	double resolution_scale, compression_quality, roi_scale;
	long long frame_skip;
};

struct feature {
	char *name;
	int min_level;
};

struct compcfg {
	char *name;
	int priority;
	double fps_low, fps_high, lat_low, lat_high;	/* NAN: the term's */
	char *pid_file;
	int has_nice;
	int nice[PK_QUALITY_NLEVELS];
	int has_cpus;
	char *cpus[PK_QUALITY_NLEVELS];	/* NULL: all allowed CPUs */
};

struct config {
	struct pk_quality_params params;
	int combine_max;
	double stale;
	double trip_default;
	struct term *terms;
	size_t nterms;
	struct levelset levels[PK_QUALITY_NLEVELS];
	struct feature *features;
	size_t nfeatures;
	struct compcfg *comps;
	size_t ncomps;
	struct pk_jpaths paths;
	int id_type, id_ts, id_host, id_comp, id_fps, id_lat;
	int id_cpu, id_mem, id_temp, id_trip, id_interval;
};

/* A term's part in the last evaluation. */
struct input {
	int have;
	double value, norm, weight, temp_c;
	const char *what;	/* "component", "zone" or NULL */
	char who[NAME_MAX_LEN];
};

/* A component as seen at run time: configured, or met in metric records. */
struct comp {
	char name[NAME_MAX_LEN];
	int cfg;		/* index into config comps, or -1 */
	double fps, fps_ts, lat, lat_ts;
	int have_fps, have_lat;
	int applied;		/* the level last actuated, or -1 */
	int warned;		/* actuation failed and was reported */
};

struct qctl_opts {
	const char *config;
	const char *dir;
	int dir_given;
	const char *on_change;
	const char *host;
	int dry_run;
	int unbuffered;
	int strict;
};

struct qctl {
	struct qctl_opts *o;
	struct config *cfg;
	struct pk_quality_ctl ctl;
	struct comp comps[MAX_COMPONENTS];
	size_t ncomps;
	int comps_full_warned;
	struct pk_jval *vals;
	struct pk_bad bad;
	char host[256];		/* the host followed; empty until known */
	unsigned long long foreign;	/* records of other hosts ignored */
	int foreign_warned;
	unsigned long long late;	/* samples not after the last evaluation */
	int late_warned;
	double last_ts;
	int have_ts;
	struct pk_evclock ev;	/* clock steps: see pk_evclock.h */
	double first_ts;	/* the first record of the host followed */
	double ts_limit;	/* pk_ts_plausible's cache */
	double sample_ts, eval_ts;	/* the last sample, the last evaluation */
	double sample_gap;	/* the sampling interval, 0 until known */
	int have_sample, have_eval;
	/* the state directory */
	char state_path[4096], override_path[4096];
	int have_dir;
	struct stat ov_st;
	int ov_seen;
	int ov_bad_warned;
	/* on-change children */
	pid_t children[MAX_CHILDREN];
	int nchildren;
	unsigned long long allcpus[16];
	/* the terms of the last evaluation, for the records */
	struct input *inputs;	/* one per config term */
	double last_check;	/* monotonic time of the last override check */
	json_t *state;		/* the change not yet in the state file */
	double state_written;	/* monotonic time of the last write */
};

static void
help(void)
{
	pk_help(usage_str,
	    "  -c, --config FILE      pressure terms, thresholds, levels, components\n"
	    "  -d, --state-dir DIR    state file and override (default:\n"
	    "                         $PERF_QUALITYCTL_DIR, $XDG_RUNTIME_DIR/perf-qualityctl,\n"
	    "                         /tmp/perf-qualityctl-UID)\n"
	    "  -e, --on-change CMD    run CMD (sh -c) on every level change\n"
	    "  -H, --host NAME        follow the records of host NAME (default:\n"
	    "                         the first host in the input)\n"
	    "  -n, --dry-run          records only: no state file, override, command\n"
	    "                         or renice (replaying a log beside a live run)\n"
	    "  -u, --unbuffered       flush after every record\n"
	    "      --strict           the first bad input line is fatal\n"
	    "  -h, --help             this help\n"
	    "      --version          print the version\n"
	    "\n"
	    "  set LEVEL              hold LEVEL (ULTRA_LOW LOW MEDIUM HIGH ULTRA_HIGH)\n"
	    "  release                give control back to the controller\n"
	    "  status                 print the state file\n");
}

/* ---- configuration --------------------------------------------------- */

static void
config_free(struct config *c)
{
	size_t i;
	int l;

	if (c == NULL)
		return;
	for (i = 0; i < c->nterms; i++) {
		free(c->terms[i].name);
		free(c->terms[i].path);
	}
	free(c->terms);
	for (i = 0; i < c->nfeatures; i++)
		free(c->features[i].name);
	free(c->features);
	for (i = 0; i < c->ncomps; i++) {
		free(c->comps[i].name);
		free(c->comps[i].pid_file);
		for (l = 0; l < PK_QUALITY_NLEVELS; l++)
			free(c->comps[i].cpus[l]);
	}
	free(c->comps);
	pk_jpaths_release(&c->paths);
	free(c);
}

static void
add_term(struct config *c, const char *name, enum term_kind kind,
    double weight, double low, double high)
{
	struct term *t = &c->terms[c->nterms++];

	/* The slots of extra terms come from realloc: path starts unset. */
	memset(t, 0, sizeof(*t));
	t->name = pk_xstrdup(name);
	t->kind = kind;
	t->weight = weight;
	t->low = low;
	t->high = high;
	t->enabled = weight > 0;
	t->id = -1;
}

/* Domain defaults: a camera/vision pipeline on a small computer. */
static const struct levelset default_levels[PK_QUALITY_NLEVELS] = {
	{ 0.3, 30, 0.5, 3 },
	{ 0.5, 50, 0.7, 2 },
	{ 0.7, 70, 0.85, 1 },
	{ 0.85, 85, 1.0, 0 },
	{ 1.0, 95, 1.0, 0 }
};

static struct config *
config_default(void)
{
	struct config *c = pk_xcalloc(1, sizeof(*c));

	pk_quality_params_default(&c->params);
	c->combine_max = 1;
	c->stale = 10;
	c->trip_default = 85;
	c->terms = pk_xcalloc(5, sizeof(*c->terms));
	add_term(c, "cpu", T_CPU, 1, 60, 95);
	add_term(c, "memory", T_MEM, 1, 70, 95);
	add_term(c, "temperature", T_TEMP, 1, 20, 5);
	add_term(c, "fps", T_FPS, 1, 25, 10);
	add_term(c, "latency", T_LAT, 0.8, 50, 200);
	memcpy(c->levels, default_levels, sizeof(c->levels));
	return c;
}

static struct term *
term_by_name(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nterms; i++)
		if (strcmp(c->terms[i].name, name) == 0)
			return &c->terms[i];
	return NULL;
}

/* low/high under a map, each optional. */
static int
get_bounds(struct pk_ydoc *doc, const struct pk_ynode *m, double *low,
    double *high)
{
	struct pk_ynode *n;
	int err = 0;

	if ((n = pk_ymap_get(m, "low")) != NULL &&
	    pk_ynode_double(doc, n, -1e9, 1e9, low) == -1)
		err = -1;
	if ((n = pk_ymap_get(m, "high")) != NULL &&
	    pk_ynode_double(doc, n, -1e9, 1e9, high) == -1)
		err = -1;
	return err;
}

static void
parse_term(struct pk_ydoc *doc, struct config *c, struct term *t,
    const struct pk_ynode *m)
{
	static const char *const keys[] = { "weight", "low", "high", NULL };
	static const char *const tkeys[] = { "weight", "low", "high",
		"trip_default", NULL };
	static const char *const xkeys[] = { "weight", "low", "high", "path",
		NULL };
	struct pk_ynode *n;

	if (pk_ymap_check(doc, m, t->name, t->kind == T_TEMP ? tkeys :
	    t->kind == T_EXTRA ? xkeys : keys) > 0)
		return;
	if ((n = pk_ymap_get(m, "weight")) != NULL)
		pk_ynode_double(doc, n, 0, 1, &t->weight);
	t->enabled = t->weight > 0;
	get_bounds(doc, m, &t->low, &t->high);
	if (t->low == t->high)
		pk_yerror(doc, m, "%s: low and high must differ", t->name);
	if (t->kind == T_TEMP && (n = pk_ymap_get(m, "trip_default")) != NULL)
		pk_ynode_double(doc, n, -50, 300, &c->trip_default);
}

static void
parse_pressure(struct pk_ydoc *doc, struct config *c, const struct pk_ynode *m)
{
	static const char *const keys[] = { "combine", "stale", "cpu",
		"memory", "temperature", "fps", "latency", "extra", NULL };
	static const char *const builtin[] = { "cpu", "memory", "temperature",
		"fps", "latency" };
	struct pk_ynode *n;
	const char *s;
	size_t i;

	if (pk_ymap_check(doc, m, "pressure", keys) > 0)
		return;
	if ((n = pk_ymap_get(m, "combine")) != NULL &&
	    pk_ynode_str(doc, n, &s) == 0) {
		if (strcmp(s, "max") == 0)
			c->combine_max = 1;
		else if (strcmp(s, "mean") == 0)
			c->combine_max = 0;
		else
			pk_yerror(doc, n, "combine: '%s' is not max or mean", s);
	}
	if ((n = pk_ymap_get(m, "stale")) != NULL)
		pk_ynode_duration(doc, n, 0.001, 86400, &c->stale);
	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if ((n = pk_ymap_get(m, builtin[i])) != NULL)
			parse_term(doc, c, term_by_name(c, builtin[i]), n);
	if ((n = pk_ymap_get(m, "extra")) != NULL &&
	    pk_ynode_expect(doc, n, PK_YMAP, "extra") == 0) {
		struct term *nt;

		nt = realloc(c->terms, (c->nterms + n->n) * sizeof(*nt));
		if (nt == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		c->terms = nt;
		for (i = 0; i < n->n; i++) {
			struct pk_ynode *p;
			struct term *t;

			if (term_by_name(c, n->keys[i]->str) != NULL) {
				pk_yerror(doc, n->keys[i], "term '%s' is "
				    "defined twice", n->keys[i]->str);
				continue;
			}
			add_term(c, n->keys[i]->str, T_EXTRA, 1, 0, 100);
			t = &c->terms[c->nterms - 1];
			if (pk_ynode_expect(doc, n->items[i], PK_YMAP,
			    t->name) == -1)
				continue;
			parse_term(doc, c, t, n->items[i]);
			p = pk_ymap_get(n->items[i], "path");
			if (p == NULL)
				pk_yerror(doc, n->items[i], "%s: 'path' is "
				    "required (a dotted path of sample "
				    "records)", t->name);
			else if (pk_ynode_str(doc, p, &s) == 0) {
				size_t l = strlen(s);

				if (l == 0 || s[0] == '.' || s[l - 1] == '.' ||
				    strstr(s, "..") != NULL)
					pk_yerror(doc, p, "'%s' is not a dotted "
					    "path (e.g. psi.io.some_avg10)", s);
				else
					t->path = pk_xstrdup(s);
			}
		}
	}
}

static int
get_level(struct pk_ydoc *doc, const struct pk_ynode *n, int *out)
{
	int l;

	if (n == NULL || n->type != PK_YSCALAR)
		return pk_yerror(doc, n, "expected a level name");
	l = pk_quality_level_parse(n->str);
	if (l < 0)
		return pk_yerror(doc, n, "'%s' is not a level (ULTRA_LOW, LOW, "
		    "MEDIUM, HIGH, ULTRA_HIGH)", n->str);
	*out = l;
	return 0;
}

static void
parse_control(struct pk_ydoc *doc, struct config *c, const struct pk_ynode *m)
{
	static const char *const keys[] = { "initial", "fast", "slow", "down",
		"up", "confirm", "dwell", "dwell_max", "undo_window",
		"hold_margin", "step_cost", "impact_after", "probe", NULL };
	struct pk_quality_params *p = &c->params;
	struct pk_ynode *n;
	long long v;

	if (pk_ymap_check(doc, m, "control", keys) > 0)
		return;
	if ((n = pk_ymap_get(m, "initial")) != NULL)
		get_level(doc, n, &p->initial);
	if ((n = pk_ymap_get(m, "fast")) != NULL)
		pk_ynode_duration(doc, n, 0.001, 86400, &p->tau_fast);
	if ((n = pk_ymap_get(m, "slow")) != NULL)
		pk_ynode_duration(doc, n, 0.001, 86400, &p->tau_slow);
	if ((n = pk_ymap_get(m, "down")) != NULL)
		pk_ynode_double(doc, n, 0, 100, &p->down);
	if ((n = pk_ymap_get(m, "up")) != NULL)
		pk_ynode_double(doc, n, 0, 100, &p->up);
	if ((n = pk_ymap_get(m, "confirm")) != NULL &&
	    pk_ynode_int(doc, n, 1, 100, &v) == 0)
		p->confirm = (int)v;
	if ((n = pk_ymap_get(m, "dwell")) != NULL)
		pk_ynode_duration(doc, n, 0, 86400, &p->dwell);
	if ((n = pk_ymap_get(m, "dwell_max")) != NULL)
		pk_ynode_duration(doc, n, 0, 7 * 86400, &p->dwell_max);
	if ((n = pk_ymap_get(m, "undo_window")) != NULL)
		pk_ynode_duration(doc, n, 0, 7 * 86400, &p->undo_window);
	if ((n = pk_ymap_get(m, "hold_margin")) != NULL)
		pk_ynode_double(doc, n, 0, 100, &p->hold_margin);
	if ((n = pk_ymap_get(m, "step_cost")) != NULL)
		pk_ynode_double(doc, n, 0, 100, &p->step_cost);
	if ((n = pk_ymap_get(m, "impact_after")) != NULL)
		pk_ynode_duration(doc, n, 0, 86400, &p->impact_after);
	if ((n = pk_ymap_get(m, "probe")) != NULL)
		pk_ynode_duration(doc, n, 0, 7 * 86400, &p->probe);
	if (p->up >= p->down)
		pk_yerror(doc, m, "control: up (%g) must be below down (%g): "
		    "the dead band lies between them", p->up, p->down);
	if (p->tau_fast > p->tau_slow)
		pk_yerror(doc, m, "control: fast must not be longer than slow");
	if (p->dwell > p->dwell_max)
		pk_yerror(doc, m, "control: dwell must not exceed dwell_max");
}

static void
parse_levels(struct pk_ydoc *doc, struct config *c, const struct pk_ynode *m)
{
	static const char *const keys[] = { "resolution_scale",
		"compression_quality", "frame_skip", "roi_scale", NULL };
	size_t i;

	if (pk_ynode_expect(doc, m, PK_YMAP, "levels") == -1)
		return;
	for (i = 0; i < m->n; i++) {
		const struct pk_ynode *s = m->items[i];
		struct levelset *ls;
		struct pk_ynode *n;
		int l;

		if (get_level(doc, m->keys[i], &l) == -1 ||
		    pk_ymap_check(doc, s, m->keys[i]->str, keys) > 0)
			continue;
		ls = &c->levels[l];
		if ((n = pk_ymap_get(s, "resolution_scale")) != NULL)
			pk_ynode_double(doc, n, 0.05, 1, &ls->resolution_scale);
		if ((n = pk_ymap_get(s, "compression_quality")) != NULL)
			pk_ynode_double(doc, n, 1, 100,
			    &ls->compression_quality);
		if ((n = pk_ymap_get(s, "frame_skip")) != NULL)
			pk_ynode_int(doc, n, 0, 100, &ls->frame_skip);
		if ((n = pk_ymap_get(s, "roi_scale")) != NULL)
			pk_ynode_double(doc, n, 0.05, 1, &ls->roi_scale);
	}
}

static void
parse_features(struct pk_ydoc *doc, struct config *c, const struct pk_ynode *m)
{
	size_t i;

	if (pk_ynode_expect(doc, m, PK_YMAP, "features") == -1)
		return;
	c->features = pk_xcalloc(m->n + 1, sizeof(*c->features));
	for (i = 0; i < m->n; i++) {
		int l;

		if (get_level(doc, m->items[i], &l) == -1)
			continue;
		c->features[c->nfeatures].name = pk_xstrdup(m->keys[i]->str);
		c->features[c->nfeatures++].min_level = l;
	}
}

static void
parse_level_map(struct pk_ydoc *doc, const struct pk_ynode *m,
    struct compcfg *cc, int nice)
{
	size_t i;

	if (pk_ynode_expect(doc, m, PK_YMAP, nice ? "nice" : "cpus") == -1)
		return;
	for (i = 0; i < m->n; i++) {
		unsigned long long mask[16];
		const char *s;
		long long v;
		int l;

		if (get_level(doc, m->keys[i], &l) == -1)
			continue;
		if (nice) {
			if (pk_ynode_int(doc, m->items[i], -20, 19, &v) == 0)
				cc->nice[l] = (int)v;
		} else if (pk_ynode_str(doc, m->items[i], &s) == 0) {
			if (pk_quality_cpulist(s, mask) <= 0)
				pk_yerror(doc, m->items[i], "'%s' is not a CPU "
				    "list (e.g. 0-3,6)", s);
			else
				cc->cpus[l] = pk_xstrdup(s);
		}
	}
}

static void
parse_components(struct pk_ydoc *doc, struct config *c,
    const struct pk_ynode *m)
{
	static const char *const keys[] = { "priority", "fps", "latency",
		"pid_file", "nice", "cpus", NULL };
	static const char *const bkeys[] = { "low", "high", NULL };
	size_t i;

	if (pk_ynode_expect(doc, m, PK_YMAP, "components") == -1)
		return;
	if (m->n > MAX_COMPONENTS) {
		pk_yerror(doc, m, "at most %d components", MAX_COMPONENTS);
		return;
	}
	c->comps = pk_xcalloc(m->n + 1, sizeof(*c->comps));
	for (i = 0; i < m->n; i++) {
		const struct pk_ynode *s = m->items[i];
		struct compcfg *cc = &c->comps[c->ncomps++];
		struct pk_ynode *n;
		const char *str;
		long long v;

		cc->name = pk_xstrdup(m->keys[i]->str);
		cc->fps_low = cc->fps_high = cc->lat_low = cc->lat_high = NAN;
		if (strlen(cc->name) >= NAME_MAX_LEN)
			pk_yerror(doc, m->keys[i], "component name too long");
		if (pk_ymap_check(doc, s, cc->name, keys) > 0)
			continue;
		if ((n = pk_ymap_get(s, "priority")) != NULL &&
		    pk_ynode_int(doc, n, 0, 4, &v) == 0)
			cc->priority = (int)v;
		if ((n = pk_ymap_get(s, "fps")) != NULL &&
		    pk_ymap_check(doc, n, "fps", bkeys) == 0)
			get_bounds(doc, n, &cc->fps_low, &cc->fps_high);
		if ((n = pk_ymap_get(s, "latency")) != NULL &&
		    pk_ymap_check(doc, n, "latency", bkeys) == 0)
			get_bounds(doc, n, &cc->lat_low, &cc->lat_high);
		if ((n = pk_ymap_get(s, "pid_file")) != NULL &&
		    pk_ynode_str(doc, n, &str) == 0)
			cc->pid_file = pk_xstrdup(str);
		if ((n = pk_ymap_get(s, "nice")) != NULL) {
			cc->has_nice = 1;
			parse_level_map(doc, n, cc, 1);
		}
		if ((n = pk_ymap_get(s, "cpus")) != NULL) {
			cc->has_cpus = 1;
			parse_level_map(doc, n, cc, 0);
		}
	}
}

static void
config_paths(struct config *c)
{
	struct pk_jpaths *ps = &c->paths;
	size_t i;

	pk_jpaths_init(ps);
	c->id_type = pk_jpaths_add(ps, "type");
	c->id_ts = pk_jpaths_add(ps, "ts");
	c->id_host = pk_jpaths_add(ps, "host");
	c->id_comp = pk_jpaths_add(ps, "component");
	c->id_fps = pk_jpaths_add(ps, "fps");
	c->id_lat = pk_jpaths_add(ps, "latency_ms");
	c->id_cpu = pk_jpaths_add(ps, "cpu.util");
	c->id_mem = pk_jpaths_add(ps, "mem.used_pct");
	c->id_temp = pk_jpaths_add(ps, "temp_c");
	c->id_trip = pk_jpaths_add(ps, "temp_trip_c");
	c->id_interval = pk_jpaths_add(ps, "interval_s");
	for (i = 0; i < c->nterms; i++)
		if (c->terms[i].kind == T_EXTRA && c->terms[i].path != NULL)
			c->terms[i].id = pk_jpaths_add(ps, c->terms[i].path);
	/* The paths were checked when parsed: only memory can fail here. */
	if (c->id_trip < 0)
		pk_die(PK_EXIT_IO, "out of memory");
	for (i = 0; i < c->nterms; i++)
		if (c->terms[i].kind == T_EXTRA && c->terms[i].id < 0)
			pk_die(PK_EXIT_IO, "out of memory");
}

/* Load a config; NULL after reporting errors. path NULL: the defaults. */
static struct config *
config_load(const char *path)
{
	static const char *const keys[] = { "pressure", "control", "levels",
		"features", "components", NULL };
	struct config *c = config_default();
	struct pk_ydoc *doc;
	struct pk_ynode *root, *n;

	if (path == NULL) {
		config_paths(c);
		return c;
	}
	doc = pk_yaml_load_file(path);
	if (doc == NULL) {
		config_free(c);
		return NULL;
	}
	root = doc->root;
	if (root != NULL && pk_ymap_check(doc, root, "config", keys) == 0) {
		if ((n = pk_ymap_get(root, "pressure")) != NULL)
			parse_pressure(doc, c, n);
		if ((n = pk_ymap_get(root, "control")) != NULL)
			parse_control(doc, c, n);
		if ((n = pk_ymap_get(root, "levels")) != NULL)
			parse_levels(doc, c, n);
		if ((n = pk_ymap_get(root, "features")) != NULL)
			parse_features(doc, c, n);
		if ((n = pk_ymap_get(root, "components")) != NULL)
			parse_components(doc, c, n);
	}
	if (doc->errors > 0) {
		pk_yaml_free(doc);
		config_free(c);
		return NULL;
	}
	pk_yaml_free(doc);
	config_paths(c);
	return c;
}

/* ---- components -------------------------------------------------------- */

static int
cfg_index(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ncomps; i++)
		if (strcmp(c->comps[i].name, name) == 0)
			return (int)i;
	return -1;
}

static struct comp *
comp_find(struct qctl *q, const char *name, int create)
{
	struct comp *k;
	size_t i;

	for (i = 0; i < q->ncomps; i++)
		if (strcmp(q->comps[i].name, name) == 0)
			return &q->comps[i];
	if (!create || strlen(name) >= NAME_MAX_LEN)
		return NULL;
	if (q->ncomps == MAX_COMPONENTS) {
		if (!q->comps_full_warned)
			pk_warn("more than %d components: '%s' and later "
			    "ones are ignored", MAX_COMPONENTS, name);
		q->comps_full_warned = 1;
		return NULL;
	}
	k = &q->comps[q->ncomps++];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->cfg = cfg_index(q->cfg, name);
	k->applied = -1;
	return k;
}

/* After a (re)load: configured components first, bindings by name. */
static void
comps_bind(struct qctl *q)
{
	size_t i;

	for (i = 0; i < q->ncomps; i++)
		q->comps[i].cfg = cfg_index(q->cfg, q->comps[i].name);
	for (i = 0; i < q->cfg->ncomps; i++)
		comp_find(q, q->cfg->comps[i].name, 1);
}

static int
comp_prio(const struct qctl *q, const struct comp *k)
{
	return k->cfg >= 0 ? q->cfg->comps[k->cfg].priority : 0;
}

/* ---- pressure ---------------------------------------------------------- */

static double
jnum(const struct pk_jval *v)
{
	return v->type == PK_JNUM ? pk_jval_num(v) : NAN;
}

static json_t *
rounded(double x)
{
	return json_real(round(x * 1000) / 1000);
}

static json_t *
inputs_json(const struct qctl *q)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < q->cfg->nterms; i++) {
		const struct input *in = &q->inputs[i];
		json_t *t;

		if (!in->have)
			continue;
		t = json_object();
		json_object_set_new(t, "value", rounded(in->value));
		json_object_set_new(t, "norm", rounded(in->norm));
		json_object_set_new(t, "weight", rounded(in->weight));
		if (in->what != NULL)
			json_object_set_new(t, in->what, json_string(in->who));
		if (q->cfg->terms[i].kind == T_TEMP)
			json_object_set_new(t, "temp_c", rounded(in->temp_c));
		json_object_set_new(o, q->cfg->terms[i].name, t);
	}
	return o;
}

/*
 * The raw pressure of one sample (NAN if no term has a value) and the
 * mean fps of the components; q->inputs describes the terms.
 */
static double
pressure(struct qctl *q, double ts, const struct pk_jval *vals, int sample,
    double *fps)
{
	const struct config *c = q->cfg;
	double num = 0, den = 0, mx = NAN, fsum = 0;
	int nf = 0;
	size_t i, k;

	for (i = 0; i < c->nterms; i++) {
		const struct term *t = &c->terms[i];
		struct input *in = &q->inputs[i];
		double x = NAN, n = NAN, tc = 0;
		const char *what = NULL, *who = NULL;
		char zone[NAME_MAX_LEN];

		in->have = 0;
		if (!t->enabled && t->kind != T_FPS)
			continue;
		/* A metric record has no system measures to read. */
		if (!sample && t->kind != T_FPS && t->kind != T_LAT)
			continue;
		switch (t->kind) {
		case T_CPU:
			x = jnum(&vals[c->id_cpu]);
			n = pk_quality_norm(x, t->low, t->high);
			break;
		case T_MEM:
			x = jnum(&vals[c->id_mem]);
			n = pk_quality_norm(x, t->low, t->high);
			break;
		case T_EXTRA:
			x = jnum(&vals[t->id]);
			n = pk_quality_norm(x, t->low, t->high);
			break;
		case T_TEMP:
			if (vals[c->id_temp].type == PK_JOBJ)
				x = pk_quality_headroom(vals[c->id_temp].p,
				    vals[c->id_temp].len,
				    vals[c->id_trip].type == PK_JOBJ ?
				    vals[c->id_trip].p : NULL,
				    vals[c->id_trip].len, c->trip_default,
				    zone, sizeof(zone), &tc);
			n = pk_quality_norm(x, t->low, t->high);
			what = "zone";
			who = zone;
			break;
		case T_FPS:
		case T_LAT:
			for (k = 0; k < q->ncomps; k++) {
				const struct comp *m = &q->comps[k];
				const struct compcfg *cc = m->cfg >= 0 ?
				    &c->comps[m->cfg] : NULL;
				double lo = t->low, hi = t->high, v, nn;

				if (t->kind == T_FPS) {
					if (!m->have_fps ||
					    ts - m->fps_ts > c->stale)
						continue;
					v = m->fps;
					fsum += v;
					nf++;
					if (cc != NULL && !isnan(cc->fps_low))
						lo = cc->fps_low;
					if (cc != NULL && !isnan(cc->fps_high))
						hi = cc->fps_high;
				} else {
					if (!m->have_lat ||
					    ts - m->lat_ts > c->stale)
						continue;
					v = m->lat;
					if (cc != NULL && !isnan(cc->lat_low))
						lo = cc->lat_low;
					if (cc != NULL && !isnan(cc->lat_high))
						hi = cc->lat_high;
				}
				nn = pk_quality_norm(v, lo, hi);
				if (isnan(n) || nn > n) {
					n = nn;
					x = v;
					who = m->name;
				}
			}
			what = "component";
			break;
		}
		if (isnan(n) || !t->enabled)
			continue;
		in->have = 1;
		in->value = x;
		in->norm = n;
		in->weight = t->weight;
		in->temp_c = tc;
		in->what = what;
		if (who != NULL) {
			size_t wl = strnlen(who, sizeof(in->who) - 1);

			memcpy(in->who, who, wl);
			in->who[wl] = '\0';
		} else {
			in->who[0] = '\0';
		}
		num += t->weight * n;
		den += t->weight;
		if (isnan(mx) || t->weight * n > mx)
			mx = t->weight * n;
	}
	*fps = nf > 0 ? fsum / nf : NAN;
	if (den == 0)
		return NAN;
	return c->combine_max ? mx : num / den;
}

/* ---- records ----------------------------------------------------------- */

static json_t *
settings_json(const struct config *c, int level)
{
	const struct levelset *ls = &c->levels[level];
	json_t *o = json_object(), *f = json_array();
	size_t i;

	json_object_set_new(o, "resolution_scale", rounded(ls->resolution_scale));
	json_object_set_new(o, "compression_quality",
	    json_integer((json_int_t)round(ls->compression_quality)));
	json_object_set_new(o, "frame_skip", json_integer(ls->frame_skip));
	json_object_set_new(o, "roi_scale", rounded(ls->roi_scale));
	for (i = 0; i < c->nfeatures; i++)
		if (c->features[i].min_level <= level)
			json_array_append_new(f, json_string(c->features[i].name));
	json_object_set_new(o, "features", f);
	return o;
}

static json_t *
record_base(struct qctl *q, double ts)
{
	json_t *r = json_object();

	json_object_set_new(r, "type", json_string("quality"));
	json_object_set_new(r, "ts", json_real(ts));
	json_object_set_new(r, "host", json_string(q->host[0] != '\0' ?
	    q->host : pk_hostname()));
	return r;
}

static json_t *
change_record(struct qctl *q, double ts, const struct pk_quality_change *ch)
{
	json_t *r = record_base(q, ts), *comps = json_object();
	size_t i;

	json_object_set_new(r, "level",
	    json_string(pk_quality_level_name(ch->level)));
	json_object_set_new(r, "level_index", json_integer(ch->level));
	json_object_set_new(r, "prev", ch->prev < 0 ? json_null() :
	    json_string(pk_quality_level_name(ch->prev)));
	json_object_set_new(r, "reason",
	    json_string(pk_quality_reason_name(ch->reason)));
	json_object_set_new(r, "detail", json_string(ch->detail));
	if (!isnan(ch->pressure))
		json_object_set_new(r, "pressure", rounded(ch->pressure));
	if (!isnan(ch->fast))
		json_object_set_new(r, "pressure_fast", rounded(ch->fast));
	if (!isnan(ch->slow))
		json_object_set_new(r, "pressure_slow", rounded(ch->slow));
	json_object_set_new(r, "inputs", inputs_json(q));
	json_object_set_new(r, "settings", settings_json(q->cfg, ch->level));
	for (i = 0; i < q->ncomps; i++) {
		const struct comp *k = &q->comps[i];
		int cl = pk_quality_component_level(ch->level, comp_prio(q, k));
		json_t *o = json_object();

		json_object_set_new(o, "level",
		    json_string(pk_quality_level_name(cl)));
		json_object_set_new(o, "level_index", json_integer(cl));
		json_object_set_new(o, "priority", json_integer(comp_prio(q, k)));
		json_object_set_new(o, "settings", settings_json(q->cfg, cl));
		json_object_set_new(comps, k->name, o);
	}
	json_object_set_new(r, "components", comps);
	if (ch->level + 1 < PK_QUALITY_NLEVELS)
		json_object_set_new(r, "dwell_s", rounded(ch->dwell));
	json_object_set_new(r, "override", json_boolean(q->ctl.override >= 0));
	return r;
}

static json_t *
impact_record(struct qctl *q, double ts, const struct pk_quality_impact *im)
{
	json_t *r = record_base(q, ts), *o = json_object();

	json_object_set_new(r, "level",
	    json_string(pk_quality_level_name(im->to)));
	json_object_set_new(r, "level_index", json_integer(im->to));
	json_object_set_new(r, "reason", json_string("impact"));
	json_object_set_new(o, "change_ts", json_real(im->change_ts));
	json_object_set_new(o, "from", json_string(pk_quality_level_name(im->from)));
	json_object_set_new(o, "to", json_string(pk_quality_level_name(im->to)));
	json_object_set_new(o, "after_s", rounded(im->after_s));
	json_object_set_new(o, "complete", json_boolean(im->complete));
	json_object_set_new(o, "pressure_before", rounded(im->pressure_before));
	json_object_set_new(o, "pressure_after", rounded(im->pressure_after));
	json_object_set_new(o, "pressure_delta",
	    rounded(im->pressure_after - im->pressure_before));
	if (!isnan(im->fps_before) && !isnan(im->fps_after)) {
		json_object_set_new(o, "fps_before", rounded(im->fps_before));
		json_object_set_new(o, "fps_after", rounded(im->fps_after));
		json_object_set_new(o, "fps_delta",
		    rounded(im->fps_after - im->fps_before));
	}
	if (im->learned)
		json_object_set_new(o, "step_cost", rounded(im->step_cost));
	json_object_set_new(r, "impact", o);
	json_object_set_new(r, "override", json_boolean(q->ctl.override >= 0));
	return r;
}

/* ---- actuation --------------------------------------------------------- */

static void
reap(struct qctl *q, int block)
{
	int i, st;

	for (i = 0; i < q->nchildren;) {
		pid_t r = waitpid(q->children[i], &st, block ? 0 : WNOHANG);

		if (r == 0 || (r == -1 && errno == EINTR && !block)) {
			i++;
			continue;
		}
		if (r == -1 && errno == EINTR) {
			block = !pk_stop;	/* SIGTERM: stop waiting */
			continue;
		}
		if (r > 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0)
			pk_warn("on-change command exited with status %d",
			    WEXITSTATUS(st));
		else if (r > 0 && WIFSIGNALED(st))
			pk_warn("on-change command killed by signal %d",
			    WTERMSIG(st));
		q->children[i] = q->children[--q->nchildren];
	}
}

static void
run_on_change(struct qctl *q, const struct pk_quality_change *ch)
{
	char env[7][4200];
	char **envp;
	const char *argv[4];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	size_t n = 0, i, k = 0;
	pid_t pid;
	int e;

	reap(q, 0);
	if (q->nchildren == MAX_CHILDREN) {
		pk_warn("%d on-change commands still running: not starting "
		    "another for %s", MAX_CHILDREN,
		    pk_quality_level_name(ch->level));
		return;
	}
	while (environ[n] != NULL)
		n++;
	envp = pk_xcalloc(n + 8, sizeof(*envp));
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "PK_QUALITY_", 11) != 0)
			envp[k++] = environ[i];
	snprintf(env[0], sizeof(env[0]), "PK_QUALITY_LEVEL=%s",
	    pk_quality_level_name(ch->level));
	snprintf(env[1], sizeof(env[1]), "PK_QUALITY_LEVEL_INDEX=%d", ch->level);
	snprintf(env[2], sizeof(env[2]), "PK_QUALITY_PREV=%s",
	    ch->prev < 0 ? "" : pk_quality_level_name(ch->prev));
	snprintf(env[3], sizeof(env[3]), "PK_QUALITY_REASON=%s",
	    pk_quality_reason_name(ch->reason));
	snprintf(env[4], sizeof(env[4]), "PK_QUALITY_PRESSURE=%.1f",
	    isnan(ch->pressure) ? 0.0 : ch->pressure);
	snprintf(env[5], sizeof(env[5]), "PK_QUALITY_OVERRIDE=%d",
	    q->ctl.override >= 0);
	snprintf(env[6], sizeof(env[6]), "PK_QUALITY_STATE=%s",
	    q->have_dir ? q->state_path : "");
	for (i = 0; i < 7; i++)
		envp[k++] = env[i];
	envp[k] = NULL;
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = q->o->on_change;
	argv[3] = NULL;
	/*
	 * The child must not read our input nor write into our records:
	 * stdin is /dev/null, stdout goes to our stderr, other descriptors
	 * are closed. It starts with default signal dispositions and an
	 * empty mask.
	 */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	/* Nor hold open what we inherited (a pipe another program waits on). */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK);
	e = posix_spawn(&pid, "/bin/sh", &fa, &at, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(envp);
	if (e != 0) {
		errno = e;
		pk_warn_errno("cannot run the on-change command");
		return;
	}
	q->children[q->nchildren++] = pid;
}

static long
read_pid(const char *path, int report)
{
	char *buf;
	size_t len;
	int64_t v;
	const char *why;

	if (pk_read_file(path, &buf, &len) == -1) {
		if (report)
			pk_warn_errno("cannot read pid file '%s' (reported "
			    "once)", path);
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (pk_parse_i64(buf, 1, 4194304, &v, &why) == -1) {
		if (report)
			pk_warn("pid file '%s': '%s' is %s", path, buf, why);
		free(buf);
		return -1;
	}
	free(buf);
	return (long)v;
}

static int
set_affinity(const struct qctl *q, const char *cpus, long pid)
{
	unsigned long long mask[16];
	cpu_set_t set;
	int c;

	if (cpus != NULL)
		pk_quality_cpulist(cpus, mask);
	else
		memcpy(mask, q->allcpus, sizeof(mask));
	CPU_ZERO(&set);
	for (c = 0; c < 1024 && c < CPU_SETSIZE; c++)
		if (mask[c / 64] & (1ULL << (c % 64)))
			CPU_SET(c, &set);
	return sched_setaffinity((pid_t)pid, sizeof(set), &set);
}

/* Renice and pin the processes of components whose level changed. */
static void
actuate(struct qctl *q, int level)
{
	size_t i;

	for (i = 0; i < q->ncomps; i++) {
		struct comp *k = &q->comps[i];
		const struct compcfg *cc;
		int cl = pk_quality_component_level(level, comp_prio(q, k));
		long pid;

		if (k->cfg < 0 || cl == k->applied)
			continue;
		cc = &q->cfg->comps[k->cfg];
		k->applied = cl;
		if (cc->pid_file == NULL)
			continue;
		if (!cc->has_nice && !cc->has_cpus)
			continue;
		if ((pid = read_pid(cc->pid_file, !k->warned)) < 0) {
			k->warned = 1;
			continue;
		}
		if (cc->has_nice &&
		    setpriority(PRIO_PROCESS, (id_t)pid, cc->nice[cl]) == -1) {
			if (!k->warned)
				pk_warn_errno("%s: cannot set nice %d on pid %ld "
				    "(reported once)", k->name, cc->nice[cl],
				    pid);
			k->warned = 1;
		}
		if (cc->has_cpus && set_affinity(q, cc->cpus[cl], pid) == -1) {
			if (!k->warned)
				pk_warn_errno("%s: cannot set CPU affinity %s "
				    "on pid %ld (reported once)", k->name,
				    cc->cpus[cl] != NULL ? cc->cpus[cl] :
				    "(all)", pid);
			k->warned = 1;
		}
	}
}

/*
 * Write the pending change to the state file: at once if force, else at
 * most ten times a second, so that replaying a log does not fsync per
 * change; the rest is written at the next evaluation, idle tick or end.
 */
static void
state_flush(struct qctl *q, int force)
{
	double now;
	char *s;
	size_t n;

	if (q->state == NULL)
		return;
	now = pk_mono();
	if (!force && now - q->state_written < 0.1)
		return;
	q->state_written = now;
	s = json_dumps(q->state, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(q->state);
	q->state = NULL;
	if (s == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	n = strlen(s);
	{
		char *t = realloc(s, n + 2);

		if (t == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		s = t;
	}
	s[n] = '\n';
	s[n + 1] = '\0';
	/*
	 * 0644: applications (often another user: a camera service) read
	 * this file; it holds no secret. The directory's mode decides who
	 * may write the override.
	 */
	if (pk_atomic_write(q->state_path, s, n + 1, 0644) == -1)
		pk_warn_errno("cannot write the state file '%s'", q->state_path);
	free(s);
}

static void
on_change(struct qctl *q, double ts, const struct pk_quality_change *ch)
{
	json_t *r = change_record(q, ts, ch);

	pk_emit_json(r);
	pk_out_record_done();
	if (q->have_dir) {
		json_decref(q->state);
		q->state = r;
		/* The command may read the state file: it must be current. */
		state_flush(q, q->o->on_change != NULL);
	} else {
		json_decref(r);
	}
	if (q->o->dry_run)
		return;
	actuate(q, ch->level);
	if (q->o->on_change != NULL)
		run_on_change(q, ch);
}

/* ---- the state directory and the override ------------------------------ */

static const char *
default_dir(char *buf, size_t size)
{
	const char *e = getenv("PERF_QUALITYCTL_DIR");

	if (e != NULL && *e != '\0')
		return e;
	e = getenv("XDG_RUNTIME_DIR");
	if (e != NULL && *e != '\0')
		snprintf(buf, size, "%s/perf-qualityctl", e);
	else
		snprintf(buf, size, "/tmp/perf-qualityctl-%ld", (long)getuid());
	return buf;
}

/* Create dir if needed and check that it is ours; -1 with a message. */
static int
dir_prepare(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return pk_error("cannot create the state directory '%s': %s",
		    dir, strerror(errno));
	if (lstat(dir, &st) == -1)
		return pk_error("cannot stat '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pk_error("'%s' is not a directory", dir);
	if (st.st_uid != geteuid() || (st.st_mode & 0022) != 0)
		return pk_error("state directory '%s' is not owned by us or "
		    "is writable by others", dir);
	return 0;
}

static void
check_override(struct qctl *q)
{
	struct pk_quality_change ch;
	struct stat st;
	double ts = q->have_ts ? q->last_ts : pk_now();
	int level = -1;

	if (!q->have_dir)
		return;
	if (stat(q->override_path, &st) == -1) {
		if (!q->ov_seen)
			return;
		q->ov_seen = 0;
	} else {
		char *buf;
		size_t len;

		if (q->ov_seen && st.st_ino == q->ov_st.st_ino &&
		    st.st_mtim.tv_sec == q->ov_st.st_mtim.tv_sec &&
		    st.st_mtim.tv_nsec == q->ov_st.st_mtim.tv_nsec &&
		    st.st_size == q->ov_st.st_size)
			return;
		q->ov_st = st;
		q->ov_seen = 1;
		if (pk_read_file(q->override_path, &buf, &len) == -1)
			return;
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
			buf[--len] = '\0';
		level = pk_quality_level_parse(buf);
		if (level < 0) {
			pk_warn("%s: '%s' is not a level; ignored",
			    q->override_path, buf);
			free(buf);
			return;
		}
		free(buf);
	}
	if (!q->ctl.started) {
		/* Before the first sample: the start record will tell. */
		q->ctl.override = level;
		if (level >= 0)
			q->ctl.level = level;
		return;
	}
	if (pk_quality_override(&q->ctl, ts, level, &ch)) {
		struct pk_quality_impact im;

		if (pk_quality_impact_take(&q->ctl, &im)) {
			json_t *r = impact_record(q, ts, &im);

			pk_emit_json(r);
			json_decref(r);
		}
		on_change(q, ts, &ch);
	}
}

/* ---- reload and idle ---------------------------------------------------- */

static void
reload(struct qctl *q)
{
	struct config *c;

	pk_reload = 0;
	if (q->o->config == NULL)
		return;
	c = config_load(q->o->config);
	if (c == NULL) {
		pk_warn("%s: not reloaded; the old configuration stays in force",
		    q->o->config);
		return;
	}
	config_free(q->cfg);
	q->cfg = c;
	free(q->vals);
	q->vals = pk_xcalloc((size_t)c->paths.npaths + 1, sizeof(*q->vals));
	free(q->inputs);
	q->inputs = pk_xcalloc(c->nterms, sizeof(*q->inputs));
	pk_quality_set_params(&q->ctl, &c->params);
	comps_bind(q);
	pk_warn("%s: reloaded", q->o->config);
}

static void
on_idle(void *arg)
{
	struct qctl *q = arg;

	if (pk_reload)
		reload(q);
	reap(q, 0);
	check_override(q);
	state_flush(q, 1);
}

/* ---- the filter -------------------------------------------------------- */

static void
evaluate(struct qctl *q, double ts, int sample)
{
	struct pk_quality_change ch;
	struct pk_quality_impact im;
	double p, fps, now;
	int have_imp;

	q->eval_ts = ts;
	q->have_eval = 1;
	p = pressure(q, ts, q->vals, sample, &fps);
	/* A stat(2) per sample would dominate a replay: 10 times a second. */
	now = pk_mono();
	if (now - q->last_check >= 0.1) {
		q->last_check = now;
		check_override(q);
	}
	state_flush(q, 0);
	if (pk_quality_step(&q->ctl, ts, p, fps, &ch, &im, &have_imp)) {
		if (have_imp) {
			json_t *r = impact_record(q, ts, &im);

			pk_emit_json(r);
			json_decref(r);
			have_imp = 0;
		}
		on_change(q, ts, &ch);
	}
	if (have_imp) {
		json_t *r = impact_record(q, ts, &im);

		pk_emit_json(r);
		pk_out_record_done();
		json_decref(r);
	}
}

/*
 * The clock stepped back by back seconds (see pk_evclock.h): the
 * controller goes on from the new timeline, its level and learned costs
 * kept; sampling is learned again and no sample waits for an evaluation
 * of the old timeline.
 */
static void
restart(struct qctl *q, double back, double now)
{
	size_t i;

	pk_quality_rebase(&q->ctl, back);
	for (i = 0; i < q->ncomps; i++) {
		q->comps[i].fps_ts -= back;
		q->comps[i].lat_ts -= back;
	}
	q->first_ts = q->last_ts = now;
	q->have_sample = q->have_eval = 0;
	q->sample_gap = 0;
}

static void
line(struct qctl *q, struct pk_jsonl *r, char *s, size_t len)
{
	struct config *c = q->cfg;
	struct pk_jval *v = q->vals;
	struct pk_jscan_err err;
	int sample, metric;
	double ts, back = 0;

	if (pk_jscan(&c->paths, s, len, v, &err) == -1) {
		pk_bad_line(&q->bad, r->name, r->lineno, "column %zu: %s",
		    err.col, err.msg);
		return;
	}
	pk_out_line(s, len);
	sample = pk_jval_streq(&v[c->id_type], "sample");
	metric = !sample && pk_jval_streq(&v[c->id_type], "metric");
	if (!sample && !metric)
		return;
	if (v[c->id_ts].type != PK_JNUM) {
		pk_bad_line(&q->bad, r->name, r->lineno,
		    "%s record without a numeric ts", sample ? "sample" :
		    "metric");
		return;
	}
	ts = pk_jval_num(&v[c->id_ts]);
	if (!pk_ts_plausible(ts, &q->ts_limit)) {
		pk_bad_line(&q->bad, r->name, r->lineno, "ts %.17g is more "
		    "than a day ahead of the clock (not seconds since the "
		    "epoch?)", ts);
		return;
	}
	/*
	 * One host is followed: the first named in the input, or --host.
	 * The actuation (state file, command, renice) is local; pressure of
	 * another host must neither drive it nor be averaged into it.
	 */
	if (v[c->id_host].type == PK_JSTR) {
		char host[sizeof(q->host)];

		pk_jval_str(&v[c->id_host], host, sizeof(host));
		if (q->host[0] == '\0') {
			memcpy(q->host, host, sizeof(host));
		} else if (strcmp(host, q->host) != 0) {
			if (!q->foreign_warned)
				pk_warn("%s:%lu: a record of host '%s' is passed "
				    "through, not controlled: this instance "
				    "follows '%s' (see --host)", r->name,
				    r->lineno, host, q->host);
			q->foreign_warned = 1;
			q->foreign++;
			return;
		}
	}
	if (pk_evclock_see(&q->ev, ts, c->stale, &back) == PK_EVCLOCK_STEP) {
		pk_warn("%s: clock stepped back by %.0f s at %s:%lu; windows "
		    "restarted", q->host[0] != '\0' ? q->host : "-", back,
		    r->name, r->lineno);
		restart(q, back, q->ev.clock);
	}
	if (!q->have_ts)
		q->first_ts = ts;
	if (!q->have_ts || ts > q->last_ts)
		q->last_ts = ts;
	q->have_ts = 1;
	if (metric) {
		char name[NAME_MAX_LEN];
		struct comp *k;

		if (v[c->id_comp].type != PK_JSTR) {
			pk_bad_line(&q->bad, r->name, r->lineno,
			    "metric record without a component");
			return;
		}
		pk_jval_str(&v[c->id_comp], name, sizeof(name));
		if ((k = comp_find(q, name, 1)) == NULL)
			return;
		if (v[c->id_fps].type == PK_JNUM) {
			k->fps = pk_jval_num(&v[c->id_fps]);
			k->fps_ts = ts;
			k->have_fps = 1;
		}
		if (v[c->id_lat].type == PK_JNUM) {
			k->lat = pk_jval_num(&v[c->id_lat]);
			k->lat_ts = ts;
			k->have_lat = 1;
		}
		/*
		 * Without samples (an application-only stream, or perf-sample
		 * gone), the application's own records drive the controller,
		 * once a second at most. Samples are missed after stale
		 * seconds, or three of their intervals if that is longer (a
		 * Pi sampled every 30 s is not an application-only stream);
		 * the first stale seconds of the input wait for one to come.
		 */
		if (ts - (q->have_sample ? q->sample_ts : q->first_ts) >=
		    fmax(c->stale, 3 * q->sample_gap) &&
		    (!q->have_eval || ts >= q->eval_ts + METRIC_STEP))
			evaluate(q, ts, 0);
		return;
	}
	/*
	 * A sample that is not newer than the last evaluation (a repeated
	 * line, logs concatenated out of order) is an old measurement: fed
	 * to the controller it would count twice towards two raw
	 * evaluations in a row.
	 */
	if (q->have_eval && ts <= q->eval_ts) {
		if (!q->late_warned)
			pk_warn("%s:%lu: sample ts %.3f is not after the last "
			    "evaluation at %.3f: passed through, not "
			    "evaluated", r->name, r->lineno, ts, q->eval_ts);
		q->late_warned = 1;
		q->late++;
		return;
	}
	if (v[c->id_interval].type == PK_JNUM &&
	    pk_jval_num(&v[c->id_interval]) > 0)
		q->sample_gap = pk_jval_num(&v[c->id_interval]);
	else if (q->have_sample)
		q->sample_gap = ts - q->sample_ts;
	q->sample_ts = ts;
	q->have_sample = 1;
	evaluate(q, ts, 1);
}

static int
filter(struct qctl *q, const char *path)
{
	struct pk_jsonl r;
	char *s;
	size_t len;
	int st;

	if (pk_jsonl_open(&r, path) == -1) {
		pk_warn_errno("cannot open '%s'", path);
		return -1;
	}
	r.idle_ms = 500;
	r.on_idle = on_idle;
	r.arg = q;
	while ((st = pk_jsonl_next(&r, &s, &len)) != PK_JSONL_EOF) {
		if (st == PK_JSONL_STOP)
			break;
		if (st == PK_JSONL_ERROR) {
			pk_warn_errno("cannot read '%s'", r.name);
			pk_jsonl_release(&r);
			return -1;
		}
		if (st == PK_JSONL_TOOLONG)
			pk_bad_line(&q->bad, r.name, r.lineno,
			    "line longer than %zu bytes", r.max_line);
		else
			line(q, &r, s, len);
		if (pk_reload)
			reload(q);
		if (q->nchildren > 0)
			reap(q, 0);
	}
	pk_jsonl_release(&r);
	return 0;
}

/* ---- subcommands ------------------------------------------------------- */

static int
cmd_set(const char *dir, int argc, char **argv)
{
	char path[4096], buf[32];
	int level;

	if (argc != 1)
		pk_usage(usage_str);
	level = pk_quality_level_parse(argv[0]);
	if (level < 0)
		pk_die(PK_EXIT_USAGE, "'%s' is not a level (ULTRA_LOW, LOW, "
		    "MEDIUM, HIGH, ULTRA_HIGH)", argv[0]);
	if (dir_prepare(dir) == -1)
		return PK_EXIT_IO;
	snprintf(path, sizeof(path), "%s/override", dir);
	snprintf(buf, sizeof(buf), "%s\n", pk_quality_level_name(level));
	if (pk_atomic_write(path, buf, strlen(buf), 0644) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot write '%s'", path);
	return PK_EXIT_OK;
}

static int
cmd_release(const char *dir, int argc)
{
	char path[4096];

	if (argc != 0)
		pk_usage(usage_str);
	snprintf(path, sizeof(path), "%s/override", dir);
	if (unlink(path) == -1 && errno != ENOENT)
		pk_die_errno(PK_EXIT_IO, "cannot remove '%s'", path);
	return PK_EXIT_OK;
}

static int
cmd_status(const char *dir, int argc)
{
	char path[4096];
	char *buf;
	size_t len;

	if (argc != 0)
		pk_usage(usage_str);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	if (pk_read_file(path, &buf, &len) == -1) {
		if (errno == ENOENT) {
			pk_warn("no state in '%s'", dir);
			return PK_EXIT_NEGATIVE;
		}
		pk_die_errno(PK_EXIT_IO, "cannot read '%s'", path);
	}
	pk_out_write(buf, len);
	free(buf);
	pk_close_stdout();
	return PK_EXIT_OK;
}

/* ---- main -------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	struct qctl_opts o;
	struct qctl q;
	char dirbuf[4096];
	cpu_set_t set;
	int ch, i, status = PK_EXIT_OK;

	pk_init(argv[0]);
	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "+c:d:e:hH:nu", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 'd':
			o.dir = optarg;
			o.dir_given = 1;
			break;
		case 'e':
			o.on_change = optarg;
			break;
		case 'h':
			help();
			break;
		case 'H':
			if (*optarg == '\0' || strlen(optarg) >= 256)
				pk_die(PK_EXIT_USAGE, "bad host name '%s'",
				    optarg);
			o.host = optarg;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'u':
			o.unbuffered = 1;
			break;
		case OPT_STRICT:
			o.strict = 1;
			break;
		case PK_OPT_VERSION:
			pk_print_version();
			pk_close_stdout();
			return PK_EXIT_OK;
		case PK_OPT_LIST_OPTIONS:
			pk_list_options(longopts);
			puts("set\nrelease\nstatus");
			pk_close_stdout();
			return PK_EXIT_OK;
		default:
			pk_usage(usage_str);
		}
	}
	argc -= optind;
	argv += optind;
	if (o.dir == NULL)
		o.dir = default_dir(dirbuf, sizeof(dirbuf));
	if (argc > 0 && strcmp(argv[0], "set") == 0)
		return cmd_set(o.dir, argc - 1, argv + 1);
	if (argc > 0 && strcmp(argv[0], "release") == 0)
		return cmd_release(o.dir, argc - 1);
	if (argc > 0 && strcmp(argv[0], "status") == 0)
		return cmd_status(o.dir, argc - 1);

	memset(&q, 0, sizeof(q));
	q.o = &o;
	q.bad.strict = o.strict;
	if (o.host != NULL)
		snprintf(q.host, sizeof(q.host), "%s", o.host);
	if (o.dry_run) {
		/* Nothing outside standard output is read or touched. */
	} else if (dir_prepare(o.dir) == 0) {
		q.have_dir = 1;
		snprintf(q.state_path, sizeof(q.state_path), "%s/state.json",
		    o.dir);
		snprintf(q.override_path, sizeof(q.override_path),
		    "%s/override", o.dir);
		/* What a killed instance left half-written. */
		pk_atomic_sweep(q.state_path);
		pk_atomic_sweep(q.override_path);
	} else if (o.dir_given) {
		return PK_EXIT_IO;
	} else {
		pk_warn("running without a state file");
	}
	q.cfg = config_load(o.config);
	if (q.cfg == NULL)
		return PK_EXIT_USAGE;
	q.vals = pk_xcalloc((size_t)q.cfg->paths.npaths + 1, sizeof(*q.vals));
	q.inputs = pk_xcalloc(q.cfg->nterms, sizeof(*q.inputs));
	pk_quality_init(&q.ctl, &q.cfg->params);
	pk_evclock_init(&q.ev);
	comps_bind(&q);
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (i = 0; i < 1024 && i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				q.allcpus[i / 64] |= 1ULL << (i % 64);
	}
	pk_out_init(o.unbuffered);
	pk_sig_install(1);
	check_override(&q);

	if (argc == 0) {
		if (filter(&q, "-") == -1)
			status = PK_EXIT_IO;
	}
	for (i = 0; i < argc && !pk_stop; i++)
		if (filter(&q, argv[i]) == -1)
			status = PK_EXIT_IO;
	if (q.late > 0)
		pk_warn("%llu sample%s out of time order not evaluated",
		    q.late, q.late == 1 ? "" : "s");
	if (q.foreign > 0)
		pk_warn("%llu record%s of other hosts than '%s' not controlled",
		    q.foreign, q.foreign == 1 ? "" : "s", q.host);
	state_flush(&q, 1);
	reap(&q, !pk_stop);	/* on SIGINT/SIGTERM, do not wait for them */
	free(q.inputs);
	free(q.vals);
	config_free(q.cfg);
	pk_close_stdout();
	if (status == PK_EXIT_OK)
		status = pk_bad_finish(&q.bad);
	else
		(void)pk_bad_finish(&q.bad);
	return status;
}
