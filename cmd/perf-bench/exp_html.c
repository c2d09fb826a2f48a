/* SPDX-License-Identifier: MIT */
/*
 * --export-html: a self-contained report (no scripts, no external
 * resources) with the tables of the terminal report and an inline SVG
 * histogram per command and phase.
 */
#include "perf-bench.h"

static void
escape(struct bench_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			bench_buf_puts(b, "&lt;");
		else if (*s == '>')
			bench_buf_puts(b, "&gt;");
		else if (*s == '&')
			bench_buf_puts(b, "&amp;");
		else if (*s == '"')
			bench_buf_puts(b, "&quot;");
		else
			bench_buf_put(b, s, 1);
	}
}

static void
histogram(struct bench_buf *b, const struct bench_phase *ph)
{
	size_t counts[BENCH_HIST_MAX_BINS], bins, i, maxc = 0;
	double lo, w, sc, bw, h;
	const char *u = bench_unit_for(ph->wall.mean, &sc);

	bins = bench_histogram(ph->kept, ph->wall.n, counts, &lo, &w);
	if (bins == 0)
		return;
	for (i = 0; i < bins; i++)
		if (counts[i] > maxc)
			maxc = counts[i];
	bw = 560.0 / (double)bins;
	bench_buf_puts(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"600\" height=\"240\" viewBox=\"0 0 600 240\" "
	    "role=\"img\">\n<line x1=\"30\" y1=\"200\" x2=\"590\" y2=\"200\" "
	    "stroke=\"#333\"/>\n");
	for (i = 0; i < bins; i++) {
		h = maxc ? 180.0 * (double)counts[i] / (double)maxc : 0;
		bench_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\" fill=\"#4a7ab5\"><title>%.3f-%.3f %s: %zu"
		    "</title></rect>\n", 30 + bw * (double)i + 1, 200 - h,
		    bw - 2, h, (lo + w * (double)i) * sc,
		    (lo + w * (double)(i + 1)) * sc, u, counts[i]);
	}
	bench_buf_printf(b, "<text x=\"30\" y=\"220\" font-size=\"12\">%.3f "
	    "%s</text>\n<text x=\"590\" y=\"220\" font-size=\"12\" "
	    "text-anchor=\"end\">%.3f %s</text>\n<text x=\"30\" y=\"14\" "
	    "font-size=\"12\">max count %zu</text>\n</svg>\n", lo * sc, u,
	    (lo + w * (double)bins) * sc, u, maxc);
}

static void
summary_table(const struct bench_results *r, struct bench_buf *b)
{
	size_t i;
	int p;

	bench_buf_puts(b, "<table>\n<tr><th>command</th><th>phase</th>"
	    "<th>runs</th><th>mean [ms]</th><th>σ [ms]</th><th>median [ms]"
	    "</th><th>p95 [ms]</th><th>p99 [ms]</th><th>CV</th></tr>\n");
	for (i = 0; i < r->n; i++)
		for (p = 0; p < r->nphases; p++) {
			const struct bench_phase *ph = &r->cmd[i].ph[p];

			bench_buf_puts(b, "<tr><td>");
			escape(b, r->cmd[i].name);
			bench_buf_printf(b, "</td><td>%s</td><td>%zu</td><td>"
			    "%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td>"
			    "<td>%.3f</td><td>%.2f%%</td></tr>\n",
			    bench_phase_name[p], ph->runs, ph->wall.mean * 1e3,
			    ph->wall.sd * 1e3, ph->wall.median * 1e3,
			    ph->wall.p95 * 1e3, ph->wall.p99 * 1e3,
			    ph->wall.cv * 100);
		}
	bench_buf_puts(b, "</table>\n");
}

static void
comparison_table(const struct bench_results *r, struct bench_buf *b)
{
	size_t i;

	bench_buf_puts(b, "<h2>comparison with ");
	escape(b, r->cmd[r->ref].name);
	bench_buf_printf(b, "</h2>\n<table>\n<tr><th>command</th><th>ratio"
	    "</th><th>%g%% CI</th><th>Welch p</th><th>Mann-Whitney p"
	    "</th></tr>\n", r->confidence * 100);
	for (i = 0; i < r->n; i++) {
		const struct bench_cmp *c = &r->cmd[i].ph[BENCH_QUIET].ref;

		if (!r->cmd[i].ph[BENCH_QUIET].has_ref)
			continue;
		bench_buf_puts(b, "<tr><td>");
		escape(b, r->cmd[i].name);
		bench_buf_printf(b, "</td><td>%.3f ± %.3f</td><td>[%.3f, %.3f]"
		    "</td><td>%.3g</td><td>%.3g</td></tr>\n", c->ratio, c->sd,
		    c->lo, c->hi, c->welch.p, c->mw.p);
	}
	bench_buf_puts(b, "</table>\n");
}

static void
stress_table(const struct bench_results *r, struct bench_buf *b)
{
	size_t i;

	bench_buf_printf(b, "<h2>stress %lux: %zu CPU hogs, %zu memory hogs"
	    "</h2>\n<table>\n<tr><th>command</th><th>slowdown</th>"
	    "<th>%g%% CI</th><th>CV quiet</th><th>CV stress</th>"
	    "<th>p99 quiet [ms]</th><th>p99 stress [ms]</th></tr>\n",
	    r->stress, r->ncpu_hogs, r->nmem_hogs, r->confidence * 100);
	for (i = 0; i < r->n; i++) {
		const struct bench_phase *q = &r->cmd[i].ph[BENCH_QUIET];
		const struct bench_phase *st = &r->cmd[i].ph[BENCH_STRESS];

		if (!st->has_quiet)
			continue;
		bench_buf_puts(b, "<tr><td>");
		escape(b, r->cmd[i].name);
		bench_buf_printf(b, "</td><td>%.3f ± %.3f</td><td>[%.3f, %.3f]"
		    "</td><td>%.2f%%</td><td>%.2f%%</td><td>%.3f</td>"
		    "<td>%.3f</td></tr>\n", st->quiet.ratio, st->quiet.sd,
		    st->quiet.lo, st->quiet.hi, q->wall.cv * 100,
		    st->wall.cv * 100, q->wall.p99 * 1e3, st->wall.p99 * 1e3);
	}
	bench_buf_puts(b, "</table>\n");
}

static void
render(const struct bench_results *r, struct bench_buf *b)
{
	size_t i;
	int p;

	bench_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>perf-bench report</title>\n"
	    "<style>body{font-family:sans-serif;margin:2em}"
	    "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
	    "padding:0.2em 0.6em;text-align:right}"
	    "td:first-child{text-align:left}</style>\n</head>\n<body>\n"
	    "<h1>perf-bench report</h1>\n<p>host ");
	escape(b, r->host);
	bench_buf_printf(b, ", %g%% confidence intervals, outliers %s</p>\n",
	    r->confidence * 100, r->drop_outliers ? "dropped" : "kept");
	summary_table(r, b);
	if (r->n > 1 && r->cmd[r->ref].ph[BENCH_QUIET].wall.n > 1)
		comparison_table(r, b);
	if (r->nphases > 1)
		stress_table(r, b);
	for (i = 0; i < r->n; i++)
		for (p = 0; p < r->nphases; p++) {
			bench_buf_puts(b, "<h2>");
			escape(b, r->cmd[i].name);
			bench_buf_printf(b, " (%s)</h2>\n", bench_phase_name[p]);
			histogram(b, &r->cmd[i].ph[p]);
		}
	bench_buf_puts(b, "</body>\n</html>\n");
}

const struct bench_exporter exp_html = {
	.name = "html",
	.option = "export-html",
	.help = "a self-contained HTML report with histograms",
	.render = render,
};
