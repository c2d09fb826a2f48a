#!/usr/bin/env bats
# perf-qualityctl: pressure to quality level, on crafted streams.

load common

F=$FIXTURES/perf-qualityctl
Q=$F/quality.yaml

setup() {
	export PERF_QUALITYCTL_DIR=$BATS_TEST_TMPDIR/state
}

# The quality records of a run, one line each, chosen fields.
changes() {
	jq -c 'select(.type == "quality" and .reason != "impact")
	    | [.reason, .prev, .level]' "$1"
}

# Wait until a file has a line matching a pattern (max $3 seconds).
wait_grep() {
	local i=0
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt $((${3:-10} * 10)) ] || return 1
		sleep 0.1
	done
}

@test "-h prints the usage and the options on stdout" {
	run -0 --separate-stderr perf-qualityctl -h
	assert_line --index 0 --partial "usage: perf-qualityctl [-hnu] [-c config]"
	assert_output --partial "--on-change CMD"
	assert_output --partial "set LEVEL"
	[ -z "$stderr" ]
}

@test "a bad option is a usage error (status 2)" {
	run -2 --separate-stderr perf-qualityctl -x
	[ -z "$output" ]
	[[ $stderr == *"usage: perf-qualityctl"* ]]
}

@test "--list-options prints the options, then the subcommands" {
	run -0 perf-qualityctl --list-options
	assert_line "--config="
	assert_line "--on-change="
	assert_line "set"
	assert_line "release"
	assert_line "status"
}

@test "every input line passes through unchanged and in order" {
	run -0 --separate-stderr perf-qualityctl -c "$Q" "$F/day.jsonl"
	printf '%s\n' "$output" | grep -v '"type":"quality"' >"$BATS_TEST_TMPDIR/through"
	cmp "$F/day.jsonl" "$BATS_TEST_TMPDIR/through"
}

@test "pressure hovering +-5 around a threshold gives zero changes" {
	run -0 --separate-stderr perf-qualityctl -c "$Q" "$F/hover.jsonl"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 changes "$BATS_TEST_TMPDIR/out"
	assert_output '["start",null,"MEDIUM"]'
}

@test "noise that reaches the down threshold is overload part of the time" {
	# The man page's caveat: 72 +-5 (uniform; cpu.util maps 60..95 to
	# 0..100) is not in the dead band, and steps down within a minute.
	python3 -c '
import json, random
rnd = random.Random(3)
for t in range(60):
    p = 72 + rnd.uniform(-5, 5)
    print(json.dumps({"type": "sample", "ts": 1000 + t, "host": "h",
                      "cpu": {"util": round(60 + p * 0.35, 3)}}))
' >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/in"
	run -0 jq -r 'select(.reason == "pressure_high") | .detail' <<<"$output"
	assert_line --index 0 "raw pressure >= 75 on 2 evaluations"
}

@test "a step to overload steps down within two samples" {
	run -0 --separate-stderr perf-qualityctl -c "$Q" "$F/overload.jsonl"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	# The first overloaded sample, and the first step down.
	first=$(jq -r 'select(.type == "sample" and .cpu.util >= 75) | .ts' \
	    "$F/overload.jsonl" | head -n1)
	down=$(jq -r 'select(.reason == "pressure_high") | .ts' \
	    "$BATS_TEST_TMPDIR/out" | head -n1)
	[ -n "$first" ] && [ -n "$down" ]
	# Within two samples: at the first or the second (1 s apart).
	awk -v a="$first" -v b="$down" 'BEGIN { exit !(b - a >= 0 && b - a <= 1) }'
	run -0 changes "$BATS_TEST_TMPDIR/out"
	assert_line --index 1 '["pressure_high","MEDIUM","LOW"]'
	# The step down comes right after the sample that decided it.
	run -0 grep -B1 '"reason":"pressure_high"' "$BATS_TEST_TMPDIR/out"
	assert_line --index 0 --partial "\"ts\":$down,"
}

@test "a slow recovery climbs one level at a time after the dwell" {
	run -0 --separate-stderr perf-qualityctl -c "$Q" "$F/recovery.jsonl"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	jq -c 'select(.reason == "pressure_low") | [.ts, .level_index]' \
	    "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/ups"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/ups")" -eq 4 ]
	# Each step up is one level, at least the dwell (10 s) after the last
	# change; the first only once the pressure was <= 50 for 10 s.
	run -0 jq -s -r '
	    [.[] | select(.type == "quality" and .reason != "impact")] as $c |
	    [range(1; $c | length) | select($c[.].reason == "pressure_low") |
	     ($c[.].level_index - $c[. - 1].level_index == 1) and
	     ($c[.].ts - $c[. - 1].ts >= 10)] | all' "$BATS_TEST_TMPDIR/out"
	assert_output true
	low=$(jq -r 'select(.type == "sample" and .cpu.util <= 50) | .ts' \
	    "$F/recovery.jsonl" | head -n1)
	up=$(head -n1 "$BATS_TEST_TMPDIR/ups" | jq '.[0]')
	awk -v a="$low" -v b="$up" 'BEGIN { exit !(b - a >= 10) }'
	run -0 changes "$BATS_TEST_TMPDIR/out"
	assert_line --index 6 '["pressure_low","HIGH","ULTRA_HIGH"]'
}

@test "a step up that had to be undone doubles its dwell" {
	run -0 --separate-stderr perf-qualityctl -c "$F/undone.yaml" "$F/undone.jsonl"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 jq -c 'select(.type == "quality" and .reason != "impact")
	    | [.reason, .level, .dwell_s, .ts]' "$BATS_TEST_TMPDIR/out"
	assert_line --index 1 '["pressure_low","HIGH",10,1732300025.25]'
	assert_line --index 2 '["pressure_low","ULTRA_HIGH",null,1732300037.25]'
	assert_line --index 3 '["pressure_high","HIGH",20,1732300046.25]'
	# Back up only after 20 s of low pressure: the first evaluation after
	# a change (47.25) is not averaged, so from 48.25 on.
	assert_line --index 4 '["pressure_low","ULTRA_HIGH",null,1732300068.25]'
	run -0 grep -c 'undid a step up' "$BATS_TEST_TMPDIR/out"
	assert_output 1
}

@test "never up to a level that cannot be held: the predicted pressure" {
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-EOF
	pressure:
	  cpu: { low: 0, high: 100 }
	  memory: { weight: 0 }
	control:
	  initial: LOW
	  step_cost: 30
	EOF
	# 45 <= up, but 45 + 30 > 75 - 5: held at LOW.
	for i in $(seq 0 99); do
		printf '{"type":"sample","ts":%d,"host":"h","cpu":{"util":45}}\n' $((1000 + i))
	done >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 grep -c '"type":"quality"' <<<"$output"
	assert_output 1
	# At 30 it may climb: 30 + 30 <= 70.
	sed 's/"util":45/"util":30/' "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/in30"
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in30"
	assert_output --partial '"reason":"pressure_low","detail":"pressure 30.0 <= 50 for 10s; predicted 60.0 at MEDIUM <= 70"'
}

@test "closed loop: a level that cannot be held is tried ever more rarely" {
	# The application's load is 40 points per level: LOW (40) holds,
	# MEDIUM (80) cannot. Dwell alone: each undone try doubles the wait.
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-EOF
	pressure: { cpu: { low: 0, high: 100 } }
	control: { initial: ULTRA_LOW, impact_after: 1h }
	EOF
	run -0 --separate-stderr "$F/loop.py" 1000 40 -c "$BATS_TEST_TMPDIR/q.yaml"
	run -0 awk '$3 == "MEDIUM" { if (p != "") printf "%d ", $1 - p; p = $1 }' <<<"$output"
	assert_output "24 44 84 164 304 304 "
	# With the impacts learned, MEDIUM is predicted at 80 > 70 after the
	# first try: only the probe (every 5 min) tries it again.
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-EOF
	pressure: { cpu: { low: 0, high: 100 } }
	control: { initial: ULTRA_LOW }
	EOF
	run -0 --separate-stderr "$F/loop.py" 1000 40 -c "$BATS_TEST_TMPDIR/q.yaml"
	assert_output "0 start ULTRA_LOW
11 pressure_low LOW
23 pressure_low MEDIUM
25 pressure_high LOW
327 pressure_low MEDIUM
329 pressure_high LOW
631 pressure_low MEDIUM
633 pressure_high LOW
935 pressure_low MEDIUM
937 pressure_high LOW"
}

@test "replaying a log is deterministic: byte-identical output" {
	perf-qualityctl -c "$Q" "$F/day.jsonl" >"$BATS_TEST_TMPDIR/a" 2>/dev/null
	cp "$PERF_QUALITYCTL_DIR/state.json" "$BATS_TEST_TMPDIR/sa"
	rm -rf "$PERF_QUALITYCTL_DIR"
	perf-qualityctl -c "$Q" "$F/day.jsonl" >"$BATS_TEST_TMPDIR/b" 2>/dev/null
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/sa" "$PERF_QUALITYCTL_DIR/state.json"
	[ "$(grep -c '"type":"quality"' "$BATS_TEST_TMPDIR/a")" -gt 10 ]
}

@test "the state file is the last change, atomic and readable by applications" {
	run -0 --separate-stderr perf-qualityctl -c "$Q" "$F/overload.jsonl"
	# The same record (compared as JSON: number formatting is the writer's).
	last=$(printf '%s\n' "$output" | grep '"type":"quality"' |
	    grep -v '"reason":"impact"' | tail -n1 | jq -cS .)
	[ "$(jq -cS . "$PERF_QUALITYCTL_DIR/state.json")" = "$last" ]
	[ "$(stat -c %a "$PERF_QUALITYCTL_DIR/state.json")" = 644 ]
	run -0 jq -c '[.level, .level_index, .settings]' "$PERF_QUALITYCTL_DIR/state.json"
	assert_output '["ULTRA_LOW",0,{"resolution_scale":0.3,"compression_quality":30,"frame_skip":3,"roi_scale":0.5,"features":[]}]'
	perf-qualityctl status >"$BATS_TEST_TMPDIR/status"
	cmp "$BATS_TEST_TMPDIR/status" "$PERF_QUALITYCTL_DIR/state.json"
	ls "$PERF_QUALITYCTL_DIR" >"$BATS_TEST_TMPDIR/ls"
	run -0 cat "$BATS_TEST_TMPDIR/ls"
	assert_output state.json
}

@test "--dry-run: records only, nothing outside standard output" {
	run -0 perf-qualityctl set HIGH
	run -0 --separate-stderr perf-qualityctl -n -c "$Q" -e "touch '$BATS_TEST_TMPDIR/ran'" "$F/overload.jsonl"
	# The override is not read, no state is written, no command runs.
	run -0 jq -c 'select(.type == "quality" and .reason != "impact") | [.reason, .level, .override]' <<<"$output"
	assert_output '["start","MEDIUM",false]
["pressure_high","LOW",false]
["pressure_high","ULTRA_LOW",false]'
	[ ! -e "$PERF_QUALITYCTL_DIR/state.json" ]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	# And it needs no state directory at all.
	run -0 --separate-stderr perf-qualityctl -n -d /proc/nonexistent/x -c "$Q" "$F/overload.jsonl"
	[ -z "$stderr" ]
}

@test "status without a state file answers 1" {
	run -1 --separate-stderr perf-qualityctl -d "$BATS_TEST_TMPDIR/none" status
	[[ $stderr == *"no state in"* ]]
}

@test "impact: the measured change in pressure and fps, in a later record" {
	# Overload at 105 and 106 while the camera drops to 12 fps; relief,
	# and 24 fps, from 107 on.
	for i in $(seq 0 19); do
		printf '{"type":"sample","ts":%d,"host":"h","cpu":{"util":%d}}\n' \
		    $((100 + i)) $((i == 5 || i == 6 ? 95 : 60))
		printf '{"type":"metric","ts":%d.5,"host":"h","component":"cam","fps":%d}\n' \
		    $((100 + i)) $((i < 4 ? 30 : i < 6 ? 12 : 24))
	done >"$BATS_TEST_TMPDIR/in"
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-EOF
	pressure: { cpu: { low: 0, high: 100 }, fps: { weight: 0 } }
	control: { initial: HIGH, fast: 1ms }
	EOF
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type == "quality") | [.ts, .reason, .level]' <<<"$output"
	assert_output '[100,"start","HIGH"]
[105,"pressure_high","MEDIUM"]
[110,"impact","MEDIUM"]'
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.reason == "impact") | .impact' <<<"$output"
	assert_output '{"change_ts":105,"from":"HIGH","to":"MEDIUM","after_s":5,"complete":true,"pressure_before":95,"pressure_after":60,"pressure_delta":-35,"fps_before":12,"fps_after":24,"fps_delta":12,"step_cost":35}'
}

@test "application fps and latency are pressure terms; priorities degrade last" {
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-EOF
	components:
	  cam: { priority: 0, fps: { low: 30, high: 15 } }
	  planner: { priority: 2 }
	EOF
	{
		for i in $(seq 0 5); do
			printf '{"type":"sample","ts":%d,"host":"h","cpu":{"util":20}}\n' $((100 + i))
			printf '{"type":"metric","ts":%d.5,"host":"h","component":"cam","fps":%s,"latency_ms":30}\n' $((100 + i)) 15
		done
	} >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.reason == "pressure_high") | [.level, .inputs.fps, .components.cam.level, .components.planner.level]' <<<"$output"
	assert_line --index 0 '["HIGH",{"value":15,"norm":100,"weight":1,"component":"cam"},"HIGH","ULTRA_HIGH"]'
	assert_line --index 1 '["MEDIUM",{"value":15,"norm":100,"weight":1,"component":"cam"},"MEDIUM","ULTRA_HIGH"]'
}

@test "one host is followed: another host's records pass through, not controlled" {
	# bot1 is overloaded from 20 s; bot2, interleaved, idles. Mixed into
	# one controller, the two averaged to a pressure that never stepped
	# down, and each record relabelled the state file's host.
	for t in $(seq 0 40); do
		u=30; [ "$t" -ge 20 ] && u=99
		printf '{"type":"sample","ts":%d,"host":"bot1","cpu":{"util":%d}}\n' $((1000 + t)) "$u"
		printf '{"type":"sample","ts":%d.5,"host":"bot2","cpu":{"util":10}}\n' $((1000 + t))
	done >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/in"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	grep -v '"type":"quality"' "$BATS_TEST_TMPDIR/out" | cmp - "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type == "quality" and .reason != "impact") | [.ts, .host, .level]' "$BATS_TEST_TMPDIR/out"
	assert_line --index 0 '[1000,"bot1","ULTRA_HIGH"]'
	assert_line --index 1 '[1021,"bot1","HIGH"]'
	assert_line --index 2 '[1023,"bot1","MEDIUM"]'
	[[ $stderr == *"in:2: a record of host 'bot2' is passed through, not controlled: this instance follows 'bot1' (see --host)"* ]]
	[[ $stderr == *"41 records of other hosts than 'bot1' not controlled"* ]]
	# --host picks the other one: idle, no change after the start.
	run -0 --separate-stderr perf-qualityctl -n --host bot2 "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type == "quality") | [.ts, .host, .reason]' <<<"$output"
	assert_output '[1000.5,"bot2","start"]'
	run -2 --separate-stderr perf-qualityctl -H '' </dev/null
}

@test "metric records without a host are the host's own: one clock, one step" {
	# An application's metrics (no host) beside perf-sample's samples:
	# both step back an hour, on one clock, so the controller's timeline
	# is restarted once, not once per clock (which moved it twice).
	python3 - >"$BATS_TEST_TMPDIR/in" <<-'EOF'
	import json
	t = 1732300000
	def p(o): print(json.dumps(o, separators=(",", ":")))
	for i in range(40):
	    p({"type": "sample", "ts": t + i, "host": "h", "cpu": {"util": 40}})
	    p({"type": "metric", "ts": t + i + 0.5, "component": "cam", "fps": 29})
	for i in range(30):
	    p({"type": "sample", "ts": t + 40 - 3600 + i, "host": "h",
	       "cpu": {"util": 99 if i > 20 else 40}})
	    p({"type": "metric", "ts": t + 40 - 3600 + i + 0.5, "component": "cam",
	       "fps": 29})
	EOF
	run -0 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/in"
	[ "${#stderr_lines[@]}" -eq 3 ]
	[ "${stderr_lines[1]}" = "perf-qualityctl: h: clock stepped back by 3598 s at $BATS_TEST_TMPDIR/in:83; windows restarted" ]
	[ "${stderr_lines[2]}" = "perf-qualityctl: 1 sample out of time order not evaluated" ]
	run -0 jq -c 'select(.type == "quality" and .reason != "impact") | [.ts - 1732300000, .level]' <<<"$output"
	assert_output '[0,"ULTRA_HIGH"]
[-3538,"HIGH"]
[-3536,"MEDIUM"]
[-3534,"LOW"]
[-3532,"ULTRA_LOW"]'
}

@test "a repeated or out-of-order sample is not evaluated twice" {
	# One spike to 95, its line repeated, and a sample from the past: a
	# single spike changes nothing. Fed to the controller, the copy made
	# "two raw evaluations in a row" and stepped down.
	for t in $(seq 0 20); do
		printf '{"type":"sample","ts":%d,"host":"h","cpu":{"util":62}}\n' $((100 + t))
		if [ "$t" -eq 10 ]; then
			printf '{"type":"sample","ts":110.5,"host":"h","cpu":{"util":95}}\n'
			printf '{"type":"sample","ts":110.5,"host":"h","cpu":{"util":95}}\n'
			printf '{"type":"sample","ts":50,"host":"h","cpu":{"util":95}}\n'
		fi
	done >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/in"
	grep -v '"type":"quality"' <<<"$output" | cmp - "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type == "quality") | [.ts, .reason]' <<<"$output"
	assert_output '[100,"start"]'
	[[ $stderr == *"in:13: sample ts 110.500 is not after the last evaluation at 110.500: passed through, not evaluated"* ]]
	[[ $stderr == *"2 samples out of time order not evaluated"* ]]
}

@test "a ts in milliseconds is bad input, not a clock that strands later samples" {
	{
		head -n 35 "$F/overload.jsonl"
		echo '{"type":"sample","ts":1732300035250,"host":"bot1","cpu":{"util":10}}'
		tail -n +36 "$F/overload.jsonl"
	} >"$BATS_TEST_TMPDIR/in"
	run -3 --separate-stderr perf-qualityctl -n -c "$Q" "$BATS_TEST_TMPDIR/in"
	[[ $stderr == *"in:36: ts 1732300035250 is more than a day ahead of the clock (not seconds since the epoch?)"* ]]
	# A bad line is reported and skipped, not passed on.
	grep -v '"type":"quality"' <<<"$output" | cmp - "$F/overload.jsonl"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 changes "$BATS_TEST_TMPDIR/out"
	assert_output "$(perf-qualityctl -n -c "$Q" "$F/overload.jsonl" >"$BATS_TEST_TMPDIR/ref"; changes "$BATS_TEST_TMPDIR/ref")"
	[ "${#lines[@]}" -ge 2 ]
}

@test "an application-only stream (metric records, no samples) drives the level" {
	# A camera reporting every frame (10 a second), at 12 fps from 20 s
	# to 60 s. After stale (10 s) without a sample, its records are
	# evaluated once a second of event time: the level steps down within
	# two of those evaluations and climbs back after the dwell.
	for t in $(seq 0 119); do
		f=29; [ "$t" -ge 20 ] && [ "$t" -lt 60 ] && f=12
		for k in 0 1 2 3 4 5 6 7 8 9; do
			printf '{"type":"metric","ts":%d.%d,"host":"cam1","component":"camera","fps":%d}\n' $((1000 + t)) "$k" "$f"
		done
	done >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/in"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 jq -c 'select(.type == "quality" and .reason != "impact") | [.ts, .reason, .level]' "$BATS_TEST_TMPDIR/out"
	assert_line --index 0 '[1010,"start","ULTRA_HIGH"]'
	assert_line --index 1 '[1021,"pressure_high","HIGH"]'
	assert_line --index 2 '[1023,"pressure_high","MEDIUM"]'
	run -0 jq -r 'select(.reason == "pressure_low") | .level' "$BATS_TEST_TMPDIR/out"
	assert_line --index 0 "LOW"
	# While samples flow, metric records only update the terms.
	{
		for t in $(seq 0 30); do
			printf '{"type":"sample","ts":%d,"host":"cam1","cpu":{"util":10}}\n' $((1000 + t))
			printf '{"type":"metric","ts":%d.5,"host":"cam1","component":"camera","fps":12}\n' $((1000 + t))
		done
	} >"$BATS_TEST_TMPDIR/mixed"
	run -0 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/mixed"
	run -0 jq -s -c '[.[] | select(.type == "quality") | .ts | . == floor] | unique' <<<"$output"
	assert_output '[true]'
}

@test "slow sampling (a Pi every 30 s) is not an application-only stream" {
	# CPU at 99 % in samples 30 s apart, a healthy camera every second:
	# the metric records must not evaluate on their own between samples
	# (fps-only pressure would hide the CPU), as they did when "no
	# sample for stale seconds" was the only rule.
	for t in $(seq 0 179); do
		[ $((t % 30)) -eq 0 ] &&
		    printf '{"type":"sample","ts":%d,"host":"pi","interval_s":30,"cpu":{"util":99}}\n' $((1000 + t))
		printf '{"type":"metric","ts":%d.5,"host":"pi","component":"cam","fps":29}\n' $((1000 + t))
	done >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type == "quality" and .reason != "impact") | [.ts, .level]' <<<"$output"
	assert_output '[1000,"ULTRA_HIGH"]
[1030,"HIGH"]
[1090,"MEDIUM"]
[1150,"LOW"]'
}

@test "temperature: the headroom below the zone's trip point" {
	printf '{"type":"sample","ts":1,"host":"h","cpu":{"util":10},"temp_c":{"soc":70,"gpu":78},"temp_trip_c":{"soc":95,"gpu":90}}\n' >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl "$BATS_TEST_TMPDIR/in"
	# gpu: 12 degC below its trip point: (20 - 12) / (20 - 5) = 53.3.
	run -0 jq -c 'select(.type == "quality") | [.pressure, .inputs.temperature]' <<<"$output"
	assert_output '[53.333,{"value":12,"norm":53.333,"weight":1,"zone":"gpu","temp_c":78}]'
}

@test "man page worked example: pressure, max and mean" {
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-EOF
	pressure: { latency: { weight: 0 } }
	components:
	  camera: { fps: { low: 30, high: 15 } }
	EOF
	{
		echo '{"type":"metric","ts":0.5,"host":"h","component":"camera","fps":20}'
		echo '{"type":"sample","ts":1,"host":"h","cpu":{"util":88},"mem":{"used_pct":50},"temp_c":{"gpu":78},"temp_trip_c":{"gpu":90}}'
	} >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type == "quality") | [.pressure, (.inputs | map_values(.norm))]' <<<"$output"
	assert_output '[80,{"cpu":80,"memory":0,"temperature":53.333,"fps":66.667}]'
	sed -i '1i pressure: { combine: mean, latency: { weight: 0 } }' "$BATS_TEST_TMPDIR/q.yaml"
	sed -i '2d' "$BATS_TEST_TMPDIR/q.yaml"
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type == "quality") | .pressure' <<<"$output"
	assert_output 50
}

@test "man page worked example: a step to overload" {
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-EOF
	pressure: { cpu: { low: 0, high: 100 } }
	control: { initial: HIGH }
	EOF
	for i in $(seq 0 61); do
		printf '{"type":"sample","ts":%d,"host":"h","cpu":{"util":%d}}\n' $i $((i < 60 ? 60 : 95))
	done >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.reason == "pressure_high") | [.ts, .level, .pressure_fast]' <<<"$output"
	assert_output '[61,"MEDIUM",82.124]'
}

@test "combine: mean is the weighted mean of the terms" {
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-EOF
	pressure:
	  combine: mean
	  cpu: { weight: 1, low: 0, high: 100 }
	  memory: { weight: 0.5, low: 0, high: 100 }
	  extra:
	    io: { path: psi.io.some_avg10, weight: 0.5, low: 0, high: 50 }
	EOF
	printf '{"type":"sample","ts":1,"host":"h","cpu":{"util":80},"mem":{"used_pct":40},"psi":{"io":{"some_avg10":25}}}\n' >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in"
	# (80 + 0.5 * 40 + 0.5 * 50) / 2 = 62.5
	run -0 jq -c 'select(.type == "quality") | [.pressure, .inputs.io.norm]' <<<"$output"
	assert_output '[62.5,50]'
}

@test "an extra term without a valid path is a config error, not a crash" {
	# Found by fuzz_qualityctl_conf: the term's path was left uninitialised
	# by realloc and freed when the config was rejected.
	printf 'pressure:\n  extra:\n    a: { weight: 1 }\n    b: { path: x..y }\n    c: 7\n' >"$BATS_TEST_TMPDIR/q.yaml"
	run -2 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" </dev/null
	[[ $stderr == *"q.yaml:3:"*"'path' is required"* ]]
	[[ $stderr == *"'x..y' is not a dotted path"* ]]
}

@test "--on-change runs the command with the level in its environment" {
	log=$BATS_TEST_TMPDIR/log
	run -0 --separate-stderr perf-qualityctl -c "$Q" \
	    -e "echo \"\$PK_QUALITY_PREV>\$PK_QUALITY_LEVEL \$PK_QUALITY_LEVEL_INDEX \$PK_QUALITY_REASON\" >>'$log'; echo child-stdout" \
	    "$F/overload.jsonl"
	refute_output --partial child-stdout
	[[ $stderr == *child-stdout* ]]
	run -0 sort "$log"
	assert_output ">MEDIUM 2 start
LOW>ULTRA_LOW 0 pressure_high
MEDIUM>LOW 1 pressure_high"
}

@test "--on-change children start with default signals, no input of ours" {
	out=$BATS_TEST_TMPDIR/sig
	# The command reads its standard input, then becomes awk and reads
	# its own signal state (the shell's own may be in flux).
	run -0 perf-qualityctl -c "$Q" \
	    -e "cat >>'$out.in'; exec awk '/^Sig(Ign|Blk)/ { print \$1, \$2 }' /proc/self/status >>'$out'" \
	    "$F/hover.jsonl"
	[ -e "$out.in" ] && [ ! -s "$out.in" ]
	# Signals 1-31 (32 and up are the C library's own).
	while read -r name mask; do
		echo "$name $((0x$mask & 0x7fffffff))"
	done <"$out" >"$out.1-31"
	run -0 cat "$out.1-31"
	assert_output "SigBlk: 0
SigIgn: 0"
}

@test "a component's process is reniced and pinned on its level" {
	sleep 60 &
	child=$!
	echo "$child" >"$BATS_TEST_TMPDIR/cam.pid"
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-EOF
	pressure: { cpu: { low: 0, high: 100 } }
	control: { initial: MEDIUM }
	components:
	  cam:
	    pid_file: $BATS_TEST_TMPDIR/cam.pid
	    nice: { MEDIUM: 3, LOW: 5, ULTRA_LOW: 10 }
	    cpus: { ULTRA_LOW: "0" }
	EOF
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$F/overload.jsonl"
	nice=$(ps -o ni= -p "$child" | tr -d ' ')
	cpus=$(awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$child/status")
	pk_stop_pid "$child"
	[ "$nice" = 10 ]
	[ "$cpus" = 0 ]
	[ -z "$stderr" ]
}

@test "set and release: the override reaches a running instance" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	out=$BATS_TEST_TMPDIR/out
	perf-qualityctl -c "$Q" "$BATS_TEST_TMPDIR/in" >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	exec 5>"$BATS_TEST_TMPDIR/in"
	echo '{"type":"sample","ts":10,"host":"h","cpu":{"util":60}}' >&5
	wait_grep "$out" '"reason":"start"'
	run -0 perf-qualityctl set ultra_low
	# Picked up on the next record or idle tick (0.5 s), without input.
	wait_grep "$out" '"reason":"override"'
	run -0 perf-qualityctl release
	wait_grep "$out" '"reason":"release"'
	# While overridden, overload did nothing; after release it acts.
	exec 5>&-
	wait "$pid"
	run -0 jq -c 'select(.type == "quality") | [.reason, .level, .override]' "$out"
	assert_output '["start","MEDIUM",false]
["override","ULTRA_LOW",true]
["release","ULTRA_LOW",false]'
	[ ! -e "$PERF_QUALITYCTL_DIR/override" ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "set before start: the first record already holds the override" {
	run -0 perf-qualityctl set HIGH
	[ "$(cat "$PERF_QUALITYCTL_DIR/override")" = HIGH ]
	run -0 --separate-stderr perf-qualityctl -c "$Q" "$F/overload.jsonl"
	run -0 jq -c 'select(.type == "quality" and .reason != "impact") | [.reason, .level, .override]' <<<"$output"
	assert_output '["start","HIGH",true]'
	run -2 --separate-stderr perf-qualityctl set FAST
	[[ $stderr == *"'FAST' is not a level"* ]]
}

@test "SIGHUP reloads the config; an invalid one is reported and the old kept" {
	cp "$Q" "$BATS_TEST_TMPDIR/q.yaml"
	mkfifo "$BATS_TEST_TMPDIR/in"
	out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err
	perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in" >"$out" 2>"$err" &
	pid=$!
	exec 5>"$BATS_TEST_TMPDIR/in"
	echo '{"type":"sample","ts":10,"host":"h","cpu":{"util":60}}' >&5
	wait_grep "$out" '"reason":"start"'
	printf 'control:\n  dwel: 1s\n' >"$BATS_TEST_TMPDIR/q.yaml"
	kill -HUP "$pid"
	wait_grep "$err" "not reloaded"
	sed 's/down: 75/down: 55/' "$Q" >"$BATS_TEST_TMPDIR/q.yaml"
	kill -HUP "$pid"
	wait_grep "$err" "q.yaml: reloaded"
	# 60 is above the new down threshold: two samples step down.
	echo '{"type":"sample","ts":11,"host":"h","cpu":{"util":60}}' >&5
	echo '{"type":"sample","ts":12,"host":"h","cpu":{"util":60}}' >&5
	exec 5>&-
	wait "$pid"
	run -0 cat "$err"
	assert_line --index 0 --partial "q.yaml:2:3: unknown key 'dwel' in control"
	run -0 jq -c 'select(.type == "quality") | [.reason, .level]' "$out"
	assert_line --index 1 '["pressure_high","LOW"]'
}

@test "SIGTERM ends a live run cleanly, the state written" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	out=$BATS_TEST_TMPDIR/out
	perf-qualityctl -c "$Q" -e "echo \$\$ >'$BATS_TEST_TMPDIR/cmd.pid'; exec sleep 30" \
	    "$BATS_TEST_TMPDIR/in" >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	exec 5>"$BATS_TEST_TMPDIR/in"
	echo '{"type":"sample","ts":10,"host":"h","cpu":{"util":60}}' >&5
	wait_grep "$out" '"reason":"start"'
	kill -TERM "$pid"
	# Neither the open input nor the running command holds it up.
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
	exec 5>&-
	pk_wait_file "$BATS_TEST_TMPDIR/cmd.pid"
	pk_stop_pid "$(cat "$BATS_TEST_TMPDIR/cmd.pid")"
	run -0 jq -r .level "$PERF_QUALITYCTL_DIR/state.json"
	assert_output MEDIUM
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "a bad config names FILE:LINE:COL and exits 2" {
	printf 'control:\n  up: 50\n  dwel: 10s\n' >"$BATS_TEST_TMPDIR/q.yaml"
	run -2 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" /dev/null
	[ "$stderr" = "perf-qualityctl: $BATS_TEST_TMPDIR/q.yaml:3:3: unknown key 'dwel' in control (did you mean 'dwell'?)" ]
	printf 'levels:\n  LOW: { frame_skip: -1 }\n' >"$BATS_TEST_TMPDIR/q.yaml"
	run -2 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" /dev/null
	[[ $stderr == *"q.yaml:2:22: "* ]]
	printf 'control: { up: 80, down: 70 }\n' >"$BATS_TEST_TMPDIR/q.yaml"
	run -2 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" /dev/null
	[[ $stderr == *"up (80) must be below down (70)"* ]]
	run -2 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/none.yaml" /dev/null
	[[ $stderr == *"cannot read"* ]]
}

@test "a malformed line is reported, skipped, and the run ends with status 3" {
	{
		echo '{"type":"sample","ts":1,"host":"h","cpu":{"util":60}}'
		echo '{"type":"sample","ts":2,"host":"h","cpu":{"util":'
		echo '{"type":"sample","host":"h","cpu":{"util":60}}'
		echo '{"type":"sample","ts":3,"host":"h","cpu":{"util":60}}'
	} >"$BATS_TEST_TMPDIR/in"
	run -3 --separate-stderr perf-qualityctl -c "$Q" "$BATS_TEST_TMPDIR/in"
	[[ $stderr == *"perf-qualityctl: $BATS_TEST_TMPDIR/in:2: "* ]]
	[[ $stderr == *"perf-qualityctl: $BATS_TEST_TMPDIR/in:3: a sample record without a numeric ts"* ]]
	[[ $stderr == *"2 bad input lines skipped"* ]]
	# Both bad lines are skipped: neither is passed on.
	assert_line --index 0 '{"type":"sample","ts":1,"host":"h","cpu":{"util":60}}'
	assert_line --index 1 --partial '"reason":"start"'
	assert_line --index 2 '{"type":"sample","ts":3,"host":"h","cpu":{"util":60}}'
	[ "${#lines[@]}" -eq 3 ]
	run -3 --separate-stderr perf-qualityctl --strict -c "$Q" "$BATS_TEST_TMPDIR/in"
	[ "${#lines[@]}" -eq 0 ] || [[ $output != *'"ts":3'* ]]
}

@test "the front end: a blank line is no record, a record that fails a check is not passed on" {
	# Blank lines (empty, or spaces and tabs) are skipped silently; on
	# the hand-written loop they were "empty line", status 3.
	{
		echo '{"type":"sample","ts":1,"host":"h","cpu":{"util":60}}'
		echo ''
		printf ' \t \n'
		echo '{"type":"sample","ts":2,"host":"h","cpu":{"util":60}}'
	} >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/in"
	[ -z "$stderr" ]
	run -0 grep -c '"type":"sample"' <<<"$output"
	assert_output 2
	# A record of a type it reads that fails a check is reported and
	# skipped (it was reported and passed on); other types pass unchecked.
	{
		echo '{"type":"metric","ts":1,"host":"h","fps":3}'
		echo '{"type":"sample","ts":-5,"host":"h","cpu":{"util":60}}'
		echo '{"type":"sample","ts":2,"host":7,"cpu":{"util":60}}'
		echo '{"type":"other","host":7}'
		echo '{"type":"sample","ts":3,"host":"h","cpu":{"util":60}}'
	} >"$BATS_TEST_TMPDIR/bad"
	run -3 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/bad"
	[[ $stderr == *"bad:1: a metric record without component"* ]]
	[[ $stderr == *"bad:2: ts -5 is not a time"* ]]
	[[ $stderr == *"bad:3: host is not a string"* ]]
	[[ $stderr == *"3 bad input lines skipped"* ]]
	run -0 grep -v '"type":"quality"' <<<"$output"
	assert_output '{"type":"other","host":7}
{"type":"sample","ts":3,"host":"h","cpu":{"util":60}}'
}

@test "subcommands: options before or after, one a subcommand does not take is a usage error" {
	# git's placement rule: -d may follow the subcommand.
	run -0 perf-qualityctl set -d "$BATS_TEST_TMPDIR/d" LOW
	[ "$(cat "$BATS_TEST_TMPDIR/d/override")" = LOW ]
	run -0 perf-qualityctl release --state-dir "$BATS_TEST_TMPDIR/d"
	[ ! -e "$BATS_TEST_TMPDIR/d/override" ]
	# An option of the filter given to a subcommand is named, status 2.
	run -2 --separate-stderr perf-qualityctl -c "$Q" set LOW
	[[ $stderr == *"set: --config does not apply"* ]]
	[[ $stderr == *"usage: perf-qualityctl"* ]]
	run -2 --separate-stderr perf-qualityctl status -n
	[[ $stderr == *"status: --dry-run does not apply"* ]]
	run -2 --separate-stderr perf-qualityctl set
	[[ $stderr == *"set: too few operands"* ]]
	run -2 --separate-stderr perf-qualityctl release now
	[[ $stderr == *"release: unexpected operand 'now'"* ]]
	[ ! -e "$PERF_QUALITYCTL_DIR/override" ]
	# A file named like a subcommand is ./name; options after files work.
	cp "$F/overload.jsonl" "$BATS_TEST_TMPDIR/status"
	cd "$BATS_TEST_TMPDIR"
	run -0 --separate-stderr perf-qualityctl ./status -n -c "$Q"
	run -0 jq -c 'select(.type == "quality" and .reason != "impact") | .level' <<<"$output"
	assert_output '"MEDIUM"
"LOW"
"ULTRA_LOW"'
	[ ! -e "$PERF_QUALITYCTL_DIR/state.json" ]
}

@test "the man page's pressure terms are the table's, with its defaults" {
	# --help lists the rows (name, weight, low, high); the man page must
	# document every row, with those defaults, and nothing else.
	run -0 perf-qualityctl --help
	help=$(awk '/^pressure terms/ { on = 1; getline; next } on && NF { print $1, $2, $3, $4 }' <<<"$output")
	[ -n "$help" ]
	man=$(sed -n '/^The terms and their defaults:/,/^\.El/p' "$ROOT/man/perf-qualityctl.1")
	names=$(sed -n 's/^\.It Li \([a-z_]*\)$/\1/p' <<<"$man")
	[ "$names" = "$(awk '{ print $1 }' <<<"$help")" ] || fail "man: $names
help: $help"
	text=$(mandoc -Tascii "$ROOT/man/perf-qualityctl.1" | sed 's/.\x08//g' | tr -s ' \n' ' ')
	while read -r name weight low high; do
		want="low $low, high $high"
		[ "$weight" = 1 ] || want="$want, weight $weight"
		[[ $text == *"$want"* ]] || fail "man: $name: no '$want'"
	done <<<"$help"
}

@test "--on-change: the environment's own PK_QUALITY_* never reach the command" {
	log=$BATS_TEST_TMPDIR/env
	PK_QUALITY_STALE=x PK_QUALITY_LEVEL=bogus run -0 --separate-stderr \
	    perf-qualityctl -c "$Q" -e "env | grep '^PK_QUALITY_' | LC_ALL=C sort >>'$log'" "$F/hover.jsonl"
	# hover.jsonl makes one change, the start at MEDIUM.
	run -0 cut -d= -f1 "$log"
	assert_output "PK_QUALITY_LEVEL
PK_QUALITY_LEVEL_INDEX
PK_QUALITY_OVERRIDE
PK_QUALITY_PRESSURE
PK_QUALITY_PREV
PK_QUALITY_REASON
PK_QUALITY_SETTING_COMPRESSION_QUALITY
PK_QUALITY_SETTING_FEATURES
PK_QUALITY_SETTING_FRAME_SKIP
PK_QUALITY_SETTING_RESOLUTION_SCALE
PK_QUALITY_SETTING_ROI_SCALE
PK_QUALITY_STATE"
	run -0 grep -x 'PK_QUALITY_LEVEL=MEDIUM' "$log"
}

@test "a full disk is an I/O error (status 4)" {
	run -4 --separate-stderr bash -c 'perf-qualityctl -c "$1" "$2" >/dev/full' _ "$Q" "$F/day.jsonl"
	[ -z "$output" ]
	[[ $stderr == "perf-qualityctl: "*"No space left on device"* ]]
}

@test "a reader that goes away ends the filter quietly (141)" {
	yes '{"type":"x","ts":1}' | head -n 200000 >"$BATS_TEST_TMPDIR/big"
	run -141 --separate-stderr bats_pipe perf-qualityctl -c "$Q" "$BATS_TEST_TMPDIR/big" \| head -n1
	assert_output '{"type":"x","ts":1}'
	[ -z "$stderr" ]
}

@test "a state directory that cannot be made is an I/O error with -d" {
	run -4 --separate-stderr perf-qualityctl -d /proc/nonexistent/x -c "$Q" /dev/null
	[[ $stderr == *"cannot create the state directory"* ]]
}

@test "the man page's EXAMPLES run as printed" {
	# Each literal block of EXAMPLES as a script, run in a directory that
	# holds quality.yaml, day.jsonl and examples/; perf-sample replays a
	# fixture, and perf-alert and logger are stand-ins.
	d=$BATS_TEST_TMPDIR/ex
	mkdir -p "$d/bin" "$d/run"
	cp "$Q" "$d/quality.yaml"
	cp "$F/overload.jsonl" "$d/day.jsonl"
	ln -s "$ROOT/examples" "$d/examples"
	printf '#!/bin/sh\nexec cat "%s"\n' "$F/overload.jsonl" >"$d/bin/perf-sample"
	printf '#!/bin/sh\nexec cat >/dev/null\n' >"$d/bin/perf-alert"
	printf '#!/bin/sh\necho "logger $*" >>"%s/logger.out"\n' "$d" >"$d/bin/logger"
	chmod +x "$d/bin/"*
	mandoc -Tascii "$ROOT/man/perf-qualityctl.1" | sed 's/.\x08//g' |
	    awk '/^EXAMPLES/{on=1; next} /^   Worked example/{on=0} on' |
	    awk -v dir="$d" '/^           /{ if (!b) { n++; b=1 } sub(/^           /, ""); print > (dir "/ex" n ".sh"); next } { b=0 }'
	[ -f "$d/ex5.sh" ] && [ ! -f "$d/ex6.sh" ]
	unset PERF_QUALITYCTL_DIR
	export XDG_RUNTIME_DIR=$d/run
	cd "$d"
	PATH=$d/bin:$PATH run -0 --separate-stderr sh ex1.sh
	assert_line --index 0 "frame 0: ULTRA_LOW 576x324 jpeg q30 roi 0.5 features -"
	[ "${#lines[@]}" -eq 100 ]
	PATH=$d/bin:$PATH run -0 --separate-stderr sh ex2.sh
	assert_output '[1732300000.25,"start","MEDIUM"]
[1732300031.25,"pressure_high","LOW"]
[1732300033.25,"impact","LOW"]
[1732300033.25,"pressure_high","ULTRA_LOW"]
[1732300038.25,"impact","ULTRA_LOW"]'
	PATH=$d/bin:$PATH run -0 --separate-stderr sh ex3.sh
	[ ! -e "$XDG_RUNTIME_DIR/perf-qualityctl/override" ]
	# The textfile where node_exporter would read it, here in $d.
	sed -i "s|/var/lib/prometheus/node-exporter/|$d/|" ex4.sh
	PATH=$d/bin:$PATH run -0 --separate-stderr sh ex4.sh
	[ "${#lines[@]}" -eq 55 ]
	run -0 grep -x 'perfkit_quality_level{host="bot1"} 0' "$d/quality.prom"
	PATH=$d/bin:$PATH run -0 --separate-stderr sh ex5.sh
	# The commands run in the background: their order is not the test's.
	run -0 cat "$d/logger.out"
	assert_line "logger -t quality  -> ULTRA_HIGH"
	assert_line "logger -t quality ULTRA_HIGH -> HIGH"
}

@test "examples: the config parses and the camera follows the state file" {
	run -0 --separate-stderr perf-qualityctl -c "$ROOT/examples/perf-qualityctl.yaml" "$F/overload.jsonl"
	run -0 --separate-stderr perf-qualityctl -c "$Q" "$F/overload.jsonl"
	run -0 "$ROOT/examples/perf-qualityctl-camera.sh" "$PERF_QUALITYCTL_DIR/state.json" 5
	assert_output "frame 0: ULTRA_LOW 576x324 jpeg q30 roi 0.5 features -
frame 1: skipped (ULTRA_LOW)
frame 2: skipped (ULTRA_LOW)
frame 3: skipped (ULTRA_LOW)
frame 4: ULTRA_LOW 576x324 jpeg q30 roi 0.5 features -"
	run -0 --separate-stderr perf-qualityctl -c "$ROOT/examples/perf-qualityctl.yaml" "$F/hover.jsonl"
	run -0 "$ROOT/examples/perf-qualityctl-camera.sh" "$PERF_QUALITYCTL_DIR/state.json" 1
	assert_output "frame 0: ULTRA_HIGH 1920x1080 jpeg q95 roi 1 features tracking,denoise,hdr"
}

@test "a control loop's missed periods are a pressure term: rt-loop's interval records" {
	# Idle samples; the loop misses 4.9% of its periods from 103 s (40 late
	# and 10 skipped of 1020 due), 0 before. Its summary record (every
	# period missed) is no interval's figure and is not measured.
	{
		for i in $(seq 0 8); do
			printf '{"type":"sample","ts":%d,"host":"h","cpu":{"util":20}}\n' $((100 + i))
			m=0 s=0
			[ "$i" -ge 3 ] && m=40 s=10
			printf '{"type":"loop","ts":%d.5,"host":"h","event":"interval","ticks":%d,"misses":%d,"skipped":%d}\n' \
			    $((100 + i)) $((1010 - s)) "$m" "$s"
		done
		printf '{"type":"loop","ts":109,"host":"h","event":"summary","ticks":5,"misses":5,"skipped":0}\n'
	} >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/in"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	# Every loop record passed through.
	[ "$(grep -c '"type":"loop"' "$BATS_TEST_TMPDIR/out")" -eq 10 ]
	# Before the misses: 0% is under low (0.1), no pressure; then 50/1010.
	run -0 jq -c 'select(.type == "quality" and .reason != "impact") |
	    [.ts, .level, .inputs.deadline.value, .inputs.deadline.norm]' "$BATS_TEST_TMPDIR/out"
	assert_line --index 0 '[100,"ULTRA_HIGH",null,null]'
	run -0 jq -r -s '[.[] | select(.type == "quality" and .reason == "pressure_high")][0] |
	    "\(.ts) \(.level) \(.inputs.deadline.value * 1000 | round) \(.inputs.deadline.norm | round)"' \
	    "$BATS_TEST_TMPDIR/out"
	assert_output "105 HIGH 4950 99"
	# Weight 0 disables it.
	printf 'pressure:\n  deadline: { weight: 0 }\n' >"$BATS_TEST_TMPDIR/q.yaml"
	run -0 --separate-stderr perf-qualityctl -n -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in"
	echo "$output" | jq -s -e 'map(select(.type == "quality" and .reason == "pressure_high")) == []'
}

@test "every entry point refuses a state directory others can write to or own" {
	d=$BATS_TEST_TMPDIR/open
	mkdir "$d"
	printf 'HIGH\n' >"$d/override"
	printf '{"type":"quality","level":"ULTRA_HIGH"}\n' >"$d/state.json"
	chmod 0777 "$d"
	for cmd in status release "set LOW"; do
		run -4 --separate-stderr perf-qualityctl -d "$d" $cmd
		[[ $stderr == *"state directory '$d' is writable by group or others"* ]]
		[ -z "$output" ]
	done
	[ "$(cat "$d/override")" = HIGH ]
	run -4 --separate-stderr perf-qualityctl -d "$d" -c "$Q" /dev/null
	[[ $stderr == *"writable by group or others"* ]]
	# A state.json linked elsewhere is not printed.
	p=$BATS_TEST_TMPDIR/mine
	mkdir -m 0700 "$p"
	ln -s "$d/state.json" "$p/state.json"
	run -4 --separate-stderr perf-qualityctl -d "$p" status
	[[ $stderr == *"cannot read '$p/state.json'"* ]]
	[ -z "$output" ]
	# No directory at all: no state (1), nothing to release (0).
	run -1 perf-qualityctl -d "$BATS_TEST_TMPDIR/none" status
	run -0 perf-qualityctl -d "$BATS_TEST_TMPDIR/none" release
	[ ! -e "$BATS_TEST_TMPDIR/none" ]
	[ "$(id -u)" -eq 0 ] || skip "chown needs root"
	chmod 0755 "$d"
	chown nobody "$d"
	for cmd in status release; do
		run -4 --separate-stderr perf-qualityctl -d "$d" $cmd
		[[ $stderr == *"state directory '$d' belongs to another user"* ]]
	done
	[ "$(cat "$d/override")" = HIGH ]
}

# The processes a test started and listed in $BATS_TEST_TMPDIR/pids are
# stopped even when it fails.
teardown() {
	local p
	[ -f "$BATS_TEST_TMPDIR/pids" ] || return 0
	while read -r p; do
		pk_stop_pid "$p"
	done <"$BATS_TEST_TMPDIR/pids"
}

# Every task of pid: "TID NICE CPUS" (nice is field 19 of its stat, after
# the parenthesised name).
task_states() {
	local t
	for t in /proc/"$1"/task/*; do
		echo "${t##*/} $(sed 's/.*) //' "$t/stat" | cut -d' ' -f17)" \
		    "$(awk '/^Cpus_allowed_list/ { print $2 }' "$t/status")"
	done
}

# Whether every task of pid $1 (and $2 of them) runs at nice $3 on CPUs $4.
tasks_at() {
	local n
	n=$(task_states "$1" | awk -v ni="$3" -v c="$4" \
	    '$2 == ni && $3 == c { n++ } END { print n + 0 }')
	[ "$n" = "$2" ] && [ "$(ls /proc/"$1"/task | wc -l)" = "$2" ]
}

@test "renice and affinity reach every thread, and threads started later" {
	pidf=$BATS_TEST_TMPDIR/app.pid
	"$PK_BUILD/tests/helpers/perf-qualityctl-threads" "$pidf" &
	app=$!
	echo "$app" >>"$BATS_TEST_TMPDIR/pids"
	pk_wait_file "$pidf"
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-EOF
	pressure: { cpu: { low: 0, high: 100 } }
	control: { initial: ULTRA_LOW }
	components:
	  app:
	    pid_file: $pidf
	    nice: { ULTRA_LOW: 10 }
	    cpus: { ULTRA_LOW: "0" }
	EOF
	mkfifo "$BATS_TEST_TMPDIR/in"
	out=$BATS_TEST_TMPDIR/out
	perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" "$BATS_TEST_TMPDIR/in" \
	    >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	q=$!
	echo "$q" >>"$BATS_TEST_TMPDIR/pids"
	exec 5>"$BATS_TEST_TMPDIR/in"
	echo '{"type":"sample","ts":10,"host":"h","cpu":{"util":99}}' >&5
	wait_grep "$out" '"reason":"start"'
	tasks_at "$app" 4 10 0
	# A fifth thread that sets itself back to nice 0 on every CPU.
	kill -USR1 "$app"
	pk_wait_file "$pidf.5"
	echo '{"type":"sample","ts":11,"host":"h","cpu":{"util":99}}' >&5
	i=0
	until tasks_at "$app" 5 10 0; do
		i=$((i + 1))
		[ "$i" -lt 200 ] || { task_states "$app"; false; }
		sleep 0.1
	done
	exec 5>&-
	wait "$q"
	pk_stop_pid "$app"
	run -0 jq -c 'select(.type == "quality") | .components.app.actuation | del(.pid)' "$out"
	assert_output '{"threads":4}'
	run -0 jq -r 'select(.type == "quality") | .components.app.actuation.pid' "$out"
	assert_output "$app"
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "open settings: any key of a level, typed, in the record, state.json and the command's environment" {
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-'EOF'
	pressure: { cpu: { low: 0, high: 100 } }
	control: { initial: MEDIUM }
	levels:
	  LOW: { bitrate_kbps: 800, model: yolo-n, planner_horizon_s: 2.5,
	         hdr: false, cams: [front, rear] }
	  MEDIUM: { bitrate_kbps: 1500, model: "yolo-s", planner_horizon_s: 4,
	            hdr: true, cams: [], rates: [10, 2.5] }
	features: { tracking: LOW }
	EOF
	log=$BATS_TEST_TMPDIR/env
	run -0 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" \
	    -e "env | grep '^PK_QUALITY_SETTING_' | LC_ALL=C sort >'$log'" \
	    "$F/hover.jsonl"
	want='{"resolution_scale":0.7,"compression_quality":70,"frame_skip":1,"roi_scale":0.85,"features":["tracking"],"bitrate_kbps":1500,"model":"yolo-s","planner_horizon_s":4,"hdr":true,"cams":[],"rates":[10,2.5]}'
	run -0 jq -c 'select(.type == "quality") | .settings' <<<"$output"
	assert_output "$want"
	run -0 jq -c .settings "$PERF_QUALITYCTL_DIR/state.json"
	assert_output "$want"
	run -0 cat "$log"
	assert_output "PK_QUALITY_SETTING_BITRATE_KBPS=1500
PK_QUALITY_SETTING_CAMS=
PK_QUALITY_SETTING_COMPRESSION_QUALITY=70
PK_QUALITY_SETTING_FEATURES=tracking
PK_QUALITY_SETTING_FRAME_SKIP=1
PK_QUALITY_SETTING_HDR=1
PK_QUALITY_SETTING_MODEL=yolo-s
PK_QUALITY_SETTING_PLANNER_HORIZON_S=4
PK_QUALITY_SETTING_RATES=10,2.5
PK_QUALITY_SETTING_RESOLUTION_SCALE=0.7
PK_QUALITY_SETTING_ROI_SCALE=0.85"
	# LOW's own, and a key a level lacks is absent from it.
	run -0 --separate-stderr perf-qualityctl -n -c "$BATS_TEST_TMPDIR/q.yaml" "$F/overload.jsonl"
	run -0 jq -c 'select(.type == "quality" and .level == "LOW" and .reason != "impact") | .settings
	    | [.bitrate_kbps, .model, .planner_horizon_s, .hdr, .cams, has("rates")]' <<<"$output"
	assert_output '[800,"yolo-n",2.5,false,["front","rear"],false]'
}

@test "open settings: one type per key in every level, errors at FILE:LINE:COL" {
	cat >"$BATS_TEST_TMPDIR/q.yaml" <<-'EOF'
	levels:
	  LOW: { bitrate_kbps: 800, cams: [a, 1] }
	  MEDIUM: { bitrate_kbps: fast, Bad: 1, x: { a: 1 } }
	  HIGH: { y: [a, "b,c"], features: 1, z: }
	EOF
	run -2 --separate-stderr perf-qualityctl -c "$BATS_TEST_TMPDIR/q.yaml" /dev/null
	[ -z "$output" ]
	f=$BATS_TEST_TMPDIR/q.yaml
	[[ $stderr == *"$f:2:39: a list setting holds numbers or strings, not both"* ]]
	[[ $stderr == *"$f:3:27: setting 'bitrate_kbps' is a string here but a number in LOW (line 2)"* ]]
	[[ $stderr == *"$f:3:33: setting 'Bad': a name is a lowercase letter"* ]]
	[[ $stderr == *"$f:3:44: a setting is a number, a string, a boolean or a list"* ]]
	[[ $stderr == *"$f:4:18: a list item must not hold ','"* ]]
	[[ $stderr == *"$f:4:26: a level's features are set under 'features:'"* ]]
	[[ $stderr == *"$f:4:42: a setting needs a value"* ]]
	# The vision keys keep their ranges.
	printf 'levels:\n  LOW: { roi_scale: 3 }\n' >"$f"
	run -2 --separate-stderr perf-qualityctl -c "$f" /dev/null
	[[ $stderr == *"$f:2:21: '3' is too large"* ]]
}

@test "components' own on_change: each with its own level and settings; PK_QUALITY_STATE absolute" {
	cd "$BATS_TEST_TMPDIR"
	cat >q.yaml <<-'EOF'
	pressure: { cpu: { low: 0, high: 100 } }
	control: { initial: MEDIUM }
	levels:
	  ULTRA_LOW: { bitrate_kbps: 300 }
	  LOW: { bitrate_kbps: 800 }
	  MEDIUM: { bitrate_kbps: 1500, model: yolo-s }
	  HIGH: { bitrate_kbps: 2500 }
	  ULTRA_HIGH: { bitrate_kbps: 4000 }
	components:
	  camera:
	    on_change: 'echo "$PK_QUALITY_COMPONENT $PK_QUALITY_PRIORITY $PK_QUALITY_PREV>$PK_QUALITY_LEVEL $PK_QUALITY_LEVEL_INDEX $PK_QUALITY_SETTING_BITRATE_KBPS ${PK_QUALITY_SETTING_MODEL-none} $PK_QUALITY_REASON" >>comp.log'
	  planner:
	    priority: 2
	    on_change: 'echo "$PK_QUALITY_COMPONENT $PK_QUALITY_PRIORITY $PK_QUALITY_PREV>$PK_QUALITY_LEVEL $PK_QUALITY_LEVEL_INDEX $PK_QUALITY_SETTING_BITRATE_KBPS ${PK_QUALITY_SETTING_MODEL-none} $PK_QUALITY_REASON" >>comp.log; echo "$PK_QUALITY_STATE" >>state.log'
	EOF
	run -0 --separate-stderr perf-qualityctl -c q.yaml -d st \
	    -e 'echo "$PK_QUALITY_STATE" >>state.log' "$F/overload.jsonl"
	[ -z "$stderr" ]
	run -0 sort comp.log
	assert_output "camera 0 >MEDIUM 2 1500 yolo-s start
camera 0 LOW>ULTRA_LOW 0 300 none pressure_high
camera 0 MEDIUM>LOW 1 800 none pressure_high
planner 2 >ULTRA_HIGH 4 4000 none start
planner 2 HIGH>MEDIUM 2 1500 yolo-s pressure_high
planner 2 ULTRA_HIGH>HIGH 3 2500 none pressure_high"
	# -e three times, the planner three times: always the absolute path.
	run -0 sort -u state.log
	assert_output "$(realpath st)/state.json"
	run -0 wc -l <state.log
	assert_output 6
	# An on_change that is no command is a config error.
	printf 'components:\n  cam: { on_change: [a] }\n' >bad.yaml
	run -2 --separate-stderr perf-qualityctl -c bad.yaml /dev/null
	[[ $stderr == *"bad.yaml:2:21: expected a string"* ]]
}
