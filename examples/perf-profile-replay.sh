#!/bin/sh
# Replay a recorded log through perf-profile with the example targets and
# list the bottlenecks it finds, one line each; then the day's summary.
# usage: perf-profile-replay.sh LOG.jsonl
set -eu
here=$(dirname "$0")
log=${1:?usage: perf-profile-replay.sh LOG.jsonl}
perf-profile -c "$here/perf-profile.yaml" "$log" |
    jq -r 'select(.type == "bottleneck") |
        "\(.ts) \(.component) \(.kind) \(.state) \(.severity): \(.hint)"'
perf-profile -c "$here/perf-profile.yaml" --summary "$log"
