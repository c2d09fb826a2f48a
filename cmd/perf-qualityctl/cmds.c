/* SPDX-License-Identifier: MIT */
/*
 * The subcommands: they act on the state directory (the context handed
 * to them), where a running instance picks the override up. Each takes
 * -d only (pk_subcmd: any other option is a usage error naming it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"

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

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/state.json", dir);
	if (pk_read_file(path, &buf, &len) == -1) {
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
