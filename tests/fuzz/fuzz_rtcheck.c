/* SPDX-License-Identifier: MIT */
/*
 * Fuzz rt-loop --preflight's readers of procfs/sysfs text: the input,
 * split at NUL bytes, becomes the files of a fixture root (kernel version,
 * command line, isolated CPUs, /proc/self/status, the debugfs preemption
 * mode, two CPUs' governors, ...) and pk_rtcheck_report() reads them;
 * pk_rtplan_make() plans --apply from them (CPU lists, affinities, the THP
 * mode) and the plan is applied and undone in the fixture root. What is
 * left of the input after the files is an undo record for
 * pk_rtplan_undo(), which must refuse what --apply does not write.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk_rtcheck.h"
#include "pk_rtplan.h"

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
	"/sys/devices/system/cpu/online",
	"/proc/irq/24/smp_affinity_list",
	"/sys/kernel/mm/transparent_hugepage/enabled",
	"/proc/swaps",
	"/sys/devices/system/cpu/cpu1/topology/thread_siblings_list",
	"/sys/devices/system/cpu/cpu1/cpuidle/state0/latency",
	"/sys/devices/system/cpu/cpu1/cpuidle/state0/name",
	"/proc/4242/comm",
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
	json_t *rep, *ready, *plan;
	char undo[4096];
	int failed;
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
	rep = pk_rtcheck_report_cpu(root, 1);
	if (rep == NULL)
		abort();
	ready = json_object_get(rep, "ready");
	if (!json_is_boolean(ready) ||
	    !json_is_array(json_object_get(rep, "recommendations")))
		abort();
	json_decref(rep);
	/* The plan, applied and undone below the root. */
	plan = pk_rtplan_make(root, 1);
	if (plan == NULL || !json_is_array(plan))
		abort();
	snprintf(undo, sizeof(undo), "%s/undo/u.json", root);
	if (json_array_size(plan) > 0) {
		if (pk_rtplan_apply(root, plan, undo, &failed) == 0 &&
		    pk_rtplan_undo(root, undo, &failed) == -1)
			abort();
	}
	json_decref(plan);
	(void)unlink(undo);
	/* The rest: an undo record of the input's own. */
	if (p < end) {
		int fd = open(undo, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd == -1)
			abort();
		if (write(fd, p, (size_t)(end - p)) != (ssize_t)(end - p))
			abort();
		close(fd);
		(void)pk_rtplan_undo(root, undo, &failed);
		(void)unlink(undo);
	}
	return 0;
}
