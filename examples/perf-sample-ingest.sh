#!/bin/bash
# An application's metrics in the pipeline, without glue: a fake camera
# sends StatsD over UDP (bash's /dev/udp, no nc or socat) to perf-sample,
# which merges them into its stream as metric records of component
# "camera" for perf-profile:
#
#   examples/perf-sample-ingest.sh [PORT [SECONDS]]
#   {"type":"metric",...,"component":"camera","fps":29}
#   {"type":"profile",...,"component":"camera",...,"fps":{"mean":29.5,...}}
#
# An application in any language does the same with its StatsD client
# pointed at 127.0.0.1:PORT, or writes JSON metric lines to a unix
# socket (--ingest unix:/run/user/$UID/perfkit/ingest).
set -eu
port=${1:-8125}
secs=${2:-10}

dir=$(mktemp -d)
mkfifo "$dir/pipe"
perf-profile -i 2s <"$dir/pipe" &
profiler=$!
perf-sample -m cpu,mem -i 1s --ingest "udp:127.0.0.1:$port" >"$dir/pipe" &
sampler=$!
# At the end perf-sample reads what is still queued and stops; then
# perf-profile sees the end of its input and stops too.
trap 'kill -TERM "$sampler" 2>/dev/null; wait "$sampler" "$profiler"; rm -rf "$dir"' EXIT
sleep 0.5

# The camera: 10 frames a second, its rate, latency and frames counted.
for ((i = 0; i < secs * 10; i++)); do
	fps=$((28 + i % 3))
	printf 'camera.fps:%d|g\ncamera.latency:%d|ms|#lens:front\ncamera.frames:1|c\n' \
	    "$fps" $((30 + i % 7)) >/dev/udp/127.0.0.1/"$port"
	sleep 0.1
done
