#!/bin/sh
# A cron job for perf-alert, e.g. in /etc/cron.d/perf-alert:
#   */5 * * * * perfkit /usr/local/share/perfkit/examples/perf-alert-cron.sh
# When no perf-alert is running on the state directory (it holds its lock
# while it runs and delivers the spool itself), deliver what a stopped or
# crashed instance left in the spool (no input, so no new alerts). Then
# print the alert statistics (counts by rule and severity, MTTA, MTTR).
set -eu
config=${PERF_ALERT_CONFIG:-/etc/perfkit/alerts.yaml}
statedir=${PERF_ALERT_STATE_DIR:-/var/lib/perf-alert}
if [ ! -e "$statedir/lock" ] || flock -n "$statedir/lock" true; then
	perf-alert -c "$config" -s "$statedir" -w 60s </dev/null
fi
perf-alert stats -s "$statedir"
