/* SPDX-License-Identifier: MIT */
#ifndef PK_HOGS_H
#define PK_HOGS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Load for --stress: ncpu processes spinning on the CPU and nmem copying
 * 32 MiB back and forth, each named NAME-cpu or NAME-mem, SCHED_OTHER,
 * killed when their parent dies. Start them before any thread: they are
 * forked.
 */
struct pk_hogs {
	pid_t *pids;
	size_t n;
	int paused;
};

/* 0, or -1 with errno (none left running). */
int pk_hogs_start(struct pk_hogs *h, size_t ncpu, size_t nmem,
    const char *name);
/* Stopped, each one seen stopped by the kernel. */
void pk_hogs_pause(struct pk_hogs *h);
void pk_hogs_resume(struct pk_hogs *h);
/* Killed and reaped. */
void pk_hogs_stop(struct pk_hogs *h);

#endif
