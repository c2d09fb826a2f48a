/* SPDX-License-Identifier: MIT */
/* disk: bytes read and written and busy time per block device. */
#include <math.h>

#include "perf-sample.h"

static const struct ps_metric disk_metrics[] = {
	{ "disk.*.read_bytes_per_s", "perfkit_disk_read_bytes_per_second",
	    "Bytes read per second.", "B/s", PK_PROM_GAUGE, PS_NUM, 1, 1 },
	{ "disk.*.write_bytes_per_s", "perfkit_disk_written_bytes_per_second",
	    "Bytes written per second.", "B/s", PK_PROM_GAUGE, PS_NUM, 1, 1 },
	{ "disk.*.util_pct", "perfkit_disk_util_ratio",
	    "Share of time the device was busy (0-1).", "%", PK_PROM_GAUGE,
	    PS_NUM, 2, 6 },
	{ NULL, "perfkit_disk_read_bytes_total", "Bytes read since boot.",
	    "B", PK_PROM_COUNTER, PS_NUM, 0, 0 },
	{ NULL, "perfkit_disk_written_bytes_total", "Bytes written since boot.",
	    "B", PK_PROM_COUNTER, PS_NUM, 0, 0 },
};

struct disk {
	struct ps_view view;
	struct ps_src src;
	struct pk_procfs_disk d[2][PS_MAXDEV];
	unsigned n[2];
	struct ps_inst inst[PS_MAXDEV];
	double v[PS_MAXDEV][5];
};

static const struct ps_set disk_set = {
	disk_metrics, PS_NMETRICS(disk_metrics), { "dev", NULL },
	offsetof(struct disk, view)
};

static int
disk_discover(struct ps_sampler *sp, void *st)
{
	struct disk *d = st;
	unsigned i;

	(void)sp;
	ps_src_set(&d->src, PS_ROOT_PROC, "diskstats");
	for (i = 0; i < PS_MAXDEV; i++)
		d->inst[i].v = d->v[i];
	d->view.inst = d->inst;
	return 1;
}

static void
disk_read(struct ps_sampler *sp, void *st)
{
	struct pk_procfs_err e;
	struct disk *d = st;
	const char *buf;
	size_t len;

	d->n[sp->cur] = 0;
	if (ps_src_read(sp, &d->src, &buf, &len) == 0 &&
	    pk_procfs_diskstats_parse(buf, len, d->d[sp->cur], PS_MAXDEV,
	    &d->n[sp->cur], &e) == -1)
		ps_src_bad(sp, &d->src, &e);
}

static void
disk_derive(struct ps_sampler *sp, void *st)
{
	static const size_t off[3] = {
		offsetof(struct pk_procfs_disk, rd_sectors),
		offsetof(struct pk_procfs_disk, wr_sectors),
		offsetof(struct pk_procfs_disk, io_ms)
	};
	struct disk *d = st;
	unsigned i;

	d->view.n = ps_named_rates(sp, d->d[sp->prev], d->n[sp->prev],
	    d->d[sp->cur], d->n[sp->cur], sizeof(d->d[0][0]), off, 3, d->inst,
	    d->v[0], 5);
	/* Sectors of 512 bytes; ms busy per s, a share of at most 100 %. */
	for (i = 0; i < d->view.n; i++) {
		/* The instance's name is the start of its reading. */
		const struct pk_procfs_disk *x =
		    (const struct pk_procfs_disk *)(const void *)d->inst[i].name;

		d->v[i][3] = (double)x->rd_sectors * 512;
		d->v[i][4] = (double)x->wr_sectors * 512;
		d->v[i][0] *= 512;
		d->v[i][1] *= 512;
		d->v[i][2] /= 10.0;
		if (d->v[i][2] > 100)
			d->v[i][2] = 100;
	}
}

static void
disk_release(void *st)
{
	ps_src_close(&((struct disk *)st)->src);
}

static const struct ps_set *const disk_sets[] = { &disk_set, NULL };

const struct ps_group grp_disk = {
	.name = "disk",
	.help = "bytes read and written, busy time, per disk",
	.flags = PS_GRP_DEFAULT,
	.size = sizeof(struct disk),
	.discover = disk_discover,
	.read = disk_read,
	.derive = disk_derive,
	.release = disk_release,
	.sets = disk_sets,
};
