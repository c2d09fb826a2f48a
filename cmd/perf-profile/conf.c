/* SPDX-License-Identifier: MIT */
/*
 * The config loader (-c FILE, and SIGHUP reloads): windows and
 * escalation at the top, and the check rows' keys under system: (the
 * system checks), defaults: and components: (the component checks).
 * Every allowed key comes from the rows, so the "did you mean" of a typo
 * knows every key a check reads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_yaml.h"

#include "perf-profile.h"

void
conf_defaults(struct conf *c, const char *preset)
{
	int rpi = preset != NULL && strcmp(preset, "rpi") == 0;
	size_t i, k;

	memset(c, 0, sizeof(*c));
	c->window = 60;
	c->interval = NAN;	/* the window */
	c->smooth = 10;
	c->leak_window = 600;
	c->esc[0] = 60;
	c->esc[1] = 300;
	for (i = 0; i < nchecks; i++)
		for (k = 0; k < CHECK_KEYS && checks[i]->keys[k].name; k++)
			c->val[i][k] = rpi ? checks[i]->keys[k].rpi :
			    checks[i]->keys[k].def;
}

void
conf_release(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->ncomp; i++)
		free(c->comp[i].name);
	free(c->comp);
	c->comp = NULL;
	c->ncomp = 0;
}

int
conf_find_key(const char *key, size_t *ip, size_t *kp)
{
	size_t i, k;

	for (i = 0; i < nchecks; i++)
		for (k = 0; k < CHECK_KEYS && checks[i]->keys[k].name; k++)
			if (strcmp(checks[i]->keys[k].name, key) == 0) {
				*ip = i;
				*kp = k;
				return 0;
			}
	return -1;
}

double
conf_target(const struct conf *c, const char *name, size_t i, size_t k)
{
	size_t j;

	if (name != NULL)
		for (j = 0; j < c->ncomp; j++)
			if (strcmp(c->comp[j].name, name) == 0 &&
			    !isnan(c->comp[j].t[i][k]))
				return c->comp[j].t[i][k];
	return c->val[i][k];
}

/*
 * The keys of the checks of scope in map m (what: "system", "defaults",
 * "component") into out; unknown keys are errors.
 */
static int
get_keys(struct pk_ydoc *d, struct pk_ynode *m, const char *what,
    enum check_scope scope, double (*out)[CHECK_KEYS])
{
	const char *allowed[CHECK_MAX * CHECK_KEYS + 1];
	struct pk_ynode *v;
	size_t i, k, n = 0;
	int err = 0;

	if (pk_ynode_expect(d, m, PK_YMAP, what) == -1)
		return -1;
	for (i = 0; i < nchecks; i++)
		for (k = 0; k < CHECK_KEYS && checks[i]->keys[k].name; k++)
			if (checks[i]->scope == scope)
				allowed[n++] = checks[i]->keys[k].name;
	allowed[n] = NULL;
	if (pk_ymap_check(d, m, what, allowed) > 0)
		err = -1;
	for (i = 0; i < nchecks; i++) {
		if (checks[i]->scope != scope)
			continue;
		for (k = 0; k < CHECK_KEYS && checks[i]->keys[k].name; k++) {
			v = pk_ymap_get(m, checks[i]->keys[k].name);
			if (v != NULL && pk_ynode_double(d, v, 0, 1e15,
			    &out[i][k]) == -1)
				err = -1;
		}
	}
	return err;
}

static int
get_escalation(struct pk_ydoc *d, struct pk_ynode *n, double *esc)
{
	if (pk_ynode_expect(d, n, PK_YSEQ, "escalate_after") == -1 ||
	    n->n != 2) {
		if (n->type == PK_YSEQ)
			pk_yerror(d, n, "escalate_after is a list of two "
			    "durations, such as [1m, 5m]");
		return -1;
	}
	if (pk_ynode_duration(d, n->items[0], 0.001, 7 * 86400, &esc[0]) ==
	    -1 || pk_ynode_duration(d, n->items[1], 0.001, 7 * 86400,
	    &esc[1]) == -1)
		return -1;
	if (esc[1] <= esc[0]) {
		pk_yerror(d, n->items[1], "the second step of escalate_after "
		    "must come after the first");
		return -1;
	}
	return 0;
}

static int
get_components(struct pk_ydoc *d, struct pk_ynode *n, struct conf *c)
{
	size_t i, j, k;
	int err = 0;

	c->comp = pk_xcalloc(n->n ? n->n : 1, sizeof(*c->comp));
	for (i = 0; i < n->n; i++) {
		struct comp_targets *ct = &c->comp[c->ncomp++];

		ct->name = pk_xstrdup(n->keys[i]->str);
		for (j = 0; j < CHECK_MAX; j++)
			for (k = 0; k < CHECK_KEYS; k++)
				ct->t[j][k] = NAN;
		if (get_keys(d, n->items[i], "component", SCOPE_COMPONENT,
		    ct->t) == -1)
			err = -1;
	}
	return err;
}

/* A key that must be above 0 (temp_margin_c) and is not. */
static int
check_above0(struct pk_ydoc *d, struct pk_ynode *root, const struct conf *c)
{
	size_t i, k;
	int err = 0;

	for (i = 0; i < nchecks; i++)
		for (k = 0; k < CHECK_KEYS && checks[i]->keys[k].name; k++) {
			const struct check_key *key = &checks[i]->keys[k];

			if (!key->above0 || checks[i]->scope != SCOPE_SYSTEM ||
			    c->val[i][k] > 0)
				continue;
			pk_yerror(d, pk_ymap_get(pk_ymap_get(root, "system"),
			    key->name), "%s must be above 0", key->name);
			err = -1;
		}
	return err;
}

int
conf_load(struct conf *c, const char *path, const char *preset)
{
	static const char *const top[] = {
		"window", "interval", "smooth", "leak_window",
		"escalate_after", "system", "defaults", "components", NULL
	};
	struct pk_ydoc *d;
	struct pk_ynode *root, *n;
	int err = 0;

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
	if ((n = pk_ymap_get(root, "escalate_after")) != NULL &&
	    get_escalation(d, n, c->esc) == -1)
		err = -1;
	if ((n = pk_ymap_get(root, "smooth")) != NULL &&
	    pk_ynode_duration(d, n, 0.001, 86400, &c->smooth) == -1)
		err = -1;
	if ((n = pk_ymap_get(root, "system")) != NULL &&
	    get_keys(d, n, "system", SCOPE_SYSTEM, c->val) == -1)
		err = -1;
	if ((n = pk_ymap_get(root, "defaults")) != NULL &&
	    get_keys(d, n, "defaults", SCOPE_COMPONENT, c->val) == -1)
		err = -1;
	if ((n = pk_ymap_get(root, "components")) != NULL) {
		if (pk_ynode_expect(d, n, PK_YMAP, "components") == -1) {
			err = -1;
			goto out;
		}
		if (get_components(d, n, c) == -1)
			err = -1;
	}
	if (check_above0(d, root, c) == -1)
		err = -1;
out:
	pk_yaml_free(d);
	if (err)
		conf_release(c);
	return err;
}
