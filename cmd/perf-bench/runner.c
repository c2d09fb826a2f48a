/* SPDX-License-Identifier: MIT */
/*
 * The runner: warm-up runs, then rounds that run every command once in a
 * rotating order, with --stress a quiet and a stressed half each. A run
 * goes through pk_spawn: stdin, stderr and (unless -c hashes it) stdout
 * on /dev/null, a process group of its own, the wall time from the spawn
 * to the reap and the rusage of that run alone.
 */
#include "perf-bench.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_hash.h"
#include "pk_spawn.h"
#include "pk_time.h"

struct run_result {
	int status;		/* 0, the child's code, 126/127, 128+N */
	int signo;		/* the signal that killed it, or 0 */
	double wall, user, sys, rss_kb;
	unsigned long long hash;
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
	pk_stop = 1;
}

void
bench_signals(void)
{
	struct sigaction sa;

	/* An inherited SIG_IGN for SIGCHLD would make wait4 lose the rusage. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot reset SIGCHLD");
	/* No SA_RESTART: the wait returns EINTR and the run is stopped. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot install signal handlers");
}

void
bench_signal_exit(void)
{
	struct sigaction sa;

	if (!got_signal)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(got_signal, &sa, NULL);
	raise(got_signal);
	exit(PK_EXIT_SIGBASE + got_signal);
}

void
bench_runs_push(struct bench_runs *r, double wall, double user, double sys,
    double rss_kb)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->wall = pk_xreallocarray(r->wall, r->cap, sizeof(double));
		r->user = pk_xreallocarray(r->user, r->cap, sizeof(double));
		r->sys = pk_xreallocarray(r->sys, r->cap, sizeof(double));
		r->rss = pk_xreallocarray(r->rss, r->cap, sizeof(double));
	}
	r->wall[r->n] = wall;
	r->user[r->n] = user;
	r->sys[r->n] = sys;
	r->rss[r->n] = rss_kb;
	r->n++;
}

void
bench_runs_release(struct bench_runs *r)
{
	free(r->wall);
	free(r->user);
	free(r->sys);
	free(r->rss);
	memset(r, 0, sizeof(*r));
}

static double
tv_secs(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void
hash_output(void *arg, const char *buf, size_t len)
{
	unsigned long long *h = arg;

	*h = pk_hash_fnv1a(*h, buf, len);
}

static int
stop_requested(void *arg)
{
	(void)arg;
	return pk_stop != 0;
}

/* Processes of process group pgid that have not exited (no zombies). */
static size_t
group_count(pid_t pgid)
{
	struct dirent *e;
	char path[sizeof(e->d_name) + 16], buf[512], state, *p;
	ssize_t len;
	size_t n = 0;
	DIR *d;
	int fd, pg;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) state ppid pgrp ...", comm may hold anything. */
		if ((p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %c %*d %d", &state, &pg) == 2 &&
		    pg == (int)pgid && state != 'Z' && state != 'X')
			n++;
	}
	closedir(d);
	return n;
}

/*
 * The command has exited; what it started in its process group may still
 * run (and hold its output pipe, or load the next run). One kill(2) tells;
 * then, once per command, say how many, and kill them all.
 */
static void
reap_group(struct bench_cmd *c, const struct bench_opts *o, pid_t pgid)
{
	size_t n;

	if (kill(-pgid, 0) == -1)
		return;
	if (!c->left_behind && (n = group_count(pgid)) > 0) {
		if (o->progress)
			fputs("\r\033[K", stderr);
		pk_warn("'%s' left %zu process%s running after it exited",
		    c->name, n, n == 1 ? "" : "es");
		c->left_behind = 1;
	}
	kill(-pgid, SIGKILL);
}

/*
 * One run. Returns 0, or -1 if the spawn failed (errno set, r->status 126
 * or 127).
 */
static int
run_once(struct bench_cmd *c, const struct bench_opts *o,
    struct run_result *r)
{
	struct pk_spawn s;

	memset(&s, 0, sizeof(s));
	memset(r, 0, sizeof(*r));
	r->hash = PK_HASH_FNV_INIT;
	s.argv = (const char *const *)c->argv;
	s.file = c->path;
	s.no_stdin = 1;
	s.no_stderr = 1;
	if (o->check_output) {
		s.out_pipe = 1;
		s.on_output = hash_output;
		s.output_arg = &r->hash;
	} else {
		s.no_stdout = 1;
	}
	s.new_pgroup = 1;
	s.should_stop = stop_requested;
	s.stop_by_signal = 1;
	if (pk_spawn_start(&s) == -1) {
		r->status = pk_spawn_code(&s);
		errno = s.spawn_errno;
		return -1;
	}
	if (pk_spawn_wait(&s) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot wait for the command");
	reap_group(c, o, s.pid);
	pk_spawn_release(&s);
	r->wall = (double)(s.end_ns - s.start_ns) / 1e9;
	r->user = tv_secs(&s.ru.ru_utime);
	r->sys = tv_secs(&s.ru.ru_stime);
	r->rss_kb = (double)s.ru.ru_maxrss;
	r->status = pk_spawn_code(&s);
	if (WIFSIGNALED(s.status))
		r->signo = WTERMSIG(s.status);
	return 0;
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
    int phase, size_t round)
{
	struct run_result r;
	size_t j;

	for (j = 0; j < k; j++) {
		struct bench_cmd *c = &cmds[(j + round) % k];

		if (pk_stop)
			return -1;
		if (run_once(c, o, &r) == -1) {
			pk_warn_errno("cannot execute '%s'", c->argv[0]);
			return r.status;
		}
		if (pk_stop)
			/*
			 * We killed it, or the terminal's SIGINT reached it
			 * too: not a measurement.
			 */
			return -1;
		if (r.status != 0) {
			c->ph[phase].failures++;
			if (!o->ignore_failure)
				return report_failure(c, &r);
		}
		if (o->check_output) {
			if (!c->hashed) {
				c->hash = r.hash;
				c->hashed = 1;
			} else if (r.hash != c->hash) {
				c->ph[phase].mismatches++;
			}
		}
		bench_runs_push(&c->ph[phase], r.wall, r.user, r.sys, r.rss_kb);
		if (round == 0 && o->warmup == 0 && phase == BENCH_QUIET)
			c->est = r.wall;
	}
	return 0;
}

/* Warm-up rounds, quiet, which also estimate each command's duration. */
static int
warm_up(struct bench_cmd *cmds, size_t k, const struct bench_opts *o)
{
	struct run_result r;
	size_t w, i;

	for (w = 0; w < o->warmup; w++)
		for (i = 0; i < k; i++) {
			if (pk_stop)
				return -1;
			if (run_once(&cmds[i], o, &r) == -1) {
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
	return 0;
}

/* The run count from the options and the estimated durations. */
static size_t
run_target(const struct bench_cmd *cmds, size_t k, const struct bench_opts *o)
{
	size_t target, i;
	double sum = 0;

	if (o->runs)
		return o->runs;
	if (o->precision > 0)
		return o->max_runs;
	for (i = 0; i < k; i++)
		sum += cmds[i].est;
	target = sum > 0 ? (size_t)(o->budget * (double)k / sum) : o->max_runs;
	if (target < o->min_runs)
		target = o->min_runs;
	if (target > o->max_runs)
		target = o->max_runs;
	return target;
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
    struct pk_hogs *hogs)
{
	size_t round, target = 0;
	double started, last = 0;
	char what[64];
	int nphases = hogs != NULL ? BENCH_NPHASES : 1, half, phase, rc;

	snprintf(what, sizeof(what), "%s%s", k > 1 ? "commands" : cmds[0].name,
	    hogs != NULL ? " (quiet/stress)" : "");
	if ((rc = warm_up(cmds, k, o)) != 0)
		return rc;
	started = pk_mono();
	for (round = 0;; round++) {
		if (target == 0 && (round == 1 || (round == 0 && o->warmup)))
			target = run_target(cmds, k, o);
		if (target != 0 && round >= target)
			break;
		if (o->precision > 0 && round >= o->min_runs && round >= 2 &&
		    bench_tight_enough(cmds, k, o, nphases))
			break;
		for (half = 0; half < nphases; half++) {
			phase = nphases == 1 ? BENCH_QUIET :
			    (int)((round + (size_t)half) % 2);
			if (hogs != NULL) {
				if (phase == BENCH_STRESS)
					pk_hogs_resume(hogs);
				else
					pk_hogs_pause(hogs);
			}
			rc = run_round(cmds, k, o, phase, round);
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

int
bench_run(struct bench_cmd *cmds, size_t k, const struct bench_opts *o,
    struct bench_results *r)
{
	struct pk_hogs hogs = { NULL, 0, 0 };
	long ncpu;
	int rc;

	if (o->stress) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		if (ncpu < 1)
			ncpu = 1;
		r->ncpu_hogs = o->stress * (size_t)ncpu;
		r->nmem_hogs = o->stress_mem ? (size_t)ncpu : 0;
		if (pk_hogs_start(&hogs, r->ncpu_hogs, r->nmem_hogs,
		    "perf-bench") == -1)
			pk_die_errno(PK_EXIT_IO, "cannot start a stress process");
		pk_hogs_pause(&hogs);
	}
	rc = run_rounds(cmds, k, o, o->stress ? &hogs : NULL);
	if (o->stress)
		pk_hogs_stop(&hogs);
	r->complete = rc != -1;
	return rc;
}
