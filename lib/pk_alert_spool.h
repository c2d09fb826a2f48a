/* SPDX-License-Identifier: MIT */
#ifndef PK_ALERT_SPOOL_H
#define PK_ALERT_SPOOL_H

#include <stddef.h>

#include <jansson.h>

/*
 * perf-alert's spool: one file per notification and receiver, the source
 * of truth for delivery. A file is written atomically (temporary file,
 * fsync, rename, fsync of the directory) with mode 0600 before anything
 * is sent, and removed only once the receiver accepted it, so a crash
 * loses nothing (at least once; the key makes duplicates recognisable).
 * Names sort in creation order: milliseconds, pid, a sequence number.
 *
 *   {"receiver":"hook","peer":0,"key":"…","created":…,"alert":{…}}
 */
struct pk_alert_spool_entry {
	char *file;		/* its path */
	char *receiver;
	int peer;		/* which URL of the receiver (Alertmanager peers) */
	char *key;		/* the idempotency key */
	json_t *alert;		/* the alert record */
	double created;		/* when it was spooled (pk_now) */
};

/*
 * Write an entry into dir; e receives copies (the alert deep-copied, so
 * that another thread may own it). 0, or -1 with errno.
 */
int pk_alert_spool_write(const char *dir, unsigned long seq,
    const char *receiver, int peer, const char *key, const json_t *alert,
    struct pk_alert_spool_entry *e);
/*
 * Read one entry; -1 with a reason in why if it is not one. An entry
 * without its "created" time is taken as created now.
 */
int pk_alert_spool_read(const char *path, struct pk_alert_spool_entry *e,
    char *why, size_t whysize);
/*
 * The entry files of dir, oldest first, after removing the temporary
 * files of interrupted writes. *paths is malloc'd (free each and it).
 * 0, or -1 with errno.
 */
int pk_alert_spool_list(const char *dir, char ***paths, size_t *n);
/* Delivered: remove the file (a missing file is not an error). */
int pk_alert_spool_remove(const struct pk_alert_spool_entry *e);
void pk_alert_spool_entry_release(struct pk_alert_spool_entry *e);

#endif
