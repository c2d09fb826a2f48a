/* SPDX-License-Identifier: MIT */
/*
 * Fuzz rt-loop --preflight's readers of procfs/sysfs text: the input,
 * split at NUL bytes, becomes the files of a fixture root (kernel version,
 * command line, isolated CPUs, /proc/self/status, the debugfs preemption
 * mode, two CPUs' governors, ...) and pk_rtcheck_report() reads them.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_rtcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = {
	"/proc/sys/kernel/version",
	"/proc/sys/kernel/osrelease",
	"/sys/kernel/realtime",
	"/proc/cmdline",
	"/sys/devices/system/cpu/isolated",
	"/sys/devices/system/cpu/nohz_full",
	"/proc/sys/kernel/sched_rt_runtime_us",
	"/sys/devices/system/cpu/smt/control",
	"/proc/self/status",
	"/sys/kernel/debug/sched/preempt",
	"/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor",
	"/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor",
};
#define NFILES (sizeof(files) / sizeof(files[0]))

static char root[64];

static void
mkdirs(const char *path)
{
	char buf[4096], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(buf, 0700);
			*p = '/';
		}
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

static void
cleanup(void)
{
	(void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4096];
	const uint8_t *p = data, *end = data + size, *z;
	json_t *rep, *ready;
	size_t i;
	FILE *f;

	if (root[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		snprintf(root, sizeof(root), "%s/fuzz_rtcheck.XXXXXX",
		    tmp != NULL && *tmp != '\0' && strlen(tmp) < 32 ? tmp : "/tmp");
		if (mkdtemp(root) == NULL)
			abort();
		for (i = 0; i < NFILES; i++) {
			snprintf(path, sizeof(path), "%s%s", root, files[i]);
			mkdirs(path);
		}
		atexit(cleanup);
	}
	for (i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s%s", root, files[i]);
		if (p > end) {
			(void)unlink(path);	/* absent, as on many kernels */
			continue;
		}
		z = memchr(p, '\0', (size_t)(end - p));
		if (z == NULL)
			z = end;
		f = fopen(path, "w");
		if (f == NULL)
			abort();
		if (z > p)
			fwrite(p, 1, (size_t)(z - p), f);
		fclose(f);
		p = z + 1;
	}
	rep = pk_rtcheck_report(root);
	if (rep == NULL)
		abort();
	ready = json_object_get(rep, "ready");
	if (!json_is_boolean(ready) ||
	    !json_is_array(json_object_get(rep, "recommendations")))
		abort();
	json_decref(rep);
	return 0;
}
