/* SPDX-License-Identifier: MIT */
/*
 * Exits 0 if every signal has its default disposition and none is
 * blocked, else prints the first offender and exits 1: perf-bench must
 * start its commands that way whatever it inherited.
 */
#include <signal.h>
#include <stdio.h>

int
main(void)
{
	struct sigaction sa;
	sigset_t mask;
	int sig;

	if (sigprocmask(SIG_BLOCK, NULL, &mask) == -1)
		return 2;
	for (sig = 1; sig < 32; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigismember(&mask, sig)) {
			printf("signal %d is blocked\n", sig);
			return 1;
		}
		if (sigaction(sig, NULL, &sa) == -1)
			return 2;
		if (sa.sa_handler != SIG_DFL) {
			printf("signal %d is not at its default\n", sig);
			return 1;
		}
	}
	return 0;
}
