/* SPDX-License-Identifier: MIT */
/* rt-loop's options, --help and --preflight. */
#include "rt-loop.h"

#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_rtcheck.h"

static const char usage_str[] =
    "usage: rt-loop [-hu] [-a cpu] [-D duration | -l loops] [-f hz] "
    "[-p prio] [--mlock]\n"
    "               [--workload name[:args] | --plugin lib.so[:args]] "
    "[--spin us]\n"
    "               [--report-interval time] [--histogram file] "
    "[--histogram-us n]\n"
    "               [--monitor-hz hz] [--pm-qos us] [--timer-slack ns]\n"
    "               [--max-latency-us [stat:]us] [--max-exec-us [stat:]us]\n"
    "               [--max-loop-us [stat:]us] [--max-jitter-us [stat:]us]\n"
    "               [--max-misses n | pct%]\n"
    "               [--monitor-workload name[:args]]\n"
    "               [--max-monitor-latency-us [stat:]us]\n"
    "               [--max-monitor-exec-us [stat:]us]\n"
    "               [--max-monitor-loop-us [stat:]us]\n"
    "               [--max-monitor-misses n | pct%]\n"
    "               [--stress Nx [--stress-mem] [--stress-phase time]]\n"
    "               " PK_OUTLET_USAGE "\n"
    "       rt-loop --preflight [--sysroot dir]\n";

enum {
	OPT_MLOCK = 0x100,
	OPT_WORKLOAD,
	OPT_PLUGIN,
	OPT_SPIN,
	OPT_REPORT,
	OPT_HIST,
	OPT_HIST_US,
	OPT_MONITOR,
	OPT_PMQOS,
	OPT_SLACK,
	OPT_PREFLIGHT,
	OPT_SYSROOT,
	OPT_LIST_WORKLOADS,
	OPT_MAX_LAT,
	OPT_MAX_EXEC,
	OPT_MAX_LOOP,
	OPT_MAX_JITTER,
	OPT_MAX_MISSES,
	OPT_STRESS,
	OPT_STRESS_MEM,
	OPT_STRESS_PHASE,
	OPT_MON_WORKLOAD,
	OPT_MAX_MON_LAT,
	OPT_MAX_MON_EXEC,
	OPT_MAX_MON_LOOP,
	OPT_MAX_MON_MISSES
};

static const struct option longopts[] = {
	{ "affinity", required_argument, NULL, 'a' },
	{ "duration", required_argument, NULL, 'D' },
	{ "freq", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "loops", required_argument, NULL, 'l' },
	{ "priority", required_argument, NULL, 'p' },
	{ "unbuffered", no_argument, NULL, 'u' },
	{ "mlock", no_argument, NULL, OPT_MLOCK },
	{ "workload", required_argument, NULL, OPT_WORKLOAD },
	{ "plugin", required_argument, NULL, OPT_PLUGIN },
	{ "spin", required_argument, NULL, OPT_SPIN },
	{ "report-interval", required_argument, NULL, OPT_REPORT },
	{ "histogram", required_argument, NULL, OPT_HIST },
	{ "histogram-us", required_argument, NULL, OPT_HIST_US },
	{ "monitor-hz", required_argument, NULL, OPT_MONITOR },
	{ "pm-qos", required_argument, NULL, OPT_PMQOS },
	{ "timer-slack", required_argument, NULL, OPT_SLACK },
	{ "max-latency-us", required_argument, NULL, OPT_MAX_LAT },
	{ "max-exec-us", required_argument, NULL, OPT_MAX_EXEC },
	{ "max-loop-us", required_argument, NULL, OPT_MAX_LOOP },
	{ "max-jitter-us", required_argument, NULL, OPT_MAX_JITTER },
	{ "max-misses", required_argument, NULL, OPT_MAX_MISSES },
	{ "stress", required_argument, NULL, OPT_STRESS },
	{ "stress-mem", no_argument, NULL, OPT_STRESS_MEM },
	{ "stress-phase", required_argument, NULL, OPT_STRESS_PHASE },
	{ "monitor-workload", required_argument, NULL, OPT_MON_WORKLOAD },
	{ "max-monitor-latency-us", required_argument, NULL, OPT_MAX_MON_LAT },
	{ "max-monitor-exec-us", required_argument, NULL, OPT_MAX_MON_EXEC },
	{ "max-monitor-loop-us", required_argument, NULL, OPT_MAX_MON_LOOP },
	{ "max-monitor-misses", required_argument, NULL, OPT_MAX_MON_MISSES },
	PK_OUTLET_LONGOPTS,
	{ "preflight", no_argument, NULL, OPT_PREFLIGHT },
	{ "sysroot", required_argument, NULL, OPT_SYSROOT },
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-workloads", no_argument, NULL, OPT_LIST_WORKLOADS },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
};

static const char help_head[] =
    "  -f, --freq HZ             loop frequency (default 1000)\n"
    "  -D, --duration TIME       run for TIME (\"10s\", \"5m\")\n"
    "  -l, --loops N             run N cycles (default: until SIGINT)\n"
    "  -p, --priority PRIO       SCHED_FIFO priority 1-99 (default 0: "
    "SCHED_OTHER)\n"
    "  -a, --affinity CPU        pin the loop to CPU\n"
    "      --mlock               mlockall(MCL_CURRENT|MCL_FUTURE)\n"
    "      --workload NAME[:ARGS] what runs each period:\n";

static const char help_mid[] =
    "      --plugin LIB.so[:ARGS] run rtloop_step() of a plugin\n"
    "      --spin US             sleep until US before the deadline, "
    "then spin\n"
    "      --report-interval T   a loop record every T (default 1s)\n"
    "      --histogram FILE      write a cyclictest-format histogram\n"
    "      --histogram-us N      its range in microseconds (default "
    "1000)\n"
    "      --monitor-hz HZ       watchdog thread reporting stalls\n"
    "      --monitor-workload NAME[:ARGS] and a check it runs each period\n"
    "      --pm-qos US           hold /dev/cpu_dma_latency at US\n"
    "      --timer-slack NS      the loop's timer slack (default 1)\n"
    "gates (any failed: status 1; STAT p50, p99 (default), p999, max, mean):\n"
    "      --max-latency-us [STAT:]US  wake-up latency\n"
    "      --max-exec-us [STAT:]US     execution time\n"
    "      --max-loop-us [STAT:]US     latency plus execution\n"
    "      --max-jitter-us [STAT:]US   wake-up latency less its minimum\n"
    "      --max-misses N|P%     periods run late or skipped\n"
    "      --stress Nx           N x nproc CPU hogs in every other phase "
    "(gates: loaded)\n"
    "      --stress-mem          and nproc memory-bandwidth hogs\n"
    "      --stress-phase T      a phase's length (default 1s)\n"
    "      --max-monitor-latency-us, --max-monitor-exec-us,\n"
    "      --max-monitor-loop-us [STAT:]US, --max-monitor-misses N|P%\n"
    "                            the same gates on the monitor's check\n";

static const char help_tail[] =
    "  -u, --unbuffered          flush after every record\n"
    "      --preflight           report real-time readiness as JSON\n"
    "      --sysroot DIR         read /proc and /sys below DIR "
    "(preflight)\n"
    "      --list-workloads      the workload names, one a line\n"
    "  -h, --help                this help\n"
    "      --version             print the version\n";

/* The options, the workloads' lines made from their table. */
static void
help(void)
{
	const struct pk_rtwork_type *const *t;
	char *text, *rows = pk_xstrdup(""), *line, *more;

	for (t = pk_rtwork_types; *t != NULL; t++) {
		line = pk_xasprintf("%s%s%s", (*t)->name,
		    (*t)->args != NULL ? ":" : "",
		    (*t)->args != NULL ? (*t)->args : "");
		more = pk_xasprintf("%s          %-18s %s\n", rows, line,
		    (*t)->help);
		free(line);
		free(rows);
		rows = more;
	}
	text = pk_xasprintf("%s%s%s%s%s", help_head, rows, help_mid,
	    pk_outlet_help, help_tail);
	free(rows);
	pk_help(usage_str, text);
}

/* --list-workloads: each row's name, with ':' where it takes ARGS. */
static void
list_workloads(void)
{
	const struct pk_rtwork_type *const *t;

	for (t = pk_rtwork_types; *t != NULL; t++)
		printf("%s%s\n", (*t)->name, (*t)->args != NULL ? ":" : "");
}

void
rt_parse_opts(int argc, char **argv, struct rt_opts *o)
{
	int c, has_d = 0, has_l = 0;
	double secs;

	memset(o, 0, sizeof(*o));
	o->hz = 1000;
	o->cpu = -1;
	o->workload = "none";
	o->report_ns = RT_NS;
	o->hist_us = 1000;
	o->pm_qos = -1;
	o->timer_slack_ns = 1;
	while ((c = getopt_long(argc, argv, "a:D:f:hl:p:u", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'a':
			o->cpu = (int)pk_opt_u64(optarg, 0, CPU_SETSIZE - 1,
			    "--affinity");
			break;
		case 'D':
			secs = pk_opt_duration(optarg, 1e-6, 1e7, "--duration");
			o->duration_ns = (int64_t)(secs * 1e9 + 0.5);
			has_d = 1;
			break;
		case 'f':
			o->hz = pk_opt_double(optarg, 0.01, 100000, "--freq");
			break;
		case 'h':
			help();
			break;
		case 'l':
			o->loops = pk_opt_u64(optarg, 1, UINT64_MAX / 2, "--loops");
			has_l = 1;
			break;
		case 'p':
			o->prio = (int)pk_opt_u64(optarg, 0, 99, "--priority");
			break;
		case 'u':
			o->unbuffered = 1;
			break;
		case OPT_MLOCK:
			o->mlock = 1;
			break;
		case OPT_WORKLOAD:
			o->workload = optarg;
			break;
		case OPT_PLUGIN:
			o->plugin = optarg;
			break;
		case OPT_SPIN:
			o->spin_ns = (int64_t)pk_opt_u64(optarg, 1, 1000000,
			    "--spin") * 1000;
			break;
		case OPT_REPORT:
			secs = pk_opt_duration(optarg, 0.001, 86400,
			    "--report-interval");
			o->report_ns = (int64_t)(secs * 1e9 + 0.5);
			break;
		case OPT_HIST:
			o->histfile = optarg;
			break;
		case OPT_HIST_US:
			o->hist_us = (unsigned)pk_opt_u64(optarg, 1, 1000000,
			    "--histogram-us");
			break;
		case OPT_MONITOR:
			o->monitor_hz = pk_opt_double(optarg, 1, 100000,
			    "--monitor-hz");
			break;
		case OPT_PMQOS:
			o->pm_qos = (long)pk_opt_u64(optarg, 0, 2000000000,
			    "--pm-qos");
			break;
		case OPT_SLACK:
			o->timer_slack_ns = (long)pk_opt_u64(optarg, 1,
			    1000000000, "--timer-slack");
			break;
		case OPT_MAX_LAT:
			rt_gate_parse_time(o, RT_GATE_LATENCY, optarg);
			break;
		case OPT_MAX_EXEC:
			rt_gate_parse_time(o, RT_GATE_EXEC, optarg);
			break;
		case OPT_MAX_LOOP:
			rt_gate_parse_time(o, RT_GATE_LOOP, optarg);
			break;
		case OPT_MAX_JITTER:
			rt_gate_parse_time(o, RT_GATE_JITTER, optarg);
			break;
		case OPT_MAX_MISSES:
			rt_gate_parse_misses(o, optarg);
			break;
		case OPT_STRESS:
			o->stress = pk_opt_factor(optarg, "--stress");
			break;
		case OPT_STRESS_MEM:
			o->stress_mem = 1;
			break;
		case OPT_STRESS_PHASE:
			secs = pk_opt_duration(optarg, 0.1, 3600,
			    "--stress-phase");
			o->phase_ns = (int64_t)(secs * 1e9 + 0.5);
			break;
		case OPT_MON_WORKLOAD:
			o->monitor_workload = optarg;
			break;
		case OPT_MAX_MON_LAT:
			rt_gate_parse_time(o, RT_GATE_MON_LATENCY, optarg);
			break;
		case OPT_MAX_MON_EXEC:
			rt_gate_parse_time(o, RT_GATE_MON_EXEC, optarg);
			break;
		case OPT_MAX_MON_LOOP:
			rt_gate_parse_time(o, RT_GATE_MON_LOOP, optarg);
			break;
		case OPT_MAX_MON_MISSES:
			rt_gate_parse_monitor_misses(o, optarg);
			break;
		case OPT_PREFLIGHT:
			o->preflight = 1;
			break;
		case OPT_SYSROOT:
			o->sysroot = optarg;
			break;
		case PK_OPT_VERSION:
			pk_print_version();
			pk_close_stdout();
			exit(PK_EXIT_OK);
		case OPT_LIST_WORKLOADS:
			list_workloads();
			pk_close_stdout();
			exit(PK_EXIT_OK);
		case PK_OPT_LIST_OPTIONS:
			pk_list_options(longopts);
			pk_close_stdout();
			exit(PK_EXIT_OK);
		default:
			if (!pk_outlet_opt(&o->out, c, optarg))
				pk_usage(usage_str);
		}
	}
	if (optind != argc) {
		pk_warn("unexpected operand '%s'", argv[optind]);
		pk_usage(usage_str);
	}
	if (has_d && has_l) {
		pk_warn("-D and -l exclude each other");
		pk_usage(usage_str);
	}
	if (o->plugin != NULL && strcmp(o->workload, "none") != 0) {
		pk_warn("--workload and --plugin exclude each other");
		pk_usage(usage_str);
	}
	if (o->sysroot != NULL && !o->preflight) {
		pk_warn("--sysroot goes with --preflight");
		pk_usage(usage_str);
	}
	if ((o->stress_mem || o->phase_ns > 0) && o->stress == 0) {
		pk_warn("--stress-mem and --stress-phase go with --stress");
		pk_usage(usage_str);
	}
	if (o->monitor_workload != NULL && o->monitor_hz <= 0) {
		pk_warn("--monitor-workload goes with --monitor-hz");
		pk_usage(usage_str);
	}
	if ((o->gates[RT_GATE_MON_LATENCY].on || o->gates[RT_GATE_MON_EXEC].on ||
	    o->gates[RT_GATE_MON_LOOP].on || o->mon_miss_gate) &&
	    o->monitor_workload == NULL) {
		pk_warn("the --max-monitor-* gates go with --monitor-workload");
		pk_usage(usage_str);
	}
	if (o->phase_ns == 0)
		o->phase_ns = RT_NS;
	o->period_ns = (int64_t)(1e9 / o->hz + 0.5);
	if (o->spin_ns >= o->period_ns) {
		pk_warn("--spin must be shorter than the period (%lld us)",
		    (long long)(o->period_ns / 1000));
		pk_usage(usage_str);
	}
}

int
rt_preflight(const struct rt_opts *o)
{
	json_t *rep;
	int ready;

	rep = pk_rtcheck_report(o->sysroot);
	if (rep == NULL)
		pk_die(PK_EXIT_IO, "out of memory");
	json_object_set_new(rep, "ts", json_real(pk_now()));
	json_object_set_new(rep, "host", json_string(pk_hostname()));
	ready = json_is_true(json_object_get(rep, "ready"));
	pk_emit_json(rep);
	json_decref(rep);
	pk_close_stdout();
	return ready ? PK_EXIT_OK : PK_EXIT_NEGATIVE;
}
