/* SPDX-License-Identifier: MIT */
/*
 * perf-qualityctl-threads PIDFILE: a multi-threaded process for the
 * renice and affinity tests. It starts three threads beside its main
 * one (four tasks), then writes its pid to PIDFILE. On SIGUSR1 it starts
 * a fifth thread that sets itself to nice 0 on every CPU (as a runtime
 * that configures its own workers does), then writes PIDFILE.5. SIGTERM
 * ends it.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static volatile sig_atomic_t more, done;

static void
on_sig(int sig)
{
	if (sig == SIGUSR1)
		more = 1;
	else
		done = 1;
}

static void *
idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *
late(void *arg)
{
	cpu_set_t set;
	int c;

	CPU_ZERO(&set);
	for (c = 0; c < CPU_SETSIZE; c++)
		CPU_SET(c, &set);
	setpriority(PRIO_PROCESS, (id_t)gettid(), 0);
	sched_setaffinity(0, sizeof(set), &set);
	*(volatile int *)arg = 1;
	return idle(NULL);
}

static int
write_file(const char *path, long v)
{
	char tmp[4096];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(fp, "%ld\n", v);
	if (fclose(fp) != 0)
		return -1;
	return rename(tmp, path);
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	pthread_t t;
	sigset_t blk, old;
	volatile int started = 0;
	char path[4096];
	int i;

	if (argc != 2) {
		fputs("usage: perf-qualityctl-threads pidfile\n", stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The threads never take the signals: the main one does. */
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR1);
	sigaddset(&blk, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &blk, &old);
	for (i = 0; i < 3; i++)
		if (pthread_create(&t, NULL, idle, NULL) != 0)
			return 1;
	if (write_file(argv[1], (long)getpid()) == -1)
		return 1;
	while (!done) {
		sigsuspend(&old);
		if (more) {
			more = 0;
			if (pthread_create(&t, NULL, late, (void *)&started) != 0)
				return 1;
			while (!started)
				usleep(1000);
			snprintf(path, sizeof(path), "%s.5", argv[1]);
			if (write_file(path, (long)getpid()) == -1)
				return 1;
		}
	}
	return 0;
}
