/* SPDX-License-Identifier: MIT */
/*
 * perf-qualityctl's configuration (-c FILE, and SIGHUP reloads). The keys
 * of pressure: come from the term rows, those of a component from the
 * rows that read components and the actuators; errors are reported
 * through pk_yaml (FILE:LINE:COL) and make config_load return NULL, never
 * exit, so that tests/fuzz/fuzz_qualityctl_conf.c can link this unit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_exit.h"

#include "perf-qualityctl.h"

#define KEYS_MAX (TERM_TYPES_MAX + ACT_TYPES_MAX + 8)

void
config_free(struct config *c)
{
	size_t i, a;

	if (c == NULL)
		return;
	for (i = 0; i < c->nterms; i++) {
		free(c->terms[i].name);
		free(c->terms[i].path);
	}
	free(c->terms);
	for (i = 0; i < c->nsettings; i++) {
		for (a = 0; a < PK_QUALITY_NLEVELS; a++)
			json_decref(c->settings[i].val[a]);
		free(c->settings[i].key);
	}
	free(c->settings);
	for (i = 0; i < c->nfeatures; i++)
		free(c->features[i].name);
	free(c->features);
	for (i = 0; i < c->ncomps; i++) {
		free(c->comps[i].name);
		free(c->comps[i].pid_file);
		for (a = 0; act_types[a] != NULL; a++)
			if (c->comps[i].act[a] != NULL &&
			    act_types[a]->comp_free != NULL)
				act_types[a]->comp_free(c->comps[i].act[a]);
	}
	free(c->comps);
	free(c->kept);
	pk_jpaths_release(&c->paths);
	free(c);
}

/* A term of row tt, with the row's defaults. */
static struct term *
add_term(struct config *c, const struct term_type *tt, const char *name)
{
	struct term *t;
	int k;

	c->terms = pk_xreallocarray(c->terms, c->nterms + 1, sizeof(*t));
	t = &c->terms[c->nterms++];
	memset(t, 0, sizeof(*t));
	t->type = tt;
	t->slot = term_type_slot(tt);
	t->kept = strcmp(tt->record, "sample") != 0;
	t->ftype = term_record_index(tt->record);
	t->name = pk_xstrdup(name);
	t->weight = tt->weight;
	t->low = tt->low;
	t->high = tt->high;
	t->arg = tt->arg_default;
	t->enabled = t->weight > 0;
	for (k = 0; k < TERM_PATHS; k++)
		t->id[k] = -1;
	t->id_key = -1;
	return t;
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
	size_t i;

	pk_quality_params_default(&c->params);
	c->combine_max = 1;
	c->stale = 10;
	for (i = 0; term_types[i] != NULL; i++)
		if (!term_types[i]->instances)
			add_term(c, term_types[i], term_types[i]->name);
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
parse_term(struct pk_ydoc *doc, struct term *t, const struct pk_ynode *m)
{
	const struct term_type *tt = t->type;
	const char *keys[8];
	struct pk_ynode *n;
	size_t nk = 0;

	keys[nk++] = "weight";
	keys[nk++] = "low";
	keys[nk++] = "high";
	if (tt->arg_key != NULL)
		keys[nk++] = tt->arg_key;
	if (tt->instances)
		keys[nk++] = "path";
	keys[nk] = NULL;
	if (pk_ymap_check(doc, m, t->name, keys) > 0)
		return;
	if ((n = pk_ymap_get(m, "weight")) != NULL)
		pk_ynode_double(doc, n, 0, 1, &t->weight);
	t->enabled = t->weight > 0;
	get_bounds(doc, m, &t->low, &t->high);
	if (t->low == t->high)
		pk_yerror(doc, m, "%s: low and high must differ", t->name);
	if (tt->arg_key != NULL && (n = pk_ymap_get(m, tt->arg_key)) != NULL)
		pk_ynode_double(doc, n, tt->arg_min, tt->arg_max, &t->arg);
}

/* The named instances of row tt under m (pressure.extra). */
static void
parse_instances(struct pk_ydoc *doc, struct config *c,
    const struct term_type *tt, const struct pk_ynode *m)
{
	const char *s;
	size_t i;

	if (pk_ynode_expect(doc, m, PK_YMAP, tt->name) == -1)
		return;
	for (i = 0; i < m->n; i++) {
		struct pk_ynode *p;
		struct term *t;

		if (term_by_name(c, m->keys[i]->str) != NULL) {
			pk_yerror(doc, m->keys[i], "term '%s' is defined twice",
			    m->keys[i]->str);
			continue;
		}
		t = add_term(c, tt, m->keys[i]->str);
		if (pk_ynode_expect(doc, m->items[i], PK_YMAP, t->name) == -1)
			continue;
		parse_term(doc, t, m->items[i]);
		p = pk_ymap_get(m->items[i], "path");
		if (p == NULL) {
			pk_yerror(doc, m->items[i], "%s: 'path' is required "
			    "(a dotted path of %s records)", t->name,
			    tt->record);
		} else if (pk_ynode_str(doc, p, &s) == 0) {
			size_t l = strlen(s);

			if (l == 0 || s[0] == '.' || s[l - 1] == '.' ||
			    strstr(s, "..") != NULL)
				pk_yerror(doc, p, "'%s' is not a dotted path "
				    "(e.g. psi.io.some_avg10)", s);
			else
				t->path = pk_xstrdup(s);
		}
	}
}

static void
parse_pressure(struct pk_ydoc *doc, struct config *c, const struct pk_ynode *m)
{
	const char *keys[KEYS_MAX];
	struct pk_ynode *n;
	const char *s;
	size_t i, nk = 0;

	keys[nk++] = "combine";
	keys[nk++] = "stale";
	for (i = 0; term_types[i] != NULL; i++)
		keys[nk++] = term_types[i]->name;
	keys[nk] = NULL;
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
	for (i = 0; term_types[i] != NULL; i++) {
		const struct term_type *tt = term_types[i];

		if ((n = pk_ymap_get(m, tt->name)) == NULL)
			continue;
		if (tt->instances)
			parse_instances(doc, c, tt, n);
		else
			parse_term(doc, term_by_name(c, tt->name), n);
	}
}

int
conf_level(struct pk_ydoc *doc, const struct pk_ynode *n, int *out)
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
		conf_level(doc, n, &p->initial);
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

static const char *const type_names[] = { "a number", "a string",
	"a boolean", "a list of numbers", "a list of strings", "a list" };

/* A setting's name: it becomes PK_QUALITY_SETTING_NAME in environments. */
static int
setting_name_ok(const char *s)
{
	size_t i;

	if (!(s[0] >= 'a' && s[0] <= 'z') || strlen(s) >= NAME_MAX_LEN)
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* A string of a setting: bounded, no control character. */
static int
setting_str_ok(struct pk_ydoc *doc, const struct pk_ynode *n, int in_list)
{
	const unsigned char *p;

	if (strlen(n->str) > SETTING_STR_MAX)
		return pk_yerror(doc, n, "a setting's string is at most %d "
		    "bytes", SETTING_STR_MAX);
	for (p = (const unsigned char *)n->str; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return pk_yerror(doc, n, "a setting's string must "
			    "not hold control characters");
		else if (in_list && *p == ',')
			return pk_yerror(doc, n, "a list item must not hold "
			    "',' (lists reach commands joined with ',')");
	return 0;
}

/* The value of a user setting at node n, typed; NULL after reporting. */
static json_t *
setting_value(struct pk_ydoc *doc, const struct pk_ynode *n,
    enum setting_type *type)
{
	json_t *v;
	size_t i;

	if (n->type == PK_YMAP) {
		pk_yerror(doc, n, "a setting is a number, a string, a boolean "
		    "or a list of numbers or strings, not a map");
		return NULL;
	}
	if (n->type == PK_YSEQ) {
		if (n->n > SETTING_LIST_MAX) {
			pk_yerror(doc, n, "a list setting has at most %d items",
			    SETTING_LIST_MAX);
			return NULL;
		}
		*type = SET_LIST_EMPTY;
		for (i = 0; i < n->n; i++) {
			const struct pk_ynode *it = n->items[i];
			enum setting_type t;
			json_t *j;

			if (it->type != PK_YSCALAR) {
				pk_yerror(doc, it, "a list setting holds "
				    "numbers or strings only");
				return NULL;
			}
			j = pk_ynode_to_json(it);
			t = json_is_number(j) ? SET_LIST_NUM : SET_LIST_STR;
			json_decref(j);
			if (*type != SET_LIST_EMPTY && *type != t) {
				pk_yerror(doc, it, "a list setting holds "
				    "numbers or strings, not both");
				return NULL;
			}
			*type = t;
		}
		v = json_array();
		for (i = 0; i < n->n; i++) {
			const struct pk_ynode *it = n->items[i];
			json_t *j = pk_ynode_to_json(it);

			if (*type == SET_LIST_STR && !json_is_string(j)) {
				json_decref(j);
				j = json_string(it->str);
			}
			if (*type == SET_LIST_STR &&
			    setting_str_ok(doc, it, 1) == -1) {
				json_decref(j);
				json_decref(v);
				return NULL;
			}
			json_array_append_new(v, j);
		}
		return v;
	}
	v = pk_ynode_to_json(n);
	if (json_is_null(v)) {
		pk_yerror(doc, n, "a setting needs a value");
		json_decref(v);
		return NULL;
	}
	if (json_is_boolean(v))
		*type = SET_BOOL;
	else if (json_is_number(v))
		*type = SET_NUM;
	else if (setting_str_ok(doc, n, 0) == 0)
		*type = SET_STR;
	else {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* A list type to which an empty list is as good. */
static int
setting_types_agree(enum setting_type a, enum setting_type b)
{
	if (a == b)
		return 1;
	if (a == SET_LIST_EMPTY)
		return b == SET_LIST_NUM || b == SET_LIST_STR;
	if (b == SET_LIST_EMPTY)
		return a == SET_LIST_NUM || a == SET_LIST_STR;
	return 0;
}

/* levels.LEVEL.KEY for a key the user defined. */
static void
parse_setting(struct pk_ydoc *doc, struct config *c, const char *lname,
    int l, const struct pk_ynode *key, const struct pk_ynode *n)
{
	enum setting_type type;
	struct setting *st = NULL;
	json_t *v;
	size_t i;

	if (strcmp(key->str, "features") == 0) {
		pk_yerror(doc, key, "a level's features are set under "
		    "'features:' (NAME: LEVEL)");
		return;
	}
	if (!setting_name_ok(key->str)) {
		pk_yerror(doc, key, "setting '%s': a name is a lowercase letter, "
		    "then lowercase letters, digits or '_' (at most %d)",
		    key->str, NAME_MAX_LEN - 1);
		return;
	}
	if ((v = setting_value(doc, n, &type)) == NULL)
		return;
	for (i = 0; i < c->nsettings; i++)
		if (strcmp(c->settings[i].key, key->str) == 0)
			st = &c->settings[i];
	if (st == NULL) {
		if (c->nsettings == SETTINGS_MAX) {
			pk_yerror(doc, key, "at most %d settings of your own",
			    SETTINGS_MAX);
			json_decref(v);
			return;
		}
		c->settings = pk_xreallocarray(c->settings, c->nsettings + 1,
		    sizeof(*st));
		st = &c->settings[c->nsettings++];
		memset(st, 0, sizeof(*st));
		st->key = pk_xstrdup(key->str);
		st->type = type;
		snprintf(st->where, sizeof(st->where), "in %s (line %u)",
		    lname, n->line);
	} else if (!setting_types_agree(st->type, type)) {
		pk_yerror(doc, n, "setting '%s' is %s here but %s %s: a "
		    "setting has one type in every level", key->str,
		    type_names[type], type_names[st->type], st->where);
		json_decref(v);
		return;
	} else if (st->type == SET_LIST_EMPTY) {
		st->type = type;
	}
	json_decref(st->val[l]);
	st->val[l] = v;
}

static void
parse_levels(struct pk_ydoc *doc, struct config *c, const struct pk_ynode *m)
{
	size_t i, j;

	if (pk_ynode_expect(doc, m, PK_YMAP, "levels") == -1)
		return;
	for (i = 0; i < m->n; i++) {
		const struct pk_ynode *s = m->items[i];
		struct levelset *ls;
		int l;

		if (conf_level(doc, m->keys[i], &l) == -1 ||
		    pk_ynode_expect(doc, s, PK_YMAP, m->keys[i]->str) == -1)
			continue;
		ls = &c->levels[l];
		for (j = 0; j < s->n; j++) {
			const struct pk_ynode *k = s->keys[j], *n = s->items[j];

			if (strcmp(k->str, "resolution_scale") == 0)
				pk_ynode_double(doc, n, 0.05, 1,
				    &ls->resolution_scale);
			else if (strcmp(k->str, "compression_quality") == 0)
				pk_ynode_double(doc, n, 1, 100,
				    &ls->compression_quality);
			else if (strcmp(k->str, "frame_skip") == 0)
				pk_ynode_int(doc, n, 0, 100, &ls->frame_skip);
			else if (strcmp(k->str, "roi_scale") == 0)
				pk_ynode_double(doc, n, 0.05, 1, &ls->roi_scale);
			else
				parse_setting(doc, c, m->keys[i]->str, l, k, n);
		}
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

		if (conf_level(doc, m->items[i], &l) == -1)
			continue;
		if (strchr(m->keys[i]->str, ',') != NULL) {
			pk_yerror(doc, m->keys[i], "a feature name must not "
			    "hold ',' (features reach commands joined with ',')");
			continue;
		}
		c->features[c->nfeatures].name = pk_xstrdup(m->keys[i]->str);
		c->features[c->nfeatures++].min_level = l;
	}
}

/* The rows whose bounds a component may set: kept per component. */
static int
per_component(const struct term_type *tt)
{
	return tt->key != NULL && !tt->instances;
}

static void
parse_components(struct pk_ydoc *doc, struct config *c,
    const struct pk_ynode *m)
{
	static const char *const bkeys[] = { "low", "high", NULL };
	const char *keys[KEYS_MAX];
	size_t i, j, nk = 0;

	keys[nk++] = "priority";
	for (j = 0; term_types[j] != NULL; j++)
		if (per_component(term_types[j]))
			keys[nk++] = term_types[j]->name;
	keys[nk++] = "pid_file";
	for (j = 0; act_types[j] != NULL; j++)
		if (act_types[j]->comp_key != NULL)
			keys[nk++] = act_types[j]->comp_key;
	keys[nk] = NULL;
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
		for (j = 0; j < TERM_TYPES_MAX; j++)
			cc->low[j] = cc->high[j] = NAN;
		if (strlen(cc->name) >= NAME_MAX_LEN)
			pk_yerror(doc, m->keys[i], "component name too long");
		if (pk_ymap_check(doc, s, cc->name, keys) > 0)
			continue;
		if ((n = pk_ymap_get(s, "priority")) != NULL &&
		    pk_ynode_int(doc, n, 0, 4, &v) == 0)
			cc->priority = (int)v;
		for (j = 0; term_types[j] != NULL; j++) {
			const char *name = term_types[j]->name;

			if (per_component(term_types[j]) &&
			    (n = pk_ymap_get(s, name)) != NULL &&
			    pk_ymap_check(doc, n, name, bkeys) == 0)
				get_bounds(doc, n, &cc->low[j], &cc->high[j]);
		}
		if ((n = pk_ymap_get(s, "pid_file")) != NULL &&
		    pk_ynode_str(doc, n, &str) == 0)
			cc->pid_file = pk_xstrdup(str);
		for (j = 0; act_types[j] != NULL; j++) {
			const struct actuator_type *a = act_types[j];

			if (a->comp_key != NULL &&
			    (n = pk_ymap_get(s, a->comp_key)) != NULL)
				a->comp_load(doc, n, &cc->act[j]);
		}
	}
}

/* A path the loader checked: only memory can make it fail. */
static int
path_id(struct pk_jpaths *ps, const char *path)
{
	int id = pk_jpaths_add(ps, path);

	if (id < 0)
		pk_die(PK_EXIT_IO, "cannot add path '%s': out of memory", path);
	return id;
}

static void
term_paths(struct pk_jpaths *ps, struct term *t)
{
	const char *const *p = t->type->paths;
	int k;

	if (t->type->key != NULL)
		t->id_key = path_id(ps, t->type->key);
	if (p == NULL && t->path != NULL)
		t->id[0] = path_id(ps, t->path);
	for (k = 0; p != NULL && p[k] != NULL && k < TERM_PATHS; k++)
		t->id[k] = path_id(ps, p[k]);
}

/*
 * pk_jscan tries the keys of a level in the order they were added: the
 * front end's own first (every record has them), then the kept terms'
 * (the frequent metric records), the samples', the instances'.
 */
static void
config_paths(struct config *c)
{
	struct pk_jpaths *ps = &c->paths;
	size_t i;

	pk_jpaths_init(ps);
	path_id(ps, "type");
	path_id(ps, "ts");
	path_id(ps, "host");
	for (i = 0; i < c->nterms; i++)
		if (c->terms[i].kept)
			term_paths(ps, &c->terms[i]);
	for (i = 0; i < c->nterms; i++)
		if (!c->terms[i].kept && !c->terms[i].type->instances)
			term_paths(ps, &c->terms[i]);
	c->id_interval = path_id(ps, "interval_s");
	for (i = 0; i < c->nterms; i++)
		if (!c->terms[i].kept && c->terms[i].type->instances)
			term_paths(ps, &c->terms[i]);
	c->kept = pk_xcalloc(c->nterms, sizeof(*c->kept));
	c->impact = -1;
	for (i = 0; i < c->nterms; i++) {
		if (c->terms[i].kept)
			c->kept[c->nkept++] = i;
		if (c->impact < 0 && c->terms[i].type->impact &&
		    c->terms[i].id_key >= 0)
			c->impact = (int)i;
	}
}

struct config *
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
