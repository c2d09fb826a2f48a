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
	    "$BATS_TEST_TMPDIR/fail" "$BATS_TEST_TMPDIR/hang" 3>&- 5>&- &
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
	assert_output --partial "perf-alert [-c config] [-s statedir] ack [-m comment] id ..."
	assert_output --partial "perf-alert [-c config] [-s statedir] stats"
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
	[[ "$stderr" == *"perf-alert: $BATS_TEST_TMPDIR/in:3: a sample record without a numeric ts"* ]]
	[[ "$stderr" == *"2 bad input lines skipped"* ]]
	[ "$(grep -c '"type":"sample"' <<<"$output")" -eq 2 ]
}

@test "the front end: blank lines are no records, types the rules do not read pass unchecked" {
	{
		sample 1 95
		printf '\n  \t\n'
		echo '{"type":"note","text":"no ts"}'
		echo '{"type":"sample","ts":2,"host":5,"cpu":{"util":50}}'
		sample 3 50
	} >"$BATS_TEST_TMPDIR/in"
	run -3 --separate-stderr perf-alert -c "$FX/rules.yaml" "$BATS_TEST_TMPDIR/in"
	[ "${#stderr_lines[@]}" -eq 2 ]
	assert_equal "${stderr_lines[0]}" "perf-alert: $BATS_TEST_TMPDIR/in:5: host is not a string"
	assert_equal "${stderr_lines[1]}" "perf-alert: 1 bad input line skipped"
	run -0 jq -c 'select(.type != "alert") | .type' <<<"$output"
	assert_output "$(printf '"sample"\n"note"\n"sample"')"
	# A rule without a type reads every record: then a note needs a ts.
	printf 'rules:\n  - {name: hot, when: cpu.util > 90}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	run -3 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"in:4: a record without a numeric ts"* ]]
}

@test "ts in milliseconds is a bad line, as in every filter" {
	{ sample 1732300001 95; sample 1732300033500 95; sample 1732300002 50; } >"$BATS_TEST_TMPDIR/in"
	run -3 --separate-stderr perf-alert -c "$FX/rules.yaml" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"perf-alert: $BATS_TEST_TMPDIR/in:2: ts 1732300033500 is more than a day ahead of the clock (not seconds since the epoch?)"* ]]
	[[ "$stderr" == *"1 bad input line skipped"* ]]
	# Not passed on; the lines around it are.
	[ "$(grep -c '"type":"sample"' <<<"$output")" -eq 2 ]
	refute_output --partial 1732300033500
}

@test "one event clock per host: a host 2 minutes behind does not hurry another's 'for'" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-'EOF'
	rules:
	  - {name: hot, match: {type: sample}, when: cpu.util > 90, for: 60s, flap: false}
	EOF
	# a once a second; b, whose clock is 2 minutes behind, three times.
	t=1732300000
	for i in $(seq 0 70); do
		sample $((t + i)) 95 a
		for k in 1 2 3; do sample $((t - 120 + i)) 95 b; done
	done >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	# No late records, no clock step: each host is on time on its own.
	[ -z "$stderr" ]
	run -0 jq -c "select(.type==\"alert\") | [.host, .event, .ts - $t, .since - $t]" <<<"$output"
	assert_output "$(printf '%s\n' '["a","pending",0,0]' '["b","pending",-120,-120]' \
	    '["a","firing",60,60]' '["b","firing",-60,-60]')"
}

@test "a step back of one host restarts its timers only; late records are not evaluated" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-'EOF'
	rules:
	  - {name: hot, when: cpu.util > 90, for: 30s, flap: false}
	EOF
	t=1732300000
	{
		for i in $(seq 0 9); do sample $((t + i)) 95 a; sample $((t + i)) 95 b; done
		# a steps back an hour (its first two records late); b goes on.
		for i in $(seq 10 40); do sample $((t - 3600 + i)) 95 a; sample $((t + i)) 95 b; done
		# One stray old record of b, hot: late, not evaluated.
		sample $((t - 500)) 95 b
	} >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"perf-alert: a: clock stepped back by 3597 s at $BATS_TEST_TMPDIR/in:25; timers restarted"* ]]
	[[ "$stderr" == *"perf-alert: 3 late records (older than a minute) not evaluated"* ]]
	[ "$(grep -c '"type":"sample"' <<<"$output")" -eq 83 ]
	# b fires 30 s after it began, on its own clock; a after 30 s of
	# event time on its new timeline (9 s before the step, 21 after).
	run -0 jq -c "select(.type==\"alert\") | [.host, .event, .ts - $t]" <<<"$output"
	assert_output "$(printf '%s\n' '["a","pending",0]' '["b","pending",0]' \
	    '["b","firing",30]' '["a","firing",-3567]')"
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

# A configuration ($1, printf %b escapes) that perf-alert -n refuses with
# status 2 and a message containing $2.
config_error() {
	printf '%b' "$1" >"$BATS_TEST_TMPDIR/r.yaml"
	run -2 --separate-stderr perf-alert -n -c "$BATS_TEST_TMPDIR/r.yaml"
	[[ "$stderr" == *"$2"* ]] || fail "want '$2', got: $stderr"
}

# The receiver types of the man page (its "Receiver types" list: each
# .It Cm TYPE, and the .It Li KEY items under it), one type a line.
man_receivers() {
	awk '
	/^\.Ss Receiver types/ { on = 1; next }
	/^\.S[hs] / { if (on && line != "") print line; on = 0; line = "" }
	!on { next }
	/^\.Bl/ { depth++; next }
	/^\.El/ { depth--; next }
	/^\.It Cm / && depth == 1 { if (line != "") print line; line = $3; next }
	/^\.It Li / && depth == 2 { for (i = 3; i <= NF; i++) if ($i != ",") line = line " " $i }
	' "$ROOT/man/perf-alert.1"
}

@test "the man page documents every receiver type and its keys, and nothing else" {
	run -0 perf-alert --list-receivers
	[ "${#lines[@]}" -ge 4 ]
	diff -u <(man_receivers) <(printf '%s\n' "$output")
}

@test "a key of another receiver type is a config error with FILE:LINE:COL" {
	for k in 'to: [a@example.org]' 'starttls: true' 'command: "true"' 'urls: ["http://127.0.0.1:1/"]'; do
		printf 'state_dir: %s\nrules:\n  - {name: x, when: cpu.util > 9}\nreceivers:\n  - name: hook\n    type: webhook\n    url: "http://127.0.0.1:1/"\n    %s\n' \
		    "$BATS_TEST_TMPDIR/st" "$k" >"$BATS_TEST_TMPDIR/r.yaml"
		run -2 --separate-stderr perf-alert -n -c "$BATS_TEST_TMPDIR/r.yaml"
		[[ "$stderr" == *"r.yaml:8:5: unknown key '${k%%:*}' in webhook receiver 'hook' (keys: name, type, severity, labels, repeat_interval, rate_limit, timeout, url)"* ]] ||
		    fail "$k: $stderr"
	done
	# A command receiver takes no url; a misspelt key gets a suggestion.
	head='state_dir: st\nrules:\n  - {name: x, when: cpu.util > 9}\nreceivers:\n'
	config_error "$head"'  - {name: run, type: command, command: "true", url: "http://x/"}\n' \
	    "r.yaml:5:49: unknown key 'url' in command receiver 'run'"
	config_error "$head"'  - {name: am, type: alertmanager, url: "http://x/", resend_intervall: 1s}\n' \
	    "unknown key 'resend_intervall' in alertmanager receiver 'am' (keys: name, type, severity, labels, repeat_interval, rate_limit, timeout, url, urls, resend_interval, severity_case, generator_url) (did you mean 'resend_interval'?)"
	# The Alertmanager conventions' keys: a case, a URL.
	config_error "$head"'  - {name: am, type: alertmanager, url: "http://x/", severity_case: Upper}\n' \
	    "r.yaml:5:69: severity_case 'Upper': lower or upper"
	config_error "$head"'  - {name: am, type: alertmanager, url: "http://x/", generator_url: "grafana/d/x"}\n' \
	    "r.yaml:5:69: generator_url 'grafana/d/x': an http:// or https:// URL is expected"
	config_error "$head"'  - {name: am, type: alertmanager, url: "http://x/", generator_url: "http://g/d x?h={{host}}"}\n' \
	    "r.yaml:5:69: generator_url: ' ' does not belong in a URL (encode it)"
	# An unknown type lists the types of the table.
	types=$(perf-alert --list-receivers | awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $1 }')
	config_error "$head"'  - {name: p, type: pager}\n' \
	    "r.yaml:5:21: unknown receiver type 'pager' ($types)"
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

@test "webhook: the receiver down while alerts fire, then up: all delivered, in order" {
	HTTP_PORT=$(pk_free_port)
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	retry_min: 100ms
	retry_max: 300ms
	rules:
	  - name: hot
	    when: cpu.util > 90
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/alerts"}
	EOF
	start_live -c "$BATS_TEST_TMPDIR/r.yaml"
	{ sample 1 95; sample 2 50; sample 3 95; sample 4 50; sample 5 95; } >&5
	wait_lines "$BATS_TEST_TMPDIR/out" 10
	# Nothing could be delivered: five notifications wait in the spool.
	[ "$(ls "$BATS_TEST_TMPDIR/st/spool" | wc -l)" -eq 5 ]
	start_http
	wait_lines "$BATS_TEST_TMPDIR/posts.jsonl" 5
	stop_live
	run -0 jq -c '[.path, .body.ts, .body.state, .key]' "$BATS_TEST_TMPDIR/posts.jsonl"
	fp=$(jq -r 'select(.type=="alert") | .fingerprint' "$BATS_TEST_TMPDIR/out" | head -n1)
	assert_output "$(printf '["/alerts",%s,"%s","%s"]\n' \
	    1 firing "$fp-firing-1.000-0" 2 resolved "$fp-resolved-2.000-0" \
	    3 firing "$fp-firing-3.000-0" 4 resolved "$fp-resolved-4.000-0" \
	    5 firing "$fp-firing-5.000-0")"
	[ -z "$(ls "$BATS_TEST_TMPDIR/st/spool")" ]
	grep -q "delivery of $fp-firing-1.000-0 failed" "$BATS_TEST_TMPDIR/err"
}

@test "spool files are private (0600) and complete JSON" {
	HTTP_PORT=$(pk_free_port)
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - {name: hot, when: cpu.util > 90}
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/"}
	EOF
	sample 1 95 | perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 0 >/dev/null 2>&1
	f=$(ls "$BATS_TEST_TMPDIR"/st/spool/*.json)
	[ "$(stat -c %a "$f")" = 600 ]
	run -0 jq -r '[.receiver, .key, .alert.state] | join(" ")' "$f"
	[[ "$output" == "hook "*"-firing-1.000-0 firing" ]]
}

@test "SIGKILL mid-delivery, then a restart: nothing lost" {
	touch "$BATS_TEST_TMPDIR/hang"
	start_http
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	retry_min: 100ms
	rules:
	  - {name: hot, when: cpu.util > 90, flap: false}
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/", timeout: 30s}
	EOF
	for i in $(seq 1 10); do sample "$i" $(( i % 2 ? 95 : 50 )); done >"$BATS_TEST_TMPDIR/in"
	perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 60s "$BATS_TEST_TMPDIR/in" \
	    >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	pid=$!
	PIDS="$PIDS $pid"
	wait_lines "$BATS_TEST_TMPDIR/out" 20
	sleep 0.5	# the first POST is being held by the receiver
	kill -9 "$pid"
	wait "$pid" || true
	[ "$(ls "$BATS_TEST_TMPDIR/st/spool" | wc -l)" -eq 10 ]
	rm "$BATS_TEST_TMPDIR/hang"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 20s </dev/null
	[ -z "$(ls "$BATS_TEST_TMPDIR/st/spool")" ]
	# Every notification arrived (the one in flight possibly twice: at
	# least once, with the same idempotency key).
	wait_lines "$BATS_TEST_TMPDIR/posts.jsonl" 10
	run -0 jq -r .key "$BATS_TEST_TMPDIR/posts.jsonl"
	[ "$(sort -u <<<"$output" | wc -l)" -eq 10 ]
	jq -r 'select(.type=="alert") | "\(.fingerprint)-\(.event)-\(.ts).000-0"' \
	    "$BATS_TEST_TMPDIR/out" | sed 's/\.0\.000/.000/' | sort >"$BATS_TEST_TMPDIR/want"
	sort -u <<<"$output" | diff -u "$BATS_TEST_TMPDIR/want" -
}

@test "SIGHUP: an invalid config keeps the old one, a valid one is loaded" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-'EOF'
	rules:
	  - {name: hot, when: cpu.util > 90}
	EOF
	start_live -c "$BATS_TEST_TMPDIR/r.yaml"
	sample 1 95 >&5
	wait_lines "$BATS_TEST_TMPDIR/out" 2
	printf 'rules:\n  - {name: hot, when: cpu.util >}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	kill -HUP "$PA_PID"
	i=0
	until grep -q "invalid configuration, keeping the old one" "$BATS_TEST_TMPDIR/err"; do
		i=$((i + 1)); [ "$i" -lt 100 ]; sleep 0.1
	done
	grep -q "r.yaml:2:" "$BATS_TEST_TMPDIR/err"
	kill -0 "$PA_PID"
	sample 2 50 >&5	# the old rule resolves it
	sample 3 95 >&5
	wait_lines "$BATS_TEST_TMPDIR/out" 6
	printf 'rules:\n  - {name: hot, when: cpu.util > 99}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	kill -HUP "$PA_PID"
	i=0
	until grep -q "configuration reloaded" "$BATS_TEST_TMPDIR/err"; do
		i=$((i + 1)); [ "$i" -lt 100 ]; sleep 0.1
	done
	sample 4 95 >&5	# below the new threshold: resolves the alert in progress
	sample 5 100 >&5
	stop_live
	run -0 jq -c 'select(.type=="alert") | [.ts, .state]' "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf '[1,"firing"]\n[2,"resolved"]\n[3,"firing"]\n[4,"resolved"]\n[5,"firing"]')"
}

@test "ack from another shell stops the escalation; stats report MTTA and MTTR" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - name: hot
	    when: cpu.util > 90
	    severity: WARNING
	    escalate: {after: 5s}
	  - name: cold
	    when: cpu.util < 10
	    severity: INFO
	EOF
	start_live -c "$BATS_TEST_TMPDIR/r.yaml"
	{ sample 100 95; sample 106 95; sample 107 95; sample 108 95; } >&5
	wait_lines "$BATS_TEST_TMPDIR/out" 6
	fp=$(jq -r 'select(.type=="alert") | .fingerprint' "$BATS_TEST_TMPDIR/out" | head -n1)
	run -0 perf-alert ack -s "$BATS_TEST_TMPDIR/st" -m "on it" "${fp:0:8}"
	i=0
	until grep -q '"acknowledged"' "$BATS_TEST_TMPDIR/out"; do
		i=$((i + 1)); [ "$i" -lt 100 ]; sleep 0.1
	done
	{ sample 120 95; sample 130 95; sample 140 50; sample 150 5; sample 160 50; } >&5
	stop_live
	run -0 jq -c 'select(.type=="alert") | [.ts, .rule, .event, .severity, .tta_s, .comment]' "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf '%s\n' '[100,"hot","firing","WARNING",null,null]' \
	    '[106,"hot","escalated","CRITICAL",null,null]' \
	    '[108,"hot","acknowledged","CRITICAL",8,"on it"]' \
	    '[140,"hot","resolved","CRITICAL",null,null]' \
	    '[150,"cold","firing","INFO",null,null]' \
	    '[160,"cold","resolved","INFO",null,null]')"
	run -0 perf-alert stats -s "$BATS_TEST_TMPDIR/st"
	assert_line --index 0 '{"type":"alert_stats","rule":"hot","fired":1,"escalated":1,"acknowledged":1,"resolved":1,"by_severity":{"WARNING":1,"CRITICAL":1},"mtta_s":8.0,"mttr_s":40.0}'
	assert_line --index 1 '{"type":"alert_stats","rule":"cold","fired":1,"escalated":0,"acknowledged":0,"resolved":1,"by_severity":{"INFO":1},"mttr_s":10.0}'
	assert_line --index 2 '{"type":"alert_stats","rule":"*","fired":2,"escalated":1,"acknowledged":1,"resolved":2,"by_severity":{"INFO":1,"WARNING":1,"CRITICAL":1},"mtta_s":8.0,"mttr_s":25.0}'
	# The history is append-only JSON lines, private.
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/st/history.jsonl")" = 600 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/st/history.jsonl")" -eq 6 ]
}

@test "ack: a bad id is a usage error" {
	run -2 --separate-stderr perf-alert ack -s "$BATS_TEST_TMPDIR/st" xyz
	[[ "$stderr" == *"'xyz' is not an alert id"* ]]
	run -2 --separate-stderr perf-alert ack -s "$BATS_TEST_TMPDIR/st"
	[[ "$stderr" == *"no alert id"* ]]
}

@test "subcommands: their options stand before or after the name" {
	d=$BATS_TEST_TMPDIR/st
	run -0 perf-alert -s "$d" -m first ack 1234abcd
	run -0 jq -r .comment "$d/ack/1234abcd"
	assert_output first
	run -0 perf-alert ack -s "$d" 5678abcd -m second
	run -0 jq -r .comment "$d/ack/5678abcd"
	assert_output second
	printf '%s\n' '{"type":"alert","rule":"hot","event":"firing","severity":"WARNING"}' >"$d/history.jsonl"
	run -0 perf-alert -s "$d" stats
	assert_line --index 0 --partial '"rule":"hot","fired":1'
	run -0 perf-alert stats -s "$d"
	assert_line --index 0 --partial '"rule":"hot","fired":1'
}

@test "subcommands: an option or operand they do not take is a usage error naming it" {
	d=$BATS_TEST_TMPDIR/st
	run -2 --separate-stderr perf-alert ack -s "$d" -w 1s 1234abcd
	[[ "$stderr" == *"perf-alert: ack: --wait does not apply"*"usage: perf-alert"* ]]
	[ ! -e "$d/ack/1234abcd" ]
	run -2 --separate-stderr perf-alert --strict -s "$d" stats
	[[ "$stderr" == *"perf-alert: stats: --strict does not apply"* ]]
	run -2 --separate-stderr perf-alert stats -s "$d" -m hi
	[[ "$stderr" == *"perf-alert: stats: --message does not apply"* ]]
	run -2 --separate-stderr perf-alert stats -s "$d" extra
	[[ "$stderr" == *"perf-alert: stats: unexpected operand 'extra'"* ]]
	run -2 --separate-stderr perf-alert -c "$FX/rules.yaml" -m hi /dev/null
	[[ "$stderr" == *"perf-alert: --message applies to ack only"* ]]
	# An input file named like a subcommand: ./stats.
	cp "$FX/input.jsonl" "$BATS_TEST_TMPDIR/stats"
	cd "$BATS_TEST_TMPDIR"
	run -0 perf-alert -c "$FX/rules.yaml" ./stats
	[ "$(grep -c '"type":"alert"' <<<"$output")" -gt 0 ]
}

@test "absent data: a stalled stream fires on the wall clock, data resolves it" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-'EOF'
	rules:
	  - name: stalled
	    match: {type: sample}
	    absent: 500ms
	    severity: CRITICAL
	    annotations: {summary: "no samples"}
	EOF
	start_live -c "$BATS_TEST_TMPDIR/r.yaml"
	sample 1 50 >&5
	i=0
	until grep -q '"stalled"' "$BATS_TEST_TMPDIR/out"; do
		i=$((i + 1)); [ "$i" -lt 100 ]; sleep 0.1
	done
	sample 2 50 >&5
	stop_live
	run -0 jq -c 'select(.type=="alert") | [.rule, .state, .severity, .annotations.summary, (.value >= 0.5)]' "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf '%s\n' '["stalled","firing","CRITICAL","no samples",true]' '["stalled","resolved","CRITICAL","no samples",true]')"
}

# Start an Alertmanager on a free port (configuration: $2, or one route
# to a receiver that does nothing); its port is added to AM_PORTS.
start_am() {
	local port dir=$BATS_TEST_TMPDIR/am$1
	port=$(pk_free_port)
	mkdir -p "$dir"
	if [ -n "${2:-}" ]; then
		cp "$2" "$dir/am.yml"
	else
		printf 'route:\n  receiver: "null"\n  group_wait: 1s\nreceivers:\n  - name: "null"\n' >"$dir/am.yml"
	fi
	prometheus-alertmanager --config.file="$dir/am.yml" --storage.path="$dir" \
	    --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
	    >"$dir/log" 2>&1 3>&- &
	PIDS="${PIDS:-} $!"
	pk_wait_port "$port" 20
	AM_PORTS="${AM_PORTS:-} $port"
}

# The active alerts of the Alertmanager on port $1, one line each.
am_alerts() {
	curl -sf "http://127.0.0.1:$1/api/v2/alerts" |
	    jq -c '.[] | [.labels.alertname, .labels.host, .labels.severity, .labels.team, .annotations.summary, .status.state]'
}

@test "Alertmanager API v2: every peer of an HA pair gets the alert, then its resolution" {
	command -v prometheus-alertmanager >/dev/null || skip "no prometheus-alertmanager"
	start_am 1
	start_am 2
	set -- $AM_PORTS
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	retry_min: 100ms
	rules:
	  - name: soc_hot
	    when: temp_c.cpu_thermal >= 80
	    severity: CRITICAL
	    labels: {team: robot}
	    annotations: {summary: "SoC at {{value}} C"}
	receivers:
	  - name: am
	    type: alertmanager
	    urls: ["http://127.0.0.1:$1", "http://127.0.0.1:$2"]
	    resend_interval: 1s
	EOF
	now=$(date +%s)
	start_live -c "$BATS_TEST_TMPDIR/r.yaml"
	printf '{"type":"sample","ts":%s,"host":"pi4","temp_c":{"cpu_thermal":82.5}}\n' "$now" >&5
	want='["soc_hot","pi4","critical","robot","SoC at 82.5 C","active"]'
	for p in "$1" "$2"; do
		i=0
		until [ "$(am_alerts "$p")" = "$want" ]; do
			i=$((i + 1)); [ "$i" -lt 100 ] || fail "peer $p: $(am_alerts "$p")"; sleep 0.1
		done
	done
	# Active alerts are resent (every second here), each time valid for
	# four more intervals: Alertmanager's endsAt moves forward.
	e1=$(curl -sf "http://127.0.0.1:$1/api/v2/alerts" | jq -r '.[0].endsAt')
	i=0
	until [[ "$(curl -sf "http://127.0.0.1:$2/api/v2/alerts" | jq -r '.[0].endsAt')" > "$e1" ]] &&
	    [[ "$(curl -sf "http://127.0.0.1:$1/api/v2/alerts" | jq -r '.[0].endsAt')" > "$e1" ]]; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "no resend: endsAt still $e1"; sleep 0.1
	done
	printf '{"type":"sample","ts":%s,"host":"pi4","temp_c":{"cpu_thermal":60}}\n' "$((now + 1))" >&5
	for p in "$1" "$2"; do
		i=0
		until [ -z "$(am_alerts "$p")" ]; do
			i=$((i + 1)); [ "$i" -lt 100 ] || fail "peer $p still has: $(am_alerts "$p")"; sleep 0.1
		done
	done
	stop_live
	[ -z "$(ls "$BATS_TEST_TMPDIR/st/spool")" ]
}

# The alerts of the Alertmanager on port $1 as it holds them: the labels
# (keys sorted), the receivers its routes chose, the generatorURL; by
# alertname.
am_routed() {
	curl -sf "http://127.0.0.1:$1/api/v2/alerts" |
	    jq -S -c 'sort_by(.labels.alertname) | .[] | [.labels, (.receivers | map(.name) | join(",")), (.generatorURL // "")]'
}

@test "Alertmanager conventions: a route on severity=\"critical\" matches, the rule's labels stay as written, generatorURL" {
	command -v prometheus-alertmanager >/dev/null || skip "no prometheus-alertmanager"
	# Routes as Prometheus users write them, and as the records spell it.
	for c in critical CRITICAL; do
		cat >"$BATS_TEST_TMPDIR/am-$c.yml" <<-EOF
		route:
		  receiver: "null"
		  group_wait: 1s
		  routes:
		    - matchers: ['severity="$c"']
		      receiver: pager
		    - matchers: ['severity="page"']
		      receiver: team
		receivers:
		  - name: "null"
		  - name: pager
		  - name: team
		EOF
	done
	start_am 1 "$BATS_TEST_TMPDIR/am-critical.yml"
	start_am 2 "$BATS_TEST_TMPDIR/am-CRITICAL.yml"
	set -- $AM_PORTS
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	retry_min: 100ms
	rules:
	  - name: soc_hot
	    when: temp_c.cpu_thermal >= 80
	    severity: CRITICAL
	    labels: {team: robot}
	  - name: fan_stopped
	    when: fan.rpm == 0
	    severity: WARNING
	    labels: {severity: page}
	receivers:
	  - name: am
	    type: alertmanager
	    url: "http://127.0.0.1:$1"
	    generator_url: "http://grafana.example/d/perfkit?var-host={{host}}&var-component={{component}}&rule={{rule}}"
	  - name: am_upper
	    type: alertmanager
	    url: "http://127.0.0.1:$2"
	    severity_case: upper
	EOF
	start_live -c "$BATS_TEST_TMPDIR/r.yaml"
	# A component that would break a URL unencoded.
	printf '{"type":"sample","ts":%s,"host":"pi4","component":"soc/0 a&b","temp_c":{"cpu_thermal":82.5},"fan":{"rpm":0}}\n' "$(date +%s)" >&5
	g='http://grafana.example/d/perfkit?var-host=pi4&var-component=soc%2F0%20a%26b&rule='
	l='"component":"soc/0 a&b","host":"pi4"'
	# The user's severity label as written; perf-alert's in either case.
	want1=$(printf '%s\n' \
	    '[{"alertname":"fan_stopped",'"$l"',"severity":"page"},"team","'"${g}fan_stopped"'"]' \
	    '[{"alertname":"soc_hot",'"$l"',"severity":"critical","team":"robot"},"pager","'"${g}soc_hot"'"]')
	want2=$(printf '%s\n' \
	    '[{"alertname":"fan_stopped",'"$l"',"severity":"page"},"team",""]' \
	    '[{"alertname":"soc_hot",'"$l"',"severity":"CRITICAL","team":"robot"},"pager",""]')
	ports=("$1" "$2")
	wants=("$want1" "$want2")
	for k in 0 1; do
		i=0
		until [ "$(am_routed "${ports[k]}")" = "${wants[k]}" ]; do
			i=$((i + 1)); [ "$i" -lt 100 ] || fail "Alertmanager ${ports[k]}: $(am_routed "${ports[k]}")"; sleep 0.1
		done
	done
	stop_live
	[ -z "$(ls "$BATS_TEST_TMPDIR/st/spool")" ]
}

@test "email over SMTP (a real aiosmtpd): delivered; a 451 is retried until accepted" {
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || skip "no python3-aiosmtpd"
	port=$(pk_free_port)
	mkdir "$BATS_TEST_TMPDIR/mail"
	touch "$BATS_TEST_TMPDIR/mail/reject451"
	/usr/bin/python3 "$SMTPD" "$port" "$BATS_TEST_TMPDIR/mail" 3>&- &
	PIDS="${PIDS:-} $!"
	pk_wait_port "$port" 20
	printf 'secret\n' >"$BATS_TEST_TMPDIR/pw"
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	retry_min: 100ms
	retry_max: 300ms
	rules:
	  - name: under_voltage
	    when: throttle.now.under_voltage == true
	    severity: CRITICAL
	    annotations: {action: "use a 5.1 V supply"}
	receivers:
	  - name: mail
	    type: email
	    url: "smtp://127.0.0.1:$port"
	    from: robot@example.org
	    to: [oncall@example.org, lead@example.org]
	    password_file: $BATS_TEST_TMPDIR/pw
	EOF
	start_live -c "$BATS_TEST_TMPDIR/r.yaml"
	printf '{"type":"sample","ts":7,"host":"pi4","throttle":{"now":{"under_voltage":true}}}\n' >&5
	i=0
	until grep -q "451" "$BATS_TEST_TMPDIR/err"; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "no 451: $(cat "$BATS_TEST_TMPDIR/err")"; sleep 0.1
	done
	[ -z "$(ls "$BATS_TEST_TMPDIR/mail"/*.eml 2>/dev/null)" ]
	[ "$(ls "$BATS_TEST_TMPDIR/st/spool" | wc -l)" -eq 1 ]
	rm "$BATS_TEST_TMPDIR/mail/reject451"
	pk_wait_file "$BATS_TEST_TMPDIR/mail/1.eml" 20
	stop_live
	m=$BATS_TEST_TMPDIR/mail/1.eml
	grep -q '^X-Rcpt: oncall@example.org,lead@example.org' "$m"
	grep -q '^Subject: \[CRITICAL\] under_voltage firing on pi4' "$m"
	grep -q '^Message-ID: <[0-9a-f]\{16\}-firing-7.000-0@perf-alert>' "$m"
	grep -q '^action: use a 5.1 V supply' "$m"
	[ -z "$(ls "$BATS_TEST_TMPDIR/st/spool")" ]
}

@test "command receiver: the alert on stdin and in the environment; a failure is retried" {
	cat >"$BATS_TEST_TMPDIR/hook.sh" <<-'EOF'
	#!/bin/sh
	DIR=$(dirname "$0")
	# Fail the first time, to check the retry.
	[ -e "$DIR/failed" ] || { touch "$DIR/failed"; exit 3; }
	cat >"$DIR/$PERF_ALERT_KEY.json"
	echo "$PERF_ALERT_RULE $PERF_ALERT_STATE $PERF_ALERT_SEVERITY $PERF_ALERT_HOST" >>"$DIR/log"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/hook.sh"
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	retry_min: 100ms
	rules:
	  - {name: hot, when: cpu.util > 90, severity: EMERGENCY}
	receivers:
	  - {name: run, type: command, command: "$BATS_TEST_TMPDIR/hook.sh"}
	EOF
	{ sample 1 95; sample 2 50; } >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"command exited with status 3"* ]]
	run -0 cat "$BATS_TEST_TMPDIR/log"
	assert_output "$(printf 'hot firing EMERGENCY bot1\nhot resolved EMERGENCY bot1')"
	run -0 jq -r '.state' "$BATS_TEST_TMPDIR"/*-firing-1.000-0.json
	assert_output firing
}

@test "command receiver: what it prints goes to stderr, never into the record stream" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - {name: hot, when: cpu.util > 90}
	receivers:
	  - {name: run, type: command, command: "echo hi; echo '{\"type\":\"alert\",\"fake\":1}'"}
	EOF
	{ sample 1 95; sample 2 50; } >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	# Two samples and two alert records: every line is perf-alert's own.
	[ "${#lines[@]}" -eq 4 ]
	refute_output --partial hi
	refute_output --partial fake
	run -0 jq -c -s 'map(.type)' <<<"$output"
	assert_output '["sample","alert","sample","alert"]'
	[[ "$stderr" == *hi* ]]
}

@test "ntfy: the summary as the message, Title, Priority, Tags and the token as headers" {
	start_http
	printf 's3cret\n' >"$BATS_TEST_TMPDIR/token"
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - name: hot
	    when: cpu.util > 90
	    severity: CRITICAL
	    labels: {team: robot}
	    annotations: {summary: "CPU at {{value}}% on {{host}}"}
	  - {name: warm, when: cpu.util > 50, severity: WARNING}
	receivers:
	  - name: phone
	    type: ntfy
	    url: "http://127.0.0.1:$HTTP_PORT/robot-alerts"
	    token_file: $BATS_TEST_TMPDIR/token
	    priority: {WARNING: low}
	    tags: [warning, robot]
	    title: "{{rule}} on {{host}} ({{labels.team}})"
	EOF
	{
		sample 1 95 bot1
		# A host name that tries to add a header of its own.
		printf '%s\n' '{"type":"sample","ts":2,"host":"evil\r\nX-Injected: yes","cpu":{"util":60}}'
	} >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	wait_lines "$BATS_TEST_TMPDIR/posts.jsonl" 3
	run -0 jq -c '[.path, .body, .headers.Title, .headers.Priority, .headers.Tags,
	    .headers.Authorization, (.headers["Content-Type"] | startswith("text/plain"))]' \
	    "$BATS_TEST_TMPDIR/posts.jsonl"
	assert_line '["/robot-alerts","CPU at 95% on bot1","hot on bot1 (robot)","5","warning,robot","Bearer s3cret",true]'
	# Without a summary the title is the message.
	assert_line '["/robot-alerts","warm on bot1 ()","warm on bot1 ()","2","warning,robot","Bearer s3cret",true]'
	assert_line '["/robot-alerts","warm on evil  X-Injected: yes ()","warm on evil  X-Injected: yes ()","2","warning,robot","Bearer s3cret",true]'
	run -0 jq -r '.headers | keys[]' "$BATS_TEST_TMPDIR/posts.jsonl"
	refute_output --partial X-Injected
	# The token never reaches the spool or the history.
	run -1 grep -rq s3cret "$BATS_TEST_TMPDIR/st"
}

@test "ntfy: a message the server refuses (4xx) is not retried: a dead letter, requeued by hand" {
	start_http
	echo 400 >"$BATS_TEST_TMPDIR/fail"
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	retry_min: 100ms
	rules:
	  - {name: hot, when: cpu.util > 90}
	receivers:
	  - {name: phone, type: ntfy, url: "http://127.0.0.1:$HTTP_PORT/t", token_env: PA_TEST_NTFY_TOKEN}
	EOF
	sample 1 95 >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 2s "$BATS_TEST_TMPDIR/in"
	run -0 grep -c "phone: delivery of .* failed for good: HTTP status 400 (a dead letter" <<<"$stderr"
	assert_output 1
	[ "$(ls "$BATS_TEST_TMPDIR/st/spool/dead" | grep -c '\.json$')" -eq 1 ]
	run -0 perf-alert -s "$BATS_TEST_TMPDIR/st" requeue
	[ "$(ls "$BATS_TEST_TMPDIR/st/spool" | grep -c '\.json$')" -eq 1 ]
	# A 503 is retried; once the server accepts, it is delivered.
	echo 503 >"$BATS_TEST_TMPDIR/fail"
	PA_TEST_NTFY_TOKEN=t0ken run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 2s </dev/null
	[[ "$stderr" == *"failed (attempt 1): HTTP status 503"* ]]
	[[ "$stderr" == *"1 notifications left in the spool"* ]]
	rm "$BATS_TEST_TMPDIR/fail"
	PA_TEST_NTFY_TOKEN=t0ken run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 10s </dev/null
	wait_lines "$BATS_TEST_TMPDIR/posts.jsonl" 1
	# The default title, the default priority of WARNING, no tags.
	run -0 jq -c '[.body, .headers.Title, .headers.Priority, .headers.Tags, .headers.Authorization]' "$BATS_TEST_TMPDIR/posts.jsonl"
	assert_output '["[WARNING] hot firing on bot1","[WARNING] hot firing on bot1","4",null,"Bearer t0ken"]'
	[ -z "$(ls "$BATS_TEST_TMPDIR/st/spool" | grep '\.json$')" ]
}

@test "ntfy: bad keys are config errors with FILE:LINE:COL" {
	head='state_dir: st\nrules:\n  - {name: x, when: cpu.util > 9}\nreceivers:\n'
	config_error "$head"'  - name: p\n    type: ntfy\n    url: "http://x/t"\n    priority: {URGENT: 5}\n' \
	    "r.yaml:8:16: unknown severity 'URGENT'"
	config_error "$head"'  - name: p\n    type: ntfy\n    url: "http://x/t"\n    priority: {CRITICAL: 6}\n' \
	    "r.yaml:8:26: '6' is too large (expected an integer in 1..5)"
	config_error "$head"'  - {name: p, type: ntfy, url: "http://x/t", tags: ["a,b"]}\n' \
	    "tag 'a,b': not empty, no comma"
	config_error "$head"'  - {name: p, type: ntfy, url: "http://x/t", token: abc}\n' \
	    "r.yaml:5:46: unknown key 'token' in ntfy receiver 'p'"
	config_error "$head"'  - {name: p, type: ntfy, url: "http://x/t", token_env: T, token_file: /t}\n' \
	    "token_env or token_file, not both"
	printf '%b' "$head"'  - {name: p, type: ntfy, url: "http://x/t", token_env: T, priority: {WARNING: high}, tags: robot, title: "{{rule}}"}\n' \
	    >"$BATS_TEST_TMPDIR/r.yaml"
	run -0 perf-alert -n -c "$BATS_TEST_TMPDIR/r.yaml"
}

@test "routing by severity and labels; repeat interval" {
	start_http
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - {name: warm, when: cpu.util > 50, severity: WARNING, labels: {team: robot}}
	  - {name: hot, when: cpu.util > 90, severity: CRITICAL, labels: {team: infra}}
	receivers:
	  - name: robot-critical
	    type: webhook
	    url: "http://127.0.0.1:$HTTP_PORT/robot"
	    severity: WARNING
	    labels: {team: robot}
	    repeat_interval: 10s
	  - name: pager
	    type: webhook
	    url: "http://127.0.0.1:$HTTP_PORT/pager"
	    severity: CRITICAL
	EOF
	for i in $(seq 0 25); do sample "$i" 95; done >"$BATS_TEST_TMPDIR/in"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	wait_lines "$BATS_TEST_TMPDIR/posts.jsonl" 4
	run -0 jq -c '[.path, .body.rule, .body.event, .body.ts]' "$BATS_TEST_TMPDIR/posts.jsonl"
	assert_output "$(printf '%s\n' '["/robot","warm","firing",0]' '["/pager","hot","firing",0]' \
	    '["/robot","warm","repeat",10]' '["/robot","warm","repeat",20]')"
}

@test "rate limit: notifications beyond it wait in the spool" {
	start_http
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - {name: hot, when: cpu.util > 90, flap: false}
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/", rate_limit: 3}
	EOF
	for i in $(seq 1 10); do sample "$i" $(( i % 2 ? 95 : 50 )); done >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 3s "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"7 notifications left in the spool"* ]]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/posts.jsonl")" -eq 3 ]
	[ "$(ls "$BATS_TEST_TMPDIR/st/spool" | wc -l)" -eq 7 ]
}

@test "the examples: the Raspberry Pi rules, the Alertmanager config, the cron job" {
	run -0 perf-alert -n -c "$ROOT/examples/perf-alert.yaml"
	if command -v amtool >/dev/null; then
		run -0 amtool check-config "$ROOT/examples/perf-alert-alertmanager.yml"
	fi
	# The rules without the receivers (which point at real servers).
	sed '/^receivers:/,$d' "$ROOT/examples/perf-alert.yaml" >"$BATS_TEST_TMPDIR/rules.yaml"
	{
		printf '{"type":"sample","ts":1,"host":"pi4","temp_c":{"cpu_thermal":81},"cpu":{"util":20},"mem":{"used_pct":40}}\n'
		printf '{"type":"sample","ts":40,"host":"pi4","temp_c":{"cpu_thermal":82},"cpu":{"util":20},"throttle":{"now":{"under_voltage":true}}}\n'
		printf '{"type":"metric","ts":41,"host":"pi4","component":"lane_detector","fps":12}\n'
		printf '{"type":"bottleneck","ts":42,"host":"pi4","component":"planner","kind":"cpu","state":"start","severity":"high","value":97}\n'
	} >"$BATS_TEST_TMPDIR/in"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/rules.yaml" -s "$BATS_TEST_TMPDIR/st" "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type=="alert") | [.rule, .state]' <<<"$output"
	assert_output "$(printf '%s\n' '["soc_hot","pending"]' '["soc_hot","firing"]' '["under_voltage","firing"]' \
	    '["lane_detector_slow","pending"]' '["bottleneck","firing"]')"
	# The cron job: deliver what is left, then the statistics.
	PERF_ALERT_CONFIG=$BATS_TEST_TMPDIR/rules.yaml PERF_ALERT_STATE_DIR=$BATS_TEST_TMPDIR/st \
	    run -0 "$ROOT/examples/perf-alert-cron.sh"
	assert_line '{"type":"alert_stats","rule":"*","fired":3,"escalated":0,"acknowledged":0,"resolved":0,"by_severity":{"WARNING":2,"CRITICAL":1}}'
}

@test "a restart resumes the alerts in progress (state.json)" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - {name: hot, when: cpu.util > 90, escalate: {after: 10s}}
	EOF
	{ sample 1 95; sample 5 95; } | perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" >/dev/null
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/st/state.json")" = 600 ]
	run -0 bash -c "{ printf '%s\n' '{\"type\":\"sample\",\"ts\":11,\"host\":\"bot1\",\"cpu\":{\"util\":95}}' \
	    '{\"type\":\"sample\",\"ts\":12,\"host\":\"bot1\",\"cpu\":{\"util\":50}}'; } |
	    perf-alert -c '$BATS_TEST_TMPDIR/r.yaml'"
	run -0 jq -c 'select(.type=="alert") | [.ts, .event, .severity, .since, .duration_s]' <<<"$output"
	assert_output "$(printf '%s\n' '[11,"escalated","CRITICAL",1,null]' '[12,"resolved","CRITICAL",1,11]')"
}

@test "email: STARTTLS and AUTH with the password from the environment" {
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || skip "no python3-aiosmtpd"
	command -v openssl >/dev/null || skip "no openssl"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	    -addext subjectAltName=IP:127.0.0.1 -keyout "$BATS_TEST_TMPDIR/key.pem" \
	    -out "$BATS_TEST_TMPDIR/cert.pem" 2>/dev/null
	port=$(pk_free_port)
	mkdir "$BATS_TEST_TMPDIR/mail"
	/usr/bin/python3 "$SMTPD" "$port" "$BATS_TEST_TMPDIR/mail" robot:s3cret \
	    "$BATS_TEST_TMPDIR/cert.pem" "$BATS_TEST_TMPDIR/key.pem" 3>&- 2>/dev/null &
	PIDS="${PIDS:-} $!"
	pk_wait_port "$port" 20
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	retry_min: 100ms
	rules:
	  - {name: hot, when: cpu.util > 90}
	receivers:
	  - name: mail
	    type: email
	    url: "smtp://127.0.0.1:$port"
	    starttls: true
	    ca_file: $BATS_TEST_TMPDIR/cert.pem
	    from: robot@example.org
	    to: oncall@example.org
	    username: robot
	    password_env: PA_TEST_SMTP_PW
	EOF
	sample 1 95 >"$BATS_TEST_TMPDIR/in"
	PA_TEST_SMTP_PW=s3cret run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	pk_wait_file "$BATS_TEST_TMPDIR/mail/1.eml" 10
	grep -q '^X-Auth: yes' "$BATS_TEST_TMPDIR/mail/1.eml"
	grep -q '^X-TLS: yes' "$BATS_TEST_TMPDIR/mail/1.eml"
	# The password never appears on the command line or in the spool.
	run -1 grep -rq s3cret "$BATS_TEST_TMPDIR/st"
}

@test "SIGTERM with a delivery hung: prompt exit, the state saved, the notification spooled" {
	touch "$BATS_TEST_TMPDIR/hang"
	start_http
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - {name: hot, when: cpu.util > 90}
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/", timeout: 60s}
	EOF
	start_live -c "$BATS_TEST_TMPDIR/r.yaml"
	sample 1 95 >&5
	wait_lines "$BATS_TEST_TMPDIR/out" 2
	sleep 0.5	# the POST is held by the receiver
	kill -TERM "$PA_PID"
	i=0
	while kill -0 "$PA_PID" 2>/dev/null; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "still running 10s after SIGTERM"; sleep 0.1
	done
	run -0 wait "$PA_PID"
	exec 5>&-
	[ "$(ls "$BATS_TEST_TMPDIR/st/spool" | wc -l)" -eq 1 ]
	run -0 jq -c '.alerts[] | [.rule, .state, .since]' "$BATS_TEST_TMPDIR/st/state.json"
	assert_output '["hot","firing",1]'
}

@test "one instance per state directory" {
	printf 'state_dir: %s\nrules:\n  - {name: hot, when: cpu.util > 90}\n' "$BATS_TEST_TMPDIR/st" >"$BATS_TEST_TMPDIR/r.yaml"
	start_live -c "$BATS_TEST_TMPDIR/r.yaml"
	sample 1 50 >&5
	wait_lines "$BATS_TEST_TMPDIR/out" 1
	run -4 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" /dev/null
	[[ "$stderr" == *"is in use by another perf-alert"* ]]
	stop_live
}

@test "command receiver: the command starts with no signals blocked" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - {name: hot, when: cpu.util > 90}
	receivers:
	  - {name: run, type: command, command: "grep SigBlk /proc/self/status >$BATS_TEST_TMPDIR/mask"}
	EOF
	sample 1 95 | perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" >/dev/null
	run -0 cat "$BATS_TEST_TMPDIR/mask"
	assert_output "SigBlk:	0000000000000000"
}

# A state directory another user controls: ST is made as given, then
# perf-alert (and its subcommands) must refuse it, writing nothing.
@test "state directory: made 0700; one writable by others or owned by another user is refused" {
	printf 'rules:\n  - {name: hot, when: cpu.util > 90}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	sample 1 95 >"$BATS_TEST_TMPDIR/in"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$BATS_TEST_TMPDIR/new" "$BATS_TEST_TMPDIR/in"
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/new")" = 700 ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/new/spool")" = 700 ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/new/history.jsonl")" = 600 ]
	mkdir -m 0777 "$BATS_TEST_TMPDIR/open"
	chmod 0777 "$BATS_TEST_TMPDIR/open"
	run -4 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$BATS_TEST_TMPDIR/open" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"'$BATS_TEST_TMPDIR/open' is writable by group or others"* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/open")" ]
	run -4 --separate-stderr perf-alert -s "$BATS_TEST_TMPDIR/open" ack 0123abcd
	[[ "$stderr" == *"writable by group or others"* ]]
	run -4 --separate-stderr perf-alert -s "$BATS_TEST_TMPDIR/open" stats
	[[ "$stderr" == *"writable by group or others"* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/open")" ]
	# A spool/ of the right directory that others can write to.
	mkdir -m 0700 "$BATS_TEST_TMPDIR/sub" "$BATS_TEST_TMPDIR/sub/spool"
	chmod 0733 "$BATS_TEST_TMPDIR/sub/spool"
	run -4 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$BATS_TEST_TMPDIR/sub" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"'$BATS_TEST_TMPDIR/sub/spool' is writable by group or others"* ]]
	[ "$(id -u)" -eq 0 ] || skip "chown needs root"
	mkdir -m 0700 "$BATS_TEST_TMPDIR/theirs"
	chown nobody "$BATS_TEST_TMPDIR/theirs"
	run -4 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$BATS_TEST_TMPDIR/theirs" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"'$BATS_TEST_TMPDIR/theirs' belongs to another user"* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/theirs")" ]
}

@test "state directory: no state file is opened through a planted link" {
	printf 'rules:\n  - {name: hot, when: cpu.util > 90}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	sample 1 95 >"$BATS_TEST_TMPDIR/in"
	printf 'precious\n' >"$BATS_TEST_TMPDIR/target"
	for f in history.jsonl lock; do
		rm -rf "$BATS_TEST_TMPDIR/st"
		mkdir -m 0700 "$BATS_TEST_TMPDIR/st"
		ln -s "$BATS_TEST_TMPDIR/target" "$BATS_TEST_TMPDIR/st/$f"
		run -4 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$BATS_TEST_TMPDIR/st" "$BATS_TEST_TMPDIR/in"
		[[ "$stderr" == *"cannot open '$BATS_TEST_TMPDIR/st/$f'"* ]]
		[ "$(cat "$BATS_TEST_TMPDIR/target")" = precious ]
	done
	# state.json through a link is not read (and replaced by a file).
	rm -rf "$BATS_TEST_TMPDIR/st"
	mkdir -m 0700 "$BATS_TEST_TMPDIR/st"
	printf '{"alerts":[{"rule":"hot","host":"bot1","component":"","state":"firing","since":1}]}' >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$BATS_TEST_TMPDIR/st/state.json"
	sample 2 50 >"$BATS_TEST_TMPDIR/in2"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$BATS_TEST_TMPDIR/st" "$BATS_TEST_TMPDIR/in2"
	[[ "$stderr" == *"cannot open '$BATS_TEST_TMPDIR/st/state.json'"* ]]
	refute_output --partial resolved
	[ ! -L "$BATS_TEST_TMPDIR/st/state.json" ]
	# stats reads the history only if it is no link.
	rm -rf "$BATS_TEST_TMPDIR/st"
	mkdir -m 0700 "$BATS_TEST_TMPDIR/st"
	ln -s "$BATS_TEST_TMPDIR/target" "$BATS_TEST_TMPDIR/st/history.jsonl"
	run -4 --separate-stderr perf-alert -s "$BATS_TEST_TMPDIR/st" stats
	[[ "$stderr" == *"cannot open '$BATS_TEST_TMPDIR/st/history.jsonl'"* ]]
}

@test "command receiver: its environment is PATH and PERF_ALERT_*, never a secret of ours" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - {name: hot, when: cpu.util > 90}
	receivers:
	  - {name: run, type: command, command: "env >$BATS_TEST_TMPDIR/env"}
	  - name: mail
	    type: email
	    url: "smtp://127.0.0.1:1"
	    from: robot@example.org
	    to: oncall@example.org
	    username: robot
	    password_env: PA_TEST_SMTP_PW
	  - {name: push, type: ntfy, url: "http://127.0.0.1:1/t", token_env: PA_TEST_TOKEN}
	EOF
	sample 1 95 >"$BATS_TEST_TMPDIR/in"
	PA_TEST_SMTP_PW=s3cret PA_TEST_TOKEN=t0ken PERF_ALERT_STATE_DIR=/x OTHER=1 \
	    run -0 perf-alert -w 0 -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	pk_wait_file "$BATS_TEST_TMPDIR/env" 10
	run -1 grep -e s3cret -e t0ken -e PA_TEST -e OTHER -e PERF_ALERT_STATE_DIR "$BATS_TEST_TMPDIR/env"
	grep -qx "PATH=$PATH" "$BATS_TEST_TMPDIR/env"
	grep -qx "PERF_ALERT_RULE=hot" "$BATS_TEST_TMPDIR/env"
	# Nothing but PATH, the documented variables and what sh sets itself.
	run -0 bash -c "cut -d= -f1 '$BATS_TEST_TMPDIR/env' | grep -vx -e PATH -e PWD -e 'PERF_ALERT_[A-Z]*' || true"
	assert_output ""
}

@test "email: a host with CR LF adds no header; a non-ASCII subject is RFC 2047 encoded" {
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || skip "no python3-aiosmtpd"
	port=$(pk_free_port)
	mkdir "$BATS_TEST_TMPDIR/mail"
	/usr/bin/python3 "$SMTPD" "$port" "$BATS_TEST_TMPDIR/mail" 3>&- &
	PIDS="${PIDS:-} $!"
	pk_wait_port "$port" 20
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - {name: hot, when: cpu.util > 90, annotations: {where: "on {{host}}"}}
	receivers:
	  - {name: mail, type: email, url: "smtp://127.0.0.1:$port", from: robot@example.org, to: oncall@example.org}
	EOF
	long=$(printf 'робот%.0s' $(seq 12))
	{ sample 1 95 'x\r\nBcc: evil@example.com\r\n\r\nbody'; sample 2 95 "$long-κ"; } >"$BATS_TEST_TMPDIR/in"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	pk_wait_file "$BATS_TEST_TMPDIR/mail/2.eml" 20
	for m in "$BATS_TEST_TMPDIR"/mail/*.eml; do
		grep -qx $'X-Rcpt: oncall@example.org\r' "$m"
		# (the body has the host, as the annotation expands it)
		run -1 bash -c "sed '/^\r\$/q' '$m' | grep -i '^Bcc:'"
	done
	# Parsed as a mail reader would: the headers are perf-alert's own.
	run -0 /usr/bin/python3 -c '
import email, email.header, email.policy, sys
for p in sys.argv[1:]:
    m = email.message_from_binary_file(open(p, "rb"), policy=email.policy.default)
    print(sorted(k for k in m.keys()))
    print(str(m["Subject"]))
    for line in open(p, "rb").read().split(b"\r\n\r\n")[0].split(b"\r\n"):
        assert len(line) <= 78 and all(c < 128 for c in line), line
' "$BATS_TEST_TMPDIR/mail/1.eml" "$BATS_TEST_TMPDIR/mail/2.eml"
	hdrs="['Content-Type', 'Date', 'From', 'MIME-Version', 'Message-ID', 'Subject', 'To', 'X-Auth', 'X-Perf-Alert-Key', 'X-Rcpt', 'X-TLS']"
	assert_output "$hdrs
[WARNING] hot firing on x  Bcc: evil@example.com    body
$hdrs
[WARNING] hot firing on $long-κ"
	grep -q '^Subject: =?UTF-8?B?' "$BATS_TEST_TMPDIR/mail/2.eml"
}

@test "email: an address with a line break or <> in the configuration is a config error" {
	printf 'state_dir: %s\nrules: [{name: hot, when: cpu.util > 90}]\nreceivers:\n  - {name: m, type: email, url: "smtp://127.0.0.1:1", from: robot@example.org, to: ["a@example.org\\r\\nBcc: evil@example.com"]}\n' \
	    "$BATS_TEST_TMPDIR/st" >"$BATS_TEST_TMPDIR/r.yaml"
	run -2 --separate-stderr perf-alert -n -c "$BATS_TEST_TMPDIR/r.yaml"
	[[ "$stderr" == *"r.yaml:4:"*"is not an e-mail address"* ]]
	sed -i 's/to: \[.*\]/to: "x>y@example.org"/' "$BATS_TEST_TMPDIR/r.yaml"
	run -2 --separate-stderr perf-alert -n -c "$BATS_TEST_TMPDIR/r.yaml"
	[[ "$stderr" == *"r.yaml:4:"*"is not an e-mail address"* ]]
}

@test "ack: an ambiguous prefix is an error listing the candidates; nothing acknowledged" {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	rules:
	  - {name: hot, when: cpu.util > 90, escalate: {after: 5s}}
	EOF
	# Two hosts whose fingerprints share their first 4 hex digits.
	for i in $(seq 1000); do sample 1 95 "h$i"; done >"$BATS_TEST_TMPDIR/many"
	pair=$(perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/many" |
	    jq -rs '[.[] | select(.type=="alert")] | group_by(.fingerprint[0:4]) |
	        map(select(length > 1)) | .[0] | map(.host) | join(" ")')
	read -r h1 h2 <<<"$pair"
	[ -n "$h2" ]
	start_live -c "$BATS_TEST_TMPDIR/r.yaml"
	{ sample 1 95 "$h1"; sample 1 95 "$h2"; sample 1 95 other; } >&5
	wait_lines "$BATS_TEST_TMPDIR/out" 6
	fp1=$(jq -r "select(.type==\"alert\" and .host==\"$h1\") | .fingerprint" "$BATS_TEST_TMPDIR/out")
	fp2=$(jq -r "select(.type==\"alert\" and .host==\"$h2\") | .fingerprint" "$BATS_TEST_TMPDIR/out")
	[ "${fp1:0:4}" = "${fp2:0:4}" ]
	i=0
	until [ "$(jq '.alerts | length' "$BATS_TEST_TMPDIR/st/state.json" 2>/dev/null)" = 3 ]; do
		i=$((i + 1)); [ "$i" -lt 100 ]; sleep 0.1
	done
	run -2 --separate-stderr perf-alert ack -s "$BATS_TEST_TMPDIR/st" "${fp1:0:4}"
	[[ "$stderr" == *"'${fp1:0:4}' is ambiguous: 2 firing alerts"* ]]
	[[ "$stderr" == *"  $fp1 hot on $h1"* ]]
	[[ "$stderr" == *"  $fp2 hot on $h2"* ]]
	[ -z "$(ls "$BATS_TEST_TMPDIR/st/ack")" ]
	# One that fired after state.json was read: the instance refuses it.
	printf '{"id":"%s"}' "${fp1:0:4}" >"$BATS_TEST_TMPDIR/st/ack/${fp1:0:4}"
	i=0
	until grep -q "ambiguous" "$BATS_TEST_TMPDIR/err"; do
		i=$((i + 1)); [ "$i" -lt 100 ]; sleep 0.1
	done
	# A longer, unique prefix acknowledges exactly one.
	run -0 perf-alert ack -s "$BATS_TEST_TMPDIR/st" "$fp1"
	i=0
	until grep -q '"acknowledged"' "$BATS_TEST_TMPDIR/out"; do
		i=$((i + 1)); [ "$i" -lt 100 ]; sleep 0.1
	done
	stop_live
	run -0 jq -r 'select(.event=="acknowledged") | .host' "$BATS_TEST_TMPDIR/out"
	assert_output "$h1"
	grep -q "  $fp2 hot on $h2" "$BATS_TEST_TMPDIR/err"
}

@test "spool: a forged or edited file is reported and moved aside, never delivered" {
	HTTP_PORT=$(pk_free_port)
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	retry_min: 100ms
	rules:
	  - {name: hot, when: cpu.util > 90}
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/"}
	EOF
	# One true notification waits in the spool (the receiver is down).
	sample 1 95 | perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 0 >/dev/null 2>&1
	s=$BATS_TEST_TMPDIR/st/spool
	f=$(ls "$s"/*.json)
	# A page forged in the old format, and the true one edited.
	printf '{"receiver":"hook","peer":0,"key":"x-firing-1.000-0","created":1,"alert":{"type":"alert","host":"FORGED","state":"firing","severity":"EMERGENCY"}}' \
	    >"$s/0000000000000001-1-000001.json"
	sed 's/"bot1"/"EDITED"/g' "$f" >"$s/0000000000000002-1-000001.json"
	chmod 600 "$s"/*.json
	start_http
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 10 /dev/null
	wait_lines "$BATS_TEST_TMPDIR/posts.jsonl" 1
	[[ "$stderr" == *"0000000000000001-1-000001.json: no integrity check (not written by this perf-alert): not delivered, moved to '$s/rejected/0000000000000001-1-000001.json'"* ]]
	[[ "$stderr" == *"0000000000000002-1-000001.json: fails its integrity check"*"not delivered"* ]]
	run -0 jq -r '.body.host' "$BATS_TEST_TMPDIR/posts.jsonl"
	assert_output bot1
	[ "$(ls "$s/rejected" | wc -l)" -eq 2 ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/st/spool.key")" = 600 ]
	[ -z "$(ls "$s"/*.json 2>/dev/null)" ]
}

@test "limits: a configuration over 1 MiB is refused with its name, in every filter" {
	f=$BATS_TEST_TMPDIR/big.yaml
	{ printf 'rules:\n  - {name: hot, when: cpu.util > 90}\n'; head -c 1100000 /dev/zero | tr '\0' '#'; echo; } >"$f"
	run -2 --separate-stderr perf-alert -n -c "$f"
	[[ "$stderr" == *"perf-alert: $f: larger than 1048576 bytes, the limit of a configuration file"* ]]
	run -2 --separate-stderr perf-profile -c "$f" /dev/null
	[[ "$stderr" == *"$f: larger than 1048576 bytes"* ]]
	run -2 --separate-stderr perf-qualityctl -c "$f" /dev/null
	[[ "$stderr" == *"$f: larger than 1048576 bytes"* ]]
}

@test "limits: an annotation template over 4 KiB is a config error; a longer expansion is carried whole" {
	long=$(head -c 4097 /dev/zero | tr '\0' x)
	printf 'rules:\n  - name: hot\n    when: cpu.util > 90\n    annotations: {a: ok, b: %s}\n' "$long" >"$BATS_TEST_TMPDIR/r.yaml"
	run -2 --separate-stderr perf-alert -n -c "$BATS_TEST_TMPDIR/r.yaml"
	[[ "$stderr" == *"r.yaml:4:29: annotation 'b' is 4097 bytes, more than 4096"* ]]
	# 400 times the host, 200 bytes of two-byte characters: 80 kB.
	tpl=$(printf '{{host}}%.0s' $(seq 400))
	host=$(printf 'é%.0s' $(seq 100))
	printf 'rules:\n  - name: hot\n    when: cpu.util > 90\n    annotations: {s: "%s"}\n' "$tpl" >"$BATS_TEST_TMPDIR/r.yaml"
	sample 1 95 "$host" >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -r 'select(.type=="alert") | .annotations.s | length' <<<"$output"
	assert_output 40000
}

@test "long hosts and components are carried whole: no two merge, no character is cut" {
	printf 'rules:\n  - {name: hot, when: cpu.util > 90, annotations: {s: "{{host}}/{{component}}"}}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	p=$(head -c 127 /dev/zero | tr '\0' a)
	h1=${p}$(head -c 73 /dev/zero | tr '\0' b)
	h2=${p}$(head -c 73 /dev/zero | tr '\0' c)
	# A component whose 128th byte is in the middle of a character.
	cu=${p}é$(head -c 100 /dev/zero | tr '\0' d)
	metric() { printf '{"type":"metric","ts":%s,"host":"%s","component":"%s","cpu":{"util":95}}\n' "$@"; }
	{ sample 1 95 "$h1"; sample 1 95 "$h2"; metric 2 h "$h1"; metric 2 h "$h2"; metric 3 h "$cu"; } >"$BATS_TEST_TMPDIR/in"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in"
	run -0 jq -r 'select(.type=="alert") | [.host, .component // "", .labels.host, .labels.component // "", .annotations.s] | join(" ")' <<<"$output"
	assert_output "$h1  $h1  $h1/
$h2  $h2  $h2/
h $h1 h $h1 h/$h1
h $h2 h $h2 h/$h2
h $cu h $cu h/$cu"
	# state.json keeps them whole too.
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$BATS_TEST_TMPDIR/st" "$BATS_TEST_TMPDIR/in"
	run -0 jq -r '.alerts[] | .host + " " + .component' "$BATS_TEST_TMPDIR/st/state.json"
	[ "${#lines[@]}" -eq 5 ]
	assert_line "h $cu"
	# A host longer than the front end's limit is bad input, with its length.
	sample 4 95 "$(head -c 300 /dev/zero | tr '\0' x)" >"$BATS_TEST_TMPDIR/in2"
	run -3 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" "$BATS_TEST_TMPDIR/in2"
	[[ "$stderr" == *"in2:1: "*"300 bytes long (at most 255)"* ]]
}

# Instructions of perf-alert -c CONFIG FILE, counted by callgrind.
instructions() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null \
	    "$PK_BUILD/bin/perf-alert" -c "$1" "$2" 2>&1 >/dev/null |
	    sed -n 's/.*Collected : //p'
}

# 11000 label sets (host h, component cN) that fire and resolve, a
# thousand a second; then 5000 ordinary records of five other hosts.
label_sets() {
	printf 'rules:\n  - {name: hot, when: cpu.util > 90}\n' >r.yaml
	awk 'BEGIN { for (i = 1; i <= 11000; i++) { t = 1 + i / 1000
	    for (u = 95; u >= 50; u -= 45)
	        printf "{\"type\":\"metric\",\"ts\":%.3f,\"host\":\"h\",\"component\":\"c%d\",\"cpu\":{\"util\":%d}}\n", t, i, u } }' >oneoff
	awk 'BEGIN { for (i = 1; i <= 5000; i++)
	    printf "{\"type\":\"sample\",\"ts\":%.3f,\"host\":\"o%d\",\"cpu\":{\"util\":50}}\n", 12 + i / 1000, i % 5 }' >ord
	cat oneoff ord >both
}

@test "label sets: found through a hash table, 11000 one-off ones do not slow ordinary records" {
	command -v valgrind >/dev/null || skip "no valgrind"
	[ -z "${PK_VALGRIND:-}" ] || skip "counts with valgrind itself"
	[[ $PK_BUILD != */san ]] || skip "a sanitized build does not run under valgrind"
	cd "$BATS_TEST_TMPDIR"
	label_sets
	: >empty
	e=$(instructions r.yaml empty)
	a=$(instructions r.yaml ord)
	c=$(instructions r.yaml oneoff)
	b=$(instructions r.yaml both)
	echo "ordinary records: $(( (a - e) / 5000 )) instructions each alone, $(( (b - c) / 5000 )) after 11000 label sets" >&3
	# The ordinary records' cost after them, against alone: within 2x.
	[ $(( b - c )) -lt $(( 2 * (a - e) )) ]
}

@test "label sets: at most 10000 a rule, the oldest resolved forgotten first, one warning" {
	cd "$BATS_TEST_TMPDIR"
	label_sets
	# 1000 of the oldest resolved label sets forgotten, one warning.
	run -0 --separate-stderr perf-alert -c r.yaml both
	[ "$(grep -c "rule 'hot': 10000 label sets (host, component): the oldest inactive ones are forgotten" <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == *"rule 'hot': 1000 label sets forgotten (the oldest inactive), 0 dropped (all 10000 active)"* ]]
	# While all are firing, new ones are dropped, counted.
	awk 'BEGIN { for (i = 1; i <= 10005; i++)
	    printf "{\"type\":\"metric\",\"ts\":1,\"host\":\"h\",\"component\":\"c%d\",\"cpu\":{\"util\":95}}\n", i }' >firing
	run -0 --separate-stderr perf-alert -c r.yaml firing
	[ "$(grep -c '"state":"firing"' <<<"$output")" -eq 10000 ]
	[[ "$stderr" == *"rule 'hot': 0 label sets forgotten (the oldest inactive), 5 dropped (all 10000 active)"* ]]
	# The forgotten ones come back as new when they fire again.
	{ cat oneoff; printf '{"type":"metric","ts":20,"host":"h","component":"c1","cpu":{"util":95}}\n'; } >again
	run -0 --separate-stderr perf-alert -c r.yaml again
	run -0 jq -c 'select(.type=="alert" and .component=="c1") | .state' <<<"$output"
	assert_output '"firing"
"resolved"
"firing"'
}

@test "a corrupt state.json is reported, set aside, and the alerts rebuilt from the history" {
	printf 'rules:\n  - {name: hot, when: cpu.util > 90, escalate: {after: 1h}}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	st=$BATS_TEST_TMPDIR/st
	{ sample 1 95; sample 1 95 bot2; sample 2 50 bot2; } >"$BATS_TEST_TMPDIR/in1"
	sample 3 50 >"$BATS_TEST_TMPDIR/in2"
	for bad in '{"alerts":[{"rule":"hot' \
	    '{"alerts":[{"rule":"hot","host":"bot1","component":"","state":"firing","since":1,"severity":99,"escalation":2147483647,"flap_n":1000,"flap_bits":-1}]}' \
	    '{"alerts":{"rule":"hot"}}' '[1,2]'; do
		rm -rf "$st"
		run -0 perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$st" "$BATS_TEST_TMPDIR/in1"
		printf '%s' "$bad" >"$st/state.json"
		run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$st" "$BATS_TEST_TMPDIR/in2"
		[[ "$stderr" == *"$st/state.json: corrupt ("*"): set aside as '$st/state.json.corrupt'; the alerts in progress are rebuilt from the history"* ]]
		[[ "$stderr" == *"1 alerts in progress rebuilt from '$st/history.jsonl'"* ]]
		[ "$(cat "$st/state.json.corrupt")" = "$bad" ]
		# bot1 was firing: it resolves; bot2 had resolved: nothing.
		run -0 jq -c 'select(.type=="alert") | [.host, .state, .since, .severity]' <<<"$output"
		assert_output '["bot1","resolved",1,"WARNING"]'
	done
}

@test "dead letters: a notification refused for good (400) never blocks those behind it, across restarts" {
	start_http
	st=$BATS_TEST_TMPDIR/st
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	retry_min: 50ms
	retry_max: 100ms
	rules:
	  - {name: hot, match: {type: sample}, when: cpu.util > 90}
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/"}
	EOF
	# The receiver refuses whatever names host poison (a 400), takes the rest.
	echo "400 poison" >"$BATS_TEST_TMPDIR/fail"
	{ sample 1 95 poison; sample 2 95 bot1; sample 3 95 bot2; } >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$st" -w 20s "$BATS_TEST_TMPDIR/in"
	# The two others delivered, the poison once and once only.
	run -0 jq -r '.body.host' "$BATS_TEST_TMPDIR/posts.jsonl"
	assert_output "$(printf 'bot1\nbot2')"
	assert_equal "$(echo "$stderr" | grep -c 'failed for good: HTTP status 400 (a dead letter')" 1
	assert_equal "$(ls "$st/spool" | grep -c '\.json$' || true)" 0
	assert_equal "$(ls "$st/spool/dead" | grep -c '\.json$')" 1
	assert_equal "$(stat -c %a "$st/spool/dead")" 700
	# A restart does not try it again, and what comes later goes through.
	sample 4 95 bot3 >"$BATS_TEST_TMPDIR/in2"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$st" -w 20s "$BATS_TEST_TMPDIR/in2"
	run -0 jq -r '.body.host' "$BATS_TEST_TMPDIR/posts.jsonl"
	assert_output "$(printf 'bot1\nbot2\nbot3')"
	# stats lists it, with its reason.
	run -0 --separate-stderr perf-alert -s "$st" stats
	echo "$output" | jq -s -e 'map(select(.type == "dead_letter")) |
	    length == 1 and .[0].receiver == "hook" and .[0].host == "poison" and
	    .[0].rule == "hot" and .[0].state == "firing" and
	    .[0].reason == "HTTP status 400" and (.[0].dead_at | type) == "number"'
	# requeue puts it back; the next start delivers it to a receiver that
	# takes it now.
	rm "$BATS_TEST_TMPDIR/fail"
	run -0 --separate-stderr perf-alert -s "$st" requeue
	echo "$output" | jq -e --arg s "$st/spool/" '.type == "requeued" and (.file | startswith($s))'
	: >"$BATS_TEST_TMPDIR/in3"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$st" -w 20s "$BATS_TEST_TMPDIR/in3"
	run -0 jq -r '.body.host' "$BATS_TEST_TMPDIR/posts.jsonl"
	assert_output "$(printf 'bot1\nbot2\nbot3\npoison')"
	run -0 --separate-stderr perf-alert -s "$st" stats
	echo "$output" | jq -s -e 'map(select(.type == "dead_letter")) == []'
	run -4 --separate-stderr perf-alert -s "$st" requeue nope.json
	[[ $stderr == *"cannot requeue '$st/spool/dead/nope.json'"* ]]
}

@test "dead letters: 408 and 429 are retried; a 5xx is given up on at the 10th attempt" {
	start_http
	st=$BATS_TEST_TMPDIR/st
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	retry_min: 10ms
	retry_max: 20ms
	rules:
	  - {name: hot, match: {type: sample}, when: cpu.util > 90}
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/"}
	EOF
	sample 1 95 >"$BATS_TEST_TMPDIR/in"
	echo 500 >"$BATS_TEST_TMPDIR/fail"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$st" -w 20s "$BATS_TEST_TMPDIR/in"
	[[ $stderr == *"delivery of "*" failed for good: HTTP status 500 (a dead letter"* ]]
	assert_equal "$(echo "$stderr" | grep -c 'failed (attempt')" 3
	assert_equal "$(ls "$st/spool/dead" | grep -c '\.json$')" 1
	for code in 408 429; do
		rm -rf "$st"
		echo "$code" >"$BATS_TEST_TMPDIR/fail"
		run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -s "$st" -w 1s "$BATS_TEST_TMPDIR/in"
		[[ $stderr != *"failed for good"* ]] || fail "$code: given up"
		assert_equal "$(ls "$st/spool" | grep -c '\.json$')" 1
	done
}

@test "receivers do not wait on each other: one that hangs holds none of the others" {
	# hook1 holds every request while $T/hang1 exists; hook2 answers.
	T=$BATS_TEST_TMPDIR
	p1=$(pk_free_port)
	p2=$(pk_free_port)
	touch "$T/hang1"
	python3 "$HTTPD" "$p1" "$T/posts1.jsonl" "$T/fail1" "$T/hang1" 3>&- 5>&- &
	PIDS="${PIDS:-} $!"
	python3 "$HTTPD" "$p2" "$T/posts2.jsonl" "$T/fail2" "$T/hang2" 3>&- 5>&- &
	PIDS="${PIDS:-} $!"
	pk_wait_port "$p1" 10
	pk_wait_port "$p2" 10
	cat >"$T/r.yaml" <<-EOF
	retry_min: 50ms
	retry_max: 100ms
	rules:
	  - {name: hot, match: {type: sample}, when: cpu.util > 90}
	receivers:
	  - {name: hook1, type: webhook, url: "http://127.0.0.1:$p1/", timeout: 5m}
	  - {name: hook2, type: webhook, url: "http://127.0.0.1:$p2/"}
	EOF
	# Five hosts' alerts, the input held open until hook2 has them all.
	mkfifo "$T/in"
	perf-alert -c "$T/r.yaml" -s "$T/st" -w 60s <"$T/in" >"$T/out" 2>"$T/err" &
	pa=$!
	exec 4>"$T/in"
	for h in 1 2 3 4 5; do sample "$h" 95 "bot$h" >&4; done
	wait_lines "$T/posts2.jsonl" 5 60 || fail "hook2 waited: $(cat "$T/err")"
	run -0 jq -r '.body.host' "$T/posts2.jsonl"
	assert_output "$(printf 'bot%s\n' 1 2 3 4 5)"
	[ ! -s "$T/posts1.jsonl" ]
	# hook1 answers again: all five, in order.
	rm "$T/hang1"
	exec 4>&-
	wait "$pa"
	run -0 jq -r '.body.host' "$T/posts1.jsonl"
	assert_output "$(printf 'bot%s\n' 1 2 3 4 5)"
}
