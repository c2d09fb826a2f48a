#!/bin/sh
# Which disk is busy? Bytes read and written per second, one line per
# device and sample:
#
#   examples/perf-sample-oneliner.sh -i 1s -n 10
#   mmcblk0 1024000 512000
#
# Any perf-sample options may be given (the tests pass --replay DIR).
perf-sample -m disk "$@" |
    jq -r '.disk // {} | to_entries[] |
        "\(.key) \(.value.read_bytes_per_s) \(.value.write_bytes_per_s)"'
