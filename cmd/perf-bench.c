/* SPDX-License-Identifier: MIT */
/*
 * perf-bench: run commands many times without a shell, measure each run
 * with wait4(2) and CLOCK_MONOTONIC, and report statistics a CI gate can
 * trust: confidence intervals, outliers by the modified z-score, output
 * determinism, two-sample tests between commands and against a baseline,
 * and the same benchmark under N x nproc CPU (and memory) hogs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "pk_hash.h"
#include "pk_bench_stats.h"
#include "pk_err.h"
#include "pk_io.h"
#include "pk_jsonl.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_path.h"
#include "pk_time.h"

extern char **environ;

static const char usage_str[] =
    "usage: perf-bench [-chijs] [-b file] [-M max] [-m min] [-n name] [-r runs]\n"
    "           [-t time] [-w runs] [--stress Nx] [--] command [arg ...]\n"
    "           [::: command [arg ...] ...]\n";

enum {
	OPT_ALPHA = 0x100, OPT_CONFIDENCE, OPT_EXPORT_HTML, OPT_EXPORT_JSON,
	OPT_EXPORT_MD, OPT_MAX_CV, OPT_MAX_JITTER, OPT_OUTLIERS, OPT_PRECISION, OPT_STRESS,
	OPT_STRESS_MEM, OPT_THRESHOLD, OPT_NO_PROGRESS
};

static const struct option longopts[] = {
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
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "confidence", required_argument, NULL, OPT_CONFIDENCE },
	{ "export-html", required_argument, NULL, OPT_EXPORT_HTML },
	{ "export-json", required_argument, NULL, OPT_EXPORT_JSON },
	{ "export-markdown", required_argument, NULL, OPT_EXPORT_MD },
	{ "max-cv", required_argument, NULL, OPT_MAX_CV },
	{ "max-jitter", required_argument, NULL, OPT_MAX_JITTER },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "outliers", required_argument, NULL, OPT_OUTLIERS },
	{ "precision", required_argument, NULL, OPT_PRECISION },
	{ "stress", required_argument, NULL, OPT_STRESS },
	{ "stress-mem", no_argument, NULL, OPT_STRESS_MEM },
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
};

#define SEP ":::"
#define MEM_HOG_BYTES (32u << 20)

enum { QUIET, STRESS, NPHASES };
static const char *const phase_name[NPHASES] = { "quiet", "stress" };

struct bench_opts {
	unsigned long warmup, min_runs, max_runs, runs;
	double budget;		/* seconds per command */
	double precision;	/* relative CI half-width, 0: off */
	double confidence;
	double max_cv;
	int max_cv_set;
	double max_jitter;	/* of the mean |run - previous run| / mean */
	int max_jitter_set;
	double threshold;	/* relative slowdown for --baseline */
	double alpha;
	int shell, check_output, ignore_failure, json, progress;
	int drop_outliers;
	unsigned long stress;	/* N in N x nproc, 0: off */
	int stress_mem;
	const char *baseline, *export_json, *export_md, *export_html;
};

/* The measurements of one command in one phase, in run order. */
struct phase {
	double *wall, *user, *sys, *rss;
	size_t n, cap;
	size_t failures;
	unsigned long long hash;
	size_t mismatches;
	int hashed;
	int ran;
	double ts;
	struct pk_bench_summary s;	/* of wall (after the outlier policy) */
	struct pk_bench_summary su, ss, sr;	/* user, sys, rss */
	size_t dropped;
	double *kept;		/* the wall times the statistics use */
};

struct baseline {
	char *name;
	double mean, sd;
	size_t n;
	double *times;
	size_t ntimes;
};

struct bench_cmd {
	char *name;
	char **argv;		/* NULL-terminated, points into main's argv */
	char *path;		/* resolved executable */
	char *shargv[4];
	struct phase ph[NPHASES];
	double est;		/* estimated seconds per run */
	const struct baseline *base;
};

struct run_result {
	int status;		/* 0, the child's code, 126/127, 128+N */
	int signo;		/* the signal that killed it, or 0 */
	double wall, user, sys, rss_kb;
	unsigned long long hash;
};

struct hogs {
	pid_t *pids;
	size_t n;
	int paused;
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
	pk_stop = 1;
}

static void
help(void)
{
	pk_help(usage_str,
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
	    "      --confidence PCT     confidence level of intervals (default 95)\n"
	    "      --export-html FILE   a self-contained HTML report with histograms\n"
	    "      --export-json FILE   the bench records, a baseline for --baseline\n"
	    "      --export-markdown FILE  a Markdown table\n"
	    "      --max-cv PCT         status 1 if a coefficient of variation exceeds PCT\n"
	    "      --max-jitter PCT     status 1 if the run-to-run jitter exceeds PCT\n"
	    "                           of the mean\n"
	    "                           (default: report only, against 5)\n"
	    "      --no-progress        no progress bar on a terminal\n"
	    "      --outliers keep|drop the outlier policy (default keep)\n"
	    "      --precision PCT      run until the CI half-width is within PCT of the mean\n"
	    "      --stress Nx          also beside N x nproc CPU hogs, interleaved\n"
	    "      --stress-mem         add nproc memory-bandwidth hogs to --stress\n"
	    "      --threshold PCT      slowdown that counts as a regression (default 5)\n"
	    "  -h, --help               this help\n"
	    "      --version            print the version\n");
}

/* "12%" or "12": a percentage in [min, max], as a fraction. */
static double
opt_pct(const char *s, double min, double max, const char *name)
{
	char buf[64];
	size_t len = strlen(s);

	if (len > 0 && len < sizeof(buf) && s[len - 1] == '%') {
		memcpy(buf, s, len - 1);
		buf[len - 1] = '\0';
		return pk_opt_double(buf, min, max, name) / 100;
	}
	return pk_opt_double(s, min, max, name) / 100;
}

static unsigned long
opt_factor(const char *s)
{
	char buf[32];
	size_t len = strlen(s);

	if (len > 0 && len < sizeof(buf) && (s[len - 1] == 'x' ||
	    s[len - 1] == 'X')) {
		memcpy(buf, s, len - 1);
		buf[len - 1] = '\0';
		return (unsigned long)pk_opt_u64(buf, 1, 64, "--stress");
	}
	return (unsigned long)pk_opt_u64(s, 1, 64, "--stress");
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
		buf = pk_xcalloc(dlen + flen + 3, 1);
		if (dlen == 0)
			snprintf(buf, dlen + flen + 3, "./%s", file);
		else
			snprintf(buf, dlen + flen + 3, "%.*s/%s", (int)dlen, p,
			    file);
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

static void
phase_push(struct phase *ph, const struct run_result *r)
{
	size_t cap;

	if (ph->n == ph->cap) {
		cap = ph->cap ? ph->cap * 2 : 64;
		ph->wall = realloc(ph->wall, cap * sizeof(double));
		ph->user = realloc(ph->user, cap * sizeof(double));
		ph->sys = realloc(ph->sys, cap * sizeof(double));
		ph->rss = realloc(ph->rss, cap * sizeof(double));
		if (ph->wall == NULL || ph->user == NULL || ph->sys == NULL ||
		    ph->rss == NULL)
			pk_die_errno(PK_EXIT_IO, "out of memory");
		ph->cap = cap;
	}
	ph->wall[ph->n] = r->wall;
	ph->user[ph->n] = r->user;
	ph->sys[ph->n] = r->sys;
	ph->rss[ph->n] = r->rss_kb;
	ph->n++;
}

static void
phase_release(struct phase *ph)
{
	free(ph->wall);
	free(ph->user);
	free(ph->sys);
	free(ph->rss);
	free(ph->kept);
}

static double
tv_secs(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/*
 * One run: spawn with default signal dispositions and an empty mask, stdin
 * from /dev/null, stdout to /dev/null or to a pipe that is hashed, stderr
 * to /dev/null; reap with wait4 for the run's own rusage. Returns 0, or -1
 * if the spawn failed (errno set, r->status 126 or 127).
 */
static int
run_once(const struct bench_cmd *c, const struct bench_opts *o, int devnull,
    const posix_spawnattr_t *attr, struct run_result *r)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	struct timespec t0, t1;
	char buf[65536];
	int fds[2] = { -1, -1 }, st, e;
	ssize_t got;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->hash = PK_HASH_FNV_INIT;
	if (o->check_output && pipe2(fds, O_CLOEXEC) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot create a pipe");
	if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
		errno = e;
		pk_die_errno(PK_EXIT_IO, "cannot spawn");
	}
	e = posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa,
		    o->check_output ? fds[1] : devnull, 1);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	if (e != 0) {
		errno = e;
		pk_die_errno(PK_EXIT_IO, "cannot spawn");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	e = posix_spawn(&pid, c->path, &fa, attr, c->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (fds[1] != -1)
		close(fds[1]);
	if (e != 0) {
		if (fds[0] != -1)
			close(fds[0]);
		r->status = e == ENOENT || e == ENOTDIR ? PK_EXIT_NOTFOUND :
		    PK_EXIT_NOEXEC;
		errno = e;
		return -1;
	}
	if (fds[0] != -1) {
		for (;;) {
			got = read(fds[0], buf, sizeof(buf));
			if (got > 0) {
				r->hash = pk_hash_fnv1a(r->hash, buf,
				    (size_t)got);
				continue;
			}
			if (got == -1 && errno == EINTR) {
				if (pk_stop)
					kill(pid, SIGKILL);
				continue;
			}
			break;
		}
		close(fds[0]);
	}
	while (wait4(pid, &st, 0, &ru) == -1) {
		if (errno != EINTR)
			pk_die_errno(PK_EXIT_IO, "cannot wait for the command");
		if (pk_stop)
			kill(pid, SIGKILL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->wall = (double)(pk_ts_to_ns(&t1) - pk_ts_to_ns(&t0)) / 1e9;
	r->user = tv_secs(&ru.ru_utime);
	r->sys = tv_secs(&ru.ru_stime);
	r->rss_kb = (double)ru.ru_maxrss;
	if (WIFEXITED(st))
		r->status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st)) {
		r->signo = WTERMSIG(st);
		r->status = PK_EXIT_SIGBASE + r->signo;
	}
	else
		r->status = PK_EXIT_IO;
	return 0;
}

/* A hog never outlives perf-bench: SIGKILL when its parent dies. */
static void
hog_child(pid_t parent, int mem)
{
	struct sigaction sa;
	volatile unsigned long long x = 0;
	unsigned char *a, *b;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(0);
	prctl(PR_SET_NAME, mem ? "perf-bench-mem" : "perf-bench-cpu");
	if (mem) {
		a = malloc(MEM_HOG_BYTES);
		b = malloc(MEM_HOG_BYTES);
		if (a == NULL || b == NULL)
			_exit(1);
		memset(a, 1, MEM_HOG_BYTES);
		for (;;) {
			memcpy(b, a, MEM_HOG_BYTES);
			memcpy(a, b, MEM_HOG_BYTES);
		}
	}
	for (;;)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
}

static void
hogs_stop(struct hogs *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		kill(h->pids[i], SIGKILL);
	for (i = 0; i < h->n; i++)
		while (waitpid(h->pids[i], NULL, 0) == -1 && errno == EINTR)
			;
	free(h->pids);
	h->pids = NULL;
	h->n = 0;
}

/*
 * Stop the hogs and wait until the kernel says each one is stopped, so the
 * quiet half of a round starts with no hog on a CPU.
 */
static void
hogs_pause(struct hogs *h)
{
	size_t i;
	int st;

	if (h->paused)
		return;
	for (i = 0; i < h->n; i++)
		kill(h->pids[i], SIGSTOP);
	for (i = 0; i < h->n; i++)
		while (waitpid(h->pids[i], &st, WUNTRACED) == -1 &&
		    errno == EINTR && !pk_stop)
			;
	h->paused = 1;
}

static void
hogs_resume(struct hogs *h)
{
	size_t i;

	if (!h->paused)
		return;
	for (i = 0; i < h->n; i++)
		kill(h->pids[i], SIGCONT);
	h->paused = 0;
}

static void
hogs_start(struct hogs *h, size_t ncpu, size_t nmem)
{
	pid_t parent = getpid(), pid;
	size_t i;

	h->pids = pk_xcalloc(ncpu + nmem, sizeof(pid_t));
	h->n = 0;
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < ncpu + nmem; i++) {
		pid = fork();
		if (pid == -1) {
			pk_warn_errno("cannot start a stress process");
			hogs_stop(h);
			exit(PK_EXIT_IO);
		}
		if (pid == 0)
			hog_child(parent, i >= ncpu);
		h->pids[h->n++] = pid;
	}
	h->paused = 0;
}

static void
progress(const struct bench_opts *o, const char *what, size_t done,
    size_t total, double started, double *last, int final)
{
	double now = pk_mono(), eta;
	char bar[31], etabuf[32];
	size_t i, fill;

	if (!o->progress)
		return;
	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	if (now - *last < 0.1)
		return;
	*last = now;
	fill = total ? done * 30 / total : 0;
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[30] = '\0';
	eta = done ? (now - started) * (double)(total - done) / (double)done : 0;
	pk_duration_fmt(eta, etabuf, sizeof(etabuf));
	fprintf(stderr, "\r\033[K%.30s [%s] %zu/%zu ETA %s", what, bar, done,
	    total, etabuf);
}

/* The command failed: a message, and the status perf-bench ends with. */
static int
report_failure(const struct bench_cmd *c, const struct run_result *r)
{
	if (r->signo != 0)
		pk_warn("'%s' was killed by signal %d (use -i to ignore)",
		    c->name, r->signo);
	else
		pk_warn("'%s' exited with status %d (use -i to ignore)",
		    c->name, r->status);
	return r->status;
}

/* Run every command once in one phase of a round, in a rotated order. */
static int
run_round(struct bench_cmd *cmds, size_t k, const struct bench_opts *o,
    int phase, size_t round, int devnull, const posix_spawnattr_t *attr)
{
	struct run_result r;
	size_t j;

	for (j = 0; j < k; j++) {
		struct bench_cmd *c = &cmds[(j + round) % k];

		if (pk_stop)
			return -1;
		if (run_once(c, o, devnull, attr, &r) == -1) {
			pk_warn_errno("cannot execute '%s'", c->argv[0]);
			return r.status;
		}
		if (pk_stop)
			/*
			 * We killed it, or the terminal's SIGINT reached it
			 * too: not a measurement.
			 */
			return -1;
		c->ph[phase].ran = 1;
		if (r.status != 0) {
			c->ph[phase].failures++;
			if (!o->ignore_failure)
				return report_failure(c, &r);
		}
		if (o->check_output) {
			if (!c->ph[QUIET].hashed) {
				c->ph[QUIET].hash = r.hash;
				c->ph[QUIET].hashed = 1;
			} else if (r.hash != c->ph[QUIET].hash) {
				c->ph[phase].mismatches++;
			}
		}
		phase_push(&c->ph[phase], &r);
		if (round == 0 && o->warmup == 0 && phase == QUIET)
			c->est = r.wall;
	}
	return 0;
}

/*
 * Whether every command's confidence interval is within --precision in
 * every phase that runs.
 */
static int
tight_enough(struct bench_cmd *cmds, size_t k, const struct bench_opts *o,
    int nphases)
{
	size_t i;
	int p, tight = 1;

	for (i = 0; i < k && tight; i++)
		for (p = 0; p < nphases && tight; p++) {
			struct phase *ph = &cmds[i].ph[p];
			double *tmp = pk_xcalloc(2 * ph->n + 2, sizeof(double));

			pk_bench_summarize(ph->wall, ph->n, o->confidence, tmp,
			    &ph->s);
			free(tmp);
			if (!((ph->s.ci_high - ph->s.ci_low) / 2 <=
			    o->precision * ph->s.mean))
				tight = 0;
		}
	return tight;
}

/*
 * The measured rounds. Each round runs every command once, rotating the
 * order, so slow drift of the machine spreads over all commands alike.
 * With --stress (hogs != NULL) each round has a quiet and a stressed half,
 * in alternating order, the hogs stopped and continued between them: the
 * two phases see the same machine, and drift lands in neither the slowdown
 * nor the comparison. Returns 0, the failing status, or -1 when stopped by
 * a signal.
 */
static int
run_rounds(struct bench_cmd *cmds, size_t k, const struct bench_opts *o,
    struct hogs *hogs, int devnull, const posix_spawnattr_t *attr)
{
	struct run_result r;
	size_t round, i, w, target = 0;
	double started, last = 0, sum;
	char what[64];
	int nphases = hogs != NULL ? NPHASES : 1, half, phase, rc;

	snprintf(what, sizeof(what), "%s%s", k > 1 ? "commands" : cmds[0].name,
	    hogs != NULL ? " (quiet/stress)" : "");
	/* Warm-up rounds, quiet, which also estimate each command's duration. */
	for (w = 0; w < o->warmup; w++)
		for (i = 0; i < k; i++) {
			if (pk_stop)
				return -1;
			if (run_once(&cmds[i], o, devnull, attr, &r) == -1) {
				pk_warn_errno("cannot execute '%s'",
				    cmds[i].argv[0]);
				return r.status;
			}
			if (pk_stop)
				return -1;
			if (r.status != 0 && !o->ignore_failure)
				return report_failure(&cmds[i], &r);
			cmds[i].est = w == 0 ? r.wall :
			    (cmds[i].est * (double)w + r.wall) / (double)(w + 1);
		}
	started = pk_mono();
	for (round = 0;; round++) {
		if (target == 0 && (round == 1 || (round == 0 && o->warmup))) {
			/* The run count from the time budget. */
			if (o->runs)
				target = o->runs;
			else if (o->precision > 0)
				target = o->max_runs;
			else {
				sum = 0;
				for (i = 0; i < k; i++)
					sum += cmds[i].est;
				target = sum > 0 ? (size_t)(o->budget *
				    (double)k / sum) : o->max_runs;
				if (target < o->min_runs)
					target = o->min_runs;
				if (target > o->max_runs)
					target = o->max_runs;
			}
		}
		if (target != 0 && round >= target)
			break;
		if (o->precision > 0 && round >= o->min_runs && round >= 2 &&
		    tight_enough(cmds, k, o, nphases))
			break;
		for (half = 0; half < nphases; half++) {
			phase = nphases == 1 ? QUIET :
			    (int)((round + (size_t)half) % 2);
			if (hogs != NULL) {
				if (phase == STRESS)
					hogs_resume(hogs);
				else
					hogs_pause(hogs);
			}
			rc = run_round(cmds, k, o, phase, round, devnull, attr);
			if (rc != 0) {
				progress(o, what, 0, 0, 0, &last, 1);
				return rc;
			}
		}
		progress(o, what, round + 1, target ? target : o->max_runs,
		    started, &last, 0);
	}
	progress(o, what, 0, 0, 0, &last, 1);
	return 0;
}

static void
summarize_phase(struct phase *ph, const struct bench_opts *o)
{
	double *tmp = pk_xcalloc(2 * ph->n + 2, sizeof(double));
	size_t nk;

	ph->kept = pk_xcalloc(ph->n + 1, sizeof(double));
	if (o->drop_outliers) {
		nk = pk_bench_drop_outliers(ph->wall, ph->n, PK_BENCH_OUTLIER_Z,
		    tmp, ph->kept);
		ph->dropped = ph->n - nk;
	} else {
		if (ph->n > 0)
			memcpy(ph->kept, ph->wall, ph->n * sizeof(double));
		nk = ph->n;
	}
	pk_bench_summarize(ph->kept, nk, o->confidence, tmp, &ph->s);
	if (o->drop_outliers)
		/* The count refers to the whole sample, not the kept one. */
		ph->s.outliers = ph->dropped;
	pk_bench_summarize(ph->user, ph->n, o->confidence, tmp, &ph->su);
	pk_bench_summarize(ph->sys, ph->n, o->confidence, tmp, &ph->ss);
	pk_bench_summarize(ph->rss, ph->n, o->confidence, tmp, &ph->sr);
	free(tmp);
}

/* ---- comparisons ---- */

struct cmp {
	double ratio, sd, lo, hi;
	struct pk_bench_test welch, mw;
};

static void
compare(const struct phase *a, const struct phase *b, double confidence,
    struct cmp *c)
{
	size_t na = a->s.n, nb = b->s.n;
	double *tmp = pk_xcalloc(na + nb, sizeof(double));
	size_t *idx = pk_xcalloc(na + nb, sizeof(size_t));

	pk_bench_welch(a->s.mean, a->s.sd, na, b->s.mean, b->s.sd, nb,
	    &c->welch);
	pk_bench_mannwhitney(a->kept, na, b->kept, nb, tmp, idx, &c->mw);
	pk_bench_ratio(a->s.mean, a->s.se, b->s.mean, b->s.se, c->welch.df,
	    confidence, &c->ratio, &c->sd, &c->lo, &c->hi);
	free(tmp);
	free(idx);
}

struct base_cmp {
	int have;
	double ratio, sd, lo, hi;
	struct pk_bench_test welch, mw;
	double median_ratio;	/* NAN without the baseline's runs */
	int robust;		/* judged by Mann-Whitney and the medians */
	int significant, regression;
};

static void
compare_baseline(const struct bench_cmd *c, const struct bench_opts *o,
    struct base_cmp *bc)
{
	const struct phase *ph = &c->ph[QUIET];
	const struct baseline *b = c->base;
	double *tmp;
	size_t *idx;

	memset(bc, 0, sizeof(*bc));
	if (b == NULL || ph->s.n < 2)
		return;
	bc->have = 1;
	pk_bench_welch(ph->s.mean, ph->s.sd, ph->s.n, b->mean, b->sd, b->n,
	    &bc->welch);
	bc->mw.p = NAN;
	bc->median_ratio = NAN;
	if (b->ntimes >= 2) {
		struct pk_bench_summary bs;
		size_t nb = b->ntimes, n = ph->s.n + nb;
		double *bt = pk_xcalloc(nb, sizeof(double));

		tmp = pk_xcalloc(2 * n, sizeof(double));
		idx = pk_xcalloc(n, sizeof(size_t));
		/* The baseline's runs under the same outlier policy. */
		if (o->drop_outliers)
			nb = pk_bench_drop_outliers(b->times, nb,
			    PK_BENCH_OUTLIER_Z, tmp, bt);
		else
			memcpy(bt, b->times, nb * sizeof(double));
		if (nb >= 2 && pk_bench_mannwhitney(ph->kept, ph->s.n, bt, nb,
		    tmp, idx, &bc->mw) == 0) {
			pk_bench_summarize(bt, nb, o->confidence, tmp, &bs);
			if (bs.median > 0) {
				bc->median_ratio = ph->s.median / bs.median;
				bc->robust = 1;
			}
		}
		free(bt);
		free(tmp);
		free(idx);
	}
	pk_bench_ratio(ph->s.mean, ph->s.se, b->mean, b->sd / sqrt((double)b->n),
	    bc->welch.df, o->confidence, &bc->ratio, &bc->sd, &bc->lo, &bc->hi);
	/*
	 * With the baseline's runs at hand, the gate is Mann-Whitney on the
	 * runs and the ratio of the medians: one stray run (a cold cache, a
	 * neighbour's burst) inflates a mean and its sd enough to hide a real
	 * regression from Welch, or to fake one. Without them, Welch on the
	 * stored mean and sd.
	 */
	if (bc->robust) {
		bc->significant = bc->mw.p < o->alpha;
		bc->regression = bc->significant &&
		    bc->median_ratio > 1 + o->threshold;
	} else {
		bc->significant = bc->welch.p < o->alpha;
		bc->regression = bc->significant &&
		    bc->ratio > 1 + o->threshold;
	}
}

/* ---- baselines ---- */

static int
baseline_load(const char *path, struct baseline **out, size_t *nout,
    struct pk_bad *bad)
{
	struct pk_jsonl r;
	struct baseline *v = NULL, *b;
	const char *name, *phase, *type;
	json_t *j, *times, *t;
	double mean, sd, n;
	size_t cap = 0, k = 0, i;
	char *line;
	size_t len;
	int rc;

	if (pk_jsonl_open(&r, path) == -1)
		return -1;
	while ((rc = pk_jsonl_next(&r, &line, &len)) != PK_JSONL_EOF) {
		if (rc == PK_JSONL_ERROR) {
			pk_jsonl_release(&r);
			return -1;
		}
		if (rc == PK_JSONL_STOP)
			break;
		if (rc == PK_JSONL_TOOLONG) {
			pk_bad_line(bad, r.name, r.lineno, "line too long");
			continue;
		}
		if ((j = pk_jsonl_parse(bad, &r, line, len)) == NULL)
			continue;
		phase = pk_path_str(j, "phase");
		type = pk_path_str(j, "type");
		if (type == NULL || strcmp(type, "bench") != 0) {
			/* Other records may share the file. */
			if (type == NULL)
				pk_bad_line(bad, r.name, r.lineno,
				    "no \"type\" field");
			json_decref(j);
			continue;
		}
		if (phase != NULL && strcmp(phase, "quiet") != 0) {
			json_decref(j);
			continue;
		}
		name = pk_path_str(j, "name");
		if (name == NULL || pk_path_num(j, "wall_s.mean", &mean) == -1 ||
		    pk_path_num(j, "wall_s.sd", &sd) == -1 ||
		    pk_path_num(j, "runs", &n) == -1 ||
		    !(n >= 2 && n <= 1e9 && n == floor(n)) || !(mean > 0) ||
		    !(sd >= 0)) {
			pk_bad_line(bad, r.name, r.lineno, "a bench record "
			    "needs name, runs >= 2, wall_s.mean and wall_s.sd");
			json_decref(j);
			continue;
		}
		if (k == cap) {
			cap = cap ? cap * 2 : 8;
			v = realloc(v, cap * sizeof(*v));
			if (v == NULL)
				pk_die_errno(PK_EXIT_IO, "out of memory");
		}
		b = &v[k++];
		memset(b, 0, sizeof(*b));
		b->name = pk_xstrdup(name);
		b->mean = mean;
		b->sd = sd;
		b->n = (size_t)n;
		times = json_object_get(j, "times_s");
		if (json_is_array(times) && json_array_size(times) > 0) {
			b->times = pk_xcalloc(json_array_size(times),
			    sizeof(double));
			json_array_foreach(times, i, t)
				if (json_is_number(t))
					b->times[b->ntimes++] =
					    json_number_value(t);
		}
		json_decref(j);
	}
	pk_jsonl_release(&r);
	*out = v;
	*nout = k;
	return 0;
}

/* ---- output ---- */

static json_t *
num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *
summary_json(const struct pk_bench_summary *s, int full)
{
	json_t *o = json_object();

	json_object_set_new(o, "mean", num(s->mean));
	json_object_set_new(o, "sd", num(s->sd));
	json_object_set_new(o, "median", num(s->median));
	json_object_set_new(o, "min", num(s->min));
	json_object_set_new(o, "max", num(s->max));
	if (full) {
		json_object_set_new(o, "p95", num(s->p95));
		json_object_set_new(o, "p99", num(s->p99));
		json_object_set_new(o, "mad", num(s->mad));
		json_object_set_new(o, "cv", num(s->cv));
		json_object_set_new(o, "ci_low", num(s->ci_low));
		json_object_set_new(o, "ci_high", num(s->ci_high));
		json_object_set_new(o, "jitter", num(s->jitter));
	}
	return o;
}

static json_t *
test_json(const struct cmp *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "ratio", num(c->ratio));
	json_object_set_new(o, "ratio_sd", num(c->sd));
	json_object_set_new(o, "ratio_low", num(c->lo));
	json_object_set_new(o, "ratio_high", num(c->hi));
	json_object_set_new(o, "welch_t", num(c->welch.stat));
	json_object_set_new(o, "welch_df", num(c->welch.df));
	json_object_set_new(o, "welch_p", num(c->welch.p));
	json_object_set_new(o, "mannwhitney_u", num(c->mw.u));
	json_object_set_new(o, "mannwhitney_p", num(c->mw.p));
	return o;
}

static int
unstable_cv(const struct phase *ph, const struct bench_opts *o)
{
	return ph->s.n > 1 && ph->s.cv > o->max_cv;
}

/*
 * The jitter relative to the mean: what the CV misses, the run-to-run
 * instability (a timing that flips between two levels has a jitter of
 * twice its CV), where a slow drift has a large CV and a small jitter.
 */
static double
jitter_rel(const struct phase *ph)
{
	return ph->s.n > 1 && ph->s.mean > 0 ? ph->s.jitter / ph->s.mean : NAN;
}

static int
unstable_jitter(const struct phase *ph, const struct bench_opts *o)
{
	return ph->s.n > 1 && jitter_rel(ph) > o->max_jitter;
}

static int
unstable(const struct phase *ph, const struct bench_opts *o)
{
	return unstable_cv(ph, o) || unstable_jitter(ph, o);
}

struct ctx {
	struct bench_cmd *cmds;
	size_t k;
	const struct bench_opts *o;
	size_t ref;		/* the fastest command */
	size_t ncpu_hogs, nmem_hogs;
	int stopped;
};

static json_t *
record(const struct ctx *x, size_t i, int phase)
{
	const struct bench_cmd *c = &x->cmds[i];
	const struct phase *ph = &c->ph[phase];
	const struct bench_opts *o = x->o;
	json_t *j = json_object(), *a, *s;
	struct cmp cm;
	struct base_cmp bc;
	char hex[17];
	size_t t;

	json_object_set_new(j, "type", json_string("bench"));
	json_object_set_new(j, "ts", json_real(ph->ts));
	json_object_set_new(j, "host", json_string(pk_hostname()));
	json_object_set_new(j, "name", json_string(c->name));
	a = json_array();
	for (t = 0; c->argv[t] != NULL; t++)
		json_array_append_new(a, json_string(c->argv[t]));
	json_object_set_new(j, "command", a);
	json_object_set_new(j, "shell", json_boolean(o->shell));
	json_object_set_new(j, "phase", json_string(phase_name[phase]));
	json_object_set_new(j, "runs", json_integer((json_int_t)ph->n));
	json_object_set_new(j, "warmup", json_integer((json_int_t)o->warmup));
	json_object_set_new(j, "failures",
	    json_integer((json_int_t)ph->failures));
	json_object_set_new(j, "complete", json_boolean(!x->stopped));
	json_object_set_new(j, "confidence", json_real(o->confidence));
	json_object_set_new(j, "wall_s", summary_json(&ph->s, 1));
	json_object_set_new(j, "user_s", summary_json(&ph->su, 0));
	json_object_set_new(j, "sys_s", summary_json(&ph->ss, 0));
	s = json_object();
	json_object_set_new(s, "mean", num(ph->sr.mean));
	json_object_set_new(s, "max", num(ph->sr.max));
	json_object_set_new(j, "maxrss_kb", s);
	s = json_object();
	json_object_set_new(s, "count", json_integer((json_int_t)ph->s.outliers));
	json_object_set_new(s, "policy",
	    json_string(o->drop_outliers ? "drop" : "keep"));
	json_object_set_new(s, "z", json_real(PK_BENCH_OUTLIER_Z));
	json_object_set_new(j, "outliers", s);
	json_object_set_new(j, "max_cv", json_real(o->max_cv));
	json_object_set_new(j, "max_jitter", json_real(o->max_jitter));
	json_object_set_new(j, "jitter_rel", num(jitter_rel(ph)));
	json_object_set_new(j, "stable", json_boolean(!unstable(ph, o)));
	if (o->check_output) {
		snprintf(hex, sizeof(hex), "%016llx", c->ph[QUIET].hash);
		s = json_object();
		json_object_set_new(s, "hash", json_string(hex));
		json_object_set_new(s, "mismatches",
		    json_integer((json_int_t)ph->mismatches));
		json_object_set_new(j, "output", s);
	}
	if (x->k > 1 && i != x->ref && c->ph[phase].s.n > 1 &&
	    x->cmds[x->ref].ph[phase].s.n > 1) {
		compare(ph, &x->cmds[x->ref].ph[phase], o->confidence, &cm);
		s = test_json(&cm);
		json_object_set_new(s, "reference",
		    json_string(x->cmds[x->ref].name));
		json_object_set_new(j, "compare", s);
	}
	if (phase == QUIET && c->base != NULL) {
		compare_baseline(c, o, &bc);
		if (bc.have) {
			cm.ratio = bc.ratio, cm.sd = bc.sd, cm.lo = bc.lo;
			cm.hi = bc.hi, cm.welch = bc.welch, cm.mw = bc.mw;
			s = test_json(&cm);
			json_object_set_new(s, "mean", num(c->base->mean));
			json_object_set_new(s, "threshold", json_real(o->threshold));
			json_object_set_new(s, "alpha", json_real(o->alpha));
			json_object_set_new(s, "median_ratio",
			    num(bc.median_ratio));
			json_object_set_new(s, "test", json_string(bc.robust ?
			    "mannwhitney" : "welch"));
			json_object_set_new(s, "regression",
			    json_boolean(bc.regression));
			json_object_set_new(j, "baseline", s);
		}
	}
	if (phase == STRESS && c->ph[QUIET].s.n > 1 && ph->s.n > 1) {
		compare(ph, &c->ph[QUIET], o->confidence, &cm);
		s = test_json(&cm);
		json_object_set_new(s, "factor", json_integer((json_int_t)o->stress));
		json_object_set_new(s, "cpu_hogs",
		    json_integer((json_int_t)x->ncpu_hogs));
		json_object_set_new(s, "mem_hogs",
		    json_integer((json_int_t)x->nmem_hogs));
		json_object_set_new(s, "cv_quiet", num(c->ph[QUIET].s.cv));
		json_object_set_new(s, "cv_stress", num(ph->s.cv));
		json_object_set_new(j, "stress", s);
	}
	a = json_array();
	for (t = 0; t < ph->n; t++)
		json_array_append_new(a, json_real(ph->wall[t]));
	json_object_set_new(j, "times_s", a);
	return j;
}

/* A time in a unit that suits it. */
static const char *
unit_for(double secs, double *scale)
{
	if (!(secs < 1)) {
		*scale = 1;
		return "s";
	}
	if (secs >= 1e-3) {
		*scale = 1e3;
		return "ms";
	}
	*scale = 1e6;
	return "µs";
}

static void
fmt_p(double p, char *buf, size_t size)
{
	if (isnan(p))
		snprintf(buf, size, "n/a");
	else if (p < 0.001)
		snprintf(buf, size, "< 0.001");
	else
		snprintf(buf, size, "= %.3f", p);
}

#define HIST_MAX_BINS 20

static size_t
histogram(const double *x, size_t n, size_t *counts, double *lo, double *w)
{
	double min = INFINITY, max = -INFINITY;
	size_t bins, i, b;

	for (i = 0; i < n; i++) {
		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
	}
	if (n == 0)
		return 0;
	/* Sturges' rule, at least 5 bins, at most HIST_MAX_BINS. */
	bins = (size_t)ceil(log2((double)n)) + 1;
	if (bins < 5)
		bins = 5;
	if (bins > HIST_MAX_BINS)
		bins = HIST_MAX_BINS;
	if (max <= min)
		bins = 1;
	memset(counts, 0, bins * sizeof(*counts));
	*lo = min;
	*w = bins > 1 ? (max - min) / (double)bins : 0;
	for (i = 0; i < n; i++) {
		b = *w > 0 ? (size_t)((x[i] - min) / *w) : 0;
		if (b >= bins)
			b = bins - 1;
		counts[b]++;
	}
	return bins;
}

static void
report_phase(const struct ctx *x, size_t i, int phase)
{
	const struct bench_cmd *c = &x->cmds[i];
	const struct phase *ph = &c->ph[phase];
	const struct pk_bench_summary *s = &ph->s;
	const struct bench_opts *o = x->o;
	size_t counts[HIST_MAX_BINS], bins, b, maxc = 0, bar, t;
	double sc, lo, w;
	const char *u = unit_for(s->mean, &sc);

	pk_out_printf("%s%s: %zu runs%s%s\n", c->name,
	    phase == STRESS ? " (under stress)" : "", ph->n,
	    x->stopped ? ", interrupted" : "",
	    ph->failures ? ", some failed" : "");
	if (ph->failures)
		pk_out_printf("  failed runs:  %zu of %zu\n", ph->failures,
		    ph->n);
	if (s->n == 0)
		return;
	pk_out_printf("  wall:   %.3f %s ± %.3f %s (mean ± σ), %g%% CI "
	    "[%.3f, %.3f] %s\n", s->mean * sc, u, s->sd * sc, u,
	    o->confidence * 100, s->ci_low * sc, s->ci_high * sc, u);
	pk_out_printf("  median: %.3f %s, MAD %.3f %s, min %.3f, max %.3f, "
	    "p95 %.3f, p99 %.3f %s\n", s->median * sc, u, s->mad * sc, u,
	    s->min * sc, s->max * sc, s->p95 * sc, s->p99 * sc, u);
	pk_out_printf("  user:   %.3f %s, sys %.3f %s, max RSS %.0f KiB\n",
	    ph->su.mean * sc, u, ph->ss.mean * sc, u, ph->sr.max);
	pk_out_printf("  CV %.2f%%, jitter %.3f %s (%.2f%%): %s "
	    "(thresholds %g%%, %g%%)\n", s->cv * 100, s->jitter * sc, u,
	    jitter_rel(ph) * 100, unstable(ph, o) ? "UNSTABLE" : "stable",
	    o->max_cv * 100, o->max_jitter * 100);
	pk_out_printf("  outliers: %zu of %zu (|modified z| > %.1f), %s\n",
	    s->outliers, ph->n, PK_BENCH_OUTLIER_Z,
	    o->drop_outliers ? "dropped" : "kept");
	if (o->check_output) {
		if (ph->mismatches)
			pk_out_printf("  output: DIFFERS in %zu of %zu runs\n",
			    ph->mismatches, ph->n);
		else
			pk_out_printf("  output: identical in all runs "
			    "(fnv1a %016llx)\n", c->ph[QUIET].hash);
	}
	bins = histogram(ph->kept, s->n, counts, &lo, &w);
	for (b = 0; b < bins; b++)
		if (counts[b] > maxc)
			maxc = counts[b];
	for (b = 0; b < bins && s->n > 1; b++) {
		char hashes[41];

		bar = maxc ? (counts[b] * 40 + maxc - 1) / maxc : 0;
		for (t = 0; t < bar; t++)
			hashes[t] = '#';
		hashes[bar] = '\0';
		pk_out_printf("  %10.3f %s |%-40s %zu\n", (lo + w * (double)b) * sc,
		    u, hashes, counts[b]);
	}
}

static void
report(const struct ctx *x)
{
	const struct bench_opts *o = x->o;
	struct base_cmp bc;
	struct cmp cm;
	char pbuf[32], mbuf[32];
	const char *u;
	double sc;
	size_t i;
	int p;

	for (i = 0; i < x->k; i++)
		for (p = 0; p < NPHASES; p++) {
			if (p == STRESS && !o->stress)
				continue;
			if (i > 0 || p > 0)
				pk_out_printf("\n");
			report_phase(x, i, p);
		}
	if (x->k > 1 && x->cmds[x->ref].ph[QUIET].s.n > 1) {
		pk_out_printf("\ncomparison (reference: %s)\n",
		    x->cmds[x->ref].name);
		for (i = 0; i < x->k; i++) {
			if (i == x->ref || x->cmds[i].ph[QUIET].s.n < 2)
				continue;
			compare(&x->cmds[i].ph[QUIET], &x->cmds[x->ref].ph[QUIET],
			    o->confidence, &cm);
			fmt_p(cm.welch.p, pbuf, sizeof(pbuf));
			fmt_p(cm.mw.p, mbuf, sizeof(mbuf));
			pk_out_printf("  %s: %.3f ± %.3f times the reference "
			    "(%g%% CI [%.3f, %.3f]), Welch p %s, Mann-Whitney "
			    "p %s: %s\n", x->cmds[i].name, cm.ratio, cm.sd,
			    o->confidence * 100, cm.lo, cm.hi, pbuf, mbuf,
			    cm.welch.p < o->alpha ? "significant" :
			    "not significant");
		}
	}
	if (o->stress) {
		pk_out_printf("\nstress: %lux (%zu CPU hogs, %zu memory hogs)\n",
		    o->stress, x->ncpu_hogs, x->nmem_hogs);
		for (i = 0; i < x->k; i++) {
			const struct phase *q = &x->cmds[i].ph[QUIET];
			const struct phase *st = &x->cmds[i].ph[STRESS];

			if (q->s.n < 2 || st->s.n < 2)
				continue;
			compare(st, q, o->confidence, &cm);
			fmt_p(cm.welch.p, pbuf, sizeof(pbuf));
			u = unit_for(q->s.p99, &sc);
			pk_out_printf("  %s: slowdown %.3f ± %.3f (%g%% CI "
			    "[%.3f, %.3f], Welch p %s), CV %.2f%% -> %.2f%%, "
			    "p99 %.3f %s -> %.3f %s\n", x->cmds[i].name,
			    cm.ratio, cm.sd, o->confidence * 100, cm.lo, cm.hi,
			    pbuf, q->s.cv * 100, st->s.cv * 100, q->s.p99 * sc,
			    u, st->s.p99 * sc, u);
		}
	}
	if (o->baseline) {
		pk_out_printf("\nbaseline: %s (threshold %g%%, alpha %g)\n",
		    o->baseline, o->threshold * 100, o->alpha);
		for (i = 0; i < x->k; i++) {
			if (x->cmds[i].base == NULL) {
				pk_out_printf("  %s: not in the baseline\n",
				    x->cmds[i].name);
				continue;
			}
			compare_baseline(&x->cmds[i], o, &bc);
			if (!bc.have)
				continue;
			fmt_p(bc.welch.p, pbuf, sizeof(pbuf));
			pk_out_printf("  %s: %.3f ± %.3f times the baseline "
			    "(%g%% CI [%.3f, %.3f]), Welch p %s",
			    x->cmds[i].name, bc.ratio, bc.sd,
			    o->confidence * 100, bc.lo, bc.hi, pbuf);
			if (bc.robust) {
				fmt_p(bc.mw.p, pbuf, sizeof(pbuf));
				pk_out_printf("; median %.3f times, "
				    "Mann-Whitney p %s", bc.median_ratio, pbuf);
			}
			pk_out_printf(": %s\n", bc.regression ? "REGRESSION" :
			    bc.significant && (bc.robust ? bc.median_ratio :
			    bc.ratio) < 1 ? "faster" : "no regression");
		}
	}
}

/* All records as JSON lines in one buffer. */
static char *
records_text(const struct ctx *x, size_t *len)
{
	char *buf = NULL, *s;
	size_t cap = 0, n = 0, l, i;
	json_t *j;
	int p;

	for (i = 0; i < x->k; i++)
		for (p = 0; p < NPHASES; p++) {
			if (p == STRESS && !x->o->stress)
				continue;
			j = record(x, i, p);
			s = json_dumps(j, JSON_COMPACT);
			json_decref(j);
			if (s == NULL)
				pk_die(PK_EXIT_IO, "out of memory");
			l = strlen(s);
			if (n + l + 2 > cap) {
				cap = (n + l + 2) * 2;
				buf = realloc(buf, cap);
				if (buf == NULL)
					pk_die_errno(PK_EXIT_IO, "out of memory");
			}
			memcpy(buf + n, s, l);
			n += l;
			buf[n++] = '\n';
			free(s);
		}
	*len = n;
	return buf;
}

/* A growing string for the Markdown and HTML exports. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL,
		    b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			pk_die(PK_EXIT_IO, "cannot format the report");
		if (b->p != NULL && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			pk_die_errno(PK_EXIT_IO, "out of memory");
	}
}

static void
sb_escape(struct sbuf *b, const char *s, int html)
{
	for (; *s; s++) {
		if (html && *s == '<')
			sb_printf(b, "&lt;");
		else if (html && *s == '>')
			sb_printf(b, "&gt;");
		else if (html && *s == '&')
			sb_printf(b, "&amp;");
		else if (html && *s == '"')
			sb_printf(b, "&quot;");
		else if (!html && (*s == '|' || *s == '`'))
			sb_printf(b, "\\%c", *s);
		else
			sb_printf(b, "%c", *s);
	}
}

static void
markdown(const struct ctx *x, struct sbuf *b)
{
	const struct bench_opts *o = x->o;
	struct cmp cm;
	size_t i;
	int p;

	sb_printf(b, "| Command | Phase | Runs | Mean [ms] | σ [ms] | Median "
	    "[ms] | Min [ms] | Max [ms] | CV | Relative |\n"
	    "|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < x->k; i++)
		for (p = 0; p < NPHASES; p++) {
			const struct phase *ph = &x->cmds[i].ph[p];

			if (p == STRESS && !o->stress)
				continue;
			sb_printf(b, "| `");
			sb_escape(b, x->cmds[i].name, 0);
			sb_printf(b, "` | %s | %zu | %.3f | %.3f | %.3f | %.3f | "
			    "%.3f | %.2f%% | ", phase_name[p], ph->n,
			    ph->s.mean * 1e3, ph->s.sd * 1e3,
			    ph->s.median * 1e3, ph->s.min * 1e3,
			    ph->s.max * 1e3, ph->s.cv * 100);
			if (i == x->ref || x->k == 1 || ph->s.n < 2 ||
			    x->cmds[x->ref].ph[p].s.n < 2) {
				sb_printf(b, "%s |\n", i == x->ref ? "1.00" :
				    "n/a");
				continue;
			}
			compare(ph, &x->cmds[x->ref].ph[p], o->confidence, &cm);
			sb_printf(b, "%.2f ± %.2f |\n", cm.ratio, cm.sd);
		}
}

static void
html_hist(struct sbuf *b, const struct phase *ph)
{
	size_t counts[HIST_MAX_BINS], bins, i, maxc = 0;
	double lo, w, sc, bw, h;
	const char *u = unit_for(ph->s.mean, &sc);

	bins = histogram(ph->kept, ph->s.n, counts, &lo, &w);
	if (bins == 0)
		return;
	for (i = 0; i < bins; i++)
		if (counts[i] > maxc)
			maxc = counts[i];
	bw = 560.0 / (double)bins;
	sb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" "
	    "height=\"240\" viewBox=\"0 0 600 240\" role=\"img\">\n"
	    "<line x1=\"30\" y1=\"200\" x2=\"590\" y2=\"200\" stroke=\"#333\"/>\n");
	for (i = 0; i < bins; i++) {
		h = maxc ? 180.0 * (double)counts[i] / (double)maxc : 0;
		sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\" fill=\"#4a7ab5\"><title>%.3f-%.3f %s: %zu"
		    "</title></rect>\n", 30 + bw * (double)i + 1, 200 - h,
		    bw - 2, h, (lo + w * (double)i) * sc,
		    (lo + w * (double)(i + 1)) * sc, u, counts[i]);
	}
	sb_printf(b, "<text x=\"30\" y=\"220\" font-size=\"12\">%.3f %s</text>\n"
	    "<text x=\"590\" y=\"220\" font-size=\"12\" text-anchor=\"end\">"
	    "%.3f %s</text>\n<text x=\"30\" y=\"14\" font-size=\"12\">max "
	    "count %zu</text>\n</svg>\n", lo * sc, u,
	    (lo + w * (double)bins) * sc, u, maxc);
}

static void
html(const struct ctx *x, struct sbuf *b)
{
	const struct bench_opts *o = x->o;
	struct cmp cm;
	size_t i;
	int p;

	sb_printf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>perf-bench report</title>\n"
	    "<style>body{font-family:sans-serif;margin:2em}"
	    "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
	    "padding:0.2em 0.6em;text-align:right}"
	    "td:first-child{text-align:left}</style>\n</head>\n<body>\n"
	    "<h1>perf-bench report</h1>\n<p>host ");
	sb_escape(b, pk_hostname(), 1);
	sb_printf(b, ", %g%% confidence intervals, outliers %s</p>\n",
	    o->confidence * 100, o->drop_outliers ? "dropped" : "kept");
	sb_printf(b, "<table>\n<tr><th>command</th><th>phase</th><th>runs</th>"
	    "<th>mean [ms]</th><th>σ [ms]</th><th>median [ms]</th>"
	    "<th>p95 [ms]</th><th>p99 [ms]</th><th>CV</th></tr>\n");
	for (i = 0; i < x->k; i++)
		for (p = 0; p < NPHASES; p++) {
			const struct phase *ph = &x->cmds[i].ph[p];

			if (p == STRESS && !o->stress)
				continue;
			sb_printf(b, "<tr><td>");
			sb_escape(b, x->cmds[i].name, 1);
			sb_printf(b, "</td><td>%s</td><td>%zu</td><td>%.3f</td>"
			    "<td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f"
			    "</td><td>%.2f%%</td></tr>\n", phase_name[p], ph->n,
			    ph->s.mean * 1e3, ph->s.sd * 1e3, ph->s.median * 1e3,
			    ph->s.p95 * 1e3, ph->s.p99 * 1e3, ph->s.cv * 100);
		}
	sb_printf(b, "</table>\n");
	if (x->k > 1 && x->cmds[x->ref].ph[QUIET].s.n > 1) {
		sb_printf(b, "<h2>comparison with ");
		sb_escape(b, x->cmds[x->ref].name, 1);
		sb_printf(b, "</h2>\n<table>\n<tr><th>command</th><th>ratio"
		    "</th><th>%g%% CI</th><th>Welch p</th><th>Mann-Whitney p"
		    "</th></tr>\n", o->confidence * 100);
		for (i = 0; i < x->k; i++) {
			if (i == x->ref || x->cmds[i].ph[QUIET].s.n < 2)
				continue;
			compare(&x->cmds[i].ph[QUIET],
			    &x->cmds[x->ref].ph[QUIET], o->confidence, &cm);
			sb_printf(b, "<tr><td>");
			sb_escape(b, x->cmds[i].name, 1);
			sb_printf(b, "</td><td>%.3f ± %.3f</td><td>[%.3f, %.3f]</td>"
			    "<td>%.3g</td><td>%.3g</td></tr>\n", cm.ratio,
			    cm.sd, cm.lo, cm.hi, cm.welch.p, cm.mw.p);
		}
		sb_printf(b, "</table>\n");
	}
	if (o->stress) {
		sb_printf(b, "<h2>stress %lux: %zu CPU hogs, %zu memory hogs"
		    "</h2>\n<table>\n<tr><th>command</th><th>slowdown</th>"
		    "<th>%g%% CI</th><th>CV quiet</th><th>CV stress</th>"
		    "<th>p99 quiet [ms]</th><th>p99 stress [ms]</th></tr>\n",
		    o->stress, x->ncpu_hogs, x->nmem_hogs, o->confidence * 100);
		for (i = 0; i < x->k; i++) {
			const struct phase *q = &x->cmds[i].ph[QUIET];
			const struct phase *st = &x->cmds[i].ph[STRESS];

			if (q->s.n < 2 || st->s.n < 2)
				continue;
			compare(st, q, o->confidence, &cm);
			sb_printf(b, "<tr><td>");
			sb_escape(b, x->cmds[i].name, 1);
			sb_printf(b, "</td><td>%.3f ± %.3f</td><td>[%.3f, %.3f]</td>"
			    "<td>%.2f%%</td><td>%.2f%%</td><td>%.3f</td>"
			    "<td>%.3f</td></tr>\n", cm.ratio, cm.sd, cm.lo,
			    cm.hi, q->s.cv * 100, st->s.cv * 100,
			    q->s.p99 * 1e3, st->s.p99 * 1e3);
		}
		sb_printf(b, "</table>\n");
	}
	for (i = 0; i < x->k; i++)
		for (p = 0; p < NPHASES; p++) {
			if (p == STRESS && !o->stress)
				continue;
			sb_printf(b, "<h2>");
			sb_escape(b, x->cmds[i].name, 1);
			sb_printf(b, " (%s)</h2>\n", phase_name[p]);
			html_hist(b, &x->cmds[i].ph[p]);
		}
	sb_printf(b, "</body>\n</html>\n");
}

static int
export(const char *path, const char *buf, size_t len)
{
	if (pk_atomic_write(path, buf, len, 0644) == -1) {
		pk_warn_errno("cannot write '%s'", path);
		return -1;
	}
	return 0;
}

/* ---- main ---- */

static size_t
split_commands(int argc, char **argv, const struct bench_opts *o,
    char **names, size_t nnames, struct bench_cmd **out)
{
	struct bench_cmd *cmds = pk_xcalloc((size_t)argc, sizeof(*cmds));
	size_t k = 0, len, t;
	int i, start;

	for (i = 0; i < argc; i = start) {
		start = i;
		if (strcmp(argv[i], SEP) == 0) {
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
		while (start < argc && strcmp(argv[start], SEP) != 0)
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

int
main(int argc, char *argv[])
{
	struct bench_opts o = {
		.warmup = 1, .min_runs = 10, .max_runs = 1000, .budget = 3,
		.confidence = 0.95, .max_cv = 0.05, .max_jitter = 0.05,
		.threshold = 0.05,
		.alpha = 0.05,
	};
	struct baseline *bases = NULL;
	size_t nbases = 0, k, i, j, nnames = 0;
	struct bench_cmd *cmds;
	struct pk_bad bad = { 0, 0 };
	posix_spawnattr_t attr;
	struct sigaction sa;
	sigset_t none, all;
	struct hogs hogs = { NULL, 0, 0 };
	struct ctx x;
	char **names;
	char *text;
	size_t len;
	int ch, devnull, status = PK_EXIT_OK, rc, regression = 0, diff = 0,
	    shaky = 0, jumpy = 0, no_progress = 0;
	long ncpu;

	pk_init(argv[0]);
	names = pk_xcalloc((size_t)argc, sizeof(*names));
	while ((ch = getopt_long(argc, argv, "+b:chijM:m:n:r:st:w:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			o.baseline = optarg;
			break;
		case 'c':
			o.check_output = 1;
			break;
		case 'h':
			free(names);
			help();
			break;
		case 'i':
			o.ignore_failure = 1;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'M':
			o.max_runs = (unsigned long)pk_opt_u64(optarg, 2,
			    10000000, "--max-runs");
			break;
		case 'm':
			o.min_runs = (unsigned long)pk_opt_u64(optarg, 1,
			    10000000, "--min-runs");
			break;
		case 'n':
			names[nnames++] = optarg;
			break;
		case 'r':
			o.runs = (unsigned long)pk_opt_u64(optarg, 1, 10000000,
			    "--runs");
			break;
		case 's':
			o.shell = 1;
			break;
		case 't':
			o.budget = pk_opt_duration(optarg, 0.001, 86400 * 7,
			    "--time");
			break;
		case 'w':
			o.warmup = (unsigned long)pk_opt_u64(optarg, 0, 1000000,
			    "--warmup");
			break;
		case OPT_ALPHA:
			o.alpha = pk_opt_double(optarg, 1e-9, 0.5, "--alpha");
			break;
		case OPT_CONFIDENCE:
			o.confidence = opt_pct(optarg, 50, 99.99,
			    "--confidence");
			break;
		case OPT_EXPORT_HTML:
			o.export_html = optarg;
			break;
		case OPT_EXPORT_JSON:
			o.export_json = optarg;
			break;
		case OPT_EXPORT_MD:
			o.export_md = optarg;
			break;
		case OPT_MAX_CV:
			o.max_cv = opt_pct(optarg, 0.001, 1000, "--max-cv");
			o.max_cv_set = 1;
			break;
		case OPT_MAX_JITTER:
			o.max_jitter = opt_pct(optarg, 0.001, 1000,
			    "--max-jitter");
			o.max_jitter_set = 1;
			break;
		case OPT_NO_PROGRESS:
			no_progress = 1;
			break;
		case OPT_OUTLIERS:
			if (strcmp(optarg, "keep") == 0)
				o.drop_outliers = 0;
			else if (strcmp(optarg, "drop") == 0)
				o.drop_outliers = 1;
			else
				pk_die(PK_EXIT_USAGE, "--outliers: '%s' is not "
				    "keep or drop", optarg);
			break;
		case OPT_PRECISION:
			o.precision = opt_pct(optarg, 0.001, 100,
			    "--precision");
			break;
		case OPT_STRESS:
			o.stress = opt_factor(optarg);
			break;
		case OPT_STRESS_MEM:
			o.stress_mem = 1;
			break;
		case OPT_THRESHOLD:
			o.threshold = opt_pct(optarg, 0, 1000, "--threshold");
			break;
		case PK_OPT_VERSION:
			pk_print_version();
			pk_close_stdout();
			free(names);
			return PK_EXIT_OK;
		case PK_OPT_LIST_OPTIONS:
			pk_list_options(longopts);
			pk_close_stdout();
			free(names);
			return PK_EXIT_OK;
		default:
			pk_usage(usage_str);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		pk_usage(usage_str);
	if (o.min_runs > o.max_runs)
		pk_die(PK_EXIT_USAGE, "--min-runs %lu is above --max-runs %lu",
		    o.min_runs, o.max_runs);
	if (o.runs && o.runs < 2 && (o.baseline || o.stress))
		pk_die(PK_EXIT_USAGE, "--baseline and --stress need --runs >= 2");
	if (o.stress_mem && !o.stress)
		pk_die(PK_EXIT_USAGE, "--stress-mem needs --stress");
	o.progress = !no_progress && !o.json && isatty(STDERR_FILENO);
	pk_out_init(0);

	k = split_commands(argc, argv, &o, names, nnames, &cmds);
	free(names);
	if (k == 0)
		pk_usage(usage_str);
	if (nnames > k)
		pk_die(PK_EXIT_USAGE, "%zu names for %zu commands", nnames, k);
	for (i = 0; i < k; i++) {
		if (cmds[i].argv[0] == NULL)
			pk_die(PK_EXIT_USAGE, "an empty command between '%s'",
			    SEP);
		rc = resolve(o.shell ? "/bin/sh" : cmds[i].argv[0],
		    &cmds[i].path);
		if (rc != 0)
			pk_die_errno(rc, "cannot execute '%s'", cmds[i].argv[0]);
		for (j = 0; j < i; j++)
			if (strcmp(cmds[i].name, cmds[j].name) == 0)
				pk_die(PK_EXIT_USAGE, "two commands named '%s' "
				    "(use -n)", cmds[i].name);
	}

	/* The baseline first: a bad file should not cost a benchmark. */
	if (o.baseline != NULL) {
		if (baseline_load(o.baseline, &bases, &nbases, &bad) == -1)
			pk_die_errno(PK_EXIT_IO, "cannot read '%s'", o.baseline);
		for (i = 0; i < k; i++)
			for (j = 0; j < nbases; j++)
				if (strcmp(bases[j].name, cmds[i].name) == 0)
					cmds[i].base = &bases[j];
	}

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull == -1)
		pk_die_errno(PK_EXIT_IO, "cannot open /dev/null");
	/* Children start with every signal at its default and none blocked. */
	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawnattr_init(&attr) != 0 ||
	    posix_spawnattr_setsigmask(&attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &all) != 0 ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF) != 0)
		pk_die(PK_EXIT_IO, "cannot set up posix_spawn");

	/* An inherited SIG_IGN for SIGCHLD would make wait4 lose the rusage. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot reset SIGCHLD");
	/* No SA_RESTART: wait4 and read return EINTR and we stop. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot install signal handlers");

	memset(&x, 0, sizeof(x));
	x.cmds = cmds;
	x.k = k;
	x.o = &o;
	if (o.stress) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		if (ncpu < 1)
			ncpu = 1;
		x.ncpu_hogs = o.stress * (size_t)ncpu;
		x.nmem_hogs = o.stress_mem ? (size_t)ncpu : 0;
		hogs_start(&hogs, x.ncpu_hogs, x.nmem_hogs);
		hogs_pause(&hogs);
	}
	rc = run_rounds(cmds, k, &o, o.stress ? &hogs : NULL, devnull, &attr);
	if (o.stress)
		hogs_stop(&hogs);
	posix_spawnattr_destroy(&attr);
	close(devnull);
	if (rc > 0) {
		status = rc;
		goto out;
	}
	x.stopped = rc == -1;
	for (i = 0; i < k; i++)
		for (j = 0; j < NPHASES; j++) {
			cmds[i].ph[j].ts = pk_now();
			summarize_phase(&cmds[i].ph[j], &o);
		}
	x.ref = 0;
	for (i = 1; i < k; i++)
		if (cmds[i].ph[QUIET].s.mean < cmds[x.ref].ph[QUIET].s.mean)
			x.ref = i;

	if (o.json) {
		text = records_text(&x, &len);
		pk_out_write(text, len);
		free(text);
	} else {
		report(&x);
	}
	if (o.export_json != NULL) {
		text = records_text(&x, &len);
		if (export(o.export_json, text, len) == -1)
			status = PK_EXIT_IO;
		free(text);
	}
	if (o.export_md != NULL || o.export_html != NULL) {
		struct sbuf b = { NULL, 0, 0 };

		if (o.export_md != NULL) {
			markdown(&x, &b);
			if (export(o.export_md, b.p, b.len) == -1)
				status = PK_EXIT_IO;
			b.len = 0;
		}
		if (o.export_html != NULL) {
			html(&x, &b);
			if (export(o.export_html, b.p, b.len) == -1)
				status = PK_EXIT_IO;
		}
		free(b.p);
	}

	for (i = 0; i < k; i++) {
		struct base_cmp bc;

		if (cmds[i].base != NULL) {
			compare_baseline(&cmds[i], &o, &bc);
			regression |= bc.regression;
		}
		diff |= cmds[i].ph[QUIET].mismatches > 0 ||
		    cmds[i].ph[STRESS].mismatches > 0;
		shaky |= unstable_cv(&cmds[i].ph[QUIET], &o) && o.max_cv_set;
		jumpy |= unstable_jitter(&cmds[i].ph[QUIET], &o) &&
		    o.max_jitter_set;
	}
	if (diff)
		pk_warn("the output of the command differs between runs");
	if (shaky)
		pk_warn("the timing is unstable (CV above %g%%)", o.max_cv * 100);
	if (jumpy)
		pk_warn("the timing is unstable (jitter above %g%% of the mean)",
		    o.max_jitter * 100);
	if (regression)
		pk_warn("a regression against the baseline '%s'", o.baseline);
	if (status == PK_EXIT_OK) {
		if (bad.count > 0)
			status = pk_bad_finish(&bad);
		else if (regression || diff || shaky || jumpy)
			status = PK_EXIT_NEGATIVE;
	}
out:
	pk_close_stdout();
	for (i = 0; i < k; i++) {
		free(cmds[i].name);
		free(cmds[i].path);
		for (j = 0; j < NPHASES; j++)
			phase_release(&cmds[i].ph[j]);
	}
	free(cmds);
	for (i = 0; i < nbases; i++) {
		free(bases[i].name);
		free(bases[i].times);
	}
	free(bases);
	if (got_signal) {
		/* Die of the signal, as the shell expects. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		sigaction(got_signal, &sa, NULL);
		raise(got_signal);
		return PK_EXIT_SIGBASE + got_signal;
	}
	return status;
}
