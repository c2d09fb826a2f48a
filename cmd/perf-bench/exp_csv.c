/* SPDX-License-Identifier: MIT */
/*
 * --export-csv: hyperfine's columns (command, then mean, stddev, median,
 * user, system, min and max in seconds), then perfkit's (runs, cv, p95,
 * p99, phase); one row per command and phase. Fields are quoted as
 * RFC 4180 says, numbers written with the fewest digits that read back
 * the same, and a number that cannot be computed is an empty field (as
 * hyperfine's stddev of a single run).
 */
#include "perf-bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
field(struct bench_buf *b, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		bench_buf_puts(b, s);
		return;
	}
	bench_buf_put(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"')
			bench_buf_put(b, "\"", 1);
		bench_buf_put(b, s, 1);
	}
	bench_buf_put(b, "\"", 1);
}

/* ",x": x in fixed point, as few decimals as read back exactly. */
static void
number(struct bench_buf *b, double x)
{
	char buf[80];
	int d;

	bench_buf_put(b, ",", 1);
	if (!isfinite(x))
		return;
	for (d = 0; d <= 30; d++) {
		snprintf(buf, sizeof(buf), "%.*f", d, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	if (d > 30)
		snprintf(buf, sizeof(buf), "%.17g", x);
	bench_buf_puts(b, buf);
}

static void
render(const struct bench_results *r, struct bench_buf *b)
{
	size_t i;
	int p;
	double sd, cv;

	bench_buf_puts(b, "command,mean,stddev,median,user,system,min,max,"
	    "runs,cv,p95,p99,phase\n");
	for (i = 0; i < r->n; i++)
		for (p = 0; p < r->nphases; p++) {
			const struct bench_phase *ph = &r->cmd[i].ph[p];

			sd = ph->wall.n > 1 ? ph->wall.sd : NAN;
			cv = ph->wall.n > 1 ? ph->wall.cv : NAN;
			field(b, r->cmd[i].name);
			number(b, ph->wall.mean);
			number(b, sd);
			number(b, ph->wall.median);
			number(b, ph->user.mean);
			number(b, ph->sys.mean);
			number(b, ph->wall.min);
			number(b, ph->wall.max);
			bench_buf_printf(b, ",%zu", ph->runs);
			number(b, cv);
			number(b, ph->wall.p95);
			number(b, ph->wall.p99);
			bench_buf_printf(b, ",%s\n", bench_phase_name[p]);
		}
}

const struct bench_exporter exp_csv = {
	.name = "csv",
	.option = "export-csv",
	.help = "hyperfine's CSV columns, then perfkit's",
	.render = render,
};
