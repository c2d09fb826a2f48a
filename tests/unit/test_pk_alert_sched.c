/* SPDX-License-Identifier: MIT */
/*
 * The delivery scheduler with a fake transport, a fake spool and a fake
 * clock: rounds are run one at a time (pk_alert_sched_step), the clock
 * jumping to the time the scheduler says something is due.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pk_alert_sched.h"

#define NT 2		/* targets "a" and "b" */
#define MAXLOG 64

struct fake {
	double now;
	struct pk_alert_sched_target t[NT];
	int fail[NT];		/* attempts left that fail; -1: all */
	int permanent;		/* failures are permanent */
	int spool_fail;		/* spool writes fail */
	int files;		/* files in the spool */
	int dead;		/* files moved to the dead letters */
	int periodic;		/* periodic calls */
	int holds;		/* hold() without release() */
	char log[MAXLOG][32];	/* "a:key" per attempt, "+" if accepted */
	double at[MAXLOG];
	int nlog;
};

static const char *const names[NT] = { "a", "b" };

static double
f_clock(void *arg)
{
	return ((struct fake *)arg)->now;
}

static void *
f_hold(void *arg)
{
	struct fake *f = arg;

	f->holds++;
	return f;
}

static void
f_release(void *arg, void *targets)
{
	struct fake *f = arg;

	assert_ptr_equal(targets, f);
	f->holds--;
}

static struct pk_alert_sched_target *
f_target(void *arg, void *targets, const char *name)
{
	struct fake *f = targets;
	int i;

	(void)arg;
	for (i = 0; i < NT; i++)
		if (strcmp(names[i], name) == 0)
			return &f->t[i];
	return NULL;
}

static int
f_deliver(void *arg, struct pk_alert_sched_target *t,
    const struct pk_alert_job *j, atomic_int *stop, char *err,
    size_t errsize, int *permanent)
{
	struct fake *f = arg;
	int i = (int)(t - f->t), ok = f->fail[i] == 0;

	(void)stop;
	assert_true(f->nlog < MAXLOG);
	snprintf(f->log[f->nlog], sizeof(f->log[0]), "%s:%s%s", names[i],
	    j->e.key, ok ? "+" : "");
	f->at[f->nlog++] = f->now;
	if (ok)
		return 0;
	if (f->fail[i] > 0)
		f->fail[i]--;
	*permanent = f->permanent;
	snprintf(err, errsize, "refused");
	return -1;
}

static void
f_periodic(void *arg, void *targets, double now, atomic_int *stop)
{
	struct fake *f = arg;

	(void)targets;
	(void)now;
	(void)stop;
	f->periodic++;
}

static int
f_spool_write(void *arg, struct pk_alert_job *j)
{
	struct fake *f = arg;
	char name[32];

	if (f->spool_fail) {
		errno = ENOSPC;
		return -1;
	}
	snprintf(name, sizeof(name), "spool/%lu", j->seq);
	j->e.file = strdup(name);
	f->files++;
	return 0;
}

static int
f_spool_remove(void *arg, struct pk_alert_job *j)
{
	struct fake *f = arg;

	assert_non_null(j->e.file);
	f->files--;
	return 0;
}

static int
f_spool_dead(void *arg, struct pk_alert_job *j, const char *why)
{
	struct fake *f = arg;

	assert_non_null(j->e.file);
	assert_string_equal(why, "refused");
	f->files--;
	f->dead++;
	return 0;
}

static const struct pk_alert_sched_ops fake_ops = {
	.clock = f_clock,
	.hold = f_hold,
	.release = f_release,
	.target = f_target,
	.deliver = f_deliver,
	.periodic = f_periodic,
	.spool_write = f_spool_write,
	.spool_remove = f_spool_remove,
};

static struct pk_alert_job *
job(const char *receiver, const char *key)
{
	static unsigned long seq;
	struct pk_alert_job *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->seq = ++seq;
	j->e.receiver = strdup(receiver);
	j->e.key = strdup(key);
	j->e.alert = json_pack("{s:s}", "type", "alert");
	return j;
}

static void
submit(struct pk_alert_sched *s, const char *receiver, const char *key,
    int want)
{
	assert_int_equal(pk_alert_sched_submit(s, job(receiver, key)), want);
}

/* Rounds until nothing is due before until, the clock following. */
static void
run(struct pk_alert_sched *s, struct fake *f, double until)
{
	double wake;
	int n;

	for (n = 0; n < 10000; n++) {
		if (pk_alert_sched_step(s, &wake) == 1)
			continue;
		if (wake > until)
			break;
		/* As the thread does, never waiting less than 1 ms. */
		f->now = wake > f->now + 0.001 ? wake : f->now + 0.001;
	}
	assert_true(n < 10000);
	f->now = until;
	assert_int_equal(f->holds, 0);
}

static int
queued(struct pk_alert_sched *s)
{
	struct pk_alert_job *j;
	int n = 0;

	for (j = s->head; j != NULL; j = j->next)
		n++;
	return n;
}

static void
setup(struct pk_alert_sched *s, struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->now = 100;
	pk_alert_sched_init(s, &fake_ops, f, "spool");
	pk_alert_sched_backoff(s, 0.5, 4);
}

static void
test_order_per_target(void **state)
{
	struct pk_alert_sched s;
	struct fake f;

	(void)state;
	setup(&s, &f);
	f.fail[0] = 2;
	submit(&s, "a", "firing", 0);
	submit(&s, "a", "resolved", 0);
	submit(&s, "b", "firing", 0);
	run(&s, &f, 200);
	/* "a" refused its firing twice: its resolved waited behind it. */
	assert_int_equal(f.nlog, 5);
	assert_string_equal(f.log[0], "a:firing");
	assert_string_equal(f.log[1], "b:firing+");
	assert_string_equal(f.log[2], "a:firing");
	assert_string_equal(f.log[3], "a:firing+");
	assert_string_equal(f.log[4], "a:resolved+");
	assert_int_equal(queued(&s), 0);
	assert_int_equal(f.files, 0);
	assert_int_equal(s.delivered, 3);
	assert_int_equal(s.failures, 2);
	pk_alert_sched_stop(&s);
}

/* What pk_alert_sched_foreach sees: jobs per receiver, in queue order. */
struct seen {
	char order[16];
	int n;
};

static void
see(void *arg, const struct pk_alert_job *j)
{
	struct seen *w = arg;

	if (w->n < 15)
		w->order[w->n++] = j->e.receiver[0];
}

static void
test_foreach(void **state)
{
	struct pk_alert_sched s;
	struct fake f;
	struct seen w;

	(void)state;
	setup(&s, &f);
	f.fail[0] = -1;
	submit(&s, "a", "1", 0);
	submit(&s, "b", "1", 0);
	submit(&s, "a", "2", 0);
	memset(&w, 0, sizeof(w));
	pk_alert_sched_foreach(&s, see, &w);
	assert_string_equal(w.order, "aba");
	/* b delivered, a refused: a's two wait, the one tried included. */
	run(&s, &f, 101);
	memset(&w, 0, sizeof(w));
	pk_alert_sched_foreach(&s, see, &w);
	assert_string_equal(w.order, "aa");
	pk_alert_sched_stop(&s);
}

static void
test_backoff(void **state)
{
	static const double want[] = { 0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5 };
	struct pk_alert_sched s;
	struct fake f;
	size_t i;

	(void)state;
	setup(&s, &f);
	f.fail[0] = -1;
	submit(&s, "a", "k", 0);
	run(&s, &f, 100 + 15.6);
	/* 0.5 s, doubling, at most 4 s. */
	assert_int_equal(f.nlog, 7);
	for (i = 0; i < 7; i++)
		assert_true(f.at[i] - 100 > want[i] - 1e-9 &&
		    f.at[i] - 100 < want[i] + 1e-9);
	assert_int_equal(queued(&s), 1);
	assert_int_equal(f.files, 1);
	pk_alert_sched_stop(&s);
}

static void
test_rate_limit(void **state)
{
	struct pk_alert_sched s;
	struct fake f;
	int i;

	(void)state;
	setup(&s, &f);
	f.t[0].rate_per_min = 3;
	f.t[0].tokens = 3;
	for (i = 0; i < 5; i++)
		submit(&s, "a", "k", 0);
	submit(&s, "b", "k", 0);
	run(&s, &f, 100.1);
	/* Three at once, and "b" is not held up by "a"'s limit. */
	assert_int_equal(f.nlog, 4);
	assert_string_equal(f.log[3], "b:k+");
	run(&s, &f, 119.9);
	assert_int_equal(f.nlog, 4);
	/* Then one every 20 s. */
	run(&s, &f, 120.1);
	assert_int_equal(f.nlog, 5);
	run(&s, &f, 140.1);
	assert_int_equal(f.nlog, 6);
	assert_int_equal(queued(&s), 0);
	pk_alert_sched_stop(&s);
}

static void
test_failing_target_does_not_stop_another(void **state)
{
	struct pk_alert_sched s;
	struct fake f;
	int i, b = 0;

	(void)state;
	setup(&s, &f);
	f.fail[0] = -1;
	submit(&s, "a", "1", 0);
	submit(&s, "a", "2", 0);
	for (i = 0; i < 3; i++)
		submit(&s, "b", "k", 0);
	run(&s, &f, 100.1);
	for (i = 0; i < f.nlog; i++)
		b += strcmp(f.log[i], "b:k+") == 0;
	assert_int_equal(b, 3);
	/* "a" keeps failing on its first; its second is never tried. */
	run(&s, &f, 130);
	for (i = 0; i < f.nlog; i++)
		assert_true(strcmp(f.log[i], "a:2") != 0);
	assert_int_equal(queued(&s), 2);
	pk_alert_sched_stop(&s);
}

static void
test_memory_fallback(void **state)
{
	struct pk_alert_sched s;
	struct fake f;

	(void)state;
	setup(&s, &f);
	s.memcap = 3;
	f.fail[0] = -1;
	f.spool_fail = 1;
	submit(&s, "a", "1", 1);
	submit(&s, "a", "2", 1);
	f.spool_fail = 0;
	/* Behind the two in memory, even though the spool works again. */
	submit(&s, "a", "3", 1);
	submit(&s, "a", "4", -1);
	assert_int_equal(pk_alert_sched_unspooled(&s), 3);
	assert_int_equal(s.dropped, 1);
	assert_true(s.diskerr);
	assert_int_equal(f.files, 0);
	/* A second later the spool takes them, in order. */
	run(&s, &f, 101.5);
	assert_int_equal(pk_alert_sched_unspooled(&s), 0);
	assert_int_equal(f.files, 3);
	assert_string_equal(s.head->e.key, "1");
	assert_non_null(s.head->e.file);
	assert_string_equal(s.head->next->next->e.key, "3");
	assert_true(s.head->seq < s.head->next->seq);
	/* Delivered from the spool, the files go. */
	f.fail[0] = 0;
	run(&s, &f, 200);
	assert_int_equal(f.files, 0);
	assert_int_equal(queued(&s), 0);
	pk_alert_sched_stop(&s);
}

static void
test_delivered_from_memory(void **state)
{
	struct pk_alert_sched s;
	struct fake f;

	(void)state;
	setup(&s, &f);
	f.spool_fail = 1;
	submit(&s, "b", "1", 1);
	run(&s, &f, 100.5);
	assert_int_equal(f.nlog, 1);
	assert_string_equal(f.log[0], "b:1+");
	assert_int_equal(pk_alert_sched_unspooled(&s), 0);
	assert_int_equal(queued(&s), 0);
	pk_alert_sched_stop(&s);
}

/* With dead letters: refused for good, and a 5xx ten times, are buried. */
static void
test_dead_letters(void **state)
{
	static struct pk_alert_sched_ops ops;
	struct pk_alert_sched s;
	struct fake f;

	(void)state;
	ops = fake_ops;
	ops.spool_dead = f_spool_dead;
	memset(&f, 0, sizeof(f));
	f.now = 100;
	pk_alert_sched_init(&s, &ops, &f, "spool");
	pk_alert_sched_backoff(&s, 0.01, 0.02);
	f.fail[0] = 1;
	f.permanent = PK_ALERT_REFUSED;
	submit(&s, "a", "1", 0);
	submit(&s, "a", "2", 0);
	run(&s, &f, 200);
	assert_int_equal(f.nlog, 2);
	assert_string_equal(f.log[1], "a:2+");
	assert_int_equal(f.dead, 1);
	assert_int_equal(s.dead, 1);
	/* A server error: retried, buried at the 10th attempt. */
	f.fail[1] = -1;
	f.permanent = PK_ALERT_SERVER_ERROR;
	submit(&s, "b", "3", 0);
	run(&s, &f, 300);
	assert_int_equal(f.nlog, 2 + PK_ALERT_SCHED_DEAD_AFTER);
	assert_int_equal(f.dead, 2);
	assert_int_equal(f.files, 0);
	assert_int_equal(queued(&s), 0);
	pk_alert_sched_stop(&s);
}

static void
test_permanent_and_gone(void **state)
{
	struct pk_alert_sched s;
	struct fake f;

	(void)state;
	setup(&s, &f);
	f.fail[0] = 1;
	f.permanent = 1;
	submit(&s, "a", "1", 0);
	submit(&s, "a", "2", 0);
	submit(&s, "gone", "3", 0);
	run(&s, &f, 200);
	/* Not retried: out of the queue, its file kept for a later run. */
	assert_int_equal(f.nlog, 2);
	assert_string_equal(f.log[0], "a:1");
	assert_string_equal(f.log[1], "a:2+");
	assert_int_equal(queued(&s), 0);
	assert_int_equal(f.files, 2);
	assert_true(f.periodic > 0);
	pk_alert_sched_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_per_target),
		cmocka_unit_test(test_dead_letters),
		cmocka_unit_test(test_foreach),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_failing_target_does_not_stop_another),
		cmocka_unit_test(test_memory_fallback),
		cmocka_unit_test(test_delivered_from_memory),
		cmocka_unit_test(test_permanent_and_gone),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
