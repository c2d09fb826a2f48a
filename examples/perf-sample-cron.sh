#!/bin/sh
# A node_exporter textfile from cron: one 5-second sample written
# atomically, so the collector never reads a half-written file.
#
#   * * * * * /usr/local/share/perfkit/perf-sample-cron.sh
#
# node_exporter must run with
#   --collector.textfile.directory=/var/lib/prometheus/node-exporter
# PERF_SAMPLE_ARGS adds options (e.g. "-c myrobot -g robot.slice").
out=${1:-/var/lib/prometheus/node-exporter/perfkit.prom}
# shellcheck disable=SC2086 # PERF_SAMPLE_ARGS is a list of words
exec perf-sample -n 1 -i 5s ${PERF_SAMPLE_ARGS:-} --textfile "$out"
