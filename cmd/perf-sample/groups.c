/* SPDX-License-Identifier: MIT */
/*
 * The metric groups: one row each, in the order of the record and of the
 * exposition. A group is one file, grp_NAME.c, and one line here. -m,
 * its error message, --help and --list-groups come from this table, and
 * tests/perf-sample.bats holds the man page against it.
 */
#include <stdio.h>
#include <string.h>

#include "perf-sample.h"
#include "pk_err.h"

#define PS_GROUP_TABLE(ROW)						\
	ROW(grp_cpu)							\
	ROW(grp_ncpu)							\
	ROW(grp_cores)							\
	ROW(grp_freq)							\
	ROW(grp_mem)							\
	ROW(grp_swap)							\
	ROW(grp_load)							\
	ROW(grp_psi)							\
	ROW(grp_temp)							\
	ROW(grp_throttle)						\
	ROW(grp_disk)							\
	ROW(grp_net)							\
	ROW(grp_vmstat)							\
	ROW(grp_cgroup)

#define DECLARE(g) extern const struct ps_group g;
#define ADDRESS(g) &g,
PS_GROUP_TABLE(DECLARE)

const struct ps_group *const ps_groups[] = { PS_GROUP_TABLE(ADDRESS) };
const unsigned ps_ngroups = sizeof(ps_groups) / sizeof(ps_groups[0]);

/* A selection is a bit mask, and the live groups an array of that size. */
_Static_assert(sizeof(ps_groups) / sizeof(ps_groups[0]) <= 32,
    "more metric groups than a selection holds");

unsigned long
ps_groups_default(void)
{
	unsigned long set = 0;
	unsigned i;

	for (i = 0; i < ps_ngroups; i++)
		if (ps_groups[i]->flags & PS_GRP_DEFAULT)
			set |= 1ul << i;
	return set;
}

/* The group of a name, -1 if none; "all" is every group but the hidden. */
static unsigned long
lookup(const char *p, size_t n)
{
	unsigned long all = 0;
	unsigned i;

	for (i = 0; i < ps_ngroups; i++) {
		const struct ps_group *g = ps_groups[i];

		if (g->flags & PS_GRP_HIDDEN)
			continue;
		all |= 1ul << i;
		if (strlen(g->name) == n && strncmp(g->name, p, n) == 0)
			return 1ul << i;
	}
	return n == 3 && strncmp(p, "all", 3) == 0 ? all : 0;
}

const char *
ps_groups_names(char *buf, size_t size)
{
	size_t len = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < ps_ngroups; i++)
		if (!(ps_groups[i]->flags & PS_GRP_HIDDEN))
			len += (size_t)snprintf(buf + len, len < size ? size - len : 0,
			    "%s, ", ps_groups[i]->name);
	snprintf(buf + len, len < size ? size - len : 0, "all");
	return buf;
}

unsigned long
ps_groups_parse(const char *arg)
{
	const char *p = arg;
	unsigned long set = 0;

	if (*p == '+') {
		set = ps_groups_default();
		p++;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		unsigned long g = lookup(p, n);
		char names[512];

		if (g == 0)
			pk_die(PK_EXIT_USAGE, "unknown metric group '%.*s' in "
			    "--metrics (%s)", (int)n, p,
			    ps_groups_names(names, sizeof(names)));
		set |= g;
		p += n;
		if (*p == ',')
			p++;
	}
	if (set == 0)
		pk_die(PK_EXIT_USAGE, "--metrics names no group");
	return set;
}

unsigned long
ps_groups_resolve(unsigned long sel)
{
	unsigned i;

	for (i = 0; i < ps_ngroups; i++) {
		const struct ps_group *g = ps_groups[i];
		const char *p = g->with;

		if (!(g->flags & PS_GRP_HIDDEN))
			continue;
		if (p == NULL) {
			sel |= 1ul << i;
			continue;
		}
		while (*p != '\0') {
			size_t n = strcspn(p, ",");

			if (sel & lookup(p, n))
				sel |= 1ul << i;
			p += n;
			if (*p == ',')
				p++;
		}
	}
	return sel;
}
