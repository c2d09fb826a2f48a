/* SPDX-License-Identifier: MIT */
/*
 * The pass/fail gates (--max-latency-us, --max-exec-us, --max-loop-us,
 * --max-jitter-us, --max-misses): one row per gate, each naming the
 * option, what it measures of a span and how that is judged. The summary
 * record carries every gate's limit and measured value, stderr names each
 * one that failed, and a failed gate is status 1.
 */
#include "rt-loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_num.h"
#include "pk_opt.h"

/* The statistics a time gate can be judged on; p99 unless told. */
static const char *const stat_names[RT_STAT_N] = {
	[RT_STAT_P50] = "p50", [RT_STAT_P99] = "p99",
	[RT_STAT_P999] = "p999", [RT_STAT_MAX] = "max",
	[RT_STAT_MEAN] = "mean",
};

/* A statistic of a histogram, in ns. */
static double
hist_stat(const struct pk_hist *h, int stat)
{
	switch (stat) {
	case RT_STAT_P50:
		return (double)pk_hist_quantile(h, 0.5);
	case RT_STAT_P999:
		return (double)pk_hist_quantile(h, 0.999);
	case RT_STAT_MAX:
		return (double)h->max;
	case RT_STAT_MEAN:
		return h->sum / (double)h->total;
	default:
		return (double)pk_hist_quantile(h, 0.99);
	}
}

static double
lat_value(const struct rt_span *sp, int stat)
{
	return hist_stat(&sp->lat, stat);
}

static double
exec_value(const struct rt_span *sp, int stat)
{
	return hist_stat(&sp->exec, stat);
}

static double
loop_value(const struct rt_span *sp, int stat)
{
	return hist_stat(&sp->loop, stat);
}

/* Jitter: the wake-up latency's statistic less its minimum. */
static double
jitter_value(const struct rt_span *sp, int stat)
{
	return hist_stat(&sp->lat, stat) - (double)sp->lat.min;
}

const struct rt_gate_type rt_gate_types[RT_GATE_N] = {
	[RT_GATE_LATENCY] = { "latency", "--max-latency-us", 0, lat_value },
	[RT_GATE_EXEC] = { "exec", "--max-exec-us", 0, exec_value },
	[RT_GATE_LOOP] = { "loop", "--max-loop-us", 0, loop_value },
	[RT_GATE_JITTER] = { "jitter", "--max-jitter-us", 0, jitter_value },
	[RT_GATE_MON_LATENCY] = { "monitor_latency",
	    "--max-monitor-latency-us", 1, lat_value },
	[RT_GATE_MON_EXEC] = { "monitor_exec", "--max-monitor-exec-us", 1,
	    exec_value },
	[RT_GATE_MON_LOOP] = { "monitor_loop", "--max-monitor-loop-us", 1,
	    loop_value },
};

/* [STAT:]US for a time gate. */
void
rt_gate_parse_time(struct rt_opts *o, int gate, const char *arg)
{
	const struct rt_gate_type *t = &rt_gate_types[gate];
	struct rt_gate *g = &o->gates[gate];
	const char *colon = strchr(arg, ':');
	int s;

	g->stat = RT_STAT_P99;
	if (colon != NULL) {
		for (s = 0; s < RT_STAT_N; s++)
			if (strlen(stat_names[s]) == (size_t)(colon - arg) &&
			    strncmp(arg, stat_names[s], (size_t)(colon - arg)) == 0)
				break;
		if (s == RT_STAT_N)
			pk_die(PK_EXIT_USAGE, "%s: unknown statistic '%.*s' "
			    "(p50, p99, p999, max, mean)", t->opt,
			    (int)(colon - arg), arg);
		g->stat = s;
		arg = colon + 1;
	}
	g->limit = pk_opt_double(arg, 0, 60e6, t->opt);
	g->on = 1;
}

/* N (missed periods) or P% (of the periods due). */
static void
parse_misses(const char *arg, const char *opt, double *limit, int *pct)
{
	size_t n = strlen(arg);
	char *num;

	if (n > 0 && arg[n - 1] == '%') {
		num = pk_xstrndup(arg, n - 1);
		*limit = pk_opt_double(num, 0, 100, opt);
		free(num);
		*pct = 1;
	} else {
		*limit = (double)pk_opt_u64(arg, 0, UINT64_MAX / 2, opt);
		*pct = 0;
	}
}

void
rt_gate_parse_misses(struct rt_opts *o, const char *arg)
{
	parse_misses(arg, "--max-misses", &o->miss_limit, &o->miss_pct);
	o->miss_gate = 1;
}

void
rt_gate_parse_monitor_misses(struct rt_opts *o, const char *arg)
{
	parse_misses(arg, "--max-monitor-misses", &o->mon_miss_limit,
	    &o->mon_miss_pct);
	o->mon_miss_gate = 1;
}

int
rt_gates_any(const struct rt_opts *o)
{
	int i;

	for (i = 0; i < RT_GATE_N; i++)
		if (o->gates[i].on)
			return 1;
	return o->miss_gate || o->mon_miss_gate;
}

/* A misses gate: missed of due against limit (a count, or % if pct). */
static int
judge_misses(json_t *gates, const char *name, unsigned long long missed,
    unsigned long long due, double limit, int pct)
{
	double vpct = due > 0 ? 100 * (double)missed / (double)due : 0;
	json_t *g;
	int pass;

	g = json_pack("{s:I,s:I}", "missed", (json_int_t)missed,
	    "periods", (json_int_t)due);
	if (g == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	json_object_set_new(g, pct ? "limit_pct" : "limit", json_real(limit));
	json_object_set_new(g, "value_pct", json_real(vpct));
	pass = due > 0 && (pct ? vpct <= limit : (double)missed <= limit);
	if (!pass && due == 0)
		pk_warn("gate failed: %s: no period was due", name);
	else if (!pass)
		pk_warn("gate failed: %s %llu of %llu periods (%.3f%%) > %g%s",
		    name, missed, due, vpct, limit, pct ? "%" : "");
	json_object_set_new(g, "pass", json_boolean(pass));
	json_object_set_new(gates, name, g);
	return !pass;
}

/*
 * Judge the run: add "gates" and "verdict" to the summary r, one stderr
 * line per failed gate. Returns the number of gates that failed.
 */
int
rt_gates_judge(const struct rt_opts *o, const struct rt_span *loop,
    unsigned long long ticks, unsigned long long skipped,
    const struct rt_span *mon, json_t *r)
{
	static const struct rt_span none;
	const struct rt_span *sp;
	json_t *gates, *g;
	double v;
	int i, failed = 0, pass;

	if (!rt_gates_any(o))
		return 0;
	gates = json_object();
	if (gates == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	for (i = 0; i < RT_GATE_N; i++) {
		const struct rt_gate *gt = &o->gates[i];
		const struct rt_gate_type *t = &rt_gate_types[i];

		if (!gt->on)
			continue;
		sp = !t->monitor ? loop : mon != NULL ? mon : &none;
		g = json_pack("{s:s,s:f}", "stat", stat_names[gt->stat],
		    "limit_us", gt->limit);
		if (g == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		if (sp->ticks == 0) {
			/* Nothing ran: nothing shows that the gate holds. */
			pass = 0;
			pk_warn("gate failed: %s %s: no cycle was measured",
			    t->name, stat_names[gt->stat]);
		} else {
			v = t->value(sp, gt->stat) / 1e3;
			pass = v <= gt->limit;
			json_object_set_new(g, "value_us", json_real(v));
			if (!pass)
				pk_warn("gate failed: %s %s %.3f us > %g us",
				    t->name, stat_names[gt->stat], v,
				    gt->limit);
		}
		json_object_set_new(g, "pass", json_boolean(pass));
		json_object_set_new(gates, t->name, g);
		failed += !pass;
	}
	if (o->miss_gate)
		failed += judge_misses(gates, "misses", loop->misses + skipped,
		    ticks + skipped, o->miss_limit, o->miss_pct);
	if (o->mon_miss_gate) {
		if (mon == NULL)
			mon = &none;
		failed += judge_misses(gates, "monitor_misses",
		    mon->misses + mon->skipped, mon->ticks + mon->skipped,
		    o->mon_miss_limit, o->mon_miss_pct);
	}
	json_object_set_new(r, "gates", gates);
	json_object_set_new(r, "verdict", json_string(failed ? "fail" :
	    "pass"));
	return failed;
}
