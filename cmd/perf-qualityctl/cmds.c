/* SPDX-License-Identifier: MIT */
/*
 * The subcommands: they act on the state directory (the context handed
 * to them), where a running instance picks the override up. Each takes
 * -d only (pk_subcmd: any other option is a usage error naming it).
 * Each checks the directory as the controller does (state_dir_check):
 * status must not print a forged state, release must not unlink in a
 * directory someone else controls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_statedir.h"

#include "perf-qualityctl.h"

static int
cmd_set(void *ctx, int argc, char **argv)
{
	const char *dir = ctx;
	char path[4096], buf[32];
	int level;

	(void)argc;
	level = pk_quality_level_parse(argv[0]);
	if (level < 0)
		pk_die(PK_EXIT_USAGE, "'%s' is not a level (ULTRA_LOW, LOW, "
		    "MEDIUM, HIGH, ULTRA_HIGH)", argv[0]);
	if (state_dir_prepare(dir) == -1)
		return PK_EXIT_IO;
	snprintf(path, sizeof(path), "%s/override", dir);
	snprintf(buf, sizeof(buf), "%s\n", pk_quality_level_name(level));
	if (pk_atomic_write(path, buf, strlen(buf), 0644) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot write '%s'", path);
	return PK_EXIT_OK;
}

static int
cmd_release(void *ctx, int argc, char **argv)
{
	const char *dir = ctx;
	char path[4096];

	(void)argc;
	(void)argv;
	/* No directory: nothing is overridden. */
	if (access(dir, F_OK) == -1 && errno == ENOENT)
		return PK_EXIT_OK;
	if (state_dir_check(dir) == -1)
		return PK_EXIT_IO;
	snprintf(path, sizeof(path), "%s/override", dir);
	if (unlink(path) == -1 && errno != ENOENT)
		pk_die_errno(PK_EXIT_IO, "cannot remove '%s'", path);
	return PK_EXIT_OK;
}

static int
cmd_status(void *ctx, int argc, char **argv)
{
	const char *dir = ctx;
	char path[4096];
	char *buf;
	size_t len;
	int fd;

	(void)argc;
	(void)argv;
	if (access(dir, F_OK) == -1 && errno == ENOENT) {
		pk_warn("no state in '%s'", dir);
		return PK_EXIT_NEGATIVE;
	}
	if (state_dir_check(dir) == -1)
		return PK_EXIT_IO;
	snprintf(path, sizeof(path), "%s/state.json", dir);
	/* Not through a link: the directory's check is for its files. */
	if ((fd = pk_statedir_open(dir, "state.json", O_RDONLY, 0)) != -1)
		close(fd);
	if (fd == -1 || pk_read_file_max(path, 1 << 20, &buf, &len) == -1) {
		if (errno == ENOENT) {
			pk_warn("no state in '%s'", dir);
			return PK_EXIT_NEGATIVE;
		}
		pk_die_errno(PK_EXIT_IO, "cannot read '%s'", path);
	}
	pk_out_write(buf, len);
	free(buf);
	pk_close_stdout();
	return PK_EXIT_OK;
}

static const int dir_only[] = { 'd', 0 };

const struct pk_subcmd qctl_cmds[] = {
	{ "set", dir_only, 1, 1, cmd_set },
	{ "release", dir_only, 0, 0, cmd_release },
	{ "status", dir_only, 0, 0, cmd_status },
	{ NULL, NULL, 0, 0, NULL }
};
