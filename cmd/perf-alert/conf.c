/* SPDX-License-Identifier: MIT */
/*
 * The configuration: the YAML file, its rules and receivers, checked
 * with FILE:LINE:COL errors (unknown keys are errors). Its own unit, so
 * that tests/fuzz/fuzz_alert_conf.c links it.
 */
#include "perf-alert.h"

#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_yaml.h"

static void
rule_release(struct rule *r)
{
	size_t i;

	free(r->name);
	pk_alert_cond_release(&r->when);
	pk_alert_cond_release(&r->clear);
	for (i = 0; i < r->nmatch; i++) {
		free(r->match[i].path);
		free(r->match[i].val);
	}
	free(r->match);
	json_decref(r->labels);
	json_decref(r->annotations);
	rule_insts_release(r);
}

void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
receiver_release(struct receiver *x)
{
	free(x->name);
	json_decref(x->labels);
	if (x->type != NULL && x->conf != NULL)
		x->type->release(x->conf);
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nrules; i++)
		rule_release(&c->rules[i]);
	free(c->rules);
	for (i = 0; i < c->nrx; i++)
		receiver_release(&c->rx[i]);
	free(c->rx);
	pk_jpaths_release(&c->ps);
	free(c->ftypes);
	free(c->state_dir);
	free(c);
}

int
conf_str(struct pk_ydoc *doc, const struct pk_ynode *map, const char *key,
    char **out)
{
	const struct pk_ynode *n = pk_ymap_get(map, key);
	const char *s;

	if (n == NULL)
		return 0;
	if (pk_ynode_str(doc, n, &s) == -1)
		return -1;
	*out = pk_xstrdup(s);
	return 0;
}

int
conf_dur(struct pk_ydoc *doc, const struct pk_ynode *map, const char *key,
    double min, double *out)
{
	const struct pk_ynode *n = pk_ymap_get(map, key);

	if (n == NULL)
		return 0;
	return pk_ynode_duration(doc, n, min, 1e9, out);
}

int
conf_sev(struct pk_ydoc *doc, const struct pk_ynode *map, const char *key,
    int *out)
{
	const struct pk_ynode *n = pk_ymap_get(map, key);
	const char *s;

	if (n == NULL)
		return 0;
	if (pk_ynode_str(doc, n, &s) == -1)
		return -1;
	*out = pk_alert_severity(s);
	if (*out < 0)
		return pk_yerror(doc, n, "unknown severity '%s' (INFO, WARNING, "
		    "CRITICAL, EMERGENCY)", s);
	return 0;
}

/* A list of strings, or one string. */
int
conf_strv(struct pk_ydoc *doc, const struct pk_ynode *map, const char *key,
    char ***out, size_t *n)
{
	const struct pk_ynode *v = pk_ymap_get(map, key);
	const char *s;
	size_t i;

	if (v == NULL)
		return 0;
	if (v->type == PK_YSCALAR) {
		if (pk_ynode_str(doc, v, &s) == -1)
			return -1;
		*out = pk_xcalloc(1, sizeof(char *));
		(*out)[0] = pk_xstrdup(s);
		*n = 1;
		return 0;
	}
	if (pk_ynode_expect(doc, v, PK_YSEQ, key) == -1)
		return -1;
	*out = pk_xcalloc(v->n, sizeof(char *));
	for (i = 0; i < v->n; i++) {
		if (pk_ynode_str(doc, v->items[i], &s) == -1)
			return -1;
		(*out)[(*n)++] = pk_xstrdup(s);
	}
	return 0;
}

/* A map of scalar strings as a JSON object. */
int
conf_strmap(struct pk_ydoc *doc, const struct pk_ynode *map, const char *key,
    json_t **out)
{
	const struct pk_ynode *v = pk_ymap_get(map, key);
	const char *s;
	size_t i;

	*out = json_object();
	if (v == NULL)
		return 0;
	if (pk_ynode_expect(doc, v, PK_YMAP, key) == -1)
		return -1;
	for (i = 0; i < v->n; i++) {
		if (pk_ynode_str(doc, v->items[i], &s) == -1)
			return -1;
		json_object_set_new(*out, v->keys[i]->str, json_string(s));
	}
	return 0;
}

static int
parse_cond(struct pk_ydoc *doc, struct config *c, const struct pk_ynode *n,
    struct pk_alert_cond *cond)
{
	const char *s, *why;

	if (pk_ynode_str(doc, n, &s) == -1)
		return -1;
	if (pk_alert_cond_parse(cond, s, &c->ps, &why) == -1)
		return pk_yerror(doc, n, "bad condition '%s': %s", s, why);
	return 0;
}

static int
parse_rule(struct pk_ydoc *doc, struct config *c, const struct pk_ynode *n,
    struct rule *r)
{
	static const char *const keys[] = { "name", "match", "when", "for",
		"clear", "clear_for", "value", "severity", "labels",
		"annotations", "escalate", "absent", "flap", NULL };
	static const char *const esckeys[] = { "after", "max", NULL };
	const struct pk_ynode *v, *m;
	const char *s;
	size_t i;
	int err = 0;

	r->sev = 1;
	r->esc_max = 3;
	r->value_id = -1;
	r->flap = 1;
	r->labels = json_object();
	r->annotations = json_object();
	if (pk_ynode_expect(doc, n, PK_YMAP, "rule") == -1)
		return -1;
	if (pk_ymap_check(doc, n, "rule", keys) > 0)
		return -1;
	if ((v = pk_ymap_get(n, "name")) == NULL)
		return pk_yerror(doc, n, "a rule needs a name");
	if (conf_str(doc, n, "name", &r->name) == -1)
		return -1;
	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].name != NULL &&
		    strcmp(c->rules[i].name, r->name) == 0 && &c->rules[i] != r)
			return pk_yerror(doc, v, "duplicate rule name '%s'",
			    r->name);
	if ((m = pk_ymap_get(n, "match")) != NULL) {
		if (pk_ynode_expect(doc, m, PK_YMAP, "match") == -1)
			return -1;
		r->match = pk_xcalloc(m->n, sizeof(*r->match));
		for (i = 0; i < m->n; i++) {
			if (pk_ynode_str(doc, m->items[i], &s) == -1)
				return -1;
			r->match[i].path = pk_xstrdup(m->keys[i]->str);
			r->match[i].val = pk_xstrdup(s);
			r->nmatch++;
			r->match[i].id = pk_jpaths_add(&c->ps, m->keys[i]->str);
			if (r->match[i].id < 0)
				return pk_yerror(doc, m->keys[i], "bad path");
		}
	}
	err |= conf_dur(doc, n, "absent", 0.001, &r->absent_s);
	v = pk_ymap_get(n, "when");
	if (v == NULL && r->absent_s == 0)
		return pk_yerror(doc, n, "rule '%s' needs 'when' or 'absent'",
		    r->name);
	if (v != NULL && r->absent_s > 0)
		return pk_yerror(doc, v, "'when' and 'absent' exclude each other");
	if (v != NULL && parse_cond(doc, c, v, &r->when) == -1)
		return -1;
	if ((v = pk_ymap_get(n, "clear")) != NULL) {
		if (parse_cond(doc, c, v, &r->clear) == -1)
			return -1;
		r->has_clear = 1;
	}
	err |= conf_dur(doc, n, "for", 0, &r->for_s);
	err |= conf_dur(doc, n, "clear_for", 0, &r->clear_for_s);
	err |= conf_sev(doc, n, "severity", &r->sev);
	if ((v = pk_ymap_get(n, "value")) != NULL) {
		if (pk_ynode_str(doc, v, &s) == -1)
			return -1;
		if ((r->value_id = pk_jpaths_add(&c->ps, s)) < 0)
			return pk_yerror(doc, v, "bad path '%s'", s);
	}
	json_decref(r->labels);
	json_decref(r->annotations);
	err |= conf_strmap(doc, n, "labels", &r->labels);
	err |= conf_strmap(doc, n, "annotations", &r->annotations);
	/* A template over the limit is refused, never cut (ANN_MAX). */
	if ((m = pk_ymap_get(n, "annotations")) != NULL && m->type == PK_YMAP)
		for (size_t a = 0; a < m->n; a++)
			if (m->items[a]->type == PK_YSCALAR &&
			    strlen(m->items[a]->str) > ANN_MAX)
				err |= pk_yerror(doc, m->items[a], "annotation "
				    "'%s' is %zu bytes, more than %d", m->keys[a]->str,
				    strlen(m->items[a]->str), ANN_MAX);
	if ((v = pk_ymap_get(n, "flap")) != NULL)
		err |= pk_ynode_bool(doc, v, &r->flap);
	if ((m = pk_ymap_get(n, "escalate")) != NULL) {
		if (pk_ynode_expect(doc, m, PK_YMAP, "escalate") == -1 ||
		    pk_ymap_check(doc, m, "escalate", esckeys) > 0)
			return -1;
		if (pk_ymap_get(m, "after") == NULL)
			return pk_yerror(doc, m, "escalate needs 'after'");
		err |= conf_dur(doc, m, "after", 0.001, &r->esc_after);
		err |= conf_sev(doc, m, "max", &r->esc_max);
	}
	return err ? -1 : 0;
}

int
conf_urls(struct pk_ydoc *doc, const struct pk_ynode *n,
    const struct receiver *x, int many, char ***urls, size_t *nurls)
{
	if (conf_strv(doc, n, "url", urls, nurls) == -1)
		return -1;
	if (many && *nurls == 0 && conf_strv(doc, n, "urls", urls,
	    nurls) == -1)
		return -1;
	if (*nurls == 0)
		return pk_yerror(doc, n, "receiver '%s' needs a url", x->name);
	if (!many && *nurls > 1)
		return pk_yerror(doc, n, "receiver '%s' takes one url", x->name);
	return 0;
}

/* The keys every receiver has, read here once for all types. */
static const char *const common_keys[] = { "name", "type", "severity",
	"labels", "repeat_interval", "rate_limit", "timeout", NULL };

/*
 * A receiver: the common keys, then its type's own through the row; a
 * key that is neither is an error that lists the keys the type takes.
 */
/*
 * The record types the rules read, for the front end: those their
 * match names, every type when a rule matches no type.
 */
static void
read_types(struct config *c)
{
	size_t i, m, k, n = 0;

	c->ftypes = pk_xcalloc(c->nrules + 1, sizeof(*c->ftypes));
	for (i = 0; i < c->nrules; i++) {
		const struct rule *r = &c->rules[i];
		const char *type = NULL;

		for (m = 0; m < r->nmatch; m++)
			if (strcmp(r->match[m].path, "type") == 0)
				type = r->match[m].val;
		if (type == NULL) {
			c->all_types = 1;
			continue;
		}
		for (k = 0; k < n; k++)
			if (strcmp(c->ftypes[k].name, type) == 0)
				break;
		if (k == n)
			c->ftypes[n++].name = type;
	}
}

static int
parse_receiver(struct pk_ydoc *doc, const struct pk_ynode *n,
    struct receiver *x)
{
	const char *allowed[64], *s, *name = "";
	const struct receiver_type *t;
	const struct pk_ynode *v;
	char what[1024], names[256];
	size_t k = 0, i, len;
	int err = 0;

	x->timeout_s = 10;
	if (pk_ynode_expect(doc, n, PK_YMAP, "receiver") == -1)
		return -1;
	if ((v = pk_ymap_get(n, "name")) == NULL)
		return pk_yerror(doc, n, "a receiver needs a name");
	if (v->type == PK_YSCALAR)
		name = v->str;
	if ((v = pk_ymap_get(n, "type")) == NULL)
		return pk_yerror(doc, n, "a receiver needs a type");
	if (pk_ynode_str(doc, v, &s) == -1)
		return -1;
	if ((t = receiver_type_find(s)) == NULL) {
		receiver_type_names(names, sizeof(names));
		return pk_yerror(doc, v, "unknown receiver type '%s' (%s)", s,
		    names);
	}
	len = (size_t)snprintf(what, sizeof(what), "%s receiver '%s' (keys:",
	    t->name, name);
	for (i = 0; common_keys[i] != NULL; i++)
		allowed[k++] = common_keys[i];
	for (i = 0; t->keys[i] != NULL && k < 63; i++)
		allowed[k++] = t->keys[i];
	allowed[k] = NULL;
	for (i = 0; allowed[i] != NULL && len < sizeof(what); i++)
		len += (size_t)snprintf(what + len, sizeof(what) - len, "%s %s",
		    i ? "," : "", allowed[i]);
	if (len < sizeof(what))
		snprintf(what + len, sizeof(what) - len, ")");
	if (pk_ymap_check(doc, n, what, allowed) > 0)
		return -1;
	x->type = t;
	err |= conf_str(doc, n, "name", &x->name);
	err |= conf_sev(doc, n, "severity", &x->min_sev);
	err |= conf_strmap(doc, n, "labels", &x->labels);
	err |= conf_dur(doc, n, "repeat_interval", 0, &x->repeat_s);
	err |= conf_dur(doc, n, "timeout", 0.001, &x->timeout_s);
	if ((v = pk_ymap_get(n, "rate_limit")) != NULL)
		err |= pk_ynode_double(doc, v, 0.001, 1e9, &x->st.rate_per_min);
	if (err)
		return -1;
	if ((x->conf = t->load(doc, n, x)) == NULL)
		return -1;
	x->st.tokens = x->st.rate_per_min;
	return 0;
}

struct config *
config_load(const char *path)
{
	static const char *const keys[] = { "state_dir", "rules", "receivers",
		"flap", "retry_min", "retry_max", NULL };
	static const char *const flapkeys[] = { "low", "high", NULL };
	struct pk_ydoc *doc;
	struct config *c;
	const struct pk_ynode *root, *v;
	size_t i;
	int err = 0;

	if ((doc = pk_yaml_load_file(path)) == NULL)
		return NULL;
	c = pk_xcalloc(1, sizeof(*c));
	c->retry_min = 0.5;
	c->retry_max = 60;
	c->flap_low = 25;
	c->flap_high = 50;
	pk_jpaths_init(&c->ps);
	c->id_comp = pk_jpaths_add(&c->ps, "component");
	root = doc->root;
	if (root == NULL) {
		pk_yerror(doc, NULL, "empty configuration");
		goto fail;
	}
	if (pk_ynode_expect(doc, root, PK_YMAP, "configuration") == -1 ||
	    pk_ymap_check(doc, root, "configuration", keys) > 0)
		goto fail;
	err |= conf_str(doc, root, "state_dir", &c->state_dir);
	err |= conf_dur(doc, root, "retry_min", 0.001, &c->retry_min);
	err |= conf_dur(doc, root, "retry_max", 0.001, &c->retry_max);
	if ((v = pk_ymap_get(root, "flap")) != NULL) {
		if (pk_ynode_expect(doc, v, PK_YMAP, "flap") == -1 ||
		    pk_ymap_check(doc, v, "flap", flapkeys) > 0)
			goto fail;
		if (pk_ymap_get(v, "low") != NULL)
			err |= pk_ynode_double(doc, pk_ymap_get(v, "low"), 0,
			    100, &c->flap_low);
		if (pk_ymap_get(v, "high") != NULL)
			err |= pk_ynode_double(doc, pk_ymap_get(v, "high"), 0,
			    100, &c->flap_high);
		if (!err && c->flap_low > c->flap_high) {
			pk_yerror(doc, v, "flap: low must not exceed high");
			goto fail;
		}
	}
	if ((v = pk_ymap_get(root, "rules")) == NULL) {
		pk_yerror(doc, root, "no rules");
		goto fail;
	}
	if (pk_ynode_expect(doc, v, PK_YSEQ, "rules") == -1)
		goto fail;
	c->rules = pk_xcalloc(v->n, sizeof(*c->rules));
	for (i = 0; i < v->n; i++) {
		c->nrules++;
		c->rules[i].index = i;
		if (parse_rule(doc, c, v->items[i], &c->rules[i]) == -1)
			goto fail;
	}
	read_types(c);
	if ((v = pk_ymap_get(root, "receivers")) != NULL) {
		if (pk_ynode_expect(doc, v, PK_YSEQ, "receivers") == -1)
			goto fail;
		if (v->n > MAXRX) {
			pk_yerror(doc, v, "at most %d receivers", MAXRX);
			goto fail;
		}
		c->rx = pk_xcalloc(v->n, sizeof(*c->rx));
		for (i = 0; i < v->n; i++) {
			size_t j;

			c->nrx++;
			if (parse_receiver(doc, v->items[i], &c->rx[i]) == -1)
				goto fail;
			for (j = 0; j < i; j++)
				if (strcmp(c->rx[j].name, c->rx[i].name) == 0) {
					pk_yerror(doc, v->items[i],
					    "duplicate receiver name '%s'",
					    c->rx[i].name);
					goto fail;
				}
		}
	}
	if (err)
		goto fail;
	pk_yaml_free(doc);
	atomic_init(&c->refs, 1);
	return c;
fail:
	pk_yaml_free(doc);
	config_free(c);
	return NULL;
}

const char *
state_dir_of(const struct alert_opts *o, struct config **cfgp)
{
	*cfgp = NULL;
	if (o->state_dir != NULL)
		return o->state_dir;
	if (o->config != NULL) {
		if ((*cfgp = config_load(o->config)) == NULL)
			exit(PK_EXIT_USAGE);
		if ((*cfgp)->state_dir != NULL)
			return (*cfgp)->state_dir;
	}
	if (getenv("PERF_ALERT_STATE_DIR") != NULL)
		return getenv("PERF_ALERT_STATE_DIR");
	pk_warn("no state directory (-s, state_dir in -c, or "
	    "PERF_ALERT_STATE_DIR)");
	exit(PK_EXIT_USAGE);
}
