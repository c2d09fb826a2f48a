/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_spawn.h"

/* Everything the child wrote on its standard output (out_pipe). */
static size_t
slurp(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return n;
}

struct outbuf {
	char buf[4096];
	size_t len;
};

static void
collect(void *arg, const char *buf, size_t len)
{
	struct outbuf *o = arg;

	if (len > sizeof(o->buf) - 1 - o->len)
		len = sizeof(o->buf) - 1 - o->len;
	memcpy(o->buf + o->len, buf, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

/* Run a shell command with out_pipe; its output in buf, its status back. */
static int
sh_out(struct pk_spawn *s, const char *cmd, char *buf, size_t size)
{
	struct outbuf o;

	o.len = 0;
	o.buf[0] = '\0';
	s->shell_cmd = cmd;
	s->out_pipe = 1;
	s->on_output = collect;
	s->output_arg = &o;
	assert_int_equal(pk_spawn_run(s), 0);
	assert_int_equal(s->out, -1);
	pk_spawn_release(s);
	snprintf(buf, size, "%s", o.buf);
	return pk_spawn_code(s);
}

static void
test_output_read_by_caller(void **state)
{
	struct pk_spawn s;
	char buf[64];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.shell_cmd = "echo one; echo two";
	s.out_pipe = 1;
	assert_int_equal(pk_spawn_start(&s), 0);
	slurp(s.out, buf, sizeof(buf));
	assert_int_equal(pk_spawn_wait(&s), 0);
	pk_spawn_release(&s);
	assert_string_equal(buf, "one\ntwo\n");
	/* A background process that keeps the pipe open is not waited for. */
	memset(&s, 0, sizeof(s));
	s.new_pgroup = 1;
	assert_int_equal(sh_out(&s, "echo early; sleep 30 & exit 0", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "early\n");
	/* What it left behind is still in its group. */
	assert_int_equal(kill(-s.pid, SIGKILL), 0);
}

static void
test_exit_codes(void **state)
{
	const char *const t[] = { "true", NULL };
	const char *const missing[] = { "/nonexistent/perfkit-none", NULL };
	const char *const noexec[] = { "/etc/hostname", NULL };
	struct pk_spawn s;
	char buf[256];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.argv = t;
	assert_int_equal(pk_spawn_run(&s), 0);
	assert_true(pk_spawn_ok(&s));
	assert_int_equal(pk_spawn_code(&s), 0);

	memset(&s, 0, sizeof(s));
	s.shell_cmd = "exit 3";
	assert_int_equal(pk_spawn_run(&s), 0);
	assert_false(pk_spawn_ok(&s));
	assert_int_equal(pk_spawn_code(&s), 3);
	assert_string_equal(pk_spawn_describe(&s, buf, sizeof(buf)),
	    "exited with status 3");

	memset(&s, 0, sizeof(s));
	s.argv = missing;
	assert_int_equal(pk_spawn_run(&s), -1);
	assert_int_equal(pk_spawn_code(&s), 127);
	assert_non_null(strstr(pk_spawn_describe(&s, buf, sizeof(buf)),
	    "perfkit-none"));

	memset(&s, 0, sizeof(s));
	s.argv = noexec;
	assert_int_equal(pk_spawn_run(&s), -1);
	assert_int_equal(pk_spawn_code(&s), 126);

	memset(&s, 0, sizeof(s));
	s.shell_cmd = "kill -9 $$";
	assert_int_equal(pk_spawn_run(&s), 0);
	assert_int_equal(pk_spawn_code(&s), 137);
	assert_string_equal(pk_spawn_describe(&s, buf, sizeof(buf)),
	    "killed by signal 9 (Killed)");
}

static void
test_input(void **state)
{
	char path[] = "/tmp/pk-spawn-XXXXXX", cmd[128], *big, buf[64];
	size_t n = 1 << 20, i;
	struct pk_spawn s;
	struct stat st;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	close(fd);
	big = malloc(n);
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	/* A child that reads all of it. */
	snprintf(cmd, sizeof(cmd), "cat >'%s'", path);
	memset(&s, 0, sizeof(s));
	s.shell_cmd = cmd;
	s.input = big;
	s.input_len = n;
	assert_int_equal(pk_spawn_run(&s), 0);
	assert_true(pk_spawn_ok(&s));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((size_t)st.st_size, n);
	/* A child that reads none of it: no hang, no SIGPIPE for us. */
	memset(&s, 0, sizeof(s));
	s.shell_cmd = "exit 0";
	s.input = big;
	s.input_len = n;
	assert_int_equal(pk_spawn_run(&s), 0);
	assert_true(pk_spawn_ok(&s));
	/* One that reads a line and stops. */
	big[10] = '\n';
	memset(&s, 0, sizeof(s));
	s.input = big;
	s.input_len = n;
	assert_int_equal(sh_out(&s, "read x; echo \"$x\"", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "abcdefghij\n");
	/* no_stdin: end of file at once. */
	memset(&s, 0, sizeof(s));
	s.no_stdin = 1;
	assert_int_equal(sh_out(&s, "wc -c", buf, sizeof(buf)), 0);
	assert_int_equal((int)strtol(buf, NULL, 10), 0);
	free(big);
	unlink(path);
}

static void
test_stdout_to_stderr(void **state)
{
	char path[] = "/tmp/pk-spawn-XXXXXX", buf[64];
	struct pk_spawn s;
	int fd, saved;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	memset(&s, 0, sizeof(s));
	s.shell_cmd = "echo out; echo err >&2";
	s.stdout_to_stderr = 1;
	assert_int_equal(pk_spawn_run(&s), 0);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	assert_true(slurp(fd, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "out\nerr\n");
	close(fd);
	unlink(path);
}

static void
test_fds_closed(void **state)
{
	struct pk_spawn s;
	char buf[64];
	int p[2];

	(void)state;
	/* A descriptor without FD_CLOEXEC, as a careless caller leaves one. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[1], 37), 37);
	memset(&s, 0, sizeof(s));
	assert_int_equal(sh_out(&s, "test -e /proc/$$/fd/37 && echo open || echo closed",
	    buf, sizeof(buf)), 0);
	assert_string_equal(buf, "closed\n");
	close(37);
	close(p[0]);
	close(p[1]);
}

static void
test_environment(void **state)
{
	const char *const keep[] = { "PATH", NULL };
	const char *const env[] = { "FOO=bar", "PK_QUALITY_*", "SECRET",
		"FOO=baz", NULL };
	struct pk_spawn s;
	char buf[256];

	(void)state;
	setenv("SECRET", "hunter2", 1);
	setenv("PK_QUALITY_OLD", "x", 1);
	setenv("HOME", "/root", 1);
	/* environ, less the names removed, plus the settings (the last wins). */
	memset(&s, 0, sizeof(s));
	s.env = env;
	assert_int_equal(sh_out(&s, "printf '%s|%s|%s|%s' \"$FOO\" "
	    "\"${SECRET-unset}\" \"${PK_QUALITY_OLD-unset}\" \"$HOME\"", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "baz|unset|unset|/root");
	/* A clean environment: only what is kept and what is set. */
	memset(&s, 0, sizeof(s));
	s.clean_env = 1;
	s.env_keep = keep;
	s.env = env;
	assert_int_equal(sh_out(&s, "printf '%s|%s|%s|' \"$FOO\" "
	    "\"${SECRET-unset}\" \"${HOME-unset}\"; env | grep -c . ", buf,
	    sizeof(buf)), 0);
	/* FOO, PATH, and what sh sets itself (PWD). */
	assert_true(strncmp(buf, "baz|unset|unset|", 16) == 0);
	assert_true((int)strtol(buf + 16, NULL, 10) <= 3);
	unsetenv("SECRET");
	unsetenv("PK_QUALITY_OLD");
}

static void
test_signals_reset(void **state)
{
	struct sigaction ign, old;
	sigset_t term, oldmask;
	struct pk_spawn s;

	(void)state;
	/* The caller ignores SIGINT and blocks SIGTERM: the child must not. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &oldmask);
	memset(&s, 0, sizeof(s));
	s.shell_cmd = "kill -INT $$; sleep 5";
	assert_int_equal(pk_spawn_run(&s), 0);
	assert_int_equal(pk_spawn_code(&s), 130);
	memset(&s, 0, sizeof(s));
	s.shell_cmd = "kill -TERM $$; sleep 5";
	assert_int_equal(pk_spawn_run(&s), 0);
	assert_int_equal(pk_spawn_code(&s), 143);
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	sigaction(SIGINT, &old, NULL);
}

static int stop_now;

static int
should_stop(void *arg)
{
	(void)arg;
	return stop_now;
}

static void
test_timeout_and_stop(void **state)
{
	struct pk_spawn s;
	char buf[128];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.shell_cmd = "exec sleep 30";
	s.timeout = 0.05;
	assert_int_equal(pk_spawn_run(&s), 0);
	assert_true(s.timed_out);
	assert_false(pk_spawn_ok(&s));
	assert_int_equal(pk_spawn_code(&s), 143);
	assert_string_equal(pk_spawn_describe(&s, buf, sizeof(buf)),
	    "timed out after 0.05 s");
	/* A child (and its own child) that ignore SIGTERM get SIGKILL. */
	memset(&s, 0, sizeof(s));
	s.shell_cmd = "trap '' TERM; sleep 30; sleep 30";
	s.timeout = 0.05;
	s.kill_grace = 0.05;
	s.new_pgroup = 1;
	assert_int_equal(pk_spawn_run(&s), 0);
	assert_true(s.timed_out);
	assert_int_equal(pk_spawn_code(&s), 137);
	/* should_stop ends the wait the same way. */
	memset(&s, 0, sizeof(s));
	s.shell_cmd = "exec sleep 30";
	s.should_stop = should_stop;
	stop_now = 1;
	assert_int_equal(pk_spawn_run(&s), 0);
	assert_true(s.stopped);
	assert_false(s.timed_out);
	assert_string_equal(pk_spawn_describe(&s, buf, sizeof(buf)), "stopped");
	stop_now = 0;
}

static void
test_poll(void **state)
{
	const char *const argv[] = { "sleep", "30", NULL };
	struct pk_spawn s;
	int r;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.argv = argv;		/* found in PATH */
	assert_int_equal(pk_spawn_start(&s), 0);
	assert_int_equal(pk_spawn_poll(&s), 0);
	assert_int_equal(pk_spawn_kill(&s, SIGKILL), 0);
	while ((r = pk_spawn_poll(&s)) == 0)
		usleep(1000);
	assert_int_equal(r, 1);
	assert_int_equal(pk_spawn_code(&s), 137);
	assert_true(s.end_ns >= s.start_ns);
	pk_spawn_release(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_input),
		cmocka_unit_test(test_stdout_to_stderr),
		cmocka_unit_test(test_output_read_by_caller),
		cmocka_unit_test(test_fds_closed),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_signals_reset),
		cmocka_unit_test(test_timeout_and_stop),
		cmocka_unit_test(test_poll),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
