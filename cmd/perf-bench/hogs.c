/* SPDX-License-Identifier: MIT */
/*
 * The --stress hogs: N x nproc processes spinning on the CPU, and with
 * --stress-mem nproc copying 32 MiB back and forth, stopped for the quiet
 * half of each round and continued for the stressed one.
 */
#include "perf-bench.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pk_err.h"

#define MEM_HOG_BYTES (32u << 20)

/* A hog never outlives perf-bench: SIGKILL when its parent dies. */
static void
hog_child(pid_t parent, int mem)
{
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
	prctl(PR_SET_NAME, mem ? "perf-bench-mem" : "perf-bench-cpu");
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
bench_hogs_stop(struct bench_hogs *h)
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
bench_hogs_pause(struct bench_hogs *h)
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
bench_hogs_resume(struct bench_hogs *h)
{
	size_t i;

	if (!h->paused)
		return;
	for (i = 0; i < h->n; i++)
		kill(h->pids[i], SIGCONT);
	h->paused = 0;
}

void
bench_hogs_start(struct bench_hogs *h, size_t ncpu, size_t nmem)
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
			pk_warn_errno("cannot start a stress process");
			bench_hogs_stop(h);
			exit(PK_EXIT_IO);
		}
		if (pid == 0)
			hog_child(parent, i >= ncpu);
		h->pids[h->n++] = pid;
	}
	h->paused = 0;
}
