#!/usr/bin/env bats
# perf-profile's and perf-qualityctl's Prometheus exposition: promtool
# checks what is written, the man pages are held against the families,
# the figures against the records; then real servers (tests/prom.bash):
# Prometheus scrapes both --listen in a live pipeline, a Pushgateway
# receives --push, and the records keep flowing. Counts, never times.

load common
load prom

PF=$FIXTURES/perf-profile
QF=$FIXTURES/perf-qualityctl
PIDS=()

teardown() {
	pk_prom_teardown
}

# 150 s of one host: every metric of the profile records, and the CPU
# saturated from 100 s on (a bottleneck open at the end).
all_metrics() {
	awk 'BEGIN {
	    for (i = 0; i < 150; i++) {
		t = 1732300000 + i
		printf "{\"type\":\"sample\",\"ts\":%d,\"host\":\"bot1\",\"cpu\":{\"util\":%d,\"iowait\":2},\"mem\":{\"total_kb\":4000000,\"avail_kb\":2000000,\"used_pct\":50},\"psi\":{\"memory\":{\"some_avg10\":1},\"io\":{\"some_avg10\":2}},\"temp_c\":{\"cpu\":50},\"temp_trip_c\":{\"cpu\":85},\"vmstat\":{\"pswpin_per_s\":1,\"pswpout_per_s\":2,\"pgmajfault_per_s\":3}}\n", t, i < 100 ? 30 : 99
		printf "{\"type\":\"proc\",\"ts\":%d.2,\"host\":\"bot1\",\"comm\":\"hog\",\"cpu_pct\":150,\"rss_kb\":1000,\"read_bytes_per_s\":10,\"write_bytes_per_s\":20}\n", t
		printf "{\"type\":\"metric\",\"ts\":%d.5,\"host\":\"bot1\",\"component\":\"lane\",\"fps\":30,\"latency_ms\":40,\"throughput_per_s\":100,\"queue_depth\":2}\n", t
		printf "{\"type\":\"loop\",\"ts\":%d.7,\"host\":\"bot1\",\"event\":\"interval\",\"ticks\":990,\"misses\":5,\"skipped\":10,\"exec_us\":{\"p99\":250}}\n", t
	    } }'
}

@test "perf-profile: promtool accepts the exposition; the man page lists every family written, and no other" {
	all_metrics >"$BATS_TEST_TMPDIR/in.jsonl"
	tf=$BATS_TEST_TMPDIR/p.prom
	run -0 --separate-stderr perf-profile -i 10s --textfile "$tf" \
	    "$BATS_TEST_TMPDIR/in.jsonl"
	pk_prom_man_holds perf-profile "$tf" 27
	# Base units: a ratio, bytes, seconds, a process on one and a half CPUs.
	assert_equal "$(pk_prom_sample 'perfkit_profile_cpu_util_ratio{component="system",host="bot1",stat="p50"}' "$tf")" 0.99
	assert_equal "$(pk_prom_sample 'perfkit_profile_rss_bytes{component="hog",host="bot1",stat="p95"}' "$tf")" 1024000
	assert_equal "$(pk_prom_sample 'perfkit_profile_latency_seconds{component="lane",host="bot1",stat="p95"}' "$tf")" 0.04
	assert_equal "$(pk_prom_sample 'perfkit_profile_cpu_ratio{component="hog",host="bot1",stat="p50"}' "$tf")" 1.5
	assert_equal "$(pk_prom_sample 'perfkit_profile_bottleneck_active{check="cpu",component="system",host="bot1",kind="cpu",severity="low"}' "$tf")" 1
	assert_equal "$(pk_prom_sample perfkit_profile_records_read_total "$tf")" 600
	assert_equal "$(pk_prom_sample perfkit_profile_components "$tf")" 4
	assert_equal "$(pk_prom_sample perfkit_profile_window_seconds "$tf")" 60
}

@test "perf-profile: the exposition says what the records say" {
	tf=$BATS_TEST_TMPDIR/p.prom
	{ cat "$PF/latency.jsonl"; echo '{"type":"metric",'; } >"$BATS_TEST_TMPDIR/in.jsonl"
	run -3 --separate-stderr perf-profile -c "$ROOT/examples/perf-profile.yaml" \
	    -i 10s --textfile "$tf" "$BATS_TEST_TMPDIR/in.jsonl"
	echo "$output" >"$BATS_TEST_TMPDIR/out.jsonl"
	run -0 python3 - "$BATS_TEST_TMPDIR/out.jsonl" "$tf" <<-'EOF'
	import json, re, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	prom = {}
	for l in open(sys.argv[2]):
	    if not l.startswith("#"):
	        k, v = l.rsplit(" ", 1)
	        prom[k] = float(v)
	def series(name):
	    out = []
	    for k, v in prom.items():
	        m = re.fullmatch(name + r"\{(.*)\}", k)
	        if m:
	            out.append((dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))), v))
	    return out
	# Bottlenecks started, per component and kind; those still open.
	started, last = {}, {}
	for r in recs:
	    if r["type"] == "bottleneck":
	        key = (r["component"], r["kind"], r["metric"])
	        if r["state"] == "start":
	            started[key[:2]] = started.get(key[:2], 0) + 1
	        last[key] = r
	got = {}
	for l, v in series("perfkit_profile_bottlenecks_started_total"):
	    k = (l["component"], l["kind"])
	    got[k] = got.get(k, 0) + v
	assert {k: v for k, v in got.items() if v} == started, (got, started)
	assert sum(started.values()) >= 2
	open_ = sorted((c, k, r["severity"]) for (c, k, m), r in last.items()
	               if r["state"] != "end")
	act = sorted((l["component"], l["kind"], l["severity"])
	             for l, v in series("perfkit_profile_bottleneck_active"))
	assert act == open_, (act, open_)
	assert all(v == 1 for l, v in series("perfkit_profile_bottleneck_active"))
	# The last profile of each component: efficiency and quantiles.
	prof = {}
	for r in recs:
	    if r["type"] == "profile":
	        prof[r["component"]] = r
	for l, v in series("perfkit_profile_efficiency_ratio"):
	    assert abs(v - prof[l["component"]]["efficiency"] / 100) < 1e-9
	lane = prof["lane_detector"]
	for l, v in series("perfkit_profile_latency_seconds"):
	    assert abs(v - lane["latency_ms"][l["stat"]] / 1000) < 1e-6, (l, v)
	assert len(series("perfkit_profile_latency_seconds")) == 2
	assert prom["perfkit_profile_records_read_total"] == sum(
	    r["type"] in ("sample", "proc", "metric") for r in recs)
	assert prom["perfkit_profile_bad_lines_total"] == 1
	EOF
}

@test "perf-qualityctl: promtool accepts the exposition; the man page lists every family written, and no other" {
	tf=$BATS_TEST_TMPDIR/q.prom
	run -0 --separate-stderr perf-qualityctl -c "$QF/quality.yaml" \
	    -d "$BATS_TEST_TMPDIR/state" -e true --textfile "$tf" "$QF/overload.jsonl"
	pk_prom_man_holds perf-qualityctl "$tf" 11
}

@test "perf-qualityctl: the exposition says what the records say" {
	tf=$BATS_TEST_TMPDIR/q.prom
	{ cat "$QF/overload.jsonl"; echo 'not json'; } >"$BATS_TEST_TMPDIR/in.jsonl"
	run -3 --separate-stderr perf-qualityctl -c "$QF/quality.yaml" \
	    -d "$BATS_TEST_TMPDIR/state" -e 'exit 3' --textfile "$tf" \
	    "$BATS_TEST_TMPDIR/in.jsonl"
	echo "$output" >"$BATS_TEST_TMPDIR/out.jsonl"
	last=$(jq -s '[.[] | select(.type == "quality")] | last | .level_index' "$BATS_TEST_TMPDIR/out.jsonl")
	name=$(jq -rs '[.[] | select(.type == "quality")] | last | .level' "$BATS_TEST_TMPDIR/out.jsonl")
	assert_equal "$last" 0
	assert_equal "$(pk_prom_sample 'perfkit_quality_level{host="bot1"}' "$tf")" "$last"
	assert_equal "$(pk_prom_sample "perfkit_quality_level_info{host=\"bot1\",level=\"$name\"}" "$tf")" 1
	# Two steps down on high pressure; the start is no change.
	assert_equal "$(pk_prom_sample 'perfkit_quality_level_changes_total{direction="down",reason="pressure_high"}' "$tf")" \
	    "$(jq -s '[.[] | select(.type == "quality" and .reason == "pressure_high")] | length' "$BATS_TEST_TMPDIR/out.jsonl")"
	assert_equal "$(pk_prom_sample 'perfkit_quality_level_changes_total{direction="up",reason="pressure_low"}' "$tf")" 0
	# The command ran at every change, the start included, and failed.
	n=$(jq -s '[.[] | select(.type == "quality" and .reason != "impact")] | length' "$BATS_TEST_TMPDIR/out.jsonl")
	assert_equal "$(pk_prom_sample perfkit_quality_commands_run_total "$tf")" "$n"
	assert_equal "$(pk_prom_sample perfkit_quality_commands_failed_total "$tf")" "$n"
	assert_equal "$(pk_prom_sample perfkit_quality_override_active "$tf")" 0
	assert_equal "$(pk_prom_sample perfkit_quality_records_read_total "$tf")" 50
	assert_equal "$(pk_prom_sample perfkit_quality_bad_lines_total "$tf")" 1
	# The pressure of the last sample (cpu.util 95 on 0-100), and its term.
	assert_equal "$(pk_prom_sample 'perfkit_quality_pressure_ratio{host="bot1"}' "$tf")" 0.95
	assert_equal "$(pk_prom_sample 'perfkit_quality_term_pressure_ratio{host="bot1",term="cpu"}' "$tf")" 0.95
}

@test "perf-qualityctl: an override and its release are counted, the override shown" {
	tf=$BATS_TEST_TMPDIR/q.prom
	d=$BATS_TEST_TMPDIR/state
	mkfifo "$BATS_TEST_TMPDIR/in"
	perf-qualityctl -c "$QF/quality.yaml" -d "$d" --textfile "$tf" \
	    <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out.jsonl" 2>/dev/null 3>&- &
	PIDS+=($!)
	exec 4>"$BATS_TEST_TMPDIR/in"
	head -n 5 "$QF/overload.jsonl" >&4
	pk_wait_file "$d/state.json" 10
	run -0 perf-qualityctl -d "$d" set HIGH
	i=0
	until grep -qx 'perfkit_quality_override_active 1' "$tf" 2>/dev/null; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "no override in $tf"; sleep 0.1
	done
	assert_equal "$(pk_prom_sample 'perfkit_quality_level_changes_total{direction="up",reason="override"}' "$tf")" 1
	run -0 perf-qualityctl -d "$d" release
	i=0
	until grep -qx 'perfkit_quality_override_active 0' "$tf" 2>/dev/null; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "no release in $tf"; sleep 0.1
	done
	exec 4>&-
	wait "${PIDS[0]}"
	PIDS=()
	assert_equal "$(pk_prom_sample 'perfkit_quality_level_changes_total{direction="none",reason="release"}' "$tf")" 1
	assert_equal "$(pk_prom_sample 'perfkit_quality_level{host="bot1"}' "$tf")" 3
}

@test "the outlets' options: bad values are usage errors, a busy port is status 4, not with a subcommand" {
	for p in perf-profile perf-qualityctl; do
		run -2 --separate-stderr "$p" --listen 1.2.3.4:99999 /dev/null
		[[ $stderr == *"--listen port '99999' is too large (0..65535)"* ]] || fail "$p: $stderr"
		run -2 --separate-stderr "$p" --push ftp://x /dev/null
		[[ $stderr == *"an http:// or https:// URL is expected"* ]] || fail "$p: $stderr"
		run -2 --separate-stderr "$p" --push-interval 0 /dev/null
	done
	port=$(pk_free_port)
	python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' "$port" &
	PIDS+=($!)
	pk_wait_port "$port" 10
	for p in perf-profile "perf-qualityctl -n"; do
		run -4 --separate-stderr $p --listen "127.0.0.1:$port" "$PF/latency.jsonl"
		p=${p% -n}
		[[ $stderr == "$p: cannot listen on 127.0.0.1:$port: "* ]] || fail "$p: $stderr"
		[ -z "$output" ]
	done
	run -2 --separate-stderr perf-qualityctl --listen 127.0.0.1:0 status
	[[ $stderr == *"--listen"* ]] || fail "$stderr"
}

@test "SIGTERM ends a filter serving --listen while its input is idle" {
	dead=$(pk_free_port)
	for p in perf-profile "perf-qualityctl -n"; do
		rm -f "$BATS_TEST_TMPDIR/in"
		mkfifo "$BATS_TEST_TMPDIR/in"
		port=$(pk_free_port)
		# Both outlets' threads: neither may take the signal.
		$p --listen "127.0.0.1:$port" --push "http://127.0.0.1:$dead" \
		    -u <"$BATS_TEST_TMPDIR/in" \
		    >"$BATS_TEST_TMPDIR/out" 2>/dev/null 3>&- &
		pid=$!
		PIDS+=($pid)
		exec 4>"$BATS_TEST_TMPDIR/in"
		head -n 3 "$QF/overload.jsonl" >&4
		pk_wait_port "$port" 30
		run -0 curl -fsS "http://127.0.0.1:$port/metrics"
		# The three records through: it reads, its handlers are in place.
		i=0
		until [ "$(grep -c '"type":"sample"' "$BATS_TEST_TMPDIR/out")" -eq 3 ]; do
			i=$((i + 1)); [ "$i" -lt 300 ] || fail "$p: no records"; sleep 0.1
		done
		kill -TERM "$pid"
		# The read is interrupted: no more input is needed to end.
		st=0
		wait "$pid" || st=$?
		exec 4>&-
		assert_equal "$st" 0
		[ "$(grep -c '"type":"sample"' "$BATS_TEST_TMPDIR/out")" -eq 3 ]
		PIDS=()
	done
}

# Scrape URL n times; print how many answered 200.
scrapes() {
	local i ok=0
	for i in $(seq "$2"); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && ok=$((ok + 1))
	done
	echo "$ok"
}

# The value the Pushgateway holds for metric NAME of job JOB.
pushed() {
	curl -fsS "$PUSHGW_URL/metrics" |
	    awk -v n="$1" -v j="job=\"$2\"" 'index($1, n "{") == 1 && index($1, j) { print $2 }'
}

@test "a live pipeline: Prometheus scrapes both filters, a Pushgateway receives both, no record lost" {
	[ -z "${PK_VALGRIND:-}" ] || skip "a live pipeline at valgrind's speed"
	D=$BATS_TEST_TMPDIR
	p1=$(pk_free_port)
	p2=$(pk_free_port)
	while [ "$p2" = "$p1" ]; do p2=$(pk_free_port); done
	pk_start_prometheus "profile=127.0.0.1:$p1" "quality=127.0.0.1:$p2"
	pk_start_pushgateway
	cat >"$D/profile.yaml" <<-EOF
	window: 5s
	components:
	  lane:
	    latency_p95_ms: 50
	EOF
	cat >"$D/quality.yaml" <<-EOF
	pressure:
	  combine: max
	  latency: { weight: 1, low: 50, high: 200 }
	EOF
	export -f pk_prom_lane
	cat >"$D/pipe.sh" <<-EOF
	{ perf-sample -i 200ms -m cpu,mem & echo \$! >"$D/sample.pid"; pk_prom_lane "$D" 1200; wait; } |
	    tee "$D/in.jsonl" |
	    perf-profile -c "$D/profile.yaml" -i 1s --listen 127.0.0.1:$p1 \
	        --push "$PUSHGW_URL" --push-interval 500ms 2>"$D/profile.err" |
	    perf-qualityctl -n -c "$D/quality.yaml" --listen 127.0.0.1:$p2 \
	        --push "$PUSHGW_URL" --push-interval 500ms >"$D/out.jsonl" 2>"$D/quality.err"
	EOF
	bash "$D/pipe.sh" 3>&- &
	PIDS+=($!)
	pk_wait_file "$D/sample.pid" 10
	PIDS+=("$(cat "$D/sample.pid")")
	# The bottleneck provoked shows as open, the level steps down to 0.
	pk_prom_wait 'perfkit_profile_bottleneck_active{job="profile",check="latency",component="lane",kind="latency"} == 1' 60 ||
	    fail "no bottleneck in Prometheus: $(cat "$D/profile.err")"
	pk_prom_wait 'perfkit_quality_level{job="quality"} == 0' 60 ||
	    fail "no level 0 in Prometheus: $(cat "$D/quality.err")"
	run -0 pk_prom_query 'sum by (kind) (perfkit_profile_bottleneck_active)'
	echo "$output" | jq -e 'map(select(.metric.kind == "latency")) | length == 1'
	run -0 pk_prom_query 'perfkit_quality_level_info{job="quality",level="ULTRA_LOW"}'
	echo "$output" | jq -e 'length == 1 and .[0].value[1] == "1"'
	run -0 pk_prom_query 'perfkit_quality_term_pressure_ratio{job="quality",term="latency"}'
	echo "$output" | jq -e '.[0].value[1] == "1"'
	run -0 pk_prom_query 'perfkit_profile_latency_seconds{job="profile",component="lane",stat="p95"}'
	echo "$output" | jq -e '.[0].value[1] == "0.5"'
	pk_prom_wait 'rate(perfkit_quality_records_read_total{job="quality"}[5s]) > 0' 30
	# Scraped hard while it runs, the records keep flowing.
	n1=$(wc -l <"$D/out.jsonl")
	scrapes "http://127.0.0.1:$p1/metrics" 100 >"$D/ok1" &
	s1=$!
	scrapes "http://127.0.0.1:$p2/metrics" 100 >"$D/ok2" &
	s2=$!
	wait "$s1" "$s2"
	assert_equal "$(cat "$D/ok1")" 100
	assert_equal "$(cat "$D/ok2")" 100
	i=0
	until [ "$(wc -l <"$D/out.jsonl")" -gt "$n1" ]; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "the records stopped"; sleep 0.1
	done
	# The end: the samples stop (SIGTERM), the lane stops, input ends.
	touch "$D/stop"
	kill -TERM "$(cat "$D/sample.pid")"
	wait "${PIDS[0]}"
	PIDS=()
	# Every record that went in came out, in order, once.
	jq -c 'select(.type == "sample" or .type == "metric")' "$D/out.jsonl" >"$D/through"
	jq -c . "$D/in.jsonl" >"$D/in.c"
	[ "$(wc -l <"$D/in.c")" -gt 20 ]
	diff -q "$D/in.c" "$D/through"
	# The level Prometheus last saw is that of the last quality record.
	want=$(jq -s '[.[] | select(.type == "quality")] | last | .level_index' "$D/out.jsonl")
	run -0 pk_prom_query 'last_over_time(perfkit_quality_level{job="quality"}[5m])'
	echo "$output" | jq -e --arg w "$want" '.[0].value[1] == $w'
	# The final pushes count every record read.
	n=$(wc -l <"$D/in.c")
	assert_equal "$(pushed perfkit_profile_records_read_total perf-profile)" "$n"
	assert_equal "$(pushed perfkit_quality_records_read_total perf-qualityctl)" "$n"
	assert_equal "$(pushed perfkit_quality_level perf-qualityctl)" "$want"
	[ ! -s "$D/profile.err" ] || fail "$(cat "$D/profile.err")"
}
