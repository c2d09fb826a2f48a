#!/usr/bin/env bats
# perf-alert: rules on event time, the alert records, the spool and the
# receivers (a real HTTP server, a real Alertmanager, a real SMTP server,
# a command), acknowledgement, escalation, flapping, history and stats.

load common

FX=$FIXTURES/perf-alert
HTTPD=$TESTS_DIR/helpers/perf-alert-http.py
SMTPD=$TESTS_DIR/helpers/perf-alert-smtp.py

teardown() {
	local p
	for p in ${PIDS:-}; do
		pk_stop_pid "$p"
	done
	exec 5>&- 2>/dev/null || true
}

# A sample record: sample TS UTIL [HOST]
sample() {
	printf '{"type":"sample","ts":%s,"host":"%s","cpu":{"util":%s}}\n' \
	    "$1" "${3:-bot1}" "$2"
}

# Start the HTTP receiver on a free port: sets HTTP_PORT, writes posts to
# $BATS_TEST_TMPDIR/posts.jsonl; fails (503) while $BATS_TEST_TMPDIR/fail
# exists, holds requests while $BATS_TEST_TMPDIR/hang exists.
start_http() {
	HTTP_PORT=${HTTP_PORT:-$(pk_free_port)}
	python3 "$HTTPD" "$HTTP_PORT" "$BATS_TEST_TMPDIR/posts.jsonl" \
	    "$BATS_TEST_TMPDIR/fail" "$BATS_TEST_TMPDIR/hang" 3>&- &
	HTTP_PID=$!
	PIDS="${PIDS:-} $HTTP_PID"
	pk_wait_port "$HTTP_PORT" 10
}

# Wait until FILE has at least N lines (max $3 seconds).
wait_lines() {
	local f=$1 n=$2 max=${3:-20} i=0
	while [ "$( (cat "$f" 2>/dev/null || true) | wc -l)" -lt "$n" ]; do
		i=$((i + 1))
		[ "$i" -lt $((max * 10)) ] || return 1
		sleep 0.1
	done
}

# Start perf-alert on a FIFO (a live pipeline): write records with >&5.
start_live() {
	mkfifo "$BATS_TEST_TMPDIR/in"
	perf-alert "$@" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err" 3>&- &
	PA_PID=$!
	exec 5>"$BATS_TEST_TMPDIR/in"
}

stop_live() {
	exec 5>&-
	local i=0
	while kill -0 "$PA_PID" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 300 ] || { kill -9 "$PA_PID"; break; }
		sleep 0.1
	done
	wait "$PA_PID"
}

@test "-h prints the usage and the options on stdout" {
	run -0 --separate-stderr perf-alert -h
	assert_line --index 0 --partial "usage: perf-alert [-hnu] [-c config]"
	assert_output --partial "perf-alert ack [-c config] [-s statedir] [-m comment] id ..."
	assert_output --partial "--state-dir DIR"
	[ -z "$stderr" ]
}

@test "a bad option is a usage error (2)" {
	run -2 --separate-stderr perf-alert --bogus
	[ -z "$output" ]
	[[ "$stderr" == *"usage: perf-alert"* ]]
	run -2 --separate-stderr perf-alert
	[[ "$stderr" == *"no configuration (-c)"* ]]
}

@test "--list-options lists the options and the subcommands" {
	run -0 perf-alert --list-options
	assert_line -- "--config="
	assert_line -- "--state-dir="
	assert_line "ack"
	assert_line "stats"
}

@test "states on event time: pending, firing, escalated, resolved; golden" {
	run -0 --separate-stderr perf-alert -c "$FX/rules.yaml" "$FX/input.jsonl"
	grep '"type":"alert"' <<<"$output" >"$BATS_TEST_TMPDIR/alerts"
	diff -u "$FX/expected-alerts.jsonl" "$BATS_TEST_TMPDIR/alerts"
	[ -z "$stderr" ]
}

@test "every input line passes through unchanged and in order" {
	run -0 perf-alert -c "$FX/rules.yaml" "$FX/input.jsonl"
	grep -v '"type":"alert"' <<<"$output" >"$BATS_TEST_TMPDIR/passed"
	diff -u "$FX/input.jsonl" "$BATS_TEST_TMPDIR/passed"
	# Each alert record comes right after the record that caused it.
	run -0 jq -sc 'map(.type) | index("alert")' <<<"$output"
	[ "$output" = 3 ]
}

@test "the fingerprint is stable and the same across a replay" {
	run -0 perf-alert -c "$FX/rules.yaml" "$FX/input.jsonl"
	a=$(jq -r 'select(.type=="alert" and .rule=="cpu_busy") | .fingerprint' <<<"$output" | sort -u)
	[ "$(wc -l <<<"$a")" -eq 1 ]
	[ "$a" = 454e17a1975129a4 ]
}

@test "hysteresis: a firing alert resolves only after clear holds for clear_for" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-'EOF'
	rules:
	  - name: hot
	    when: cpu.util > 90
	    clear: cpu.util < 80
	    clear_for: 5s
	EOF
	{
		sample 1 95; sample 2 85; sample 3 79; sample 4 85; sample 5 70
		sample 7 70; sample 9 70; sample 10 70
	} >"$BATS_TEST_TMPDIR/in"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type=="alert") | [.ts, .state, .duration_s]' <<<"$output"
	assert_output "$(printf '[1,"firing",null]\n[10,"resolved",9]')"
}

@test "a pending alert whose condition ends before 'for' never fires" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-'EOF'
	rules:
	  - name: hot
	    when: cpu.util > 90
	    for: 10s
	EOF
	{ sample 1 95; sample 5 95; sample 8 50; sample 20 50; } >"$BATS_TEST_TMPDIR/in"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type=="alert") | [.ts, .state]' <<<"$output"
	assert_output '[1,"pending"]'
}

@test "alerts are per host: two hosts, two fingerprints" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-'EOF'
	rules:
	  - name: hot
	    when: cpu.util > 90
	EOF
	{ sample 1 95 a; sample 1 50 b; sample 2 95 b; sample 3 50 a; } >"$BATS_TEST_TMPDIR/in"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type=="alert") | [.ts, .host, .state]' <<<"$output"
	assert_output "$(printf '[1,"a","firing"]\n[2,"b","firing"]\n[3,"a","resolved"]')"
}

@test "a malformed line among good ones: status 3, FILE:LINE message, the rest processed" {
	{ sample 1 95; echo '{"type":"sample",'; echo '{"type":"sample","host":"x"}'; sample 2 50; } >"$BATS_TEST_TMPDIR/in"
	run -3 --separate-stderr perf-alert -c "$FX/rules.yaml" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"perf-alert: $BATS_TEST_TMPDIR/in:2: "* ]]
	[[ "$stderr" == *"perf-alert: $BATS_TEST_TMPDIR/in:3: no numeric 'ts'"* ]]
	[[ "$stderr" == *"2 bad input lines skipped"* ]]
	[ "$(grep -c '"type":"sample"' <<<"$output")" -eq 2 ]
}

@test "--strict makes the first bad line fatal" {
	{ sample 1 95; echo 'nope'; sample 2 50; } >"$BATS_TEST_TMPDIR/in"
	run -3 --separate-stderr perf-alert --strict -c "$FX/rules.yaml" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *":2: "* ]]
	[ "$(grep -c '"type":"sample"' <<<"$output")" -eq 1 ]
}

@test "a write error on stdout is status 4 with a message" {
	run -4 --separate-stderr bash -c 'perf-alert -c "$1" "$2" >/dev/full' _ \
	    "$FX/rules.yaml" "$FX/input.jsonl"
	[[ "$stderr" == *"perf-alert: "* ]]
}

@test "a reader that closes early ends perf-alert quietly (141)" {
	for i in $(seq 1 20000); do sample "$i" 50; done >"$BATS_TEST_TMPDIR/in"
	run -141 bats_pipe perf-alert -c "$FX/rules.yaml" "$BATS_TEST_TMPDIR/in" \| head -n1
	[ "$output" = "$(head -n1 "$BATS_TEST_TMPDIR/in")" ]
}

@test "config errors name FILE:LINE:COL and stop the program (2)" {
	printf 'rules:\n  - name: x\n    when: cpu.util > 90\n    sevrity: WARNING\n' >"$BATS_TEST_TMPDIR/r.yaml"
	run -2 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" /dev/null
	[[ "$stderr" == *"r.yaml:4:"*"sevrity"* ]]
	printf 'rules:\n  - name: x\n    when: cpu.util >> 90\n' >"$BATS_TEST_TMPDIR/r.yaml"
	run -2 --separate-stderr perf-alert -n -c "$BATS_TEST_TMPDIR/r.yaml"
	[[ "$stderr" == *"r.yaml:3:"*"bad condition"* ]]
	printf 'rules:\n  - name: x\n    when: cpu.util > 9\n    severity: FATAL\n' >"$BATS_TEST_TMPDIR/r.yaml"
	run -2 --separate-stderr perf-alert -n -c "$BATS_TEST_TMPDIR/r.yaml"
	[[ "$stderr" == *"r.yaml:4:"*"unknown severity 'FATAL'"* ]]
	printf 'rules:\n  - name: x\n    when: cpu.util > 9\nreceivers:\n  - {name: h, type: webhook, url: "http://127.0.0.1:1/"}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	run -2 --separate-stderr perf-alert -n -c "$BATS_TEST_TMPDIR/r.yaml"
	[[ "$stderr" == *"receivers need a state directory"* ]]
}

@test "flapping: marked, and its notifications held" {
	start_http
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - name: hot
	    when: cpu.util > 90
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/"}
	EOF
	for i in $(seq 1 30); do sample "$i" $(( i % 2 ? 95 : 50 )); done >"$BATS_TEST_TMPDIR/in"
	for i in $(seq 31 60); do sample "$i" 50; done >>"$BATS_TEST_TMPDIR/in"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 10s "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type=="alert" and (.event=="flapping" or .event=="flap_end")) | [.ts, .event]' <<<"$output"
	assert_output "$(printf '[10,"flapping"]\n[45,"flap_end"]')"
	# Nagios weighting: at ts 10, 9 changes weighing 0.8 + 0.4 (19 - i) / 19
	# for i = 0..8 (newest first), over 20 slots: 50.21%.
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 10s "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.event=="flapping") | .flap_pct * 100 | round' <<<"$output"
	assert_output 5021
	# Notifications stopped while it flapped (ts 10 to 45); when it
	# stopped, the receiver was told where it stands (resolved): per run
	# ts 1..9 and 45.
	wait_lines "$BATS_TEST_TMPDIR/posts.jsonl" 20
	sleep 0.5
	run -0 jq -c '[.body.ts, .body.event]' "$BATS_TEST_TMPDIR/posts.jsonl"
	[ "${#lines[@]}" -eq 20 ]
	assert_line --index 8 '[9,"firing"]'
	assert_line --index 9 '[45,"resolved"]'
	assert_line --index 19 '[45,"resolved"]'
}
