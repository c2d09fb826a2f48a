/* SPDX-License-Identifier: MIT */
/*
 * perf-qualityctl's units. Two axes are rows: the pressure terms
 * (term_*.c, one table in terms.c) and the actuators (act_*.c, one table
 * in actuators.c). conf.c loads the configuration, engine.c is the glue
 * between the front end (pk_filter) and the controller (pk_quality),
 * records.c writes the quality records, state.c keeps the state
 * directory and the override, cmds.c holds the subcommands, prom.c the
 * Prometheus exposition; main.c the options and main().
 */
#ifndef PERF_QUALITYCTL_H
#define PERF_QUALITYCTL_H

#include <stddef.h>
#include <sys/stat.h>

#include <jansson.h>

#include "pk_filter.h"
#include "pk_jscan.h"
#include "pk_outlet.h"
#include "pk_quality.h"
#include "pk_spawn.h"
#include "pk_subcmd.h"
#include "pk_yaml.h"

#define MAX_COMPONENTS 64
#define MAX_CHILDREN 8		/* of one command running at once */
#define MAX_CHILDREN_ALL 64	/* of all commands */
#define NAME_MAX_LEN 64
#define METRIC_STEP 1.0	/* kept-record evaluations, at most one a second */
#define TERM_TYPES_MAX 16	/* rows of term_types */
#define TERM_PATHS 4		/* fields one term reads */
#define ACT_TYPES_MAX 8		/* rows of act_types */
#define FTYPES_MAX (TERM_TYPES_MAX + 1)
#define NREASONS (PK_QUALITY_R_RELEASE + 1)	/* enum pk_quality_reason */

struct comp;
struct qctl;
struct term;

/* A term's part in the last evaluation. */
struct input {
	int have;
	double value, norm, weight;
	double aux;		/* the row's aux_name field */
	const char *what;	/* "component", "zone" or NULL */
	char who[NAME_MAX_LEN];
};

/*
 * A pressure term: one row per kind (term_cpu.c ...), registered in
 * terms.c. The config key pressure.NAME sets weight, low, high (and
 * arg_key); the table gives the allowed keys, --help and the man page's
 * list.
 *
 * A term reads records of type `record`. A "sample" term reads the
 * sample being evaluated. A term of any other type is kept: the latest
 * value of such records, per `key` (a string field every such record
 * must carry, naming a component; NULL: one value), and at an evaluation
 * the worst value not older than stale counts; components may set their
 * own bounds (components.NAME.TERM: { low, high }). Records of a kept
 * type drive the controller themselves while samples are missing.
 *
 * Its value is `measure`'s (NULL: the number at its first path); its
 * pressure, 0-100, pk_quality_norm(value, low, high).
 */
struct term_type {
	const char *name;
	const char *help;		/* what it measures, one line */
	const char *record;		/* "sample", "metric" */
	const char *key;		/* kept: "component", or NULL */
	const char *const *paths;	/* dotted, TERM_PATHS at most; NULL:
					   each instance's own path */
	double weight, low, high;	/* defaults */
	/* One numeric setting of the row's own (NULL: none). */
	const char *arg_key;
	double arg_min, arg_max, arg_default;
	/* Named instances (pressure.NAME.ID: { path: P, ... }). */
	int instances;
	/* Its mean over the components is the fps of impact records. */
	int impact;
	double (*measure)(const struct term *t, const struct pk_jval *vals,
	    struct input *in);
	const char *aux_name;		/* in->aux as this field of inputs */
};

extern const struct term_type *const term_types[];

/* A configured term: a row, or one instance of a row with instances. */
struct term {
	const struct term_type *type;
	int slot;		/* the row's index in term_types */
	int kept;		/* record is not "sample" */
	int ftype;		/* kept: its record type's index in the filter's */
	char *name;
	char *path;		/* an instance's own path */
	int id[TERM_PATHS];	/* jscan ids of the fields it reads, -1 none */
	int id_key;		/* kept with a key: the key's id */
	double weight, low, high;
	double arg;
	int enabled;
};

/* Table helpers (terms.c). */
int term_type_slot(const struct term_type *tt);
/*
 * The front end's record types, from the table (types has FTYPES_MAX + 1
 * slots, need FTYPES_MAX): "sample" at 0, then the kept terms' types.
 * Returns how many.
 */
size_t term_ftypes(struct pk_ftype *types, const char *need[][2]);
/* The index of a record type in that list, -1 if none. */
int term_record_index(const char *record);
/* The --help paragraph, from the table. */
void terms_help(FILE *fp);
/* The number a value holds, NAN if it is none. */
double term_num(const struct pk_jval *v);

/*
 * An actuator: one row per kind (act_state.c ...), registered in
 * actuators.c. On each level change (none with --dry-run) the engine
 * calls the rows in table order: apply for the change as a whole; the
 * rows that act on the components' threads (apply_task) act together,
 * at the place of the first of them, component by component: for each
 * configured component whose own level changed and that has a setting
 * of one of them, its pid_file is read once, /proc/PID/task is walked
 * and every such row applies its setting to every thread (a failure
 * reported once per component); the record's components.NAME.actuation
 * says how many threads were changed. Between changes, at evaluations
 * (at most ten a second) and while the input is idle, the threads of a
 * component whose level has a non-default setting of a row (holds) are
 * walked again and brought to it: threads started since, or that reset
 * themselves. A row with comp_change is told, at its place in the
 * table, of each component with its setting whose own level changed. A
 * row may own a key of components.NAME (a per-level setting, parsed
 * into data).
 */
struct actuator_type {
	const char *name;
	const char *comp_key;
	int (*comp_load)(struct pk_ydoc *doc, const struct pk_ynode *n,
	    void **data);
	void (*comp_free)(void *data);
	/* A level change; rec is its record (apply may keep a reference). */
	void (*apply)(struct qctl *q, const struct pk_quality_change *ch,
	    json_t *rec);
	/*
	 * Thread tid of component k's process is to run at level, with
	 * data: 1 if it was changed, 0 if it already was so, -1 with errno
	 * (ESRCH: the thread ended; reported by the row otherwise).
	 */
	int (*apply_task)(struct qctl *q, struct comp *k, int level,
	    const void *data, long tid);
	/* Whether data at level is other than the default. */
	int (*holds)(const void *data, int level);
	/*
	 * Component k, with data, changed its own level (k->prev to
	 * k->applied) in the change ch, after apply of the same row.
	 */
	void (*comp_change)(struct qctl *q, struct comp *k, const void *data,
	    const struct pk_quality_change *ch);
	void (*tick)(struct qctl *q);		/* after every record read */
	void (*idle)(struct qctl *q);		/* the input is idle */
	void (*release)(struct qctl *q);	/* the end */
};

extern const struct actuator_type *const act_types[];

int act_slot(const struct actuator_type *a);
void acts_apply(struct qctl *q, const struct pk_quality_change *ch,
    json_t *rec);
void acts_tick(struct qctl *q);
/* The threads of components at a held level brought to it (see above). */
void acts_refresh(struct qctl *q, int force);
void acts_idle(struct qctl *q);
void acts_release(struct qctl *q);

/* ---- configuration (conf.c) ---- */

struct levelset {
	double resolution_scale, compression_quality, roi_scale;
	long long frame_skip;
};

/*
 * A level setting the user defined (levels.LEVEL.KEY), beyond the four
 * vision keys of struct levelset: one type in every level it appears in.
 */
#define SETTINGS_MAX 64		/* keys */
#define SETTING_STR_MAX 1024	/* bytes of a string */
#define SETTING_LIST_MAX 64	/* items of a list */
enum setting_type { SET_NUM, SET_STR, SET_BOOL, SET_LIST_NUM, SET_LIST_STR,
	SET_LIST_EMPTY };

struct setting {
	char *key;
	enum setting_type type;
	json_t *val[PK_QUALITY_NLEVELS];	/* NULL: not at that level */
	char where[96];		/* its first level and line, for messages */
};

struct feature {
	char *name;
	int min_level;
};

struct compcfg {
	char *name;
	int priority;
	double low[TERM_TYPES_MAX], high[TERM_TYPES_MAX];	/* NAN: the term's */
	char *pid_file;
	void *act[ACT_TYPES_MAX];	/* the actuators' settings, NULL: none */
};

struct config {
	struct pk_quality_params params;
	int combine_max;
	double stale;
	struct term *terms;
	size_t nterms;
	struct levelset levels[PK_QUALITY_NLEVELS];
	struct setting *settings;
	size_t nsettings;
	struct feature *features;
	size_t nfeatures;
	struct compcfg *comps;
	size_t ncomps;
	struct pk_jpaths paths;
	int id_interval;
	/* Found once, for the hot path: */
	size_t *kept, nkept;	/* the kept terms, by index */
	int impact;		/* the term whose mean is the fps, or -1 */
};

/* Load a config; NULL after reporting errors. path NULL: the defaults. */
struct config *config_load(const char *path);
void config_free(struct config *c);
/* A level name or index under a config node; -1 after reporting. */
int conf_level(struct pk_ydoc *doc, const struct pk_ynode *n, int *out);

/* ---- run time ---- */

/* A kept value. */
struct kept {
	double v, ts;
	int have;
};

/* A component as seen at run time: configured, or met in records. */
struct comp {
	char name[NAME_MAX_LEN];
	int cfg;		/* index into config comps, or -1 */
	struct kept val[TERM_TYPES_MAX];
	int applied;		/* the level last actuated, or -1 */
	int prev;		/* the one before, or -1 */
	int due;		/* its level changes in the change at hand */
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
	struct pk_outlet_opts out;
};

/* The direction of a level change, for the exposition's counter. */
enum { DIR_UP, DIR_DOWN, DIR_NONE, NDIRS };

struct qctl_prom;

struct qctl {
	struct qctl_opts *o;
	struct config *cfg;
	struct pk_quality_ctl ctl;
	struct pk_filter f;
	struct pk_ftype ftypes[FTYPES_MAX + 1];
	const char *fneed[FTYPES_MAX][2];
	struct comp comps[MAX_COMPONENTS];
	size_t ncomps;
	int comps_full_warned;
	struct kept single[TERM_TYPES_MAX];	/* kept terms without a key */
	char host[PK_FILTER_HOST_MAX + 1];	/* followed; empty until known */
	int foreign_warned;
	unsigned long long late;	/* samples not after the last evaluation */
	int late_warned;
	double last_ts;
	int have_ts;
	double first_ts;	/* the first record of the host followed */
	double sample_ts, eval_ts;	/* the last sample, the last evaluation */
	double sample_gap;	/* the sampling interval, 0 until known */
	int have_sample, have_eval;
	/* the state directory */
	char state_path[4096], override_path[4096];
	int have_dir;
	struct stat ov_st;
	int ov_seen;
	double last_check;	/* monotonic time of the last override check */
	json_t *state;		/* the change not yet in the state file */
	double state_written;	/* monotonic time of the last write */
	/* on-change children */
	struct pk_spawn children[MAX_CHILDREN_ALL];
	int child_of[MAX_CHILDREN_ALL];	/* its command: -1 -e, else comps[i] */
	int nchildren;
	unsigned long long allcpus[16];
	double last_refresh;	/* monotonic time of the last acts_refresh */
	/* the terms of the last evaluation, for the records */
	struct input *inputs;	/* one per config term */
	double pressure;	/* the raw pressure of the last one, or NAN */
	/* counts, for the exposition */
	unsigned long long changes[NREASONS][NDIRS];
	unsigned long long cmd_run, cmd_failed;
	struct qctl_prom *prom;	/* NULL: no outlet, no exposition work */
	int prom_pending;
};

/* engine.c */
void qctl_init(struct qctl *q, struct qctl_opts *o, struct config *c);
int qctl_run(struct qctl *q, int argc, char **argv);
int qctl_finish(struct qctl *q, int status);
struct comp *comp_find(struct qctl *q, const char *name, int create);
int comp_prio(const struct qctl *q, const struct comp *k);
/* Whether k is configured and its level at level is not applied yet. */
int comp_due(const struct qctl *q, const struct comp *k, int level,
    int *cl);
/* Its setting of actuator a, or NULL. */
void *comp_act(const struct qctl *q, const struct comp *k,
    const struct actuator_type *a);
/* The pid in its pid_file, -1 (reported once) if none. */
long comp_pid(struct qctl *q, struct comp *k);
void qctl_change(struct qctl *q, double ts,
    const struct pk_quality_change *ch);

/* records.c */
json_t *settings_json(const struct config *c, int level);
/*
 * The settings of level as "PK_QUALITY_SETTING_KEY=value" strings
 * (numbers as in the record, booleans 1 or 0, lists joined with ','),
 * appended to *env (NULL-terminated, *n entries): free them.
 */
void settings_env(const struct config *c, int level, char ***env, size_t *n);
json_t *change_record(struct qctl *q, double ts,
    const struct pk_quality_change *ch);
void emit_impact(struct qctl *q, double ts,
    const struct pk_quality_impact *im, int done);

/* state.c */
const char *state_default_dir(char *buf, size_t size);
int state_dir_prepare(const char *dir);
/* The check alone, for an entry point that does not create it. */
int state_dir_check(const char *dir);
/* Use dir (not with --dry-run): 0, or -1 reported. */
int state_open(struct qctl *q, const char *dir);
void state_check_override(struct qctl *q);

/* act_state.c: the pending change to the state file (10/s unless force). */
void state_flush(struct qctl *q, int force);

/*
 * prom.c: the Prometheus exposition, rendered after an evaluation or a
 * level change, at most once per PK_OUTLET_GAP (the rest left pending
 * for the next evaluation, idle input or the end).
 */
/* The outlets asked for (none: q->prom stays NULL); dies if one fails. */
void prom_start(struct qctl *q);
/* An evaluation or a level change: rendered now, or pending. */
void prom_changed(struct qctl *q);
/* Render what is pending (idle input). */
void prom_flush(struct qctl *q);
/* The final exposition and push; the outlets closed. */
void prom_stop(struct qctl *q);

/* cmds.c */
extern const struct pk_subcmd qctl_cmds[];

#endif
