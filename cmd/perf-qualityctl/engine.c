/* SPDX-License-Identifier: MIT */
/*
 * The engine: records from the front end (pk_filter) to the controller
 * (pk_quality), the pressure combined over the term rows, each level
 * change written and handed to the actuator rows. The algorithm is
 * specified in perf-qualityctl(1).
 */
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_num.h"
#include "pk_time.h"

#include "perf-qualityctl.h"

/* ---- components ---------------------------------------------------- */

static int
cfg_index(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ncomps; i++)
		if (strcmp(c->comps[i].name, name) == 0)
			return (int)i;
	return -1;
}

struct comp *
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
	k->prev = -1;
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

int
comp_prio(const struct qctl *q, const struct comp *k)
{
	return k->cfg >= 0 ? q->cfg->comps[k->cfg].priority : 0;
}

int
comp_due(const struct qctl *q, const struct comp *k, int level, int *cl)
{
	if (k->cfg < 0)
		return 0;
	*cl = pk_quality_component_level(level, comp_prio(q, k));
	return *cl != k->applied;
}

void *
comp_act(const struct qctl *q, const struct comp *k,
    const struct actuator_type *a)
{
	if (k->cfg < 0)
		return NULL;
	return q->cfg->comps[k->cfg].act[act_slot(a)];
}

long
comp_pid(struct qctl *q, struct comp *k)
{
	const char *path = q->cfg->comps[k->cfg].pid_file;
	const char *why;
	char *buf;
	size_t len;
	int64_t v;

	if (path == NULL)
		return -1;
	if (pk_read_file_max(path, 4096, &buf, &len) == -1) {
		if (!k->warned)
			pk_warn_errno("cannot read pid file '%s' (reported "
			    "once)", path);
		k->warned = 1;
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (pk_parse_i64(buf, 1, 4194304, &v, &why) == -1) {
		if (!k->warned)
			pk_warn("pid file '%s': '%s' is %s", path, buf, why);
		k->warned = 1;
		free(buf);
		return -1;
	}
	free(buf);
	return (long)v;
}

/* ---- pressure ------------------------------------------------------ */

/*
 * A kept term at ts: the worst value not older than stale (per
 * component, with the component's own bounds), its pressure returned.
 */
static double
kept_worst(struct qctl *q, const struct term *t, double ts,
    struct input *in, double *x)
{
	const struct config *c = q->cfg;
	const struct comp *worst = NULL;
	double n = NAN;
	size_t k;

	*x = NAN;
	if (t->type->key == NULL) {
		const struct kept *v = &q->single[t->slot];

		if (!v->have || ts - v->ts > c->stale)
			return NAN;
		*x = v->v;
		return pk_quality_norm(v->v, t->low, t->high);
	}
	in->what = t->type->key;
	for (k = 0; k < q->ncomps; k++) {
		const struct comp *m = &q->comps[k];
		const struct kept *v = &m->val[t->slot];
		const struct compcfg *cc = m->cfg >= 0 ? &c->comps[m->cfg] :
		    NULL;
		double lo = t->low, hi = t->high, nn;

		if (!v->have || ts - v->ts > c->stale)
			continue;
		if (cc != NULL && !isnan(cc->low[t->slot]))
			lo = cc->low[t->slot];
		if (cc != NULL && !isnan(cc->high[t->slot]))
			hi = cc->high[t->slot];
		nn = pk_quality_norm(v->v, lo, hi);
		if (isnan(n) || nn > n) {
			n = nn;
			*x = v->v;
			worst = m;
		}
	}
	if (worst != NULL)
		memcpy(in->who, worst->name, sizeof(in->who));
	return n;
}

/* The components' mean fps at ts (the impact row's), NAN if none. */
static double
impact_fps(const struct qctl *q, double ts)
{
	const struct config *c = q->cfg;
	double sum = 0;
	size_t k;
	int n = 0, slot;

	if (c->impact < 0)
		return NAN;
	slot = c->terms[c->impact].slot;
	for (k = 0; k < q->ncomps; k++) {
		const struct kept *v = &q->comps[k].val[slot];

		if (!v->have || ts - v->ts > c->stale)
			continue;
		sum += v->v;
		n++;
	}
	return n > 0 ? sum / n : NAN;
}

/*
 * The raw pressure at ts (NAN if no term has a value) and the mean fps
 * of the components; q->inputs describes the terms. sample: vals is the
 * sample evaluated; else only the kept terms count.
 */
static double
pressure(struct qctl *q, double ts, const struct pk_jval *vals, int sample,
    double *fps)
{
	const struct config *c = q->cfg;
	double num = 0, den = 0, mx = NAN;
	size_t i;

	for (i = 0; i < c->nterms; i++) {
		const struct term *t = &c->terms[i];
		struct input *in = &q->inputs[i];
		double x, n;

		in->have = 0;
		if (!t->enabled || (!sample && !t->kept))
			continue;
		in->what = NULL;
		in->who[0] = '\0';
		in->aux = 0;
		if (t->kept) {
			n = kept_worst(q, t, ts, in, &x);
		} else {
			x = t->type->measure != NULL ?
			    t->type->measure(t, vals, in) :
			    term_num(&vals[t->id[0]]);
			n = pk_quality_norm(x, t->low, t->high);
		}
		if (isnan(n))
			continue;
		in->have = 1;
		in->value = x;
		in->norm = n;
		in->weight = t->weight;
		num += t->weight * n;
		den += t->weight;
		if (isnan(mx) || t->weight * n > mx)
			mx = t->weight * n;
	}
	*fps = impact_fps(q, ts);
	if (den == 0)
		return NAN;
	return c->combine_max ? mx : num / den;
}

/* ---- evaluation ---------------------------------------------------- */

void
qctl_change(struct qctl *q, double ts, const struct pk_quality_change *ch)
{
	json_t *r = change_record(q, ts, ch);

	/* The actuation first: the record says what it changed. */
	acts_apply(q, ch, r);
	pk_emit_json(r);
	pk_out_record_done();
	json_decref(r);
	if (ch->prev >= 0)
		q->changes[ch->reason][ch->level > ch->prev ? DIR_UP :
		    ch->level < ch->prev ? DIR_DOWN : DIR_NONE]++;
	if (q->prom != NULL)
		prom_changed(q);
}

static void
evaluate(struct qctl *q, double ts, int sample, const struct pk_jval *vals)
{
	struct pk_quality_change ch;
	struct pk_quality_impact im;
	double p, fps, now;
	int have_imp;

	q->eval_ts = ts;
	q->have_eval = 1;
	p = pressure(q, ts, vals, sample, &fps);
	q->pressure = p;
	/* A stat(2) per sample would dominate a replay: 10 times a second. */
	now = pk_mono();
	if (now - q->last_check >= 0.1) {
		q->last_check = now;
		state_check_override(q);
	}
	if (pk_quality_step(&q->ctl, ts, p, fps, &ch, &im, &have_imp)) {
		if (have_imp) {
			emit_impact(q, ts, &im, 0);
			have_imp = 0;
		}
		qctl_change(q, ts, &ch);
	}
	if (have_imp)
		emit_impact(q, ts, &im, 1);
	acts_refresh(q, 0);
	if (q->prom != NULL)
		prom_changed(q);
}

static void
on_sample(struct qctl *q, const struct pk_rec *r)
{
	const struct pk_jval *iv = &r->vals[q->cfg->id_interval];

	/*
	 * A sample that is not newer than the last evaluation (a repeated
	 * line, logs concatenated out of order) is an old measurement: fed
	 * to the controller it would count twice towards two raw
	 * evaluations in a row.
	 */
	if (q->have_eval && r->ts <= q->eval_ts) {
		if (!q->late_warned)
			pk_warn("%s:%lu: sample ts %.3f is not after the last "
			    "evaluation at %.3f: passed through, not "
			    "evaluated", r->file, r->lineno, r->ts, q->eval_ts);
		q->late_warned = 1;
		q->late++;
		return;
	}
	if (iv->type == PK_JNUM && pk_jval_num(iv) > 0)
		q->sample_gap = pk_jval_num(iv);
	else if (q->have_sample)
		q->sample_gap = r->ts - q->sample_ts;
	q->sample_ts = r->ts;
	q->have_sample = 1;
	evaluate(q, r->ts, 1, r->vals);
}

/* A record of a kept term's type (metric): its values kept. */
static void
on_kept(struct qctl *q, const struct pk_rec *r)
{
	const struct config *c = q->cfg;
	struct comp *k = NULL;
	size_t i;

	for (i = 0; i < c->nkept; i++) {
		const struct term *t = &c->terms[c->kept[i]];
		struct kept *store;
		struct input scratch;
		double x;

		if (t->ftype != r->type)
			continue;
		if (t->id_key >= 0) {
			if (k == NULL) {
				char name[NAME_MAX_LEN];

				pk_jval_str(&r->vals[t->id_key], name,
				    sizeof(name));
				if ((k = comp_find(q, name, 1)) == NULL)
					return;
			}
			store = &k->val[t->slot];
		} else {
			store = &q->single[t->slot];
		}
		if (t->type->measure != NULL) {
			memset(&scratch, 0, sizeof(scratch));
			x = t->type->measure(t, r->vals, &scratch);
		} else {
			x = term_num(&r->vals[t->id[0]]);
		}
		if (isnan(x))
			continue;
		store->v = x;
		store->ts = r->ts;
		store->have = 1;
	}
	/*
	 * Without samples (an application-only stream, or perf-sample
	 * gone), the application's own records drive the controller, once
	 * a second at most. Samples are missed after stale seconds, or
	 * three of their intervals if that is longer (a Pi sampled every
	 * 30 s is not an application-only stream); the first stale seconds
	 * of the input wait for one to come.
	 */
	if (r->ts - (q->have_sample ? q->sample_ts : q->first_ts) >=
	    fmax(c->stale, 3 * q->sample_gap) &&
	    (!q->have_eval || r->ts >= q->eval_ts + METRIC_STEP))
		evaluate(q, r->ts, 0, r->vals);
}

/* ---- the front end's callbacks ------------------------------------- */

static void
on_record(struct pk_filter *f, const struct pk_rec *r)
{
	struct qctl *q = f->arg;

	pk_filter_pass(f, r);
	if (!q->have_ts)
		q->first_ts = r->ts;
	if (!q->have_ts || r->ts > q->last_ts)
		q->last_ts = r->ts;
	q->have_ts = 1;
	if (r->type == 0)
		on_sample(q, r);
	else
		on_kept(q, r);
	acts_tick(q);
}

/*
 * One host is followed: the first named in the input, or --host. The
 * actuation (state file, command, renice) is local; pressure of another
 * host must neither drive it nor be averaged into it. Records without a
 * host are the host's own, on its clock (host_default), once it is known.
 */
static int
on_host(struct pk_filter *f, struct pk_fhost *h, const struct pk_rec *r)
{
	struct qctl *q = f->arg;

	if (h->len == 0)
		return 0;
	if (q->host[0] == '\0') {
		snprintf(q->host, sizeof(q->host), "%s", h->name);
		f->host_default = q->host;
		return 0;
	}
	if (strcmp(h->name, q->host) == 0)
		return 0;
	if (!q->foreign_warned)
		pk_warn("%s:%lu: a record of host '%s' is passed through, not "
		    "controlled: this instance follows '%s' (see --host)",
		    r->file, r->lineno, h->name, q->host);
	q->foreign_warned = 1;
	return 1;
}

/*
 * The clock stepped back by back seconds (see pk_evclock.h): the
 * controller goes on from the new timeline, its level and learned costs
 * kept; sampling is learned again and no sample waits for an evaluation
 * of the old timeline.
 */
static void
on_step(struct pk_filter *f, struct pk_fhost *h, double back,
    const struct pk_rec *r)
{
	struct qctl *q = f->arg;
	size_t i, s;

	(void)r;
	pk_quality_rebase(&q->ctl, back);
	for (i = 0; i < q->ncomps; i++)
		for (s = 0; s < TERM_TYPES_MAX; s++)
			q->comps[i].val[s].ts -= back;
	for (s = 0; s < TERM_TYPES_MAX; s++)
		q->single[s].ts -= back;
	q->first_ts = q->last_ts = h->ev.clock;
	q->have_sample = q->have_eval = 0;
	q->sample_gap = 0;
}

static void
on_idle(struct pk_filter *f)
{
	struct qctl *q = f->arg;

	state_check_override(q);
	acts_refresh(q, 1);
	acts_idle(q);
	if (q->prom != NULL)
		prom_flush(q);
}

static void
on_reload(struct pk_filter *f)
{
	struct qctl *q = f->arg;
	struct config *c;

	if (q->o->config == NULL)
		return;
	c = config_load(q->o->config);
	if (c == NULL) {
		pk_warn("%s: not reloaded; the old configuration stays in force",
		    q->o->config);
		return;
	}
	if (pk_filter_set_paths(f, &c->paths) == -1)
		pk_die(PK_EXIT_IO, "%s: cannot reload: out of memory",
		    q->o->config);
	config_free(q->cfg);
	q->cfg = c;
	free(q->inputs);
	q->inputs = pk_xcalloc(c->nterms, sizeof(*q->inputs));
	pk_quality_set_params(&q->ctl, &c->params);
	f->span = c->stale;
	comps_bind(q);
	pk_warn("%s: reloaded", q->o->config);
}

/* ---- the run ------------------------------------------------------- */

void
qctl_init(struct qctl *q, struct qctl_opts *o, struct config *c)
{
	cpu_set_t set;
	int i;

	q->o = o;
	q->cfg = c;
	q->pressure = NAN;
	if (o->host != NULL)
		snprintf(q->host, sizeof(q->host), "%s", o->host);
	q->inputs = pk_xcalloc(c->nterms, sizeof(*q->inputs));
	pk_quality_init(&q->ctl, &c->params);
	comps_bind(q);
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (i = 0; i < 1024 && i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				q->allcpus[i / 64] |= 1ULL << (i % 64);
	}
	pk_filter_init(&q->f);
	term_ftypes(q->ftypes, q->fneed);
	q->f.types = q->ftypes;
	q->f.span = c->stale;
	q->f.span_name = "stale";
	q->f.late_verb = "controlled";
	q->f.step_what = "windows";
	q->f.late_mode = PK_FILTER_LATE_MINE;
	q->f.idle_ms = 500;
	q->f.arg = q;
	q->f.on_record = on_record;
	q->f.on_host = on_host;
	q->f.on_step = on_step;
	q->f.on_idle = on_idle;
	q->f.on_reload = on_reload;
	q->f.bad.strict = o->strict;
	if (q->host[0] != '\0')
		q->f.host_default = q->host;
	if (pk_filter_set_paths(&q->f, &c->paths) == -1)
		pk_die(PK_EXIT_IO, "cannot read the input: out of memory");
}

int
qctl_run(struct qctl *q, int argc, char **argv)
{
	state_check_override(q);
	return pk_filter_run(&q->f, argc, argv) == -1 ? PK_EXIT_IO : PK_EXIT_OK;
}

int
qctl_finish(struct qctl *q, int status)
{
	unsigned long long foreign = 0;
	size_t i;
	int st;

	for (i = 0; i < q->f.nhosts; i++)
		foreign += q->f.hosts[i]->skipped;
	if (q->late > 0)
		pk_warn("%llu sample%s out of time order not evaluated",
		    q->late, q->late == 1 ? "" : "s");
	if (foreign > 0)
		pk_warn("%llu record%s of other hosts than '%s' not controlled",
		    foreign, foreign == 1 ? "" : "s", q->host);
	acts_release(q);
	prom_stop(q);
	free(q->inputs);
	config_free(q->cfg);
	pk_close_stdout();
	st = pk_filter_finish(&q->f);
	pk_filter_release(&q->f);
	return status != PK_EXIT_OK ? status : st;
}
