/* SPDX-License-Identifier: MIT */
#ifndef PK_RTPLAN_H
#define PK_RTPLAN_H

#include <jansson.h>

/*
 * rt-loop --preflight --apply and --undo: the changes that make a machine
 * ready for a loop on one CPU, each a file of /proc or /sys (below root,
 * "" for the live system) and the value to write:
 * - the cpufreq governor of the loop's CPU: performance;
 * - every numbered IRQ whose smp_affinity_list includes the CPU: the
 *   online CPUs but it;
 * - transparent hugepages: never;
 * - RT throttling (sched_rt_runtime_us): -1.
 * A file already holding its value is left out of the plan.
 */

/* The plan: an array of {path, from, to, why}; NULL when out of memory. */
json_t *pk_rtplan_make(const char *root, int cpu);

/*
 * Write the undo record (the plan, with the old values) to undo_path,
 * atomically and 0600 in a 0700 directory it creates, then each new
 * value. A file the kernel refuses (an IRQ it will not move) is reported
 * and counted in *failed; the undo record keeps only what was written.
 * 0, or -1 with errno when the undo record cannot be written (nothing is
 * changed then). An existing undo record is an error (EEXIST): undo it
 * first, so that the old values are never lost.
 */
int pk_rtplan_apply(const char *root, json_t *plan, const char *undo_path,
    int *failed);

/*
 * Write back the old values of undo_path and remove it; each file that
 * cannot be written is reported and counted in *failed (the record then
 * stays, with those entries only). 0, or -1 with errno (no record:
 * ENOENT; a bad one: EINVAL with a message).
 */
int pk_rtplan_undo(const char *root, const char *undo_path, int *failed);

#endif
