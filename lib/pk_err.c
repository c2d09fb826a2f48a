/* SPDX-License-Identifier: MIT */
#include "pk_err.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *pk_progname = "perfkit";
volatile sig_atomic_t pk_stop;
volatile sig_atomic_t pk_reload;

static void
noop(int sig)
{
	(void)sig;
}

void
pk_init(const char *argv0)
{
	struct sigaction sa;
	const char *p;

	if (argv0 != NULL && *argv0 != '\0') {
		p = strrchr(argv0, '/');
		pk_progname = p != NULL ? p + 1 : argv0;
	}
	/*
	 * SIGPIPE gets a no-op handler rather than SIG_IGN: libcurl sockets
	 * cannot kill us, the stdout writer turns EPIPE back into the
	 * conventional death, and children we exec start with the default
	 * disposition (a caught signal is reset by execve, an ignored one
	 * is not).
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = noop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot set the SIGPIPE handler");
}

void
pk_vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", pk_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
pk_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pk_vwarn(fmt, ap);
	va_end(ap);
}

static void vwarn_errno(int e, const char *fmt, va_list ap) PK_PRINTF(2, 0);

static void
vwarn_errno(int e, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", pk_progname);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(e));
}

void
pk_warn_errno(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vwarn_errno(e, fmt, ap);
	va_end(ap);
}

int
pk_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pk_vwarn(fmt, ap);
	va_end(ap);
	return -1;
}

void
pk_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pk_vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void
pk_die_errno(int status, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vwarn_errno(e, fmt, ap);
	va_end(ap);
	exit(status);
}

static void
on_stop(int sig)
{
	(void)sig;
	pk_stop = 1;
}

static void
on_reload(int sig)
{
	(void)sig;
	pk_reload = 1;
}

void
pk_sig_install(int reload)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot install signal handlers");
	sa.sa_handler = reload ? on_reload : on_stop;
	if (sigaction(SIGHUP, &sa, NULL) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot install signal handlers");
}

void *
pk_xcalloc(size_t n, size_t size)
{
	/* calloc(0, …) may return NULL: never mistake that for exhaustion. */
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	return p;
}

void *
pk_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	return p;
}

void *
pk_xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (q == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	return q;
}

void *
pk_xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		pk_die(PK_EXIT_IO, "out of memory");
	return pk_xrealloc(p, n * size);
}

char *
pk_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	return p;
}

char *
pk_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	return p;
}

char *
pk_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		pk_die(PK_EXIT_IO, "out of memory");
	return p;
}

int
pk_err_reason(char *err, size_t n, int e, const char *fmt, ...)
{
	va_list ap;
	size_t l;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	l = strlen(err);
	if (e != 0 && l < n)
		snprintf(err + l, n - l, ": %s", strerror(e));
	return -1;
}
