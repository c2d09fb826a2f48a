/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the procfs/sysfs parsers of perf-sample: every parser over the same
 * buffer, copied to an allocation of exactly its size so that reading one
 * byte past the end (the buffers are not NUL-terminated) is caught. The
 * results must keep the header's promises: counts within the caller's
 * bounds, names NUL-terminated, the first bad line within the buffer.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pk_procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(int rc, const struct pk_procfs_err *e, size_t nlines)
{
	if (rc != 0 && rc != -1)
		abort();
	/* Line 0 or the last line: an error of the whole file ("no cpu
	 * line" in an empty one). */
	if (rc == -1 && (e->what == NULL || e->line > nlines + 1))
		abort();
}

static void
check_name(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "VmRSS", "Threads", "read_bytes",
	    "usage_usec", "nr_throttled", NULL };
	struct pk_procfs_stat st;
	struct pk_procfs_core cores[4];
	struct pk_procfs_mem mem;
	struct pk_procfs_psi psi;
	struct pk_procfs_disk disks[4];
	struct pk_procfs_net nets[4];
	struct pk_procfs_pid pid;
	struct pk_procfs_vmstat vm;
	struct pk_procfs_err e;
	uint64_t u, v3[3], vals[5];
	int64_t i;
	double load[3], up;
	char word[16];
	unsigned n, found, k;
	size_t nlines = 0, j;
	char *buf;

	/* An exact-size copy: no terminator for a parser to lean on. */
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	for (j = 0; j < size; j++)
		nlines += buf[j] == '\n';

	memset(&e, 0, sizeof(e));
	memset(&st, 0, sizeof(st));
	check_err(pk_procfs_stat_parse(buf, size, &st, cores, 4, &e), &e,
	    nlines);
	check_err(pk_procfs_stat_parse(buf, size, &st, NULL, 0, &e), &e,
	    nlines);
	(void)pk_procfs_cpu_total(&st.all);
	memset(&mem, 0, sizeof(mem));
	check_err(pk_procfs_meminfo_parse(buf, size, &mem, &e), &e, nlines);
	if (mem.have & ~15u)
		abort();
	check_err(pk_procfs_loadavg_parse(buf, size, load, &e), &e, nlines);
	check_err(pk_procfs_uptime_parse(buf, size, &up, &e), &e, nlines);
	memset(&psi, 0, sizeof(psi));
	if (pk_procfs_psi_parse(buf, size, &psi, &e) == 0)
		for (k = 0; k < 3; k++)
			if ((psi.have_some && !(psi.some[k] >= 0)) ||
			    (psi.have_full && !(psi.full[k] >= 0)))
				abort();
	n = 99;
	check_err(pk_procfs_diskstats_parse(buf, size, disks, 4, &n, &e), &e,
	    nlines);
	if (n > 4)
		abort();
	for (k = 0; k < n; k++) {
		check_name(disks[k].name, sizeof(disks[k].name));
		(void)pk_procfs_disk_ignored(disks[k].name);
	}
	n = 99;
	check_err(pk_procfs_netdev_parse(buf, size, nets, 4, &n, &e), &e,
	    nlines);
	if (n > 4)
		abort();
	for (k = 0; k < n; k++)
		check_name(nets[k].name, sizeof(nets[k].name));
	memset(&pid, 0, sizeof(pid));
	if (pk_procfs_pid_stat_parse(buf, size, &pid, &e) == 0)
		check_name(pid.comm, sizeof(pid.comm));
	check_err(pk_procfs_schedstat_parse(buf, size, v3, &e), &e, nlines);
	found = 0;
	check_err(pk_procfs_keyval_parse(buf, size, keys, vals, &found, &e),
	    &e, nlines);
	if (found & ~31u)
		abort();
	check_err(pk_procfs_u64_parse(buf, size, &u, &e), &e, nlines);
	check_err(pk_procfs_i64_parse(buf, size, &i, &e), &e, nlines);
	check_err(pk_procfs_hex_parse(buf, size, &u, &e), &e, nlines);
	memset(&vm, 0, sizeof(vm));
	check_err(pk_procfs_vmstat_parse(buf, size, &vm, &e), &e, nlines);
	if (vm.have & ~127u)
		abort();
	if (pk_procfs_word_parse(buf, size, word, sizeof(word), &e) == 0)
		check_name(word, sizeof(word));
	/* A name from the input itself, NUL-terminated for this one. */
	if (size < 64) {
		char name[64];

		memcpy(name, data, size);
		name[size] = '\0';
		(void)pk_procfs_disk_ignored(name);
	}
	free(buf);
	return 0;
}
