#!/bin/bash
# perf-sample beside its anchors, in one run: sar (sysstat) per sample,
# pidstat per followed PID, node_exporter per scrape, and the floor (the
# kernel's cost of the same files). CPU is user+system time from wait4(2)
# for runs we wait for, and from /proc/PID/task/*/schedstat for programs
# sampled side by side at 1 s (sar and pidstat cannot go faster) and for
# the node_exporter daemon. Every figure is the median of REPS repetitions;
# the ratio is anchor / perf-sample (how many times cheaper perf-sample is).
# Prints Markdown table rows on stdout (see docs/HACKING.md); under two
# minutes on a 2-core machine.
set -u
cd "$(dirname "$0")/.." || exit 4
: "${PK_BUILD:=$(pwd)/build}"
PATH=$PK_BUILD/bin:$PATH
REPS=${REPS:-3}
N=${N:-2000}		# perf-sample samples per run (-i 1ms)
WINDOW=${WINDOW:-6}	# seconds of side-by-side sampling at 1 s per rep
SCRAPES=${SCRAPES:-40}

command -v perf-sample >/dev/null || { echo "bench: build perf-sample first" >&2; exit 4; }

# measure CMD...: "cpu_us maxrss_kb wall_us" of one run (children included).
measure() {
	python3 - "$@" <<'EOF'
import os, sys, time
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit("bench: %s failed" % sys.argv[1])
print("%.1f %d %.1f" % ((ru.ru_utime + ru.ru_stime) * 1e6, ru.ru_maxrss, wall * 1e6))
EOF
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
	awk -v a="$1" -v p="$2" 'BEGIN { if (p > 0) printf "%.1fx", a / p; else print "n/a" }'
}

fmt() {
	awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f", v; else printf "%.2f", v }'
}

row() {
	printf '| perf-sample | %s | %s | %s | %s | %s |\n' "$1" "$2" "$(fmt "$3")" "$(fmt "$4")" "$(ratio "$4" "$3")"
}

# Ten long-lived processes to follow.
pids=()
for _ in 1 2 3 4 5 6 7 8 9 10; do
	sleep 600 &
	pids+=($!)
done
nx_pid=
cleanup() {
	kill "${pids[@]}" $nx_pid 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT
pidlist=$(IFS=,; echo "${pids[*]}")
pargs=()
for p in "${pids[@]}"; do
	pargs+=(-p "$p")
done

# The files a default perf-sample run reads on this machine, for the floor.
floor_files=()
for f in /proc/stat /proc/meminfo /proc/loadavg /proc/pressure/cpu \
    /proc/pressure/memory /proc/pressure/io /proc/diskstats /proc/net/dev \
    /sys/class/thermal/thermal_zone*/temp \
    /sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq \
    /sys/devices/platform/soc/soc:firmware/get_throttled; do
	[ -r "$f" ] && floor_files+=("$f")
done
floor=$PK_BUILD/tests/helpers/perf-sample-floor

# --- perf-sample: per sample, per extra PID, the floor ---
ps_sample=() ps_pid=() fl_sample=() fl_pid=()
for _ in $(seq "$REPS"); do
	read -r c1 _ _ < <(measure perf-sample -i 1ms -n 1)
	read -r cn _ _ < <(measure perf-sample -i 1ms -n "$N")
	read -r cp _ _ < <(measure perf-sample -i 1ms -n "$N" "${pargs[@]}")
	ps_sample+=("$(awk -v a="$cn" -v b="$c1" -v n="$N" 'BEGIN { print (a - b) / (n - 1) }')")
	ps_pid+=("$(awk -v a="$cp" -v b="$cn" -v n="$N" 'BEGIN { print (a - b) / n / 10 }')")
	if [ -x "$floor" ]; then
		read -r f1 _ _ < <(measure "$floor" 1 1000000 "${floor_files[@]}")
		read -r fn _ _ < <(measure "$floor" "$N" 1000000 "${floor_files[@]}")
		fl_sample+=("$(awk -v a="$fn" -v b="$f1" -v n="$N" 'BEGIN { print (a - b) / (n - 1) }')")
		pf=()
		for p in "${pids[@]}"; do
			pf+=("/proc/$p/stat" "/proc/$p/schedstat" "/proc/$p/io")
		done
		read -r fp _ _ < <(measure "$floor" "$N" 1000000 "${floor_files[@]}" "${pf[@]}")
		fl_pid+=("$(awk -v a="$fp" -v b="$fn" -v n="$N" 'BEGIN { print (a - b) / n / 10 }')")
	fi
done
s_sample=$(printf '%s\n' "${ps_sample[@]}" | median)
s_pid=$(printf '%s\n' "${ps_pid[@]}" | median)
if [ -x "$floor" ]; then
	a=$(printf '%s\n' "${fl_sample[@]}" | median)
	row "floor: pread of the same ${#floor_files[@]} files + sleep loop" \
	    "CPU µs per system-wide sample, -i 1ms, all default groups" "$s_sample" "$a"
	row "floor" "CPU µs per extra PID per sample, -i 1ms" "$s_pid" \
	    "$(printf '%s\n' "${fl_pid[@]}" | median)"
fi

# Peak RSS (VmHWM) of a process while it runs, read from outside.
hwm() {
	"$@" >/dev/null 2>&1 &
	local pid=$! v=
	sleep 1.5
	v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	wait "$pid"
	echo "${v:-0}"
}
s_rss=$(hwm perf-sample -i 100ms -n 20 -m +cores "${pargs[@]}")

# CPU nanoseconds of a process and its children so far: the sum of
# /proc/PID/task/*/schedstat (exact), or utime+stime ticks without it.
cpu_ns() {
	local p t sum=0 v
	for p in "$@" $(pgrep -P "$1" 2>/dev/null); do
		for t in /proc/"$p"/task/*; do
			if [ -r "$t/schedstat" ]; then
				read -r v _ <"$t/schedstat" 2>/dev/null || v=0
			else
				v=$(awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz * 1e9 }' "$t/stat" 2>/dev/null)
			fi
			sum=$(awk -v a="$sum" -v b="${v:-0}" 'BEGIN { printf "%.0f", a + b }')
		done
	done
	echo "$sum"
}

# --- at 1 s, side by side in one window: perf-sample and sar with the
# same groups (CPU, memory, swap, load, disk, net), and perf-sample and
# pidstat (CPU, memory, switches, I/O) following one and ten PIDs ---
if command -v sar >/dev/null && command -v pidstat >/dev/null; then
	w_ps=() w_sar=() w_pspid=() w_pid=() w_pscomm=() w_comm=()
	for _ in $(seq "$REPS"); do
		perf-sample -i 1s -m cpu,mem,swap,load,disk,net >/dev/null & a=$!
		sar -u -r -S -q -d -n DEV 1 >/dev/null & b=$!
		perf-sample -i 1s -m load -p "${pids[0]}" >/dev/null & c=$!
		perf-sample -i 1s -m load "${pargs[@]}" >/dev/null & d=$!
		pidstat -u -r -w -d -p "${pids[0]}" 1 >/dev/null & e=$!
		pidstat -u -r -w -d -p "$pidlist" 1 >/dev/null & f=$!
		# Following by name: the whole process table, every sample.
		perf-sample -i 1s -m load -c perfkit-none >/dev/null & g=$!
		pidstat -u -r -w -d -C perfkit-none 1 >/dev/null & h=$!
		sleep 1.5	# past start-up and the first sample
		t0=$(awk '{ print $1 }' /proc/uptime)
		c0=($(cpu_ns $a) $(cpu_ns $b) $(cpu_ns $c) $(cpu_ns $d) $(cpu_ns $e) $(cpu_ns $f) $(cpu_ns $g) $(cpu_ns $h))
		sleep "$WINDOW"
		t1=$(awk '{ print $1 }' /proc/uptime)
		c1=($(cpu_ns $a) $(cpu_ns $b) $(cpu_ns $c) $(cpu_ns $d) $(cpu_ns $e) $(cpu_ns $f) $(cpu_ns $g) $(cpu_ns $h))
		kill $a $b $c $d $e $f $g $h 2>/dev/null
		wait $a $b $c $d $e $f $g $h 2>/dev/null
		per() { awk -v x="$1" -v y="$2" -v t0="$t0" -v t1="$t1" -v k="$3" 'BEGIN { print (y - x) / 1000 / (t1 - t0) / k }'; }
		w_ps+=("$(per "${c0[0]}" "${c1[0]}" 1)")
		w_sar+=("$(per "${c0[1]}" "${c1[1]}" 1)")
		w_pspid+=("$(awk -v a="$(per "${c0[2]}" "${c1[2]}" 1)" -v b="$(per "${c0[3]}" "${c1[3]}" 1)" 'BEGIN { print (b - a) / 9 }')")
		w_pid+=("$(awk -v a="$(per "${c0[4]}" "${c1[4]}" 1)" -v b="$(per "${c0[5]}" "${c1[5]}" 1)" 'BEGIN { print (b - a) / 9 }')")
		w_pscomm+=("$(per "${c0[6]}" "${c1[6]}" 1)")
		w_comm+=("$(per "${c0[7]}" "${c1[7]}" 1)")
	done
	row "sar $(sar -V 2>&1 | awk 'NR==1{print $3}') (with sadc)" \
	    "CPU µs per system-wide sample, -i 1s, same groups" \
	    "$(printf '%s\n' "${w_ps[@]}" | median)" "$(printf '%s\n' "${w_sar[@]}" | median)"
	row "pidstat -urwd" "CPU µs per extra PID per sample, -i 1s" \
	    "$(printf '%s\n' "${w_pspid[@]}" | median)" "$(printf '%s\n' "${w_pid[@]}" | median)"
	row "pidstat -urwd -C" "CPU µs per sample following a name ($(ls -d /proc/[0-9]* | wc -l) processes), -i 1s" \
	    "$(printf '%s\n' "${w_pscomm[@]}" | median)" "$(printf '%s\n' "${w_comm[@]}" | median)"
	row "pidstat" "peak RSS KiB, following 10 PIDs" "$s_rss" \
	    "$(hwm pidstat -u -r -w -d -p "$pidlist" 1 3)"
fi

# --- node_exporter: CPU per scrape of a daemon we start ---
nx=$(command -v prometheus-node-exporter || command -v node_exporter)
if [ -n "$nx" ] && command -v curl >/dev/null; then
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	"$nx" --web.listen-address="127.0.0.1:$port" >/dev/null 2>&1 &
	nx_pid=$!
	for _ in $(seq 50); do
		curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break
		sleep 0.1
	done
	nx_s=()
	for _ in $(seq "$REPS"); do
		t0=$(cpu_ns "$nx_pid")
		for _ in $(seq "$SCRAPES"); do
			curl -sf "http://127.0.0.1:$port/metrics" >/dev/null
		done
		t1=$(cpu_ns "$nx_pid")
		nx_s+=("$(awk -v a="$t1" -v b="$t0" -v n="$SCRAPES" 'BEGIN { print (a - b) / 1000 / n }')")
	done
	a=$(printf '%s\n' "${nx_s[@]}" | median)
	nx_rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$nx_pid/status")
	v=$("$nx" --version 2>&1 | awk 'NR==1{print $3}')
	row "node_exporter $v" "CPU µs per sample (-i 1ms) / per scrape" "$s_sample" "$a"
	row "node_exporter" "peak RSS KiB" "$s_rss" "$nx_rss"
fi

# --- an exporter against an exporter: CPU per scrape of perf-sample
# --listen (sampling at each scrape; -i 1ms so that every scrape takes a
# reading) and of node_exporter with its default collectors, in the same
# run: SCRAPES_PS and SCRAPES_NX requests through one curl (one kept-alive
# connection) at 500 a second, 2 ms apart, so that no scrape of perf-sample
# comes within -i of the last and is served a cached one; CPU from
# utime+stime of /proc/PID/stat (every thread) before and after, at the
# clock tick's resolution, hence many scrapes ---
SCRAPES_PS=${SCRAPES_PS:-2000}
SCRAPES_NX=${SCRAPES_NX:-100}
# ticks PID: utime+stime of the process, in clock ticks.
ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
# per_scrape PID PORT N: CPU µs of PID per scrape over N scrapes.
per_scrape() {
	local cfg t0 t1
	cfg=$(mktemp) || exit 4
	awk -v n="$3" -v u="http://127.0.0.1:$2/metrics" 'BEGIN {
		for (i = 0; i < n; i++) printf "url = \"%s\"\noutput = \"/dev/null\"\n", u }' >"$cfg"
	t0=$(ticks "$1")
	curl --rate 500/s -sf -K "$cfg" ||
	    echo "bench: a scrape of port $2 failed" >&2
	t1=$(ticks "$1")
	rm -f "$cfg"
	awk -v a="$t0" -v b="$t1" -v n="$3" -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { print (b - a) / hz * 1e6 / n }'
}
if [ -n "$nx" ] && command -v curl >/dev/null; then
	pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	perf-sample --listen "127.0.0.1:$pport" -i 1ms >/dev/null 2>&1 &
	ps_pid=$!
	pids+=("$ps_pid")
	for _ in $(seq 50); do
		curl -sf "http://127.0.0.1:$pport/metrics" >/dev/null && break
		sleep 0.1
	done
	sc_ps=() sc_nx=()
	for _ in $(seq "$REPS"); do
		sc_ps+=("$(per_scrape "$ps_pid" "$pport" "$SCRAPES_PS")")
		sc_nx+=("$(per_scrape "$nx_pid" "$port" "$SCRAPES_NX")")
	done
	kill "$ps_pid" 2>/dev/null
	row "node_exporter $v (default collectors)" \
	    "CPU µs per scrape, --listen sampling at each scrape (utime+stime)" \
	    "$(printf '%s\n' "${sc_ps[@]}" | median)" "$(printf '%s\n' "${sc_nx[@]}" | median)"
fi

# Start-up: the median wall time of a -n 1 run less its 1 ms interval
# and less what exec of /bin/true costs on this machine (measured in the
# same hyperfine run), beside the issue's target; and the CPU time of
# the whole -n 1 run (two readings) beside /bin/true's.
if command -v hyperfine >/dev/null; then
	j=$(mktemp) || exit 4
	hyperfine -N -w 5 -r 100 --export-json "$j" "perf-sample -n 1 -i 1ms" \
	    /bin/true >/dev/null 2>&1
	read -r st cs ct < <(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["results"]
print("%.3f %.0f %.0f" % ((r[0]["median"] - r[1]["median"]) * 1000 - 1,
    (r[0]["user"] + r[0]["system"]) * 1e6, (r[1]["user"] + r[1]["system"]) * 1e6))' "$j")
	rm -f "$j"
	row "target 2 ms" "start-up wall ms (-n 1 run less 1 ms and exec of /bin/true)" "$st" 2
	row "/bin/true" "CPU µs of a whole -n 1 run (mean)" "$cs" "$ct"
fi
row "target 4096 KiB" "peak RSS KiB" "$s_rss" 4096
