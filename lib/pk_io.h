/* SPDX-License-Identifier: MIT */
#ifndef PK_IO_H
#define PK_IO_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/*
 * The checked writer for standard output.
 *
 * Records are written into stdio's buffer. The policy for prompt delivery:
 * - pk_out_idle() is called by the JSON-lines reader just before it would
 *   block on input; it flushes whatever is pending, so that in a live
 *   pipeline no record sits in a buffer while the input is idle, while a
 *   bulk replay of a large file is flushed once per input chunk, not per line;
 * - programs without input (samplers, loops) call pk_out_idle() after each
 *   interval;
 * - -u/--unbuffered (pk_out_init(1)) flushes after every record.
 *
 * A reader that went away (EPIPE) ends the program as SIGPIPE would, silently
 * (status 141 in the shell). Any other write error is reported and the
 * program exits with PK_EXIT_IO.
 */
void pk_out_init(int unbuffered);
void pk_out_write(const char *buf, size_t len);
/* Write a line: buf (without newline) then '\n'. */
void pk_out_line(const char *buf, size_t len);
void pk_out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One JSON record, compact, and a newline. */
void pk_emit_json(const json_t *obj);
/* A record is complete: flush if unbuffered. */
void pk_out_record_done(void);
/* Flush now (input idle or interval over). */
void pk_out_idle(void);
/* Flush and close stdout; dies with PK_EXIT_IO on error. */
void pk_close_stdout(void);

/* Die the conventional SIGPIPE death (no message). */
__attribute__((noreturn)) void pk_die_sigpipe(void);

/*
 * Write a whole file atomically: a temporary file in the same directory,
 * fsync, rename, then fsync of the directory. Returns 0, or -1 with errno.
 */
int pk_atomic_write(const char *path, const void *buf, size_t len, mode_t mode);

/*
 * Remove the temporary files that pk_atomic_write left for path when its
 * process was killed (PATH.tmp.PID of a PID that no longer runs), so that
 * crashes and restarts do not pile them up. Returns how many it removed,
 * or -1 with errno when the directory cannot be read.
 */
int pk_atomic_sweep(const char *path);

/* Read a whole file into a NUL-terminated malloc'd buffer; -1 on error. */
int pk_read_file(const char *path, char **buf, size_t *len);
/*
 * The same, for a file of at most max bytes: a larger one is -1 with
 * errno EFBIG ("File too large"), never cut. Every file read whole that
 * someone else may have made large (a configuration, a secret, a pid
 * file, a state file) is read so.
 */
int pk_read_file_max(const char *path, size_t max, char **buf, size_t *len);

#endif
