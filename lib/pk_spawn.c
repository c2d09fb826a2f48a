/* SPDX-License-Identifier: MIT */
#include "pk_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
name_is(const char *entry, const char *name, size_t n)
{
	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* Whether env entry e ("NAME=v") is removed by rule r ("NAME", "NAME=…", "P*"). */
static int
env_hit(const char *e, const char *r)
{
	size_t n = strcspn(r, "=*");

	if (r[n] == '*')
		return strncmp(e, r, n) == 0;
	return name_is(e, r, n);
}

/*
 * The child's environment, or NULL for environ itself (nothing to
 * change). -1 on allocation failure.
 */
static int
build_env(const struct pk_spawn *s, char ***out)
{
	size_t nbase = 0, nenv = 0, k = 0, i, j;
	char **v;

	*out = NULL;
	if (!s->clean_env && s->env == NULL)
		return 0;
	for (i = 0; environ[i] != NULL; i++)
		nbase++;
	for (i = 0; s->env != NULL && s->env[i] != NULL; i++)
		nenv++;
	if ((v = calloc(nbase + nenv + 1, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; environ[i] != NULL; i++) {
		const char *e = environ[i];
		int keep = !s->clean_env;

		for (j = 0; s->clean_env && s->env_keep != NULL &&
		    s->env_keep[j] != NULL; j++)
			if (name_is(e, s->env_keep[j], strlen(s->env_keep[j])))
				keep = 1;
		for (j = 0; keep && j < nenv; j++)
			if (env_hit(e, s->env[j]))
				keep = 0;
		if (keep)
			v[k++] = (char *)e;
	}
	for (j = 0; j < nenv; j++) {
		const char *e = s->env[j];

		if (strchr(e, '=') == NULL)
			continue;
		/* A later setting of the same name wins. */
		for (i = j + 1; i < nenv; i++)
			if (strchr(s->env[i], '=') != NULL &&
			    strncmp(s->env[i], e, strcspn(e, "=") + 1) == 0)
				break;
		if (i == nenv)
			v[k++] = (char *)e;
	}
	v[k] = NULL;
	*out = v;
	return 0;
}

/*
 * One descriptor of /dev/null for every child of the process, opened at
 * the first need and kept (close-on-exec, above 2): a child then dup2s it
 * instead of opening the path up to three times, which is most of what a
 * spawn costs beyond fork and exec (perf-bench times every run). -1 with
 * errno if it cannot be opened.
 */
static int
null_fd(void)
{
	static int cached = -1;
	int fd = __atomic_load_n(&cached, __ATOMIC_ACQUIRE), low, expected = -1;

	if (fd != -1)
		return fd;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	if (fd < 3) {
		/* Standard descriptors were closed: keep clear of them. */
		low = fd;
		fd = fcntl(low, F_DUPFD_CLOEXEC, 3);
		close(low);
		if (fd == -1)
			return -1;
	}
	if (!__atomic_compare_exchange_n(&cached, &expected, fd, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		close(fd);	/* another thread was first */
		fd = expected;
	}
	return fd;
}

/* Whether pk_spawn_wait() may block in wait4 (stop_by_signal). */
static int
wait_blocks(const struct pk_spawn *s)
{
	return s->stop_by_signal && s->input == NULL && s->on_output == NULL &&
	    !(s->timeout > 0);
}

static int
set_err(struct pk_spawn *s, int e, const char *what)
{
	const char *name = s->shell_cmd != NULL ? "/bin/sh" :
	    s->argv != NULL && s->argv[0] != NULL ? s->argv[0] : "?";

	snprintf(s->err, sizeof(s->err), "%s '%s': %s", what, name,
	    strerror(e));
	errno = e;
	return -1;
}

int
pk_spawn_start(struct pk_spawn *s)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	const char *shargv[4];
	char *const *argv;
	char **envp;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, e = 0, nul = -1;
	short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
	const char *path;

	s->pid = -1;
	s->out = -1;
	s->in_fd = -1;
	s->pidfd = -1;
	s->status = 0;
	s->reaped = 0;
	s->spawn_errno = 0;
	s->timed_out = 0;
	s->stopped = 0;
	s->err[0] = '\0';
	memset(&s->ru, 0, sizeof(s->ru));
	if (s->shell_cmd != NULL) {
		shargv[0] = "sh";
		shargv[1] = "-c";
		shargv[2] = s->shell_cmd;
		shargv[3] = NULL;
		argv = (char *const *)shargv;
		path = "/bin/sh";
	} else if (s->argv != NULL && s->argv[0] != NULL) {
		argv = (char *const *)s->argv;
		path = s->file != NULL ? s->file : s->argv[0];
	} else {
		s->spawn_errno = EINVAL;
		return set_err(s, EINVAL, "nothing to run for");
	}
	if (build_env(s, &envp) == -1) {
		s->spawn_errno = ENOMEM;
		return set_err(s, ENOMEM, "cannot run");
	}
	if ((s->input != NULL && pipe2(in, O_CLOEXEC) == -1) ||
	    (s->out_pipe && pipe2(out, O_CLOEXEC) == -1)) {
		e = errno;
		goto fail_pipes;
	}
	if ((s->no_stdin || s->no_stdout || s->no_stderr) &&
	    (nul = null_fd()) == -1) {
		e = errno;
		goto fail_pipes;
	}
	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		goto fail_pipes;
	if ((e = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		goto fail_pipes;
	}
	if (in[0] != -1)
		e = posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else if (s->no_stdin)
		e = posix_spawn_file_actions_adddup2(&fa, nul, 0);
	if (e == 0 && out[1] != -1)
		e = posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	else if (e == 0 && s->stdout_to_stderr)
		e = posix_spawn_file_actions_adddup2(&fa, 2, 1);
	else if (e == 0 && s->no_stdout)
		e = posix_spawn_file_actions_adddup2(&fa, nul, 1);
	if (e == 0 && s->no_stderr)
		e = posix_spawn_file_actions_adddup2(&fa, nul, 2);
	if (e == 0)
		e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigemptyset(&none);
	if (s->new_pgroup) {
		flags |= POSIX_SPAWN_SETPGROUP;
		if (e == 0)
			e = posix_spawnattr_setpgroup(&at, 0);
	}
	if (e == 0)
		e = posix_spawnattr_setsigdefault(&at, &all);
	if (e == 0)
		e = posix_spawnattr_setsigmask(&at, &none);
	if (e == 0)
		e = posix_spawnattr_setflags(&at, flags);
	if (e == 0) {
		s->start_ns = now_ns();
		if (strchr(path, '/') != NULL || path == s->file)
			e = posix_spawn(&s->pid, path, &fa, &at, argv,
			    envp != NULL ? envp : environ);
		else
			e = posix_spawnp(&s->pid, path, &fa, &at, argv,
			    envp != NULL ? envp : environ);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (e != 0)
		goto fail_pipes;
	free(envp);
	if (in[0] != -1) {
		close(in[0]);
		s->in_fd = in[1];
		(void)fcntl(s->in_fd, F_SETFL, O_NONBLOCK);
	}
	if (out[1] != -1) {
		close(out[1]);
		s->out = out[0];
		if (s->on_output != NULL)
			(void)fcntl(s->out, F_SETFL, O_NONBLOCK);
	}
	return 0;

fail_pipes:
	free(envp);
	if (in[0] != -1) {
		close(in[0]);
		close(in[1]);
	}
	if (out[0] != -1) {
		close(out[0]);
		close(out[1]);
	}
	s->pid = -1;
	s->spawn_errno = e;
	return set_err(s, e, "cannot run");
}

int
pk_spawn_kill(struct pk_spawn *s, int sig)
{
	if (s->pid <= 0 || s->reaped)
		return 0;
	if (s->new_pgroup && kill(-s->pid, sig) == 0)
		return 0;
	return kill(s->pid, sig);
}

static int
reap(struct pk_spawn *s, int flags)
{
	pid_t r;

	do
		r = wait4(s->pid, &s->status, flags, &s->ru);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		snprintf(s->err, sizeof(s->err), "cannot wait for the child: %s",
		    strerror(errno));
		return -1;
	}
	if (r == 0)
		return 0;
	s->reaped = 1;
	s->end_ns = now_ns();
	if (s->pidfd != -1) {
		close(s->pidfd);
		s->pidfd = -1;
	}
	return 1;
}

int
pk_spawn_poll(struct pk_spawn *s)
{
	if (s->pid <= 0)
		return -1;
	if (s->reaped)
		return 1;
	return reap(s, WNOHANG);
}

/*
 * Write what is left of the input without blocking. A child that closed
 * its input (EPIPE) or exited is not an error: the input is dropped.
 * SIGPIPE is blocked around the write and a SIGPIPE it raised is
 * consumed, whatever the caller's disposition.
 */
static void
feed(struct pk_spawn *s, size_t *off)
{
	sigset_t pipeset, old;
	struct timespec zero = { 0, 0 };
	int done = 0;

	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipeset, &old);
	while (*off < s->input_len) {
		ssize_t w = write(s->in_fd, s->input + *off,
		    s->input_len - *off);

		if (w > 0) {
			*off += (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		done = 1;	/* EPIPE or another error: drop the rest */
		break;
	}
	if (!sigismember(&old, SIGPIPE))
		while (sigtimedwait(&pipeset, NULL, &zero) == SIGPIPE)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (done || *off >= s->input_len) {
		close(s->in_fd);
		s->in_fd = -1;
	}
}

/* Hand what the output pipe holds to on_output; closed at its end. */
static void
drain(struct pk_spawn *s)
{
	char buf[65536];
	ssize_t r;

	for (;;) {
		r = read(s->out, buf, sizeof(buf));
		if (r > 0) {
			s->on_output(s->output_arg, buf, (size_t)r);
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close(s->out);
		s->out = -1;
		return;
	}
}

/*
 * Block in wait4 until the child is reaped or a signal (stop_by_signal)
 * makes should_stop say stop: 1 reaped, 0 stop (the pidfd then opened for
 * the timed kill that follows), -1 error.
 */
static int
wait_blocking(struct pk_spawn *s)
{
	pid_t r;

	for (;;) {
		if (s->should_stop != NULL && s->should_stop(s->stop_arg))
			break;
		r = wait4(s->pid, &s->status, 0, &s->ru);
		if (r == s->pid) {
			s->reaped = 1;
			s->end_ns = now_ns();
			return 1;
		}
		if (r == -1 && errno != EINTR) {
			snprintf(s->err, sizeof(s->err),
			    "cannot wait for the child: %s", strerror(errno));
			return -1;
		}
	}
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	return 0;
}

int
pk_spawn_wait(struct pk_spawn *s)
{
	int64_t deadline = 0, kill_at = 0;
	size_t off = 0;
	int slept_us = 100, r, first = 1;

	if (s->pid <= 0)
		return -1;
	/*
	 * The pidfd is opened here, not at the start (the child is ours to
	 * reap, so it cannot be gone yet): a child started in the
	 * background and reaped with pk_spawn_poll holds no descriptor, and
	 * its program makes no syscall that valgrind does not know.
	 */
	if (s->pidfd == -1 && !s->reaped && !wait_blocks(s))
		s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (s->timeout > 0)
		deadline = s->start_ns + (int64_t)(s->timeout * 1e9);
	if (s->in_fd != -1)
		feed(s, &off);
	if (wait_blocks(s) && !s->reaped && wait_blocking(s) == -1)
		return -1;
	while (!s->reaped) {
		struct pollfd p[3];
		int64_t now, wait_ns = 100000000;	/* 100 ms */
		int np = 0;

		/*
		 * A child just started has hardly exited yet: with a pidfd
		 * the first look is the poll below, which says when it has.
		 */
		if (!first || s->pidfd == -1) {
			if ((r = reap(s, WNOHANG)) == -1)
				return -1;
			if (r == 1)
				break;
		}
		first = 0;
		now = now_ns();
		if (kill_at == 0 && deadline > 0 && now >= deadline)
			s->timed_out = 1;
		else if (kill_at == 0 && s->should_stop != NULL &&
		    s->should_stop(s->stop_arg))
			s->stopped = 1;
		if (kill_at == 0 && (s->timed_out || s->stopped)) {
			double g = s->kill_grace > 0 ? s->kill_grace : 1;

			pk_spawn_kill(s, SIGTERM);
			kill_at = now + (int64_t)(g * 1e9);
			if (s->in_fd != -1) {
				close(s->in_fd);
				s->in_fd = -1;
			}
		}
		if (kill_at > 0 && now >= kill_at) {
			pk_spawn_kill(s, SIGKILL);
			kill_at = INT64_MAX;
		}
		if (deadline > 0 && kill_at == 0 && deadline - now < wait_ns)
			wait_ns = deadline - now;
		if (kill_at > 0 && kill_at != INT64_MAX && kill_at - now < wait_ns)
			wait_ns = kill_at - now;
		if (wait_ns < 1000000)
			wait_ns = 1000000;
		if (s->pidfd != -1) {
			p[np].fd = s->pidfd;
			p[np++].events = POLLIN;
		}
		if (s->in_fd != -1) {
			p[np].fd = s->in_fd;
			p[np++].events = POLLOUT;
		}
		if (s->out != -1 && s->on_output != NULL) {
			p[np].fd = s->out;
			p[np++].events = POLLIN;
		}
		if (s->pidfd == -1) {
			/* No pidfd (an old kernel): sleep, a little longer each time. */
			if (np > 0)
				(void)poll(p, (nfds_t)np, slept_us / 1000);
			else
				usleep((useconds_t)slept_us);
			if (slept_us < 20000)
				slept_us *= 2;
		} else {
			(void)poll(p, (nfds_t)np, (int)(wait_ns / 1000000));
		}
		if (s->in_fd != -1)
			feed(s, &off);
		if (s->out != -1 && s->on_output != NULL)
			drain(s);
	}
	if (s->in_fd != -1) {
		close(s->in_fd);
		s->in_fd = -1;
	}
	if (s->out != -1 && s->on_output != NULL) {
		drain(s);
		if (s->out != -1) {
			close(s->out);
			s->out = -1;
		}
	}
	return 0;
}

int
pk_spawn_run(struct pk_spawn *s)
{
	if (pk_spawn_start(s) == -1)
		return -1;
	return pk_spawn_wait(s);
}

void
pk_spawn_release(struct pk_spawn *s)
{
	if (s->in_fd != -1)
		close(s->in_fd);
	if (s->out != -1)
		close(s->out);
	if (s->pidfd != -1)
		close(s->pidfd);
	s->in_fd = s->out = s->pidfd = -1;
}

int
pk_spawn_code(const struct pk_spawn *s)
{
	if (s->spawn_errno != 0)
		return s->spawn_errno == ENOENT || s->spawn_errno == ENOTDIR ?
		    127 : 126;
	if (!s->reaped)
		return 126;
	if (WIFEXITED(s->status))
		return WEXITSTATUS(s->status);
	if (WIFSIGNALED(s->status))
		return 128 + WTERMSIG(s->status);
	return 126;
}

int
pk_spawn_ok(const struct pk_spawn *s)
{
	return s->spawn_errno == 0 && s->reaped && !s->timed_out &&
	    !s->stopped && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0;
}

const char *
pk_spawn_describe(const struct pk_spawn *s, char *buf, size_t size)
{
	if (s->spawn_errno != 0)
		snprintf(buf, size, "%s", s->err);
	else if (!s->reaped)
		snprintf(buf, size, "%s", s->err[0] ? s->err : "not reaped");
	else if (s->timed_out)
		snprintf(buf, size, "timed out after %g s", s->timeout);
	else if (s->stopped)
		snprintf(buf, size, "stopped");
	else if (WIFEXITED(s->status))
		snprintf(buf, size, "exited with status %d",
		    WEXITSTATUS(s->status));
	else if (WIFSIGNALED(s->status))
		snprintf(buf, size, "killed by signal %d (%s)",
		    WTERMSIG(s->status), strsignal(WTERMSIG(s->status)));
	else
		snprintf(buf, size, "ended with wait status %d", s->status);
	return buf;
}
