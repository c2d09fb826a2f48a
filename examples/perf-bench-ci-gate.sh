#!/bin/sh
# A CI regression gate with perf-bench.
#
#   perf-bench-ci-gate.sh BASELINE COMMAND [ARG ...]
#
# The first time (no BASELINE file yet, e.g. on the main branch) it records
# the benchmark as the baseline. Afterwards it compares the command with
# the baseline and fails (status 1) when it is significantly slower than
# the threshold allows; the Markdown summary can go into a CI job summary.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 baseline command [arg ...]" >&2; exit 2; }
base=$1
shift
runs=${RUNS:-30}
# Stray slow runs of a busy CI machine are dropped (modified z-score > 3.5)
# on both sides, so they neither fake nor hide a regression.
threshold=${THRESHOLD:-10}

if [ ! -f "$base" ]; then
	exec perf-bench -r "$runs" --outliers drop -n gate --export-json "$base" -- "$@"
fi
if [ -n "${SUMMARY:-}" ]; then
	exec perf-bench -r "$runs" --outliers drop -n gate -b "$base" \
	    --threshold "$threshold" --export-markdown "$SUMMARY" -- "$@"
fi
exec perf-bench -r "$runs" --outliers drop -n gate -b "$base" \
    --threshold "$threshold" -- "$@"
