/* SPDX-License-Identifier: MIT */
/*
 * perf-alert: alert rules over perfkit records, on event time, with
 * escalation, acknowledgement, flap detection, and delivery through an
 * on-disk spool to webhooks, Alertmanager, SMTP, ntfy and commands.
 *
 * The records come through the front end every filter shares (pk_filter:
 * the paths the rules use scanned, one event clock per host); each is
 * passed through unchanged, evaluated (rules.c), and an `alert` record
 * follows it per transition. Notifications are written to the spool (one
 * fsync'd file each) and handed to the delivery scheduler
 * (pk_alert_sched, deliv.c), whose thread retries them with backoff until
 * a receiver (rx_*.c) accepts them; the spool file is removed only then.
 * When the disk fails, notifications and history lines wait in memory
 * (bounded by MEMCAP) and are written once it recovers: never fatal.
 * This file: the options, the setup, the subcommands, the end.
 */
#include "perf-alert.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_num.h"
#include "pk_opt.h"
#include "pk_subcmd.h"
#include "pk_time.h"

static const char usage_str[] =
    "usage: perf-alert [-hnu] [-c config] [-s statedir] [-w wait] [--strict]\n"
    "                  " PK_OUTLET_USAGE "\n"
    "                  [file ...]\n"
    "       perf-alert [-c config] [-s statedir] ack [-m comment] id ...\n"
    "       perf-alert [-c config] [-s statedir] stats\n"
    "       perf-alert [-c config] [-s statedir] requeue [name ...]\n";

/* The option codes without a short form. */
enum { OPT_LIST_RECEIVERS = 0x2000 };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "message", required_argument, NULL, 'm' },
	{ "check", no_argument, NULL, 'n' },
	{ "state-dir", required_argument, NULL, 's' },
	{ "unbuffered", no_argument, NULL, 'u' },
	{ "wait", required_argument, NULL, 'w' },
	{ "strict", no_argument, NULL, 'S' },
	{ "list-receivers", no_argument, NULL, OPT_LIST_RECEIVERS },
	PK_OUTLET_LONGOPTS,
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
};

/* The subcommands and the options each takes, before or after its name. */
static const int ack_opts[] = { 'c', 's', 'm', 0 };
static const int stats_opts[] = { 'c', 's', 0 };
static const int requeue_opts[] = { 'c', 's', 0 };
static const struct pk_subcmd subcmds[] = {
	{ "ack", ack_opts, 0, -1, cmd_ack },
	{ "stats", stats_opts, 0, 0, cmd_stats },
	{ "requeue", requeue_opts, 0, -1, cmd_requeue },
	{ NULL, NULL, 0, 0, NULL }
};

static void
help(void)
{
	fputs(usage_str, stdout);
	fputs("\n"
	    "  -c, --config FILE       the rules and receivers (YAML)\n"
	    "  -m, --message TEXT      ack: a comment recorded with the ack\n"
	    "  -n, --check             check the configuration and exit\n"
	    "  -s, --state-dir DIR     spool, history and acks (overrides state_dir)\n"
	    "  -u, --unbuffered        flush after every record\n"
	    "  -w, --wait DURATION     at the end of input, wait this long for\n"
	    "                          pending deliveries (default 10s)\n"
	    "      --strict            the first bad input line is fatal\n",
	    stdout);
	fputs(pk_outlet_help, stdout);
	fputs("      --list-receivers    the receiver types and their own keys\n"
	    "  -h, --help              this help\n"
	    "      --version           print the version\n"
	    "\n"
	    "The options of ack and stats may also follow the subcommand;\n"
	    "the metrics' options apply to the rules only.\n", stdout);
	pk_close_stdout();
	exit(PK_EXIT_OK);
}

/*
 * All the options, wherever they stand (getopt_long permutes): those of
 * a subcommand may come before or after its name, as in git.
 */
static int
parse_opts(struct alert_opts *o, struct pk_subcmd_seen *seen, int argc,
    char **argv)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "c:hm:ns:uw:", longopts,
	    NULL)) != -1) {
		pk_subcmd_seen(seen, ch);
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'h':
			help();
			break;
		case 'm':
			o->message = optarg;
			break;
		case 'n':
			o->check = 1;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'u':
			o->unbuffered = 1;
			break;
		case 'w':
			o->wait_s = pk_opt_duration(optarg, 0, 86400, "--wait");
			break;
		case 'S':
			o->strict = 1;
			break;
		case PK_OPT_VERSION:
			pk_print_version();
			pk_close_stdout();
			exit(PK_EXIT_OK);
		case OPT_LIST_RECEIVERS:
			receiver_types_list();
			pk_close_stdout();
			exit(PK_EXIT_OK);
		case PK_OPT_LIST_OPTIONS:
			pk_list_options(longopts);
			pk_subcmd_list(subcmds);
			pk_close_stdout();
			exit(PK_EXIT_OK);
		default:
			if (!pk_outlet_opt(&o->out, ch, optarg))
				pk_usage(usage_str);
		}
	}
	return optind;
}

int
main(int argc, char **argv)
{
	struct alert_opts o;
	struct alert_ctx x;
	const char *dir;
	struct pk_subcmd_seen seen = { { 0 }, 0 };
	int i, status, ran, ioerr;

	pk_init(argv[0]);
	memset(&o, 0, sizeof(o));
	o.wait_s = 10;
	i = parse_opts(&o, &seen, argc, argv);
	status = pk_subcmd_dispatch(subcmds, &seen, longopts, usage_str,
	    argc - i, argv + i, &o, &ran);
	if (ran)
		return status;
	if (o.message != NULL) {
		pk_warn("--message applies to ack only");
		pk_usage(usage_str);
	}
	if (o.config == NULL) {
		pk_warn("no configuration (-c)");
		pk_usage(usage_str);
	}
	memset(&x, 0, sizeof(x));
	x.o = &o;
	x.config_path = o.config;
	x.hist_fd = -1;
	x.lockfd = -1;
	if ((x.cfg = config_load(o.config)) == NULL)
		return PK_EXIT_USAGE;
	dir = o.state_dir ? o.state_dir : x.cfg->state_dir;
	if (dir == NULL && x.cfg->nrx > 0) {
		pk_warn("'%s': receivers need a state directory for the spool "
		    "(state_dir or -s)", o.config);
		config_free(x.cfg);
		return PK_EXIT_USAGE;
	}
	if (o.check) {
		config_free(x.cfg);
		pk_close_stdout();
		return PK_EXIT_OK;
	}
	pk_out_init(o.unbuffered);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		pk_die(PK_EXIT_IO, "cannot initialise libcurl");
	if (dir != NULL)
		state_open(&x, dir);
	for (size_t k = 0; k < x.cfg->nrules; k++)
		x.cfg->rules[k].absent_seen = pk_now();
	x.last_ts = -HUGE_VAL;
	if (x.statefile[0] != '\0')
		state_load(&x);
	alert_filter_init(&x);
	deliv_init(&x, dir);
	prom_start(&x);
	deliv_start(&x);
	pk_sig_install(1);
	ioerr = pk_filter_run(&x.f, argc - i, argv + i) == -1;
	housekeeping(&x);
	if (x.statefile[0] != '\0')
		state_save(&x);
	pk_out_idle();
	if (x.d.s.started)
		pk_alert_sched_drain(&x.d.s, o.wait_s);
	prom_stop(&x);
	deliv_stop(&x);
	state_close(&x);
	curl_global_cleanup();
	pk_close_stdout();
	status = pk_filter_finish(&x.f);
	alert_filter_release(&x);
	cfg_put(x.cfg);
	/* A disk that failed, even one that recovered, is status 4. */
	if ((ioerr || x.diskerr || x.d.s.diskerr) && status == PK_EXIT_OK)
		status = PK_EXIT_IO;
	return status;
}
