/* SPDX-License-Identifier: MIT */
/*
 * perf-alert's private header: the configuration, the receiver types,
 * the rules' runtime state, and the functions the program's units share
 * (main.c, conf.c, rules.c, state.c, deliv.c, the receivers rx_*.c and
 * the subcommands cmd_*.c).
 */
#ifndef PERF_ALERT_H
#define PERF_ALERT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "pk_alert_expr.h"
#include "pk_alert_sched.h"
#include "pk_alert_spool.h"
#include "pk_filter.h"
#include "pk_jscan.h"
#include "pk_jsonl.h"
#include "pk_outlet.h"
#include "pk_yaml.h"

struct alert_opts {
	const char *config;
	const char *state_dir;
	const char *message;
	int check;
	int unbuffered;
	int strict;
	double wait_s;
	struct pk_outlet_opts out;	/* --listen, --push, --textfile */
};

enum { ST_INACTIVE, ST_PENDING, ST_FIRING };
extern const char *const statenames[];

#define MAXRX 16
/*
 * An annotation's template is at most this many bytes (a configuration
 * error beyond); what it expands to is carried whole, however long.
 */
#define ANN_MAX 4096
/* A record this far behind the newest ts, three in a row: a clock step. */
#define STEP_SPAN 60.0

struct match {
	char *path;
	char *val;
	int id;
};

struct rule;

/* An alert instance: a rule, a host and a component. */
struct inst {
	char *host, *comp;	/* whole, however long: never cut */
	char fp[17];
	struct rule *rule;
	/*
	 * The host whose event clock its timers run on: NULL until a record
	 * of the host is read (an alert restored from state.json), and for
	 * absent-data rules, whose timers run on the wall clock.
	 */
	struct pk_fhost *h;
	size_t seq;		/* its rule's count when it was made: the order */
	size_t idx;		/* its place in rule->insts */
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
	uint64_t hash;		/* of (host, comp), for rule->tab */
	/* Its place among its rule's inactive instances, oldest first. */
	struct inst *lru_prev, *lru_next;
	int in_lru;
};

/*
 * At most this many instances (label sets: host, component) per rule.
 * Beyond it the oldest inactive one is forgotten to make room; while all
 * are active a new one is dropped. Both counted, warned about once per
 * rule, reported at exit.
 */
#define INST_MAX 10000

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
	size_t index;		/* in config.rules */
	struct inst **insts;	/* in no particular order once one is evicted */
	size_t ninst, capinst, nextseq;
	struct inst **tab;	/* open addressing by (host, comp); NULL empty */
	size_t tabcap;
	struct inst *lru_head, *lru_tail;	/* inactive, oldest first */
	unsigned long evicted, dropped;
	int warned_cap;
	double absent_seen;	/* wall clock of the last matching record */
};

struct receiver;

/*
 * A receiver's delivery counts, for the exposition: kept by deliv.c by
 * name for the whole run (a reload keeps them), added to by the delivery
 * thread, read by the record loop.
 */
struct rx_count {
	char *name;
	atomic_ulong delivered, failed;
};
/* Receiver names counted in one run, at most; beyond, not counted. */
#define RXCOUNT_MAX 64

/*
 * A receiver type, one row of receiver_types[] (receivers.c), each in its
 * own file rx_NAME.c. The core reads the common keys (name, type,
 * severity, labels, repeat_interval, rate_limit, timeout), rejects any
 * key that is neither common nor the type's own, and leaves the type's
 * keys to load().
 */
struct receiver_type {
	const char *name;
	const char *const *keys;	/* its own keys, NULL-ended */
	/*
	 * Its own keys of the receiver map n: the private configuration,
	 * or NULL after reporting the errors (pk_yerror: FILE:LINE:COL).
	 */
	void *(*load)(struct pk_ydoc *doc, const struct pk_ynode *n,
	    const struct receiver *x);
	/*
	 * One delivery attempt of e (its peer is the target, see targets),
	 * in the delivery thread: 0 accepted, or -1 with the reason in err
	 * and *permanent set when trying again cannot help. Gives up at once
	 * when *stop becomes non-zero.
	 */
	int (*deliver)(struct receiver *x, const struct pk_alert_spool_entry *e,
	    atomic_int *stop, char *err, size_t errsize, int *permanent);
	void (*release)(void *conf);
	/* Optional hooks, NULL when the type has none. */
	/* How many targets get every notification (Alertmanager: peers). */
	size_t (*targets)(const struct receiver *x);
	/* Periodic work in the delivery thread, every period() seconds. */
	double (*period)(const struct receiver *x);
	void (*periodic)(struct receiver *x, atomic_int *stop);
	/* An alert firing at start (restored from state.json). */
	void (*resume)(struct receiver *x, const json_t *rec);
};

extern const struct receiver_type *const receiver_types[];

struct receiver {
	char *name;
	const struct receiver_type *type;
	void *conf;		/* the type's own, from load() */
	int min_sev;
	json_t *labels;		/* route: labels that must be equal */
	double repeat_s, timeout_s;
	/* delivery thread state */
	struct pk_alert_sched_target st;	/* the rate limit */
	double next_periodic;
	struct rx_count *count;	/* deliv.c's; NULL beyond RXCOUNT_MAX */
};

struct config {
	char *state_dir;
	double retry_min, retry_max, flap_low, flap_high;
	struct rule *rules;
	size_t nrules;
	struct receiver *rx;
	size_t nrx;
	struct pk_jpaths ps;
	int id_comp;
	/* The record types the rules match; all_types: a rule has none. */
	struct pk_ftype *ftypes;
	int all_types;
	atomic_int refs;	/* the record loop's, the delivery thread's */
};

/*
 * History lines held in memory while the state directory's disk fails
 * (full, read-only, I/O errors), at most this many (the spool's
 * notifications: the scheduler's memcap, the same); beyond it they are
 * dropped, counted and reported.
 */
#define MEMCAP PK_ALERT_SCHED_MEMCAP

struct deliv {
	struct pk_alert_sched s;
	struct config *cfg;	/* the receivers now, under s's lock */
	char spool[4096];	/* "" without a state directory */
	unsigned char mackey[PK_ALERT_SPOOL_KEYLEN];	/* its files' check */
	struct rx_count counts[RXCOUNT_MAX];
	size_t ncounts;
	int counts_full;	/* warned that a name was not counted */
};

/* The events counted for the exposition (prom.c). */
enum { EV_PENDING, EV_FIRING, EV_RESOLVED, EV_ESCALATED, EV_ACKNOWLEDGED,
	NEVENTS };

struct alert_prom;

/* A host's own state, in its pk_fhost's user. */
struct hoststate {
	double next_tick;	/* the next escalation/repeat tick, its clock */
	struct inst **insts;	/* the instances bound to it, in rule order */
	size_t n, cap;
};

struct alert_ctx {
	struct alert_opts *o;
	const char *config_path;
	struct config *cfg;
	struct deliv d;
	struct pk_filter f;	/* the front end: reading, checks, clocks */
	double last_ts;		/* the largest ts of any host (state.json) */
	double next_scan;
	unsigned long nrec, seq;
	int hist_fd, lockfd;
	char **hpend;		/* history lines not written yet, in order */
	size_t nhpend;
	unsigned long hdropped;
	int hist_failing, state_failing, diskerr;
	char ackdir[4096];
	char statefile[4096];
	int dirty;
	double next_save;
	unsigned long events[NEVENTS];	/* counted whether exported or not */
	struct alert_prom *prom;	/* NULL without an outlet */
};

/* conf.c */
struct config *config_load(const char *path);
void config_free(struct config *c);
const char *state_dir_of(const struct alert_opts *o, struct config **cfgp);
/*
 * Typed getters for map keys, as the receiver types use them: 0 when
 * absent (the default stays) or read, -1 after reporting an error.
 */
int conf_str(struct pk_ydoc *doc, const struct pk_ynode *map,
    const char *key, char **out);
int conf_dur(struct pk_ydoc *doc, const struct pk_ynode *map,
    const char *key, double min, double *out);
int conf_sev(struct pk_ydoc *doc, const struct pk_ynode *map,
    const char *key, int *out);
int conf_strv(struct pk_ydoc *doc, const struct pk_ynode *map,
    const char *key, char ***out, size_t *n);
int conf_strmap(struct pk_ydoc *doc, const struct pk_ynode *map,
    const char *key, json_t **out);
/* A receiver's url (or, with many, url or urls): required. */
int conf_urls(struct pk_ydoc *doc, const struct pk_ynode *n,
    const struct receiver *x, int many, char ***urls, size_t *nurls);
void strv_free(char **v, size_t n);

/* receivers.c */
const struct receiver_type *receiver_type_find(const char *name);
/* "webhook, alertmanager, …" */
void receiver_type_names(char *buf, size_t size);
/* --list-receivers: each type and its own keys, one type a line. */
void receiver_types_list(void);
/*
 * A secret (password, token): the environment variable env if set, else
 * the file (its trailing newline dropped), else "". -1 with errno if the
 * file cannot be read.
 */
int rx_secret(const char *env, const char *file, char *buf, size_t size);

/* rules.c */
json_t *alert_record(const struct rule *r, const struct inst *in,
    const char *event, double ts);
/* The instance (host, comp) of r, made if create; bound to h if not NULL. */
struct inst *inst_get(struct rule *r, const char *host, const char *comp,
    int create, struct pk_fhost *h);
/* Free r's instances (config_free). */
void rule_insts_release(struct rule *r);
/* After in's state changed outside rules.c (state.json restored). */
void inst_settle(struct inst *in);
/*
 * Expand the {{name}} of tpl from an alert record (the annotations' and
 * the receivers' template language); returns the length wanted.
 */
size_t alert_expand(const char *tpl, const json_t *rec, char *out,
    size_t size);
void housekeeping(struct alert_ctx *x);
/* The front end set up for the configuration's rules (x->f). */
void alert_filter_init(struct alert_ctx *x);
void alert_filter_release(struct alert_ctx *x);

/* state.c */
/*
 * Die (status 4) unless dir, and its spool/ and ack/, are directories of
 * ours nobody else can write to (pk_statedir); create: made 0700 first.
 */
void state_dir_ready(const char *dir, int create);
/* open() of a file in the checked state directory, never through a link. */
int state_file_open(const char *path, int flags);
/*
 * Open the state directory dir (made if need be): its lock (one instance
 * per directory), spool/, ack/, the history. Dies on failure (status 4).
 */
void state_open(struct alert_ctx *x, const char *dir);
/* The history's last lines, written or reported lost; the lock let go. */
void state_close(struct alert_ctx *x);
void hist_flush(struct alert_ctx *x, int force);
void hist_append(struct alert_ctx *x, const json_t *rec);
void state_save(struct alert_ctx *x);
/*
 * Restore the alerts in progress from state.json; one that is not valid
 * JSON or holds what perf-alert never writes is reported, set aside as
 * state.json.corrupt, and the alerts are rebuilt from the history.
 */
void state_load(struct alert_ctx *x);
/* The restore itself, from a parsed state.json: -1 with why (nothing done) if corrupt. */
int state_apply(struct alert_ctx *x, const json_t *o, char *why,
    size_t whysize);

/* deliv.c */
void cfg_put(struct config *c);
int rx_routes(const struct receiver *x, const json_t *rec);
void notify(struct alert_ctx *x, struct inst *in, const json_t *rec,
    double ts, int only);
void deliv_init(struct alert_ctx *x, const char *dir);
void deliv_start(struct alert_ctx *x);
void deliv_config(struct alert_ctx *x, struct config *n);
void deliv_stop(struct alert_ctx *x);

/*
 * prom.c: the Prometheus exposition (--listen, --push, --textfile).
 * prom_start after alert_filter_init; prom_stop after the last delivery,
 * before deliv_stop. alert_event counts one alert record's event
 * ("pending", "firing", "resolved", "escalated", "acknowledged"; others
 * are not counted); prom_changed says the figures changed (rendered
 * once the record at hand is done, or at the next idle tick).
 */
void prom_start(struct alert_ctx *x);
void prom_changed(struct alert_ctx *x);
void prom_stop(struct alert_ctx *x);
void alert_event(struct alert_ctx *x, const char *event);

/* the subcommands (pk_subcmd rows: ctx is the struct alert_opts) */
int cmd_ack(void *ctx, int argc, char **argv);
int cmd_stats(void *ctx, int argc, char **argv);
int cmd_requeue(void *ctx, int argc, char **argv);
/* cmd_requeue.c: one dead_letter record per dead letter of dir. */
size_t dead_letters_list(const char *dir);

#endif
