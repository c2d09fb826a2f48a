/* SPDX-License-Identifier: MIT */
/*
 * The quality records: a change (the state file holds the last one) and
 * the measured impact of an earlier change. Built with jansson, written
 * with pk_emit_json: they are rare beside the records passed through.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pk_err.h"
#include "pk_exit.h"

#include "pk_io.h"
#include "pk_opt.h"

#include "perf-qualityctl.h"

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
		const struct term *t = &q->cfg->terms[i];
		json_t *j;

		if (!in->have)
			continue;
		j = json_object();
		json_object_set_new(j, "value", rounded(in->value));
		json_object_set_new(j, "norm", rounded(in->norm));
		json_object_set_new(j, "weight", rounded(in->weight));
		if (in->what != NULL)
			json_object_set_new(j, in->what, json_string(in->who));
		if (t->type->aux_name != NULL)
			json_object_set_new(j, t->type->aux_name,
			    rounded(in->aux));
		json_object_set_new(o, t->name, j);
	}
	return o;
}

json_t *
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
	for (i = 0; i < c->nsettings; i++)
		if (c->settings[i].val[level] != NULL)
			json_object_set(o, c->settings[i].key,
			    c->settings[i].val[level]);
	return o;
}

/* A scalar of a setting as an environment value. */
static void
env_scalar(FILE *fp, const json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		fputs(json_string_value(v), fp);
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "1" : "0", fp);
	} else if ((s = json_dumps(v, JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(15))) != NULL) {
		fputs(s, fp);
		free(s);
	}
}

void
settings_env(const struct config *c, int level, char ***env, size_t *n)
{
	json_t *o = settings_json(c, level), *v, *it;
	const char *key;
	size_t i;

	json_object_foreach(o, key, v) {
		char *buf = NULL;
		size_t len = 0, k;
		FILE *fp = open_memstream(&buf, &len);

		if (fp == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		fputs("PK_QUALITY_SETTING_", fp);
		for (k = 0; key[k] != '\0'; k++)
			fputc(toupper((unsigned char)key[k]), fp);
		fputc('=', fp);
		if (json_is_array(v)) {
			json_array_foreach(v, i, it) {
				if (i > 0)
					fputc(',', fp);
				env_scalar(fp, it);
			}
		} else {
			env_scalar(fp, v);
		}
		if (fclose(fp) != 0 || buf == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		*env = pk_xreallocarray(*env, *n + 2, sizeof(**env));
		(*env)[(*n)++] = buf;
		(*env)[*n] = NULL;
	}
	json_decref(o);
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

json_t *
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

void
emit_impact(struct qctl *q, double ts, const struct pk_quality_impact *im,
    int done)
{
	json_t *r = impact_record(q, ts, im);

	pk_emit_json(r);
	if (done)
		pk_out_record_done();
	json_decref(r);
}
