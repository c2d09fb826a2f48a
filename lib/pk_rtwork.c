/* SPDX-License-Identifier: MIT */
#include "pk_rtwork.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pk_num.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
parse_uint(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	char buf[32];
	const char *why;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return pk_parse_u64(buf, 1, max, v, &why);
}

int
pk_rtwork_parse(struct pk_rtwork *w, const char *spec, char *err,
    size_t errlen)
{
	const char *arg, *c1, *c2;
	uint64_t v[3];

	memset(w, 0, sizeof(*w));
	arg = strchr(spec, ':');
	if (strcmp(spec, "none") == 0) {
		w->kind = PK_RTWORK_NONE;
		return 0;
	}
	if (arg == NULL)
		return fail(err, errlen, "unknown workload '%s' (none, spin:US, "
		    "mlp:IN,HIDDEN,OUT, constraints:N)", spec);
	arg++;
	if (strncmp(spec, "spin:", 5) == 0) {
		if (parse_uint(arg, strlen(arg), 10000000, &v[0]) == -1)
			return fail(err, errlen, "spin:US wants 1 to 10000000 "
			    "microseconds, not '%s'", arg);
		w->kind = PK_RTWORK_SPIN;
		w->spin_ns = (int64_t)v[0] * 1000;
		return 0;
	}
	if (strncmp(spec, "mlp:", 4) == 0) {
		c1 = strchr(arg, ',');
		c2 = c1 != NULL ? strchr(c1 + 1, ',') : NULL;
		if (c1 == NULL || c2 == NULL ||
		    parse_uint(arg, (size_t)(c1 - arg), 4096, &v[0]) == -1 ||
		    parse_uint(c1 + 1, (size_t)(c2 - c1 - 1), 4096, &v[1]) == -1 ||
		    parse_uint(c2 + 1, strlen(c2 + 1), 4096, &v[2]) == -1)
			return fail(err, errlen, "mlp:IN,HIDDEN,OUT wants three "
			    "sizes from 1 to 4096, not '%s'", arg);
		w->kind = PK_RTWORK_MLP;
		w->in = (unsigned)v[0];
		w->hidden = (unsigned)v[1];
		w->out = (unsigned)v[2];
		return 0;
	}
	if (strncmp(spec, "constraints:", 12) == 0) {
		if (parse_uint(arg, strlen(arg), 1000000, &v[0]) == -1)
			return fail(err, errlen, "constraints:N wants 1 to 1000000 "
			    "checks, not '%s'", arg);
		w->kind = PK_RTWORK_CONSTRAINTS;
		w->n = (unsigned)v[0];
		return 0;
	}
	return fail(err, errlen, "unknown workload '%s' (none, spin:US, "
	    "mlp:IN,HIDDEN,OUT, constraints:N)", spec);
}

/* A small deterministic generator for weights: values in [-1, 1). */
static float
lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return (float)((double)(*s >> 8) / 8388608.0 - 1.0);
}

static float *
falloc(size_t n, uint32_t *seed, float scale)
{
	float *p;
	size_t i;

	p = malloc(n * sizeof(*p));
	if (p != NULL)
		for (i = 0; i < n; i++)
			p[i] = lcg(seed) * scale;
	return p;
}

int
pk_rtwork_init(struct pk_rtwork *w, char *err, size_t errlen)
{
	uint32_t seed = 12345;
	unsigned i, j;

	switch (w->kind) {
	case PK_RTWORK_MLP:
		w->w1 = falloc((size_t)w->in * w->hidden, &seed,
		    1.0f / sqrtf((float)w->in));
		w->b1 = falloc(w->hidden, &seed, 0.1f);
		w->w2 = falloc((size_t)w->hidden * w->out, &seed,
		    1.0f / sqrtf((float)w->hidden));
		w->b2 = falloc(w->out, &seed, 0.1f);
		w->x = falloc(w->in, &seed, 1.0f);
		w->h = falloc(w->hidden, &seed, 0.0f);
		w->y = falloc(w->out, &seed, 0.0f);
		if (w->w1 == NULL || w->b1 == NULL || w->w2 == NULL ||
		    w->b2 == NULL || w->x == NULL || w->h == NULL || w->y == NULL)
			return fail(err, errlen, "%s", strerror(ENOMEM));
		break;
	case PK_RTWORK_CONSTRAINTS:
		w->a = malloc((size_t)w->n * PK_RTWORK_DIM * sizeof(*w->a));
		w->b = malloc((size_t)w->n * sizeof(*w->b));
		if (w->a == NULL || w->b == NULL)
			return fail(err, errlen, "%s", strerror(ENOMEM));
		for (i = 0; i < w->n; i++) {
			for (j = 0; j < PK_RTWORK_DIM; j++)
				w->a[i * PK_RTWORK_DIM + j] = lcg(&seed);
			w->b[i] = 1.5 + lcg(&seed);
		}
		for (j = 0; j < PK_RTWORK_DIM; j++)
			w->state[j] = 0.5 * lcg(&seed);
		break;
	default:
		break;
	}
	return 0;
}

int
pk_rtwork_plugin(struct pk_rtwork *w, const char *spec, char *err,
    size_t errlen)
{
	int (*init)(void **, const char *);
	char path[4096];
	const char *args = NULL, *p;
	size_t len;

	memset(w, 0, sizeof(*w));
	w->kind = PK_RTWORK_PLUGIN;
	len = strlen(spec);
	p = strstr(spec, ".so:");
	if (p != NULL) {
		len = (size_t)(p + 3 - spec);
		args = p + 4;
	}
	if (len >= sizeof(path))
		return fail(err, errlen, "plugin path too long: '%s'", spec);
	memcpy(path, spec, len);
	path[len] = '\0';
	/* RTLD_NOW: resolve every symbol now, never lazily in the RT thread. */
	w->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (w->dl == NULL)
		return fail(err, errlen, "%s", dlerror());
	*(void **)&init = dlsym(w->dl, "rtloop_init");
	*(void **)&w->p_step = dlsym(w->dl, "rtloop_step");
	*(void **)&w->p_fini = dlsym(w->dl, "rtloop_fini");
	if (init == NULL || w->p_step == NULL || w->p_fini == NULL) {
		snprintf(err, errlen, "'%s': missing symbol '%s' (the plugin "
		    "ABI is rtloop_init, rtloop_step, rtloop_fini)", path,
		    init == NULL ? "rtloop_init" : w->p_step == NULL ?
		    "rtloop_step" : "rtloop_fini");
		w->p_fini = NULL;
		return -1;
	}
	if (init(&w->ctx, args) != 0) {
		snprintf(err, errlen, "'%s': rtloop_init failed", path);
		w->p_fini = NULL;
		return -1;
	}
	return 0;
}

static void
spin(int64_t ns)
{
	struct timespec t0, t;
	int64_t d;

	/* CLOCK_MONOTONIC is read in the vDSO: no system call. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		clock_gettime(CLOCK_MONOTONIC, &t);
		d = (int64_t)(t.tv_sec - t0.tv_sec) * 1000000000 +
		    (t.tv_nsec - t0.tv_nsec);
	} while (d < ns);
}

static void
mlp(struct pk_rtwork *w, uint64_t tick)
{
	unsigned i, j;
	float s;

	/* A new observation each period, derived from the last action. */
	for (i = 0; i < w->in; i++)
		w->x[i] = 0.9f * w->x[i] + 0.1f * w->y[i % w->out] +
		    0.01f * (float)((tick + i) % 7);
	for (j = 0; j < w->hidden; j++) {
		s = w->b1[j];
		for (i = 0; i < w->in; i++)
			s += w->w1[(size_t)j * w->in + i] * w->x[i];
		w->h[j] = s > 0 ? s : 0;
	}
	for (j = 0; j < w->out; j++) {
		s = w->b2[j];
		for (i = 0; i < w->hidden; i++)
			s += w->w2[(size_t)j * w->hidden + i] * w->h[i];
		w->y[j] = s / (1.0f + fabsf(s));
	}
	w->sink += w->y[0];
}

static void
constraints(struct pk_rtwork *w, uint64_t tick)
{
	unsigned i, j;
	double s;

	/* The state moves on a bounded trajectory; every check is evaluated. */
	for (j = 0; j < PK_RTWORK_DIM; j++)
		w->state[j] = 0.98 * w->state[j] +
		    0.02 * sin(0.01 * (double)tick + j);
	for (i = 0; i < w->n; i++) {
		s = 0;
		for (j = 0; j < PK_RTWORK_DIM; j++)
			s += w->a[(size_t)i * PK_RTWORK_DIM + j] * w->state[j];
		if (s > w->b[i])
			w->violations++;
	}
}

int
pk_rtwork_step(struct pk_rtwork *w, uint64_t tick)
{
	switch (w->kind) {
	case PK_RTWORK_NONE:
		break;
	case PK_RTWORK_SPIN:
		spin(w->spin_ns);
		break;
	case PK_RTWORK_MLP:
		mlp(w, tick);
		break;
	case PK_RTWORK_CONSTRAINTS:
		constraints(w, tick);
		break;
	case PK_RTWORK_PLUGIN:
		return w->p_step(w->ctx, (unsigned long long)tick) == 0 ? 0 : -1;
	}
	return 0;
}

void
pk_rtwork_release(struct pk_rtwork *w)
{
	if (w->p_fini != NULL)
		w->p_fini(w->ctx);
	if (w->dl != NULL)
		dlclose(w->dl);
	free(w->w1);
	free(w->b1);
	free(w->w2);
	free(w->b2);
	free(w->x);
	free(w->h);
	free(w->y);
	free(w->a);
	free(w->b);
	memset(w, 0, sizeof(*w));
}
