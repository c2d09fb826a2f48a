#!/bin/bash
# The one-shape refactor (#20) against the tree before it, in the same run:
# perf-profile, perf-alert (20 rules) and perf-qualityctl lines/s, and
# perf-sample CPU per sample, each the median of REPS interleaved runs of
# the old and the new binary. The old tree is PK_BASE_REV (default: the
# last commit before the refactor), built into build/base. The ratio is
# new/old for lines/s and old/new for CPU: above 1, the new code is faster.
# Skipped (no rows) when the revision is not in this clone.
set -u
cd "$(dirname "$0")/.." || exit 4
: "${PK_BUILD:=$(pwd)/build}"
REV=${PK_BASE_REV:-f255271}
REPS=${REPS:-5}
N=${PK_BENCH_LINES:-500000}
base=$(pwd)/build/base
git rev-parse -q --verify "$REV^{commit}" >/dev/null 2>&1 || { echo "bench: $REV not in this clone, shape rows skipped" >&2; exit 0; }
if [ ! -x "$base/build/bin/perf-profile" ] || [ "$(cat "$base/REV" 2>/dev/null)" != "$REV" ]; then
	rm -rf "$base" && mkdir -p "$base"
	git archive "$REV" | tar -x -C "$base" || exit 4
	make -C "$base" -j2 -s >/dev/null 2>&1 || { echo "bench: cannot build $REV" >&2; exit 4; }
	echo "$REV" >"$base/REV"
fi
old=$base/build/bin
new=$PK_BUILD/bin
tmp=$(mktemp -d) || exit 4
trap 'rm -rf "$tmp"' EXIT

# measure CMD...: "cpu_us wall_us" of one run, stdout to /dev/null.
measure() {
	python3 - "$@" <<'PY'
import os, sys, time
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
print("%.1f %.1f" % ((ru.ru_utime + ru.ru_stime) * 1e6, wall * 1e6))
PY
}
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The same sample lines as bench/perf-alert.sh.
bench/gen-samples "$N" >"$tmp/in.jsonl"
i=0
{
	echo "rules:"
	for c in "cpu.util > 99.5" "cpu.user > 99" "cpu.system > 40" "cpu.iowait > 4.99" \
	    "mem.used_pct > 99.9" "mem.avail_kb < 1000" "swap.used_pct > 9.99" "load.1 > 3.99" \
	    "load.5 > 3.9" "load.15 > 3.19" "psi.cpu.some_avg10 > 19.99" "psi.memory.some_avg10 > 4.999" \
	    "psi.io.some_avg10 > 7.999" "temp_c.cpu_thermal >= 84.9" "throttle.now.under_voltage == true" \
	    "cpu.util > 99 and mem.used_pct > 99" "cpu.ncpu < 1" "interval_s > 10" "cpu.util < 0" \
	    "temp_c.cpu_thermal < 45"; do
		i=$((i + 1))
		printf '  - {name: r%d, match: {type: sample}, when: "%s", flap: false}\n' "$i" "$c"
	done
} >"$tmp/rules.yaml"

# lines/s, old and new interleaved: "name | args..."
filter_row() {
	local name=$1 what=$2
	shift 2
	: >"$tmp/o"
	: >"$tmp/n"
	for _ in $(seq "$REPS"); do
		measure "$old/$name" "$@" | cut -d' ' -f2 >>"$tmp/o"
		measure "$new/$name" "$@" | cut -d' ' -f2 >>"$tmp/n"
	done
	awk -v n="$N" -v o="$(median <"$tmp/o")" -v w="$(median <"$tmp/n")" \
	    -v p="$name" -v r="$REV" -v what="$what" 'BEGIN {
		printf "| %s | itself at %s, before the one shape | lines/s, %s, %d samples | %d | %d | %.2fx |\n",
		    p, r, what, n, n / (w / 1e6), n / (o / 1e6), o / w }'
}
filter_row perf-profile "default checks" "$tmp/in.jsonl"
filter_row perf-alert "20 rules" -c "$tmp/rules.yaml" "$tmp/in.jsonl"
filter_row perf-qualityctl "dry run" -n "$tmp/in.jsonl"

# perf-sample: CPU per sample at -i 1ms, all default groups.
: >"$tmp/o"
: >"$tmp/n"
S=2000
for _ in $(seq "$REPS"); do
	measure "$old/perf-sample" -i 1ms -n "$S" | cut -d' ' -f1 >>"$tmp/o"
	measure "$new/perf-sample" -i 1ms -n "$S" | cut -d' ' -f1 >>"$tmp/n"
done
awk -v s="$S" -v o="$(median <"$tmp/o")" -v w="$(median <"$tmp/n")" -v r="$REV" 'BEGIN {
	printf "| perf-sample | itself at %s, before the one shape | CPU µs per sample, -i 1ms, default groups | %.1f | %.1f | %.2fx |\n",
	    r, w / s, o / s, o / w }'
