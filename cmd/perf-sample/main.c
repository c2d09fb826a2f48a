/* SPDX-License-Identifier: MIT */
/*
 * perf-sample: system, process and cgroup metrics, one JSON line (or one
 * Prometheus exposition) per interval, on a drift-free schedule.
 *
 * Every file is opened once and re-read with pread(2) into one reused
 * buffer; the parsers live in lib/pk_procfs.c; the metric groups are rows
 * of one table (groups.c), each in its own file, and one walk over their
 * metric descriptors writes the record (lib/pk_jw.c), another the
 * exposition (lib/pk_prom.c), both into reused buffers. A steady state
 * allocates nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "perf-sample.h"
#include "pk_err.h"
#include "pk_io.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_time.h"

static const char usage_str[] =
    "usage: perf-sample [-hu] [-c comm] [-f json|prom|none] [-g cgroup]\n"
    "                   [-i interval] [-m metrics] [-n count] [-o textfile]\n"
    "                   [-p pid] [--listen addr:port] [--push url]\n"
    "                   [--procfs dir] [--sysfs dir] [--replay dir]\n"
    "                   [--ingest unix:path|udp:addr:port] [--ingest-max n]\n";

enum {
	OPT_PROCFS = 0x100, OPT_SYSFS, OPT_REPLAY, OPT_LIST_GROUPS, OPT_INGEST,
	OPT_INGEST_MAX
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
	{ "listen", required_argument, NULL, PK_OPT_LISTEN },
	{ "push", required_argument, NULL, PK_OPT_PUSH },
	{ "push-interval", required_argument, NULL, PK_OPT_PUSH_INTERVAL },
	{ "push-delete", no_argument, NULL, PK_OPT_PUSH_DELETE },
	{ "procfs", required_argument, NULL, OPT_PROCFS },
	{ "sysfs", required_argument, NULL, OPT_SYSFS },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "ingest", required_argument, NULL, OPT_INGEST },
	{ "ingest-max", required_argument, NULL, OPT_INGEST_MAX },
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ "list-groups", no_argument, NULL, OPT_LIST_GROUPS },
	{ NULL, 0, NULL, 0 }
};

/* The options; the groups of -m, from the table. */
PK_NORETURN static void
help(void)
{
	static const char head[] =
	    "  -c, --comm NAME       a proc record for every process named NAME\n"
	    "  -f, --format FMT      on standard output: json (the default\n"
	    "                        without an outlet), prom (Prometheus\n"
	    "                        text) or none (the default with one)\n"
	    "  -g, --cgroup PATH     cgroup v2 CPU, memory and pressure\n"
	    "  -h, --help            this help\n"
	    "  -i, --interval DUR    time between samples (default 1s)\n"
	    "  -m, --metrics LIST    groups, by commas, or all; +LIST adds to\n"
	    "                        the default (*):\n";
	static const char tail[] =
	    "  -n, --count N         stop after N samples (default: never;\n"
	    "                        1 with -f prom on standard output)\n"
	    "  -o, --textfile FILE   write each sample atomically to FILE in the\n"
	    "                        Prometheus text format (node_exporter)\n"
	    "  -p, --pid PID         a proc record for process PID\n"
	    "  -u, --unbuffered      flush after every record\n"
	    "      --listen ADDR:PORT\n"
	    "                        serve the metrics at GET /metrics\n"
	    "                        (127.0.0.1 unless ADDR is given); with\n"
	    "                        no other output, sample at each scrape\n"
	    "      --push URL        push each sample to a Pushgateway\n"
	    "      --push-interval DUR\n"
	    "                        every DUR (default 15s) and at the end\n"
	    "      --push-delete     delete the pushed group at the end\n"
	    "      --procfs DIR      read procfs from DIR (default /proc)\n"
	    "      --sysfs DIR       read sysfs from DIR (default /sys)\n"
	    "      --replay DIR      step through snapshots DIR/0, DIR/1, ...\n"
	    "                        (each with proc/ and sys/) instead of sleeping\n"
	    "      --ingest unix:PATH|udp:ADDR:PORT\n"
	    "                        merge the StatsD and JSON metric lines\n"
	    "                        sent to this datagram socket (repeatable)\n"
	    "      --ingest-max N    datagrams an interval, more are dropped\n"
	    "                        (default 10000)\n"
	    "      --list-groups     the groups of -m, one a line\n"
	    "      --version         print the version\n";
	char text[4096];
	size_t len = (size_t)snprintf(text, sizeof(text), "%s", head);
	unsigned i;

	for (i = 0; i < ps_ngroups && len < sizeof(text); i++) {
		const struct ps_group *g = ps_groups[i];
		char name[32];

		if (g->flags & PS_GRP_HIDDEN)
			continue;
		snprintf(name, sizeof(name), "%s%s", g->name,
		    g->flags & PS_GRP_DEFAULT ? "*" : "");
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "                          %-9s %s\n", name, g->help);
	}
	if (len < sizeof(text))
		snprintf(text + len, sizeof(text) - len, "%s", tail);
	pk_help(usage_str, text);
}

PK_NORETURN static void
list_groups(void)
{
	unsigned i;

	for (i = 0; i < ps_ngroups; i++)
		if (!(ps_groups[i]->flags & PS_GRP_HIDDEN))
			printf("%s\n", ps_groups[i]->name);
	pk_close_stdout();
	exit(PK_EXIT_OK);
}

static void
parse_opts(int argc, char **argv, struct perf_sample_opts *o)
{
	int ch, fmt = -1;

	memset(o, 0, sizeof(*o));
	o->interval = 1;
	o->groups = ps_groups_default();
	o->format = PS_FMT_JSON;
	o->procfs = "/proc";
	o->sysfs = "/sys";
	o->ingest_max = 10000;
	while ((ch = getopt_long(argc, argv, "c:f:g:hi:m:n:o:p:u", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (o->ncomms == PS_MAXARGS)
				pk_die(PK_EXIT_USAGE, "too many --comm options "
				    "(at most %d)", PS_MAXARGS);
			if (*optarg == '\0' || strlen(optarg) > 15)
				pk_die(PK_EXIT_USAGE, "--comm '%s': a process "
				    "name has 1 to 15 bytes", optarg);
			o->comms[o->ncomms++] = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				fmt = PS_FMT_JSON;
			else if (strcmp(optarg, "prom") == 0)
				fmt = PS_FMT_PROM;
			else if (strcmp(optarg, "none") == 0)
				fmt = PS_FMT_NONE;
			else
				pk_die(PK_EXIT_USAGE, "--format '%s': expected "
				    "json, prom or none", optarg);
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
			o->groups = ps_groups_parse(optarg);
			break;
		case 'n':
			o->count = pk_opt_u64(optarg, 1, UINT64_MAX, "--count");
			break;
		case 'o':
			(void)pk_outlet_opt(&o->out, PK_OPT_TEXTFILE, optarg);
			break;
		case 'p':
			if (o->npids == PS_MAXARGS)
				pk_die(PK_EXIT_USAGE, "too many --pid options "
				    "(at most %d)", PS_MAXARGS);
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
		case OPT_INGEST:
			if (o->ningest == PK_INGEST_MAXSRC)
				pk_die(PK_EXIT_USAGE, "too many --ingest options "
				    "(at most %d)", PK_INGEST_MAXSRC);
			if (strncmp(optarg, "unix:", 5) != 0 &&
			    strncmp(optarg, "udp:", 4) != 0)
				pk_die(PK_EXIT_USAGE, "--ingest '%s': expected "
				    "unix:PATH or udp:ADDR:PORT", optarg);
			o->ingest[o->ningest++] = optarg;
			break;
		case OPT_INGEST_MAX:
			o->ingest_max = pk_opt_u64(optarg, 1, UINT64_MAX,
			    "--ingest-max");
			break;
		case OPT_LIST_GROUPS:
			list_groups();
		case PK_OPT_VERSION:
			pk_print_version();
			pk_close_stdout();
			exit(PK_EXIT_OK);
		case PK_OPT_LIST_OPTIONS:
			pk_list_options(longopts);
			pk_close_stdout();
			exit(PK_EXIT_OK);
		default:
			if (!pk_outlet_opt(&o->out, ch, optarg))
				pk_usage(usage_str);
		}
	}
	if (optind != argc)
		pk_usage(usage_str);
	o->groups = ps_groups_resolve(o->groups);
	/* With an outlet, standard output has nothing unless asked. */
	o->format = fmt != -1 ? fmt : ps_outlets(o) ? PS_FMT_NONE : PS_FMT_JSON;
	/*
	 * Expositions one after another are not an exposition: promtool and
	 * every scraper reject the repeated families. On standard output the
	 * Prometheus format is one sample; -o rewrites a file every interval.
	 */
	if (o->format == PS_FMT_PROM) {
		if (o->count > 1)
			pk_die(PK_EXIT_USAGE, "--format prom writes one "
			    "exposition to standard output: -n 1, or -o FILE "
			    "to rewrite a text file every interval");
		o->count = 1;
	}
	if (o->format == PS_FMT_NONE && !ps_outlets(o))
		pk_die(PK_EXIT_USAGE, "--format none: no output at all "
		    "(add --listen, --push or -o)");
	/*
	 * An exporter and nothing else samples when it is scraped, as
	 * node_exporter does: no schedule, no sample nobody reads.
	 */
	o->scrape = o->out.listen != NULL && o->out.push == NULL &&
	    o->out.textfile == NULL && o->format == PS_FMT_NONE &&
	    o->replay == NULL;
	if (o->scrape && o->count != 0)
		pk_die(PK_EXIT_USAGE, "--count: --listen alone samples at each "
		    "scrape and runs until stopped (-f json or -o gives a "
		    "schedule to count)");
	if (o->ningest > 0 && (o->format != PS_FMT_JSON || o->replay != NULL))
		pk_die(PK_EXIT_USAGE, "--ingest: the metric records go to "
		    "standard output as JSON on the live schedule (-f json, "
		    "no --replay)");
	if (o->replay != NULL && (strcmp(o->procfs, "/proc") != 0 ||
	    strcmp(o->sysfs, "/sys") != 0))
		pk_die(PK_EXIT_USAGE, "--replay takes proc/ and sys/ from its "
		    "snapshots: --procfs and --sysfs do not apply");
}

/* Whether an outlet is asked for. */
int
ps_outlets(const struct perf_sample_opts *o)
{
	return o->out.textfile != NULL || o->out.listen != NULL ||
	    o->out.push != NULL;
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
ingest_emit(void *ctx, const char *rec, size_t len)
{
	(void)ctx;
	pk_out_line(rec, len);
	pk_out_record_done();
}

/*
 * With ingest sockets the sleep is a wait on them: until the absolute
 * monotonic deadline, every datagram that comes is parsed and its records
 * go out at once (flushed when the sockets are idle). 0, or -1 when
 * stopped.
 */
static int
wait_until(int64_t deadline, struct pk_ingest *in)
{
	struct pollfd pfd[PK_INGEST_MAXSRC];
	unsigned i;

	if (in->n == 0)
		return sleep_until(deadline);
	for (i = 0; i < in->n; i++) {
		pfd[i].fd = in->src[i].fd;
		pfd[i].events = POLLIN;
	}
	while (!pk_stop) {
		int64_t now = pk_mono_ns();
		struct timespec ts;
		int r;

		if (now >= deadline)
			return 0;
		ts = pk_ns_to_ts(deadline - now);
		r = ppoll(pfd, in->n, &ts, NULL);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			pk_die_errno(PK_EXIT_IO, "poll");
		}
		if (r == 0)
			continue;
		for (i = 0; i < in->n; i++)
			if (pfd[i].revents != 0)
				pk_ingest_read(in, i, pk_now(), ingest_emit,
				    NULL);
		pk_out_idle();
	}
	return -1;
}

/* The interval's ingest record, and a line for what went wrong in it. */
static void
ingest_interval(struct pk_ingest *in, double ts, double interval,
    struct pk_jw *w)
{
	struct pk_ingest_counts iv;
	char first[sizeof(in->first_bad)];

	if (!pk_ingest_interval(in, ts, interval, w, &iv, first,
	    sizeof(first)))
		return;
	pk_out_line(w->buf, w->len);
	pk_out_record_done();
	if (iv.bad != 0 || iv.dropped != 0 || iv.kernel_dropped != 0)
		pk_warn("ingest: %llu bad, %llu dropped over the cap of %llu, "
		    "%llu dropped by the kernel of %llu datagrams in the last "
		    "interval%s%s", (unsigned long long)iv.bad,
		    (unsigned long long)iv.dropped,
		    (unsigned long long)in->cap,
		    (unsigned long long)iv.kernel_dropped,
		    (unsigned long long)iv.datagrams,
		    first[0] ? "; first bad: " : "", first);
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
	struct perf_sample_opts o;
	struct ps_sampler *sp;
	uint64_t n = 0;
	int64_t period, next;
	struct pk_ingest in;
	int status;
	unsigned i;

	pk_init(argv[0]);
	parse_opts(argc, argv, &o);
	if (pk_ingest_init(&in, pk_hostname(), o.ingest_max) == -1)
		pk_die(PK_EXIT_IO, "out of memory");
	for (i = 0; i < o.ningest; i++) {
		char err[512];

		if (pk_ingest_add(&in, o.ingest[i], err, sizeof(err)) == -1)
			pk_die(PK_EXIT_IO, "--ingest %s", err);
	}

	/* Everything the loop needs, allocated once (mostly untouched slots). */
	sp = pk_xcalloc(1, sizeof(*sp));
	ps_init(sp, &o);
	raise_nofile();
	pk_out_init(o.unbuffered);
	pk_sig_install(0);

	/* The first reading is the baseline of the first interval. */
	period = (int64_t)(o.interval * 1e9 + 0.5);
	next = pk_mono_ns();
	ps_procs_scan(sp);
	ps_take(sp);
	ps_procs_sample(sp, 0);
	ps_swap(sp);
	ps_outlet_start(sp);
	if (o.scrape)
		ps_serve(sp);
	while (!o.scrape && !pk_stop && (o.count == 0 || n < o.count)) {
		if (o.replay != NULL) {
			sp->step++;
			if (ps_set_roots(sp) == -1)
				break;
		} else {
			int64_t now;

			next += period;
			now = pk_mono_ns();
			/* Missed deadlines are skipped, not caught up. */
			if (next <= now)
				next += ((now - next) / period + 1) * period;
			if (wait_until(next, &in) == -1)
				break;
		}
		ps_take(sp);
		ps_emit(sp);
		if (in.n > 0)
			ingest_interval(&in, sp->wall[sp->cur],
			    sp->mono[sp->cur] - sp->mono[sp->prev], &sp->w);
		ps_procs_scan(sp);
		pk_out_idle();
		ps_swap(sp);
		n++;
	}

	/* What the senders sent before the end is read and counted. */
	if (in.n > 0) {
		unsigned got;

		do {
			got = 0;
			for (i = 0; i < in.n; i++)
				got += pk_ingest_read(&in, i, pk_now(),
				    ingest_emit, NULL);
		} while (got > 0 && in.iv.datagrams < 16 * (in.cap + 1024));
		ingest_interval(&in, pk_now(), 0, &sp->w);
	}
	ps_outlet_stop(sp);
	status = pk_bad_finish(&sp->bad);
	if (o.ningest > 0)
			pk_warn("ingest: %llu datagrams, %llu records, %llu bad, "
			    "%llu dropped over the cap, %llu dropped by the "
			    "kernel", (unsigned long long)in.total.datagrams,
			    (unsigned long long)in.total.records,
			    (unsigned long long)in.total.bad,
			    (unsigned long long)in.total.dropped,
			    (unsigned long long)in.total.kernel_dropped);
	if (in.total.bad != 0 && status == PK_EXIT_OK)
		status = PK_EXIT_DATA;
	pk_ingest_release(&in);
	if (ps_procs_fd_trouble(sp) || ps_outlet_failed(sp))
		status = PK_EXIT_IO;
	pk_close_stdout();
	ps_release(sp);
	free(sp);
	return status;
}
