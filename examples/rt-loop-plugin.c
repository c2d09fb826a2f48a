/* SPDX-License-Identifier: MIT */
/*
 * An rt-loop plugin: a PID controller holding a simulated first-order
 * plant (a motor's speed) at a setpoint, one control step per period.
 *
 *   cc -std=c11 -fPIC -shared -o rt-loop-plugin.so rt-loop-plugin.c
 *   rt-loop -f 1000 -l 5000 --plugin ./rt-loop-plugin.so:100
 *
 * ARGS is the setpoint (default 1). rtloop_step reports an error when the
 * output saturates, which rt-loop counts as work_errors.
 */
#include <stdlib.h>

#include "rt-loop-plugin.h"

struct pid {
	double kp, ki, kd, dt;
	double setpoint, integral, prev_err;
	double speed;		/* the plant's state */
};

int
rtloop_init(void **ctx, const char *args)
{
	struct pid *p;
	char *end;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	p->kp = 2.0;
	p->ki = 5.0;
	p->kd = 0.01;
	p->dt = 0.001;
	p->setpoint = 1.0;
	if (args != NULL && *args != '\0') {
		p->setpoint = strtod(args, &end);
		if (*end != '\0') {
			free(p);
			return -1;
		}
	}
	*ctx = p;
	return 0;
}

int
rtloop_step(void *ctx, unsigned long long tick)
{
	struct pid *p = ctx;
	double err, u;

	(void)tick;
	err = p->setpoint - p->speed;
	p->integral += err * p->dt;
	u = p->kp * err + p->ki * p->integral +
	    p->kd * (err - p->prev_err) / p->dt;
	p->prev_err = err;
	if (u > 1000.0)
		u = 1000.0;
	else if (u < -1000.0)
		u = -1000.0;
	/* The plant: tau = 50 ms, unit gain. */
	p->speed += (u - p->speed) * p->dt / 0.05;
	return u == 1000.0 || u == -1000.0 ? 1 : 0;
}

void
rtloop_fini(void *ctx)
{
	free(ctx);
}
