/* SPDX-License-Identifier: MIT */
#ifndef PK_SPAWN_H
#define PK_SPAWN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/*
 * The toolkit's one way to run a child (after git's run-command): the
 * caller fills in what it wants declaratively, the module does the rest
 * the same way for every program.
 *
 * Always, whatever the caller asked:
 * - descriptors above 2 are closed in the child (a pipe another program
 *   waits on is never held open by a child of ours);
 * - the child starts with every signal at its default disposition and an
 *   empty signal mask, whatever the calling thread blocks or ignores;
 * - standard input, output and error are the caller's unless a field
 *   below says otherwise.
 *
 * A zeroed struct pk_spawn runs argv with everything inherited. Fields:
 */
struct pk_spawn {
	/* What to run: argv (argv[0] searched in PATH unless it has a
	 * '/'), or shell_cmd through "/bin/sh -c". */
	const char *const *argv;
	const char *shell_cmd;
	/* With argv: the executable itself, run as it is (no PATH search),
	 * argv[0] left as the child's name; NULL: argv[0] is searched. A
	 * caller that runs one program many times resolves it once. */
	const char *file;

	/* The environment: environ, or with clean_env only the names in
	 * env_keep copied from environ; then env applied over it in order:
	 * "NAME=value" sets, "NAME" unsets, "PREFIX*" unsets every name
	 * that starts with PREFIX. */
	int clean_env;
	const char *const *env_keep;
	const char *const *env;

	/* Standard input: inherited, /dev/null (no_stdin), or input_len
	 * bytes of input written through a pipe, then closed (a child that
	 * does not read them is not an error). */
	int no_stdin;
	const char *input;
	size_t input_len;

	/* Standard output: inherited, /dev/null (no_stdout), our stderr
	 * (stdout_to_stderr: a child's chatter never enters a record
	 * stream), or a pipe (out_pipe): with on_output, pk_spawn_wait()
	 * reads it and hands every chunk to on_output while it feeds the
	 * input and waits; without, the caller reads s->out itself. */
	int no_stdout;
	int stdout_to_stderr;
	int out_pipe;
	void (*on_output)(void *arg, const char *buf, size_t len);
	void *output_arg;
	/* Standard error: inherited, or /dev/null. */
	int no_stderr;

	/* A process group of its own: signals from the timeout (and
	 * pk_spawn_kill) reach everything it started. */
	int new_pgroup;
	/* > 0: SIGTERM after timeout seconds, SIGKILL kill_grace seconds
	 * later (default 1 s). */
	double timeout;
	double kill_grace;
	/* Polled while waiting: non-zero stops the wait as a timeout does
	 * (SIGTERM, then SIGKILL). */
	int (*should_stop)(void *arg);
	void *stop_arg;
	/* The stop is asked by a signal handler of the waiting thread that
	 * was installed without SA_RESTART (as pk_sig_install does). With
	 * no input, no on_output and no timeout, the wait then blocks in
	 * wait4(2), which such a signal interrupts, instead of polling a
	 * pidfd: the cheapest wait, for a caller that times many short
	 * children. The stop itself (SIGTERM, then SIGKILL) is as above. */
	int stop_by_signal;

	/* Results. */
	pid_t pid;
	int out;		/* out_pipe's read end, -1 otherwise */
	int status;		/* the wait status, valid once reaped */
	int reaped;
	int spawn_errno;	/* start failed: the errno, else 0 */
	int timed_out;		/* killed by the timeout */
	int stopped;		/* killed because should_stop said so */
	struct rusage ru;	/* the child's, once reaped */
	int64_t start_ns;	/* CLOCK_MONOTONIC just before the spawn */
	int64_t end_ns;		/* and just after the reap */
	char err[256];		/* why start or wait failed */

	/* Private. */
	int in_fd;
	int pidfd;
};

/*
 * Start the child. 0, or -1 with spawn_errno, err and errno set (then
 * pk_spawn_code() is 126 or 127). The input, if any, is written by
 * pk_spawn_wait().
 */
int pk_spawn_start(struct pk_spawn *s);
/*
 * Write the input and read the output (on_output) while waiting for the
 * child, applying the timeout and should_stop. 0 once reaped (status,
 * ru, end_ns set), -1 with err on a system error. Output that a
 * process the child left behind still writes after it exited is not
 * waited for: what is in the pipe by then is read, then it is closed.
 */
int pk_spawn_wait(struct pk_spawn *s);
/* Reap without waiting: 1 reaped, 0 still running, -1 error. */
int pk_spawn_poll(struct pk_spawn *s);
/* pk_spawn_start then pk_spawn_wait. */
int pk_spawn_run(struct pk_spawn *s);
/* Send sig to the child (its group with new_pgroup). */
int pk_spawn_kill(struct pk_spawn *s, int sig);
/* Close what is left open (the pipes); the child must be reaped first. */
void pk_spawn_release(struct pk_spawn *s);

/*
 * The toolkit's status for the child: its exit status, 128+N when killed
 * by signal N, 127 when it could not be found, 126 when it could not be
 * run.
 */
int pk_spawn_code(const struct pk_spawn *s);
/* Whether it exited with status 0. */
int pk_spawn_ok(const struct pk_spawn *s);
/*
 * What happened, for a message: "exited with status 3", "killed by
 * signal 9 (Killed)", "timed out after 5 s", "stopped", "cannot run
 * 'x': …".
 */
const char *pk_spawn_describe(const struct pk_spawn *s, char *buf,
    size_t size);

#endif
