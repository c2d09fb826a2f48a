/* SPDX-License-Identifier: MIT */
/*
 * --export-markdown: a table of every command and phase, in milliseconds,
 * with the ratio to the reference command.
 */
#include "perf-bench.h"

/* '|' and '`' would end the cell or the code span. */
static void
escape(struct bench_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '`')
			bench_buf_put(b, "\\", 1);
		bench_buf_put(b, s, 1);
	}
}

static void
render(const struct bench_results *r, struct bench_buf *b)
{
	size_t i;
	int p;

	bench_buf_puts(b, "| Command | Phase | Runs | Mean [ms] | σ [ms] | "
	    "Median [ms] | Min [ms] | Max [ms] | CV | Relative |\n"
	    "|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < r->n; i++)
		for (p = 0; p < r->nphases; p++) {
			const struct bench_phase *ph = &r->cmd[i].ph[p];

			bench_buf_puts(b, "| `");
			escape(b, r->cmd[i].name);
			bench_buf_printf(b, "` | %s | %zu | %.3f | %.3f | %.3f | "
			    "%.3f | %.3f | %.2f%% | ", bench_phase_name[p],
			    ph->runs, ph->wall.mean * 1e3, ph->wall.sd * 1e3,
			    ph->wall.median * 1e3, ph->wall.min * 1e3,
			    ph->wall.max * 1e3, ph->wall.cv * 100);
			if (ph->has_ref)
				bench_buf_printf(b, "%.2f ± %.2f |\n",
				    ph->ref.ratio, ph->ref.sd);
			else
				bench_buf_puts(b, i == r->ref ? "1.00 |\n" :
				    "n/a |\n");
		}
}

const struct bench_exporter exp_markdown = {
	.name = "markdown",
	.option = "export-markdown",
	.help = "a Markdown table",
	.render = render,
};
