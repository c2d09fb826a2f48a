#!/bin/sh
# perf-profile beside jq over the same 1,000,000 sample lines (about 600
# bytes each, nested cpu/mem/psi/temp_c/disk/net objects): lines/s and max
# RSS, medians of 3 runs each. Prints Markdown table rows.
# PK_BENCH_LINES overrides the number of lines (for a quick try).
set -eu
: "${PK_BUILD:=$(cd "$(dirname "$0")/.." && pwd)/build}"
PATH=$PK_BUILD/bin:$PATH
n=${PK_BENCH_LINES:-1000000}
runs=3
dir=$(mktemp -d) || exit 4
trap 'rm -rf "$dir"' EXIT INT TERM
data=$dir/samples.jsonl

# Deterministic, realistic samples (values vary line to line).
awk -v n="$n" 'BEGIN {
	srand(1);
	for (i = 0; i < n; i++) {
		u = 5 + rand() * 94;
		printf "{\"type\":\"sample\",\"ts\":%.3f,\"host\":\"rpi4-bench\",\"interval_s\":1.0,", 1732300000 + i;
		printf "\"cpu\":{\"util\":%.2f,\"user\":%.2f,\"system\":%.2f,\"iowait\":%.2f,\"steal\":0.0,\"idle\":%.2f,\"ncpu\":4},", u, u * 0.7, u * 0.2, rand() * 5, 100 - u;
		printf "\"mem\":{\"total_kb\":3884400,\"avail_kb\":%d,\"used_pct\":%.2f},", 800000 + rand() * 1200000, 40 + rand() * 35;
		printf "\"swap\":{\"total_kb\":102396,\"used_kb\":0,\"used_pct\":0.0},\"load\":{\"1\":%.2f,\"5\":1.2,\"15\":0.9},", rand() * 4;
		printf "\"psi\":{\"cpu\":{\"some_avg10\":%.2f},\"memory\":{\"some_avg10\":0.0,\"full_avg10\":0.0},\"io\":{\"some_avg10\":%.2f,\"full_avg10\":0.1}},", rand() * 20, rand() * 3;
		printf "\"temp_c\":{\"cpu_thermal\":%.1f},\"temp_trip_c\":{\"cpu_thermal\":85.0},", 45 + rand() * 17;
		printf "\"disk\":{\"mmcblk0\":{\"read_bytes_per_s\":%d,\"write_bytes_per_s\":%d,\"util_pct\":%.1f}},", rand() * 90000, rand() * 400000, rand() * 9;
		printf "\"net\":{\"eth0\":{\"rx_bytes_per_s\":%d,\"tx_bytes_per_s\":%d}}}\n", rand() * 99999, rand() * 99999;
	}
}' >"$data"

# One timed run: prints "seconds maxrss_kb" of the command alone.
cc -O2 -o "$dir/maxrss" "$(dirname "$0")/../tests/helpers/perf-profile-maxrss.c"
timed() {
	"$dir/maxrss" "$@"
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

: >"$dir/pp"
: >"$dir/jq"
i=0
while [ "$i" -lt "$runs" ]; do
	timed perf-profile "$data" >>"$dir/pp"
	timed jq -c 'select(.cpu.util > 90)' "$data" >>"$dir/jq"
	i=$((i + 1))
done
pp_s=$(cut -d' ' -f1 "$dir/pp" | median)
jq_s=$(cut -d' ' -f1 "$dir/jq" | median)
pp_m=$(cut -d' ' -f2 "$dir/pp" | median)
jq_m=$(cut -d' ' -f2 "$dir/jq" | median)
jqv=$(jq --version | sed 's/^jq-//')
awk -v n="$n" -v ps="$pp_s" -v js="$jq_s" -v pm="$pp_m" -v jm="$jq_m" -v jv="$jqv" 'BEGIN {
	if (ps < 0.01) ps = 0.01;
	if (js < 0.01) js = 0.01;
	printf "| perf-profile | jq %s | lines/s, %d samples | %d | %d | %.1fx |\n", jv, n, n / ps, n / js, js / ps;
	printf "| perf-profile | jq %s | max RSS kB, %d samples | %d | %d | %.2fx |\n", jv, n, pm, jm, jm / pm;
}'

# --summary in bounded memory: 10x fewer lines must not need less memory.
small=$dir/small.jsonl
head -n $((n / 10)) "$data" >"$small"
s_m=$(timed perf-profile --summary "$small" | cut -d' ' -f2)
b=$(timed perf-profile --summary "$data")
b_s=${b% *}
b_m=${b#* }
awk -v n="$n" -v bs="$b_s" -v bm="$b_m" -v sm="$s_m" 'BEGIN {
	if (bs < 0.01) bs = 0.01;
	printf "| perf-profile --summary | itself on 1/10 of the input | max RSS kB, %d samples | %d | %d | %.2fx |\n", n, bm, sm, bm / sm;
	printf "| perf-profile --summary | - | lines/s, %d samples | %d | - | - |\n", n, n / bs;
}'
