/* SPDX-License-Identifier: MIT */
#include "pk_rtwork.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_num.h"

/*
 * The table of built-in workloads, in the order --help lists them: one
 * line each, naming the row pk_rtwork_NAME that lib/pk_rtwork_NAME.c
 * defines.
 */
#define PK_RTWORK_TABLE(X) \
	X(none) \
	X(spin) \
	X(mlp) \
	X(constraints) \
	X(memtouch) \
	X(alloc) \
	/* the end of the table */

#define PK_RTWORK_DECLARE(n) extern const struct pk_rtwork_type pk_rtwork_##n;
#define PK_RTWORK_ROW(n) &pk_rtwork_##n,
PK_RTWORK_TABLE(PK_RTWORK_DECLARE)

const struct pk_rtwork_type *const pk_rtwork_types[] = {
	PK_RTWORK_TABLE(PK_RTWORK_ROW)
	NULL
};

int
pk_rtwork_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
pk_rtwork_uint(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	char buf[32];
	const char *why;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return pk_parse_u64(buf, 1, max, v, &why);
}

float
pk_rtwork_lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return (float)((double)(*s >> 8) / 8388608.0 - 1.0);
}

float *
pk_rtwork_weights(size_t n, uint32_t *seed, float scale)
{
	float *p;
	size_t i;

	p = malloc(n * sizeof(*p));
	if (p != NULL)
		for (i = 0; i < n; i++)
			p[i] = pk_rtwork_lcg(seed) * scale;
	return p;
}

const struct pk_rtwork_type *
pk_rtwork_find(const char *name, size_t len)
{
	const struct pk_rtwork_type *const *t;

	for (t = pk_rtwork_types; *t != NULL; t++)
		if (strlen((*t)->name) == len && memcmp((*t)->name, name, len) == 0)
			return *t;
	return NULL;
}

void
pk_rtwork_names(char *buf, size_t len)
{
	const struct pk_rtwork_type *const *t;
	size_t n = 0;
	int r;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (t = pk_rtwork_types; *t != NULL && n < len; t++) {
		r = snprintf(buf + n, len - n, "%s%s%s%s",
		    t == pk_rtwork_types ? "" : ", ", (*t)->name,
		    (*t)->args != NULL ? ":" : "",
		    (*t)->args != NULL ? (*t)->args : "");
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

int
pk_rtwork_parse(struct pk_rtwork *w, const char *spec, char *err,
    size_t errlen)
{
	const struct pk_rtwork_type *t;
	const char *args;
	char names[256];

	memset(w, 0, sizeof(*w));
	args = strchr(spec, ':');
	t = pk_rtwork_find(spec, args != NULL ? (size_t)(args - spec) :
	    strlen(spec));
	if (t == NULL) {
		pk_rtwork_names(names, sizeof(names));
		return pk_rtwork_fail(err, errlen, "unknown workload '%s' (%s)",
		    spec, names);
	}
	if (t->parse == NULL) {
		if (args != NULL)
			return pk_rtwork_fail(err, errlen, "%s takes no "
			    "arguments, not '%s'", t->name, args + 1);
	} else if (t->parse(&w->ctx, args != NULL ? args + 1 : "", err,
	    errlen) == -1) {
		w->ctx = NULL;
		return -1;
	}
	w->type = t;
	return 0;
}

int
pk_rtwork_plugin_abi(struct pk_rtwork *w, const char *what,
    const char *args, int (*init)(void **, const char *),
    int (*step)(void *, unsigned long long), void (*fini)(void *),
    char *err, size_t errlen)
{
	void *ctx = NULL;

	memset(w, 0, sizeof(*w));
	if (init(&ctx, args) != 0)
		return pk_rtwork_fail(err, errlen, "'%s': rtloop_init failed",
		    what);
	/* rtloop_init parsed and allocated: what is left is a row's. */
	w->plugin.name = "plugin";
	w->plugin.args = "ARGS";
	w->plugin.help = "a shared object's rtloop_step";
	w->plugin.step = step;
	w->plugin.fini = fini;
	w->type = &w->plugin;
	w->ctx = ctx;
	return 0;
}

int
pk_rtwork_plugin(struct pk_rtwork *w, const char *spec, char *err,
    size_t errlen)
{
	int (*init)(void **, const char *);
	int (*step)(void *, unsigned long long);
	void (*fini)(void *);
	char path[4096];
	const char *args = NULL, *p;
	void *dl;
	size_t len;
	int r;

	memset(w, 0, sizeof(*w));
	len = strlen(spec);
	p = strstr(spec, ".so:");
	if (p != NULL) {
		len = (size_t)(p + 3 - spec);
		args = p + 4;
	}
	if (len >= sizeof(path))
		return pk_rtwork_fail(err, errlen, "plugin path too long: '%s'",
		    spec);
	memcpy(path, spec, len);
	path[len] = '\0';
	/* RTLD_NOW: resolve every symbol now, never lazily in the RT thread. */
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL)
		return pk_rtwork_fail(err, errlen, "%s", dlerror());
	*(void **)&init = dlsym(dl, "rtloop_init");
	*(void **)&step = dlsym(dl, "rtloop_step");
	*(void **)&fini = dlsym(dl, "rtloop_fini");
	if (init == NULL || step == NULL || fini == NULL)
		r = pk_rtwork_fail(err, errlen, "'%s': missing symbol '%s' "
		    "(the plugin ABI is rtloop_init, rtloop_step, rtloop_fini)",
		    path, init == NULL ? "rtloop_init" : step == NULL ?
		    "rtloop_step" : "rtloop_fini");
	else
		r = pk_rtwork_plugin_abi(w, path, args, init, step, fini, err,
		    errlen);
	/* Closed by pk_rtwork_release, whether the plugin started or not. */
	w->dl = dl;
	return r;
}

int
pk_rtwork_init(struct pk_rtwork *w, char *err, size_t errlen)
{
	if (w->type->init == NULL)
		return 0;
	return w->type->init(w->ctx, err, errlen);
}

size_t
pk_rtwork_counters(const struct pk_rtwork *w, const char **names,
    unsigned long long *values)
{
	const char *const *c;
	size_t n = 0;

	if (w->type == NULL || w->type->counters == NULL)
		return 0;
	for (c = w->type->counters; *c != NULL && n < PK_RTWORK_MAXCOUNTERS;
	    c++)
		names[n++] = *c;
	w->type->count(w->ctx, values);
	return n;
}

void
pk_rtwork_release(struct pk_rtwork *w)
{
	if (w->type != NULL && w->type->fini != NULL)
		w->type->fini(w->ctx);
	if (w->dl != NULL)
		dlclose(w->dl);
	memset(w, 0, sizeof(*w));
}
