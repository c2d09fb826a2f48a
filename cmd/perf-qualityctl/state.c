/* SPDX-License-Identifier: MIT */
/*
 * The state directory: where it is, that it is ours, and the override
 * that `set` writes and `release` removes (the state file itself is an
 * actuator, act_state.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_statedir.h"
#include "pk_time.h"

#include "perf-qualityctl.h"

const char *
state_default_dir(char *buf, size_t size)
{
	const char *e = getenv("PERF_QUALITYCTL_DIR");

	if (e != NULL && *e != '\0')
		return e;
	e = getenv("XDG_RUNTIME_DIR");
	if (e != NULL && *e != '\0')
		snprintf(buf, size, "%s/perf-qualityctl", e);
	else
		snprintf(buf, size, "/tmp/perf-qualityctl-%ld", (long)getuid());
	return buf;
}

/*
 * Every entry point (the filter, set, release, status) checks the
 * directory with pk_statedir: a real directory of ours that nobody else
 * can write to, below directories nobody else can rename it in.
 */
int
state_dir_check(const char *dir)
{
	char err[PATH_MAX + 256];

	if (pk_statedir_check(dir, err, sizeof(err)) == -1)
		return pk_error("%s", err);
	return 0;
}

int
state_dir_prepare(const char *dir)
{
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return pk_error("cannot create the state directory '%s': %s",
		    dir, strerror(errno));
	return state_dir_check(dir);
}

int
state_open(struct qctl *q, const char *dir)
{
	char abs[PATH_MAX];

	if (state_dir_prepare(dir) == -1)
		return -1;
	/*
	 * Absolute: commands get the path (PK_QUALITY_STATE) and may run
	 * in another directory.
	 */
	if (realpath(dir, abs) == NULL)
		return pk_error("cannot resolve the state directory '%s': %s",
		    dir, strerror(errno));
	if (strlen(abs) > 4000)
		return pk_error("state directory '%s': path too long", abs);
	q->have_dir = 1;
	snprintf(q->state_path, sizeof(q->state_path), "%.4000s/state.json",
	    abs);
	snprintf(q->override_path, sizeof(q->override_path), "%.4000s/override",
	    abs);
	/* What a killed instance left half-written. */
	pk_atomic_sweep(q->state_path);
	pk_atomic_sweep(q->override_path);
	return 0;
}

void
state_check_override(struct qctl *q)
{
	struct pk_quality_change ch;
	struct stat st;
	double ts = q->have_ts ? q->last_ts : pk_now();
	int level = -1;

	if (!q->have_dir)
		return;
	if (stat(q->override_path, &st) == -1) {
		if (!q->ov_seen)
			return;
		q->ov_seen = 0;
	} else {
		char *buf;
		size_t len;

		if (q->ov_seen && st.st_ino == q->ov_st.st_ino &&
		    st.st_mtim.tv_sec == q->ov_st.st_mtim.tv_sec &&
		    st.st_mtim.tv_nsec == q->ov_st.st_mtim.tv_nsec &&
		    st.st_size == q->ov_st.st_size)
			return;
		q->ov_st = st;
		q->ov_seen = 1;
		if (pk_read_file_max(q->override_path, 4096, &buf, &len) == -1) {
			pk_warn_errno("cannot read '%s'; ignored",
			    q->override_path);
			return;
		}
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
			buf[--len] = '\0';
		level = pk_quality_level_parse(buf);
		if (level < 0) {
			pk_warn("%s: '%s' is not a level; ignored",
			    q->override_path, buf);
			free(buf);
			return;
		}
		free(buf);
	}
	if (!q->ctl.started) {
		/* Before the first sample: the start record will tell. */
		q->ctl.override = level;
		if (level >= 0)
			q->ctl.level = level;
		return;
	}
	if (pk_quality_override(&q->ctl, ts, level, &ch)) {
		struct pk_quality_impact im;

		if (pk_quality_impact_take(&q->ctl, &im))
			emit_impact(q, ts, &im, 0);
		qctl_change(q, ts, &ch);
	}
}
