#!/bin/sh
# perf-alert beside jq: 20 rules over 1,000,000 sample records, every line
# passed through (jq: the line, and one object per rule that matches).
# Prints Markdown table rows; medians of 3 runs each, in the same run.
set -eu
: "${PK_BUILD:=$(cd "$(dirname "$0")/.." && pwd)/build}"
PATH=$PK_BUILD/bin:$PATH
N=${PERF_ALERT_BENCH_N:-1000000}
RUNS=3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$(dirname "$0")/gen-samples" "$N" >"$tmp/in.jsonl"

# The 20 conditions, for both programs.
cat >"$tmp/conds" <<'C'
cpu.util > 99.5
cpu.user > 99
cpu.system > 40
cpu.iowait > 4.99
mem.used_pct > 99.9
mem.avail_kb < 1000
swap.used_pct > 9.99
load.1 > 3.99
load.5 > 3.9
load.15 > 3.19
psi.cpu.some_avg10 > 19.99
psi.memory.some_avg10 > 4.999
psi.io.some_avg10 > 7.999
temp_c.cpu_thermal >= 84.9
throttle.now.under_voltage == true
cpu.util > 99 and mem.used_pct > 99
cpu.ncpu < 1
interval_s > 10
cpu.util < 0
temp_c.cpu_thermal < 45
C
{
	echo "rules:"
	i=0
	while read -r c; do
		i=$((i + 1))
		printf '  - {name: r%d, match: {type: sample}, when: "%s", flap: false}\n' "$i" "$c"
	done <"$tmp/conds"
} >"$tmp/rules.yaml"
prog='.'
i=0
while read -r c; do
	i=$((i + 1))
	jc=$(printf '%s' "$c" | sed -E 's/([a-z_]+(\.[a-z0-9_]+)+|interval_s)/.\1/g; s/\.load\.([0-9]+)/.load["\1"]/g; s/ and / and /')
	prog="$prog, (select(.type == \"sample\" and ($jc)) | {type: \"alert\", rule: \"r$i\", host})"
done <"$tmp/conds"

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
t() {
	s=$(date +%s.%N)
	"$@" >/dev/null
	e=$(date +%s.%N)
	echo "$s $e" | awk '{printf "%.4f\n", $2 - $1}'
}

for r in $(seq $RUNS); do
	t perf-alert -c "$tmp/rules.yaml" "$tmp/in.jsonl" >>"$tmp/pa"
	t jq -c "$prog" "$tmp/in.jsonl" >>"$tmp/jq"
done
# Both see every line: perf-alert passes all N through.
n=$(perf-alert -c "$tmp/rules.yaml" "$tmp/in.jsonl" | grep -c '"type":"sample"')
[ "$n" -eq "$N" ] || { echo "perf-alert bench: $n of $N lines passed" >&2; exit 1; }

pa=$(median <"$tmp/pa")
jqt=$(median <"$tmp/jq")
jqv=$(jq --version)
awk -v n="$N" -v a="$pa" -v b="$jqt" -v v="$jqv" 'BEGIN {
	printf "| perf-alert | %s | lines/s, 20 rules, %d samples | %.0f | %.0f | %.1fx |\n", v, n, n / a, n / b, b / a
}'
