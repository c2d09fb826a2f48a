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
 *   {"receiver":"hook","peer":0,"key":"…","created":…,"alert":{…},"mac":"…"}
 *
 * mac is the SipHash-2-4 (pk_hash), under the state directory's spool
 * key, of the file's bytes without the ,"mac":"…" that ends it, 16 hex
 * digits: a file that someone wrote without the key (a forged page) or
 * that changed since (a torn or edited one) fails the check, and so does
 * a file of the format before the check (no mac): it cannot be told from
 * a forgery. Such a file is never delivered; the caller moves it aside
 * (pk_alert_spool_reject).
 */
#define PK_ALERT_SPOOL_KEYLEN 16
/* Spool files are read whole: a larger one is refused. */
#define PK_ALERT_SPOOL_MAX (4 << 20)
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
int pk_alert_spool_write(const char *dir,
    const unsigned char *mackey, unsigned long seq,
    const char *receiver, int peer, const char *key, const json_t *alert,
    struct pk_alert_spool_entry *e);
/*
 * Read one entry (never through a link), its mac checked under mackey;
 * -1 with a reason in why if it is not one or fails the check. An entry
 * without its "created" time is taken as created now.
 */
int pk_alert_spool_read(const char *path,
    const unsigned char *mackey,
    struct pk_alert_spool_entry *e, char *why, size_t whysize);
/*
 * The same from the file's n bytes in buf (changed while checked, then
 * put back), path naming the entry: the parser pk_alert_spool_read uses.
 */
int pk_alert_spool_parse(const char *path, char *buf, size_t n,
    const unsigned char *mackey, struct pk_alert_spool_entry *e, char *why,
    size_t whysize);
/*
 * The spool key of the state directory statedir: statedir/spool.key, 16
 * random bytes, mode 0600, made on first use. A key file that is a link,
 * not ours, readable by others or not 16 bytes is refused. 0, or -1 with
 * a reason in why.
 */
int pk_alert_spool_key(const char *statedir,
    unsigned char *mackey, char *why, size_t whysize);
/*
 * Move the spool file path aside, into rejected/ beside it (made 0700),
 * where nothing reads it; to receives the new path. 0, or -1 with errno.
 */
int pk_alert_spool_reject(const char *path, char *to, size_t tosize);
/*
 * A notification its receiver refused for good (a dead letter): move its
 * file into dead/ beside it (made 0700), with the reason beside it in
 * NAME.reason ({"reason","at"}, 0600), where nothing delivers it; to
 * receives the new path. 0, or -1 with errno.
 */
int pk_alert_spool_dead(const char *path, const char *reason, char *to,
    size_t tosize);
/*
 * A dead letter (SPOOL/dead/NAME) back into SPOOL, its reason removed, to
 * be delivered at the next start. 0, or -1 with errno (EINVAL: not a file
 * of a dead/ directory).
 */
int pk_alert_spool_requeue(const char *dead_path, char *to, size_t tosize);
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
