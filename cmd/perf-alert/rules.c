/* SPDX-License-Identifier: MIT */
/*
 * The rules: each record evaluated, the instances (rule, host,
 * component) and their transitions on event time, escalation, repeats,
 * absent data, acknowledgements, and the reload on SIGHUP.
 */
#include "perf-alert.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_hash.h"
#include "pk_io.h"
#include "pk_opt.h"
#include "pk_time.h"

const char *const statenames[] = { "inactive", "pending", "firing" };

struct tplctx {
	const json_t *rec;
	char buf[64];
};

/*
 * {{name}} from an alert record: value, threshold, host, component,
 * rule, severity, fingerprint, labels.NAME.
 */
static const char *
tpl_lookup(const char *name, size_t len, void *arg)
{
	struct tplctx *t = arg;
	const json_t *v;

#define IS(s) (len == sizeof(s) - 1 && strncmp(name, s, len) == 0)
	if (IS("value") || IS("threshold")) {
		v = json_object_get(t->rec, IS("value") ? "value" : "threshold");
		if (!json_is_number(v))
			return "";
		snprintf(t->buf, sizeof(t->buf), "%.6g", json_number_value(v));
		return t->buf;
	}
	if (IS("host") || IS("component") || IS("rule") || IS("severity") ||
	    IS("fingerprint")) {
		snprintf(t->buf, sizeof(t->buf), "%.*s", (int)len, name);
		return json_string_value(json_object_get(t->rec, t->buf));
	}
	if (len > 7 && strncmp(name, "labels.", 7) == 0) {
		snprintf(t->buf, sizeof(t->buf), "%.*s", (int)(len - 7),
		    name + 7);
		return json_string_value(json_object_get(json_object_get(t->rec,
		    "labels"), t->buf));
	}
#undef IS
	return NULL;
}

size_t
alert_expand(const char *tpl, const json_t *rec, char *out, size_t size)
{
	struct tplctx t = { rec, "" };

	return pk_alert_template(tpl, tpl_lookup, &t, out, size);
}

json_t *
alert_record(const struct rule *r, const struct inst *in, const char *event,
    double ts)
{
	json_t *o = json_object(), *labels, *ann;
	const char *state = in->state == ST_PENDING ? "pending" :
	    in->state == ST_FIRING ? "firing" : "resolved";
	const char *k;
	json_t *v;
	char buf[4096];

	json_object_set_new(o, "type", json_string("alert"));
	json_object_set_new(o, "ts", json_real(ts));
	json_object_set_new(o, "host", json_string(in->host));
	if (in->comp[0] != '\0')
		json_object_set_new(o, "component", json_string(in->comp));
	json_object_set_new(o, "rule", json_string(r->name));
	json_object_set_new(o, "fingerprint", json_string(in->fp));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "severity",
	    json_string(pk_alert_severity_name(in->sev)));
	labels = json_deep_copy(r->labels);
	json_object_set_new(o, "labels", labels);
	ann = json_object();
	json_object_set_new(o, "annotations", ann);
	if (!isnan(in->value))
		json_object_set_new(o, "value", json_real(in->value));
	if (!isnan(pk_alert_cond_threshold(&r->when)))
		json_object_set_new(o, "threshold",
		    json_real(pk_alert_cond_threshold(&r->when)));
	json_object_set_new(o, "since", json_real(in->since));
	if (in->esc > 0)
		json_object_set_new(o, "escalation", json_integer(in->esc));
	if (in->flap.flapping)
		json_object_set_new(o, "flapping", json_true());
	if (in->acked)
		json_object_set_new(o, "acknowledged", json_true());
	/* The templates see the rule's own labels, as they always did. */
	json_object_foreach(r->annotations, k, v) {
		size_t want = alert_expand(json_string_value(v), o, buf,
		    sizeof(buf));

		if (want < sizeof(buf)) {
			json_object_set_new(ann, k, json_string(buf));
		} else {
			/* Longer than the buffer: carried whole, never cut. */
			char *big = pk_xmalloc(want + 1);

			alert_expand(json_string_value(v), o, big, want + 1);
			json_object_set_new(ann, k, json_string(big));
			free(big);
		}
	}
	json_object_set_new(labels, "alertname", json_string(r->name));
	json_object_set_new(labels, "host", json_string(in->host));
	if (in->comp[0] != '\0')
		json_object_set_new(labels, "component", json_string(in->comp));
	return o;
}

/* One transition: the record on stdout, in the history, to the receivers. */
static void
transition(struct alert_ctx *x, const struct rule *r, struct inst *in,
    const char *event, double ts, int tell)
{
	json_t *rec = alert_record(r, in, event, ts);

	if (strcmp(event, "resolved") == 0)
		json_object_set_new(rec, "duration_s", json_real(ts - in->since));
	pk_emit_json(rec);
	pk_out_record_done();
	alert_event(x, event);
	/*
	 * The spool before the history: a crash between the two must leave
	 * a notification not yet in the history (delivered at least once),
	 * never a history line whose notification was lost.
	 */
	if (tell)
		notify(x, in, rec, ts, -1);
	hist_append(x, rec);
	json_decref(rec);
}

static void
set_fp(const struct rule *r, struct inst *in)
{
	uint64_t h = PK_HASH_FNV_INIT;
	const char *k;
	json_t *v;

	h = pk_hash_fnv1a(h, r->name, strlen(r->name) + 1);
	h = pk_hash_fnv1a(h, in->host, strlen(in->host) + 1);
	h = pk_hash_fnv1a(h, in->comp, strlen(in->comp) + 1);
	json_object_foreach(r->labels, k, v) {
		h = pk_hash_fnv1a(h, k, strlen(k) + 1);
		h = pk_hash_fnv1a(h, json_string_value(v),
		    strlen(json_string_value(v)) + 1);
	}
	snprintf(in->fp, sizeof(in->fp), "%016llx", (unsigned long long)h);
}

/* Bind in to host h: its timers run on h's clock from now on. */
static void
inst_bind(struct inst *in, struct pk_fhost *h)
{
	struct hoststate *hs = h->user;
	size_t at;

	in->h = h;
	/* In rule order, each rule's in order: as the old single tick. */
	for (at = hs->n; at > 0; at--) {
		const struct inst *o = hs->insts[at - 1];

		if (o->rule->index < in->rule->index ||
		    (o->rule->index == in->rule->index && o->seq < in->seq))
			break;
	}
	if (hs->n == hs->cap) {
		hs->cap = hs->cap ? hs->cap * 2 : 8;
		hs->insts = pk_xreallocarray(hs->insts, hs->cap,
		    sizeof(*hs->insts));
	}
	memmove(hs->insts + at + 1, hs->insts + at,
	    (hs->n - at) * sizeof(*hs->insts));
	hs->insts[at] = in;
	hs->n++;
}

static uint64_t
key_hash(const char *host, const char *comp)
{
	return pk_hash_str(pk_hash_str(PK_HASH_FNV_INIT, host), comp);
}

/* Put in into r's table (which has room). */
static void
tab_put(struct rule *r, struct inst *in)
{
	size_t k = (size_t)in->hash & (r->tabcap - 1);

	while (r->tab[k] != NULL)
		k = (k + 1) & (r->tabcap - 1);
	r->tab[k] = in;
}

/*
 * The table at most half full: doubled and rebuilt from r->insts (1), or
 * left as it is (0).
 */
static int
tab_grow(struct rule *r)
{
	size_t i;

	if (r->tabcap >= 2 * (r->ninst + 1))
		return 0;
	free(r->tab);
	r->tabcap = r->tabcap ? r->tabcap * 2 : 16;
	while (r->tabcap < 2 * (r->ninst + 1))
		r->tabcap *= 2;
	r->tab = pk_xcalloc(r->tabcap, sizeof(*r->tab));
	for (i = 0; i < r->ninst; i++)
		tab_put(r, r->insts[i]);
	return 1;
}

/* Remove in from the table: linear probing's backward shift. */
static void
tab_del(struct rule *r, const struct inst *in)
{
	size_t m = r->tabcap - 1, k = (size_t)in->hash & m, j, home;

	while (r->tab[k] != in)
		k = (k + 1) & m;
	r->tab[k] = NULL;
	for (j = (k + 1) & m; r->tab[j] != NULL; j = (j + 1) & m) {
		home = (size_t)r->tab[j]->hash & m;
		/* Moves back to k unless its home lies in (k, j]. */
		if (k <= j ? (home <= k || home > j) : (home <= k && home > j)) {
			r->tab[k] = r->tab[j];
			r->tab[j] = NULL;
			k = j;
		}
	}
}

static void
lru_unlink(struct rule *r, struct inst *in)
{
	if (!in->in_lru)
		return;
	if (in->lru_prev != NULL)
		in->lru_prev->lru_next = in->lru_next;
	else
		r->lru_head = in->lru_next;
	if (in->lru_next != NULL)
		in->lru_next->lru_prev = in->lru_prev;
	else
		r->lru_tail = in->lru_prev;
	in->lru_prev = in->lru_next = NULL;
	in->in_lru = 0;
}

/*
 * Keep in on its rule's list of forgettable instances, in the order they
 * became so: inactive and not flapping (a flapping one holds
 * notifications back). Absent-data rules keep their one instance.
 */
void
inst_settle(struct inst *in)
{
	struct rule *r = in->rule;
	int can = in->state == ST_INACTIVE && !in->flap.flapping &&
	    r->absent_s <= 0;

	if (!can) {
		lru_unlink(r, in);
	} else if (!in->in_lru) {
		in->lru_prev = r->lru_tail;
		in->lru_next = NULL;
		if (r->lru_tail != NULL)
			r->lru_tail->lru_next = in;
		else
			r->lru_head = in;
		r->lru_tail = in;
		in->in_lru = 1;
	}
}

static void
inst_free(struct inst *in)
{
	free(in->host);
	free(in->comp);
	free(in);
}

/* Forget in: off its rule's list, table and array, and its host's list. */
static void
inst_evict(struct rule *r, struct inst *in)
{
	size_t i;

	lru_unlink(r, in);
	tab_del(r, in);
	/* Its place taken by the last: O(1) (seq keeps the order). */
	r->insts[in->idx] = r->insts[--r->ninst];
	r->insts[in->idx]->idx = in->idx;
	if (in->h != NULL) {
		struct hoststate *hs = in->h->user;

		for (i = 0; i < hs->n && hs->insts[i] != in; i++)
			;
		if (i < hs->n) {
			memmove(hs->insts + i, hs->insts + i + 1,
			    (hs->n - i - 1) * sizeof(*hs->insts));
			hs->n--;
		}
	}
	inst_free(in);
}

struct inst *
inst_get(struct rule *r, const char *host, const char *comp, int create,
    struct pk_fhost *h)
{
	uint64_t hash = key_hash(host, comp);
	struct inst *in;
	size_t k;

	for (k = r->tabcap ? (size_t)hash & (r->tabcap - 1) : 0;
	    r->tabcap > 0 && (in = r->tab[k]) != NULL;
	    k = (k + 1) & (r->tabcap - 1))
		if (in->hash == hash && strcmp(in->host, host) == 0 &&
		    strcmp(in->comp, comp) == 0)
			return in;
	if (!create)
		return NULL;
	if (r->ninst >= INST_MAX && r->absent_s <= 0) {
		if (!r->warned_cap)
			pk_warn("rule '%s': %d label sets (host, component): "
			    "the oldest inactive ones are forgotten, and while "
			    "all are active new ones are dropped (counted)",
			    r->name, INST_MAX);
		r->warned_cap = 1;
		if (r->lru_head == NULL) {
			r->dropped++;
			return NULL;
		}
		r->evicted++;
		inst_evict(r, r->lru_head);
	}
	if (r->ninst == r->capinst) {
		r->capinst = r->capinst ? r->capinst * 2 : 4;
		r->insts = pk_xreallocarray(r->insts, r->capinst,
		    sizeof(*r->insts));
	}
	in = pk_xcalloc(1, sizeof(*in));
	r->insts[r->ninst] = in;
	in->idx = r->ninst++;
	in->seq = r->nextseq++;
	in->rule = r;
	in->host = pk_xstrdup(host);
	in->comp = pk_xstrdup(comp);
	in->hash = hash;
	in->sev = r->sev;
	in->value = NAN;
	in->clear_since = NAN;
	set_fp(r, in);
	if (!tab_grow(r))
		tab_put(r, in);
	inst_settle(in);
	if (h != NULL)
		inst_bind(in, h);
	return in;
}

void
rule_insts_release(struct rule *r)
{
	size_t i;

	for (i = 0; i < r->ninst; i++)
		inst_free(r->insts[i]);
	free(r->insts);
	free(r->tab);
	r->insts = NULL;
	r->tab = NULL;
	r->ninst = r->capinst = r->tabcap = 0;
	r->lru_head = r->lru_tail = NULL;
}

static void
fire(struct alert_ctx *x, const struct rule *r, struct inst *in, double ts,
    double since)
{
	in->state = ST_FIRING;
	in->since = since;
	in->sev = r->sev;
	in->esc = 0;
	in->acked = 0;
	in->next_esc = ts + r->esc_after;
	in->clear_since = NAN;
	transition(x, r, in, "firing", ts, 1);
}

static void
resolve(struct alert_ctx *x, const struct rule *r, struct inst *in, double ts)
{
	int was = in->state;

	in->state = ST_INACTIVE;
	in->clear_since = NAN;
	if (was == ST_FIRING)
		transition(x, r, in, "resolved", ts, in->notified == ST_FIRING ||
		    !in->flap.flapping);
	in->esc = 0;
	in->sev = r->sev;
	in->acked = 0;
}

static void
flap_change(struct alert_ctx *x, const struct rule *r, struct inst *in,
    double ts)
{
	json_t *rec = alert_record(r, in, in->flap.flapping ? "flapping" :
	    "flap_end", ts);

	json_object_set_new(rec, "flap_pct", json_real(in->flap.pct));
	pk_emit_json(rec);
	pk_out_record_done();
	hist_append(x, rec);
	/* Notifications were held: tell the receivers where it stands now. */
	if (!in->flap.flapping && in->notified != in->state &&
	    (in->state == ST_FIRING || in->notified == ST_FIRING)) {
		json_object_set_new(rec, "event", json_string(
		    in->state == ST_FIRING ? "firing" : "resolved"));
		notify(x, in, rec, ts, -1);
	}
	json_decref(rec);
}

/* A component up to this long is copied on the stack, longer ones to the heap. */
#define COMPBUF 256

static void
eval_rule(struct alert_ctx *x, struct rule *r, const struct pk_rec *rec,
    const char **comp, char *compbuf)
{
	const struct pk_jval *vals = rec->vals;
	struct config *c = x->cfg;
	double value, cv, ts = rec->ts;
	struct inst *in;
	int cond, clr;
	size_t i;

	for (i = 0; i < r->nmatch; i++)
		if (vals[r->match[i].id].type != PK_JSTR ||
		    !pk_jval_streq(&vals[r->match[i].id], r->match[i].val))
			return;
	if (r->absent_s > 0) {
		r->absent_seen = pk_now();
		if (r->ninst > 0 && r->insts[0]->state == ST_FIRING)
			resolve(x, r, r->insts[0], r->absent_seen);
		return;
	}
	cond = pk_alert_cond_eval(&r->when, vals, &value);
	if (cond < 0 || (cond == 0 && r->ninst == 0))
		return;
	if (*comp == NULL) {
		/* Whole, however long (a cut would merge two of them). */
		if (vals[c->id_comp].type == PK_JSTR) {
			size_t n = pk_jval_str(&vals[c->id_comp], compbuf,
			    COMPBUF);

			*comp = compbuf;
			if (n >= COMPBUF) {
				char *big = pk_xmalloc(n + 1);

				pk_jval_str(&vals[c->id_comp], big, n + 1);
				*comp = big;
			}
		} else {
			*comp = "";
		}
	}
	in = inst_get(r, rec->host->name, *comp, cond == 1, rec->host);
	if (in == NULL)
		return;
	if (r->value_id >= 0 && vals[r->value_id].type == PK_JNUM)
		value = pk_jval_num(&vals[r->value_id]);
	if (r->flap && pk_alert_flap_add(&in->flap, cond, c->flap_low,
	    c->flap_high))
		flap_change(x, r, in, ts);
	switch (in->state) {
	case ST_INACTIVE:
		if (cond != 1)
			break;
		in->value = value;
		if (r->for_s <= 0) {
			fire(x, r, in, ts, ts);
		} else {
			in->state = ST_PENDING;
			in->since = ts;
			transition(x, r, in, "pending", ts, 0);
		}
		break;
	case ST_PENDING:
		if (cond != 1) {
			/* Never fired: back to inactive without notice. */
			in->state = ST_INACTIVE;
			break;
		}
		in->value = value;
		if (ts - in->since >= r->for_s)
			fire(x, r, in, ts, ts);
		break;
	case ST_FIRING:
		if (r->has_clear) {
			clr = pk_alert_cond_eval(&r->clear, vals, &cv);
			if (clr < 0)
				break;
		} else {
			clr = !cond;
		}
		if (cond == 1)
			in->value = value;
		if (!clr) {
			in->clear_since = NAN;
			break;
		}
		if (isnan(in->clear_since))
			in->clear_since = ts;
		if (ts - in->clear_since >= r->clear_for_s) {
			in->value = isnan(value) ? in->value : value;
			resolve(x, r, in, ts);
		}
		break;
	}
	inst_settle(in);
}

/* One instance's escalation and repeats at time ts (of its clock). */
static void
tick_inst(struct alert_ctx *x, struct inst *in, double ts)
{
	struct config *c = x->cfg;
	const struct rule *r = in->rule;
	size_t k;

	if (in->state != ST_FIRING || in->acked)
		return;
	if (r->esc_after > 0 && in->sev < r->esc_max && ts >= in->next_esc) {
		in->sev++;
		in->esc++;
		in->next_esc = ts + r->esc_after;
		transition(x, r, in, "escalated", ts, 1);
		return;
	}
	if (in->flap.flapping)
		return;
	for (k = 0; k < c->nrx; k++) {
		json_t *rec;

		if (c->rx[k].repeat_s <= 0 ||
		    ts - in->last_rx[k] < c->rx[k].repeat_s)
			continue;
		rec = alert_record(r, in, "repeat", ts);
		if (rx_routes(&c->rx[k], rec))
			notify(x, in, rec, ts, (int)k);
		json_decref(rec);
	}
}

/*
 * Absent-data rules, judged on the wall clock, and so are the
 * escalation and repeats of their alerts.
 */
static void
check_absent(struct alert_ctx *x)
{
	struct config *c = x->cfg;
	double now = pk_now();
	size_t i;

	for (i = 0; i < c->nrules; i++) {
		struct rule *r = &c->rules[i];
		struct inst *in;
		const char *host = pk_hostname();
		size_t m;

		if (r->absent_s <= 0)
			continue;
		if (r->ninst > 0)
			tick_inst(x, r->insts[0], now);
		if (now - r->absent_seen < r->absent_s)
			continue;
		for (m = 0; m < r->nmatch; m++)
			if (strcmp(r->match[m].path, "host") == 0)
				host = r->match[m].val;
		in = r->ninst > 0 ? r->insts[0] : inst_get(r, host, "", 1, NULL);
		if (in->state == ST_FIRING)
			continue;
		in->value = now - r->absent_seen;
		fire(x, r, in, now, r->absent_seen);
	}
}

/* Acknowledgements left by `perf-alert ack` in the state directory. */
static void
check_acks(struct alert_ctx *x)
{
	struct config *c = x->cfg;
	DIR *dir;
	struct dirent *e;
	char path[8192];

	if (x->ackdir[0] == '\0' || (dir = opendir(x->ackdir)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		size_t i, n, idlen = strlen(e->d_name), found = 0;
		json_t *a;
		int fd;

		if (e->d_name[0] == '.' || strchr(e->d_name, '.') != NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", x->ackdir, e->d_name);
		if ((fd = state_file_open(path, O_RDONLY)) != -1) {
			a = json_loadfd(fd, 0, NULL);
			close(fd);
		} else {
			a = NULL;
		}
		/*
		 * An ambiguous prefix acknowledges nothing (as git's short
		 * hashes): the candidates are listed. `ack` itself refuses one
		 * it can see in state.json; this is the alert that fired since.
		 */
		for (i = 0; i < c->nrules; i++)
			for (n = 0; n < c->rules[i].ninst; n++) {
				const struct inst *in = c->rules[i].insts[n];

				if (in->state == ST_FIRING && !in->acked &&
				    strncmp(in->fp, e->d_name, idlen) == 0)
					found++;
			}
		if (found > 1) {
			pk_warn("ack %s: ambiguous, %zu alerts have this id; none "
			    "acknowledged:", e->d_name, found);
			for (i = 0; i < c->nrules; i++)
				for (n = 0; n < c->rules[i].ninst; n++) {
					const struct inst *in =
					    c->rules[i].insts[n];

					if (in->state == ST_FIRING && !in->acked &&
					    strncmp(in->fp, e->d_name, idlen) == 0)
						fprintf(stderr, "  %s %s on %s%s%s\n",
						    in->fp, c->rules[i].name,
						    in->host, in->comp[0] ? "/" : "",
						    in->comp);
				}
		}
		for (i = 0; found == 1 && i < c->nrules; i++) {
			struct rule *r = &c->rules[i];

			for (n = 0; n < r->ninst; n++) {
				struct inst *in = r->insts[n];
				json_t *rec;
				double ts;

				if (in->state != ST_FIRING || in->acked ||
				    strncmp(in->fp, e->d_name, idlen) != 0)
					continue;
				in->acked = 1;
				/* Now, on the clock its timers run on. */
				ts = r->absent_s > 0 ? pk_now() : in->h != NULL ?
				    in->h->ev.clock : x->last_ts;
				rec = alert_record(r, in, "acknowledged", ts);
				json_object_set_new(rec, "tta_s",
				    json_real(ts - in->since));
				if (json_string_value(json_object_get(a, "by")))
					json_object_set(rec, "by",
					    json_object_get(a, "by"));
				if (json_string_value(json_object_get(a,
				    "comment")))
					json_object_set(rec, "comment",
					    json_object_get(a, "comment"));
				pk_emit_json(rec);
				pk_out_record_done();
				alert_event(x, "acknowledged");
				hist_append(x, rec);
				json_decref(rec);
			}
		}
		if (!found)
			pk_warn("ack %s: no firing, unacknowledged alert has "
			    "this id", e->d_name);
		json_decref(a);
		if (unlink(path) == -1)
			pk_warn_errno("cannot remove '%s'", path);
	}
	closedir(dir);
}

/*
 * The per-host lists, from the rules' instances: each bound instance
 * on its host's list, in rule order (after a reload).
 */
static void
hosts_rebuild(struct alert_ctx *x)
{
	struct config *c = x->cfg;
	size_t i, n;

	for (i = 0; i < x->f.nhosts; i++)
		((struct hoststate *)x->f.hosts[i]->user)->n = 0;
	for (i = 0; i < c->nrules; i++)
		for (n = 0; n < c->rules[i].ninst; n++) {
			struct inst *in = c->rules[i].insts[n];

			in->rule = &c->rules[i];
			if (c->rules[i].absent_s > 0)
				in->h = NULL;	/* on the wall clock */
			if (in->h != NULL)
				inst_bind(in, in->h);	/* in order */
		}
}

/* The record types the rules read (every type when one has no type). */
static void
filter_types(struct alert_ctx *x)
{
	x->f.types = x->cfg->ftypes;
	x->f.all_types = x->cfg->all_types;
	if (pk_filter_set_paths(&x->f, &x->cfg->ps) == -1)
		pk_die(PK_EXIT_IO, "out of memory");
}

static void
reload(struct alert_ctx *x)
{
	struct config *n, *old = x->cfg;
	size_t i, k;

	pk_reload = 0;
	if ((n = config_load(x->config_path)) == NULL) {
		pk_warn("'%s': invalid configuration, keeping the old one",
		    x->config_path);
		return;
	}
	if ((n->state_dir == NULL) != (old->state_dir == NULL) ||
	    (n->state_dir != NULL && strcmp(n->state_dir, old->state_dir)))
		pk_warn("state_dir changes need a restart; keeping '%s'",
		    old->state_dir ? old->state_dir : "(none)");
	if (x->d.spool[0] == '\0' && n->nrx > 0) {
		pk_warn("'%s': receivers need a state directory, keeping the "
		    "old configuration", x->config_path);
		config_free(n);
		return;
	}
	/* Alerts in progress carry over to the rule of the same name. */
	for (i = 0; i < n->nrules; i++)
		for (k = 0; k < old->nrules; k++)
			if (strcmp(n->rules[i].name, old->rules[k].name) == 0) {
				n->rules[i].insts = old->rules[k].insts;
				n->rules[i].ninst = old->rules[k].ninst;
				n->rules[i].capinst = old->rules[k].capinst;
				n->rules[i].nextseq = old->rules[k].nextseq;
				n->rules[i].tab = old->rules[k].tab;
				n->rules[i].tabcap = old->rules[k].tabcap;
				n->rules[i].lru_head = old->rules[k].lru_head;
				n->rules[i].lru_tail = old->rules[k].lru_tail;
				n->rules[i].evicted = old->rules[k].evicted;
				n->rules[i].dropped = old->rules[k].dropped;
				n->rules[i].warned_cap =
				    old->rules[k].warned_cap;
				n->rules[i].absent_seen =
				    old->rules[k].absent_seen;
				old->rules[k].insts = NULL;
				old->rules[k].ninst = 0;
				old->rules[k].tab = NULL;
				old->rules[k].tabcap = 0;
			}
	for (i = 0; i < n->nrules; i++)
		if (n->rules[i].absent_seen == 0)
			n->rules[i].absent_seen = pk_now();
	deliv_config(x, n);
	x->cfg = n;
	hosts_rebuild(x);
	filter_types(x);
	cfg_put(old);
	pk_warn("'%s': configuration reloaded (%zu rules, %zu receivers)",
	    x->config_path, n->nrules, n->nrx);
}

void
housekeeping(struct alert_ctx *x)
{
	if (pk_reload)
		reload(x);
	check_absent(x);
	check_acks(x);
	x->next_scan = pk_mono() + 0.2;
	if (x->hist_fd != -1)
		hist_flush(x, 0);
	if (x->dirty && x->statefile[0] != '\0' && pk_mono() >= x->next_save)
		state_save(x);
}

/* ---------- the front end's callbacks (lib/pk_filter) ---------- */

static void
on_record(struct pk_filter *f, const struct pk_rec *r)
{
	struct alert_ctx *x = f->arg;
	struct config *c = x->cfg;
	struct hoststate *hs = r->host->user;
	char compbuf[COMPBUF];
	const char *comp = NULL;
	size_t i, n;

	pk_filter_pass(f, r);
	if (r->ts > x->last_ts)
		x->last_ts = r->ts;
	for (i = 0; i < c->nrules; i++)
		eval_rule(x, &c->rules[i], r, &comp, compbuf);
	if (comp != NULL && comp != compbuf && *comp != '\0')
		free((char *)comp);
	/* The host's escalations and repeats, once a second of its clock. */
	if (r->host->ev.clock >= hs->next_tick) {
		for (n = 0; n < hs->n; n++)
			tick_inst(x, hs->insts[n], r->host->ev.clock);
		hs->next_tick = r->host->ev.clock + 1;
	}
	if ((++x->nrec & 1023) == 0 && pk_mono() >= x->next_scan)
		housekeeping(x);
}

/* A new host: its state, and the alerts restored for it bound to it. */
static int
on_host(struct pk_filter *f, struct pk_fhost *h, const struct pk_rec *r)
{
	struct alert_ctx *x = f->arg;
	struct config *c = x->cfg;
	struct hoststate *hs = pk_xcalloc(1, sizeof(*hs));
	size_t i, n;

	(void)r;
	hs->next_tick = -HUGE_VAL;
	h->user = hs;
	for (i = 0; i < c->nrules; i++)
		for (n = 0; n < c->rules[i].ninst; n++) {
			struct inst *in = c->rules[i].insts[n];

			if (in->h == NULL && c->rules[i].absent_s <= 0 &&
			    strcmp(in->host, h->name) == 0)
				inst_bind(in, h);
		}
	return 0;
}

/*
 * Host h's clock stepped back by back seconds (pk_evclock): move every
 * timer of its alerts (pending and firing since, clear_for, escalation,
 * repeats) onto the new timeline, so that no time passes across the
 * step: 'for' neither completes early nor waits for the old timeline to
 * come round again. Other hosts' alerts are not touched.
 */
static void
on_step(struct pk_filter *f, struct pk_fhost *h, double back,
    const struct pk_rec *r)
{
	struct alert_ctx *x = f->arg;
	struct hoststate *hs = h->user;
	size_t i, k;

	(void)r;
	for (i = 0; i < hs->n; i++) {
		struct inst *in = hs->insts[i];

		in->since -= back;
		in->clear_since -= back;
		in->next_esc -= back;
		for (k = 0; k < MAXRX; k++)
			in->last_rx[k] -= back;
	}
	hs->next_tick = h->ev.clock + 1;
	x->last_ts = -HUGE_VAL;
	for (i = 0; i < f->nhosts; i++)
		if (f->hosts[i]->ev.clock > x->last_ts)
			x->last_ts = f->hosts[i]->ev.clock;
}

static void
on_idle(struct pk_filter *f)
{
	housekeeping(f->arg);
}

static void
on_reload(struct pk_filter *f)
{
	reload(f->arg);
}

void
alert_filter_init(struct alert_ctx *x)
{
	struct pk_filter *f = &x->f;

	pk_filter_init(f);
	f->span = STEP_SPAN;
	f->span_name = "a minute";
	f->late_verb = "evaluated";
	f->step_what = "timers";
	f->idle_ms = 200;
	f->arg = x;
	f->on_record = on_record;
	f->on_host = on_host;
	f->on_step = on_step;
	f->on_idle = on_idle;
	f->on_reload = on_reload;
	f->bad.strict = x->o->strict;
	filter_types(x);
}

void
alert_filter_release(struct alert_ctx *x)
{
	size_t i;

	for (i = 0; i < x->cfg->nrules; i++) {
		const struct rule *r = &x->cfg->rules[i];

		if (r->evicted > 0 || r->dropped > 0)
			pk_warn("rule '%s': %lu label sets forgotten (the oldest "
			    "inactive), %lu dropped (all %d active)", r->name,
			    r->evicted, r->dropped, INST_MAX);
	}

	for (i = 0; i < x->f.nhosts; i++) {
		struct hoststate *hs = x->f.hosts[i]->user;

		free(hs->insts);
		free(hs);
	}
	pk_filter_release(&x->f);
}
