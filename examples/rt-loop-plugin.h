/* SPDX-License-Identifier: MIT */
/*
 * The rt-loop plugin ABI, version 1: a shared object that rt-loop
 * --plugin LIB.so[:ARGS] loads with dlopen(RTLD_NOW) before the loop
 * starts. It must define all three functions with C linkage:
 *
 * rtloop_init   called once, in the main thread, before the real-time
 *               thread starts: allocate and touch everything here. args is
 *               the text after "LIB.so:" or NULL. Return 0, or non-zero to
 *               refuse (rt-loop then exits with status 2).
 * rtloop_step   called once per period in the real-time thread, with the
 *               number of cycles run before (0, 1, 2, ...; skipped periods
 *               are not counted). It must not allocate, lock, print or
 *               block. Return 0, or non-zero for an error, which rt-loop
 *               counts as work_errors and goes on.
 * rtloop_fini   called once after the loop, in the main thread.
 */
#ifndef RT_LOOP_PLUGIN_H
#define RT_LOOP_PLUGIN_H

#define RTLOOP_ABI_VERSION 1

int rtloop_init(void **ctx, const char *args);
int rtloop_step(void *ctx, unsigned long long tick);
void rtloop_fini(void *ctx);

#endif
