#!/bin/sh
# perf-bench beside hyperfine -N (no shell), in the same run, on the same
# commands with the same warm-up and run counts: the mean each reports for
# `true` (the fork-exec floor, where the harness overhead shows) and for
# `sleep 0.01` (accuracy on a known duration), and the elapsed time of the
# whole benchmark. Medians of REPS alternating repetitions; ratio =
# hyperfine / perf-bench, so above 1 means less overhead than hyperfine
# (the toolkit's convention: above 1, perfkit does better).
set -eu
: "${PK_BUILD:=$(cd "$(dirname "$0")/.." && pwd)/build}"
PATH=$PK_BUILD/bin:$PATH
REPS=${REPS:-5}
RUNS=${RUNS:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hfv=$(hyperfine --version | awk '{print $2}')

median() {
	sort -g | awk '{v[NR] = $1} END {
	    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

now_ns() { date +%s%N; }

# bench LABEL COMMAND...: rows for one workload.
bench() {
	label=$1
	shift
	: >"$tmp/pb" && : >"$tmp/hf" && : >"$tmp/pbt" && : >"$tmp/hft"
	i=0
	while [ "$i" -lt "$REPS" ]; do
		t0=$(now_ns)
		perf-bench -j --no-progress -w 3 -r "$RUNS" -- "$@" >"$tmp/pb.json"
		t1=$(now_ns)
		hyperfine -N --style none -w 3 -r "$RUNS" \
		    --export-json "$tmp/hf.json" -- "$*" >/dev/null 2>&1
		t2=$(now_ns)
		jq '.wall_s.mean * 1000' "$tmp/pb.json" >>"$tmp/pb"
		jq '.results[0].mean * 1000' "$tmp/hf.json" >>"$tmp/hf"
		echo "$t0 $t1 $t2" | awk '{print ($2 - $1) / 1e6}' >>"$tmp/pbt"
		echo "$t0 $t1 $t2" | awk '{print ($3 - $2) / 1e6}' >>"$tmp/hft"
		i=$((i + 1))
	done
	pb=$(median <"$tmp/pb")
	hf=$(median <"$tmp/hf")
	pbt=$(median <"$tmp/pbt")
	hft=$(median <"$tmp/hft")
	printf '| perf-bench | hyperfine %s -N | mean of `%s`, %s runs (ms) | %.3f | %.3f | %.2fx |\n' \
	    "$hfv" "$label" "$RUNS" "$pb" "$hf" "$(awk "BEGIN {print $hf / $pb}")"
	printf '| perf-bench | hyperfine %s -N | elapsed for `%s`, %s+3 runs (ms) | %.0f | %.0f | %.2fx |\n' \
	    "$hfv" "$label" "$RUNS" "$pbt" "$hft" "$(awk "BEGIN {print $hft / $pbt}")"
}

bench true true
bench "sleep 0.01" sleep 0.01
