/* SPDX-License-Identifier: MIT */
/*
 * The command line: the options (the --export-* ones from the exporter
 * table), then the commands, separated by ":::", each resolved once.
 */
#include "perf-bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_outlet.h"

static const char usage_str[] =
    "usage: perf-bench [-chijs] [-b file] [-M max] [-m min] [-n name] [-r runs]\n"
    "           [-t time] [-w runs] [--stress Nx] [--] command [arg ...]\n"
    "           [::: command [arg ...] ...]\n";

enum {
	OPT_ALPHA = 0x100, OPT_CONFIDENCE, OPT_MAX_CV, OPT_MAX_JITTER,
	OPT_OUTLIERS, OPT_PRECISION, OPT_STRESS, OPT_STRESS_MEM, OPT_THRESHOLD,
	OPT_NO_PROGRESS,
	OPT_EXPORT = 0x200	/* + the exporter's row */
};

/* Options with a short form, sorted like the short-option string. */
static const struct option short_opts[] = {
	{ "baseline", required_argument, NULL, 'b' },
	{ "check-output", no_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "ignore-failure", no_argument, NULL, 'i' },
	{ "json", no_argument, NULL, 'j' },
	{ "max-runs", required_argument, NULL, 'M' },
	{ "min-runs", required_argument, NULL, 'm' },
	{ "name", required_argument, NULL, 'n' },
	{ "runs", required_argument, NULL, 'r' },
	{ "shell", no_argument, NULL, 's' },
	{ "time", required_argument, NULL, 't' },
	{ "warmup", required_argument, NULL, 'w' },
};

/* Long options only; the exporters' join them, all sorted by name. */
static const struct option long_opts[] = {
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "confidence", required_argument, NULL, OPT_CONFIDENCE },
	{ "max-cv", required_argument, NULL, OPT_MAX_CV },
	{ "max-jitter", required_argument, NULL, OPT_MAX_JITTER },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "outliers", required_argument, NULL, OPT_OUTLIERS },
	{ "precision", required_argument, NULL, OPT_PRECISION },
	{ "push", required_argument, NULL, PK_OPT_PUSH },
	{ "stress", required_argument, NULL, OPT_STRESS },
	{ "stress-mem", no_argument, NULL, OPT_STRESS_MEM },
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
};

static const struct option tail_opts[] = {
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The --help lines around the exporters' (which sort between them). */
static const char help_head[] =
    "  -b, --baseline FILE      compare with the records of an earlier --export-json;\n"
    "                           status 1 on a significant regression\n"
    "  -c, --check-output       hash each run's output, status 1 if any differs\n"
    "  -i, --ignore-failure     keep going when the command exits non-zero\n"
    "  -j, --json               bench records on stdout instead of the report\n"
    "  -M, --max-runs N         at most N runs (default 1000)\n"
    "  -m, --min-runs N         at least N runs (default 10)\n"
    "  -n, --name NAME          name the next command (repeatable)\n"
    "  -r, --runs N             exactly N runs\n"
    "  -s, --shell              run each operand with /bin/sh -c\n"
    "  -t, --time DURATION      time budget per command (default 3s)\n"
    "  -w, --warmup N           N unmeasured runs first (default 1)\n"
    "      --alpha P            significance level (default 0.05)\n"
    "      --confidence PCT     confidence level of intervals (default 95)\n";

static const char help_tail[] =
    "      --max-cv PCT         status 1 if a coefficient of variation exceeds PCT\n"
    "      --max-jitter PCT     status 1 if the run-to-run jitter exceeds PCT\n"
    "                           of the mean\n"
    "                           (default: report only, against 5)\n"
    "      --no-progress        no progress bar on a terminal\n"
    "      --outliers keep|drop the outlier policy (default keep)\n"
    "      --precision PCT      run until the CI half-width is within PCT of the mean\n"
    "      --push URL           push the results to a Pushgateway at the end\n"
    "      --stress Nx          also beside N x nproc CPU hogs, interleaved\n"
    "      --stress-mem         add nproc memory-bandwidth hogs to --stress\n"
    "      --threshold PCT      slowdown that counts as a regression (default 5)\n"
    "  -h, --help               this help\n"
    "      --version            print the version\n";

/* The column where an option's description starts in --help. */
#define HELP_COL 27

static void
help(void)
{
	/* Static: still reachable when pk_help() exits. */
	static struct bench_buf b;
	size_t i, n = bench_exporters_count();
	int w;

	bench_buf_puts(&b, help_head);
	for (i = 0; i < n; i++) {
		w = (int)strlen("      --") +
		    (int)strlen(bench_exporters[i]->option) + (int)strlen(" FILE");
		bench_buf_printf(&b, "      --%s FILE%*s%s\n",
		    bench_exporters[i]->option, w < HELP_COL - 2 ?
		    HELP_COL - w : 2, "", bench_exporters[i]->help);
	}
	bench_buf_puts(&b, help_tail);
	pk_help(usage_str, b.p);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct option *)a)->name,
	    ((const struct option *)b)->name);
}

/* The getopt_long table: the fixed options and a row per exporter. */
static struct option *
longopts_build(void)
{
	size_t nexp = bench_exporters_count(), nlong = NELEM(long_opts) + nexp;
	struct option *v = pk_xcalloc(NELEM(short_opts) + nlong +
	    NELEM(tail_opts), sizeof(*v));
	struct option *lng = v + NELEM(short_opts);
	size_t i;

	memcpy(v, short_opts, sizeof(short_opts));
	memcpy(lng, long_opts, sizeof(long_opts));
	for (i = 0; i < nexp; i++) {
		lng[NELEM(long_opts) + i].name = bench_exporters[i]->option;
		lng[NELEM(long_opts) + i].has_arg = required_argument;
		lng[NELEM(long_opts) + i].val = OPT_EXPORT + (int)i;
	}
	qsort(lng, nlong, sizeof(*lng), by_name);
	memcpy(lng + nlong, tail_opts, sizeof(tail_opts));
	return v;
}

/* "12%" or "12": a percentage in [min, max], as a fraction. */
static double
opt_pct(const char *s, double min, double max, const char *name)
{
	return pk_opt_suffixed(s, "%", min, max, name, NULL) / 100;
}

/*
 * Find the executable as execvp(3) would, once, so that every run execs it
 * directly. Returns 0, or PK_EXIT_NOTFOUND / PK_EXIT_NOEXEC with errno set.
 */
static int
resolve(const char *file, char **out)
{
	const char *path, *p, *end;
	struct stat st;
	int denied = 0;
	size_t dlen, flen = strlen(file);
	char *buf;

	if (flen == 0) {
		errno = ENOENT;
		return PK_EXIT_NOTFOUND;
	}
	if (strchr(file, '/') != NULL) {
		if (stat(file, &st) == -1)
			return errno == ENOENT || errno == ENOTDIR ?
			    PK_EXIT_NOTFOUND : PK_EXIT_NOEXEC;
		if (S_ISDIR(st.st_mode) || access(file, X_OK) == -1) {
			errno = EACCES;
			return PK_EXIT_NOEXEC;
		}
		*out = pk_xstrdup(file);
		return 0;
	}
	path = getenv("PATH");
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		dlen = (size_t)(end - p);
		buf = dlen == 0 ? pk_xasprintf("./%s", file) :
		    pk_xasprintf("%.*s/%s", (int)dlen, p, file);
		if (stat(buf, &st) == 0 && !S_ISDIR(st.st_mode)) {
			if (access(buf, X_OK) == 0) {
				*out = buf;
				return 0;
			}
			denied = 1;
		}
		free(buf);
		if (*end == '\0')
			break;
	}
	errno = denied ? EACCES : ENOENT;
	return denied ? PK_EXIT_NOEXEC : PK_EXIT_NOTFOUND;
}

/* The operands into commands: one per operand with -s, else split at ":::". */
static size_t
split_commands(int argc, char **argv, const struct bench_opts *o,
    char **names, size_t nnames, struct bench_cmd **out)
{
	struct bench_cmd *cmds = pk_xcalloc((size_t)argc, sizeof(*cmds));
	size_t k = 0, len, t;
	int i, start;

	for (i = 0; i < argc; i = start) {
		start = i;
		if (strcmp(argv[i], BENCH_SEP) == 0) {
			start = i + 1;
			continue;
		}
		if (o->shell) {
			cmds[k].shargv[0] = "/bin/sh";
			cmds[k].shargv[1] = "-c";
			cmds[k].shargv[2] = argv[i];
			cmds[k].argv = cmds[k].shargv;
			cmds[k].name = pk_xstrdup(k < nnames ? names[k] : argv[i]);
			k++;
			start = i + 1;
			continue;
		}
		while (start < argc && strcmp(argv[start], BENCH_SEP) != 0)
			start++;
		cmds[k].argv = &argv[i];
		/* Cut the list at the separator. */
		if (start < argc)
			argv[start] = NULL;
		if (k < nnames) {
			cmds[k].name = pk_xstrdup(names[k]);
		} else {
			for (len = 0, t = (size_t)i; t < (size_t)start; t++)
				len += strlen(argv[t]) + 1;
			cmds[k].name = pk_xcalloc(len + 1, 1);
			for (len = 0, t = (size_t)i; t < (size_t)start; t++) {
				if (t > (size_t)i)
					cmds[k].name[len++] = ' ';
				memcpy(cmds[k].name + len, argv[t],
				    strlen(argv[t]));
				len += strlen(argv[t]);
			}
		}
		k++;
		if (start < argc)
			start++;
	}
	*out = cmds;
	return k;
}

/* One option into o; names collects -n. */
static void
parse_opt(int ch, struct bench_opts *o, char **names, size_t *nnames,
    int *no_progress)
{
	struct pk_outlet_opts out = { 0 };

	switch (ch) {
	case 'b':
		o->baseline = optarg;
		break;
	case 'c':
		o->check_output = 1;
		break;
	case 'i':
		o->ignore_failure = 1;
		break;
	case 'j':
		o->json = 1;
		break;
	case 'M':
		o->max_runs = (unsigned long)pk_opt_u64(optarg, 2, 10000000,
		    "--max-runs");
		break;
	case 'm':
		o->min_runs = (unsigned long)pk_opt_u64(optarg, 1, 10000000,
		    "--min-runs");
		break;
	case 'n':
		names[(*nnames)++] = optarg;
		break;
	case 'r':
		o->runs = (unsigned long)pk_opt_u64(optarg, 1, 10000000,
		    "--runs");
		break;
	case 's':
		o->shell = 1;
		break;
	case 't':
		o->budget = pk_opt_duration(optarg, 0.001, 86400 * 7, "--time");
		break;
	case 'w':
		o->warmup = (unsigned long)pk_opt_u64(optarg, 0, 1000000,
		    "--warmup");
		break;
	case OPT_ALPHA:
		o->alpha = pk_opt_double(optarg, 1e-9, 0.5, "--alpha");
		break;
	case OPT_CONFIDENCE:
		o->confidence = opt_pct(optarg, 50, 99.99, "--confidence");
		break;
	case OPT_MAX_CV:
		o->max_cv = opt_pct(optarg, 0.001, 1000, "--max-cv");
		o->max_cv_set = 1;
		break;
	case OPT_MAX_JITTER:
		o->max_jitter = opt_pct(optarg, 0.001, 1000, "--max-jitter");
		o->max_jitter_set = 1;
		break;
	case OPT_NO_PROGRESS:
		*no_progress = 1;
		break;
	case OPT_OUTLIERS:
		if (strcmp(optarg, "keep") == 0)
			o->drop_outliers = 0;
		else if (strcmp(optarg, "drop") == 0)
			o->drop_outliers = 1;
		else
			pk_die(PK_EXIT_USAGE, "--outliers: '%s' is not keep or "
			    "drop", optarg);
		break;
	case OPT_PRECISION:
		o->precision = opt_pct(optarg, 0.001, 100, "--precision");
		break;
	case PK_OPT_PUSH:
		/* The outlets' check of the URL, as the daemons make it. */
		(void)pk_outlet_opt(&out, ch, optarg);
		o->push = out.push;
		break;
	case OPT_STRESS:
		o->stress = pk_opt_factor(optarg, "--stress");
		break;
	case OPT_STRESS_MEM:
		o->stress_mem = 1;
		break;
	case OPT_THRESHOLD:
		o->threshold = opt_pct(optarg, 0, 1000, "--threshold");
		break;
	default:
		if (ch >= OPT_EXPORT &&
		    (size_t)(ch - OPT_EXPORT) < bench_exporters_count()) {
			o->export_path[ch - OPT_EXPORT] = optarg;
			break;
		}
		pk_usage(usage_str);
	}
}

size_t
bench_parse(int argc, char **argv, struct bench_opts *o,
    struct bench_cmd **cmds)
{
	static const struct bench_opts defaults = {
		.warmup = 1, .min_runs = 10, .max_runs = 1000, .budget = 3,
		.confidence = 0.95, .max_cv = 0.05, .max_jitter = 0.05,
		.threshold = 0.05, .alpha = 0.05,
	};
	struct option *longopts = longopts_build();
	char **names = pk_xcalloc((size_t)argc, sizeof(*names));
	size_t nnames = 0, k, i, j;
	int ch, rc, no_progress = 0;

	*o = defaults;
	o->export_path = pk_xcalloc(bench_exporters_count(),
	    sizeof(*o->export_path));
	while ((ch = getopt_long(argc, argv, "+b:chijM:m:n:r:st:w:", longopts,
	    NULL)) != -1) {
		if (ch == 'h' || ch == PK_OPT_VERSION ||
		    ch == PK_OPT_LIST_OPTIONS) {
			free(names);
			bench_opts_release(o);
			if (ch == 'h') {
				free(longopts);
				help();
			}
			if (ch == PK_OPT_VERSION)
				pk_print_version();
			else
				pk_list_options(longopts);
			free(longopts);
			pk_close_stdout();
			exit(PK_EXIT_OK);
		}
		parse_opt(ch, o, names, &nnames, &no_progress);
	}
	free(longopts);
	argc -= optind;
	argv += optind;
	if (argc == 0)
		pk_usage(usage_str);
	if (o->min_runs > o->max_runs)
		pk_die(PK_EXIT_USAGE, "--min-runs %lu is above --max-runs %lu",
		    o->min_runs, o->max_runs);
	if (o->runs && o->runs < 2 && (o->baseline || o->stress))
		pk_die(PK_EXIT_USAGE, "--baseline and --stress need --runs >= 2");
	if (o->stress_mem && !o->stress)
		pk_die(PK_EXIT_USAGE, "--stress-mem needs --stress");
	o->progress = !no_progress && !o->json && isatty(STDERR_FILENO);

	k = split_commands(argc, argv, o, names, nnames, cmds);
	free(names);
	if (k == 0)
		pk_usage(usage_str);
	if (nnames > k)
		pk_die(PK_EXIT_USAGE, "%zu names for %zu commands", nnames, k);
	for (i = 0; i < k; i++) {
		struct bench_cmd *c = &(*cmds)[i];

		if (c->argv[0] == NULL)
			pk_die(PK_EXIT_USAGE, "an empty command between '%s'",
			    BENCH_SEP);
		rc = resolve(o->shell ? "/bin/sh" : c->argv[0], &c->path);
		if (rc != 0)
			pk_die_errno(rc, "cannot execute '%s'", c->argv[0]);
		for (j = 0; j < i; j++)
			if (strcmp(c->name, (*cmds)[j].name) == 0)
				pk_die(PK_EXIT_USAGE, "two commands named '%s' "
				    "(use -n)", c->name);
	}
	return k;
}

void
bench_cmds_release(struct bench_cmd *cmds, size_t k)
{
	size_t i;
	int p;

	for (i = 0; i < k; i++) {
		free(cmds[i].name);
		free(cmds[i].path);
		for (p = 0; p < BENCH_NPHASES; p++)
			bench_runs_release(&cmds[i].ph[p]);
	}
	free(cmds);
}

void
bench_opts_release(struct bench_opts *o)
{
	free(o->export_path);
	o->export_path = NULL;
}
