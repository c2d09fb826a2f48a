/* SPDX-License-Identifier: MIT */
#ifndef PK_STATEDIR_H
#define PK_STATEDIR_H

#include <stddef.h>
#include <sys/types.h>

/*
 * A state directory that nobody else controls. Every program that keeps
 * state (perf-alert's state, history and spool; perf-qualityctl's state
 * and override) and every entry point that reads it (subcommands too)
 * goes through this, so that another local user who pre-created the
 * directory, or a directory above it, cannot make root's run write
 * through a planted link or read a forged file:
 *
 * - the directory is a real directory (not a link), owned by the
 *   effective user, and not writable by group or others;
 * - so is every directory above it up to /, except that one owned by root
 *   or by the user, or writable by others only with the sticky bit (/tmp),
 *   is fine: nobody else can rename the directory away;
 * - files in it are opened relative to it with O_NOFOLLOW.
 */

/*
 * Create dir (and missing parents, mode 0755; dir itself with mode) if
 * create is set, then check it as above. 0, or -1 with a reason in err.
 */
int pk_statedir_prepare(const char *dir, mode_t mode, int create, char *err,
    size_t errsize);
/* The check alone (an entry point that only reads). */
int pk_statedir_check(const char *dir, char *err, size_t errsize);
/*
 * open(dir/name) with O_NOFOLLOW|O_CLOEXEC added to flags: a link there
 * is refused (ELOOP). -1 with errno.
 */
int pk_statedir_open(const char *dir, const char *name, int flags,
    mode_t mode);

#endif
