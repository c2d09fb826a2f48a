/* SPDX-License-Identifier: MIT */
/*
 * The floor under any procfs sampler, for bench/perf-sample.sh: the same
 * drift-free sleep loop as perf-sample and one pread(2) of each file per
 * iteration, without parsing or output.
 *
 *   perf-sample-floor COUNT INTERVAL_NS FILE...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 16];

int
main(int argc, char **argv)
{
	struct timespec t;
	long count, period, i;
	int fds[64], n = 0, k;

	if (argc < 3) {
		fputs("usage: perf-sample-floor count interval_ns file ...\n", stderr);
		return 2;
	}
	count = strtol(argv[1], NULL, 10);
	period = strtol(argv[2], NULL, 10);
	for (k = 3; k < argc && n < 64; k++)
		if ((fds[n] = open(argv[k], O_RDONLY | O_CLOEXEC)) != -1)
			n++;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (i = 0; i <= count; i++) {
		for (k = 0; k < n; k++) {
			ssize_t r;
			off_t off = 0;

			while ((r = pread(fds[k], buf + off, sizeof(buf) - (size_t)off,
			    off)) > 0 && off + r < (off_t)sizeof(buf))
				off += r;
		}
		if (i == count)
			break;
		t.tv_nsec += period;
		while (t.tv_nsec >= 1000000000) {
			t.tv_nsec -= 1000000000;
			t.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) ==
		    EINTR)
			;
	}
	return 0;
}
