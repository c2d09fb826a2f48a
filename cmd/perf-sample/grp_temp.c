/* SPDX-License-Identifier: MIT */
/* temp: the thermal zones of sysfs and their lowest trip points. */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perf-sample.h"
#include "pk_err.h"

static const struct ps_metric temp_metrics[] = {
	{ "temp_c.*", "perfkit_temperature_celsius", "Thermal zone temperature.",
	    "C", PK_PROM_GAUGE, PS_NUM, 3, 3 },
	{ "temp_trip_c.*", "perfkit_temperature_trip_celsius",
	    "Lowest passive, hot or critical trip point.", "C", PK_PROM_GAUGE,
	    PS_NUM, 3, 3 },
};

struct zone {
	char type[32];
	char name[48];
	struct ps_src temp;
	int have_trip;
	double trip_c;
};

struct temp {
	struct ps_view view;
	unsigned n;
	struct zone zones[PS_MAXZONES];
	struct ps_inst inst[PS_MAXZONES];
	double v[PS_MAXZONES][2];
};

static const struct ps_set temp_set = {
	temp_metrics, PS_NMETRICS(temp_metrics), { "zone", NULL },
	offsetof(struct temp, view)
};

static int
zone_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	long nx = strtol(x + 12, NULL, 10), ny = strtol(y + 12, NULL, 10);

	return nx < ny ? -1 : nx > ny;
}

/* The lowest passive, hot or critical trip point of a zone. */
static void
find_trip(struct ps_sampler *sp, const char *zone, struct zone *z)
{
	struct pk_procfs_err e;
	char rel[PATH_MAX], buf[256], tt[32];
	size_t len;
	int64_t mc;
	int k;

	for (k = 0; k < 64; k++) {
		snprintf(rel, sizeof(rel),
		    "class/thermal/%s/trip_point_%d_type", zone, k);
		if (ps_read_small(sp, rel, buf, sizeof(buf), &len) == -1)
			break;
		if (pk_procfs_word_parse(buf, len, tt, sizeof(tt), &e) == -1)
			continue;
		if (strcmp(tt, "passive") != 0 && strcmp(tt, "hot") != 0 &&
		    strcmp(tt, "critical") != 0)
			continue;
		snprintf(rel, sizeof(rel),
		    "class/thermal/%s/trip_point_%d_temp", zone, k);
		if (ps_read_small(sp, rel, buf, sizeof(buf), &len) == -1 ||
		    pk_procfs_i64_parse(buf, len, &mc, &e) == -1 || mc <= 0)
			continue;
		if (!z->have_trip || mc / 1000.0 < z->trip_c) {
			z->trip_c = mc / 1000.0;
			z->have_trip = 1;
		}
	}
}

static int
temp_discover(struct ps_sampler *sp, void *st)
{
	char *names[PS_MAXZONES];
	struct temp *t = st;
	unsigned n = 0, i, j;
	struct dirent *de;
	DIR *d;
	int fd;

	if (sp->rootfd[PS_ROOT_SYS] == -1)
		return 0;
	fd = openat(sp->rootfd[PS_ROOT_SYS], "class/thermal",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL && n < PS_MAXZONES)
		if (strncmp(de->d_name, "thermal_zone", 12) == 0)
			names[n++] = pk_xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), zone_cmp);
	for (i = 0; i < n; i++) {
		struct zone *z = &t->zones[t->n];
		struct pk_procfs_err e;
		char rel[PATH_MAX], buf[256], type[32];
		unsigned dup = 0;
		size_t len;

		snprintf(rel, sizeof(rel), "class/thermal/%s/type", names[i]);
		if (ps_read_small(sp, rel, buf, sizeof(buf), &len) == -1 ||
		    pk_procfs_word_parse(buf, len, type, sizeof(type), &e) == -1)
			snprintf(type, sizeof(type), "%s", names[i]);
		/* Zones of the same type are told apart by _1, _2. */
		for (j = 0; j < t->n; j++)
			if (strcmp(t->zones[j].type, type) == 0)
				dup++;
		snprintf(z->type, sizeof(z->type), "%s", type);
		if (dup == 0)
			snprintf(z->name, sizeof(z->name), "%s", type);
		else
			snprintf(z->name, sizeof(z->name), "%s_%u", type, dup);
		ps_src_set(&z->temp, PS_ROOT_SYS, "class/thermal/%s/temp",
		    names[i]);
		find_trip(sp, names[i], z);
		t->inst[t->n].name = t->inst[t->n].lv[0] = z->name;
		t->inst[t->n].v = t->v[t->n];
		t->n++;
		free(names[i]);
	}
	t->view.inst = t->inst;
	t->view.n = t->n;
	return t->n > 0;
}

static void
temp_read(struct ps_sampler *sp, void *st)
{
	struct pk_procfs_err e;
	struct temp *t = st;
	const char *buf;
	size_t len;
	unsigned i;

	for (i = 0; i < t->n; i++) {
		struct zone *z = &t->zones[i];
		int64_t mc;

		t->v[i][0] = t->v[i][1] = NAN;
		if (ps_src_read(sp, &z->temp, &buf, &len) == -1)
			continue;
		if (pk_procfs_i64_parse(buf, len, &mc, &e) == -1) {
			ps_src_bad(sp, &z->temp, &e);
			continue;
		}
		t->v[i][0] = mc / 1000.0;
		if (z->have_trip)
			t->v[i][1] = z->trip_c;
	}
}

static void
temp_release(void *st)
{
	struct temp *t = st;
	unsigned i;

	for (i = 0; i < t->n; i++)
		ps_src_close(&t->zones[i].temp);
}

static const struct ps_set *const temp_sets[] = { &temp_set, NULL };

const struct ps_group grp_temp = {
	.name = "temp",
	.help = "thermal zones and their trip points",
	.flags = PS_GRP_DEFAULT,
	.size = sizeof(struct temp),
	.discover = temp_discover,
	.read = temp_read,
	.release = temp_release,
	.sets = temp_sets,
};
