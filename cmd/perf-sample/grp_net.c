/* SPDX-License-Identifier: MIT */
/* net: bytes received and sent per network interface. */
#include <math.h>

#include "perf-sample.h"

static const struct ps_metric net_metrics[] = {
	{ "net.*.rx_bytes_per_s", "perfkit_network_receive_bytes_per_second",
	    "Bytes received per second.", "B/s", PK_PROM_GAUGE, PS_NUM, 1, 1 },
	{ "net.*.tx_bytes_per_s", "perfkit_network_transmit_bytes_per_second",
	    "Bytes transmitted per second.", "B/s", PK_PROM_GAUGE, PS_NUM, 1, 1 },
	{ NULL, "perfkit_network_receive_bytes_total",
	    "Bytes received since boot.", "B", PK_PROM_COUNTER, PS_NUM, 0, 0 },
	{ NULL, "perfkit_network_transmit_bytes_total",
	    "Bytes transmitted since boot.", "B", PK_PROM_COUNTER, PS_NUM, 0, 0 },
};

struct net {
	struct ps_view view;
	struct ps_src src;
	struct pk_procfs_net d[2][PS_MAXDEV];
	unsigned n[2];
	struct ps_inst inst[PS_MAXDEV];
	double v[PS_MAXDEV][4];
};

static const struct ps_set net_set = {
	net_metrics, PS_NMETRICS(net_metrics), { "iface", NULL },
	offsetof(struct net, view)
};

static int
net_discover(struct ps_sampler *sp, void *st)
{
	struct net *d = st;
	unsigned i;

	(void)sp;
	ps_src_set(&d->src, PS_ROOT_PROC, "net/dev");
	for (i = 0; i < PS_MAXDEV; i++)
		d->inst[i].v = d->v[i];
	d->view.inst = d->inst;
	return 1;
}

static void
net_read(struct ps_sampler *sp, void *st)
{
	struct pk_procfs_err e;
	struct net *d = st;
	const char *buf;
	size_t len;

	d->n[sp->cur] = 0;
	if (ps_src_read(sp, &d->src, &buf, &len) == 0 &&
	    pk_procfs_netdev_parse(buf, len, d->d[sp->cur], PS_MAXDEV,
	    &d->n[sp->cur], &e) == -1)
		ps_src_bad(sp, &d->src, &e);
}

static void
net_derive(struct ps_sampler *sp, void *st)
{
	static const size_t off[2] = {
		offsetof(struct pk_procfs_net, rx_bytes),
		offsetof(struct pk_procfs_net, tx_bytes)
	};
	struct net *d = st;
	unsigned i;

	d->view.n = ps_named_rates(sp, d->d[sp->prev], d->n[sp->prev],
	    d->d[sp->cur], d->n[sp->cur], sizeof(d->d[0][0]), off, 2, d->inst,
	    d->v[0], 4);
	for (i = 0; i < d->view.n; i++) {
		/* The instance's name is the start of its reading. */
		const struct pk_procfs_net *x =
		    (const struct pk_procfs_net *)(const void *)d->inst[i].name;

		d->v[i][2] = (double)x->rx_bytes;
		d->v[i][3] = (double)x->tx_bytes;
	}
}

static void
net_release(void *st)
{
	ps_src_close(&((struct net *)st)->src);
}

static const struct ps_set *const net_sets[] = { &net_set, NULL };

const struct ps_group grp_net = {
	.name = "net",
	.help = "bytes received and sent, per interface",
	.flags = PS_GRP_DEFAULT,
	.size = sizeof(struct net),
	.discover = net_discover,
	.read = net_read,
	.derive = net_derive,
	.release = net_release,
	.sets = net_sets,
};
