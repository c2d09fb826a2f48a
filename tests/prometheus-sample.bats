#!/usr/bin/env bats
# perf-sample's Prometheus exposition against real servers (tests/prom.bash):
# Prometheus scrapes --listen (sampled at scrape time) and rate()s its
# counters, node_exporter's textfile collector reads -o, a Pushgateway
# receives --push, promtool checks what is written (a process name that is
# not UTF-8 included), the man page is held against the families.
# Counts and presence, never timings.

load common
load prom

FX=$FIXTURES/perf-sample
PS_PID=
KID=

teardown() {
	[ -z "$PS_PID" ] || pk_stop_pid "$PS_PID"
	[ -z "$KID" ] || pk_stop_pid "$KID"
	pk_prom_stop_all
}

# The families an exposition in FILE... declares, sorted, one a line.
families() {
	sed -n 's/^# TYPE \([a-z0-9_]*\) .*/\1/p' "$@" | sort -u
}

# The value perf-sample's group holds at the Pushgateway for series NAME.
pushed() {
	curl -fsS "$PUSHGW_URL/metrics" |
	    awk -v n="$1" -v i="$(hostname)" '
	    index($1, n "{") == 1 && index($1, "job=\"perf-sample\"") &&
	        index($1, "instance=\"" i "\"") { print $2; exit }'
}

# Stop perf-sample with SIGTERM; its status must be 0.
stop_sampler() {
	local st=0
	kill -TERM "$PS_PID"
	wait "$PS_PID" || st=$?
	PS_PID=
	[ "$st" -eq 0 ] || fail "perf-sample: status $st after SIGTERM"
}

@test "the man page documents every metric family written, and no other" {
	# Every group, a cgroup, a followed process: every family there is.
	perf-sample --replay "$FX/server" -m all -f prom \
	    -g app.slice/robot.service >"$BATS_TEST_TMPDIR/server.prom"
	perf-sample --replay "$FX/rpi" -m all -f prom -p 1234 \
	    >"$BATS_TEST_TMPDIR/rpi.prom"
	run -0 promtool check metrics <"$BATS_TEST_TMPDIR/server.prom"
	run -0 promtool check metrics <"$BATS_TEST_TMPDIR/rpi.prom"
	families "$BATS_TEST_TMPDIR/server.prom" "$BATS_TEST_TMPDIR/rpi.prom" \
	    >"$BATS_TEST_TMPDIR/written"
	# .It Cm a , b  in the METRICS section: one name a line.
	awk '/^\.Sh METRICS/ { on = 1; next } /^\.Sh / { on = 0 }
	    on && /^\.It Cm perfkit_/ { sub(/^\.It Cm /, ""); gsub(/ , /, "\n"); print }' \
	    "$ROOT/man/perf-sample.1" | sort >"$BATS_TEST_TMPDIR/man"
	[ -s "$BATS_TEST_TMPDIR/written" ]
	diff -u "$BATS_TEST_TMPDIR/written" "$BATS_TEST_TMPDIR/man"
	# Each with its HELP line.
	run -0 grep -c '^# HELP perfkit_' "$BATS_TEST_TMPDIR/server.prom"
	assert_output "$(families "$BATS_TEST_TMPDIR/server.prom" | wc -l)"
}

@test "the counters are the kernel's: exact on a replay, counters by type" {
	run -0 perf-sample --replay "$FX/server" -f prom
	assert_line '# TYPE perfkit_cpu_seconds_total counter'
	assert_line 'perfkit_cpu_seconds_total{mode="user"} 20.4'
	assert_line 'perfkit_cpu_seconds_total{mode="idle"} 160.3'
	assert_line '# TYPE perfkit_disk_read_bytes_total counter'
	assert_line 'perfkit_disk_read_bytes_total{dev="nvme0n1"} 2048000'
	assert_line 'perfkit_disk_written_bytes_total{dev="nvme0n1"} 4608000'
	assert_line '# TYPE perfkit_network_receive_bytes_total counter'
	assert_line 'perfkit_network_receive_bytes_total{iface="eno1"} 1500000'
	assert_line 'perfkit_network_transmit_bytes_total{iface="eno1"} 2250000'
	# Beside the rates of the same instances, with the same labels.
	assert_line 'perfkit_disk_written_bytes_per_second{dev="nvme0n1"} 1024000'
	assert_line 'perfkit_network_receive_bytes_per_second{iface="eno1"} 1000000'
	# The JSON record is what it was: counters are the exposition's only.
	run -0 perf-sample --replay "$FX/server"
	run -0 jq -e '.disk.nvme0n1 | keys == ["read_bytes_per_s","util_pct","write_bytes_per_s"]' <<<"$output"
}

@test "Prometheus scrapes --listen: sampled at each scrape, rate() of the counters" {
	port=$(pk_free_port)
	perf-sample --listen "127.0.0.1:$port" -i 100ms \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	PS_PID=$!
	pk_wait_port "$port" 10 || fail "nothing listens on $port"
	# No schedule: the first scrape's rates run from the start, 1.5 s
	# and more ago (a lower bound, whatever the machine's load).
	sleep 1.5
	run -0 curl -fsS "http://127.0.0.1:$port/metrics"
	iv=$(awk '$1 == "perfkit_sample_interval_seconds" { print $2 }' <<<"$output")
	awk -v v="$iv" 'BEGIN { exit !(v >= 1.5) }' || fail "interval $iv"
	t1=$(awk '$1 == "perfkit_sample_timestamp_seconds" { print $2 }' <<<"$output")
	sleep 0.2
	run -0 curl -fsS "http://127.0.0.1:$port/metrics"
	t2=$(awk '$1 == "perfkit_sample_timestamp_seconds" { print $2 }' <<<"$output")
	awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(b > a) }' ||
	    fail "the second scrape was not a new reading ($t1, $t2)"
	curl -fsS "http://127.0.0.1:$port/metrics" | promtool check metrics
	pk_start_prometheus "ps=127.0.0.1:$port"
	pk_prom_wait 'sum(rate(perfkit_cpu_seconds_total{job="ps"}[10s])) > 0' 60 ||
	    fail "no rate of CPU seconds: $(cat "$BATS_TEST_TMPDIR/err")"
	# Prometheus's own scrapes move bytes over lo.
	pk_prom_wait 'rate(perfkit_network_receive_bytes_total{job="ps",iface="lo"}[10s]) > 0' 60 ||
	    fail "no rate of lo's bytes"
	run -0 pk_prom_query 'up{job="ps"}'
	echo "$output" | jq -e '.[0].value[1] == "1"'
	run -0 pk_prom_query 'perfkit_cpu_mode_ratio{job="ps",mode="idle"}'
	echo "$output" | jq -e 'length == 1'
	stop_sampler
	[ ! -s "$BATS_TEST_TMPDIR/out" ] || fail "wrote to stdout"
	[ ! -s "$BATS_TEST_TMPDIR/err" ] || fail "$(cat "$BATS_TEST_TMPDIR/err")"
}

@test "--listen beside the records serves the latest sample; /healthz, 404, 405" {
	port=$(pk_free_port)
	perf-sample --listen "$port" -f json -i 100ms \
	    >"$BATS_TEST_TMPDIR/out" 2>/dev/null 3>&- &
	PS_PID=$!
	pk_wait_port "$port" 10 || fail "nothing listens on $port"
	pk_wait_file "$BATS_TEST_TMPDIR/out" 10
	run -0 curl -fsS "http://127.0.0.1:$port/metrics"
	assert_line --regexp '^perfkit_cpu_seconds_total\{mode="idle"\} [0-9.]+$'
	run -0 curl -fsS -D - -o /dev/null "http://127.0.0.1:$port/metrics"
	assert_line --partial 'Content-Type: text/plain; version=0.0.4'
	run -0 curl -fsS "http://127.0.0.1:$port/healthz"
	assert_output ok
	run -0 curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/x"
	assert_output 404
	run -0 curl -sS -o /dev/null -w '%{http_code}' -X POST \
	    "http://127.0.0.1:$port/metrics"
	assert_output 405
	run -4 --separate-stderr perf-sample --listen "127.0.0.1:$port"
	[[ $stderr == "perf-sample: cannot listen on 127.0.0.1:$port: "* ]] ||
	    fail "$stderr"
	stop_sampler
	# Whole records only, each a sample.
	run -0 jq -e -s 'length > 0 and all(.type == "sample")' "$BATS_TEST_TMPDIR/out"
}

@test "the outlets' options: bad combinations are usage errors" {
	run -2 --separate-stderr perf-sample -f none
	[[ $stderr == *"--format none: no output at all"* ]]
	run -2 --separate-stderr perf-sample --listen 127.0.0.1:1 -n 3
	[[ $stderr == *"--listen alone samples at each scrape"* ]]
	run -2 --separate-stderr perf-sample --listen 127.0.0.1:99999
	[[ $stderr == *"--listen port '99999'"* ]]
	run -2 --separate-stderr perf-sample --push ftp://x
	[[ $stderr == *"an http:// or https:// URL is expected"* ]]
	run -2 --separate-stderr perf-sample --push http://x --push-interval 0
	[[ $stderr == *"--push-interval"* ]]
}

@test "the text file through node_exporter's textfile collector" {
	dir=$BATS_TEST_TMPDIR/textfiles
	mkdir "$dir"
	run -0 --separate-stderr perf-sample -i 100ms -n 3 -o "$dir/perfkit.prom"
	[ -z "$output" ]
	[ -z "$stderr" ]
	run -0 promtool check metrics <"$dir/perfkit.prom"
	pk_start_node_exporter "$dir"
	run -0 curl -fsS "http://$NODEX_ADDR/metrics"
	assert_line --regexp '^perfkit_cpu_seconds_total\{mode="user"\} [0-9.e+]+$'
	assert_line --regexp '^perfkit_sample_interval_seconds [0-9.]+$'
	assert_line '# TYPE perfkit_cpu_seconds_total counter'
	assert_line 'node_textfile_scrape_error 0'
	# Prometheus reads it through node_exporter.
	pk_start_prometheus "nodex=$NODEX_ADDR"
	pk_prom_wait 'perfkit_cpu_seconds_total{job="nodex",mode="idle"} > 0' 60 ||
	    fail "Prometheus has no perfkit_cpu_seconds_total from node_exporter"
}

@test "--push: at the interval while it runs, and at exit" {
	pk_start_pushgateway
	curl -fsS -X DELETE "$PUSHGW_URL/metrics/job/perf-sample/instance/$(hostname)"
	perf-sample -i 100ms --push "$PUSHGW_URL" --push-interval 200ms \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	PS_PID=$!
	i=0
	until [ -n "$(pushed perfkit_sample_timestamp_seconds)" ]; do
		i=$((i + 1))
		[ "$i" -lt 120 ] || fail "nothing pushed: $(cat "$BATS_TEST_TMPDIR/err")"
		sleep 0.25
	done
	t1=$(pushed perfkit_sample_timestamp_seconds)
	# A later sample, pushed while it runs.
	i=0
	until awk -v a="$t1" -v b="$(pushed perfkit_sample_timestamp_seconds)" \
	    'BEGIN { exit !(b > a) }'; do
		i=$((i + 1))
		[ "$i" -lt 120 ] || fail "no second push after $t1"
		sleep 0.25
	done
	[ -n "$(pushed perfkit_cpu_seconds_total)" ] ||
	    fail "no perfkit_cpu_seconds_total pushed"
	stop_sampler
	[ ! -s "$BATS_TEST_TMPDIR/out" ] || fail "wrote to stdout"
	[ ! -s "$BATS_TEST_TMPDIR/err" ] || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	# A short run pushes its last sample at exit, before the interval.
	run -0 --separate-stderr perf-sample --replay "$FX/server" --push "$PUSHGW_URL"
	awk -v v="$(pushed perfkit_sample_timestamp_seconds)" \
	    'BEGIN { exit !(v == 1731005000.5) }' ||
	    fail "pushed at exit: $(pushed perfkit_sample_timestamp_seconds)"
	# --push-delete leaves no group behind.
	run -0 --separate-stderr perf-sample --replay "$FX/server" --push "$PUSHGW_URL" \
	    --push-delete
	assert_equal "$(pushed perfkit_sample_timestamp_seconds)" ""
}

@test "a process name that is not UTF-8 is exposed as U+FFFD, and promtool takes it" {
	# comm is the executable's name: bytes 0xff and 0xfe, a quote, a backslash.
	name=$(printf 'bad\377"q\\\376')
	cp "$(command -v sleep)" "$BATS_TEST_TMPDIR/$name"
	"$BATS_TEST_TMPDIR/$name" 60 &
	KID=$!
	# Until it has exec'd (the fork is still called bash).
	for _ in $(seq 100); do
		[ "$(cat "/proc/$KID/comm" 2>/dev/null)" = "$name" ] && break
		sleep 0.1
	done
	[ "$(cat "/proc/$KID/comm")" = "$name" ] || fail "comm: $(cat "/proc/$KID/comm")"
	run -0 perf-sample -i 100ms -f prom -p "$KID"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/x.prom"
	run -0 promtool check metrics <"$BATS_TEST_TMPDIR/x.prom"
	want=$(printf 'perfkit_processes{comm="bad\357\277\275\\"q\\\\\357\277\275"} 1')
	run -0 grep -cxF "$want" "$BATS_TEST_TMPDIR/x.prom"
	assert_output 1
	iconv -f UTF-8 -t UTF-8 "$BATS_TEST_TMPDIR/x.prom" >/dev/null
	# The same through a real server and Prometheus.
	port=$(pk_free_port)
	perf-sample --listen "127.0.0.1:$port" -p "$KID" 2>/dev/null 3>&- &
	PS_PID=$!
	pk_wait_port "$port" 10 || fail "nothing listens on $port"
	pk_start_prometheus "ps=127.0.0.1:$port"
	pk_prom_wait 'perfkit_processes{job="ps"} == 1' 60 || fail "no process series"
	run -0 pk_prom_query 'perfkit_processes{job="ps"}'
	echo "$output" | jq -e --arg c "$(printf 'bad\357\277\275"q\\\357\277\275')" \
	    '.[0].metric.comm == $c'
	# The JSON record has it valid too.
	run -0 perf-sample -i 100ms -n 1 -p "$KID"
	echo "$output" | jq -e -s --arg c "$(printf 'bad\357\277\275"q\\\357\277\275')" \
	    'map(select(.type == "proc"))[0].comm == $c'
}

@test "without libmicrohttpd or libcurl: a clear error, status 4" {
	unshare -m true 2>/dev/null || skip "no mount namespaces here"
	# glibc's ld.so leaks 42 bytes (_dl_map_object) when a dlopen fails.
	[ -z "${PK_VALGRIND:-}" ] || skip "a failed dlopen leaks inside glibc"
	mhd=$(ldconfig -p | awk '$1 == "libmicrohttpd.so.12" { print $NF; exit }')
	curl=$(ldconfig -p | awk '$1 == "libcurl.so.4" { print $NF; exit }')
	[ -n "$mhd" ] && [ -n "$curl" ] || skip "libraries not found by ldconfig"
	# The library replaced by an empty file, in this command's namespace.
	run -4 --separate-stderr unshare -m sh -c \
	    'mount --bind /dev/null "$(readlink -f "$1")" && exec "$2" --listen 127.0.0.1:0' \
	    sh "$mhd" "$(command -v perf-sample)"
	[[ $stderr == "perf-sample: cannot load libmicrohttpd.so.12 (libmicrohttpd, for --listen): "* ]] ||
	    fail "$stderr"
	run -4 --separate-stderr unshare -m sh -c \
	    'mount --bind /dev/null "$(readlink -f "$1")" && exec "$2" -n 1 --push http://127.0.0.1:1' \
	    sh "$curl" "$(command -v perf-sample)"
	[[ $stderr == "perf-sample: cannot load libcurl.so.4 (libcurl, for --push): "* ]] ||
	    fail "$stderr"
	# Without an outlet, neither is loaded.
	run -0 --separate-stderr unshare -m sh -c \
	    'mount --bind /dev/null "$(readlink -f "$1")" && mount --bind /dev/null "$(readlink -f "$2")" && exec "$3" -n 1 -i 10ms' \
	    sh "$mhd" "$curl" "$(command -v perf-sample)"
	echo "$output" | jq -e '.type == "sample"'
}
