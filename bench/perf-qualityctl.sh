#!/bin/sh
# perf-qualityctl beside jq -c . (the pass-through anchor): lines/s over
# 1,000,000 sample lines, median of 3 runs each, in the same run.
set -eu
: "${PK_BUILD:=$(cd "$(dirname "$0")/.." && pwd)/build}"
PATH=$PK_BUILD/bin:$PATH
N=${PK_BENCH_LINES:-1000000}
REPS=${PK_BENCH_REPS:-3}
tmp=$(mktemp -d) || exit 4
trap 'rm -rf "$tmp"' EXIT

# Samples as perf-sample writes them; the load swings so that the
# controller changes level now and then (the records it adds are counted
# as output, the lines/s are input lines).
awk -v n="$N" 'BEGIN {
	for (i = 0; i < n; i++) {
		u = 50 + 45 * sin(i / 300.0)
		printf "{\"type\":\"sample\",\"ts\":%.3f,\"host\":\"bench\",\"interval_s\":1,\"cpu\":{\"util\":%.1f,\"user\":%.1f,\"system\":5.0,\"iowait\":0.5,\"idle\":%.1f,\"ncpu\":4},\"mem\":{\"total_kb\":3884096,\"avail_kb\":2000000,\"used_pct\":48.5},\"load\":{\"1\":1.2,\"5\":1.1,\"15\":0.9},\"temp_c\":{\"cpu_thermal\":%.1f},\"temp_trip_c\":{\"cpu_thermal\":85.0}}\n", 1732300000 + i, u, u - 5, 99.5 - u, 45 + u / 4
	}
}' >"$tmp/in.jsonl"

# Median wall time of REPS runs of a command, in seconds.
median() {
	for _ in $(seq "$REPS"); do
		s=$(date +%s.%N)
		"$@" <"$tmp/in.jsonl" >/dev/null
		e=$(date +%s.%N)
		awk -v s="$s" -v e="$e" 'BEGIN { print e - s }'
	done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

export PERF_QUALITYCTL_DIR="$tmp/state"
qc=$(median perf-qualityctl)
jqt=$(median jq -c .)
awk -v n="$N" -v a="$qc" -v b="$jqt" -v jv="$(jq --version | sed 's/^jq-//')" 'BEGIN {
	printf "| perf-qualityctl | jq %s -c . | lines/s, 1M samples | %d | %d | %.1fx |\n",
	    jv, n / a, n / b, b / a
}'
