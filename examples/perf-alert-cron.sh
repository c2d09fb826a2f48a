#!/bin/sh
# A cron job for perf-alert, e.g. in /etc/cron.d/perf-alert:
#   */5 * * * * perfkit /usr/local/share/perfkit/examples/perf-alert-cron.sh
# It delivers what a stopped or crashed instance left in the spool (no
# input, so no new alerts), then prints the alert statistics (counts by
# rule and severity, MTTA, MTTR) from the history.
set -eu
config=${PERF_ALERT_CONFIG:-/etc/perfkit/alerts.yaml}
statedir=${PERF_ALERT_STATE_DIR:-/var/lib/perf-alert}
perf-alert -c "$config" -s "$statedir" -w 60s </dev/null
perf-alert stats -s "$statedir"
