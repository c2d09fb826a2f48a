#!/usr/bin/env bats
# rt-loop's Prometheus exposition against real servers (tests/prom.bash):
# Prometheus scrapes --listen, a Pushgateway receives --push, promtool
# checks what is written, the man page is held against the families.
# Counts and presence, never latencies.

load common
load prom

RT_PID=

teardown() {
	[ -z "$RT_PID" ] || pk_stop_pid "$RT_PID"
	pk_prom_stop_all
}

# The value of the sample NAME (the whole series, labels and all) in FILE.
sample() {
	awk -v n="$1" '$1 == n { print $2 }' "$2"
}

# The value rt-loop's group holds at the Pushgateway for metric NAME.
pushed() {
	curl -fsS "$PUSHGW_URL/metrics" |
	    awk -v n="$1" -v i="$(hostname)" '
	    index($1, n "{") == 1 && index($1, "job=\"rt-loop\"") &&
	        index($1, "instance=\"" i "\"") { print $2 }'
}

# Wait until the pushed NAME is above $2 (max 30 s); print it.
pushed_above() {
	local v i=0
	while :; do
		v=$(pushed "$1")
		[ -n "$v" ] && awk -v a="$v" -v b="$2" 'BEGIN { exit !(a > b) }' &&
		    break
		i=$((i + 1))
		[ "$i" -lt 120 ] || return 1
		sleep 0.25
	done
	echo "$v"
}

# Stop the loop with SIGINT; its status must be 0.
stop_loop() {
	local st=0
	kill -INT "$RT_PID"
	wait "$RT_PID" || st=$?
	RT_PID=
	[ "$st" -eq 0 ] || fail "rt-loop: status $st after SIGINT"
}

summary() {
	jq -c "select(.event==\"summary\") | $1" "$BATS_TEST_TMPDIR/out"
}

@test "Prometheus scrapes --listen: the latency quantile and the cycle rate" {
	port=$(pk_free_port)
	tf=$BATS_TEST_TMPDIR/rt.prom
	pk_start_prometheus "rt=127.0.0.1:$port"
	rt-loop -f 1000 --report-interval 100ms --workload constraints:50 \
	    --listen "127.0.0.1:$port" --textfile "$tf" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	RT_PID=$!
	pk_prom_wait 'histogram_quantile(0.99, rate(rt_wakeup_latency_seconds_bucket[10s])) > 0' 60 ||
	    fail "no p99 from Prometheus: $(cat "$BATS_TEST_TMPDIR/err")"
	pk_prom_wait 'rate(rt_operations_total[10s]) > 0' 30 ||
	    fail "no rate of cycles from Prometheus"
	run -0 pk_prom_query 'histogram_quantile(0.99, rate(rt_execution_time_seconds_bucket[10s]))'
	echo "$output" | jq -e 'length == 1'
	run -0 pk_prom_query 'rt_loop_info{job="rt",workload="constraints:50",policy="SCHED_OTHER"}'
	echo "$output" | jq -e 'length == 1 and .[0].value[1] == "1"'
	run -0 pk_prom_query 'rt_up{job="rt"}'
	echo "$output" | jq -e '.[0].value[1] == "1"'
	run -0 pk_prom_query 'rt_safety_violations_total{job="rt"}'
	echo "$output" | jq -e 'length == 1'
	stop_loop
	# The final exposition (the textfile, published with the server's)
	# counts what the summary counts.
	ticks=$(summary .ticks)
	[ "$ticks" -gt 0 ]
	[ "$(summary .dropped)" -eq 0 ]
	assert_equal "$(sample rt_operations_total "$tf")" "$ticks"
	assert_equal "$(sample rt_wakeup_latency_seconds_count "$tf")" "$ticks"
	assert_equal "$(sample 'rt_wakeup_latency_seconds_bucket{le="+Inf"}' "$tf")" "$ticks"
	assert_equal "$(sample rt_execution_time_seconds_count "$tf")" "$ticks"
	assert_equal "$(sample rt_deadline_misses_total "$tf")" "$(summary .misses)"
	assert_equal "$(sample rt_skipped_periods_total "$tf")" "$(summary .skipped)"
	assert_equal "$(sample rt_errors_total "$tf")" "$(summary .work_errors)"
	assert_equal "$(sample rt_safety_violations_total "$tf")" \
	    "$(summary .work_counters.violations)"
	assert_equal "$(sample rt_up "$tf")" 0
	# What Prometheus scraped never ran ahead of the loop.
	run -0 pk_prom_query 'max_over_time(rt_operations_total{job="rt"}[5m])'
	echo "$output" | jq -e --argjson t "$ticks" \
	    '(.[0].value[1] | tonumber) as $v | $v > 0 and $v <= $t'
}

@test "-l N: the final exposition counts N cycles, and promtool accepts it" {
	tf=$BATS_TEST_TMPDIR/rt.prom
	run -0 --separate-stderr rt-loop -l 300 -f 2000 --report-interval 20ms \
	    --workload constraints:20 --monitor-hz 500 -a 0 --textfile "$tf"
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(sample rt_operations_total "$tf")" 300
	assert_equal "$(sample rt_wakeup_latency_seconds_count "$tf")" 300
	assert_equal "$(sample rt_monitor_stalls_total "$tf")" "$(summary .stalls)"
	assert_equal "$(sample rt_dropped_samples_total "$tf")" 0
	# Cumulative buckets, ending at the count.
	awk '/^rt_wakeup_latency_seconds_bucket/ {
	    if ($2 < last) exit 1; last = $2 } END { exit last != 300 }' "$tf"
	grep -q '^rt_loop_info{.*,cpu="0",.*monitor_hz="500"} 1$' "$tf"
	run -0 promtool check metrics <"$tf"
	assert_output ""
}

@test "the man page documents every metric family written, and no other" {
	tf=$BATS_TEST_TMPDIR/rt.prom
	# Every optional family on: a workload with violations, the watchdog,
	# an interval reported.
	run -0 --separate-stderr rt-loop -l 100 -f 2000 --report-interval 10ms \
	    --workload constraints:10 --monitor-hz 500 --textfile "$tf"
	sed -n 's/^# TYPE \([a-z0-9_]*\) .*/\1/p' "$tf" | sort >"$BATS_TEST_TMPDIR/written"
	# .It Cm a , b  in the METRICS section: one name a line.
	awk '/^\.Sh METRICS/ { on = 1; next } /^\.Sh / { on = 0 }
	    on && /^\.It Cm rt_/ { sub(/^\.It Cm /, ""); gsub(/ , /, "\n"); print }' \
	    "$ROOT/man/rt-loop.1" | sort >"$BATS_TEST_TMPDIR/man"
	[ -s "$BATS_TEST_TMPDIR/written" ]
	diff -u "$BATS_TEST_TMPDIR/written" "$BATS_TEST_TMPDIR/man"
	# Each with its HELP line.
	run -0 grep -c '^# HELP rt_' "$tf"
	assert_output "$(wc -l <"$BATS_TEST_TMPDIR/written")"
}

@test "--push: at the interval while it runs, at exit the run's cycles" {
	pk_start_pushgateway
	# A group that a run before left in the Pushgateway's store must not count.
	curl -fsS -X DELETE "$PUSHGW_URL/metrics/job/rt-loop/instance/$(hostname)"
	rt-loop -f 1000 --report-interval 100ms --push "$PUSHGW_URL" \
	    --push-interval 300ms >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err" 3>&- &
	RT_PID=$!
	v1=$(pushed_above rt_operations_total 0) ||
	    fail "nothing pushed: $(cat "$BATS_TEST_TMPDIR/err")"
	# A second push at the interval, while the loop runs.
	pushed_above rt_operations_total "$v1" >/dev/null ||
	    fail "no second push after $v1 cycles"
	assert_equal "$(pushed rt_up)" 1
	stop_loop
	assert_equal "$(pushed rt_operations_total)" "$(summary .ticks)"
	assert_equal "$(pushed rt_wakeup_latency_seconds_count)" "$(summary .ticks)"
	assert_equal "$(pushed rt_up)" 0
	[ ! -s "$BATS_TEST_TMPDIR/err" ] || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	# A short run pushes at exit, long before the interval: its cycles.
	run -0 --separate-stderr rt-loop -l 200 -f 2000 --push "$PUSHGW_URL"
	assert_equal "$(pushed rt_operations_total)" 200
	# --push-delete leaves no group behind.
	run -0 --separate-stderr rt-loop -l 20 -f 2000 --push "$PUSHGW_URL" \
	    --push-delete
	assert_equal "$(pushed rt_operations_total)" ""
}

@test "a Pushgateway that is down: one warning, the loop runs and ends" {
	port=$(pk_free_port)
	run -0 --separate-stderr rt-loop -l 300 -f 1000 --report-interval 50ms \
	    --push "http://127.0.0.1:$port" --push-interval 100ms
	echo "$output" | jq -e 'select(.event=="summary") | .ticks == 300'
	url=http://127.0.0.1:$port/metrics/job/rt-loop/instance/$(hostname)
	# One warning while it runs (not one per retry), one for the last push.
	run -0 grep -c "^rt-loop: push to $url failed: .* (retrying)$" <<<"$stderr"
	assert_output 1
	run -0 grep -c "^rt-loop: final push to $url failed: " <<<"$stderr"
	assert_output 1
}

@test "--listen serves /metrics, /healthz; 404, 405; a busy port is status 4" {
	port=$(pk_free_port)
	rt-loop -f 1000 --report-interval 50ms --listen "$port" \
	    >"$BATS_TEST_TMPDIR/out" 2>/dev/null 3>&- &
	RT_PID=$!
	pk_wait_port "$port" 10 || fail "nothing listens on $port"
	run -0 curl -fsS "http://127.0.0.1:$port/metrics"
	assert_line --regexp '^rt_operations_total [0-9]+$'
	assert_line '# TYPE rt_wakeup_latency_seconds histogram'
	curl -fsS "http://127.0.0.1:$port/metrics" | promtool check metrics
	run -0 curl -fsS -D - -o /dev/null "http://127.0.0.1:$port/metrics"
	assert_line --partial 'Content-Type: text/plain; version=0.0.4'
	run -0 curl -fsS "http://127.0.0.1:$port/healthz"
	assert_output ok
	run -0 curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/x"
	assert_output 404
	run -0 curl -sS -o /dev/null -w '%{http_code}' -X POST \
	    "http://127.0.0.1:$port/metrics"
	assert_output 405
	run -4 --separate-stderr rt-loop -l 10 --listen "127.0.0.1:$port"
	[[ $stderr == "rt-loop: cannot listen on 127.0.0.1:$port: "* ]] ||
	    fail "$stderr"
	[ -z "$output" ]
	stop_loop
	summary '.interrupted' | grep -qx true
}

@test "a textfile that cannot be written: one warning, the loop runs" {
	run -0 --separate-stderr rt-loop -l 50 -f 1000 --report-interval 10ms \
	    --textfile /nonexistent/dir/rt.prom
	echo "$output" | jq -e 'select(.event=="summary") | .ticks == 50'
	run -0 grep -c "cannot write '/nonexistent/dir/rt.prom'" <<<"$stderr"
	assert_output 1
}
