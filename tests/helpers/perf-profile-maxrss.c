/* SPDX-License-Identifier: MIT */
/*
 * perf-profile-maxrss CMD [ARG ...]: run CMD with its standard output on
 * /dev/null and print "SECONDS MAXRSS_KB" of it alone. A small C parent
 * forks a small image, so the child's max RSS is its own, not that of an
 * interpreter that forked it. Exits with CMD's status.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	int status, fd;
	pid_t pid;

	if (argc < 2) {
		fputs("usage: perf-profile-maxrss command [arg ...]\n", stderr);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == -1) {
		perror("perf-profile-maxrss: fork");
		return 4;
	}
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd == -1 || dup2(fd, STDOUT_FILENO) == -1)
			_exit(4);
		execvp(argv[1], argv + 1);
		perror("perf-profile-maxrss: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) == -1) {
		perror("perf-profile-maxrss: wait4");
		return 4;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.3f %ld\n", (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9, ru.ru_maxrss);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
