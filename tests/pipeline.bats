#!/usr/bin/env bats
# The headline pipeline, perf-sample | perf-profile | perf-qualityctl |
# perf-alert: live under stress-ng, over a replayed day with known
# episodes, and fed a million records as fast as it can take them.
# The perf-alert stage joins where perf-alert is built.

load common

P=$FIXTURES/pipeline
T0=1732233600	# the day's midnight (tests/fixtures/pipeline/day.py)

setup() {
	export PERF_QUALITYCTL_DIR=$BATS_TEST_TMPDIR/qstate
}

teardown() {
	pk_stop_pid "${STRESS:-}"
}

san() { [[ $PK_BUILD == */san ]]; }
have_alert() { command -v perf-alert >/dev/null; }

# The last stage: perf-alert with the pipeline's rules, or a plain cat.
alert_stage() {
	if have_alert; then
		perf-alert "$@" -c "$P/alerts.yaml"
	else
		cat
	fi
}

# Seconds since the day's midnight of the records that jq filter $2
# selects from file $1, with more fields: [t, ...].
at() {
	jq -c "select($2) | [.ts - $T0${3:+, $3}]" "$1"
}

# Assert that number $1 lies in [$2, $3].
within() {
	awk -v x="$1" -v a="$2" -v b="$3" 'BEGIN { exit !(x >= a && x <= b) }' ||
	    { echo "$1 not in [$2, $3]"; false; }
}

@test "live under stress-ng --cpu 2: a CPU bottleneck, a step down, an alert on CPU" {
	local n=60
	stress-ng --cpu 2 --timeout 120s >/dev/null 2>&1 &
	STRESS=$!
	# Half a minute of samples at 500 ms through every stage.
	perf-sample -i 500ms -n "$n" |
	    perf-profile |
	    perf-qualityctl -d "$BATS_TEST_TMPDIR/q" |
	    alert_stage >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	pk_stop_pid "$STRESS"
	STRESS=
	[ ! -s "$BATS_TEST_TMPDIR/err" ] || { cat "$BATS_TEST_TMPDIR/err"; false; }
	run -0 grep -c '^{"type":"sample"' "$BATS_TEST_TMPDIR/out"
	assert_output "$n"
	# perf-profile: the system's CPU is the bottleneck.
	run -0 jq -c 'select(.type == "bottleneck" and .state == "start") | [.component, .kind]' "$BATS_TEST_TMPDIR/out"
	assert_line '["system","cpu"]'
	# perf-qualityctl: the level stepped down on the pressure.
	run -0 jq -c 'select(.type == "quality" and .reason == "pressure_high") | .inputs.cpu.norm' "$BATS_TEST_TMPDIR/out"
	[ "${#lines[@]}" -ge 1 ]
	run -0 jq -r .level "$BATS_TEST_TMPDIR/q/state.json"
	refute_output ULTRA_HIGH
	# perf-alert: the CPU alerts fire.
	if have_alert; then
		run -0 jq -c 'select(.type == "alert" and .event == "firing") | .rule' "$BATS_TEST_TMPDIR/out"
		assert_line '"cpu_saturated"'
		assert_line '"cpu_bottleneck"'
	fi
}

@test "a replayed day: each episode found at its time, nothing else, byte-identical twice" {
	local day=$BATS_TEST_TMPDIR/day.jsonl o=$BATS_TEST_TMPDIR/out
	python3 "$P/day.py" >"$day"
	run -0 wc -l <"$day"
	assert_output 259200
	perf-profile "$day" | perf-qualityctl -n | alert_stage >"$o"
	perf-profile "$day" | perf-qualityctl -n | alert_stage >"$o.2"
	cmp "$o" "$o.2"
	# Every input line passed every stage, in order.
	grep -v -e '^{"type":"bottleneck"' -e '^{"type":"profile"' \
	    -e '^{"type":"quality"' -e '^{"type":"alert"' "$o" | cmp - "$day"

	# perf-profile: three episodes, each starting and ending once.
	run -0 at "$o" '.type == "bottleneck" and .state != "change"' '.component, .kind, .state'
	[ "${#lines[@]}" -eq 6 ]
	# 10:00 thermal ramp: 75 C (trip 85 - margin 10) is reached at
	# 36827.6 s, its 10 s EWMA some 10 s later; 74 C on the way down
	# at 38007.
	[[ ${lines[0]} == *',"system","thermal","start"]' ]]
	within "$(jq '.[0]' <<<"${lines[0]}")" 36827 36870
	[[ ${lines[1]} == *',"system","thermal","end"]' ]]
	within "$(jq '.[0]' <<<"${lines[1]}")" 38007 38040
	# 15:00 leak: 2000 KiB/min over the 1024 target, found no sooner
	# than half the 10 min leak window in; it ends about as long after
	# the RSS holds (55800).
	[[ ${lines[2]} == *',"mapper","leak","start"]' ]]
	within "$(jq '.[0]' <<<"${lines[2]}")" 54300 54330
	[[ ${lines[3]} == *',"mapper","leak","end"]' ]]
	within "$(jq '.[0]' <<<"${lines[3]}")" 56100 56130
	# 20:00 CPU hog: the EWMA of 97 % crosses 90 % after 22.6 s.
	[[ ${lines[4]} == *',"system","cpu","start"]' ]]
	within "$(jq '.[0]' <<<"${lines[4]}")" 72015 72030
	[[ ${lines[5]} == *',"system","cpu","end"]' ]]
	within "$(jq '.[0]' <<<"${lines[5]}")" 72600 72610
	run -0 jq -r 'select(.type == "bottleneck" and .kind == "cpu" and .state == "start") | .contributors[0].component' "$o"
	assert_output hog

	# perf-qualityctl: down during the heat (headroom under 8.75 C at
	# 36879 s) and the hog (at once: P = 100), back up after each, not
	# before the pressure is under 50 (12.5 C of headroom at 38038 s).
	run -0 at "$o" '.type == "quality" and .reason != "impact"' '.reason, .level'
	assert_line --index 0 '[0,"start","ULTRA_HIGH"]'
	[[ ${lines[1]} == *',"pressure_high","HIGH"]' ]]
	within "$(jq '.[0]' <<<"${lines[1]}")" 36879 36885
	[[ ${lines[4]} == *',"pressure_high","ULTRA_LOW"]' ]]
	within "$(jq '.[0]' <<<"${lines[4]}")" 36880 36900
	[[ ${lines[8]} == *',"pressure_low","ULTRA_HIGH"]' ]]
	within "$(jq '.[0]' <<<"${lines[8]}")" 38038 38400
	[[ ${lines[9]} == *',"pressure_high","HIGH"]' ]]
	within "$(jq '.[0]' <<<"${lines[9]}")" 72001 72002
	[[ ${lines[12]} == *',"pressure_high","ULTRA_LOW"]' ]]
	[[ ${lines[16]} == *',"pressure_low","ULTRA_HIGH"]' ]]
	within "$(jq '.[0]' <<<"${lines[16]}")" 72600 73200
	[ "${#lines[@]}" -eq 17 ]

	# perf-alert: each rule fires at its time and resolves.
	have_alert || return 0
	run -0 at "$o" '.type == "alert" and .event != "pending"' '.rule, .event'
	[ "${#lines[@]}" -eq 12 ]
	assert_line --index 0 --partial ',"degraded","firing"]'
	# Over 80 C from 37034 s, for 60 s; under it again at 37883.
	assert_line --index 1 --partial ',"cpu_hot","firing"]'
	within "$(jq '.[0]' <<<"${lines[1]}")" 37094 37096
	assert_line --index 2 --partial ',"cpu_hot","resolved"]'
	within "$(jq '.[0]' <<<"${lines[2]}")" 37882 37884
	assert_line --index 3 --partial ',"degraded","resolved"]'
	assert_line --index 4 --partial ',"leak","firing"]'
	within "$(jq '.[0]' <<<"${lines[4]}")" 54300 54330
	assert_line --index 5 --partial ',"leak","resolved"]'
	# Over 95 % from 72000 s, for 10 s.
	run -0 at "$o" '.type == "alert" and .rule == "cpu_saturated" and .event != "pending"' '.event'
	assert_equal "${#lines[@]}" 2
	within "$(jq '.[0]' <<<"${lines[0]}")" 72010 72011
	within "$(jq '.[0]' <<<"${lines[1]}")" 72600 72601
}

@test "load: a million records as fast as they go, none lost, every stage in bounded memory" {
	local n=1000000 d=$BATS_TEST_TMPDIR
	# Scaled to 100000 under the sanitizers (their shadow memory and
	# quarantine make RSS meaningless and every stage slower).
	san && n=100000
	awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
	    printf "{\"type\":\"sample\",\"ts\":%d,\"host\":\"h\",\"cpu\":{\"util\":%d},\"mem\":{\"total_kb\":4000000,\"avail_kb\":%d,\"used_pct\":50}}\n",
	        1732300000 + i, (i % 600 < 60) ? 99 : 30 + i % 17, 2000000 + i % 1000 }' >"$d/in"
	T() { /usr/bin/time -f %M -o "$d/rss.$1" "${@:2}"; }
	T perf-profile perf-profile "$d/in" | tee "$d/s1" |
	    T perf-qualityctl perf-qualityctl -n | tee "$d/s2" |
	    if have_alert; then T perf-alert perf-alert -c "$P/alerts.yaml"; else cat; fi >"$d/s3"
	for s in s1 s2 s3; do
		run -0 grep -c '^{"type":"sample"' "$d/$s"
		assert_output "$n"
	done
	grep '^{"type":"sample"' "$d/s3" | cmp - "$d/in"
	# The stages found the CPU episodes (one every 600 s) and said so.
	run -0 grep -c '^{"type":"bottleneck".*"state":"start"' "$d/s1"
	[ "$output" -ge $((n / 600 / 2)) ]
	run -0 grep -c '^{"type":"quality"' "$d/s2"
	[ "$output" -ge $((n / 600)) ]
	for s in perf-profile perf-qualityctl perf-alert; do
		[ -e "$d/rss.$s" ] || continue
		rss=$(tail -n1 "$d/rss.$s")
		echo "# $s: max RSS $rss KiB over $n records" >&3
		san || [ "$rss" -lt 32768 ]
	done
}
