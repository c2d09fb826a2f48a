/* SPDX-License-Identifier: MIT */
#ifndef PK_ERR_H
#define PK_ERR_H

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include "pk_exit.h"

#define PK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PK_NORETURN __attribute__((noreturn))

/* The program name used as the prefix of every diagnostic. */
extern const char *pk_progname;

/*
 * The stop flag set by SIGINT/SIGTERM and the reload flag set by SIGHUP
 * (when pk_sig_install() was asked for it). Handlers set them and nothing else.
 */
extern volatile sig_atomic_t pk_stop;
extern volatile sig_atomic_t pk_reload;

void pk_init(const char *argv0);
PK_NORETURN void pk_die(int status, const char *fmt, ...) PK_PRINTF(2, 3);
/*
 * For a library's "-1 with a reason in err": the message into err[0..n),
 * then ": strerror(e)" when e is not 0. Returns -1.
 */
int pk_err_reason(char *err, size_t n, int e, const char *fmt, ...)
    PK_PRINTF(4, 5);
PK_NORETURN void pk_die_errno(int status, const char *fmt, ...) PK_PRINTF(2, 3);
void pk_warn(const char *fmt, ...) PK_PRINTF(1, 2);
void pk_warn_errno(const char *fmt, ...) PK_PRINTF(1, 2);
int pk_error(const char *fmt, ...) PK_PRINTF(1, 2);
void pk_vwarn(const char *fmt, va_list ap) PK_PRINTF(1, 0);

/*
 * For main() and the code it owns: allocation that dies with PK_EXIT_IO
 * ("out of memory") instead of returning NULL. Library code returns errors.
 */
void *pk_xmalloc(size_t size);
void *pk_xcalloc(size_t n, size_t size);
void *pk_xrealloc(void *p, size_t size);
/* realloc to n * size, dying on overflow as on exhaustion. */
void *pk_xreallocarray(void *p, size_t n, size_t size);
char *pk_xstrdup(const char *s);
char *pk_xstrndup(const char *s, size_t n);
char *pk_xasprintf(const char *fmt, ...) PK_PRINTF(1, 2);

/*
 * Install handlers for SIGINT and SIGTERM that set pk_stop, and for SIGHUP
 * that sets pk_reload when reload is non-zero (else SIGHUP stops too).
 * Handlers are installed without SA_RESTART so that a blocking read returns
 * EINTR and the program can finish the record at hand and exit.
 */
void pk_sig_install(int reload);

#endif
