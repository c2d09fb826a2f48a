/* SPDX-License-Identifier: MIT */
/* throttle: the Raspberry Pi firmware's get_throttled word, bit by bit. */
#include <math.h>

#include "perf-sample.h"

#define NOW(f) { "throttle.now." f, "perfkit_throttle_now",		\
	"Raspberry Pi firmware throttling flags, now.", "",		\
	PK_PROM_GAUGE, PS_BOOL, 0, 0, { { "flag", f } } }
#define SINCE(f) { "throttle.since_boot." f, "perfkit_throttle_since_boot", \
	"Raspberry Pi firmware throttling flags since boot.", "",	\
	PK_PROM_GAUGE, PS_BOOL, 0, 0, { { "flag", f } } }

/* The raw word, then the bits of pk_procfs_throttle_names now and since boot. */
static const struct ps_metric throttle_metrics[1 + 2 * PK_THROTTLE_NBITS] = {
	{ "throttle.raw", NULL, NULL, "", PK_PROM_GAUGE, PS_HEX },
	NOW("under_voltage"), NOW("freq_capped"), NOW("throttled"),
	NOW("soft_temp_limit"),
	SINCE("under_voltage"), SINCE("freq_capped"), SINCE("throttled"),
	SINCE("soft_temp_limit"),
};

struct throttle {
	struct ps_view view;
	struct ps_inst inst;
	double v[1 + 2 * PK_THROTTLE_NBITS];
	struct ps_src src;
};

static const struct ps_set throttle_set = {
	throttle_metrics, PS_NMETRICS(throttle_metrics), { NULL },
	offsetof(struct throttle, view)
};

static int
throttle_discover(struct ps_sampler *sp, void *st)
{
	struct throttle *t = st;

	(void)sp;
	ps_src_set(&t->src, PS_ROOT_SYS,
	    "devices/platform/soc/soc:firmware/get_throttled");
	ps_view_one(&t->view, &t->inst, t->v);
	return 1;
}

static void
throttle_read(struct ps_sampler *sp, void *st)
{
	struct pk_procfs_err e;
	struct throttle *t = st;
	const char *buf;
	uint64_t word;
	size_t len;
	int bit;

	for (bit = 0; bit < 1 + 2 * PK_THROTTLE_NBITS; bit++)
		t->v[bit] = NAN;
	if (ps_src_read(sp, &t->src, &buf, &len) == -1)
		return;
	if (pk_procfs_hex_parse(buf, len, &word, &e) == -1) {
		ps_src_bad(sp, &t->src, &e);
		return;
	}
	t->v[0] = (double)word;
	for (bit = 0; bit < PK_THROTTLE_NBITS; bit++) {
		t->v[1 + bit] = (double)(word >> bit & 1);
		t->v[1 + PK_THROTTLE_NBITS + bit] =
		    (double)(word >> (PK_THROTTLE_SINCE_BOOT_SHIFT + bit) & 1);
	}
}

static void
throttle_release(void *st)
{
	ps_src_close(&((struct throttle *)st)->src);
}

static const struct ps_set *const throttle_sets[] = { &throttle_set, NULL };

const struct ps_group grp_throttle = {
	.name = "throttle",
	.help = "Raspberry Pi firmware throttling",
	.flags = PS_GRP_DEFAULT,
	.size = sizeof(struct throttle),
	.discover = throttle_discover,
	.read = throttle_read,
	.release = throttle_release,
	.sets = throttle_sets,
};
