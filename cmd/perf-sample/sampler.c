/* SPDX-License-Identifier: MIT */
/*
 * The sampler core: the roots (the machine or a replay snapshot), the
 * files, opened once and re-read with pread(2) into one reused buffer,
 * the files that the core or several groups need (/proc/stat, uptime,
 * meminfo), and one reading after another over the groups' table.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perf-sample.h"
#include "pk_err.h"
#include "pk_io.h"
#include "pk_time.h"

/* ---- files ---- */

void
ps_src_set(struct ps_src *s, int root, const char *fmt, ...)
{
	va_list ap;
	int n;

	s->root = root;
	s->fd = -1;
	s->gen = 0;
	s->missing = 0;
	s->reported = 0;
	va_start(ap, fmt);
	n = vsnprintf(s->rel, sizeof(s->rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s->rel))
		pk_die(PK_EXIT_IO, "internal error: path too long: '%s'", s->rel);
}

void
ps_src_close(struct ps_src *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}

/* The path of a source for messages. */
static const char *
src_path(const struct ps_sampler *sp, const struct ps_src *s, char *buf,
    size_t size)
{
	snprintf(buf, size, "%s/%s", sp->rootpath[s->root], s->rel);
	return buf;
}

/*
 * Read a whole file into the shared buffer. Files stay open and are read
 * again with pread(2) from offset 0, which procfs and sysfs regenerate.
 * Returns -1 with errno if the file cannot be opened or read.
 */
int
ps_src_read(struct ps_sampler *sp, struct ps_src *s, const char **buf,
    size_t *len)
{
	size_t off;

	if (s->gen != sp->gen) {
		ps_src_close(s);
		s->gen = sp->gen;
		s->missing = 0;
	}
	if (s->missing) {
		errno = ENOENT;
		return -1;
	}
	if (s->fd == -1) {
		int dfd = sp->rootfd[s->root];

		if (dfd == -1) {
			errno = sp->rooterr[s->root];
			s->missing = 1;
			return -1;
		}
		s->fd = openat(dfd, s->rel, O_RDONLY | O_CLOEXEC);
		if (s->fd == -1) {
			/* Out of descriptors or memory: try again next time. */
			if (errno != EMFILE && errno != ENFILE && errno != ENOMEM &&
			    errno != EINTR)
				s->missing = 1;
			return -1;
		}
	}
	for (;;) {
		off = 0;
		for (;;) {
			ssize_t r = pread(s->fd, sp->rbuf + off, sp->rcap - off,
			    (off_t)off);

			if (r == -1) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			if (r == 0)
				break;
			off += (size_t)r;
			/*
			 * A short read is the end: procfs and sysfs (seq_file)
			 * fill the buffer as far as the file goes, and a pread
			 * at the end would make the kernel generate the whole
			 * file again only to say so (half of a sample's cost).
			 */
			if (off == sp->rcap || (size_t)r < sp->rcap - (off - (size_t)r))
				break;
		}
		if (off < sp->rcap)
			break;
		/* The buffer was too small: grow it once and read again. */
		sp->rbuf = pk_xrealloc(sp->rbuf, sp->rcap * 2);
		sp->rcap *= 2;
	}
	*buf = sp->rbuf;
	*len = off;
	return 0;
}

void
ps_src_bad(struct ps_sampler *sp, struct ps_src *s,
    const struct pk_procfs_err *e)
{
	char path[PATH_MAX + 64];

	if (s->reported)
		return;
	s->reported = 1;
	pk_bad_line(&sp->bad, src_path(sp, s, path, sizeof(path)), e->line,
	    "%s", e->what);
}

void
ps_src_require(struct ps_sampler *sp, struct ps_src *s)
{
	const char *buf;
	size_t len;
	char path[PATH_MAX + 64];

	if (ps_src_read(sp, s, &buf, &len) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot read '%s'",
		    src_path(sp, s, path, sizeof(path)));
}

int
ps_read_small(struct ps_sampler *sp, const char *rel, char *buf, size_t size,
    size_t *len)
{
	ssize_t r;
	int fd;

	if (sp->rootfd[PS_ROOT_SYS] == -1)
		return -1;
	fd = openat(sp->rootfd[PS_ROOT_SYS], rel, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	r = read(fd, buf, size);
	close(fd);
	if (r < 0)
		return -1;
	*len = (size_t)r;
	return 0;
}

/* ---- roots ---- */

static int
open_root(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		pk_die_errno(PK_EXIT_IO, "cannot open '%s'", path);
	return fd;
}

/*
 * Point the roots at the current snapshot: the given trees, or in replay
 * mode DIR/N/proc and DIR/N/sys. Returns -1 when the snapshots are over.
 */
int
ps_set_roots(struct ps_sampler *sp)
{
	const struct perf_sample_opts *o = sp->o;
	int i;

	for (i = 0; i < PS_NROOTS; i++) {
		if (sp->rootfd[i] != -1)
			close(sp->rootfd[i]);
		sp->rootfd[i] = -1;
	}
	if (o->replay == NULL) {
		snprintf(sp->rootpath[PS_ROOT_PROC], PATH_MAX, "%s", o->procfs);
		snprintf(sp->rootpath[PS_ROOT_SYS], PATH_MAX, "%s", o->sysfs);
	} else {
		char dir[PATH_MAX - 16];
		struct stat st;

		if (snprintf(dir, sizeof(dir), "%s/%lu", o->replay, sp->step) >=
		    (int)sizeof(dir))
			pk_die(PK_EXIT_USAGE, "--replay '%s': path too long",
			    o->replay);
		if (sp->step > 0 && stat(dir, &st) == -1 && errno == ENOENT)
			return -1;
		snprintf(sp->rootpath[PS_ROOT_PROC], PATH_MAX, "%s/proc", dir);
		snprintf(sp->rootpath[PS_ROOT_SYS], PATH_MAX, "%s/sys", dir);
	}
	sp->rootfd[PS_ROOT_PROC] = open_root(sp->rootpath[PS_ROOT_PROC]);
	/* A tree without sysfs simply has no sysfs metrics. */
	sp->rootfd[PS_ROOT_SYS] = open(sp->rootpath[PS_ROOT_SYS],
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sp->rooterr[PS_ROOT_SYS] = errno;
	if (o->cgroup != NULL) {
		/* A relative cgroup lives under the sysfs root. */
		if ((o->cgroup[0] == '/' ? snprintf(sp->rootpath[PS_ROOT_CG],
		    PATH_MAX, "%s", o->cgroup) : snprintf(sp->rootpath[PS_ROOT_CG],
		    PATH_MAX, "%s/fs/cgroup/%s", sp->rootpath[PS_ROOT_SYS],
		    o->cgroup)) >= PATH_MAX)
			pk_die(PK_EXIT_USAGE, "--cgroup '%s': path too long",
			    o->cgroup);
		sp->rootfd[PS_ROOT_CG] = open(sp->rootpath[PS_ROOT_CG],
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		sp->rooterr[PS_ROOT_CG] = errno;
	}
	sp->gen++;
	return 0;
}

/* ---- what several groups share ---- */

void
ps_want_meminfo(struct ps_sampler *sp)
{
	if (!sp->want_meminfo)
		ps_src_require(sp, &sp->meminfo);
	sp->want_meminfo = 1;
}

double
ps_rate(uint64_t a, uint64_t b, double dt, int *ok)
{
	*ok = b >= a && dt > 0;
	return *ok ? (double)(b - a) / dt : 0;
}

/* The element of arr named name, looked for at hint first; NULL if none. */
static const char *
find_named(const char *arr, size_t stride, unsigned n, const char *name,
    unsigned hint)
{
	unsigned i;

	if (hint < n && strcmp(arr + hint * stride, name) == 0)
		return arr + hint * stride;
	for (i = 0; i < n; i++)
		if (strcmp(arr + i * stride, name) == 0)
			return arr + i * stride;
	return NULL;
}

unsigned
ps_named_rates(const struct ps_sampler *sp, const void *prev, unsigned np,
    const void *cur, unsigned n, size_t stride, const size_t *off,
    unsigned nf, struct ps_inst *inst, double *v, size_t vstride)
{
	unsigned i, k, out = 0;

	for (i = 0; i < n; i++) {
		const char *x = (const char *)cur + i * stride, *y;
		double *vo = v + out * vstride;
		int ok = 1;

		if ((y = find_named(prev, stride, np, x, i)) == NULL)
			continue;
		for (k = 0; k < nf && ok; k++) {
			uint64_t a, b;

			memcpy(&a, y + off[k], sizeof(a));
			memcpy(&b, x + off[k], sizeof(b));
			vo[k] = ps_rate(a, b, sp->dt, &ok);
		}
		if (!ok)
			continue;
		inst[out].name = inst[out].lv[0] = x;
		out++;
	}
	return out;
}

/* The record's head: the interval, and the time for the exposition. */
static const struct ps_metric head_metrics[] = {
	{ "interval_s", "perfkit_sample_interval_seconds",
	    "Time the rates were measured over.", "s", PK_PROM_GAUGE, PS_NUM,
	    6, 6, { { NULL, NULL } } },
	{ NULL, "perfkit_sample_timestamp_seconds",
	    "Wall-clock time of the sample.", "s", PK_PROM_GAUGE, PS_NUM,
	    0, 3, { { NULL, NULL } } },
};

static const struct ps_set head_set = {
	head_metrics, PS_NMETRICS(head_metrics), { NULL },
	offsetof(struct ps_sampler, headview)
};

/* ---- the reading ---- */

void
ps_init(struct ps_sampler *sp, const struct perf_sample_opts *o)
{
	struct pk_prom *prom;
	unsigned i, k;
	int r;

	/* sp comes zeroed (calloc). */
	sp->o = o;
	sp->prom_on = o->format == PS_FMT_PROM || ps_outlets(o);
	prom = sp->prom_on ? &sp->prom : NULL;
	for (r = 0; r < PS_NROOTS; r++)
		sp->rootfd[r] = -1;
	sp->rcap = 1 << 16;
	sp->rbuf = pk_xmalloc(sp->rcap);
	pk_jw_init(&sp->w, 1 << 14);
	pk_prom_init(&sp->prom, 0);
	pk_jw_init(&sp->pw, sp->prom_on ? 1 << 14 : 64);
	sp->clk_tck = sysconf(_SC_CLK_TCK);
	sp->page_kb = sysconf(_SC_PAGESIZE) / 1024;
	if (sp->clk_tck <= 0)
		sp->clk_tck = 100;
	if (sp->page_kb <= 0)
		sp->page_kb = 4;
	sp->cur = 0;
	sp->prev = 1;
	if (ps_set_roots(sp) == -1)
		pk_die(PK_EXIT_IO, "no snapshot in '%s'", o->replay);

	/* /proc/stat is the one file that every sample needs. */
	ps_src_set(&sp->stat, PS_ROOT_PROC, "stat");
	ps_src_set(&sp->uptime, PS_ROOT_PROC, "uptime");
	ps_src_set(&sp->meminfo, PS_ROOT_PROC, "meminfo");
	ps_src_require(sp, &sp->stat);
	if (o->replay != NULL)
		ps_src_require(sp, &sp->uptime);
	sp->headinst.v = sp->headv;
	sp->headview.inst = &sp->headinst;
	sp->headview.n = 1;
	ps_live_init(&sp->head, &head_set, sp, prom, &sp->names);

	for (i = 0; i < ps_ngroups; i++) {
		const struct ps_group *g = ps_groups[i];
		struct ps_live *l = &sp->live[sp->nlive];

		if (!(o->groups & 1ul << i))
			continue;
		l->g = g;
		l->st = pk_xcalloc(1, g->size);
		if (!g->discover(sp, l->st)) {
			if (g->release != NULL)
				g->release(l->st);
			free(l->st);
			continue;
		}
		for (k = 0; g->sets[k] != NULL; k++)
			ps_live_init(&l->sets[k], g->sets[k], l->st, prom,
			    &sp->names);
		l->nsets = k;
		sp->nlive++;
	}
	ps_procs_init(sp);
}

void
ps_take(struct ps_sampler *sp)
{
	const struct perf_sample_opts *o = sp->o;
	struct pk_procfs_err e;
	const char *buf;
	size_t len;
	unsigned i;
	int c = sp->cur;

	if (o->replay != NULL) {
		double up = 0;

		if (ps_src_read(sp, &sp->uptime, &buf, &len) == -1 ||
		    pk_procfs_uptime_parse(buf, len, &up, &e) == -1)
			pk_die(PK_EXIT_DATA, "replay snapshot %lu: no valid "
			    "proc/uptime", sp->step);
		sp->mono[c] = up;
	} else {
		sp->mono[c] = pk_mono();
		sp->wall[c] = pk_now();
	}
	sp->have_stat[c] = 0;
	if (ps_src_read(sp, &sp->stat, &buf, &len) == 0) {
		if (pk_procfs_stat_parse(buf, len, &sp->st[c], sp->cores[c],
		    PS_MAXCORES, &e) == -1)
			ps_src_bad(sp, &sp->stat, &e);
		sp->have_stat[c] = sp->st[c].have_all;
		sp->nstored[c] = sp->st[c].ncores < PS_MAXCORES ?
		    sp->st[c].ncores : PS_MAXCORES;
	}
	if (o->replay != NULL)
		sp->wall[c] = (double)sp->st[c].btime + sp->mono[c];
	sp->have_mem = 0;
	if (sp->want_meminfo && ps_src_read(sp, &sp->meminfo, &buf, &len) == 0) {
		if (pk_procfs_meminfo_parse(buf, len, &sp->mem, &e) == -1)
			ps_src_bad(sp, &sp->meminfo, &e);
		sp->have_mem = 1;
		/*
		 * More available than there is: a value we cannot trust (a
		 * corrupt procfs), omitted (with used_pct, which would be
		 * negative) and reported, never passed on.
		 */
		if ((sp->mem.have & (PK_MEM_TOTAL | PK_MEM_AVAIL)) ==
		    (PK_MEM_TOTAL | PK_MEM_AVAIL) &&
		    sp->mem.avail_kb > sp->mem.total_kb) {
			const char *at = memmem(buf, len, "MemAvailable:", 13);

			e.line = 1;
			for (const char *q = buf; at != NULL && q < at; q++)
				e.line += *q == '\n';
			e.what = "MemAvailable larger than MemTotal: memory "
			    "omitted";
			ps_src_bad(sp, &sp->meminfo, &e);
			sp->mem.have &= ~(unsigned)PK_MEM_AVAIL;
		}
	}
	for (i = 0; i < sp->nlive; i++)
		if (sp->live[i].g->read != NULL)
			sp->live[i].g->read(sp, sp->live[i].st);
}

/* Every live set of the sample, in the table's order, to one walk. */
static void
each_set(struct ps_sampler *sp, int json)
{
	unsigned i, k;

	for (i = 0; i <= sp->nlive; i++)
		for (k = 0; k < (i == 0 ? 1 : sp->live[i - 1].nsets); k++) {
			const struct ps_live_set *ls = i == 0 ? &sp->head :
			    &sp->live[i - 1].sets[k];

			if (json)
				ps_json_set(&sp->w, &sp->jp, ls);
			else
				ps_prom_set(&sp->prom, ls);
		}
}

void
ps_emit(struct ps_sampler *sp)
{
	const struct perf_sample_opts *o = sp->o;
	unsigned i;

	sp->dt = sp->mono[sp->cur] - sp->mono[sp->prev];
	sp->headv[0] = sp->dt;
	/*
	 * A clock that went back (a replayed uptime that is corrupt): no
	 * interval, and no rates over it (ps_rate), reported once.
	 */
	if (!(sp->dt > 0)) {
		struct pk_procfs_err e = { 1, "uptime went backwards: "
		    "interval_s and the rates omitted" };

		sp->headv[0] = NAN;
		if (o->replay != NULL)
			ps_src_bad(sp, &sp->uptime, &e);
	}
	sp->headv[1] = sp->wall[sp->cur];
	for (i = 0; i < sp->nlive; i++)
		if (sp->live[i].g->derive != NULL)
			sp->live[i].g->derive(sp, sp->live[i].st);
	ps_procs_sample(sp, 1);
	if (o->format == PS_FMT_JSON) {
		ps_json_begin(&sp->w, &sp->jp, "sample", sp->wall[sp->cur]);
		each_set(sp, 1);
		ps_json_end(&sp->w, &sp->jp);
		if (sp->w.oom)
			pk_die(PK_EXIT_IO, "out of memory");
		pk_out_line(sp->w.buf, sp->w.len);
		ps_procs_json(sp);
	}
	if (sp->prom_on) {
		pk_prom_begin(&sp->prom);
		each_set(sp, 0);
		ps_procs_prom(sp);
		pk_jw_reset(&sp->pw);
		pk_prom_render(&sp->prom, &sp->pw);
		if (sp->pw.oom || sp->prom.oom)
			pk_die(PK_EXIT_IO, "out of memory");
		if (o->format == PS_FMT_PROM)
			pk_out_write(sp->pw.buf, sp->pw.len);
		if (sp->outlet != NULL)
			ps_outlet_publish(sp);
	}
	ps_procs_done(sp);
	pk_out_record_done();
}

void
ps_swap(struct ps_sampler *sp)
{
	sp->prev = sp->cur;
	sp->cur = 1 - sp->cur;
}

void
ps_release(struct ps_sampler *sp)
{
	unsigned i, k;
	int r;

	ps_outlet_release(sp);
	ps_procs_release(sp);
	for (i = 0; i < sp->nlive; i++) {
		struct ps_live *l = &sp->live[i];

		for (k = 0; k < l->nsets; k++)
			ps_live_release(&l->sets[k]);
		if (l->g->release != NULL)
			l->g->release(l->st);
		free(l->st);
	}
	ps_live_release(&sp->head);
	ps_names_release(&sp->names);
	ps_src_close(&sp->stat);
	ps_src_close(&sp->uptime);
	ps_src_close(&sp->meminfo);
	for (r = 0; r < PS_NROOTS; r++)
		if (sp->rootfd[r] != -1)
			close(sp->rootfd[r]);
	pk_prom_release(&sp->prom);
	pk_jw_release(&sp->w);
	pk_jw_release(&sp->pw);
	free(sp->rbuf);
}
