/* SPDX-License-Identifier: MIT */
#ifndef PK_PROCFS_H
#define PK_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parsers for the procfs and sysfs files perf-sample reads. Each works on
 * a buffer already read (no I/O, no allocation), so that the sampler can
 * read with pread(2) into preallocated buffers and a fuzzer can feed them
 * anything. The buffer need not be NUL-terminated.
 *
 * A malformed line is skipped and the values of the good lines are still
 * returned: the parser returns -1 and fills err with the number (1-based)
 * and the reason of the first bad line; 0 when every line was good.
 */
struct pk_procfs_err {
	unsigned long line;
	const char *what;
};

/* Jiffies per CPU mode, from a "cpu" or "cpuN" line of /proc/stat. */
struct pk_procfs_cpu {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

struct pk_procfs_core {
	unsigned id;
	struct pk_procfs_cpu t;
};

struct pk_procfs_stat {
	struct pk_procfs_cpu all;
	int have_all;
	unsigned ncores;		/* cpuN lines seen (online CPUs) */
	unsigned long long btime;	/* boot time, seconds since the epoch */
};

/*
 * /proc/stat. Up to maxcores per-CPU lines go into cores (cores may be
 * NULL); st->ncores counts them all.
 */
int pk_procfs_stat_parse(const char *buf, size_t len, struct pk_procfs_stat *st,
    struct pk_procfs_core *cores, unsigned maxcores, struct pk_procfs_err *err);

/* The sum of all modes (guest time is already inside user and nice). */
uint64_t pk_procfs_cpu_total(const struct pk_procfs_cpu *c);

enum {
	PK_MEM_TOTAL = 1, PK_MEM_AVAIL = 2, PK_MEM_SWAP_TOTAL = 4,
	PK_MEM_SWAP_FREE = 8
};

struct pk_procfs_mem {
	uint64_t total_kb, avail_kb, swap_total_kb, swap_free_kb;
	unsigned have;			/* PK_MEM_* bits */
};

int pk_procfs_meminfo_parse(const char *buf, size_t len,
    struct pk_procfs_mem *m, struct pk_procfs_err *err);

/* /proc/loadavg: the three load averages. */
int pk_procfs_loadavg_parse(const char *buf, size_t len, double load[3],
    struct pk_procfs_err *err);

/* /proc/uptime: seconds since boot. */
int pk_procfs_uptime_parse(const char *buf, size_t len, double *up,
    struct pk_procfs_err *err);

/* /proc/pressure/X and cgroup X.pressure: avg10, avg60, avg300 in %. */
struct pk_procfs_psi {
	double some[3], full[3];
	int have_some, have_full;
};

int pk_procfs_psi_parse(const char *buf, size_t len, struct pk_procfs_psi *p,
    struct pk_procfs_err *err);

#define PK_PROCFS_NAME_MAX 32

/* One block device of /proc/diskstats. */
struct pk_procfs_disk {
	char name[PK_PROCFS_NAME_MAX];
	uint64_t rd_sectors, wr_sectors, io_ms;
};

/*
 * /proc/diskstats: up to max devices into d, *n set to the number stored.
 * Partitions, loop, ram and floppy devices, and devices that never did
 * any I/O, are left out.
 */
int pk_procfs_diskstats_parse(const char *buf, size_t len,
    struct pk_procfs_disk *d, unsigned max, unsigned *n,
    struct pk_procfs_err *err);

/* Whether a block device name is a partition or a pseudo device. */
int pk_procfs_disk_ignored(const char *name);

struct pk_procfs_net {
	char name[PK_PROCFS_NAME_MAX];
	uint64_t rx_bytes, tx_bytes;
};

/*
 * /proc/net/dev: up to max interfaces; interfaces that never moved a
 * byte are left out.
 */
int pk_procfs_netdev_parse(const char *buf, size_t len,
    struct pk_procfs_net *d, unsigned max, unsigned *n,
    struct pk_procfs_err *err);

/* /proc/PID/stat. */
struct pk_procfs_pid {
	char comm[64];
	uint64_t utime, stime;		/* clock ticks */
	uint64_t threads;
	uint64_t rss_pages;
};

int pk_procfs_pid_stat_parse(const char *buf, size_t len,
    struct pk_procfs_pid *p, struct pk_procfs_err *err);

/*
 * /proc/PID/schedstat: nanoseconds on the CPU, nanoseconds waiting to run,
 * and the number of times the task was switched in (each switch out,
 * voluntary or not, is followed by one), into v[0..2].
 */
int pk_procfs_schedstat_parse(const char *buf, size_t len, uint64_t v[3],
    struct pk_procfs_err *err);

/*
 * A file of "key value" or "key: value" lines (/proc/PID/status,
 * /proc/PID/io, cgroup cpu.stat): the values of the keys named in keys
 * (NULL-terminated) go into vals; bit i of *found is set for keys[i].
 * A trailing " kB" is accepted. Unknown keys are ignored.
 */
int pk_procfs_keyval_parse(const char *buf, size_t len,
    const char *const *keys, uint64_t *vals, unsigned *found,
    struct pk_procfs_err *err);

/*
 * A file holding one integer (sysfs temp, scaling_cur_freq,
 * memory.current), optionally "max" (then *v = UINT64_MAX for the
 * unsigned form).
 */
int pk_procfs_u64_parse(const char *buf, size_t len, uint64_t *v,
    struct pk_procfs_err *err);
int pk_procfs_i64_parse(const char *buf, size_t len, int64_t *v,
    struct pk_procfs_err *err);

/* Raspberry Pi firmware get_throttled: a hexadecimal word. */
int pk_procfs_hex_parse(const char *buf, size_t len, uint64_t *v,
    struct pk_procfs_err *err);

/* The throttle bits: now in bits 0-3, since boot in bits 16-19. */
enum {
	PK_THROTTLE_UNDER_VOLTAGE = 0,
	PK_THROTTLE_FREQ_CAPPED = 1,
	PK_THROTTLE_THROTTLED = 2,
	PK_THROTTLE_SOFT_TEMP_LIMIT = 3,
	PK_THROTTLE_NBITS = 4,
	PK_THROTTLE_SINCE_BOOT_SHIFT = 16
};

extern const char *const pk_procfs_throttle_names[PK_THROTTLE_NBITS];

/* A one-word sysfs string (thermal zone type): trimmed copy into out. */
int pk_procfs_word_parse(const char *buf, size_t len, char *out, size_t size,
    struct pk_procfs_err *err);

/* /proc/vmstat: the event counters perf-sample turns into rates. */
enum {
	PK_VMSTAT_PGFAULT = 1, PK_VMSTAT_PGMAJFAULT = 2, PK_VMSTAT_PSWPIN = 4,
	PK_VMSTAT_PSWPOUT = 8, PK_VMSTAT_PGPGIN = 16, PK_VMSTAT_PGPGOUT = 32,
	PK_VMSTAT_OOM_KILL = 64
};

struct pk_procfs_vmstat {
	uint64_t pgfault, pgmajfault;	/* page faults, those that did I/O */
	uint64_t pswpin, pswpout;	/* pages swapped in, out */
	uint64_t pgpgin, pgpgout;	/* KiB paged in from, out to block devices */
	uint64_t oom_kill;		/* OOM kills since boot (Linux 4.13) */
	unsigned have;			/* PK_VMSTAT_* bits */
};

/*
 * /proc/vmstat ("name value" lines): the counters above; other names are
 * skipped unchecked, a wanted name without a number is a bad line.
 */
int pk_procfs_vmstat_parse(const char *buf, size_t len,
    struct pk_procfs_vmstat *vm, struct pk_procfs_err *err);

#endif
