/* SPDX-License-Identifier: MIT */
#ifndef PK_RTCHECK_H
#define PK_RTCHECK_H

#include <jansson.h>

/*
 * Real-time readiness of a machine, for rt-loop --preflight: the
 * preemption model, isolcpus/nohz_full, cpufreq governors,
 * sched_rt_runtime_us, RLIMIT_RTPRIO/RLIMIT_MEMLOCK, capabilities and SMT,
 * with a list of recommendations {"level","check","advice"} where level is
 * "error" (SCHED_FIFO cannot be had), "warn" or "info".
 *
 * root prefixes every /proc and /sys path ("" or NULL for the live
 * system), so that fixture trees can be checked; resource limits are
 * always the calling process's. Returns a new object with "ready" true
 * when no recommendation is an error, or NULL when out of memory.
 */
json_t *pk_rtcheck_report(const char *root);
/*
 * The same, with the checks of the loop's CPU (its SMT siblings, NUMA
 * node, idle states) when cpu >= 0; transparent hugepages, swap, idle
 * states and irqbalance in both.
 */
json_t *pk_rtcheck_report_cpu(const char *root, int cpu);
/*
 * The first line of root/path without its newline and trailing blanks,
 * into buf; -1 if it cannot be read. (pk_rtplan reads with it too.)
 */
int pk_rtcheck_read_line(const char *root, const char *path, char *buf,
    size_t size);

#endif
