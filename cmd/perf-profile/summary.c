/* SPDX-License-Identifier: MIT */
/*
 * --summary: at the end of input, per component and metric the whole
 * run's statistics, then the timeline of the bottlenecks (a table, or
 * with --json summary and episode records).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pk_io.h"
#include "pk_time.h"

#include "perf-profile.h"

static void
fmt_ts(double t, char *buf, size_t size)
{
	time_t tt = fabs(t) < 1e15 ? (time_t)floor(t) : 0;
	struct tm tm;

	if (!(fabs(t) < 1e15) || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, size, "-");
		return;
	}
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A component's name, with @host when it is not of the first host. */
static void
comp_label(const struct state *s, const struct component *c, char *buf,
    size_t size)
{
	if (c->host != s->comp[0].host)
		snprintf(buf, size, "%s@%s", c->name, c->host->name);
	else
		snprintf(buf, size, "%s", c->name);
}

static void
summary_table(struct state *s)
{
	char a[32], dur[32], label[300];
	size_t i;
	int m;

	pk_out_printf("%-20s %-18s %8s %12s %12s %12s %12s %12s %12s\n",
	    "COMPONENT", "METRIC", "N", "MEAN", "MIN", "MAX", "P50", "P95",
	    "P99");
	for (i = 0; i < s->ncomp; i++) {
		struct component *c = &s->comp[i];

		comp_label(s, c, label, sizeof(label));
		for (m = 0; m < NMETRIC; m++) {
			struct pk_profagg *g = &c->agg[m];

			if (g->w.n == 0)
				continue;
			pk_out_printf("%-20s %-18s %8llu %12.2f %12.2f %12.2f "
			    "%12.2f %12.2f %12.2f\n", label, metrics[m].name,
			    g->w.n, g->w.mean, g->w.min, g->w.max,
			    pk_p2_get(&g->p50), pk_p2_get(&g->p95),
			    pk_p2_get(&g->p99));
		}
	}
	pk_out_printf("\nBOTTLENECKS\n");
	if (s->nep == 0) {
		pk_out_printf("none\n");
		return;
	}
	pk_out_printf("%-20s %10s %-8s %-10s %-20s %s\n", "START", "DURATION",
	    "PEAK", "KIND", "COMPONENT", "METRIC");
	for (i = 0; i < s->nep; i++) {
		struct episode *e = &s->ep[i];
		struct component *c = &s->comp[e->comp];

		comp_label(s, c, label, sizeof(label));
		fmt_ts(e->since, a, sizeof(a));
		pk_duration_fmt(e->end - e->since, dur, sizeof(dur));
		pk_out_printf("%-20s %10s %-8s %-10s %-20s %s%s\n", a, dur,
		    pk_profsev_name(e->peak), checks[e->check]->kind, label,
		    checks[e->check]->value_name,
		    e->ongoing ? " (ongoing)" : "");
	}
	if (s->ep_lost > 0)
		pk_out_printf("(%llu more not listed)\n", s->ep_lost);
}

void
summary(struct state *s)
{
	size_t i;

	/* Open bottlenecks last until their host's last event time. */
	for (i = 0; i < s->nep; i++)
		if (s->ep[i].ongoing)
			s->ep[i].end = s->comp[s->ep[i].comp].host->clock;
	if (!s->o->json) {
		summary_table(s);
		return;
	}
	for (i = 0; i < s->ncomp; i++)
		rec_summary(s, &s->comp[i]);
	for (i = 0; i < s->nep; i++)
		rec_episode(s, &s->ep[i]);
}
