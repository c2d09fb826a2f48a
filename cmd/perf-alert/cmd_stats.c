/* SPDX-License-Identifier: MIT */
/*
 * perf-alert stats: counts, MTTA and MTTR per rule from the history.
 */
#include "perf-alert.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"

struct rstat {
	char *rule;
	unsigned long fired, resolved, acked, escalated;
	unsigned long sev[4];
	double tta, ttr;
};

int
cmd_stats(void *ctx, int argc, char **argv)
{
	const struct alert_opts *o = ctx;
	struct config *cfg;
	const char *dir = state_dir_of(o, &cfg);
	struct rstat *st = NULL, tot;
	struct pk_jsonl r;
	struct pk_bad bad = { 0, 0 };
	char path[8192], *line;
	size_t len, n = 0, i;
	int rc;

	(void)argc;
	(void)argv;
	memset(&tot, 0, sizeof(tot));
	state_dir_ready(dir, 0);
	snprintf(path, sizeof(path), "%s/history.jsonl", dir);
	/* Not through a link (the directory itself is ours alone). */
	if ((rc = state_file_open(path, O_RDONLY)) != -1)
		close(rc);
	if (rc == -1 || pk_jsonl_open(&r, path) == -1) {
		pk_warn_errno("cannot open '%s'", path);
		config_free(cfg);
		return PK_EXIT_IO;
	}
	while ((rc = pk_jsonl_next(&r, &line, &len)) == PK_JSONL_LINE ||
	    rc == PK_JSONL_TOOLONG) {
		json_t *a;
		const char *rule, *ev;
		struct rstat *s;
		int sev;

		if (rc == PK_JSONL_TOOLONG) {
			pk_bad_line(&bad, r.name, r.lineno, "line too long");
			continue;
		}
		if ((a = pk_jsonl_parse(&bad, &r, line, len)) == NULL)
			continue;
		rule = json_string_value(json_object_get(a, "rule"));
		ev = json_string_value(json_object_get(a, "event"));
		sev = pk_alert_severity(json_string_value(json_object_get(a,
		    "severity")) ? json_string_value(json_object_get(a,
		    "severity")) : "");
		if (rule == NULL || ev == NULL || sev < 0) {
			pk_bad_line(&bad, r.name, r.lineno, "not an alert record");
			json_decref(a);
			continue;
		}
		for (i = 0; i < n; i++)
			if (strcmp(st[i].rule, rule) == 0)
				break;
		if (i == n) {
			st = pk_xreallocarray(st, n + 1, sizeof(*st));
			memset(&st[n], 0, sizeof(st[n]));
			st[n++].rule = pk_xstrdup(rule);
		}
		s = &st[i];
		if (strcmp(ev, "firing") == 0) {
			s->fired++;
			s->sev[sev]++;
		} else if (strcmp(ev, "escalated") == 0) {
			s->escalated++;
			s->sev[sev]++;
		} else if (strcmp(ev, "acknowledged") == 0) {
			s->acked++;
			s->tta += json_number_value(json_object_get(a, "tta_s"));
		} else if (strcmp(ev, "resolved") == 0) {
			s->resolved++;
			s->ttr += json_number_value(json_object_get(a,
			    "duration_s"));
		}
		json_decref(a);
	}
	if (rc == PK_JSONL_ERROR)
		pk_die_errno(PK_EXIT_IO, "cannot read '%s'", path);
	pk_jsonl_release(&r);
	tot.rule = (char *)"*";
	for (i = 0; i <= n; i++) {
		struct rstat *s = i < n ? &st[i] : &tot;
		json_t *o2 = json_object(), *bs = json_object();
		int k;

		if (i < n) {
			tot.fired += s->fired;
			tot.resolved += s->resolved;
			tot.acked += s->acked;
			tot.escalated += s->escalated;
			tot.tta += s->tta;
			tot.ttr += s->ttr;
			for (k = 0; k < 4; k++)
				tot.sev[k] += s->sev[k];
		}
		json_object_set_new(o2, "type", json_string("alert_stats"));
		json_object_set_new(o2, "rule", json_string(s->rule));
		json_object_set_new(o2, "fired", json_integer((json_int_t)s->fired));
		json_object_set_new(o2, "escalated",
		    json_integer((json_int_t)s->escalated));
		json_object_set_new(o2, "acknowledged",
		    json_integer((json_int_t)s->acked));
		json_object_set_new(o2, "resolved",
		    json_integer((json_int_t)s->resolved));
		for (k = 0; k < 4; k++)
			if (s->sev[k] > 0)
				json_object_set_new(bs, pk_alert_severity_name(k),
				    json_integer((json_int_t)s->sev[k]));
		json_object_set_new(o2, "by_severity", bs);
		if (s->acked > 0)
			json_object_set_new(o2, "mtta_s",
			    json_real(s->tta / (double)s->acked));
		if (s->resolved > 0)
			json_object_set_new(o2, "mttr_s",
			    json_real(s->ttr / (double)s->resolved));
		pk_emit_json(o2);
		json_decref(o2);
		if (i < n)
			free(s->rule);
	}
	free(st);
	/* And what no receiver will take: the dead letters. */
	dead_letters_list(dir);
	config_free(cfg);
	pk_close_stdout();
	return pk_bad_finish(&bad);
}
