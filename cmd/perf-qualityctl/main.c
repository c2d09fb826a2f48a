/* SPDX-License-Identifier: MIT */
/*
 * perf-qualityctl: resource pressure to a quality level, stable and
 * actuated. A filter: every record passes through unchanged, and a
 * `quality` record is interleaved on every level change and when the
 * impact of a change has been measured. The algorithm lives in
 * lib/pk_quality.c and is specified in perf-qualityctl(1); the units of
 * this folder are described in perf-qualityctl.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_opt.h"

#include "perf-qualityctl.h"

static const char usage_str[] =
    "usage: perf-qualityctl [-hnu] [-c config] [-d dir] [-e command] [-H host]\n"
    "                       [--strict]\n"
    "                       " PK_OUTLET_USAGE "\n"
    "                       [file ...]\n"
    "       perf-qualityctl [-d dir] set level\n"
    "       perf-qualityctl [-d dir] release\n"
    "       perf-qualityctl [-d dir] status\n";

enum { OPT_STRICT = 0x100 };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state-dir", required_argument, NULL, 'd' },
	{ "on-change", required_argument, NULL, 'e' },
	{ "help", no_argument, NULL, 'h' },
	{ "host", required_argument, NULL, 'H' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "unbuffered", no_argument, NULL, 'u' },
	{ "strict", no_argument, NULL, OPT_STRICT },
	PK_OUTLET_LONGOPTS,
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
};

static void
help(void)
{
	fputs(usage_str, stdout);
	fputs("\n"
	    "  -c, --config FILE      pressure terms, thresholds, levels, components\n"
	    "  -d, --state-dir DIR    state file and override (default:\n"
	    "                         $PERF_QUALITYCTL_DIR, $XDG_RUNTIME_DIR/perf-qualityctl,\n"
	    "                         /tmp/perf-qualityctl-UID)\n"
	    "  -e, --on-change CMD    run CMD (sh -c) on every level change\n"
	    "  -H, --host NAME        follow the records of host NAME (default:\n"
	    "                         the first host in the input)\n"
	    "  -n, --dry-run          records only: no state file, override, command\n"
	    "                         or renice (replaying a log beside a live run)\n"
	    "  -u, --unbuffered       flush after every record\n"
	    "      --strict           the first bad input line is fatal\n",
	    stdout);
	fputs(pk_outlet_help, stdout);
	fputs("  -h, --help             this help\n"
	    "      --version          print the version\n"
	    "\n"
	    "  set LEVEL              hold LEVEL (ULTRA_LOW LOW MEDIUM HIGH ULTRA_HIGH)\n"
	    "  release                give control back to the controller\n"
	    "  status                 print the state file\n", stdout);
	terms_help(stdout);
	pk_close_stdout();
	exit(PK_EXIT_OK);
}

int
main(int argc, char **argv)
{
	struct pk_subcmd_seen seen;
	struct qctl_opts o;
	struct config *c;
	struct qctl *q;
	char dirbuf[4096];
	int ch, ran, status;

	pk_init(argv[0]);
	memset(&o, 0, sizeof(o));
	memset(&seen, 0, sizeof(seen));
	while ((ch = getopt_long(argc, argv, "c:d:e:hH:nu", longopts,
	    NULL)) != -1) {
		pk_subcmd_seen(&seen, ch);
		switch (ch) {
		case 'c':
			o.config = optarg;
			break;
		case 'd':
			o.dir = optarg;
			o.dir_given = 1;
			break;
		case 'e':
			o.on_change = optarg;
			break;
		case 'h':
			help();
			break;
		case 'H':
			if (*optarg == '\0' || strlen(optarg) > PK_FILTER_HOST_MAX)
				pk_die(PK_EXIT_USAGE, "bad host name '%s'",
				    optarg);
			o.host = optarg;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'u':
			o.unbuffered = 1;
			break;
		case OPT_STRICT:
			o.strict = 1;
			break;
		case PK_OPT_VERSION:
			pk_print_version();
			pk_close_stdout();
			return PK_EXIT_OK;
		case PK_OPT_LIST_OPTIONS:
			pk_list_options(longopts);
			pk_subcmd_list(qctl_cmds);
			pk_close_stdout();
			return PK_EXIT_OK;
		default:
			if (!pk_outlet_opt(&o.out, ch, optarg))
				pk_usage(usage_str);
		}
	}
	argc -= optind;
	argv += optind;
	if (o.dir == NULL)
		o.dir = state_default_dir(dirbuf, sizeof(dirbuf));
	status = pk_subcmd_dispatch(qctl_cmds, &seen, longopts, usage_str,
	    argc, argv, (void *)o.dir, &ran);
	if (ran)
		return status;

	q = pk_xcalloc(1, sizeof(*q));
	if (o.dry_run) {
		/* Nothing outside standard output is read or touched. */
	} else if (state_open(q, o.dir) == -1) {
		if (o.dir_given) {
			free(q);
			return PK_EXIT_IO;
		}
		pk_warn("running without a state file");
	}
	if ((c = config_load(o.config)) == NULL) {
		free(q);
		return PK_EXIT_USAGE;
	}
	qctl_init(q, &o, c);
	prom_start(q);
	pk_out_init(o.unbuffered);
	pk_sig_install(1);
	status = qctl_run(q, argc, argv);
	status = qctl_finish(q, status);
	free(q);
	return status;
}
