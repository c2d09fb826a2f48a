/* SPDX-License-Identifier: MIT */
/*
 * The --stress hogs of perf-bench and rt-loop: processes spinning on the
 * CPU, and processes copying 32 MiB back and forth (memory bandwidth),
 * stopped for a quiet phase and continued for a loaded one.
 */
#include "pk_hogs.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pk_err.h"

#define MEM_HOG_BYTES (32u << 20)

/*
 * A hog never outlives its parent: SIGKILL when it dies. It runs as an
 * ordinary process whatever its parent's policy, so that it loads the
 * machine and never starves the program it loads.
 */
static void
hog_child(pid_t parent, int mem, const char *name)
{
	struct sched_param sp = { 0 };
	char comm[16];
	struct sigaction sa;
	volatile unsigned long long x = 0;
	unsigned char *a, *b;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(0);
	sched_setscheduler(0, SCHED_OTHER, &sp);
	snprintf(comm, sizeof(comm), "%s-%s", name, mem ? "mem" : "cpu");
	prctl(PR_SET_NAME, comm);
	if (mem) {
		a = malloc(MEM_HOG_BYTES);
		b = malloc(MEM_HOG_BYTES);
		if (a == NULL || b == NULL)
			_exit(1);
		memset(a, 1, MEM_HOG_BYTES);
		for (;;) {
			memcpy(b, a, MEM_HOG_BYTES);
			memcpy(a, b, MEM_HOG_BYTES);
		}
	}
	for (;;)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
}

void
pk_hogs_stop(struct pk_hogs *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		kill(h->pids[i], SIGKILL);
	for (i = 0; i < h->n; i++)
		while (waitpid(h->pids[i], NULL, 0) == -1 && errno == EINTR)
			;
	free(h->pids);
	h->pids = NULL;
	h->n = 0;
}

/*
 * Stop the hogs and wait until the kernel says each one is stopped, so the
 * quiet half of a round starts with no hog on a CPU.
 */
void
pk_hogs_pause(struct pk_hogs *h)
{
	size_t i;
	int st;

	if (h->paused)
		return;
	for (i = 0; i < h->n; i++)
		kill(h->pids[i], SIGSTOP);
	for (i = 0; i < h->n; i++)
		while (waitpid(h->pids[i], &st, WUNTRACED) == -1 &&
		    errno == EINTR && !pk_stop)
			;
	h->paused = 1;
}

void
pk_hogs_resume(struct pk_hogs *h)
{
	size_t i;

	if (!h->paused)
		return;
	for (i = 0; i < h->n; i++)
		kill(h->pids[i], SIGCONT);
	h->paused = 0;
}

int
pk_hogs_start(struct pk_hogs *h, size_t ncpu, size_t nmem, const char *name)
{
	pid_t parent = getpid(), pid;
	size_t i;

	h->pids = pk_xcalloc(ncpu + nmem, sizeof(pid_t));
	h->n = 0;
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < ncpu + nmem; i++) {
		pid = fork();
		if (pid == -1) {
			pk_hogs_stop(h);
			return -1;
		}
		if (pid == 0)
			hog_child(parent, i >= ncpu, name);
		h->pids[h->n++] = pid;
	}
	h->paused = 0;
	return 0;
}
