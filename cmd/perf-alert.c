/* SPDX-License-Identifier: MIT */
/*
 * perf-alert: alert rules over perfkit records, on event time, with
 * escalation, acknowledgement, flap detection, and delivery through an
 * on-disk spool to webhooks, Alertmanager, SMTP and commands.
 *
 * The record loop scans each line with pk_jscan (only the paths the rules
 * use), passes it through unchanged and emits an `alert` record per
 * transition. Notifications are written to the spool (one fsync'd file
 * each) and handed to a delivery thread that retries them with backoff
 * until a receiver accepts them; the spool file is removed only then.
 * When the disk fails, notifications and history lines wait in memory
 * (bounded by MEMCAP) and are written once it recovers: never fatal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "pk_hash.h"
#include "pk_alert_expr.h"
#include "pk_alert_send.h"
#include "pk_alert_spool.h"
#include "pk_err.h"
#include "pk_evclock.h"
#include "pk_io.h"
#include "pk_jscan.h"
#include "pk_jsonl.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_time.h"
#include "pk_yaml.h"

static const char usage_str[] =
    "usage: perf-alert [-hnu] [-c config] [-s statedir] [-w wait] [--strict]\n"
    "                  [file ...]\n"
    "       perf-alert ack [-c config] [-s statedir] [-m comment] id ...\n"
    "       perf-alert stats [-c config] [-s statedir]\n";

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "message", required_argument, NULL, 'm' },
	{ "check", no_argument, NULL, 'n' },
	{ "state-dir", required_argument, NULL, 's' },
	{ "unbuffered", no_argument, NULL, 'u' },
	{ "wait", required_argument, NULL, 'w' },
	{ "strict", no_argument, NULL, 'S' },
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
};

struct alert_opts {
	const char *config;
	const char *state_dir;
	const char *message;
	int check;
	int unbuffered;
	int strict;
	double wait_s;
};

enum { ST_INACTIVE, ST_PENDING, ST_FIRING };
static const char *const statenames[] = { "inactive", "pending", "firing" };
enum { RX_WEBHOOK, RX_ALERTMANAGER, RX_EMAIL, RX_COMMAND };

#define MAXRX 16
#define STRLEN 128
#define MAXBLOCKED 64
/* A record this far behind the newest ts, three in a row: a clock step. */
#define STEP_SPAN 60.0

struct match {
	char *path;
	char *val;
	int id;
};

struct inst {
	char host[STRLEN], comp[STRLEN];
	char fp[17];
	int state;
	double since;		/* pending or firing start, event time */
	double clear_since;	/* clear condition held since, NAN if not */
	double value;
	int sev, esc;
	double next_esc;
	int acked;
	double last_rx[MAXRX];	/* last notification per receiver */
	struct pk_alert_flap flap;
	int notified;		/* the state last notified (flap hold) */
};

struct rule {
	char *name;
	struct pk_alert_cond when, clear;
	int has_clear;
	double for_s, clear_for_s;
	int sev;
	struct match *match;
	size_t nmatch;
	int value_id;
	json_t *labels, *annotations;
	double esc_after;
	int esc_max;
	double absent_s;
	int flap;
	/* runtime */
	struct inst *insts;
	size_t ninst, capinst;
	double absent_seen;	/* wall clock of the last matching record */
};

struct receiver {
	char *name;
	int kind;
	char **urls;
	size_t nurls;
	int min_sev;
	json_t *labels;		/* route: labels that must be equal */
	double repeat_s, rate_per_min, timeout_s, resend_s;
	char *from, *user, *pass_env, *pass_file, *command, *ca_file;
	char **to;
	size_t nto;
	int starttls;
	/* delivery thread state */
	double tokens, tok_at;
	json_t *active;		/* alertmanager: fingerprint -> alert */
	double next_resend;
};

struct config {
	char *state_dir;
	double retry_min, retry_max, flap_low, flap_high;
	struct rule *rules;
	size_t nrules;
	struct receiver *rx;
	size_t nrx;
	struct pk_jpaths ps;
	int id_ts, id_host, id_comp;
	int refs;		/* under the delivery mutex */
};

/*
 * Notifications and history lines held in memory while the state
 * directory's disk fails (full, read-only, I/O errors), each queue at most
 * this long; beyond it they are dropped, counted and reported.
 */
#define MEMCAP 10000

struct job {
	struct pk_alert_spool_entry e;	/* e.file NULL: not in the spool yet */
	unsigned long seq;		/* for its spool file's name */
	int attempts;
	double next_try;	/* monotonic */
	struct job *next;
};

struct deliv {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	struct config *cfg;
	int quit, busy, started;
	atomic_int stopping;	/* abort transfers in progress: we are exiting */
	/*
	 * Jobs not yet in the spool (a write failed): they are delivered
	 * from memory meanwhile and written, in queue order, once a second
	 * by the delivery thread until the spool takes them.
	 */
	unsigned long unspooled, dropped, dropped_ep, nospool_lost;
	double next_spool;
	int diskerr;		/* a spool write failed at some point */
	char spool[4096];
	pthread_t th;
};

struct alert_ctx {
	struct alert_opts *o;
	const char *config_path;
	struct config *cfg;
	struct deliv d;
	struct pk_bad bad;
	struct pk_jval *vals;
	double last_ts, next_tick, next_scan;
	struct pk_evclock ev;	/* clock steps: see pk_evclock.h */
	unsigned long nrec, seq;
	int hist_fd;
	char **hpend;		/* history lines not written yet, in order */
	size_t nhpend;
	unsigned long hdropped;
	int hist_failing, state_failing, diskerr;
	char ackdir[4096];
	char statefile[4096];
	int dirty;
	double next_save;
};

/* ---------- configuration ---------- */

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
	free(r->insts);
}

static void
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
	strv_free(x->urls, x->nurls);
	strv_free(x->to, x->nto);
	json_decref(x->labels);
	json_decref(x->active);
	free(x->from);
	free(x->user);
	free(x->pass_env);
	free(x->pass_file);
	free(x->command);
	free(x->ca_file);
}

static void
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
	free(c->state_dir);
	free(c);
}

static int
get_str(struct pk_ydoc *doc, const struct pk_ynode *map, const char *key,
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

static int
get_dur(struct pk_ydoc *doc, const struct pk_ynode *map, const char *key,
    double min, double *out)
{
	const struct pk_ynode *n = pk_ymap_get(map, key);

	if (n == NULL)
		return 0;
	return pk_ynode_duration(doc, n, min, 1e9, out);
}

static int
get_sev(struct pk_ydoc *doc, const struct pk_ynode *map, const char *key,
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
static int
get_strv(struct pk_ydoc *doc, const struct pk_ynode *map, const char *key,
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
static int
get_strmap(struct pk_ydoc *doc, const struct pk_ynode *map, const char *key,
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
	if (get_str(doc, n, "name", &r->name) == -1)
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
	err |= get_dur(doc, n, "absent", 0.001, &r->absent_s);
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
	err |= get_dur(doc, n, "for", 0, &r->for_s);
	err |= get_dur(doc, n, "clear_for", 0, &r->clear_for_s);
	err |= get_sev(doc, n, "severity", &r->sev);
	if ((v = pk_ymap_get(n, "value")) != NULL) {
		if (pk_ynode_str(doc, v, &s) == -1)
			return -1;
		if ((r->value_id = pk_jpaths_add(&c->ps, s)) < 0)
			return pk_yerror(doc, v, "bad path '%s'", s);
	}
	json_decref(r->labels);
	json_decref(r->annotations);
	err |= get_strmap(doc, n, "labels", &r->labels);
	err |= get_strmap(doc, n, "annotations", &r->annotations);
	if ((v = pk_ymap_get(n, "flap")) != NULL)
		err |= pk_ynode_bool(doc, v, &r->flap);
	if ((m = pk_ymap_get(n, "escalate")) != NULL) {
		if (pk_ynode_expect(doc, m, PK_YMAP, "escalate") == -1 ||
		    pk_ymap_check(doc, m, "escalate", esckeys) > 0)
			return -1;
		if (pk_ymap_get(m, "after") == NULL)
			return pk_yerror(doc, m, "escalate needs 'after'");
		err |= get_dur(doc, m, "after", 0.001, &r->esc_after);
		err |= get_sev(doc, m, "max", &r->esc_max);
	}
	return err ? -1 : 0;
}

static int
parse_receiver(struct pk_ydoc *doc, const struct pk_ynode *n,
    struct receiver *x)
{
	static const char *const keys[] = { "name", "type", "url", "urls",
		"severity", "labels", "repeat_interval", "rate_limit",
		"timeout", "resend_interval", "from", "to", "username",
		"password_env", "password_file", "starttls", "ca_file", "command",
		NULL };
	const struct pk_ynode *v;
	const char *s;
	int err = 0;

	x->timeout_s = 10;
	x->resend_s = 60;
	if (pk_ynode_expect(doc, n, PK_YMAP, "receiver") == -1 ||
	    pk_ymap_check(doc, n, "receiver", keys) > 0)
		return -1;
	if (pk_ymap_get(n, "name") == NULL)
		return pk_yerror(doc, n, "a receiver needs a name");
	if ((v = pk_ymap_get(n, "type")) == NULL)
		return pk_yerror(doc, n, "a receiver needs a type");
	if (pk_ynode_str(doc, v, &s) == -1)
		return -1;
	if (strcmp(s, "webhook") == 0)
		x->kind = RX_WEBHOOK;
	else if (strcmp(s, "alertmanager") == 0)
		x->kind = RX_ALERTMANAGER;
	else if (strcmp(s, "email") == 0)
		x->kind = RX_EMAIL;
	else if (strcmp(s, "command") == 0)
		x->kind = RX_COMMAND;
	else
		return pk_yerror(doc, v, "unknown receiver type '%s' (webhook, "
		    "alertmanager, email, command)", s);
	err |= get_str(doc, n, "name", &x->name);
	err |= get_strv(doc, n, "url", &x->urls, &x->nurls);
	if (x->nurls == 0)
		err |= get_strv(doc, n, "urls", &x->urls, &x->nurls);
	err |= get_sev(doc, n, "severity", &x->min_sev);
	err |= get_strmap(doc, n, "labels", &x->labels);
	err |= get_dur(doc, n, "repeat_interval", 0, &x->repeat_s);
	err |= get_dur(doc, n, "timeout", 0.001, &x->timeout_s);
	err |= get_dur(doc, n, "resend_interval", 0.1, &x->resend_s);
	if ((v = pk_ymap_get(n, "rate_limit")) != NULL)
		err |= pk_ynode_double(doc, v, 0.001, 1e9, &x->rate_per_min);
	err |= get_str(doc, n, "from", &x->from);
	err |= get_strv(doc, n, "to", &x->to, &x->nto);
	err |= get_str(doc, n, "username", &x->user);
	err |= get_str(doc, n, "password_env", &x->pass_env);
	err |= get_str(doc, n, "password_file", &x->pass_file);
	err |= get_str(doc, n, "command", &x->command);
	err |= get_str(doc, n, "ca_file", &x->ca_file);
	if ((v = pk_ymap_get(n, "starttls")) != NULL)
		err |= pk_ynode_bool(doc, v, &x->starttls);
	if (err)
		return -1;
	if (x->kind != RX_COMMAND && x->nurls == 0)
		return pk_yerror(doc, n, "receiver '%s' needs a url", x->name);
	if (x->kind != RX_ALERTMANAGER && x->nurls > 1)
		return pk_yerror(doc, n, "receiver '%s' takes one url", x->name);
	if (x->kind == RX_COMMAND && x->command == NULL)
		return pk_yerror(doc, n, "receiver '%s' needs a command", x->name);
	if (x->kind == RX_EMAIL && (x->from == NULL || x->nto == 0))
		return pk_yerror(doc, n, "receiver '%s' needs from and to",
		    x->name);
	x->active = json_object();
	x->tokens = x->rate_per_min;
	return 0;
}

static struct config *
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
	c->id_ts = pk_jpaths_add(&c->ps, "ts");
	c->id_host = pk_jpaths_add(&c->ps, "host");
	c->id_comp = pk_jpaths_add(&c->ps, "component");
	root = doc->root;
	if (root == NULL) {
		pk_yerror(doc, NULL, "empty configuration");
		goto fail;
	}
	if (pk_ynode_expect(doc, root, PK_YMAP, "configuration") == -1 ||
	    pk_ymap_check(doc, root, "configuration", keys) > 0)
		goto fail;
	err |= get_str(doc, root, "state_dir", &c->state_dir);
	err |= get_dur(doc, root, "retry_min", 0.001, &c->retry_min);
	err |= get_dur(doc, root, "retry_max", 0.001, &c->retry_max);
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
		if (parse_rule(doc, c, v->items[i], &c->rules[i]) == -1)
			goto fail;
	}
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
	c->refs = 1;
	return c;
fail:
	pk_yaml_free(doc);
	config_free(c);
	return NULL;
}

/* ---------- spool and delivery ---------- */

static void
job_free(struct job *j)
{
	pk_alert_spool_entry_release(&j->e);
	free(j);
}

static void
cfg_put(struct deliv *d, struct config *c)
{
	int last;

	pthread_mutex_lock(&d->mu);
	last = --c->refs == 0;
	pthread_mutex_unlock(&d->mu);
	if (last)
		config_free(c);
}

static struct receiver *
find_rx(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nrx; i++)
		if (strcmp(c->rx[i].name, name) == 0)
			return &c->rx[i];
	return NULL;
}

/* The Alertmanager API v2 form: firing ones valid for 4 resend intervals. */
static json_t *
am_alert(const json_t *a, double resend_s)
{
	return pk_alert_am(a, pk_now() + 4 * resend_s);
}

static int
deliver_am(struct receiver *x, const struct job *j, atomic_int *stopping,
    char *err, size_t errsize)
{
	json_t *arr = json_array(), *al = am_alert(j->e.alert, x->resend_s);
	const char *fp = json_string_value(json_object_get(j->e.alert,
	    "fingerprint"));
	const char *state = json_string_value(json_object_get(j->e.alert,
	    "state"));
	char url[2048], *body;
	int r;

	json_array_append(arr, al);
	body = json_dumps(arr, JSON_COMPACT);
	snprintf(url, sizeof(url), "%s/api/v2/alerts", x->urls[j->e.peer]);
	r = pk_alert_http_post(url, body, NULL, x->timeout_s, stopping, err,
	    errsize);
	free(body);
	json_decref(arr);
	if (r == 0 && fp != NULL && state != NULL) {
		if (strcmp(state, "resolved") == 0)
			json_object_del(x->active, fp);
		else
			json_object_set(x->active, fp, j->e.alert);
	}
	json_decref(al);
	return r;
}

static int
read_secret(const struct receiver *x, char *buf, size_t size)
{
	const char *e;
	char *s;
	size_t n;

	buf[0] = '\0';
	if (x->pass_env != NULL && (e = getenv(x->pass_env)) != NULL) {
		snprintf(buf, size, "%s", e);
		return 0;
	}
	if (x->pass_file != NULL) {
		if (pk_read_file(x->pass_file, &s, &n) == -1)
			return -1;
		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
			s[--n] = '\0';
		snprintf(buf, size, "%s", s);
		free(s);
	}
	return 0;
}

static int
deliver_email(struct receiver *x, const struct job *j, atomic_int *stopping,
    char *err, size_t errsize)
{
	const json_t *a = j->e.alert;
	char date[64], pass[512];
	struct pk_alert_smtp smtp;
	const char *k;
	json_t *v;
	char *msg = NULL, *js;
	size_t msglen = 0, i;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int rc;

	if (read_secret(x, pass, sizeof(pass)) == -1) {
		snprintf(err, errsize, "cannot read '%s': %s", x->pass_file,
		    strerror(errno));
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if ((f = open_memstream(&msg, &msglen)) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	fprintf(f, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, x->from);
	for (i = 0; i < x->nto; i++)
		fprintf(f, "%s<%s>", i ? ", " : "", x->to[i]);
	fprintf(f, "\r\nMessage-ID: <%s@perf-alert>\r\n", j->e.key);
	fprintf(f, "Subject: [%s] %s %s on %s\r\n",
	    json_string_value(json_object_get(a, "severity")),
	    json_string_value(json_object_get(a, "rule")),
	    json_string_value(json_object_get(a, "state")),
	    json_string_value(json_object_get(a, "host")));
	fprintf(f, "MIME-Version: 1.0\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nX-Perf-Alert-Key: %s\r\n\r\n", j->e.key);
	json_object_foreach((json_t *)json_object_get(a, "annotations"), k, v)
		fprintf(f, "%s: %s\r\n", k, json_string_value(v));
	js = json_dumps(a, JSON_COMPACT);
	fprintf(f, "\r\n%s\r\n", js);
	free(js);
	fclose(f);
	smtp.url = x->urls[0];
	smtp.from = x->from;
	smtp.to = x->to;
	smtp.nto = x->nto;
	smtp.user = x->user;
	smtp.password = pass;
	smtp.ca_file = x->ca_file;
	smtp.starttls = x->starttls;
	smtp.timeout = x->timeout_s;
	rc = pk_alert_smtp_send(&smtp, msg, msglen, stopping, err, errsize);
	free(msg);
	memset(pass, 0, sizeof(pass));
	return rc;
}

static int
deliver_command(struct receiver *x, const struct job *j, atomic_int *stopping,
    char *err, size_t errsize)
{
	const json_t *a = j->e.alert;
	static const char *const fields[] = { "rule", "state", "severity",
		"host", "fingerprint", NULL };
	char *envp[8], *body;
	size_t nenv = 0, i;
	int rc, k;

	for (k = 0; fields[k] != NULL; k++) {
		const char *v = json_string_value(json_object_get(a, fields[k]));
		char *e, up[32];
		size_t m;

		for (m = 0; fields[k][m] != '\0' && m < sizeof(up) - 1; m++)
			up[m] = (char)(fields[k][m] - 'a' + 'A');
		up[m] = '\0';
		if (asprintf(&e, "PERF_ALERT_%s=%s", up, v ? v : "") == -1)
			pk_die(PK_EXIT_IO, "out of memory");
		envp[nenv++] = e;
	}
	if (asprintf(&envp[nenv++], "PERF_ALERT_KEY=%s", j->e.key) == -1)
		pk_die(PK_EXIT_IO, "out of memory");
	envp[nenv] = NULL;
	body = json_dumps(a, JSON_COMPACT);
	rc = pk_alert_command(x->command, envp, body, strlen(body),
	    x->timeout_s, stopping, err, errsize);
	free(body);
	for (i = 0; i < nenv; i++)
		free(envp[i]);
	return rc;
}

static int
deliver(struct receiver *x, const struct job *j, atomic_int *stopping,
    char *err, size_t errsize)
{
	char *body;
	int r;

	switch (x->kind) {
	case RX_WEBHOOK:
		body = json_dumps(j->e.alert, JSON_COMPACT);
		r = pk_alert_http_post(x->urls[0], body, j->e.key, x->timeout_s,
		    stopping, err, errsize);
		free(body);
		return r;
	case RX_ALERTMANAGER:
		return deliver_am(x, j, stopping, err, errsize);
	case RX_EMAIL:
		return deliver_email(x, j, stopping, err, errsize);
	default:
		return deliver_command(x, j, stopping, err, errsize);
	}
}

/* Resend the active alerts to every Alertmanager peer, before they expire. */
static void
am_resend(struct receiver *x, atomic_int *stopping)
{
	json_t *arr = json_array(), *v;
	const char *k;
	char url[2048], err[256], *body;
	size_t p;

	json_object_foreach(x->active, k, v)
		json_array_append_new(arr, am_alert(v, x->resend_s));
	if (json_array_size(arr) > 0) {
		body = json_dumps(arr, JSON_COMPACT);
		for (p = 0; p < x->nurls; p++) {
			snprintf(url, sizeof(url), "%s/api/v2/alerts",
			    x->urls[p]);
			if (pk_alert_http_post(url, body, NULL, x->timeout_s,
			    stopping, err, sizeof(err)) == -1)
				pk_warn("%s: resend to %s failed: %s", x->name,
				    x->urls[p], err);
		}
		free(body);
	}
	json_decref(arr);
}

/* Whether the receiver's rate limit allows one more now (token bucket). */
static int
rate_ok(struct receiver *x, double now)
{
	if (x->rate_per_min <= 0)
		return 1;
	if (x->tok_at == 0)
		x->tok_at = now;
	x->tokens += (now - x->tok_at) * x->rate_per_min / 60;
	if (x->tokens > x->rate_per_min)
		x->tokens = x->rate_per_min;
	x->tok_at = now;
	return x->tokens >= 1;
}

/*
 * Write the jobs that are not in the spool yet, in queue order, stopping
 * at the first failure. Called with the mutex held, by the delivery
 * thread only (the one that removes jobs or delivers them), at a time
 * when none is being delivered; the mutex is let go for each write.
 * 1 if it let go of the mutex (the queue may have changed).
 */
static int
spool_retry(struct deliv *d, double now)
{
	struct pk_alert_spool_entry ne;
	struct job *j;
	unsigned long done = 0;
	int r = 0, err = 0;

	for (j = d->head; j != NULL && d->unspooled > 0; j = j->next) {
		if (j->e.file != NULL)
			continue;
		pthread_mutex_unlock(&d->mu);
		r = pk_alert_spool_write(d->spool, j->seq, j->e.receiver,
		    j->e.peer, j->e.key, j->e.alert, &ne);
		err = errno;
		pthread_mutex_lock(&d->mu);
		if (r == -1)
			break;
		j->e.file = ne.file;
		ne.file = NULL;
		pk_alert_spool_entry_release(&ne);
		d->unspooled--;
		done++;
	}
	d->next_spool = pk_mono() + 1;
	if (d->unspooled == 0) {
		pk_warn("the spool '%s' takes writes again: %lu notifications "
		    "written from memory%s", d->spool, done,
		    d->dropped_ep ? "" : ", none lost");
		if (d->dropped_ep > 0)
			pk_warn("%lu notifications were dropped while the spool "
			    "could not be written (more than %d held in memory)",
			    d->dropped_ep, MEMCAP);
		d->dropped_ep = 0;
		pthread_cond_broadcast(&d->cv);
	}
	(void)now;
	(void)err;
	return 1;
}

static void *
deliv_main(void *arg)
{
	struct deliv *d = arg;
	struct { struct receiver *x; int peer; } blocked[MAXBLOCKED];
	size_t nblocked;
	char err[512];

	pthread_mutex_lock(&d->mu);
	while (!d->quit) {
		struct config *cfg = d->cfg;
		struct job *j, *prev = NULL;
		struct receiver *x = NULL;
		double now = pk_mono(), wake = now + 0.2;
		size_t i;
		int ok;

		if (d->unspooled > 0 && now >= d->next_spool &&
		    spool_retry(d, now))
			continue;
		for (i = 0; i < cfg->nrx; i++) {
			x = &cfg->rx[i];
			if (x->kind != RX_ALERTMANAGER)
				continue;
			if (x->next_resend == 0)
				x->next_resend = now + x->resend_s;
			if (now >= x->next_resend) {
				x->next_resend = now + x->resend_s;
				cfg->refs++;
				pthread_mutex_unlock(&d->mu);
				am_resend(x, &d->stopping);
				cfg_put(d, cfg);
				pthread_mutex_lock(&d->mu);
				goto again;
			}
		}
		/*
		 * The first due job whose target (receiver and peer) has no
		 * earlier job waiting: each target sees its notifications in
		 * order, so a retried "firing" never overtakes its "resolved".
		 */
		nblocked = 0;
		for (j = d->head; j != NULL; prev = j, j = j->next) {
			size_t b;

			x = find_rx(cfg, j->e.receiver);
			if (x == NULL) {
				/* Gone from the configuration: keep its file. */
				pk_warn("no receiver '%s' any more: '%s' stays "
				    "in the spool", j->e.receiver, j->e.file);
				if (prev == NULL)
					d->head = j->next;
				else
					prev->next = j->next;
				if (d->tail == j)
					d->tail = prev;
				job_free(j);
				goto again;
			}
			for (b = 0; b < nblocked; b++)
				if (blocked[b].x == x &&
				    blocked[b].peer == j->e.peer)
					break;
			if (b < nblocked)
				continue;
			if (j->next_try > now || !rate_ok(x, now)) {
				double t = j->next_try > now ? j->next_try :
				    now + (1 - x->tokens) * 60 / x->rate_per_min;

				if (t < wake)
					wake = t;
				if (nblocked < MAXBLOCKED) {
					blocked[nblocked].x = x;
					blocked[nblocked++].peer = j->e.peer;
				}
				continue;
			}
			break;
		}
		if (j == NULL) {
			struct timespec ts;
			double w = wake - now;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (w < 0.001)
				w = 0.001;
			ts.tv_sec += (time_t)w;
			ts.tv_nsec += (long)((w - floor(w)) * 1e9);
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
			continue;
		}
		/*
		 * The job stays in the queue, in its place, while it is being
		 * delivered: only this thread removes jobs.
		 */
		if (x->rate_per_min > 0)
			x->tokens -= 1;
		d->busy++;
		cfg->refs++;
		pthread_mutex_unlock(&d->mu);
		ok = deliver(x, j, &d->stopping, err, sizeof(err)) == 0;
		if (ok && j->e.file != NULL) {
			if (pk_alert_spool_remove(&j->e) == -1)
				pk_warn_errno("cannot remove '%s'", j->e.file);
		} else {
			double back = cfg->retry_min * pow(2, j->attempts);

			if (j->attempts < 3 || j->attempts % 10 == 0)
				pk_warn("%s: delivery of %s failed (attempt "
				    "%d): %s", j->e.receiver, j->e.key,
				    j->attempts + 1, err);
			if (back > cfg->retry_max)
				back = cfg->retry_max;
			j->attempts++;
			j->next_try = pk_mono() + back;
		}
		cfg_put(d, cfg);
		pthread_mutex_lock(&d->mu);
		d->busy--;
		if (ok) {
			struct job **pp = &d->head, *q = NULL;

			/* Delivered from memory: nothing left to spool. */
			if (j->e.file == NULL)
				d->unspooled--;

			while (*pp != j) {
				q = *pp;
				pp = &(*pp)->next;
			}
			*pp = j->next;
			if (d->tail == j)
				d->tail = q;
			job_free(j);
		}
		pthread_cond_broadcast(&d->cv);
again:
		;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static void
deliv_push(struct deliv *d, struct job *j)
{
	pthread_mutex_lock(&d->mu);
	if (d->tail == NULL)
		d->head = j;
	else
		d->tail->next = j;
	d->tail = j;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

/* Queue what a previous run left in the spool, oldest first. */
static void
spool_recover(struct deliv *d)
{
	char **paths, why[256];
	size_t n, i;

	if (pk_alert_spool_list(d->spool, &paths, &n) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot read the spool '%s'", d->spool);
	for (i = 0; i < n; i++) {
		struct job *j = pk_xcalloc(1, sizeof(*j));

		if (pk_alert_spool_read(paths[i], &j->e, why, sizeof(why)) == -1) {
			pk_warn("%s: %s (left in place)", paths[i], why);
			free(j);
		} else {
			deliv_push(d, j);
		}
		free(paths[i]);
	}
	free(paths);
}

/* ---------- state directory ---------- */

static void
mkdir_p(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		pk_die_errno(PK_EXIT_IO, "cannot create '%s'", path);
}

/*
 * Write the history lines held in memory, in order. Not while a
 * notification waits in memory for the spool (unless force, at exit): the
 * spool before the history, so that a crash never leaves a history line
 * whose notification is nowhere. A failed write is cut back off the file
 * (no torn line), reported once per episode and retried on the next call
 * (each record's transition and the idle tick).
 */
static void
hist_flush(struct alert_ctx *x, int force)
{
	size_t i = 0;
	unsigned long held;

	if (x->nhpend == 0)
		return;
	if (!force) {
		pthread_mutex_lock(&x->d.mu);
		held = x->d.unspooled;
		pthread_mutex_unlock(&x->d.mu);
		if (held > 0)
			return;
	}
	for (; i < x->nhpend; i++) {
		size_t n = strlen(x->hpend[i]);
		off_t end = lseek(x->hist_fd, 0, SEEK_END);
		ssize_t w = write(x->hist_fd, x->hpend[i], n);

		if (w == (ssize_t)n && fdatasync(x->hist_fd) == 0)
			continue;
		if (w >= 0)
			errno = w == (ssize_t)n ? errno : ENOSPC;
		if (!x->hist_failing)
			pk_warn_errno("cannot append to the history (lines kept "
			    "in memory, at most %d, and retried)", MEMCAP);
		if (end != (off_t)-1 && w > 0) {
			int e = errno;

			if (ftruncate(x->hist_fd, end) == -1)
				pk_warn_errno("cannot cut a torn line off the "
				    "history");
			errno = e;
		}
		x->hist_failing = 1;
		x->diskerr = 1;
		break;
	}
	if (i == x->nhpend && x->hist_failing) {
		pk_warn("the history takes writes again: %zu lines written "
		    "from memory, %lu dropped", i, x->hdropped);
		x->hist_failing = 0;
		x->hdropped = 0;
	}
	for (size_t k = 0; k < i; k++)
		free(x->hpend[k]);
	memmove(x->hpend, x->hpend + i, (x->nhpend - i) * sizeof(*x->hpend));
	x->nhpend -= i;
}

static void
hist_append(struct alert_ctx *x, const json_t *rec)
{
	char *s;
	size_t n;

	if (x->hist_fd == -1)
		return;
	x->dirty = 1;
	s = json_dumps(rec, JSON_COMPACT);
	if (s == NULL || (s = realloc(s, (n = strlen(s)) + 2)) == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	s[n] = '\n';
	s[n + 1] = '\0';
	if (x->nhpend >= MEMCAP) {
		if (x->hdropped++ == 0)
			pk_warn("more than %d history lines wait for the disk: "
			    "dropping new ones (counted)", MEMCAP);
		free(s);
	} else {
		if (x->hpend == NULL)
			x->hpend = pk_xcalloc(MEMCAP, sizeof(*x->hpend));
		x->hpend[x->nhpend++] = s;
	}
	hist_flush(x, 0);
}

/* ---------- the rules ---------- */

struct tplctx {
	const struct rule *r;
	const struct inst *in;
	char buf[64];
};

static const char *
tpl_lookup(const char *name, size_t len, void *arg)
{
	struct tplctx *t = arg;

#define IS(s) (len == sizeof(s) - 1 && strncmp(name, s, len) == 0)
	if (IS("value") || IS("threshold")) {
		double v = IS("value") ? t->in->value :
		    pk_alert_cond_threshold(&t->r->when);

		if (isnan(v))
			return "";
		snprintf(t->buf, sizeof(t->buf), "%.6g", v);
		return t->buf;
	}
	if (IS("host"))
		return t->in->host;
	if (IS("component"))
		return t->in->comp;
	if (IS("rule"))
		return t->r->name;
	if (IS("severity"))
		return pk_alert_severity_name(t->in->sev);
	if (IS("fingerprint"))
		return t->in->fp;
	if (len > 7 && strncmp(name, "labels.", 7) == 0) {
		snprintf(t->buf, sizeof(t->buf), "%.*s", (int)(len - 7),
		    name + 7);
		return json_string_value(json_object_get(t->r->labels, t->buf));
	}
#undef IS
	return NULL;
}

static json_t *
alert_record(const struct rule *r, const struct inst *in, const char *event,
    double ts)
{
	json_t *o = json_object(), *labels, *ann;
	const char *state = in->state == ST_PENDING ? "pending" :
	    in->state == ST_FIRING ? "firing" : "resolved";
	struct tplctx t = { r, in, "" };
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
	json_object_set_new(labels, "alertname", json_string(r->name));
	json_object_set_new(labels, "host", json_string(in->host));
	if (in->comp[0] != '\0')
		json_object_set_new(labels, "component", json_string(in->comp));
	json_object_set_new(o, "labels", labels);
	ann = json_object();
	json_object_foreach(r->annotations, k, v) {
		pk_alert_template(json_string_value(v), tpl_lookup, &t, buf,
		    sizeof(buf));
		json_object_set_new(ann, k, json_string(buf));
	}
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
	return o;
}

static int
rx_routes(const struct receiver *x, const json_t *rec)
{
	const json_t *labels = json_object_get(rec, "labels");
	const char *k;
	json_t *v;
	int sev = pk_alert_severity(json_string_value(json_object_get(rec,
	    "severity")));

	if (sev < x->min_sev)
		return 0;
	json_object_foreach(x->labels, k, v) {
		const char *have = json_string_value(json_object_get(labels, k));

		if (have == NULL || strcmp(have, json_string_value(v)) != 0)
			return 0;
	}
	return 1;
}

/* Spool one notification for one receiver (one per Alertmanager peer). */
static void
spool_one(struct alert_ctx *x, const struct receiver *r, const json_t *rec,
    const char *key)
{
	size_t p, npeer = r->kind == RX_ALERTMANAGER ? r->nurls : 1;

	for (p = 0; p < npeer; p++) {
		struct job *j = pk_xcalloc(1, sizeof(*j));
		struct deliv *d = &x->d;
		unsigned long held;
		int err;

		j->seq = ++x->seq;
		/*
		 * While earlier ones wait in memory this one waits behind
		 * them, so that the spool's order (its files' names) stays
		 * the order of the transitions.
		 */
		pthread_mutex_lock(&d->mu);
		held = d->unspooled;
		pthread_mutex_unlock(&d->mu);
		if (held == 0 && pk_alert_spool_write(d->spool, j->seq, r->name,
		    (int)p, key, rec, &j->e) == 0) {
			deliv_push(d, j);
			continue;
		}
		err = errno;
		j->e.receiver = pk_xstrdup(r->name);
		j->e.key = pk_xstrdup(key);
		j->e.peer = (int)p;
		if ((j->e.alert = json_deep_copy(rec)) == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		x->diskerr = 1;
		pthread_mutex_lock(&d->mu);
		if (held == 0 && d->unspooled == 0) {
			errno = err;
			pk_warn_errno("cannot write to the spool '%s'",
			    d->spool);
			pk_warn("notifications wait in memory (at most %d), are "
			    "delivered from there and written to the spool "
			    "once it takes writes", MEMCAP);
			d->next_spool = pk_mono() + 1;
		}
		if (d->unspooled >= MEMCAP) {
			if (d->dropped_ep++ == 0)
				pk_warn("more than %d notifications wait for the "
				    "spool '%s': dropping new ones (counted, "
				    "reported when it recovers and at exit)",
				    MEMCAP, d->spool);
			d->dropped++;
			pthread_mutex_unlock(&d->mu);
			pk_alert_spool_entry_release(&j->e);
			free(j);
			continue;
		}
		d->unspooled++;
		d->diskerr = 1;
		pthread_mutex_unlock(&d->mu);
		deliv_push(d, j);
	}
}

/*
 * Hand a notification to every receiver that routes it; only = -1 for all,
 * else one receiver (a repeat).
 */
static void
notify(struct alert_ctx *x, struct inst *in, const json_t *rec, double ts,
    int only)
{
	struct config *c = x->cfg;
	char key[256];
	size_t i;

	if (in->flap.flapping)
		return;
	snprintf(key, sizeof(key), "%s-%s-%.3f-%d", in->fp,
	    json_string_value(json_object_get(rec, "event")), ts, in->esc);
	for (i = 0; i < c->nrx; i++) {
		if (only >= 0 && (size_t)only != i)
			continue;
		if (!rx_routes(&c->rx[i], rec))
			continue;
		in->last_rx[i] = ts;
		spool_one(x, &c->rx[i], rec, key);
	}
	in->notified = in->state;
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

static struct inst *
inst_get(struct rule *r, const char *host, const char *comp, int create)
{
	struct inst *in;
	size_t i;

	for (i = 0; i < r->ninst; i++)
		if (strcmp(r->insts[i].host, host) == 0 &&
		    strcmp(r->insts[i].comp, comp) == 0)
			return &r->insts[i];
	if (!create)
		return NULL;
	if (r->ninst == r->capinst) {
		r->capinst = r->capinst ? r->capinst * 2 : 4;
		r->insts = realloc(r->insts, r->capinst * sizeof(*r->insts));
		if (r->insts == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
	}
	in = &r->insts[r->ninst++];
	memset(in, 0, sizeof(*in));
	snprintf(in->host, sizeof(in->host), "%s", host);
	snprintf(in->comp, sizeof(in->comp), "%s", comp);
	in->sev = r->sev;
	in->value = NAN;
	in->clear_since = NAN;
	set_fp(r, in);
	return in;
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

static void
eval_rule(struct alert_ctx *x, struct rule *r, const struct pk_jval *vals,
    double ts, char *host, char *comp, int *have_names)
{
	struct config *c = x->cfg;
	struct inst *in;
	double value, cv;
	int cond, clr;
	size_t i;

	for (i = 0; i < r->nmatch; i++)
		if (vals[r->match[i].id].type != PK_JSTR ||
		    !pk_jval_streq(&vals[r->match[i].id], r->match[i].val))
			return;
	if (r->absent_s > 0) {
		r->absent_seen = pk_now();
		if (r->ninst > 0 && r->insts[0].state == ST_FIRING)
			resolve(x, r, &r->insts[0], r->absent_seen);
		return;
	}
	cond = pk_alert_cond_eval(&r->when, vals, &value);
	if (cond < 0 || (cond == 0 && r->ninst == 0))
		return;
	if (!*have_names) {
		if (vals[c->id_host].type == PK_JSTR)
			pk_jval_str(&vals[c->id_host], host, STRLEN);
		else
			host[0] = '\0';
		if (vals[c->id_comp].type == PK_JSTR)
			pk_jval_str(&vals[c->id_comp], comp, STRLEN);
		else
			comp[0] = '\0';
		*have_names = 1;
	}
	in = inst_get(r, host, comp, cond == 1);
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
}

/* Event-time housekeeping: escalation and repeats. */
static void
tick(struct alert_ctx *x, double ts)
{
	struct config *c = x->cfg;
	size_t i, k, n;

	for (i = 0; i < c->nrules; i++) {
		struct rule *r = &c->rules[i];

		for (n = 0; n < r->ninst; n++) {
			struct inst *in = &r->insts[n];

			if (in->state != ST_FIRING || in->acked)
				continue;
			if (r->esc_after > 0 && in->sev < r->esc_max &&
			    ts >= in->next_esc) {
				in->sev++;
				in->esc++;
				in->next_esc = ts + r->esc_after;
				transition(x, r, in, "escalated", ts, 1);
				continue;
			}
			if (in->flap.flapping)
				continue;
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
	}
}

/* Absent-data rules, judged on the wall clock. */
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

		if (r->absent_s <= 0 || now - r->absent_seen < r->absent_s)
			continue;
		for (m = 0; m < r->nmatch; m++)
			if (strcmp(r->match[m].path, "host") == 0)
				host = r->match[m].val;
		in = r->ninst > 0 ? &r->insts[0] : inst_get(r, host, "", 1);
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

		if (e->d_name[0] == '.' || strchr(e->d_name, '.') != NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", x->ackdir, e->d_name);
		a = json_load_file(path, 0, NULL);
		for (i = 0; i < c->nrules; i++) {
			struct rule *r = &c->rules[i];

			for (n = 0; n < r->ninst; n++) {
				struct inst *in = &r->insts[n];
				json_t *rec;
				double ts;

				if (in->state != ST_FIRING || in->acked ||
				    strncmp(in->fp, e->d_name, idlen) != 0)
					continue;
				found++;
				in->acked = 1;
				ts = r->absent_s > 0 ? pk_now() : x->last_ts;
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

static void
reload(struct alert_ctx *x)
{
	struct config *n, *old = x->cfg;
	struct pk_jval *nv;
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
				n->rules[i].absent_seen =
				    old->rules[k].absent_seen;
				old->rules[k].insts = NULL;
				old->rules[k].ninst = 0;
			}
	for (i = 0; i < n->nrules; i++)
		if (n->rules[i].absent_seen == 0)
			n->rules[i].absent_seen = pk_now();
	nv = realloc(x->vals, (size_t)n->ps.npaths * sizeof(*nv));
	if (nv == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	x->vals = nv;
	pthread_mutex_lock(&x->d.mu);
	x->d.cfg = n;
	pthread_mutex_unlock(&x->d.mu);
	x->cfg = n;
	cfg_put(&x->d, old);
	pk_warn("'%s': configuration reloaded (%zu rules, %zu receivers)",
	    x->config_path, n->nrules, n->nrx);
}

/*
 * The alerts in progress, saved atomically to statedir/state.json (at most
 * once a second while they change, and at exit), so that a restart resumes
 * them: a firing alert resolves, escalates and takes acks as before.
 */
static void
state_save(struct alert_ctx *x)
{
	struct config *c = x->cfg;
	json_t *o = json_object(), *arr = json_array();
	size_t i, n;
	char *s;

	for (i = 0; i < c->nrules; i++) {
		const struct rule *r = &c->rules[i];

		for (n = 0; n < r->ninst; n++) {
			const struct inst *in = &r->insts[n];
			json_t *e;

			if (in->state == ST_INACTIVE && !in->flap.flapping)
				continue;
			e = json_pack("{s:s,s:s,s:s,s:s,s:f,s:i,s:i,s:f,s:b,s:i,"
			    "s:I,s:i,s:b}",
			    "rule", r->name, "host", in->host, "component",
			    in->comp, "state", statenames[in->state],
			    "since", in->since,
			    "severity", in->sev, "escalation", in->esc,
			    "next_esc", in->next_esc, "acked", in->acked,
			    "notified", in->notified,
			    "flap_bits", (json_int_t)in->flap.bits,
			    "flap_n", in->flap.n, "flapping", in->flap.flapping);
			if (!isnan(in->value))
				json_object_set_new(e, "value",
				    json_real(in->value));
			json_array_append_new(arr, e);
		}
	}
	json_object_set_new(o, "alerts", arr);
	if (isfinite(x->last_ts))
		json_object_set_new(o, "last_ts", json_real(x->last_ts));
	s = json_dumps(o, JSON_COMPACT);
	/* A failed save keeps the old file whole, and is tried again. */
	if (pk_atomic_write(x->statefile, s, strlen(s), 0600) == -1) {
		if (!x->state_failing)
			pk_warn_errno("cannot write '%s' (retried once a second)",
			    x->statefile);
		x->state_failing = 1;
		x->diskerr = 1;
	} else {
		if (x->state_failing)
			pk_warn("'%s' takes writes again", x->statefile);
		x->state_failing = 0;
		x->dirty = 0;
	}
	free(s);
	json_decref(o);
	x->next_save = pk_mono() + 1;
}

static void
state_load(struct alert_ctx *x)
{
	struct config *c = x->cfg;
	json_error_t e;
	json_t *o, *a;
	size_t i, k;

	if (access(x->statefile, F_OK) == -1)
		return;
	if ((o = json_load_file(x->statefile, 0, &e)) == NULL) {
		pk_warn("%s:%d: %s (alerts in progress not restored)",
		    x->statefile, e.line, e.text);
		return;
	}
	if (json_is_number(json_object_get(o, "last_ts")))
		x->last_ts = json_number_value(json_object_get(o, "last_ts"));
	json_array_foreach(json_object_get(o, "alerts"), i, a) {
		const char *rule = json_string_value(json_object_get(a, "rule"));
		const char *host = json_string_value(json_object_get(a, "host"));
		const char *comp = json_string_value(json_object_get(a,
		    "component"));
		const char *st;
		struct inst *in;
		size_t m;

		if (rule == NULL || host == NULL || comp == NULL)
			continue;
		for (k = 0; k < c->nrules; k++)
			if (strcmp(c->rules[k].name, rule) == 0)
				break;
		if (k == c->nrules)
			continue;	/* the rule is gone */
		in = inst_get(&c->rules[k], host, comp, 1);
		st = json_string_value(json_object_get(a, "state"));
		in->state = ST_INACTIVE;
		for (m = 0; st != NULL && m < 3; m++)
			if (strcmp(st, statenames[m]) == 0)
				in->state = (int)m;
		in->since = json_number_value(json_object_get(a, "since"));
		in->sev = (int)json_integer_value(json_object_get(a, "severity"));
		in->esc = (int)json_integer_value(json_object_get(a,
		    "escalation"));
		in->next_esc = json_number_value(json_object_get(a, "next_esc"));
		in->acked = json_is_true(json_object_get(a, "acked"));
		in->notified = (int)json_integer_value(json_object_get(a,
		    "notified"));
		in->flap.bits = (uint32_t)json_integer_value(json_object_get(a,
		    "flap_bits"));
		in->flap.n = (int)json_integer_value(json_object_get(a,
		    "flap_n"));
		in->flap.flapping = json_is_true(json_object_get(a, "flapping"));
		in->flap.pct = pk_alert_flap_pct(&in->flap);
		if (json_is_number(json_object_get(a, "value")))
			in->value = json_number_value(json_object_get(a,
			    "value"));
		/* Alertmanager forgets them unless they are resent. */
		if (in->state == ST_FIRING) {
			json_t *rec = alert_record(&c->rules[k], in, "firing",
			    in->since);

			for (m = 0; m < c->nrx; m++)
				if (c->rx[m].kind == RX_ALERTMANAGER &&
				    rx_routes(&c->rx[m], rec))
					json_object_set(c->rx[m].active, in->fp,
					    rec);
			json_decref(rec);
		}
	}
	json_decref(o);
}

static void
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

static void
on_idle(void *arg)
{
	housekeeping(arg);
}

/*
 * The clock stepped back by back seconds (pk_evclock): move every timer
 * (pending and firing since, clear_for, escalation, repeats) onto the
 * new timeline, so that no time passes across the step: 'for' neither
 * completes early nor waits for the old timeline to come round again.
 */
static void
rebase(struct alert_ctx *x, double back)
{
	struct config *c = x->cfg;
	size_t i, n, k;

	for (i = 0; i < c->nrules; i++)
		for (n = 0; n < c->rules[i].ninst; n++) {
			struct inst *in = &c->rules[i].insts[n];

			in->since -= back;
			in->clear_since -= back;
			in->next_esc -= back;
			for (k = 0; k < MAXRX; k++)
				in->last_rx[k] -= back;
		}
	x->last_ts = x->ev.clock;
	x->next_tick = x->ev.clock + 1;
}

static void
process_line(struct alert_ctx *x, const char *file, unsigned long lineno,
    const char *line, size_t len)
{
	struct config *c = x->cfg;
	struct pk_jscan_err err;
	const struct pk_jval *tsv;
	char host[STRLEN], comp[STRLEN];
	int have_names = 0;
	double ts, back = 0;
	size_t i;

	if (pk_jscan(&c->ps, line, len, x->vals, &err) == -1) {
		pk_bad_line(&x->bad, file, lineno, "column %zu: %s", err.col,
		    err.msg);
		return;
	}
	tsv = &x->vals[c->id_ts];
	if (tsv->type != PK_JNUM) {
		pk_bad_line(&x->bad, file, lineno, "no numeric 'ts'");
		return;
	}
	ts = pk_jval_num(tsv);
	pk_out_line(line, len);
	if (pk_evclock_see(&x->ev, ts, STEP_SPAN, &back) == PK_EVCLOCK_STEP) {
		if (x->vals[c->id_host].type == PK_JSTR)
			pk_jval_str(&x->vals[c->id_host], host, STRLEN);
		else
			snprintf(host, STRLEN, "-");
		pk_warn("%s: clock stepped back by %.0f s at %s:%lu; timers "
		    "restarted", host, back, file, lineno);
		rebase(x, back);
	}
	if (ts > x->last_ts)
		x->last_ts = ts;
	for (i = 0; i < c->nrules; i++)
		eval_rule(x, &c->rules[i], x->vals, ts, host, comp,
		    &have_names);
	if (x->last_ts >= x->next_tick) {
		tick(x, x->last_ts);
		x->next_tick = x->last_ts + 1;
	}
	if ((++x->nrec & 1023) == 0 && pk_mono() >= x->next_scan)
		housekeeping(x);
}

static int
run_file(struct alert_ctx *x, const char *path)
{
	struct pk_jsonl r;
	char *line;
	size_t len;
	int rc;

	if (pk_jsonl_open(&r, path) == -1) {
		pk_warn_errno("cannot open '%s'", path);
		return -1;
	}
	r.idle_ms = 200;
	r.on_idle = on_idle;
	r.arg = x;
	for (;;) {
		rc = pk_jsonl_next(&r, &line, &len);
		if (rc == PK_JSONL_LINE) {
			process_line(x, r.name, r.lineno, line, len);
			if (pk_reload)
				reload(x);
			continue;
		}
		if (rc == PK_JSONL_TOOLONG) {
			pk_bad_line(&x->bad, r.name, r.lineno, "line too long");
			continue;
		}
		break;
	}
	if (rc == PK_JSONL_ERROR)
		pk_warn_errno("cannot read '%s'", r.name);
	pk_jsonl_release(&r);
	return rc == PK_JSONL_ERROR ? -1 : 0;
}

/* ---------- subcommands ---------- */

static const char *
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

static int
cmd_ack(const struct alert_opts *o, int argc, char **argv)
{
	struct config *cfg;
	const char *dir = state_dir_of(o, &cfg), *user = getenv("USER");
	char path[8192], *s;
	int i, status = PK_EXIT_OK;

	if (argc == 0) {
		pk_warn("ack: no alert id");
		config_free(cfg);
		return PK_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "%s/ack", dir);
	mkdir_p(dir);
	mkdir_p(path);
	for (i = 0; i < argc; i++) {
		const char *id = argv[i];
		json_t *a;
		size_t k, n = strlen(id);

		for (k = 0; k < n; k++)
			if (strchr("0123456789abcdef", id[k]) == NULL)
				break;
		if (n < 4 || n > 16 || k < n) {
			pk_warn("ack: '%s' is not an alert id (4 to 16 hex "
			    "digits of a fingerprint)", id);
			status = PK_EXIT_USAGE;
			continue;
		}
		a = json_object();
		json_object_set_new(a, "id", json_string(id));
		json_object_set_new(a, "wall", json_real(pk_now()));
		json_object_set_new(a, "by", json_string(user ? user : ""));
		if (o->message != NULL)
			json_object_set_new(a, "comment",
			    json_string(o->message));
		s = json_dumps(a, JSON_COMPACT);
		snprintf(path, sizeof(path), "%s/ack/%s", dir, id);
		if (pk_atomic_write(path, s, strlen(s), 0600) == -1) {
			pk_warn_errno("cannot write '%s'", path);
			status = PK_EXIT_IO;
		}
		free(s);
		json_decref(a);
	}
	config_free(cfg);
	return status;
}

struct rstat {
	char *rule;
	unsigned long fired, resolved, acked, escalated;
	unsigned long sev[4];
	double tta, ttr;
};

static int
cmd_stats(const struct alert_opts *o)
{
	struct config *cfg;
	const char *dir = state_dir_of(o, &cfg);
	struct rstat *st = NULL, tot;
	struct pk_jsonl r;
	struct pk_bad bad = { 0, 0 };
	char path[8192], *line;
	size_t len, n = 0, i;
	int rc;

	memset(&tot, 0, sizeof(tot));
	snprintf(path, sizeof(path), "%s/history.jsonl", dir);
	if (pk_jsonl_open(&r, path) == -1) {
		pk_warn_errno("cannot open '%s'", path);
		config_free(cfg);
		return PK_EXIT_IO;
	}
	while ((rc = pk_jsonl_next(&r, &line, &len)) == PK_JSONL_LINE ||
	    rc == PK_JSONL_TOOLONG) {
		json_t *a;
		const char *rule, *ev;
		struct rstat *s;
		int sev;

		if (rc == PK_JSONL_TOOLONG) {
			pk_bad_line(&bad, r.name, r.lineno, "line too long");
			continue;
		}
		if ((a = pk_jsonl_parse(&bad, &r, line, len)) == NULL)
			continue;
		rule = json_string_value(json_object_get(a, "rule"));
		ev = json_string_value(json_object_get(a, "event"));
		sev = pk_alert_severity(json_string_value(json_object_get(a,
		    "severity")) ? json_string_value(json_object_get(a,
		    "severity")) : "");
		if (rule == NULL || ev == NULL || sev < 0) {
			pk_bad_line(&bad, r.name, r.lineno, "not an alert record");
			json_decref(a);
			continue;
		}
		for (i = 0; i < n; i++)
			if (strcmp(st[i].rule, rule) == 0)
				break;
		if (i == n) {
			st = realloc(st, (n + 1) * sizeof(*st));
			if (st == NULL)
				pk_die(PK_EXIT_IO, "out of memory");
			memset(&st[n], 0, sizeof(st[n]));
			st[n++].rule = pk_xstrdup(rule);
		}
		s = &st[i];
		if (strcmp(ev, "firing") == 0) {
			s->fired++;
			s->sev[sev]++;
		} else if (strcmp(ev, "escalated") == 0) {
			s->escalated++;
			s->sev[sev]++;
		} else if (strcmp(ev, "acknowledged") == 0) {
			s->acked++;
			s->tta += json_number_value(json_object_get(a, "tta_s"));
		} else if (strcmp(ev, "resolved") == 0) {
			s->resolved++;
			s->ttr += json_number_value(json_object_get(a,
			    "duration_s"));
		}
		json_decref(a);
	}
	if (rc == PK_JSONL_ERROR)
		pk_die_errno(PK_EXIT_IO, "cannot read '%s'", path);
	pk_jsonl_release(&r);
	tot.rule = (char *)"*";
	for (i = 0; i <= n; i++) {
		struct rstat *s = i < n ? &st[i] : &tot;
		json_t *o2 = json_object(), *bs = json_object();
		int k;

		if (i < n) {
			tot.fired += s->fired;
			tot.resolved += s->resolved;
			tot.acked += s->acked;
			tot.escalated += s->escalated;
			tot.tta += s->tta;
			tot.ttr += s->ttr;
			for (k = 0; k < 4; k++)
				tot.sev[k] += s->sev[k];
		}
		json_object_set_new(o2, "type", json_string("alert_stats"));
		json_object_set_new(o2, "rule", json_string(s->rule));
		json_object_set_new(o2, "fired", json_integer((json_int_t)s->fired));
		json_object_set_new(o2, "escalated",
		    json_integer((json_int_t)s->escalated));
		json_object_set_new(o2, "acknowledged",
		    json_integer((json_int_t)s->acked));
		json_object_set_new(o2, "resolved",
		    json_integer((json_int_t)s->resolved));
		for (k = 0; k < 4; k++)
			if (s->sev[k] > 0)
				json_object_set_new(bs, pk_alert_severity_name(k),
				    json_integer((json_int_t)s->sev[k]));
		json_object_set_new(o2, "by_severity", bs);
		if (s->acked > 0)
			json_object_set_new(o2, "mtta_s",
			    json_real(s->tta / (double)s->acked));
		if (s->resolved > 0)
			json_object_set_new(o2, "mttr_s",
			    json_real(s->ttr / (double)s->resolved));
		pk_emit_json(o2);
		json_decref(o2);
		if (i < n)
			free(s->rule);
	}
	free(st);
	config_free(cfg);
	pk_close_stdout();
	return pk_bad_finish(&bad);
}

/* ---------- main ---------- */

static void
help(void)
{
	pk_help(usage_str,
	    "  -c, --config FILE     the rules and receivers (YAML)\n"
	    "  -m, --message TEXT    ack: a comment recorded with the ack\n"
	    "  -n, --check           check the configuration and exit\n"
	    "  -s, --state-dir DIR   spool, history and acks (overrides state_dir)\n"
	    "  -u, --unbuffered      flush after every record\n"
	    "  -w, --wait DURATION   at the end of input, wait this long for\n"
	    "                        pending deliveries (default 10s)\n"
	    "      --strict          the first bad input line is fatal\n"
	    "  -h, --help            this help\n"
	    "      --version         print the version\n");
}

static int
parse_opts(struct alert_opts *o, int argc, char **argv)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "+c:hm:ns:uw:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'h':
			help();
			break;
		case 'm':
			o->message = optarg;
			break;
		case 'n':
			o->check = 1;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'u':
			o->unbuffered = 1;
			break;
		case 'w':
			o->wait_s = pk_opt_duration(optarg, 0, 86400, "--wait");
			break;
		case 'S':
			o->strict = 1;
			break;
		case PK_OPT_VERSION:
			pk_print_version();
			pk_close_stdout();
			exit(PK_EXIT_OK);
		case PK_OPT_LIST_OPTIONS:
			pk_list_options(longopts);
			puts("ack");
			puts("stats");
			pk_close_stdout();
			exit(PK_EXIT_OK);
		default:
			pk_usage(usage_str);
		}
	}
	return optind;
}

/* Wait until the spool is empty or the time is up. */
static void
drain(struct deliv *d, double wait_s)
{
	double end = pk_mono() + wait_s;

	pthread_mutex_lock(&d->mu);
	while ((d->head != NULL || d->busy > 0) && !pk_stop) {
		struct timespec ts;
		double now = pk_mono();

		if (now >= end)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&d->cv, &d->mu, &ts);
	}
	pthread_mutex_unlock(&d->mu);
}

static void
deliv_start(struct alert_ctx *x)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int e;

	atomic_init(&x->d.stopping, 0);
	pthread_mutex_init(&x->d.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->d.cv, &ca);
	pthread_condattr_destroy(&ca);
	x->d.cfg = x->cfg;
	if (x->d.spool[0] == '\0')
		return;
	spool_recover(&x->d);
	/* Signals are for the record loop, not the delivery thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&x->d.th, NULL, deliv_main, &x->d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		errno = e;
		pk_die_errno(PK_EXIT_IO, "cannot start the delivery thread");
	}
	x->d.started = 1;
}

static void
deliv_stop(struct alert_ctx *x)
{
	struct job *j, *next;
	unsigned long left = 0, lost = 0;

	atomic_store(&x->d.stopping, 1);
	pthread_mutex_lock(&x->d.mu);
	x->d.quit = 1;
	pthread_cond_broadcast(&x->d.cv);
	pthread_mutex_unlock(&x->d.mu);
	if (x->d.started)
		pthread_join(x->d.th, NULL);
	for (j = x->d.head; j != NULL; j = next) {
		next = j->next;
		if (j->e.file == NULL)
			lost++;
		else
			left++;
		job_free(j);
	}
	if (lost > 0 || x->d.dropped > 0)
		pk_warn("%lu notifications neither spooled nor delivered, %lu "
		    "dropped beyond the %d held in memory: lost", lost,
		    x->d.dropped, MEMCAP);
	if (left > 0)
		pk_warn("%lu notifications left in the spool '%s' for the "
		    "next run", left, x->d.spool);
	cfg_put(&x->d, x->d.cfg);
	pthread_cond_destroy(&x->d.cv);
	pthread_mutex_destroy(&x->d.mu);
}

int
main(int argc, char **argv)
{
	struct alert_opts o;
	struct alert_ctx x;
	const char *dir;
	char path[4096];
	int i, status, ioerr = 0, lockfd = -1;

	pk_init(argv[0]);
	memset(&o, 0, sizeof(o));
	o.wait_s = 10;
	if (argc > 1 && (strcmp(argv[1], "ack") == 0 ||
	    strcmp(argv[1], "stats") == 0)) {
		int stats = argv[1][0] == 's';

		i = parse_opts(&o, argc - 1, argv + 1) + 1;
		if (stats && i < argc)
			pk_usage(usage_str);
		return stats ? cmd_stats(&o) : cmd_ack(&o, argc - i, argv + i);
	}
	i = parse_opts(&o, argc, argv);
	if (o.config == NULL) {
		pk_warn("no configuration (-c)");
		pk_usage(usage_str);
	}
	memset(&x, 0, sizeof(x));
	x.o = &o;
	x.config_path = o.config;
	x.hist_fd = -1;
	x.bad.strict = o.strict;
	if ((x.cfg = config_load(o.config)) == NULL)
		return PK_EXIT_USAGE;
	dir = o.state_dir ? o.state_dir : x.cfg->state_dir;
	if (dir == NULL && x.cfg->nrx > 0) {
		pk_warn("'%s': receivers need a state directory for the spool "
		    "(state_dir or -s)", o.config);
		config_free(x.cfg);
		return PK_EXIT_USAGE;
	}
	if (o.check) {
		config_free(x.cfg);
		pk_close_stdout();
		return PK_EXIT_OK;
	}
	pk_out_init(o.unbuffered);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		pk_die(PK_EXIT_IO, "cannot initialise libcurl");
	if (dir != NULL) {
		mkdir_p(dir);
		/* One instance per state directory: the spool has one reader. */
		snprintf(path, sizeof(path), "%s/lock", dir);
		lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lockfd == -1)
			pk_die_errno(PK_EXIT_IO, "cannot open '%s'", path);
		if (flock(lockfd, LOCK_EX | LOCK_NB) == -1)
			pk_die_errno(PK_EXIT_IO, "'%s' is in use by another "
			    "perf-alert", dir);
		snprintf(x.d.spool, sizeof(x.d.spool), "%s/spool", dir);
		mkdir_p(x.d.spool);
		snprintf(x.ackdir, sizeof(x.ackdir), "%s/ack", dir);
		mkdir_p(x.ackdir);
		snprintf(path, sizeof(path), "%s/history.jsonl", dir);
		x.hist_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
		if (x.hist_fd == -1)
			pk_die_errno(PK_EXIT_IO, "cannot open '%s'", path);
		snprintf(x.statefile, sizeof(x.statefile), "%s/state.json",
		    dir);
	}
	x.vals = pk_xcalloc((size_t)x.cfg->ps.npaths, sizeof(*x.vals));
	for (size_t k = 0; k < x.cfg->nrules; k++)
		x.cfg->rules[k].absent_seen = pk_now();
	x.last_ts = -HUGE_VAL;
	x.next_tick = -HUGE_VAL;
	if (x.statefile[0] != '\0')
		state_load(&x);
	pk_evclock_init(&x.ev);
	if (isfinite(x.last_ts))
		x.ev.clock = x.last_ts;
	deliv_start(&x);
	pk_sig_install(1);
	if (i == argc) {
		ioerr |= run_file(&x, "-");
	} else {
		for (; i < argc && !pk_stop; i++)
			ioerr |= run_file(&x, argv[i]);
	}
	housekeeping(&x);
	if (x.statefile[0] != '\0')
		state_save(&x);
	pk_out_idle();
	if (x.d.started)
		drain(&x.d, o.wait_s);
	deliv_stop(&x);
	if (x.hist_fd != -1) {
		/* Whatever the spool could not take is reported; the history
		 * keeps the transitions regardless. */
		hist_flush(&x, 1);
		if (x.nhpend > 0 || x.hdropped > 0)
			pk_warn("%zu history lines could not be written, %lu "
			    "dropped: lost", x.nhpend, x.hdropped);
		for (size_t k = 0; k < x.nhpend; k++)
			free(x.hpend[k]);
		free(x.hpend);
		close(x.hist_fd);
	}
	if (lockfd != -1)
		close(lockfd);
	free(x.vals);
	curl_global_cleanup();
	pk_close_stdout();
	status = pk_bad_finish(&x.bad);
	/* A disk that failed, even one that recovered, is status 4. */
	if ((ioerr || x.diskerr || x.d.diskerr) && status == PK_EXIT_OK)
		status = PK_EXIT_IO;
	return status;
}
