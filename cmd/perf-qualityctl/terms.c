/* SPDX-License-Identifier: MIT */
/*
 * The pressure terms, one row each (term_*.c). Adding a term is one file
 * and one line here; the config keys, --help and the man page's list
 * (tests/perf-qualityctl.bats holds it against --help) follow.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "perf-qualityctl.h"

extern const struct term_type term_cpu, term_memory, term_temperature,
    term_fps, term_latency, term_deadline, term_extra;

const struct term_type *const term_types[] = {
	&term_cpu,
	&term_memory,
	&term_temperature,
	&term_fps,
	&term_latency,
	&term_deadline,
	&term_extra,
	NULL
};

_Static_assert(sizeof(term_types) / sizeof(term_types[0]) <= TERM_TYPES_MAX + 1,
    "more term rows than TERM_TYPES_MAX");

int
term_type_slot(const struct term_type *tt)
{
	int i;

	for (i = 0; term_types[i] != NULL; i++)
		if (term_types[i] == tt)
			return i;
	return -1;
}

/*
 * The record types the terms read, as the front end's types: "sample"
 * first (the evaluations), then each other type in table order, which
 * must carry its rows' key ("a metric record without component").
 */
size_t
term_ftypes(struct pk_ftype *types, const char *need[][2])
{
	size_t i, k, n = 0;

	types[n].name = "sample";
	types[n++].need = NULL;
	for (i = 0; term_types[i] != NULL; i++) {
		const struct term_type *tt = term_types[i];

		for (k = 0; k < n; k++)
			if (strcmp(types[k].name, tt->record) == 0)
				break;
		if (k < n)
			continue;
		need[n][0] = tt->key;
		need[n][1] = NULL;
		types[n].name = tt->record;
		types[n].need = tt->key != NULL ? need[n] : NULL;
		n++;
	}
	types[n].name = NULL;
	types[n].need = NULL;
	return n;
}

int
term_record_index(const char *record)
{
	struct pk_ftype types[FTYPES_MAX + 1];
	const char *need[FTYPES_MAX][2];
	size_t i, n = term_ftypes(types, need);

	for (i = 0; i < n; i++)
		if (strcmp(types[i].name, record) == 0)
			return (int)i;
	return -1;
}

double
term_num(const struct pk_jval *v)
{
	return v->type == PK_JNUM ? pk_jval_num(v) : NAN;
}

void
terms_help(FILE *fp)
{
	size_t i;

	fputs("\npressure terms (pressure: TERM: in the config) and their "
	    "defaults:\n"
	    "  TERM         WEIGHT  LOW  HIGH  MEASURE\n", fp);
	for (i = 0; term_types[i] != NULL; i++) {
		const struct term_type *tt = term_types[i];

		fprintf(fp, "  %-12s %6g %4g %5g  %s\n", tt->name, tt->weight,
		    tt->low, tt->high, tt->help);
	}
}
