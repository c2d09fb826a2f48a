/* SPDX-License-Identifier: MIT */
/*
 * perf-profile: rolling event-time profiles of the system and of each
 * component, edge-triggered bottleneck records with a root-cause hint,
 * and a bounded-memory summary of recorded logs.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_err.h"
#include "pk_io.h"
#include "pk_num.h"
#include "pk_opt.h"

#include "perf-profile.h"

static const char usage_str[] =
    "usage: perf-profile [-hjsu] [-c config] [-i interval] [-p preset]\n"
    "                    [-w window] [--leak-window span] [--strict]\n"
    "                    " PK_OUTLET_USAGE "\n"
    "                    [file ...]\n";

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "interval", required_argument, NULL, 'i' },
	{ "json", no_argument, NULL, 'j' },
	{ "preset", required_argument, NULL, 'p' },
	{ "summary", no_argument, NULL, 's' },
	{ "unbuffered", no_argument, NULL, 'u' },
	{ "window", required_argument, NULL, 'w' },
	{ "leak-window", required_argument, NULL, 'L' },
	{ "strict", no_argument, NULL, 'S' },
	PK_OUTLET_LONGOPTS,
	{ "version", no_argument, NULL, PK_OPT_VERSION },
	{ "list-options", no_argument, NULL, PK_OPT_LIST_OPTIONS },
	{ NULL, 0, NULL, 0 }
};

static const char options_str[] =
    "  -c, --config FILE     targets and windows (YAML)\n"
    "  -i, --interval DUR    profile records every DUR of event time "
    "(default: the window, 0 none)\n"
    "  -j, --json            with --summary: JSON lines, not a table\n"
    "  -p, --preset NAME     built-in targets: default or rpi\n"
    "  -s, --summary         no records: a summary at the end of input\n"
    "  -u, --unbuffered      flush after every record\n"
    "  -w, --window DUR      rolling window (default 60s)\n"
    "      --leak-window DUR the RSS trend of the leak check "
    "(default 10m)\n"
    "      --strict          the first bad line is fatal\n";

static const char options_end[] =
    "  -h, --help            this help\n"
    "      --version         print the version\n";

/* The options, then the checks: their kind, their config keys. */
static void
help(void)
{
	const struct check_type *ck;
	const struct check_key *key;
	size_t i, k, len;
	char *text;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		pk_die_errno(PK_EXIT_IO, "cannot write the help");
	fputs(options_str, f);
	fputs(pk_outlet_help, f);
	fputs(options_end, f);
	fputs("\nchecks, the kind of bottleneck each reports, and its config "
	    "keys=default\n(in parentheses the rpi preset's):\n", f);
	for (i = 0; i < nchecks; i++) {
		ck = checks[i];
		for (k = 0; k < CHECK_KEYS && ck->keys[k].name; k++) {
			key = &ck->keys[k];
			fprintf(f, "  %-13s %-11s %s%s=%g",
			    k == 0 ? ck->name : "", k == 0 ? ck->kind : "",
			    ck->scope == SCOPE_SYSTEM ? "system." : "",
			    key->name, key->def);
			if (key->rpi != key->def)
				fprintf(f, " (rpi %g)", key->rpi);
			fputc('\n', f);
		}
	}
	if (fclose(f) == EOF)
		pk_die_errno(PK_EXIT_IO, "cannot write the help");
	pk_help(usage_str, text);
}

static void
parse_opts(int argc, char **argv, struct perf_profile_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->window = o->interval = o->leak_window = NAN;
	while ((ch = getopt_long(argc, argv, "c:hi:jp:suw:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'h':
			help();
			break;
		case 'i':
			o->interval = pk_opt_duration(optarg, 0, 86400,
			    "--interval");
			break;
		case 'j':
			o->json = 1;
			break;
		case 'p':
			if (strcmp(optarg, "default") != 0 &&
			    strcmp(optarg, "rpi") != 0)
				pk_die(PK_EXIT_USAGE, "unknown preset '%s' "
				    "(default, rpi)", optarg);
			o->preset = optarg;
			break;
		case 's':
			o->summary = 1;
			break;
		case 'u':
			o->unbuffered = 1;
			break;
		case 'w':
			o->window = pk_opt_duration(optarg, 1, 86400,
			    "--window");
			break;
		case 'S':
			o->strict = 1;
			break;
		case 'L':
			o->leak_window = pk_opt_duration(optarg, 1, 7 * 86400,
			    "--leak-window");
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
			if (!pk_outlet_opt(&o->out, ch, optarg))
				pk_usage(usage_str);
		}
	}
	if (o->json && !o->summary)
		pk_die(PK_EXIT_USAGE, "--json needs --summary");
}

int
main(int argc, char **argv)
{
	struct perf_profile_opts o;
	struct state s;
	struct host *h;
	int status, ioerr;
	size_t j;

	pk_init(argv[0]);
	parse_opts(argc, argv, &o);
	argc -= optind;
	argv += optind;

	memset(&s, 0, sizeof(s));
	s.o = &o;
	if (conf_load(&s.conf, o.config, o.preset) == -1)
		exit(PK_EXIT_USAGE);
	if (!isnan(o.window))
		s.conf.window = o.window;
	if (!isnan(o.interval))
		s.conf.interval = o.interval;
	if (!isnan(o.leak_window))
		s.conf.leak_window = o.leak_window;
	if (isnan(s.conf.interval))
		s.conf.interval = s.conf.window;
	store_init(&s);
	if (o.summary)
		s.ep = pk_xreallocarray(NULL, MAX_EPISODES, sizeof(*s.ep));
	pk_jw_init(&s.jw, 4096);
	feed_init(&s);
	prom_start(&s);

	pk_out_init(o.unbuffered);
	pk_sig_install(1);
	ioerr = pk_filter_run(&s.f, argc, argv) == -1;

	/* The final profiles, as of each host's last event time. */
	for (j = 0; j < s.f.nhosts; j++) {
		h = s.f.hosts[j]->user;
		if (s.conf.interval > 0 && !isnan(h->clock))
			profile_host(&s, h, h->clock);
	}
	if (o.summary)
		summary(&s);
	prom_stop(&s);
	status = pk_filter_finish(&s.f);
	for (j = 0; j < s.f.nhosts; j++) {
		h = s.f.hosts[j]->user;
		free(h->name);
		free(h);
	}
	pk_filter_release(&s.f);
	store_release(&s);
	free(s.ep);
	pk_jw_release(&s.jw);
	pk_jpaths_release(&s.paths);
	conf_release(&s.conf);
	pk_close_stdout();
	if (ioerr)
		return PK_EXIT_IO;
	return status;
}
