#!/usr/bin/env bats
# rt-loop: counts and structure, never latencies (the machines are shared).

load common

RTFIX=$FIXTURES/rt-loop

# The records of one event from a run's output on stdin.
rec() {
	jq -c "select(.event==\"$1\")"
}

setup_file() {
	# The test plugins are built here, like a user would build one.
	local d=$BATS_FILE_TMPDIR
	cc -std=c11 -fPIC -shared -o "$d/plugin-nostep.so" \
	    "$FIXTURES/rt-loop/plugin-nostep.c"
	cc -std=c11 -fPIC -shared -o "$d/plugin-stall.so" \
	    "$FIXTURES/rt-loop/plugin-stall.c"
	cc -std=c11 -fPIC -shared -o "$d/plugin-alloc.so" \
	    "$FIXTURES/rt-loop/plugin-alloc.c"
	cc -std=c11 -fPIC -shared -o "$d/count-alloc.so" \
	    "$FIXTURES/rt-loop/count-alloc.c" -ldl -lpthread
}

@test "-h prints the usage and the options on stdout" {
	run -0 --separate-stderr rt-loop -h
	assert_line --index 0 --partial "usage: rt-loop [-hu]"
	assert_output --partial "--workload NAME[:ARGS]"
	[ -z "$stderr" ]
}

@test "a bad option is a usage error" {
	run -2 --separate-stderr rt-loop --bogus
	[ -z "$output" ]
	[[ $stderr == *"usage: rt-loop"* ]]
}

@test "a bad frequency is a usage error naming it" {
	for f in 0 -5 abc 1e9 ""; do
		run -2 --separate-stderr rt-loop -f "$f" -l 1
		[[ $stderr == "rt-loop: --freq '$f'"* ]] ||
		    fail "-f '$f': $stderr"
		[ -z "$output" ]
	done
}

@test "operands, -D with -l, --spin as long as the period: usage errors" {
	run -2 --separate-stderr rt-loop -l 1 input.jsonl
	[[ $stderr == *"unexpected operand 'input.jsonl'"* ]]
	run -2 --separate-stderr rt-loop -l 1 -D 1s
	[[ $stderr == *"exclude each other"* ]]
	run -2 --separate-stderr rt-loop -l 1 -f 1000 --spin 1000
	[[ $stderr == *"--spin must be shorter than the period"* ]]
	run -2 --separate-stderr rt-loop -l 1 -a 1000
	[[ $stderr == *"CPU 1000 is not available"* ]]
	run -2 --separate-stderr rt-loop -l 1 --workload mlp:1,2
	[[ $stderr == "rt-loop: --workload: mlp:IN,HIDDEN,OUT wants"* ]]
	run -2 --separate-stderr rt-loop -l 1 --workload nope
	[[ $stderr == "rt-loop: --workload: unknown workload 'nope'"* ]]
}

@test "-l N runs exactly N cycles, and the intervals add up to them" {
	run -0 --separate-stderr rt-loop -f 1000 -l 50 --report-interval 10ms
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 jq -s -c '[.[] | select(.event=="interval") | .ticks] | add' \
	    "$BATS_TEST_TMPDIR/out"
	assert_output 50
	run -0 jq -c 'select(.event=="summary") | [.ticks, .dropped, .interrupted]' \
	    "$BATS_TEST_TMPDIR/out"
	assert_output '[50,0,false]'
	# Interval records: numbered, one per 10 ms of loop time, complete.
	run -0 jq -c 'select(.event=="interval") |
	    [.type, (.seq|type), .interval_s, (.lat_us|keys), (.exec_us|keys),
	     (.loop_us|keys), (.jitter_us >= 0), (.misses >= 0)]' \
	    "$BATS_TEST_TMPDIR/out"
	assert_line --index 0 '["loop","number",0.01,["max","mean","min","p50","p99","p999","sd"],["max","mean","min","p50","p99","p999","sd"],["max","mean","min","p50","p99","p999","sd"],true,true]'
	# The first record is the start record.
	run -0 jq -c 'select(.event=="start") |
	    [.freq_hz, .period_us, .workload, .loops, .policy]' \
	    "$BATS_TEST_TMPDIR/out"
	assert_output '[1000,1000,"none",50,"SCHED_OTHER"]'
}

@test "-D counts every period: ticks + skipped = duration x frequency" {
	run -0 --separate-stderr rt-loop -f 1000 -D 200ms -p 80
	echo "$output" | jq -e -s 'map(select(.event=="summary"))[0] |
	    .ticks + .skipped == 200'
}

@test "the RT thread makes no system call but clock_nanosleep once started" {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -f -qq -o "$BATS_TEST_TMPDIR/trace" true 2>/dev/null ||
	    skip "ptrace is not permitted here"
	# LeakSanitizer cannot run under a tracer.
	ASAN_OPTIONS=detect_leaks=0 run -0 strace -f -qq \
	    -o "$BATS_TEST_TMPDIR/trace" rt-loop -f 2000 -l 300 -p 80 \
	    --workload mlp:16,64,4 --monitor-hz 2000 --histogram \
	    "$BATS_TEST_TMPDIR/hist"
	t=$BATS_TEST_TMPDIR/trace
	tid=$(awk '/PR_SET_NAME, "rt-loop-rt"/ { print $1 }' "$t")
	[ -n "$tid" ] || fail "no RT thread marker in the trace"
	# Between the two markers, the RT thread's calls.
	awk -v t="$tid" '$1 == t' "$t" | awk '
	    /"rt-loop-end"/ { exit }
	    on == 1 && /<\.\.\. prctl resumed>/ { on = 2; next }
	    on { on = 2; print }
	    /"rt-loop-rt"/ { on = 1 }' >"$BATS_TEST_TMPDIR/rt"
	run -0 awk '!/ clock_nanosleep\(/ && !/<\.\.\. clock_nanosleep resumed>/' \
	    "$BATS_TEST_TMPDIR/rt"
	assert_output ""
	# One sleep per cycle.
	run -0 grep -c ' clock_nanosleep(' "$BATS_TEST_TMPDIR/rt"
	assert_output 300
}

@test "the RT thread allocates nothing and locks no mutex (LD_PRELOAD counter)" {
	if ldd "$(command -v rt-loop)" | grep -q libasan; then
		skip "the sanitizer's allocator cannot be interposed"
	fi
	c=$BATS_TEST_TMPDIR/count
	RT_LOOP_COUNT_FILE=$c LD_PRELOAD=$BATS_FILE_TMPDIR/count-alloc.so \
	    run -0 rt-loop -l 300 -f 2000 -p 80 --workload mlp:16,64,4 \
	    --monitor-hz 2000 --report-interval 10ms --histogram "$BATS_TEST_TMPDIR/h"
	read -r rt all <"$c"
	[ "$rt" -eq 0 ] || fail "$rt allocations or locks in the RT thread"
	[ "$all" -gt 0 ] || fail "the counter counted nothing at all"
	# The counter does see a plugin that allocates in its step.
	RT_LOOP_COUNT_FILE=$c LD_PRELOAD=$BATS_FILE_TMPDIR/count-alloc.so \
	    run -0 rt-loop -l 100 --plugin "$BATS_FILE_TMPDIR/plugin-alloc.so"
	read -r rt all <"$c"
	[ "$rt" -eq 200 ] || fail "expected 100 mallocs + 100 frees, got $rt"
}

@test "scrapes never reach the RT thread: it allocates and locks nothing meanwhile" {
	if ldd "$(command -v rt-loop)" | grep -q libasan; then
		skip "the sanitizer's allocator cannot be interposed"
	fi
	c=$BATS_TEST_TMPDIR/count
	port=$(pk_free_port)
	RT_LOOP_COUNT_FILE=$c LD_PRELOAD=$BATS_FILE_TMPDIR/count-alloc.so \
	    rt-loop -l 2000 -f 2000 -p 80 --workload constraints:100 \
	    --report-interval 10ms --listen "127.0.0.1:$port" \
	    --textfile "$BATS_TEST_TMPDIR/rt.prom" >/dev/null 2>&1 3>&- &
	pid=$!
	pk_wait_port "$port" 10 || fail "nothing listens on $port"
	n=0
	while kill -0 "$pid" 2>/dev/null; do
		curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics" 2>/dev/null &&
		    n=$((n + 1))
	done
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ] || fail "status $st"
	[ "$n" -gt 0 ] || fail "no scrape was served"
	read -r rt all <"$c"
	[ "$rt" -eq 0 ] || fail "$rt allocations or locks in the RT thread"
	[ "$all" -gt 0 ] || fail "the counter counted nothing at all"
}

@test "workloads run: mlp, constraints, spin (which takes at least its time)" {
	run -0 --separate-stderr rt-loop -l 20 --workload mlp:8,32,2
	echo "$output" | rec summary | jq -e '.ticks == 20'
	run -0 --separate-stderr rt-loop -l 20 --workload constraints:100
	echo "$output" | rec summary | jq -e '.ticks == 20'
	run -0 --separate-stderr rt-loop -l 10 -f 100 --workload spin:300
	echo "$output" | rec summary | jq -e '
	    .ticks == 10 and .exec_us.min >= 300'
	echo "$output" | rec start | jq -e '.workload == "spin:300"'
}

# The workloads as --workload takes them ("spin:US"), one a line, from the
# error message that lists the table.
table_specs() {
	run -2 --separate-stderr rt-loop -l 1 --workload '?'
	printf '%s\n' "$stderr" | sed -n "s/^rt-loop: --workload: unknown workload '?' (\(.*\))$/\1/p" |
	    sed 's/, /\n/g'
}

@test "the workloads come from one table: --list-workloads, --help, errors" {
	table_specs >"$BATS_TEST_TMPDIR/specs"
	grep -qx none "$BATS_TEST_TMPDIR/specs" || fail "no table in: $stderr"
	run -0 --separate-stderr rt-loop --list-workloads
	[ -z "$stderr" ]
	assert_equal "$output" "$(sed 's/:.*/:/' "$BATS_TEST_TMPDIR/specs")"
	run -0 rt-loop --help
	while read -r spec; do
		# The spec as a regular expression: its brackets are literal.
		re=$(printf '%s' "$spec" | sed 's/[][]/\\&/g')
		assert_line --regexp "^          $re +[^ ]"
	done <"$BATS_TEST_TMPDIR/specs"
	# A row named without its ARGS, or a row without ARGS given some.
	run -2 --separate-stderr rt-loop -l 1 --workload spin
	assert_equal "$stderr" "rt-loop: --workload: spin:US wants 1 to 10000000 microseconds, not ''"
	run -2 --separate-stderr rt-loop -l 1 --workload none:5
	assert_equal "$stderr" "rt-loop: --workload: none takes no arguments, not '5'"
}

@test "the man page documents every workload of the table, and no other" {
	# .It Cm mlp : Ns Ar in , Ns Ar hidden , Ns Ar out -> mlp:in,hidden,out
	awk '/^\.It Fl -workload/ { on = 1; next }
	    on && /^\.El/ { exit }
	    on && /^\.It Cm / { sub(/^\.It /, ""); gsub(/(Cm|Ns|Ar) /, "");
	        gsub(/ /, ""); print }' "$ROOT/man/rt-loop.1" >"$BATS_TEST_TMPDIR/man"
	table_specs | tr '[:upper:]' '[:lower:]' >"$BATS_TEST_TMPDIR/table"
	[ -s "$BATS_TEST_TMPDIR/table" ]
	diff -u "$BATS_TEST_TMPDIR/table" "$BATS_TEST_TMPDIR/man"
}

@test "memtouch touches every cache line each period, the checksum says so" {
	run -0 --separate-stderr rt-loop -l 20 --workload memtouch:64
	echo "$output" | rec start | jq -e '.workload == "memtouch:64"'
	# 1024 lines; step t overwrites t mod 256: 1024 * (0 + 1 + ... + 19).
	echo "$output" | rec summary | jq -e '
	    .ticks == 20 and .work_errors == 0 and
	    .work_counters == {"checksum": 194560}'
	run -2 --separate-stderr rt-loop -l 1 --workload memtouch:0
	[[ $stderr == "rt-loop: --workload: memtouch:KB wants 1 to 1048576 KiB, not '0'" ]]
}

@test "the summary carries a workload's counters, and only where it has some" {
	run -0 --separate-stderr rt-loop -l 20 --workload constraints:100
	echo "$output" | rec summary | jq -e '
	    (.work_counters | keys) == ["violations"] and
	    (.work_counters.violations | type) == "number"'
	run -0 --separate-stderr rt-loop -l 5 --workload mlp:4,8,2
	echo "$output" | rec summary | jq -e 'has("work_counters") | not'
	run -0 --separate-stderr rt-loop -l 5 \
	    --plugin "$PK_BUILD/examples/rt-loop-plugin.so"
	echo "$output" | rec summary | jq -e 'has("work_counters") | not'
}

@test "every built-in workload: nothing allocated or locked in the RT thread" {
	if ldd "$(command -v rt-loop)" | grep -q libasan; then
		skip "the sanitizer's allocator cannot be interposed"
	fi
	c=$BATS_TEST_TMPDIR/count
	for wl in memtouch:256 constraints:1000 spin:10 none; do
		RT_LOOP_COUNT_FILE=$c LD_PRELOAD=$BATS_FILE_TMPDIR/count-alloc.so \
		    run -0 rt-loop -l 200 -f 2000 -p 80 --mlock --workload "$wl"
		read -r rt all <"$c"
		[ "$rt" -eq 0 ] || fail "$wl: $rt allocations or locks in the RT thread"
		[ "$all" -gt 0 ] || fail "the counter counted nothing at all"
	done
}

@test "--spin: the loop still runs every cycle" {
	run -0 --separate-stderr rt-loop -l 30 -f 1000 --spin 100
	echo "$output" | rec start | jq -e '.spin_us == 100'
	echo "$output" | rec summary | jq -e '.ticks == 30'
}

@test "the example plugin runs, and its errors are counted" {
	run -0 --separate-stderr rt-loop -l 100 \
	    --plugin "$PK_BUILD/examples/rt-loop-plugin.so:100"
	echo "$output" | rec start | jq -e '
	    .workload == "plugin" and (.plugin | endswith(".so:100"))'
	# The derivative kick of the first step saturates the output once.
	echo "$output" | rec summary | jq -e '
	    .ticks == 100 and .work_errors == 1'
	run -2 --separate-stderr rt-loop -l 1 \
	    --plugin "$PK_BUILD/examples/rt-loop-plugin.so:notanumber"
	[[ $stderr == *"rtloop_init failed"* ]]
}

@test "a plugin missing a symbol is refused with status 2, naming it" {
	run -2 --separate-stderr rt-loop -l 10 \
	    --plugin "$BATS_FILE_TMPDIR/plugin-nostep.so"
	assert_equal "$stderr" "rt-loop: '$BATS_FILE_TMPDIR/plugin-nostep.so': missing symbol 'rtloop_step' (the plugin ABI is rtloop_init, rtloop_step, rtloop_fini)"
	[ -z "$output" ]
	run -2 --separate-stderr rt-loop -l 10 --plugin "$BATS_TEST_TMPDIR/none.so"
	[[ $stderr == "rt-loop: $BATS_TEST_TMPDIR/none.so: cannot open"* ]]
}

@test "an overrun is a miss, its periods are skipped, the watchdog reports the stall" {
	run -0 --separate-stderr rt-loop -f 1000 -l 100 -p 80 --monitor-hz 2000 \
	    --plugin "$BATS_FILE_TMPDIR/plugin-stall.so:20"
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	# Tick 20 sleeps 150 ms: one miss, at least 149 periods skipped.
	# (A noisy machine may add stalls of its own, never remove this one.)
	rec summary <"$BATS_TEST_TMPDIR/out" | jq -e '.ticks == 100 and
	    .misses >= 1 and .skipped >= 149 and .work_errors == 50 and
	    .stalls >= 1'
	run -0 jq -c 'select(.event=="stall" and .tick == 20) | .overdue_ms > 0' \
	    "$BATS_TEST_TMPDIR/out"
	assert_output 'true'
	run -0 jq -c 'select(.event=="stall_end" and .tick == 20) |
	    .stalled_ms >= 100' "$BATS_TEST_TMPDIR/out"
	assert_output 'true'
	# As many stall records as the summary counts.
	run -0 jq -s 'map(select(.event=="stall")) | length' "$BATS_TEST_TMPDIR/out"
	rec summary <"$BATS_TEST_TMPDIR/out" | jq -e ".stalls == $output"
}

@test "--histogram writes cyclictest's format, counting every cycle" {
	h=$BATS_TEST_TMPDIR/hist
	run -0 --separate-stderr rt-loop -l 200 -f 2000 --histogram "$h" \
	    --histogram-us 100 --workload spin:20
	run -0 head -n1 "$h"
	assert_output "# Histogram"
	run -0 grep -cP '^[0-9]{6} [0-9]{6}\t[0-9]{6}$' "$h"
	assert_output 100
	# Per column (latency, execution time): the total (below the range)
	# plus the overflows is every cycle.
	for col in 1 2; do
		total=$(sed -n 's/^# Total: //p' "$h" | cut -d' ' -f"$col")
		over=$(sed -n 's/^# Histogram Overflows: //p' "$h" | cut -d' ' -f"$col")
		sum=$(grep -E '^[0-9]{6} ' "$h" | tr '\t' ' ' |
		    awk -v c=$((col + 1)) '{ s += $c } END { print s }')
		[ "$((10#$total))" -eq "$sum" ]
		[ "$((10#$total + 10#$over))" -eq 200 ]
	done
	# A 20 us spin: every execution time at 20 us or a little more.
	min=$(sed -n 's/^# Min Latencies: //p' "$h" | cut -d' ' -f2)
	[ "$((10#$min))" -ge 20 ]
	# The same lines, in the same order, as cyclictest's own with two
	# threads.
	command -v cyclictest >/dev/null || skip "cyclictest is not installed"
	cyclictest -q -t 2 -l 20 -i 1000 -h 100 >"$BATS_TEST_TMPDIR/ct" 2>/dev/null ||
	    skip "cyclictest cannot run here"
	norm() {
		grep -v '^# /dev/cpu_dma_latency' "$1" | sed -E 's/[0-9]+/N/g;
		    s/^(# Thread N:).*/\1/; /^T:/d; /^$/d'
	}
	diff -u <(norm "$BATS_TEST_TMPDIR/ct") <(norm "$h")
}

@test "SIGINT mid-run: every line is valid JSON and a summary ends it" {
	out=$BATS_TEST_TMPDIR/out
	rt-loop -f 1000 --report-interval 50ms >"$out" 2>/dev/null 3>&- &
	pid=$!
	pk_wait_file "$out" 10
	sleep 0.3
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ] || fail "status $st after SIGINT"
	run -0 jq -c '.event' "$out"
	assert_line --index 0 '"start"'
	assert_line '"interval"'
	run -0 tail -n1 "$out"
	echo "$output" | jq -e '.event == "summary" and .interrupted == true and
	    .ticks > 0'
}

@test "SIGINT cuts a long period short: the run ends at once, no cycle run" {
	out=$BATS_TEST_TMPDIR/out
	rt-loop -f 0.05 >"$out" 2>/dev/null 3>&- &
	pid=$!
	pk_wait_file "$out" 10
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ] || fail "status $st after SIGINT"
	# Without the wake-up the first cycle would run 20 s later, then stop.
	run -0 tail -n1 "$out"
	echo "$output" | jq -e '.event == "summary" and .interrupted and
	    .ticks == 0'
}

@test "without privilege it warns, says so in its records, and runs" {
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || skip "setpriv is not installed"
		drop=(setpriv --reuid=65534 --regid=65534 --clear-groups
		    --inh-caps=-all --bounding-set=-all)
		"${drop[@]}" true 2>/dev/null || skip "cannot drop privileges"
	else
		drop=()
	fi
	run -0 --separate-stderr "${drop[@]}" prlimit --rtprio=0:0 \
	    "$(command -v rt-loop)" -l 20 -p 80
	[[ $stderr == *"SCHED_FIFO priority 80 refused"* ]]
	echo "$output" | rec start | jq -e '
	    .policy == "SCHED_OTHER" and .priority == 0 and
	    (.warnings | length) == 1'
	echo "$output" | rec summary | jq -e '
	    .ticks == 20 and .policy == "SCHED_OTHER"'
}

@test "with privilege, -p gives SCHED_FIFO, --mlock locks (or says why not)" {
	run -0 --separate-stderr rt-loop -l 20 -p 80 --mlock
	echo "$output" | rec start | jq -e '
	    if .policy == "SCHED_FIFO" then .priority == 80 else
	    (.warnings | length) > 0 end'
	echo "$output" | rec start | jq -e '
	    .mlock or (.warnings | map(test("mlockall")) | any)'
}

@test "affinity, PM QoS and timer slack are applied and recorded" {
	run -0 --separate-stderr rt-loop -l 10 -a 0 --pm-qos 0 --timer-slack 50000 -u
	echo "$output" | rec start | jq -e '.cpu == 0 and .timer_slack_ns == 50000'
	# /dev/cpu_dma_latency needs root: held, or a warning that says why not.
	echo "$output" | rec start | jq -e '.pm_qos_us == 0 or
	    (.warnings | map(test("cpu_dma_latency")) | any)'
	echo "$output" | rec summary | jq -e '.ticks == 10'
}

@test "--preflight reports readiness with the documented keys" {
	run --separate-stderr rt-loop --preflight
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	echo "$output" | jq -e --argjson st "$status" '
	    .type == "preflight" and (.ts|type) == "number" and
	    (.kernel|has("release") and has("preempt")) and
	    (.cpus|has("isolated") and has("nohz_full") and has("smt")) and
	    (.governor|type) == "object" and
	    (.rlimit|has("rtprio") and has("memlock_bytes")) and
	    (.capabilities|has("sys_nice") and has("ipc_lock")) and
	    (.recommendations|type) == "array" and
	    .ready == ($st == 0)'
}

@test "--preflight on a fixture tree: an RT kernel without SCHED_FIFO is not ready" {
	run -1 --separate-stderr prlimit --rtprio=0:0 --memlock=8388608:8388608 \
	    "$(command -v rt-loop)" --preflight --sysroot "$RTFIX/sysroot"
	echo "$output" | jq -c '[.kernel.preempt, .kernel.preempt_param,
	    .cpus, .governor, .sched_rt_runtime_us, .capabilities,
	    .sched_fifo, .ready, [.recommendations[] | [.level, .check]]]' \
	    >"$BATS_TEST_TMPDIR/got"
	run -0 cat "$BATS_TEST_TMPDIR/got"
	assert_output '["PREEMPT_RT","full",{"isolated":"1","nohz_full":"","smt":"on"},{"cpu0":"performance","cpu1":"powersave"},950000,{"sys_nice":false,"ipc_lock":false},false,false,[["error","sched_fifo"],["info","nohz_full"],["info","irq"],["warn","governor"],["info","sched_rt_runtime_us"],["warn","memlock"],["warn","smt"]]]'
	run -2 --separate-stderr rt-loop --sysroot /
	[[ $stderr == *"--sysroot goes with --preflight"* ]]
}

@test "a write error on standard output is status 4 with a message" {
	run -4 --separate-stderr bash -c 'rt-loop -l 20 >/dev/full'
	[[ $stderr == "rt-loop: write error on standard output: No space left on device" ]]
}

@test "an early-closing reader ends it quietly with SIGPIPE" {
	run -141 bats_pipe rt-loop -f 10000 -l 1000000 --report-interval 1ms \| head -n1
	echo "$output" | jq -e '.event == "start"'
}

@test "a histogram file that cannot be written is status 4" {
	run -4 --separate-stderr rt-loop -l 5 --histogram /nonexistent/dir/h
	[[ $stderr == *"cannot write '/nonexistent/dir/h'"* ]]
	echo "$output" | rec summary | jq -e '.ticks == 5'
}

@test "examples/rt-loop-policy.sh: a 1 kHz policy loop with a 2 kHz watchdog" {
	run -0 --separate-stderr "$ROOT/examples/rt-loop-policy.sh" 1s
	echo "$output" | rec start | jq -e '
	    .workload == "mlp:32,128,8" and .freq_hz == 1000 and .monitor_hz == 2000'
	echo "$output" | rec summary | jq -e '
	    .ticks + .skipped == 1000 and .stalls >= 0 and .dropped == 0'
}

@test "the man page's EXAMPLES run as printed, only shortened" {
	cd "$BATS_TEST_TMPDIR"
	mapfile -d '' ex < <(pk_man_examples rt-loop)
	[ "${#ex[@]}" -eq 8 ] || fail "the EXAMPLES changed: update this test"
	# Durations shortened; CPU 3 of a 4-core Raspberry Pi made CPU 0.
	run -0 --separate-stderr bash -o pipefail -c "${ex[0]/-D 60s/-D 1s}"
	# The keys of the printed output.
	echo "$output" | jq -e 'keys == (["min","mean","p50","p99","p999","max","sd"] | sort)'
	[ "$(sed -n 1p lat.hist)" = "# Histogram" ]
	run -0 --separate-stderr bash -o pipefail -c "${ex[1]/-a 3/-a 0} -D 1s"
	echo "$output" | rec summary | jq -e '.ticks + .skipped == 1000'
	run -0 --separate-stderr bash -o pipefail -c "${ex[2]/-l 100000/-l 2000}"
	echo "$output" | jq -e '.ticks == 2000 and (.misses | type) == "number" and
	    (.skipped | type) == "number"'
	# The scraped loop on a free port, until SIGINT.
	port=$(pk_free_port)
	bash -c "exec ${ex[3]//9101/$port}" >loop.out 2>/dev/null 3>&- &
	pid=$!
	pk_wait_port "$port" 10 || fail "nothing listens on $port"
	run -0 --separate-stderr bash -o pipefail -c "${ex[4]//9101/$port}"
	assert_output --regexp '^rt_operations_total [0-9]+$'
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ] || fail "status $st after SIGINT"
	rec summary <loop.out | jq -e '.interrupted'
	run -0 --separate-stderr bash -o pipefail -c "${ex[5]}"
	# The CI gate: a built-in step for the plugin, CPU 0, one second. Its
	# limits are on time, so either answer is right on a shared machine:
	# the status must agree with the gates printed.
	cmd=${ex[6]/--plugin .\/step.so/--workload spin:100}
	run --separate-stderr bash -o pipefail -c "${cmd/-a 1/-a 0}" >/dev/null
	echo "$output" | jq -e 'keys == ["exec","latency","misses"]'
	fails=$(echo "$output" | jq '[.[] | select(.pass | not)] | length')
	if [ "$fails" -eq 0 ]; then [ "$status" -eq 0 ]; else [ "$status" -eq 1 ]; fi
	# Under load: two seconds, one hog a CPU; a ratio with its interval.
	cmd=${ex[7]/-D 60s/-D 2s}
	run --separate-stderr bash -o pipefail -c "${cmd/--stress 10x/--stress 1x}"
	[ "$status" -le 1 ]
	echo "$output" | jq -e '.ratio > 0 and (.ci95 | type) == "null"'
}

@test "--list-options lists the long options for the completions" {
	run -0 rt-loop --list-options
	assert_line "--workload="
	assert_line "--monitor-hz="
	assert_line "--preflight"
	assert_line "--list-workloads"
	refute_line "--list-options"
}

@test "gates: every period missed is status 1, each failed gate named with its value" {
	run -1 --separate-stderr rt-loop -f 1000 -l 100 --workload spin:1500 \
	    --max-misses 0 --max-exec-us 500 --max-latency-us max:60000000
	rec summary <<<"$output" >"$BATS_TEST_TMPDIR/s"
	jq -e '.verdict == "fail" and (.gates | keys) == ["exec","latency","misses"]
	    and .gates.exec.pass == false and .gates.exec.stat == "p99"
	    and .gates.exec.value_us == .exec_us.p99 and .gates.exec.value_us >= 1500
	    and .gates.exec.limit_us == 500
	    and .gates.latency.pass == true and .gates.latency.stat == "max"
	    and .gates.misses.pass == false and .gates.misses.limit == 0
	    and .gates.misses.missed == .misses + .skipped
	    and .gates.misses.periods == .ticks + .skipped
	    and .gates.misses.value_pct == 100' "$BATS_TEST_TMPDIR/s"
	v=$(jq -r '.gates.exec.value_us' "$BATS_TEST_TMPDIR/s")
	n=$(jq -r '.gates.misses.periods' "$BATS_TEST_TMPDIR/s")
	assert_equal "$(echo "$stderr" | grep -c 'gate failed')" 2
	[[ $stderr == *"rt-loop: gate failed: exec p99 $(printf '%.3f' "$v") us > 500 us"* ]]
	[[ $stderr == *"rt-loop: gate failed: misses $n of $n periods (100.000%) > 0"* ]]
}

@test "gates that hold are status 0; without a gate there is no verdict" {
	run -0 --separate-stderr rt-loop -f 1000 -l 50 --max-exec-us max:60000000 \
	    --max-misses 100%
	rec summary <<<"$output" | jq -e '.verdict == "pass" and
	    .gates.exec.pass and .gates.misses.pass and .gates.misses.limit_pct == 100'
	assert_equal "$stderr" ""
	# No gate: the run is measured, not judged (as cyclictest), status 0.
	run -0 --separate-stderr rt-loop -f 1000 -l 50 --workload spin:1500
	rec summary <<<"$output" | jq -e 'has("gates") == false and
	    has("verdict") == false and .misses == .ticks'
}

@test "gates: each statistic is judged as the summary gives it" {
	run -0 --separate-stderr rt-loop -f 2000 -l 200 --workload spin:20 \
	    --max-latency-us p50:60000000 --max-exec-us mean:60000000 \
	    --max-loop-us p999:60000000 --max-jitter-us max:60000000
	rec summary <<<"$output" | jq -e '
	    def near(a; b): (a - b) | fabs < 0.001;
	    near(.gates.latency.value_us; .lat_us.p50) and
	    near(.gates.exec.value_us; .exec_us.mean) and
	    near(.gates.loop.value_us; .loop_us.p999) and
	    near(.gates.jitter.value_us; .jitter_us) and .verdict == "pass"'
	# The default jitter statistic: p99 less the minimum.
	run -0 --separate-stderr rt-loop -f 2000 -l 200 --max-jitter-us 60000000
	rec summary <<<"$output" | jq -e '.gates.jitter.stat == "p99" and
	    ((.gates.jitter.value_us - (.lat_us.p99 - .lat_us.min)) | fabs) < 0.001'
}

@test "gates: a percentage of misses; a run with no cycle fails every gate" {
	run -1 --separate-stderr rt-loop -f 1000 -l 50 --workload spin:1500 \
	    --max-misses 99.5%
	rec summary <<<"$output" | jq -e '.gates.misses.limit_pct == 99.5 and
	    .gates.misses.pass == false'
	# A 100 s period cut short by SIGINT before its first cycle.
	rt-loop -f 0.01 -l 1 --max-exec-us max:60000000 >"$BATS_TEST_TMPDIR/o" \
	    2>"$BATS_TEST_TMPDIR/e" &
	pid=$!
	for _ in $(seq 100); do
		grep -q '"start"' "$BATS_TEST_TMPDIR/o" 2>/dev/null && break
		sleep 0.1
	done
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 1
	rec summary <"$BATS_TEST_TMPDIR/o" | jq -e '.ticks == 0 and
	    .verdict == "fail" and .gates.exec.pass == false and
	    (.gates.exec | has("value_us")) == false'
	grep -qx 'rt-loop: gate failed: exec max: no cycle was measured' \
	    "$BATS_TEST_TMPDIR/e"
}

@test "gates: bad limits and statistics are usage errors naming the option" {
	run -2 --separate-stderr rt-loop -l 1 --max-exec-us foo:3
	assert_equal "$stderr" "rt-loop: --max-exec-us: unknown statistic 'foo' (p50, p99, p999, max, mean)"
	run -2 --separate-stderr rt-loop -l 1 --max-misses 101%
	[[ $stderr == "rt-loop: --max-misses '101' is too large"* ]]
	for bad in "--max-misses -1" "--max-jitter-us abc" "--max-latency-us p99:" \
	    "--max-loop-us max:-5"; do
		run -2 --separate-stderr rt-loop -l 1 $bad
		[[ $stderr == "rt-loop: ${bad%% *}"* ]] || fail "$bad: $stderr"
	done
}

@test "standard deviation and period-to-period jitter: within the spread" {
	run -0 --separate-stderr rt-loop -f 2000 -l 400 --report-interval 50ms
	echo "$output" | jq -e 'select(.event=="interval" or .event=="summary") |
	    .lat_us.sd >= 0 and .exec_us.sd >= 0 and
	    .p2p_jitter_us.max <= .jitter_us + 0.001 and
	    .p2p_jitter_us.mean <= .p2p_jitter_us.max + 0.001' >/dev/null
	[ "$(echo "$output" | jq -s 'map(select(.p2p_jitter_us == null and
	    (.event=="interval" or .event=="summary"))) | length')" -eq 0 ]
}

@test "rt-loop | perf-profile | perf-alert: the control-loop rules fire on a loop that misses" {
	# examples/perf-alert-control-loop.yaml, its receivers left out (they
	# log to syslog). spin:1500 at 1 kHz misses every period: counts only.
	sed '/^receivers:/,$d' "$ROOT/examples/perf-alert-control-loop.yaml" \
	    >"$BATS_TEST_TMPDIR/rules.yaml"
	run -0 perf-alert -n -c "$ROOT/examples/perf-alert-control-loop.yaml"
	run -0 --separate-stderr bash -c "
	    { rt-loop -f 1000 -D 7s --workload spin:1500 --max-misses 0; true; } 2>/dev/null |
	    perf-profile | perf-alert -c '$BATS_TEST_TMPDIR/rules.yaml' -s '$BATS_TEST_TMPDIR/st'"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 jq -r 'select(.type == "alert" and .state == "firing") | .rule' \
	    "$BATS_TEST_TMPDIR/out"
	assert_line loop_deadline_missed
	assert_line loop_periods_skipped
	assert_line loop_deadline_bottleneck
	assert_line loop_gate_failed
	refute_line loop_stalled
	# Every loop record passed through both filters.
	[ "$(jq -s 'map(select(.type == "loop" and .event == "summary")) | length' \
	    "$BATS_TEST_TMPDIR/out")" -eq 1 ]
}

@test "--stress: the hogs run in every other phase, quiet first, and die with the loop" {
	n=$(nproc)
	rt-loop -f 1000 -D 3s --stress 2x --stress-phase 500ms \
	    >"$BATS_TEST_TMPDIR/o" 2>"$BATS_TEST_TMPDIR/e" &
	pid=$!
	# The hogs' states while it runs: stopped (T) in quiet phases, running
	# or runnable in loaded ones; both are seen, and always all of them.
	: >"$BATS_TEST_TMPDIR/states"
	while kill -0 "$pid" 2>/dev/null; do
		ps -o stat=,comm= --ppid "$pid" | awk '$2 == "rt-loop-cpu" { print substr($1, 1, 1) }' |
		    sort | uniq -c | tr -s ' ' >>"$BATS_TEST_TMPDIR/states"
		sleep 0.05
	done
	wait "$pid"
	grep -q " $((2 * n)) T$" "$BATS_TEST_TMPDIR/states" || fail "never all stopped: $(sort -u "$BATS_TEST_TMPDIR/states")"
	grep -Eq " [0-9]+ [RS]$" "$BATS_TEST_TMPDIR/states" || fail "never running"
	[ "$(pgrep -c -x rt-loop-cpu || true)" -eq 0 ]
	rec summary <"$BATS_TEST_TMPDIR/o" | jq -e --argjson n "$n" '.stress |
	    .factor == 2 and .cpu_hogs == 2 * $n and .mem_hogs == 0 and
	    .phase_s == 0.5 and .settle_s == 0.025 and
	    .quiet.phases == 3 and .loaded.phases == 3 and
	    (.ratios | keys) == ["exec_mean","exec_p99","lat_mean","lat_p99","loop_mean","loop_p99"]'
	# Every cycle is in one phase, or in none (the settling after a switch).
	rec summary <"$BATS_TEST_TMPDIR/o" | jq -e '
	    .stress.quiet.ticks + .stress.loaded.ticks + .stress.unattributed == .ticks and
	    .stress.unattributed > 0 and .ticks + .skipped == 3000'
}

@test "--stress: the gates judge the loaded phase; --stress-mem adds memory hogs" {
	run -1 --separate-stderr rt-loop -f 1000 -D 2s --workload spin:1500 \
	    --stress 1x --stress-mem --max-misses 0
	rec summary <<<"$output" | jq -e --argjson n "$(nproc)" '
	    .stress.mem_hogs == $n and .stress.cpu_hogs == $n and
	    .gates.misses.periods == .stress.loaded.ticks + .stress.loaded.skipped and
	    .gates.misses.periods < .ticks + .skipped and .verdict == "fail"'
	[ "$(pgrep -c -x rt-loop-mem || true)" -eq 0 ]
	# Options that need --stress, and bad factors.
	run -2 --separate-stderr rt-loop -l 1 --stress-mem
	[[ $stderr == "rt-loop: --stress-mem and --stress-phase go with --stress"* ]]
	run -2 --separate-stderr rt-loop -l 1 --stress 0x
	[[ $stderr == "rt-loop: --stress '0x' is too small"* ]]
	run -2 --separate-stderr rt-loop -l 1 --stress 1.5x
	[[ $stderr == "rt-loop: --stress '1.5x' is not a whole number"* ]]
	run -2 --separate-stderr rt-loop -l 1 --stress 2x --stress-phase 10ms
	[[ $stderr == "rt-loop: --stress-phase '10ms' is out of range"* ]]
}

@test "alloc: malloc and a pool timed in the loop, the loop thread's page faults counted" {
	run -0 --separate-stderr rt-loop -l 200 -f 2000 --workload alloc:256,8
	echo "$output" | rec summary | jq -e '
	    (.work_counters | keys) == ["malloc_max_ns","malloc_p99_ns","pool_max_ns","pool_p99_ns"] and
	    .work_counters.malloc_p99_ns > 0 and
	    .work_counters.malloc_p99_ns <= .work_counters.malloc_max_ns and
	    .work_counters.pool_p99_ns <= .work_counters.pool_max_ns and
	    .work_errors == 0 and (.rt_faults.minor | type) == "number"'
	# Every record's fault counts add up to the summary's.
	echo "$output" | jq -s -e '
	    (map(select(.event == "interval") | .rt_faults.minor) | add) ==
	    (map(select(.event == "summary"))[0].rt_faults.minor)'
	run -2 --separate-stderr rt-loop -l 1 --workload alloc:0
	[[ $stderr == "rt-loop: --workload: alloc:SIZE[,N] wants SIZE 1 to 16777216 bytes and N 1 to 1024 blocks, not '0'" ]]
	run -2 --separate-stderr rt-loop -l 1 --workload alloc:64,2000
	[[ $stderr == *"not '64,2000'" ]]
}

@test "rt_faults: a loop that touches nothing new takes no page fault, with --mlock" {
	run -0 --separate-stderr rt-loop -l 300 -f 2000 --mlock --workload memtouch:256 \
	    --report-interval 50ms
	echo "$output" | jq -s -e '
	    map(select(.event == "interval" or .event == "summary")) |
	    length > 2 and all(.rt_faults.minor == 0 and .rt_faults.major == 0)'
}

@test "--monitor-workload: a safety check in the monitor thread, measured beside the loop" {
	run -0 --separate-stderr rt-loop -f 1000 -D 1s --report-interval 100ms \
	    --monitor-hz 2000 --monitor-workload constraints:64 \
	    --max-monitor-exec-us max:60000000
	echo "$output" >"$BATS_TEST_TMPDIR/o"
	rec summary <"$BATS_TEST_TMPDIR/o" | jq -e '
	    .ticks + .skipped == 1000 and .monitor.ticks > 0 and
	    (.monitor | has("lat_us") and has("exec_us") and has("loop_us")) and
	    (.monitor.work_counters.violations | type) == "number" and
	    .gates.monitor_exec.pass and .gates.monitor_exec.stat == "max" and
	    .gates.monitor_exec.value_us == .monitor.exec_us.max and .verdict == "pass"'
	# Every monitor period is in one interval record.
	jq -s -e '(map(select(.event == "interval") | .monitor.ticks) | add) ==
	    (map(select(.event == "summary"))[0].monitor.ticks)' "$BATS_TEST_TMPDIR/o"
	# Without it, no monitor object.
	run -0 --separate-stderr rt-loop -l 20 --monitor-hz 2000
	rec summary <<<"$output" | jq -e 'has("monitor") | not'
}

@test "--max-monitor-misses: a monitor check longer than its period fails its gate" {
	# spin:700 at 2 kHz (500 us): every monitor period ends late.
	run -1 --separate-stderr rt-loop -f 100 -l 50 --monitor-hz 2000 \
	    --monitor-workload spin:700 --max-monitor-misses 0 --max-misses 100%
	rec summary <<<"$output" | jq -e '
	    .gates.misses.pass and .gates.monitor_misses.pass == false and
	    .gates.monitor_misses.missed == .monitor.misses + .monitor.skipped and
	    .monitor.misses == .monitor.ticks and .verdict == "fail"'
	[[ $stderr == *"rt-loop: gate failed: monitor_misses "* ]]
	run -2 --separate-stderr rt-loop -l 1 --monitor-workload none
	[[ $stderr == "rt-loop: --monitor-workload goes with --monitor-hz"* ]]
	run -2 --separate-stderr rt-loop -l 1 --monitor-hz 100 --max-monitor-exec-us 5
	[[ $stderr == "rt-loop: the --max-monitor-* gates go with --monitor-workload"* ]]
	run -2 --separate-stderr rt-loop -l 1 --monitor-hz 100 --monitor-workload nope
	[[ $stderr == "rt-loop: --monitor-workload: unknown workload 'nope'"* ]]
}
