/* SPDX-License-Identifier: MIT */
/*
 * The process follower: the processes of --pid and --comm, one proc
 * record each per interval (or their families in the exposition). Every
 * record has pid and comm: a process that exits is reported once with
 * "gone":true and the comm it last had, and a --pid that is not there at
 * the start is warned about and not followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perf-sample.h"
#include "pk_err.h"
#include "pk_io.h"
#include "pk_time.h"

enum {
	P_PID, P_COMM, P_CPU, P_RSS, P_THREADS, P_CTXSW, P_RD, P_WR, P_GONE,
	P_COUNT, P_N
};

static const struct ps_metric proc_metrics[P_N] = {
	[P_PID] = { "pid", NULL, NULL, "", PK_PROM_GAUGE, PS_NUM, 0 },
	[P_COMM] = { "comm", NULL, NULL, "", PK_PROM_GAUGE, PS_NAME },
	[P_CPU] = { "cpu_pct", "perfkit_process_cpu_ratio",
	    "CPU used by the processes of this name, 1 = one full core.", "%", PK_PROM_GAUGE,
	    PS_NUM, 2, 6 },
	[P_RSS] = { "rss_kb", "perfkit_process_resident_bytes",
	    "Resident set size of the processes of this name.", "KiB", PK_PROM_GAUGE, PS_NUM, 0, 1 },
	[P_THREADS] = { "threads", "perfkit_process_threads",
	    "Threads of the processes of this name.", "", PK_PROM_GAUGE, PS_NUM, 0, 1 },
	[P_CTXSW] = { "ctxsw_per_s",
	    "perfkit_process_context_switches_per_second",
	    "Context switches per second of the processes of this name.", "1/s",
	    PK_PROM_GAUGE, PS_NUM, 1, 1 },
	[P_RD] = { "read_bytes_per_s", "perfkit_process_read_bytes_per_second",
	    "Bytes read from storage per second by the processes of this name.", "B/s", PK_PROM_GAUGE, PS_NUM,
	    1, 1 },
	[P_WR] = { "write_bytes_per_s",
	    "perfkit_process_written_bytes_per_second",
	    "Bytes written to storage per second by the processes of this name.", "B/s", PK_PROM_GAUGE,
	    PS_NUM, 1, 1 },
	[P_GONE] = { "gone", NULL, NULL, "", PK_PROM_GAUGE, PS_BOOL },
	[P_COUNT] = { NULL, "perfkit_processes",
	    "Followed processes of this name.", "", PK_PROM_GAUGE, PS_NUM, 0,
	    0 },
};

struct proc {
	long pid;
	int used;
	int have_prev;
	char comm[64];			/* the last one read; "" none yet */
	char pidbuf[24];
	const char *pidtext;
	struct ps_src stat, schedstat, status, io;
	int ctx_from;		/* 0: not decided, 1: schedstat, 2: status */
	uint64_t ticks, ctxsw, rbytes, wbytes;
	int have_io, have_ctxsw;
	double mono;
	int rec;			/* a record this interval */
	int gone;			/* the last one: forget it after */
	double v[P_N];
};

/*
 * A process that --comm looked at and found not to match, as the process
 * table's readdir showed it: its PID and the inode number of its /proc
 * directory, which a new process that reuses the PID does not share.
 */
struct seen {
	long pid;		/* 0: an empty slot */
	unsigned long ino;
	unsigned looks;
};

/* Everything --comm found not to match is looked at again this often. */
#define COMM_RESCAN_NS	(10 * (int64_t)1000000000)

struct ps_procs {
	struct ps_view view;
	struct ps_live_set ls;
	struct proc procs[PS_MAXPROCS];
	unsigned nprocs;		/* slots in use are below this */
	struct ps_inst inst[PS_MAXPROCS];	/* the records of this interval */
	unsigned ninst;
	/*
	 * The exposition names a process by its comm, never its PID (a
	 * series per PID would churn with every restart): the processes of
	 * one name are summed into one instance.
	 */
	struct ps_inst ginst[PS_MAXPROCS];
	double gv[PS_MAXPROCS][P_N];
	struct ps_view gview;
	int warned_fds;
	DIR *procdir;
	unsigned procdir_gen;
	struct seen *seen;		/* --comm: processes already looked at */
	size_t nseen, seencap;		/* entries, slots (a power of 2) */
	int64_t seen_since;		/* monotonic ns of the last full scan */
};

static const struct ps_set proc_set = {
	proc_metrics, P_N, { "comm", NULL },
	offsetof(struct ps_procs, view)
};

static const char *const status_keys[] = {
	"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches", NULL
};
static const char *const io_keys[] = { "read_bytes", "write_bytes", NULL };

static struct proc *
proc_add(struct ps_procs *pr, long pid, const char *comm)
{
	unsigned i;

	for (i = 0; i < PS_MAXPROCS; i++) {
		struct proc *p = &pr->procs[i];

		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = 1;
		if (i >= pr->nprocs)
			pr->nprocs = i + 1;
		p->pid = pid;
		p->pidtext = ps_utoa((uint64_t)pid, p->pidbuf);
		snprintf(p->comm, sizeof(p->comm), "%s", comm);
		ps_src_set(&p->stat, PS_ROOT_PROC, "%ld/stat", pid);
		ps_src_set(&p->schedstat, PS_ROOT_PROC, "%ld/schedstat", pid);
		ps_src_set(&p->status, PS_ROOT_PROC, "%ld/status", pid);
		ps_src_set(&p->io, PS_ROOT_PROC, "%ld/io", pid);
		return p;
	}
	return NULL;
}

static void
proc_free(struct proc *p)
{
	ps_src_close(&p->stat);
	ps_src_close(&p->schedstat);
	ps_src_close(&p->status);
	ps_src_close(&p->io);
	p->used = 0;
}

static int
proc_tracked(const struct ps_procs *pr, long pid)
{
	unsigned i;

	for (i = 0; i < pr->nprocs; i++)
		if (pr->procs[i].used && pr->procs[i].pid == pid)
			return 1;
	return 0;
}

void
ps_procs_init(struct ps_sampler *sp)
{
	const struct perf_sample_opts *o = sp->o;
	struct ps_procs *pr = pk_xcalloc(1, sizeof(*pr));
	unsigned i;

	sp->procs = pr;
	ps_live_init(&pr->ls, &proc_set, pr,
	    sp->prom_on ? &sp->prom : NULL,
	    &sp->names);
	pr->view.inst = pr->inst;
	for (i = 0; i < o->npids; i++)
		if (!proc_tracked(pr, o->pids[i]))
			(void)proc_add(pr, o->pids[i], "");
}

/* ---- --comm ---- */

static size_t
seen_slot(const struct ps_procs *pr, long pid)
{
	size_t i = ((size_t)pid * 0x9e3779b97f4a7c15ULL) & (pr->seencap - 1);

	while (pr->seen[i].pid != 0 && pr->seen[i].pid != pid)
		i = (i + 1) & (pr->seencap - 1);
	return i;
}

/* Forget every process looked at: the next scan reads every comm again. */
static void
seen_clear(struct ps_procs *pr)
{
	if (pr->seen != NULL)
		memset(pr->seen, 0, pr->seencap * sizeof(*pr->seen));
	pr->nseen = 0;
	pr->seen_since = pk_mono_ns();
}

/*
 * The entry of a process, made if it is new (or a new process with an old
 * PID); NULL when out of memory, which only costs a comm read.
 */
static struct seen *
seen_get(struct ps_procs *pr, long pid, unsigned long ino)
{
	struct seen *e;
	size_t i;

	if (2 * (pr->nseen + 1) > pr->seencap) {
		struct seen *old = pr->seen;
		size_t oldcap = pr->seencap, j;

		pr->seencap = oldcap ? oldcap * 2 : 512;
		pr->seen = calloc(pr->seencap, sizeof(*pr->seen));
		if (pr->seen == NULL) {
			pr->seen = old;
			pr->seencap = oldcap;
			return NULL;
		}
		for (j = 0; j < oldcap; j++)
			if (old[j].pid != 0)
				pr->seen[seen_slot(pr, old[j].pid)] = old[j];
		free(old);
	}
	i = seen_slot(pr, pid);
	e = &pr->seen[i];
	if (e->pid == 0) {
		pr->nseen++;
		e->pid = pid;
	} else if (e->ino == ino) {
		return e;
	}
	e->ino = ino;
	e->looks = 0;
	return e;
}

/*
 * Find processes named by --comm that are not tracked yet. The process
 * table is listed every time, but a process's comm is read only the first
 * two times it is listed (the second catches a fork that exec'd after the
 * first look) and then again every COMM_RESCAN_NS (a later exec, or a
 * name set with prctl): on a machine of 150 processes, reading every comm
 * at every sample cost 1.35 ms of CPU a sample, 27 times the sample itself.
 */
void
ps_procs_scan(struct ps_sampler *sp)
{
	const struct perf_sample_opts *o = sp->o;
	struct ps_procs *pr = sp->procs;
	struct dirent *de;

	if (o->ncomms == 0)
		return;
	if (pr->procdir == NULL || pr->procdir_gen != sp->gen) {
		int fd;

		if (pr->procdir != NULL)
			closedir(pr->procdir);
		pr->procdir = NULL;
		/* Another process table (--replay): forget the old one. */
		seen_clear(pr);
		fd = openat(sp->rootfd[PS_ROOT_PROC], ".",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1 || (pr->procdir = fdopendir(fd)) == NULL) {
			if (fd != -1)
				close(fd);
			return;
		}
		pr->procdir_gen = sp->gen;
	} else {
		rewinddir(pr->procdir);
		if (pk_mono_ns() - pr->seen_since >= COMM_RESCAN_NS)
			seen_clear(pr);
	}
	while ((de = readdir(pr->procdir)) != NULL) {
		char rel[64], comm[64];
		struct seen *e;
		const char *p;
		long pid = 0;
		unsigned i;
		ssize_t r;
		int fd;

		for (p = de->d_name; *p >= '0' && *p <= '9'; p++)
			pid = pid * 10 + (*p - '0');
		if (*p != '\0' || p == de->d_name || pid <= 0 || pid > INT32_MAX)
			continue;
		e = seen_get(pr, pid, (unsigned long)de->d_ino);
		if (e != NULL) {
			if (e->looks >= 2)
				continue;
			e->looks++;
		}
		if (proc_tracked(pr, pid))
			continue;
		snprintf(rel, sizeof(rel), "%ld/comm", pid);
		fd = openat(sp->rootfd[PS_ROOT_PROC], rel, O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			continue;
		r = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (r <= 0)
			continue;
		comm[r] = '\0';
		if (comm[r - 1] == '\n')
			comm[r - 1] = '\0';
		for (i = 0; i < o->ncomms; i++)
			if (strcmp(comm, o->comms[i]) == 0)
				break;
		if (i == o->ncomms)
			continue;
		/* Its name is known now: a record if it is gone at once. */
		if (proc_add(pr, pid, comm) == NULL) {
			pk_warn("more than %d processes: pid %ld not followed",
			    PS_MAXPROCS, pid);
			break;
		}
	}
}

/* ---- reading ---- */

struct reading {
	uint64_t ticks, threads, rss_kb, ctxsw, rb, wb;
	int have_ctxsw, have_io;
};

/*
 * Read one process. Returns 1 if it produced values, 0 if it is gone, -1
 * if it cannot be read now (out of file descriptors).
 */
static int
proc_read(struct ps_sampler *sp, struct proc *p, struct reading *r)
{
	struct ps_procs *pr = sp->procs;
	struct pk_procfs_pid ps;
	struct pk_procfs_err e;
	const char *buf;
	uint64_t v[2];
	unsigned found;
	size_t len;

	memset(r, 0, sizeof(*r));
	if (ps_src_read(sp, &p->stat, &buf, &len) == -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
			if (!pr->warned_fds)
				pk_warn_errno("cannot follow pid %ld", p->pid);
			pr->warned_fds = 1;
			return -1;
		}
		return 0;
	}
	if (pk_procfs_pid_stat_parse(buf, len, &ps, &e) == -1) {
		ps_src_bad(sp, &p->stat, &e);
		return 0;
	}
	memcpy(p->comm, ps.comm, sizeof(p->comm));
	r->ticks = ps.utime + ps.stime;
	r->threads = ps.threads;
	r->rss_kb = ps.rss_pages * (uint64_t)sp->page_kb;
	/*
	 * Context switches: the switch-in count of /proc/PID/schedstat is
	 * a seventh of the cost of /proc/PID/status and moves with
	 * voluntary + involuntary switches (one switch in per switch out).
	 * A kernel without schedstats shows 0 there: then status it is.
	 */
	if (p->ctx_from != 2) {
		if (ps_src_read(sp, &p->schedstat, &buf, &len) == 0) {
			uint64_t ss[3];

			if (pk_procfs_schedstat_parse(buf, len, ss, &e) == -1)
				ps_src_bad(sp, &p->schedstat, &e);
			else if (ss[2] > 0 || p->ctx_from == 1) {
				p->ctx_from = 1;
				r->ctxsw = ss[2];
				r->have_ctxsw = 1;
			}
		} else if (errno == ESRCH)
			return 0;
	}
	if (p->ctx_from != 1) {
		if (ps_src_read(sp, &p->status, &buf, &len) == 0) {
			p->ctx_from = 2;
			if (pk_procfs_keyval_parse(buf, len, status_keys, v,
			    &found, &e) == -1)
				ps_src_bad(sp, &p->status, &e);
			if (found == 3) {
				r->ctxsw = v[0] + v[1];
				r->have_ctxsw = 1;
			}
		} else if (errno == ESRCH)
			return 0;
	}
	if (ps_src_read(sp, &p->io, &buf, &len) == 0) {
		if (pk_procfs_keyval_parse(buf, len, io_keys, v, &found,
		    &e) == -1)
			ps_src_bad(sp, &p->io, &e);
		if (found == 3) {
			r->rb = v[0];
			r->wb = v[1];
			r->have_io = 1;
		}
	}
	return 1;
}

/* The values of a process's record, from the last reading and this one. */
static void
proc_values(const struct ps_sampler *sp, struct proc *p,
    const struct reading *r, double dt)
{
	int ok, ok2;
	unsigned k;

	for (k = 0; k < P_N; k++)
		p->v[k] = NAN;
	p->v[P_PID] = (double)p->pid;
	p->v[P_COMM] = 0;
	p->v[P_CPU] = (double)(r->ticks >= p->ticks ? r->ticks - p->ticks : 0) /
	    (double)sp->clk_tck / dt * 100.0;
	p->v[P_RSS] = (double)r->rss_kb;
	p->v[P_THREADS] = (double)r->threads;
	p->v[P_CTXSW] = ps_rate(p->ctxsw, r->ctxsw, dt, &ok);
	if (!(r->have_ctxsw && p->have_ctxsw && ok))
		p->v[P_CTXSW] = NAN;
	p->v[P_RD] = ps_rate(p->rbytes, r->rb, dt, &ok);
	p->v[P_WR] = ps_rate(p->wbytes, r->wb, dt, &ok2);
	if (!(r->have_io && p->have_io && ok && ok2))
		p->v[P_RD] = p->v[P_WR] = NAN;
}

/*
 * Read every followed process and keep its values for the next interval
 * and its record for this one.
 */
void
ps_procs_sample(struct ps_sampler *sp, int emit)
{
	struct ps_procs *pr = sp->procs;
	double mono = sp->mono[sp->cur];
	unsigned i, k;

	pr->ninst = 0;
	for (i = 0; i < pr->nprocs; i++) {
		struct proc *p = &pr->procs[i];
		struct reading r;
		int rc;

		if (!p->used)
			continue;
		p->rec = 0;
		rc = proc_read(sp, p, &r);
		if (rc == -1)
			continue;	/* not readable now: not gone either */
		if (rc == 0 && p->comm[0] == '\0') {
			/* Never read: nothing to report but that. */
			if (!p->stat.reported)
				pk_warn("no process %ld", p->pid);
			proc_free(p);
			continue;
		}
		if (rc == 0) {
			/* Gone: reported once at the next sample, then forgotten. */
			if (!emit)
				continue;
			for (k = 0; k < P_N; k++)
				p->v[k] = NAN;
			p->v[P_PID] = (double)p->pid;
			p->v[P_COMM] = 0;
			p->v[P_GONE] = 1;
			p->rec = p->gone = 1;
		} else {
			double dt = mono - p->mono;

			if (emit && p->have_prev && dt > 0) {
				proc_values(sp, p, &r, dt);
				p->rec = 1;
			}
			p->ticks = r.ticks;
			p->ctxsw = r.ctxsw;
			p->have_ctxsw = r.have_ctxsw;
			p->rbytes = r.rb;
			p->wbytes = r.wb;
			p->have_io = r.have_io;
			p->mono = mono;
			p->have_prev = 1;
		}
		if (p->rec) {
			struct ps_inst *in = &pr->inst[pr->ninst++];

			in->name = in->lv[0] = p->comm;
			in->v = p->v;
		}
	}
	pr->view.n = pr->ninst;
}

void
ps_procs_json(struct ps_sampler *sp)
{
	struct ps_procs *pr = sp->procs;
	unsigned i;

	for (i = 0; i < pr->ninst; i++) {
		pr->view.inst = &pr->inst[i];
		pr->view.n = 1;
		ps_json_begin(&sp->w, &sp->jp, "proc", sp->wall[sp->cur]);
		ps_json_set(&sp->w, &sp->jp, &pr->ls);
		ps_json_end(&sp->w, &sp->jp);
		pk_out_line(sp->w.buf, sp->w.len);
	}
	pr->view.inst = pr->inst;
	pr->view.n = pr->ninst;
}

void
ps_procs_prom(struct ps_sampler *sp)
{
	static const unsigned sum[] = {
		P_CPU, P_RSS, P_THREADS, P_CTXSW, P_RD, P_WR
	};
	struct ps_procs *pr = sp->procs;
	unsigned i, g, k, ng = 0;

	for (i = 0; i < pr->ninst; i++) {
		const struct ps_inst *in = &pr->inst[i];
		double *gv;

		if (in->v[P_GONE] == 1)
			continue;
		for (g = 0; g < ng; g++)
			if (strcmp(pr->ginst[g].name, in->name) == 0)
				break;
		gv = pr->gv[g];
		if (g == ng) {
			for (k = 0; k < P_N; k++)
				gv[k] = NAN;
			gv[P_COUNT] = 0;
			pr->ginst[g].name = pr->ginst[g].lv[0] = in->name;
			pr->ginst[g].v = gv;
			ng++;
		}
		gv[P_COUNT]++;
		for (k = 0; k < sizeof(sum) / sizeof(sum[0]); k++)
			if (!isnan(in->v[sum[k]]))
				gv[sum[k]] = (isnan(gv[sum[k]]) ? 0 : gv[sum[k]]) +
				    in->v[sum[k]];
	}
	pr->gview.inst = pr->ginst;
	pr->gview.n = ng;
	ps_prom_view(&sp->prom, &pr->ls, &pr->gview);
}

void
ps_procs_done(struct ps_sampler *sp)
{
	struct ps_procs *pr = sp->procs;
	unsigned i;

	for (i = 0; i < pr->nprocs; i++)
		if (pr->procs[i].used && pr->procs[i].gone)
			proc_free(&pr->procs[i]);
	pr->ninst = pr->view.n = 0;
}

int
ps_procs_fd_trouble(const struct ps_sampler *sp)
{
	return sp->procs->warned_fds;
}

void
ps_procs_release(struct ps_sampler *sp)
{
	struct ps_procs *pr = sp->procs;
	unsigned i;

	if (pr == NULL)
		return;
	for (i = 0; i < pr->nprocs; i++)
		if (pr->procs[i].used)
			proc_free(&pr->procs[i]);
	if (pr->procdir != NULL)
		closedir(pr->procdir);
	free(pr->seen);
	ps_live_release(&pr->ls);
	free(pr);
	sp->procs = NULL;
}
