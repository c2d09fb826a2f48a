#!/bin/sh
# A camera pipeline that follows perf-qualityctl: before each frame it
# reads the state file (replaced atomically, so never seen half-written),
# takes the settings of its own component ("camera") or the global ones,
# and captures, encodes and skips frames accordingly.
#
#   perf-sample -i 1s | perf-qualityctl -c examples/perf-qualityctl.yaml &
#   examples/perf-qualityctl-camera.sh "$XDG_RUNTIME_DIR/perf-qualityctl/state.json" 100
#
# usage: perf-qualityctl-camera.sh [state-file] [frames]
state=${1:-${PERF_QUALITYCTL_DIR:-${XDG_RUNTIME_DIR:-/tmp}/perf-qualityctl}/state.json}
frames=${2:-10}
width=1920 height=1080
level=ULTRA_HIGH scale=1.0 quality=95 skip=0 roi=1.0 features=

n=0 skipped=1000
while [ "$n" -lt "$frames" ]; do
	if [ -r "$state" ]; then
		# One jq call per frame is fine for a demo; a real pipeline
		# re-reads only when the file's mtime changes.
		set -- $(jq -r '(.components.camera // .) as $c |
		    [$c.level, $c.settings.resolution_scale,
		     $c.settings.compression_quality, $c.settings.frame_skip,
		     $c.settings.roi_scale,
		     ($c.settings.features | join(",") | if . == "" then "-" else . end)] |
		    @tsv' "$state")
		level=$1 scale=$2 quality=$3 skip=$4 roi=$5 features=$6
	fi
	if [ "$skipped" -lt "$skip" ]; then
		# frame_skip N: one frame in N + 1 is processed.
		skipped=$((skipped + 1))
		echo "frame $n: skipped ($level)"
	else
		skipped=0
		w=$(awk -v a="$width" -v s="$scale" 'BEGIN { printf "%d", a * s }')
		h=$(awk -v a="$height" -v s="$scale" 'BEGIN { printf "%d", a * s }')
		echo "frame $n: $level ${w}x${h} jpeg q$quality roi $roi features $features"
	fi
	n=$((n + 1))
done
