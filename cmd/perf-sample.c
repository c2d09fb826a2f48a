/* SPDX-License-Identifier: MIT */
/*
 * perf-sample: system, process and cgroup metrics, one JSON line (or one
 * Prometheus exposition) per interval, on a drift-free schedule.
 *
 * Every file is opened once and re-read with pread(2) into one reused
 * buffer; the parsers live in lib/pk_procfs.c; records are built by
 * lib/pk_jw.c in a reused buffer. A steady state allocates nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_jsonl.h"
#include "pk_jw.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_procfs.h"
#include "pk_time.h"

#define MAXCORES 512
#define MAXDEV 64
#define MAXZONES 32
#define MAXPROCS 1024
#define MAXARGS 64

static const char usage_str[] =
    "usage: perf-sample [-hu] [-c comm] [-f json|prom] [-g cgroup] "
    "[-i interval]\n"
    "                   [-m metrics] [-n count] [-o textfile] [-p pid]\n"
    "                   [--procfs dir] [--sysfs dir] [--replay dir]\n";

enum {
	OPT_PROCFS = 0x100, OPT_SYSFS, OPT_REPLAY
};

static const struct option longopts[] = {
	{ "comm", required_argument, NULL, 'c' },
	{ "format", required_argument, NULL, 'f' },
	{ "cgroup", required_argument, NULL, 'g' },
	{ "help", no_argument, NULL, 'h' },
	{ "interval", required_argument, NULL, 'i' },
	{ "metrics", required_argument, NULL, 'm' },
	{ "count", required_argument, NULL, 'n' },
	{ "textfile", required_argument, NULL, 'o' },
	{ "pid", required_argument, NULL, 'p' },
	{ "unbuffered", no_argument, NULL, 'u' },
	{ "procfs", required_argument, NULL, OPT_PROCFS },
	{ "sysfs", required_argument, NULL, OPT_SYSFS },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
};

/* Metric groups (--metrics). */
enum {
	M_CPU = 1 << 0, M_CORES = 1 << 1, M_FREQ = 1 << 2, M_MEM = 1 << 3,
	M_SWAP = 1 << 4, M_LOAD = 1 << 5, M_PSI = 1 << 6, M_TEMP = 1 << 7,
	M_THROTTLE = 1 << 8, M_DISK = 1 << 9, M_NET = 1 << 10,
	M_DEFAULT = M_CPU | M_FREQ | M_MEM | M_SWAP | M_LOAD | M_PSI | M_TEMP |
	    M_THROTTLE | M_DISK | M_NET,
	M_ALL = M_DEFAULT | M_CORES
};

static const struct { const char *name; unsigned bit; } groups[] = {
	{ "cpu", M_CPU }, { "cores", M_CORES }, { "freq", M_FREQ },
	{ "mem", M_MEM }, { "swap", M_SWAP }, { "load", M_LOAD },
	{ "psi", M_PSI }, { "temp", M_TEMP }, { "throttle", M_THROTTLE },
	{ "disk", M_DISK }, { "net", M_NET }, { "all", M_ALL },
};

enum { FMT_JSON, FMT_PROM };

struct perf_sample_opts {
	double interval;
	uint64_t count;			/* 0: until stopped */
	long pids[MAXARGS];
	unsigned npids;
	const char *comms[MAXARGS];
	unsigned ncomms;
	const char *cgroup;
	unsigned metrics;
	int format;
	const char *textfile;
	const char *procfs, *sysfs;
	const char *replay;
	int unbuffered;
};

/* Where a file lives: under the procfs root, the sysfs root, the cgroup. */
enum { ROOT_PROC, ROOT_SYS, ROOT_CG, NROOTS };

struct src {
	int root;
	char rel[64];		/* relative to its root */
	int fd;
	unsigned gen;
	int missing;		/* could not be opened in this generation */
	int reported;		/* a bad line was reported */
};

struct zone {
	char type[32];
	char name[48];
	struct src temp;
	int have_trip;
	double trip_c;
};

struct proc {
	long pid;
	int used;
	int have_prev;
	char comm[64];
	struct src stat, schedstat, status, io;
	int ctx_from;		/* 0: not decided, 1: schedstat, 2: status */
	uint64_t ticks, ctxsw, rbytes, wbytes;
	int have_io, have_ctxsw;
	double mono;
	int out;		/* values below are fresh */
	double v[6];		/* cpu_pct, rss_kb, threads, ctxsw/s, rd/s, wr/s */
	int vok[6];
};

struct cpu_pct {
	double util, user, system, iowait, steal, nice, irq, softirq, idle;
};

/* One reading of everything, kept for the next interval's rates. */
struct snap {
	double mono, wall;
	struct pk_procfs_stat st;
	struct pk_procfs_core cores[MAXCORES];
	unsigned nstored;
	int have_stat;
	struct pk_procfs_mem mem;
	int have_mem;
	double load[3];
	int have_load;
	struct pk_procfs_psi psi[3];
	int have_psi[3];
	struct pk_procfs_disk disks[MAXDEV];
	unsigned ndisks;
	struct pk_procfs_net nets[MAXDEV];
	unsigned nnets;
	int64_t temp_mc[MAXZONES];
	unsigned char have_temp[MAXZONES];
	uint64_t freq_khz[MAXCORES];
	unsigned char have_freq[MAXCORES];
	uint64_t throttle;
	int have_throttle;
	uint64_t cg_cpu[5];
	unsigned cg_cpu_found;
	uint64_t cg_mem_cur, cg_mem_max;
	int have_cg_mem_cur, have_cg_mem_max;
	struct pk_procfs_psi cg_psi[3];
	int have_cg_psi[3];
};

/*
 * The values derived from two snapshots, for both output formats.
 */
struct derived {
	double dt;
	int have_cpu;
	struct cpu_pct cpu;
	unsigned ncores;
	struct { unsigned id; int ok; struct cpu_pct p; } cores[MAXCORES];
	struct { const char *name; double rd, wr, util; } disks[MAXDEV];
	unsigned ndisks;
	struct { const char *name; double rx, tx; } nets[MAXDEV];
	unsigned nnets;
	int have_cg_cpu;
	double cg_cpu_pct, cg_user_pct, cg_system_pct, cg_throttled_pct;
	double cg_throttled_per_s;
	int have_cg_throttle;
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

struct sampler {
	const struct perf_sample_opts *o;
	int rootfd[NROOTS];
	int rooterr[NROOTS];		/* errno of a root that did not open */
	char rootpath[NROOTS][PATH_MAX];
	unsigned gen;
	unsigned long step;		/* replay snapshot number */
	char *rbuf;
	size_t rcap;
	struct pk_bad bad;
	struct pk_jw w;
	long clk_tck, page_kb;

	struct src stat, meminfo, loadavg, uptime, psi[3], diskstats, netdev;
	struct src throttle;
	unsigned nfreq;
	unsigned freq_id[MAXCORES];
	struct src freq[MAXCORES];
	unsigned nzones;
	struct zone zones[MAXZONES];
	struct src cg_cpu, cg_mem_cur, cg_mem_max, cg_psi[3];

	struct proc procs[MAXPROCS];
	unsigned nprocs;		/* slots in use are below this */
	int warned_fds;
	DIR *procdir;
	unsigned procdir_gen;
	struct seen *seen;		/* --comm: processes already looked at */
	size_t nseen, seencap;		/* entries, slots (a power of 2) */
	int64_t seen_since;		/* monotonic ns of the last full scan */

	struct snap snaps[2];
	struct snap *prev, *cur;
	struct derived d;
};

static const char *const psi_names[3] = { "cpu", "memory", "io" };
static const char *const cg_cpu_keys[] = {
	"usage_usec", "user_usec", "system_usec", "nr_throttled",
	"throttled_usec", NULL
};
static const char *const status_keys[] = {
	"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches", NULL
};
static const char *const io_keys[] = { "read_bytes", "write_bytes", NULL };

PK_NORETURN static void
help(void)
{
	pk_help(usage_str,
	    "  -c, --comm NAME       a proc record for every process named NAME\n"
	    "  -f, --format FMT      json (default) or prom (Prometheus text)\n"
	    "  -g, --cgroup PATH     cgroup v2 CPU, memory and pressure\n"
	    "  -h, --help            this help\n"
	    "  -i, --interval DUR    time between samples (default 1s)\n"
	    "  -m, --metrics LIST    groups: cpu,cores,freq,mem,swap,load,psi,temp,\n"
	    "                        throttle,disk,net,all; +LIST adds to the default\n"
	    "  -n, --count N         stop after N samples (default: never;\n"
	    "                        1 with -f prom on standard output)\n"
	    "  -o, --textfile FILE   write each sample atomically to FILE in the\n"
	    "                        Prometheus text format (node_exporter)\n"
	    "  -p, --pid PID         a proc record for process PID\n"
	    "  -u, --unbuffered      flush after every record\n"
	    "      --procfs DIR      read procfs from DIR (default /proc)\n"
	    "      --sysfs DIR       read sysfs from DIR (default /sys)\n"
	    "      --replay DIR      step through snapshots DIR/0, DIR/1, ...\n"
	    "                        (each with proc/ and sys/) instead of sleeping\n"
	    "      --version         print the version\n");
}

static unsigned
parse_metrics(const char *arg)
{
	const char *p = arg;
	unsigned set = 0;

	if (*p == '+') {
		set = M_DEFAULT;
		p++;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			if (strlen(groups[i].name) == n &&
			    strncmp(groups[i].name, p, n) == 0)
				break;
		if (i == sizeof(groups) / sizeof(groups[0]))
			pk_die(PK_EXIT_USAGE, "unknown metric group '%.*s' in "
			    "--metrics (cpu, cores, freq, mem, swap, load, psi, "
			    "temp, throttle, disk, net, all)", (int)n, p);
		set |= groups[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	if (set == 0)
		pk_die(PK_EXIT_USAGE, "--metrics names no group");
	return set;
}

static void
parse_opts(int argc, char **argv, struct perf_sample_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->interval = 1;
	o->metrics = M_DEFAULT;
	o->format = FMT_JSON;
	o->procfs = "/proc";
	o->sysfs = "/sys";
	while ((ch = getopt_long(argc, argv, "c:f:g:hi:m:n:o:p:u", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (o->ncomms == MAXARGS)
				pk_die(PK_EXIT_USAGE, "too many --comm options "
				    "(at most %d)", MAXARGS);
			if (*optarg == '\0' || strlen(optarg) > 15)
				pk_die(PK_EXIT_USAGE, "--comm '%s': a process "
				    "name has 1 to 15 bytes", optarg);
			o->comms[o->ncomms++] = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				o->format = FMT_JSON;
			else if (strcmp(optarg, "prom") == 0)
				o->format = FMT_PROM;
			else
				pk_die(PK_EXIT_USAGE, "--format '%s': expected "
				    "json or prom", optarg);
			break;
		case 'g':
			o->cgroup = optarg;
			break;
		case 'h':
			help();
		case 'i':
			o->interval = pk_opt_duration(optarg, 0.001, 86400,
			    "--interval");
			break;
		case 'm':
			o->metrics = parse_metrics(optarg);
			break;
		case 'n':
			o->count = pk_opt_u64(optarg, 1, UINT64_MAX, "--count");
			break;
		case 'o':
			o->textfile = optarg;
			break;
		case 'p':
			if (o->npids == MAXARGS)
				pk_die(PK_EXIT_USAGE, "too many --pid options "
				    "(at most %d)", MAXARGS);
			o->pids[o->npids++] = (long)pk_opt_i64(optarg, 1,
			    INT32_MAX, "--pid");
			break;
		case 'u':
			o->unbuffered = 1;
			break;
		case OPT_PROCFS:
			o->procfs = optarg;
			break;
		case OPT_SYSFS:
			o->sysfs = optarg;
			break;
		case OPT_REPLAY:
			o->replay = optarg;
			break;
		case PK_OPT_VERSION:
			pk_print_version();
			pk_close_stdout();
			exit(PK_EXIT_OK);
		case PK_OPT_LIST_OPTIONS:
			pk_list_options(longopts);
			pk_close_stdout();
			exit(PK_EXIT_OK);
		default:
			pk_usage(usage_str);
		}
	}
	if (optind != argc)
		pk_usage(usage_str);
	/*
	 * Expositions one after another are not an exposition: promtool and
	 * every scraper reject the repeated families. On standard output the
	 * Prometheus format is one sample; -o rewrites a file every interval.
	 */
	if (o->format == FMT_PROM && o->textfile == NULL) {
		if (o->count > 1)
			pk_die(PK_EXIT_USAGE, "--format prom writes one "
			    "exposition to standard output: -n 1, or -o FILE "
			    "to rewrite a text file every interval");
		o->count = 1;
	}
	if (o->replay != NULL && (strcmp(o->procfs, "/proc") != 0 ||
	    strcmp(o->sysfs, "/sys") != 0))
		pk_die(PK_EXIT_USAGE, "--replay takes proc/ and sys/ from its "
		    "snapshots: --procfs and --sysfs do not apply");
}

/* ---- reading files ---- */

static void
src_set(struct src *s, int root, const char *fmt, ...) PK_PRINTF(3, 4);

static void
src_set(struct src *s, int root, const char *fmt, ...)
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

static void
src_close(struct src *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}

/* The path of a source for messages. */
static const char *
src_path(const struct sampler *sp, const struct src *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", sp->rootpath[s->root], s->rel);
	return buf;
}

/*
 * Read a whole file into the shared buffer. Files stay open and are read
 * again with pread(2) from offset 0, which procfs and sysfs regenerate.
 * Returns -1 with errno if the file cannot be opened or read.
 */
static int
src_read(struct sampler *sp, struct src *s, const char **buf, size_t *len)
{
	size_t off;

	if (s->gen != sp->gen) {
		src_close(s);
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
			if (off == sp->rcap)
				break;
		}
		if (off < sp->rcap)
			break;
		/* The buffer was too small: grow it once and read again. */
		{
			char *nb = realloc(sp->rbuf, sp->rcap * 2);

			if (nb == NULL)
				pk_die(PK_EXIT_IO, "out of memory");
			sp->rbuf = nb;
			sp->rcap *= 2;
		}
	}
	*buf = sp->rbuf;
	*len = off;
	return 0;
}

/* Report a malformed file once; every report makes the exit status 3. */
static void
src_bad(struct sampler *sp, struct src *s, const struct pk_procfs_err *e)
{
	char path[PATH_MAX + 64];

	if (s->reported)
		return;
	s->reported = 1;
	pk_bad_line(&sp->bad, src_path(sp, s, path, sizeof(path)), e->line,
	    "%s", e->what);
}

/* Open the file of a required source now, or die. */
static void
src_require(struct sampler *sp, struct src *s)
{
	const char *buf;
	size_t len;
	char path[PATH_MAX + 64];

	if (src_read(sp, s, &buf, &len) == -1)
		pk_die_errno(PK_EXIT_IO, "cannot read '%s'",
		    src_path(sp, s, path, sizeof(path)));
}

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
static int
set_roots(struct sampler *sp)
{
	const struct perf_sample_opts *o = sp->o;
	int i;

	for (i = 0; i < NROOTS; i++) {
		if (sp->rootfd[i] != -1)
			close(sp->rootfd[i]);
		sp->rootfd[i] = -1;
	}
	if (o->replay == NULL) {
		snprintf(sp->rootpath[ROOT_PROC], PATH_MAX, "%s", o->procfs);
		snprintf(sp->rootpath[ROOT_SYS], PATH_MAX, "%s", o->sysfs);
	} else {
		char dir[PATH_MAX - 16];
		struct stat st;

		if (snprintf(dir, sizeof(dir), "%s/%lu", o->replay, sp->step) >=
		    (int)sizeof(dir))
			pk_die(PK_EXIT_USAGE, "--replay '%s': path too long",
			    o->replay);
		if (sp->step > 0 && stat(dir, &st) == -1 && errno == ENOENT)
			return -1;
		snprintf(sp->rootpath[ROOT_PROC], PATH_MAX, "%s/proc", dir);
		snprintf(sp->rootpath[ROOT_SYS], PATH_MAX, "%s/sys", dir);
	}
	sp->rootfd[ROOT_PROC] = open_root(sp->rootpath[ROOT_PROC]);
	/* A tree without sysfs simply has no sysfs metrics. */
	sp->rootfd[ROOT_SYS] = open(sp->rootpath[ROOT_SYS],
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sp->rooterr[ROOT_SYS] = errno;
	if (o->cgroup != NULL) {
		/* A relative cgroup lives under the sysfs root. */
		if ((o->cgroup[0] == '/' ? snprintf(sp->rootpath[ROOT_CG],
		    PATH_MAX, "%s", o->cgroup) : snprintf(sp->rootpath[ROOT_CG],
		    PATH_MAX, "%s/fs/cgroup/%s", sp->rootpath[ROOT_SYS],
		    o->cgroup)) >= PATH_MAX)
			pk_die(PK_EXIT_USAGE, "--cgroup '%s': path too long",
			    o->cgroup);
		sp->rootfd[ROOT_CG] = open(sp->rootpath[ROOT_CG],
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		sp->rooterr[ROOT_CG] = errno;
	}
	sp->gen++;
	return 0;
}

/* ---- discovery ---- */

static int
zone_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	long nx = strtol(x + 12, NULL, 10), ny = strtol(y + 12, NULL, 10);

	return nx < ny ? -1 : nx > ny;
}

/* Read a small sysfs file relative to the sysfs root, outside the hot path. */
static int
read_small(struct sampler *sp, const char *rel, char *buf, size_t size,
    size_t *len)
{
	ssize_t r;
	int fd;

	if (sp->rootfd[ROOT_SYS] == -1)
		return -1;
	fd = openat(sp->rootfd[ROOT_SYS], rel, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	r = read(fd, buf, size);
	close(fd);
	if (r < 0)
		return -1;
	*len = (size_t)r;
	return 0;
}

static void
discover_zones(struct sampler *sp)
{
	char *names[MAXZONES];
	unsigned n = 0, i, j;
	struct dirent *de;
	DIR *d;
	int fd;

	if (sp->rootfd[ROOT_SYS] == -1)
		return;
	fd = openat(sp->rootfd[ROOT_SYS], "class/thermal",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL && n < MAXZONES) {
		if (strncmp(de->d_name, "thermal_zone", 12) != 0)
			continue;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			pk_die(PK_EXIT_IO, "out of memory");
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), zone_cmp);
	for (i = 0; i < n; i++) {
		struct zone *z = &sp->zones[sp->nzones];
		struct pk_procfs_err e;
		char rel[PATH_MAX], buf[256], type[32];
		unsigned dup = 0;
		size_t len;
		int k;

		snprintf(rel, sizeof(rel), "class/thermal/%s/type", names[i]);
		if (read_small(sp, rel, buf, sizeof(buf), &len) == -1 ||
		    pk_procfs_word_parse(buf, len, type, sizeof(type), &e) == -1)
			snprintf(type, sizeof(type), "%s", names[i]);
		/* Zones of the same type are told apart by _1, _2. */
		for (j = 0; j < sp->nzones; j++)
			if (strcmp(sp->zones[j].type, type) == 0)
				dup++;
		snprintf(z->type, sizeof(z->type), "%s", type);
		if (dup == 0)
			snprintf(z->name, sizeof(z->name), "%s", type);
		else
			snprintf(z->name, sizeof(z->name), "%s_%u", type, dup);
		src_set(&z->temp, ROOT_SYS, "class/thermal/%s/temp", names[i]);
		/* The lowest passive, hot or critical trip point. */
		for (k = 0; k < 64; k++) {
			char tt[32];
			int64_t mc;

			snprintf(rel, sizeof(rel),
			    "class/thermal/%s/trip_point_%d_type", names[i], k);
			if (read_small(sp, rel, buf, sizeof(buf), &len) == -1)
				break;
			if (pk_procfs_word_parse(buf, len, tt, sizeof(tt), &e) == -1)
				continue;
			if (strcmp(tt, "passive") != 0 && strcmp(tt, "hot") != 0 &&
			    strcmp(tt, "critical") != 0)
				continue;
			snprintf(rel, sizeof(rel),
			    "class/thermal/%s/trip_point_%d_temp", names[i], k);
			if (read_small(sp, rel, buf, sizeof(buf), &len) == -1 ||
			    pk_procfs_i64_parse(buf, len, &mc, &e) == -1 || mc <= 0)
				continue;
			if (!z->have_trip || mc / 1000.0 < z->trip_c) {
				z->trip_c = mc / 1000.0;
				z->have_trip = 1;
			}
		}
		sp->nzones++;
		free(names[i]);
	}
}

static void
discover(struct sampler *sp)
{
	const struct perf_sample_opts *o = sp->o;
	const char *buf;
	size_t len;
	unsigned i;
	int k;

	src_set(&sp->stat, ROOT_PROC, "stat");
	src_set(&sp->meminfo, ROOT_PROC, "meminfo");
	src_set(&sp->loadavg, ROOT_PROC, "loadavg");
	src_set(&sp->uptime, ROOT_PROC, "uptime");
	src_set(&sp->diskstats, ROOT_PROC, "diskstats");
	src_set(&sp->netdev, ROOT_PROC, "net/dev");
	for (k = 0; k < 3; k++)
		src_set(&sp->psi[k], ROOT_PROC, "pressure/%s", psi_names[k]);
	src_set(&sp->throttle, ROOT_SYS,
	    "devices/platform/soc/soc:firmware/get_throttled");

	/* /proc/stat is the one file that every sample needs. */
	src_require(sp, &sp->stat);
	if (o->metrics & (M_MEM | M_SWAP))
		src_require(sp, &sp->meminfo);
	if (o->metrics & M_LOAD)
		src_require(sp, &sp->loadavg);
	if (o->replay != NULL)
		src_require(sp, &sp->uptime);

	if ((o->metrics & M_FREQ) && src_read(sp, &sp->stat, &buf, &len) == 0) {
		struct pk_procfs_stat st;
		struct pk_procfs_err e;

		(void)pk_procfs_stat_parse(buf, len, &st, sp->snaps[0].cores,
		    MAXCORES, &e);
		for (i = 0; i < st.ncores && i < MAXCORES; i++) {
			struct stat sb;
			char rel[64];

			snprintf(rel, sizeof(rel),
			    "devices/system/cpu/cpu%u/cpufreq/scaling_cur_freq",
			    sp->snaps[0].cores[i].id);
			if (sp->rootfd[ROOT_SYS] == -1 ||
			    fstatat(sp->rootfd[ROOT_SYS], rel, &sb, 0) == -1)
				continue;
			sp->freq_id[sp->nfreq] = sp->snaps[0].cores[i].id;
			src_set(&sp->freq[sp->nfreq], ROOT_SYS, "%s", rel);
			sp->nfreq++;
		}
	}
	if (o->metrics & M_TEMP)
		discover_zones(sp);

	if (o->cgroup != NULL) {
		char path[PATH_MAX + 64];

		src_set(&sp->cg_cpu, ROOT_CG, "cpu.stat");
		src_set(&sp->cg_mem_cur, ROOT_CG, "memory.current");
		src_set(&sp->cg_mem_max, ROOT_CG, "memory.max");
		for (k = 0; k < 3; k++)
			src_set(&sp->cg_psi[k], ROOT_CG, "%s.pressure",
			    psi_names[k]);
		if (src_read(sp, &sp->cg_cpu, &buf, &len) == -1)
			pk_die_errno(PK_EXIT_USAGE, "--cgroup '%s': cannot read "
			    "'%s' (a cgroup v2 directory is needed)", o->cgroup,
			    src_path(sp, &sp->cg_cpu, path, sizeof(path)));
	}
}

/* ---- processes ---- */

static struct proc *
proc_add(struct sampler *sp, long pid)
{
	unsigned i;

	for (i = 0; i < MAXPROCS; i++) {
		struct proc *p = &sp->procs[i];

		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = 1;
		if (i >= sp->nprocs)
			sp->nprocs = i + 1;
		p->pid = pid;
		src_set(&p->stat, ROOT_PROC, "%ld/stat", pid);
		src_set(&p->schedstat, ROOT_PROC, "%ld/schedstat", pid);
		src_set(&p->status, ROOT_PROC, "%ld/status", pid);
		src_set(&p->io, ROOT_PROC, "%ld/io", pid);
		return p;
	}
	return NULL;
}

static void
proc_free(struct proc *p)
{
	src_close(&p->stat);
	src_close(&p->schedstat);
	src_close(&p->status);
	src_close(&p->io);
	p->used = 0;
}

static int
proc_tracked(const struct sampler *sp, long pid)
{
	unsigned i;

	for (i = 0; i < sp->nprocs; i++)
		if (sp->procs[i].used && sp->procs[i].pid == pid)
			return 1;
	return 0;
}

static size_t
seen_slot(const struct sampler *sp, long pid)
{
	size_t i = ((size_t)pid * 0x9e3779b97f4a7c15ULL) & (sp->seencap - 1);

	while (sp->seen[i].pid != 0 && sp->seen[i].pid != pid)
		i = (i + 1) & (sp->seencap - 1);
	return i;
}

/* Forget every process looked at: the next scan reads every comm again. */
static void
seen_clear(struct sampler *sp)
{
	if (sp->seen != NULL)
		memset(sp->seen, 0, sp->seencap * sizeof(*sp->seen));
	sp->nseen = 0;
	sp->seen_since = pk_mono_ns();
}

/*
 * The entry of a process, made if it is new (or a new process with an old
 * PID); NULL when out of memory, which only costs a comm read.
 */
static struct seen *
seen_get(struct sampler *sp, long pid, unsigned long ino)
{
	struct seen *e;
	size_t i;

	if (2 * (sp->nseen + 1) > sp->seencap) {
		struct seen *old = sp->seen;
		size_t oldcap = sp->seencap, j;

		sp->seencap = oldcap ? oldcap * 2 : 512;
		sp->seen = calloc(sp->seencap, sizeof(*sp->seen));
		if (sp->seen == NULL) {
			sp->seen = old;
			sp->seencap = oldcap;
			return NULL;
		}
		for (j = 0; j < oldcap; j++)
			if (old[j].pid != 0)
				sp->seen[seen_slot(sp, old[j].pid)] = old[j];
		free(old);
	}
	i = seen_slot(sp, pid);
	e = &sp->seen[i];
	if (e->pid == 0) {
		sp->nseen++;
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
static void
scan_comms(struct sampler *sp)
{
	const struct perf_sample_opts *o = sp->o;
	struct dirent *de;

	if (o->ncomms == 0)
		return;
	if (sp->procdir == NULL || sp->procdir_gen != sp->gen) {
		int fd;

		if (sp->procdir != NULL)
			closedir(sp->procdir);
		sp->procdir = NULL;
		/* Another process table (--replay): forget the old one. */
		seen_clear(sp);
		fd = openat(sp->rootfd[ROOT_PROC], ".",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1 || (sp->procdir = fdopendir(fd)) == NULL) {
			if (fd != -1)
				close(fd);
			return;
		}
		sp->procdir_gen = sp->gen;
	} else {
		rewinddir(sp->procdir);
		if (pk_mono_ns() - sp->seen_since >= COMM_RESCAN_NS)
			seen_clear(sp);
	}
	while ((de = readdir(sp->procdir)) != NULL) {
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
		e = seen_get(sp, pid, (unsigned long)de->d_ino);
		if (e != NULL) {
			if (e->looks >= 2)
				continue;
			e->looks++;
		}
		if (proc_tracked(sp, pid))
			continue;
		snprintf(rel, sizeof(rel), "%ld/comm", pid);
		fd = openat(sp->rootfd[ROOT_PROC], rel, O_RDONLY | O_CLOEXEC);
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
		if (proc_add(sp, pid) == NULL) {
			pk_warn("more than %d processes: pid %ld not followed",
			    MAXPROCS, pid);
			break;
		}
	}
}

/* ---- sampling ---- */

static void
read_psi(struct sampler *sp, struct src *s, struct pk_procfs_psi *psi,
    int *have)
{
	struct pk_procfs_err e;
	const char *buf;
	size_t len;

	*have = 0;
	if (src_read(sp, s, &buf, &len) == -1)
		return;
	if (pk_procfs_psi_parse(buf, len, psi, &e) == -1)
		src_bad(sp, s, &e);
	*have = psi->have_some || psi->have_full;
}

static void
take(struct sampler *sp, struct snap *sn)
{
	const struct perf_sample_opts *o = sp->o;
	struct pk_procfs_err e;
	const char *buf;
	size_t len;
	unsigned i;
	int k;

	if (o->replay != NULL) {
		double up = 0;

		if (src_read(sp, &sp->uptime, &buf, &len) == -1 ||
		    pk_procfs_uptime_parse(buf, len, &up, &e) == -1)
			pk_die(PK_EXIT_DATA, "replay snapshot %lu: no valid "
			    "proc/uptime", sp->step);
		sn->mono = up;
	} else {
		sn->mono = pk_mono();
		sn->wall = pk_now();
	}

	sn->have_stat = 0;
	if (src_read(sp, &sp->stat, &buf, &len) == 0) {
		if (pk_procfs_stat_parse(buf, len, &sn->st, sn->cores, MAXCORES,
		    &e) == -1)
			src_bad(sp, &sp->stat, &e);
		sn->have_stat = sn->st.have_all;
		sn->nstored = sn->st.ncores < MAXCORES ? sn->st.ncores : MAXCORES;
	}
	if (o->replay != NULL)
		sn->wall = (double)sn->st.btime + sn->mono;

	sn->have_mem = 0;
	if ((o->metrics & (M_MEM | M_SWAP)) &&
	    src_read(sp, &sp->meminfo, &buf, &len) == 0) {
		if (pk_procfs_meminfo_parse(buf, len, &sn->mem, &e) == -1)
			src_bad(sp, &sp->meminfo, &e);
		sn->have_mem = 1;
	}
	sn->have_load = 0;
	if ((o->metrics & M_LOAD) &&
	    src_read(sp, &sp->loadavg, &buf, &len) == 0) {
		if (pk_procfs_loadavg_parse(buf, len, sn->load, &e) == -1)
			src_bad(sp, &sp->loadavg, &e);
		else
			sn->have_load = 1;
	}
	for (k = 0; k < 3; k++) {
		sn->have_psi[k] = 0;
		if (o->metrics & M_PSI)
			read_psi(sp, &sp->psi[k], &sn->psi[k], &sn->have_psi[k]);
	}
	sn->ndisks = 0;
	if ((o->metrics & M_DISK) &&
	    src_read(sp, &sp->diskstats, &buf, &len) == 0 &&
	    pk_procfs_diskstats_parse(buf, len, sn->disks, MAXDEV, &sn->ndisks,
	    &e) == -1)
		src_bad(sp, &sp->diskstats, &e);
	sn->nnets = 0;
	if ((o->metrics & M_NET) &&
	    src_read(sp, &sp->netdev, &buf, &len) == 0 &&
	    pk_procfs_netdev_parse(buf, len, sn->nets, MAXDEV, &sn->nnets,
	    &e) == -1)
		src_bad(sp, &sp->netdev, &e);
	for (i = 0; i < sp->nzones; i++) {
		sn->have_temp[i] = 0;
		if (src_read(sp, &sp->zones[i].temp, &buf, &len) == -1)
			continue;
		if (pk_procfs_i64_parse(buf, len, &sn->temp_mc[i], &e) == -1)
			src_bad(sp, &sp->zones[i].temp, &e);
		else
			sn->have_temp[i] = 1;
	}
	for (i = 0; i < sp->nfreq; i++) {
		sn->have_freq[i] = 0;
		if (src_read(sp, &sp->freq[i], &buf, &len) == -1)
			continue;
		if (pk_procfs_u64_parse(buf, len, &sn->freq_khz[i], &e) == -1)
			src_bad(sp, &sp->freq[i], &e);
		else
			sn->have_freq[i] = 1;
	}
	sn->have_throttle = 0;
	if ((o->metrics & M_THROTTLE) &&
	    src_read(sp, &sp->throttle, &buf, &len) == 0) {
		if (pk_procfs_hex_parse(buf, len, &sn->throttle, &e) == -1)
			src_bad(sp, &sp->throttle, &e);
		else
			sn->have_throttle = 1;
	}
	if (o->cgroup != NULL) {
		sn->cg_cpu_found = 0;
		if (src_read(sp, &sp->cg_cpu, &buf, &len) == 0 &&
		    pk_procfs_keyval_parse(buf, len, cg_cpu_keys, sn->cg_cpu,
		    &sn->cg_cpu_found, &e) == -1)
			src_bad(sp, &sp->cg_cpu, &e);
		sn->have_cg_mem_cur = 0;
		if (src_read(sp, &sp->cg_mem_cur, &buf, &len) == 0) {
			if (pk_procfs_u64_parse(buf, len, &sn->cg_mem_cur, &e) == -1)
				src_bad(sp, &sp->cg_mem_cur, &e);
			else
				sn->have_cg_mem_cur = 1;
		}
		sn->have_cg_mem_max = 0;
		if (src_read(sp, &sp->cg_mem_max, &buf, &len) == 0) {
			if (pk_procfs_u64_parse(buf, len, &sn->cg_mem_max, &e) == -1)
				src_bad(sp, &sp->cg_mem_max, &e);
			else
				sn->have_cg_mem_max = 1;
		}
		for (k = 0; k < 3; k++)
			read_psi(sp, &sp->cg_psi[k], &sn->cg_psi[k],
			    &sn->have_cg_psi[k]);
	}
}

/* ---- output ---- */

/*
 * Shares of each mode between two readings. A counter that went back is
 * taken as no time: iowait (and on some kernels idle) is documented to
 * decrease now and then, and that must not lose the whole sample.
 */
static void
cpu_shares(const struct pk_procfs_cpu *a, const struct pk_procfs_cpu *b,
    struct cpu_pct *p, int *ok)
{
#define DELTA(f) (b->f > a->f ? (double)(b->f - a->f) : 0.0)
	double user = DELTA(user), nice = DELTA(nice), system = DELTA(system),
	    idle = DELTA(idle), iowait = DELTA(iowait), irq = DELTA(irq),
	    softirq = DELTA(softirq), steal = DELTA(steal);
#undef DELTA
	double t = user + nice + system + idle + iowait + irq + softirq + steal;

	*ok = t > 0;
	if (!*ok)
		return;
	t /= 100.0;
	p->user = user / t;
	p->nice = nice / t;
	p->system = system / t;
	p->idle = idle / t;
	p->iowait = iowait / t;
	p->irq = irq / t;
	p->softirq = softirq / t;
	p->steal = steal / t;
	p->util = 100.0 - p->idle - p->iowait;
	if (p->util < 0)
		p->util = 0;
}

static const struct pk_procfs_disk *
find_disk(const struct snap *sn, const char *name, unsigned hint)
{
	unsigned i;

	if (hint < sn->ndisks && strcmp(sn->disks[hint].name, name) == 0)
		return &sn->disks[hint];
	for (i = 0; i < sn->ndisks; i++)
		if (strcmp(sn->disks[i].name, name) == 0)
			return &sn->disks[i];
	return NULL;
}

static const struct pk_procfs_net *
find_net(const struct snap *sn, const char *name, unsigned hint)
{
	unsigned i;

	if (hint < sn->nnets && strcmp(sn->nets[hint].name, name) == 0)
		return &sn->nets[hint];
	for (i = 0; i < sn->nnets; i++)
		if (strcmp(sn->nets[i].name, name) == 0)
			return &sn->nets[i];
	return NULL;
}

static double
rate(uint64_t a, uint64_t b, double dt, int *ok)
{
	*ok = b >= a && dt > 0;
	return *ok ? (double)(b - a) / dt : 0;
}

static void
derive(const struct sampler *sp, struct derived *d)
{
	const struct snap *a = sp->prev, *b = sp->cur;
	unsigned i, j;
	int ok;

	d->dt = b->mono - a->mono;
	d->have_cpu = 0;
	if (a->have_stat && b->have_stat)
		cpu_shares(&a->st.all, &b->st.all, &d->cpu, &d->have_cpu);
	d->ncores = 0;
	if ((sp->o->metrics & M_CORES) && a->have_stat && b->have_stat) {
		for (i = 0; i < b->nstored; i++) {
			const struct pk_procfs_core *cb = &b->cores[i], *ca = NULL;

			if (i < a->nstored && a->cores[i].id == cb->id)
				ca = &a->cores[i];
			for (j = 0; ca == NULL && j < a->nstored; j++)
				if (a->cores[j].id == cb->id)
					ca = &a->cores[j];
			if (ca == NULL)
				continue;
			d->cores[d->ncores].id = cb->id;
			cpu_shares(&ca->t, &cb->t, &d->cores[d->ncores].p,
			    &d->cores[d->ncores].ok);
			d->ncores++;
		}
	}
	d->ndisks = 0;
	for (i = 0; i < b->ndisks; i++) {
		const struct pk_procfs_disk *x = &b->disks[i];
		const struct pk_procfs_disk *y = find_disk(a, x->name, i);
		int ok2, ok3;

		if (y == NULL)
			continue;
		d->disks[d->ndisks].name = x->name;
		d->disks[d->ndisks].rd = rate(y->rd_sectors, x->rd_sectors,
		    d->dt, &ok) * 512;
		d->disks[d->ndisks].wr = rate(y->wr_sectors, x->wr_sectors,
		    d->dt, &ok2) * 512;
		d->disks[d->ndisks].util = rate(y->io_ms, x->io_ms, d->dt,
		    &ok3) / 10.0;
		if (d->disks[d->ndisks].util > 100)
			d->disks[d->ndisks].util = 100;
		if (ok && ok2 && ok3)
			d->ndisks++;
	}
	d->nnets = 0;
	for (i = 0; i < b->nnets; i++) {
		const struct pk_procfs_net *x = &b->nets[i];
		const struct pk_procfs_net *y = find_net(a, x->name, i);
		int ok2;

		if (y == NULL)
			continue;
		d->nets[d->nnets].name = x->name;
		d->nets[d->nnets].rx = rate(y->rx_bytes, x->rx_bytes, d->dt, &ok);
		d->nets[d->nnets].tx = rate(y->tx_bytes, x->tx_bytes, d->dt,
		    &ok2);
		if (ok && ok2)
			d->nnets++;
	}
	d->have_cg_cpu = 0;
	d->have_cg_throttle = 0;
	if (sp->o->cgroup != NULL && (a->cg_cpu_found & 7) == 7 &&
	    (b->cg_cpu_found & 7) == 7) {
		int ok2, ok3;

		/* usec per second of elapsed time: 1e6 is one full core. */
		d->cg_cpu_pct = rate(a->cg_cpu[0], b->cg_cpu[0], d->dt, &ok) / 1e4;
		d->cg_user_pct = rate(a->cg_cpu[1], b->cg_cpu[1], d->dt, &ok2) / 1e4;
		d->cg_system_pct = rate(a->cg_cpu[2], b->cg_cpu[2], d->dt,
		    &ok3) / 1e4;
		d->have_cg_cpu = ok && ok2 && ok3;
		if ((a->cg_cpu_found & 24) == 24 && (b->cg_cpu_found & 24) == 24) {
			d->cg_throttled_per_s = rate(a->cg_cpu[3], b->cg_cpu[3],
			    d->dt, &ok);
			d->cg_throttled_pct = rate(a->cg_cpu[4], b->cg_cpu[4],
			    d->dt, &ok2) / 1e4;
			d->have_cg_throttle = ok && ok2;
		}
	}
}

static void
jw_psi(struct pk_jw *w, const char *key, const struct pk_procfs_psi *p)
{
	static const char *const some[3] = {
		"some_avg10", "some_avg60", "some_avg300"
	};
	static const char *const full[3] = {
		"full_avg10", "full_avg60", "full_avg300"
	};
	int i;

	pk_jw_obj_begin(w, key);
	for (i = 0; p->have_some && i < 3; i++)
		pk_jw_num(w, some[i], p->some[i], 2);
	for (i = 0; p->have_full && i < 3; i++)
		pk_jw_num(w, full[i], p->full[i], 2);
	pk_jw_obj_end(w);
}

static void
jw_head(struct pk_jw *w, const char *type, double ts)
{
	pk_jw_reset(w);
	pk_jw_obj_begin(w, NULL);
	pk_jw_str(w, "type", type);
	pk_jw_num(w, "ts", ts, 6);
	pk_jw_str(w, "host", pk_hostname());
}

static void
jw_cpu_pct(struct pk_jw *w, const struct cpu_pct *p)
{
	pk_jw_num(w, "util", p->util, 2);
	pk_jw_num(w, "user", p->user, 2);
	pk_jw_num(w, "system", p->system, 2);
	pk_jw_num(w, "iowait", p->iowait, 2);
	pk_jw_num(w, "steal", p->steal, 2);
	pk_jw_num(w, "nice", p->nice, 2);
	pk_jw_num(w, "irq", p->irq, 2);
	pk_jw_num(w, "softirq", p->softirq, 2);
	pk_jw_num(w, "idle", p->idle, 2);
}

static void
emit_sample_json(struct sampler *sp, const struct derived *d)
{
	const struct snap *b = sp->cur;
	const struct perf_sample_opts *o = sp->o;
	struct pk_jw *w = &sp->w;
	unsigned i;
	int k;

	jw_head(w, "sample", b->wall);
	pk_jw_num(w, "interval_s", d->dt, 6);
	if ((o->metrics & (M_CPU | M_CORES | M_FREQ)) && b->have_stat) {
		pk_jw_obj_begin(w, "cpu");
		if ((o->metrics & M_CPU) && d->have_cpu)
			jw_cpu_pct(w, &d->cpu);
		pk_jw_u64(w, "ncpu", b->st.ncores);
		if (d->ncores > 0) {
			pk_jw_arr_begin(w, "cores");
			for (i = 0; i < d->ncores; i++) {
				pk_jw_obj_begin(w, NULL);
				pk_jw_u64(w, "cpu", d->cores[i].id);
				if (d->cores[i].ok)
					jw_cpu_pct(w, &d->cores[i].p);
				pk_jw_obj_end(w);
			}
			pk_jw_arr_end(w);
		}
		if (sp->nfreq > 0) {
			int any = 0;

			for (i = 0; i < sp->nfreq; i++) {
				char key[24];

				if (!b->have_freq[i])
					continue;
				if (!any)
					pk_jw_obj_begin(w, "freq_mhz");
				any = 1;
				snprintf(key, sizeof(key), "cpu%u", sp->freq_id[i]);
				pk_jw_num(w, key, b->freq_khz[i] / 1000.0, 3);
			}
			if (any)
				pk_jw_obj_end(w);
		}
		pk_jw_obj_end(w);
	}
	if ((o->metrics & M_MEM) && b->have_mem &&
	    (b->mem.have & (PK_MEM_TOTAL | PK_MEM_AVAIL)) ==
	    (PK_MEM_TOTAL | PK_MEM_AVAIL) && b->mem.total_kb > 0) {
		pk_jw_obj_begin(w, "mem");
		pk_jw_u64(w, "total_kb", b->mem.total_kb);
		pk_jw_u64(w, "avail_kb", b->mem.avail_kb);
		pk_jw_num(w, "used_pct", 100.0 * ((double)b->mem.total_kb -
		    (double)b->mem.avail_kb) / (double)b->mem.total_kb, 2);
		pk_jw_obj_end(w);
	}
	if ((o->metrics & M_SWAP) && b->have_mem &&
	    (b->mem.have & (PK_MEM_SWAP_TOTAL | PK_MEM_SWAP_FREE)) ==
	    (PK_MEM_SWAP_TOTAL | PK_MEM_SWAP_FREE)) {
		uint64_t used = b->mem.swap_total_kb >= b->mem.swap_free_kb ?
		    b->mem.swap_total_kb - b->mem.swap_free_kb : 0;

		pk_jw_obj_begin(w, "swap");
		pk_jw_u64(w, "total_kb", b->mem.swap_total_kb);
		pk_jw_u64(w, "used_kb", used);
		if (b->mem.swap_total_kb > 0)
			pk_jw_num(w, "used_pct", 100.0 * (double)used /
			    (double)b->mem.swap_total_kb, 2);
		pk_jw_obj_end(w);
	}
	if ((o->metrics & M_LOAD) && b->have_load) {
		pk_jw_obj_begin(w, "load");
		pk_jw_num(w, "1", b->load[0], 2);
		pk_jw_num(w, "5", b->load[1], 2);
		pk_jw_num(w, "15", b->load[2], 2);
		pk_jw_obj_end(w);
	}
	if (b->have_psi[0] || b->have_psi[1] || b->have_psi[2]) {
		pk_jw_obj_begin(w, "psi");
		for (k = 0; k < 3; k++)
			if (b->have_psi[k])
				jw_psi(w, psi_names[k], &b->psi[k]);
		pk_jw_obj_end(w);
	}
	for (k = 0; k < 2; k++) {
		int any = 0;

		for (i = 0; i < sp->nzones; i++) {
			if (!b->have_temp[i] || (k == 1 && !sp->zones[i].have_trip))
				continue;
			if (!any)
				pk_jw_obj_begin(w, k == 0 ? "temp_c" : "temp_trip_c");
			any = 1;
			pk_jw_num(w, sp->zones[i].name, k == 0 ?
			    b->temp_mc[i] / 1000.0 : sp->zones[i].trip_c, 3);
		}
		if (any)
			pk_jw_obj_end(w);
	}
	if (b->have_throttle) {
		char raw[24];

		snprintf(raw, sizeof(raw), "0x%llx",
		    (unsigned long long)b->throttle);
		pk_jw_obj_begin(w, "throttle");
		pk_jw_str(w, "raw", raw);
		for (k = 0; k < 2; k++) {
			int shift = k == 0 ? 0 : PK_THROTTLE_SINCE_BOOT_SHIFT;
			int bit;

			pk_jw_obj_begin(w, k == 0 ? "now" : "since_boot");
			for (bit = 0; bit < PK_THROTTLE_NBITS; bit++)
				pk_jw_bool(w, pk_procfs_throttle_names[bit],
				    (int)(b->throttle >> (shift + bit) & 1));
			pk_jw_obj_end(w);
		}
		pk_jw_obj_end(w);
	}
	if (d->ndisks > 0) {
		pk_jw_obj_begin(w, "disk");
		for (i = 0; i < d->ndisks; i++) {
			pk_jw_obj_begin(w, d->disks[i].name);
			pk_jw_num(w, "read_bytes_per_s", d->disks[i].rd, 1);
			pk_jw_num(w, "write_bytes_per_s", d->disks[i].wr, 1);
			pk_jw_num(w, "util_pct", d->disks[i].util, 2);
			pk_jw_obj_end(w);
		}
		pk_jw_obj_end(w);
	}
	if (d->nnets > 0) {
		pk_jw_obj_begin(w, "net");
		for (i = 0; i < d->nnets; i++) {
			pk_jw_obj_begin(w, d->nets[i].name);
			pk_jw_num(w, "rx_bytes_per_s", d->nets[i].rx, 1);
			pk_jw_num(w, "tx_bytes_per_s", d->nets[i].tx, 1);
			pk_jw_obj_end(w);
		}
		pk_jw_obj_end(w);
	}
	if (o->cgroup != NULL) {
		pk_jw_obj_begin(w, "cgroup");
		pk_jw_str(w, "path", o->cgroup);
		if (d->have_cg_cpu) {
			pk_jw_num(w, "cpu_pct", d->cg_cpu_pct, 2);
			pk_jw_num(w, "user_pct", d->cg_user_pct, 2);
			pk_jw_num(w, "system_pct", d->cg_system_pct, 2);
		}
		if (d->have_cg_throttle) {
			pk_jw_num(w, "throttled_per_s", d->cg_throttled_per_s, 2);
			pk_jw_num(w, "throttled_pct", d->cg_throttled_pct, 2);
		}
		if (b->have_cg_mem_cur)
			pk_jw_u64(w, "mem_current_kb", b->cg_mem_cur / 1024);
		if (b->have_cg_mem_max && b->cg_mem_max != UINT64_MAX) {
			pk_jw_u64(w, "mem_max_kb", b->cg_mem_max / 1024);
			if (b->have_cg_mem_cur && b->cg_mem_max > 0)
				pk_jw_num(w, "mem_used_pct", 100.0 *
				    (double)b->cg_mem_cur /
				    (double)b->cg_mem_max, 2);
		}
		if (b->have_cg_psi[0] || b->have_cg_psi[1] || b->have_cg_psi[2]) {
			pk_jw_obj_begin(w, "psi");
			for (k = 0; k < 3; k++)
				if (b->have_cg_psi[k])
					jw_psi(w, psi_names[k], &b->cg_psi[k]);
			pk_jw_obj_end(w);
		}
		pk_jw_obj_end(w);
	}
	pk_jw_obj_end(w);
}

/* Prometheus text exposition. */
struct prom {
	struct pk_jw *w;
	int labels;
};

static void
prom_family(struct prom *p, const char *name, const char *help)
{
	pk_jw_puts(p->w, "# HELP ");
	pk_jw_puts(p->w, name);
	pk_jw_putc(p->w, ' ');
	pk_jw_puts(p->w, help);
	pk_jw_puts(p->w, "\n# TYPE ");
	pk_jw_puts(p->w, name);
	pk_jw_puts(p->w, " gauge\n");
}

static void
prom_begin(struct prom *p, const char *name)
{
	pk_jw_puts(p->w, name);
	p->labels = 0;
}

static void
prom_label(struct prom *p, const char *key, const char *val)
{
	const char *s;

	pk_jw_putc(p->w, p->labels ? ',' : '{');
	p->labels = 1;
	pk_jw_puts(p->w, key);
	pk_jw_put(p->w, "=\"", 2);
	for (s = val; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"') {
			pk_jw_putc(p->w, '\\');
			pk_jw_putc(p->w, *s);
		} else if (*s == '\n')
			pk_jw_put(p->w, "\\n", 2);
		else
			pk_jw_putc(p->w, *s);
	}
	pk_jw_putc(p->w, '"');
}

static void
prom_value(struct prom *p, double v, int decimals)
{
	if (p->labels)
		pk_jw_putc(p->w, '}');
	pk_jw_putc(p->w, ' ');
	pk_jw_put_num(p->w, v, decimals);
	pk_jw_putc(p->w, '\n');
}

static void
prom_one(struct prom *p, const char *name, const char *help, double v,
    int decimals)
{
	prom_family(p, name, help);
	prom_begin(p, name);
	prom_value(p, v, decimals);
}

static void
prom_psi(struct prom *p, const char *name, const char *cg, const int *have,
    const struct pk_procfs_psi *psi)
{
	static const char *const win[3] = { "10", "60", "300" };
	int k, i, any = have[0] || have[1] || have[2];

	if (!any)
		return;
	prom_family(p, name, "Pressure stall information, share of time "
	    "stalled over the window (0-1).");
	for (k = 0; k < 3; k++) {
		if (!have[k])
			continue;
		for (i = 0; i < 6; i++) {
			int full = i >= 3;

			if ((full && !psi[k].have_full) || (!full && !psi[k].have_some))
				continue;
			prom_begin(p, name);
			if (cg != NULL)
				prom_label(p, "cgroup", cg);
			prom_label(p, "resource", psi_names[k]);
			prom_label(p, "kind", full ? "full" : "some");
			prom_label(p, "window", win[i % 3]);
			prom_value(p, (full ? psi[k].full[i % 3] :
			    psi[k].some[i % 3]) / 100.0, 6);
		}
	}
}

static void
prom_modes(struct prom *p, const char *name, const char *cpu,
    const struct cpu_pct *c)
{
	static const char *const modes[] = {
		"user", "nice", "system", "idle", "iowait", "irq", "softirq",
		"steal"
	};
	double v[8];
	int i;

	v[0] = c->user;
	v[1] = c->nice;
	v[2] = c->system;
	v[3] = c->idle;
	v[4] = c->iowait;
	v[5] = c->irq;
	v[6] = c->softirq;
	v[7] = c->steal;
	for (i = 0; i < 8; i++) {
		prom_begin(p, name);
		if (cpu != NULL)
			prom_label(p, "cpu", cpu);
		prom_label(p, "mode", modes[i]);
		prom_value(p, v[i] / 100.0, 6);
	}
}

static void
emit_sample_prom(struct sampler *sp, const struct derived *d)
{
	const struct snap *b = sp->cur;
	const struct perf_sample_opts *o = sp->o;
	struct prom pr = { &sp->w, 0 }, *p = &pr;
	char lbl[32];
	unsigned i;
	int k;

	prom_one(p, "perfkit_sample_interval_seconds",
	    "Time the rates were measured over.", d->dt, 6);
	prom_one(p, "perfkit_sample_timestamp_seconds",
	    "Wall-clock time of the sample.", b->wall, 3);
	if ((o->metrics & M_CPU) && d->have_cpu) {
		prom_one(p, "perfkit_cpu_util_ratio",
		    "Busy share of all CPUs (0-1).", d->cpu.util / 100.0, 6);
		prom_family(p, "perfkit_cpu_mode_ratio",
		    "Share of all CPU time per mode (0-1).");
		prom_modes(p, "perfkit_cpu_mode_ratio", NULL, &d->cpu);
	}
	if (b->have_stat)
		prom_one(p, "perfkit_cpu_online", "Online CPUs.",
		    b->st.ncores, 0);
	if (d->ncores > 0) {
		prom_family(p, "perfkit_cpu_core_util_ratio",
		    "Busy share of one CPU (0-1).");
		for (i = 0; i < d->ncores; i++) {
			if (!d->cores[i].ok)
				continue;
			snprintf(lbl, sizeof(lbl), "%u", d->cores[i].id);
			prom_begin(p, "perfkit_cpu_core_util_ratio");
			prom_label(p, "cpu", lbl);
			prom_value(p, d->cores[i].p.util / 100.0, 6);
		}
	}
	for (k = 0, i = 0; i < sp->nfreq; i++) {
		if (!b->have_freq[i])
			continue;
		if (k++ == 0)
			prom_family(p, "perfkit_cpu_frequency_hertz",
			    "Current CPU frequency (cpufreq).");
		snprintf(lbl, sizeof(lbl), "%u", sp->freq_id[i]);
		prom_begin(p, "perfkit_cpu_frequency_hertz");
		prom_label(p, "cpu", lbl);
		prom_value(p, (double)b->freq_khz[i] * 1000.0, 0);
	}
	if ((o->metrics & M_MEM) && b->have_mem &&
	    (b->mem.have & (PK_MEM_TOTAL | PK_MEM_AVAIL)) ==
	    (PK_MEM_TOTAL | PK_MEM_AVAIL) && b->mem.total_kb > 0) {
		prom_one(p, "perfkit_memory_total_bytes", "MemTotal.",
		    (double)b->mem.total_kb * 1024, 0);
		prom_one(p, "perfkit_memory_available_bytes", "MemAvailable.",
		    (double)b->mem.avail_kb * 1024, 0);
		prom_one(p, "perfkit_memory_used_ratio",
		    "(MemTotal - MemAvailable) / MemTotal.",
		    ((double)b->mem.total_kb - (double)b->mem.avail_kb) /
		    (double)b->mem.total_kb, 6);
	}
	if ((o->metrics & M_SWAP) && b->have_mem &&
	    (b->mem.have & (PK_MEM_SWAP_TOTAL | PK_MEM_SWAP_FREE)) ==
	    (PK_MEM_SWAP_TOTAL | PK_MEM_SWAP_FREE)) {
		uint64_t used = b->mem.swap_total_kb >= b->mem.swap_free_kb ?
		    b->mem.swap_total_kb - b->mem.swap_free_kb : 0;

		prom_one(p, "perfkit_swap_total_bytes", "SwapTotal.",
		    (double)b->mem.swap_total_kb * 1024, 0);
		prom_one(p, "perfkit_swap_used_bytes", "SwapTotal - SwapFree.",
		    (double)used * 1024, 0);
	}
	if ((o->metrics & M_LOAD) && b->have_load) {
		prom_one(p, "perfkit_load1", "Load average over 1 minute.",
		    b->load[0], 2);
		prom_one(p, "perfkit_load5", "Load average over 5 minutes.",
		    b->load[1], 2);
		prom_one(p, "perfkit_load15", "Load average over 15 minutes.",
		    b->load[2], 2);
	}
	prom_psi(p, "perfkit_pressure_ratio", NULL, b->have_psi, b->psi);
	for (k = 0; k < 2; k++) {
		const char *name = k == 0 ? "perfkit_temperature_celsius" :
		    "perfkit_temperature_trip_celsius";
		int any = 0;

		for (i = 0; i < sp->nzones; i++) {
			if (!b->have_temp[i] || (k == 1 && !sp->zones[i].have_trip))
				continue;
			if (!any)
				prom_family(p, name, k == 0 ?
				    "Thermal zone temperature." :
				    "Lowest passive, hot or critical trip point.");
			any = 1;
			prom_begin(p, name);
			prom_label(p, "zone", sp->zones[i].name);
			prom_value(p, k == 0 ? b->temp_mc[i] / 1000.0 :
			    sp->zones[i].trip_c, 3);
		}
	}
	if (b->have_throttle) {
		for (k = 0; k < 2; k++) {
			const char *name = k == 0 ? "perfkit_throttle_now" :
			    "perfkit_throttle_since_boot";
			int shift = k == 0 ? 0 : PK_THROTTLE_SINCE_BOOT_SHIFT;
			int bit;

			prom_family(p, name, k == 0 ?
			    "Raspberry Pi firmware throttling flags, now." :
			    "Raspberry Pi firmware throttling flags since boot.");
			for (bit = 0; bit < PK_THROTTLE_NBITS; bit++) {
				prom_begin(p, name);
				prom_label(p, "flag", pk_procfs_throttle_names[bit]);
				prom_value(p, (double)(b->throttle >> (shift + bit) & 1), 0);
			}
		}
	}
	if (d->ndisks > 0) {
		static const char *const dn[3] = {
			"perfkit_disk_read_bytes_per_second",
			"perfkit_disk_written_bytes_per_second",
			"perfkit_disk_util_ratio"
		};
		static const char *const dh[3] = {
			"Bytes read per second.", "Bytes written per second.",
			"Share of time the device was busy (0-1)."
		};

		for (k = 0; k < 3; k++) {
			prom_family(p, dn[k], dh[k]);
			for (i = 0; i < d->ndisks; i++) {
				prom_begin(p, dn[k]);
				prom_label(p, "dev", d->disks[i].name);
				prom_value(p, k == 0 ? d->disks[i].rd : k == 1 ?
				    d->disks[i].wr : d->disks[i].util / 100.0,
				    k == 2 ? 6 : 1);
			}
		}
	}
	if (d->nnets > 0) {
		for (k = 0; k < 2; k++) {
			const char *name = k == 0 ?
			    "perfkit_network_receive_bytes_per_second" :
			    "perfkit_network_transmit_bytes_per_second";

			prom_family(p, name, k == 0 ? "Bytes received per second." :
			    "Bytes transmitted per second.");
			for (i = 0; i < d->nnets; i++) {
				prom_begin(p, name);
				prom_label(p, "iface", d->nets[i].name);
				prom_value(p, k == 0 ? d->nets[i].rx :
				    d->nets[i].tx, 1);
			}
		}
	}
	if (o->cgroup != NULL) {
		if (d->have_cg_cpu) {
			prom_family(p, "perfkit_cgroup_cpu_ratio",
			    "CPU used by the cgroup, 1 = one full core.");
			prom_begin(p, "perfkit_cgroup_cpu_ratio");
			prom_label(p, "cgroup", o->cgroup);
			prom_value(p, d->cg_cpu_pct / 100.0, 6);
		}
		if (d->have_cg_throttle) {
			prom_family(p, "perfkit_cgroup_throttled_ratio",
			    "Share of time the cgroup was throttled.");
			prom_begin(p, "perfkit_cgroup_throttled_ratio");
			prom_label(p, "cgroup", o->cgroup);
			prom_value(p, d->cg_throttled_pct / 100.0, 6);
		}
		if (b->have_cg_mem_cur) {
			prom_family(p, "perfkit_cgroup_memory_bytes",
			    "memory.current of the cgroup.");
			prom_begin(p, "perfkit_cgroup_memory_bytes");
			prom_label(p, "cgroup", o->cgroup);
			prom_value(p, (double)b->cg_mem_cur, 0);
		}
		if (b->have_cg_mem_max && b->cg_mem_max != UINT64_MAX) {
			prom_family(p, "perfkit_cgroup_memory_max_bytes",
			    "memory.max of the cgroup.");
			prom_begin(p, "perfkit_cgroup_memory_max_bytes");
			prom_label(p, "cgroup", o->cgroup);
			prom_value(p, (double)b->cg_mem_max, 0);
		}
		prom_psi(p, "perfkit_cgroup_pressure_ratio", o->cgroup,
		    b->have_cg_psi, b->cg_psi);
	}
}

/*
 * Read one process. Returns 1 if it produced values, 0 if it is gone, -1
 * if it cannot be read now (out of file descriptors).
 */
static int
proc_read(struct sampler *sp, struct proc *p, uint64_t *ticks,
    uint64_t *threads, uint64_t *rss_kb, uint64_t *ctxsw, int *have_ctxsw,
    uint64_t *rb, uint64_t *wb, int *have_io)
{
	struct pk_procfs_pid ps;
	struct pk_procfs_err e;
	const char *buf;
	uint64_t v[2];
	unsigned found;
	size_t len;

	if (src_read(sp, &p->stat, &buf, &len) == -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
			if (!sp->warned_fds)
				pk_warn_errno("cannot follow pid %ld", p->pid);
			sp->warned_fds = 1;
			return -1;
		}
		return 0;
	}
	if (pk_procfs_pid_stat_parse(buf, len, &ps, &e) == -1) {
		src_bad(sp, &p->stat, &e);
		return 0;
	}
	memcpy(p->comm, ps.comm, sizeof(p->comm));
	*ticks = ps.utime + ps.stime;
	*threads = ps.threads;
	*rss_kb = ps.rss_pages * (uint64_t)sp->page_kb;
	/*
	 * Context switches: the switch-in count of /proc/PID/schedstat is
	 * a seventh of the cost of /proc/PID/status and moves with
	 * voluntary + involuntary switches (one switch in per switch out).
	 * A kernel without schedstats shows 0 there: then status it is.
	 */
	*have_ctxsw = 0;
	if (p->ctx_from != 2) {
		if (src_read(sp, &p->schedstat, &buf, &len) == 0) {
			uint64_t ss[3];

			if (pk_procfs_schedstat_parse(buf, len, ss, &e) == -1)
				src_bad(sp, &p->schedstat, &e);
			else if (ss[2] > 0 || p->ctx_from == 1) {
				p->ctx_from = 1;
				*ctxsw = ss[2];
				*have_ctxsw = 1;
			}
		} else if (errno == ESRCH)
			return 0;
	}
	if (p->ctx_from != 1) {
		if (src_read(sp, &p->status, &buf, &len) == 0) {
			p->ctx_from = 2;
			if (pk_procfs_keyval_parse(buf, len, status_keys, v,
			    &found, &e) == -1)
				src_bad(sp, &p->status, &e);
			if (found == 3) {
				*ctxsw = v[0] + v[1];
				*have_ctxsw = 1;
			}
		} else if (errno == ESRCH)
			return 0;
	}
	*have_io = 0;
	if (src_read(sp, &p->io, &buf, &len) == 0) {
		if (pk_procfs_keyval_parse(buf, len, io_keys, v, &found,
		    &e) == -1)
			src_bad(sp, &p->io, &e);
		if (found == 3) {
			*rb = v[0];
			*wb = v[1];
			*have_io = 1;
		}
	}
	return 1;
}

/*
 * Read every followed process, emit its proc record (JSON), and keep its
 * values for the next interval and for the Prometheus families.
 */
static void
sample_procs(struct sampler *sp, int emit, const struct snap *sn)
{
	const struct perf_sample_opts *o = sp->o;
	int json = o->format == FMT_JSON && o->textfile == NULL;
	struct pk_jw *w = &sp->w;
	unsigned i;

	for (i = 0; i < sp->nprocs; i++) {
		struct proc *p = &sp->procs[i];
		uint64_t ticks = 0, threads = 0, rss = 0, ctxsw = 0, rb = 0, wb = 0;
		int have_ctxsw = 0, have_io = 0, ok, r;
		double dt;

		if (!p->used)
			continue;
		p->out = 0;
		r = proc_read(sp, p, &ticks, &threads, &rss, &ctxsw,
		    &have_ctxsw, &rb, &wb, &have_io);
		if (r == -1)
			continue;	/* not readable now: not gone either */
		if (r == 0) {
			/*
			 * Gone (or never there): reported once at the next
			 * sample, then forgotten.
			 */
			if (!emit)
				continue;
			if (json) {
				jw_head(w, "proc", sn->wall);
				pk_jw_i64(w, "pid", p->pid);
				if (p->comm[0] != '\0')
					pk_jw_str(w, "comm", p->comm);
				pk_jw_bool(w, "gone", 1);
				pk_jw_obj_end(w);
				pk_out_line(w->buf, w->len);
			}
			proc_free(p);
			continue;
		}
		dt = sn->mono - p->mono;
		if (emit && p->have_prev && dt > 0) {
			p->out = 1;
			p->v[0] = (double)(ticks >= p->ticks ? ticks - p->ticks : 0) /
			    (double)sp->clk_tck / dt * 100.0;
			p->v[1] = (double)rss;
			p->v[2] = (double)threads;
			p->v[3] = rate(p->ctxsw, ctxsw, dt, &ok);
			p->vok[3] = have_ctxsw && p->have_ctxsw && ok;
			p->v[4] = rate(p->rbytes, rb, dt, &ok);
			p->vok[4] = have_io && p->have_io && ok;
			p->v[5] = rate(p->wbytes, wb, dt, &ok);
			p->vok[5] = have_io && p->have_io && ok;
		}
		if (p->out && json) {
			jw_head(w, "proc", sn->wall);
			pk_jw_i64(w, "pid", p->pid);
			pk_jw_str(w, "comm", p->comm);
			pk_jw_num(w, "cpu_pct", p->v[0], 2);
			pk_jw_u64(w, "rss_kb", rss);
			pk_jw_u64(w, "threads", threads);
			if (p->vok[3])
				pk_jw_num(w, "ctxsw_per_s", p->v[3], 1);
			if (p->vok[4]) {
				pk_jw_num(w, "read_bytes_per_s", p->v[4], 1);
				pk_jw_num(w, "write_bytes_per_s", p->v[5], 1);
			}
			pk_jw_obj_end(w);
			pk_out_line(w->buf, w->len);
		}
		p->ticks = ticks;
		p->ctxsw = ctxsw;
		p->have_ctxsw = have_ctxsw;
		p->rbytes = rb;
		p->wbytes = wb;
		p->have_io = have_io;
		p->mono = sn->mono;
		p->have_prev = 1;
	}
}

/* The process families of the Prometheus exposition, one family at a time. */
static void
prom_procs(struct sampler *sp)
{
	static const char *const names[6] = {
		"perfkit_process_cpu_ratio",
		"perfkit_process_resident_bytes",
		"perfkit_process_threads",
		"perfkit_process_context_switches_per_second",
		"perfkit_process_read_bytes_per_second",
		"perfkit_process_written_bytes_per_second"
	};
	static const char *const helps[6] = {
		"CPU used by the process, 1 = one full core.",
		"Resident set size.",
		"Number of threads.",
		"Voluntary and involuntary context switches per second.",
		"Bytes read from storage per second.",
		"Bytes written to storage per second."
	};
	struct prom pr = { &sp->w, 0 };
	unsigned i;
	int k;

	for (k = 0; k < 6; k++) {
		int any = 0;

		for (i = 0; i < sp->nprocs; i++) {
			struct proc *p = &sp->procs[i];
			char pid[24];

			if (!p->used || !p->out || (k >= 3 && !p->vok[k]))
				continue;
			if (!any)
				prom_family(&pr, names[k], helps[k]);
			any = 1;
			snprintf(pid, sizeof(pid), "%ld", p->pid);
			prom_begin(&pr, names[k]);
			prom_label(&pr, "pid", pid);
			prom_label(&pr, "comm", p->comm);
			prom_value(&pr, k == 0 ? p->v[0] / 100.0 : k == 1 ?
			    p->v[1] * 1024 : p->v[k], k == 0 ? 6 : 1);
		}
	}
}

static void
emit(struct sampler *sp)
{
	const struct perf_sample_opts *o = sp->o;

	derive(sp, &sp->d);
	if (o->format == FMT_JSON && o->textfile == NULL) {
		emit_sample_json(sp, &sp->d);
		pk_out_line(sp->w.buf, sp->w.len);
		sample_procs(sp, 1, sp->cur);
	} else {
		sample_procs(sp, 1, sp->cur);
		pk_jw_reset(&sp->w);
		emit_sample_prom(sp, &sp->d);
		prom_procs(sp);
		if (sp->w.oom)
			pk_die(PK_EXIT_IO, "out of memory");
		if (o->textfile != NULL) {
			if (pk_atomic_write(o->textfile, sp->w.buf, sp->w.len,
			    0644) == -1)
				pk_die_errno(PK_EXIT_IO, "cannot write '%s'",
				    o->textfile);
		} else
			pk_out_write(sp->w.buf, sp->w.len);
	}
	if (sp->w.oom)
		pk_die(PK_EXIT_IO, "out of memory");
	pk_out_record_done();
}

/* Sleep until the absolute monotonic deadline; 0, or -1 when stopped. */
static int
sleep_until(int64_t deadline)
{
	struct timespec ts = pk_ns_to_ts(deadline);
	int r;

	while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
	    NULL)) != 0) {
		if (r != EINTR) {
			errno = r;
			pk_die_errno(PK_EXIT_IO, "clock_nanosleep");
		}
		if (pk_stop)
			return -1;
	}
	return pk_stop ? -1 : 0;
}

static void
swap_snaps(struct sampler *sp)
{
	struct snap *t = sp->prev;

	sp->prev = sp->cur;
	sp->cur = t;
}

/* Up to four descriptors per followed process: allow what we may. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	struct sampler *sp;
	struct perf_sample_opts o;
	uint64_t n = 0;
	int64_t start, period, next;
	unsigned i;
	int status, k;

	pk_init(argv[0]);
	parse_opts(argc, argv, &o);

	/* Everything the loop needs, allocated once (mostly untouched slots). */
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	sp->o = &o;
	for (k = 0; k < NROOTS; k++)
		sp->rootfd[k] = -1;
	sp->rcap = 1 << 16;
	sp->rbuf = malloc(sp->rcap);
	if (sp->rbuf == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	pk_jw_init(&sp->w, 1 << 14);
	sp->clk_tck = sysconf(_SC_CLK_TCK);
	sp->page_kb = sysconf(_SC_PAGESIZE) / 1024;
	if (sp->clk_tck <= 0)
		sp->clk_tck = 100;
	if (sp->page_kb <= 0)
		sp->page_kb = 4;
	sp->prev = &sp->snaps[0];
	sp->cur = &sp->snaps[1];
	if (set_roots(sp) == -1)
		pk_die(PK_EXIT_IO, "no snapshot in '%s'", o.replay);
	discover(sp);
	for (i = 0; i < o.npids; i++)
		if (!proc_tracked(sp, o.pids[i]))
			(void)proc_add(sp, o.pids[i]);
	raise_nofile();
	pk_out_init(o.unbuffered);
	pk_sig_install(0);

	/* The first reading is the baseline of the first interval. */
	period = (int64_t)(o.interval * 1e9 + 0.5);
	start = pk_mono_ns();
	next = start;
	scan_comms(sp);
	take(sp, sp->prev);
	sample_procs(sp, 0, sp->prev);
	while (!pk_stop && (o.count == 0 || n < o.count)) {
		if (o.replay != NULL) {
			sp->step++;
			if (set_roots(sp) == -1)
				break;
		} else {
			int64_t now;

			next += period;
			now = pk_mono_ns();
			/* Missed deadlines are skipped, not caught up. */
			if (next <= now)
				next += ((now - next) / period + 1) * period;
			if (sleep_until(next) == -1)
				break;
		}
		take(sp, sp->cur);
		emit(sp);
		scan_comms(sp);
		pk_out_idle();
		swap_snaps(sp);
		n++;
	}

	status = pk_bad_finish(&sp->bad);
	if (sp->warned_fds)
		status = PK_EXIT_IO;
	pk_close_stdout();
	for (i = 0; i < sp->nprocs; i++)
		if (sp->procs[i].used)
			proc_free(&sp->procs[i]);
	src_close(&sp->stat);
	src_close(&sp->meminfo);
	src_close(&sp->loadavg);
	src_close(&sp->uptime);
	src_close(&sp->diskstats);
	src_close(&sp->netdev);
	src_close(&sp->throttle);
	for (k = 0; k < 3; k++) {
		src_close(&sp->psi[k]);
		src_close(&sp->cg_psi[k]);
	}
	src_close(&sp->cg_cpu);
	src_close(&sp->cg_mem_cur);
	src_close(&sp->cg_mem_max);
	for (i = 0; i < sp->nfreq; i++)
		src_close(&sp->freq[i]);
	for (i = 0; i < sp->nzones; i++)
		src_close(&sp->zones[i].temp);
	if (sp->procdir != NULL)
		closedir(sp->procdir);
	free(sp->seen);
	for (k = 0; k < NROOTS; k++)
		if (sp->rootfd[k] != -1)
			close(sp->rootfd[k]);
	pk_jw_release(&sp->w);
	free(sp->rbuf);
	free(sp);
	return status;
}
