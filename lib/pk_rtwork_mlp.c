/* SPDX-License-Identifier: MIT */
/*
 * mlp:IN,HIDDEN,OUT: two dense float layers (ReLU, then a soft sign), a
 * stand-in for policy inference, IN*HIDDEN + HIDDEN*OUT multiply-adds a
 * period, the next input fed from the last output.
 */
#include "pk_rtwork.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct mlp {
	unsigned in, hidden, out;
	float *w1, *b1, *w2, *b2, *x, *h, *y;
	double sink;
};

static int
mlp_parse(void **ctx, const char *args, char *err, size_t errlen)
{
	const char *c1, *c2;
	struct mlp *m;
	uint64_t v[3];

	c1 = strchr(args, ',');
	c2 = c1 != NULL ? strchr(c1 + 1, ',') : NULL;
	if (c1 == NULL || c2 == NULL ||
	    pk_rtwork_uint(args, (size_t)(c1 - args), 4096, &v[0]) == -1 ||
	    pk_rtwork_uint(c1 + 1, (size_t)(c2 - c1 - 1), 4096, &v[1]) == -1 ||
	    pk_rtwork_uint(c2 + 1, strlen(c2 + 1), 4096, &v[2]) == -1)
		return pk_rtwork_fail(err, errlen, "mlp:IN,HIDDEN,OUT wants "
		    "three sizes from 1 to 4096, not '%s'", args);
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return pk_rtwork_fail(err, errlen, "mlp: %s", strerror(ENOMEM));
	m->in = (unsigned)v[0];
	m->hidden = (unsigned)v[1];
	m->out = (unsigned)v[2];
	*ctx = m;
	return 0;
}

static int
mlp_init(void *ctx, char *err, size_t errlen)
{
	struct mlp *m = ctx;
	uint32_t seed = 12345;

	m->w1 = pk_rtwork_weights((size_t)m->in * m->hidden, &seed,
	    1.0f / sqrtf((float)m->in));
	m->b1 = pk_rtwork_weights(m->hidden, &seed, 0.1f);
	m->w2 = pk_rtwork_weights((size_t)m->hidden * m->out, &seed,
	    1.0f / sqrtf((float)m->hidden));
	m->b2 = pk_rtwork_weights(m->out, &seed, 0.1f);
	m->x = pk_rtwork_weights(m->in, &seed, 1.0f);
	m->h = pk_rtwork_weights(m->hidden, &seed, 0.0f);
	m->y = pk_rtwork_weights(m->out, &seed, 0.0f);
	if (m->w1 == NULL || m->b1 == NULL || m->w2 == NULL ||
	    m->b2 == NULL || m->x == NULL || m->h == NULL || m->y == NULL)
		return pk_rtwork_fail(err, errlen, "mlp: %s", strerror(ENOMEM));
	return 0;
}

static int
mlp_step(void *ctx, unsigned long long tick)
{
	struct mlp *m = ctx;
	unsigned i, j;
	float s;

	/* A new observation each period, derived from the last action. */
	for (i = 0; i < m->in; i++)
		m->x[i] = 0.9f * m->x[i] + 0.1f * m->y[i % m->out] +
		    0.01f * (float)((tick + i) % 7);
	for (j = 0; j < m->hidden; j++) {
		s = m->b1[j];
		for (i = 0; i < m->in; i++)
			s += m->w1[(size_t)j * m->in + i] * m->x[i];
		m->h[j] = s > 0 ? s : 0;
	}
	for (j = 0; j < m->out; j++) {
		s = m->b2[j];
		for (i = 0; i < m->hidden; i++)
			s += m->w2[(size_t)j * m->hidden + i] * m->h[i];
		m->y[j] = s / (1.0f + fabsf(s));
	}
	m->sink += m->y[0];
	return 0;
}

static void
mlp_fini(void *ctx)
{
	struct mlp *m = ctx;

	if (m == NULL)
		return;
	free(m->w1);
	free(m->b1);
	free(m->w2);
	free(m->b2);
	free(m->x);
	free(m->h);
	free(m->y);
	free(m);
}

const struct pk_rtwork_type pk_rtwork_mlp = {
	.name = "mlp",
	.args = "IN,HIDDEN,OUT",
	.help = "two dense float layers (policy inference)",
	.parse = mlp_parse,
	.init = mlp_init,
	.step = mlp_step,
	.fini = mlp_fini,
};
