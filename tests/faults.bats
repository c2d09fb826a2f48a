#!/usr/bin/env bats
# Faults across the programs: a full or vanished output, input that stops
# mid-line or is megabytes long or mostly garbage, clock steps, a state
# directory on a full or read-only file system, SIGKILL and restart.
# perf-alert's cases skip until it is built beside the others.

load common

GEN=$FIXTURES/faults/garbage.py
Q=$FIXTURES/perf-qualityctl/quality.yaml
S1='{"type":"sample","ts":1732300001,"host":"h","cpu":{"util":40},"mem":{"used_pct":50}}'
S2='{"type":"sample","ts":1732300002,"host":"h","cpu":{"util":41},"mem":{"used_pct":50}}'
S3='{"type":"sample","ts":1732300003,"host":"h","cpu":{"util":42},"mem":{"used_pct":50}}'

setup() {
	export PERF_QUALITYCTL_DIR=$BATS_TEST_TMPDIR/qstate
	# A rule that never fires on these inputs, and one that does.
	cat >"$BATS_TEST_TMPDIR/alerts.yaml" <<-'EOF'
	rules:
	  - name: cpu_high
	    when: cpu.util > 95
	    for: 10s
	EOF
}

teardown() {
	local m p
	exec 5>&- 2>/dev/null || true
	for p in ${ALERT_PID:-} ${HTTP_PID:-}; do
		pk_stop_pid "$p"
	done
	for m in "$BATS_TEST_TMPDIR"/mnt*; do
		[ -d "$m" ] || continue
		chmod -R u+w "$m" 2>/dev/null
		mountpoint -q "$m" && umount "$m"
	done
	return 0
}

# Under a sanitizer build (PK_BUILD ends in /san) sizes are scaled down.
san() { [[ $PK_BUILD == */san ]]; }

have_alert() { command -v perf-alert >/dev/null; }
need_alert() { have_alert || skip "perf-alert is not built here (not merged yet)"; }

# The filters under test, one command line each (words split on spaces).
filters() {
	echo "perf-profile"
	echo "perf-qualityctl -n"
	have_alert && echo "perf-alert -c $BATS_TEST_TMPDIR/alerts.yaml"
	return 0
}

# The maximum resident set size of a command in KiB, its output discarded.
maxrss() {
	/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" "$@" >/dev/null 2>&1 || true
	tail -n1 "$BATS_TEST_TMPDIR/rss"
}

# A tmpfs of 64 KiB at $1; skip the test where mounting is not permitted.
small_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o size=64k,mode=0700 tmpfs "$1" 2>/dev/null ||
	    skip "cannot mount a tmpfs here (not root?)"
}

# A directory at $1 to be made read-only by ro_make: a tmpfs remounted
# read-only where mounting is permitted, else (not root) a directory
# without write permission. RO_ERR is the error that writes then meet.
ro_prepare() {
	mkdir -p "$1"
	if mount -t tmpfs -o size=64k,mode=0700 tmpfs "$1" 2>/dev/null; then
		RO_HOW=mount RO_ERR="Read-only file system"
	elif [ "$(id -u)" -ne 0 ]; then
		RO_HOW=chmod RO_ERR="Permission denied"
	else
		skip "cannot mount a tmpfs here"
	fi
}

ro_make() {
	if [ "$RO_HOW" = mount ]; then
		mount -o remount,ro "$1"
	else
		chmod -R a-w "$1"
	fi
}

# Fill a file system until writes fail with ENOSPC.
fill_fs() {
	dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null || true
	run dd if=/dev/zero of="$1/probe" bs=1 count=1 conv=fsync
	[ "$status" -ne 0 ]
	rm -f "$1/probe"
}

# N samples of host h, one a second: every one evaluated.
samples() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
	    printf "{\"type\":\"sample\",\"ts\":%d,\"host\":\"h\",\"cpu\":{\"util\":40},\"mem\":{\"used_pct\":50}}\n",
	        1732300000 + i }'
}

@test "stdout on /dev/full: every program reports the write error, status 4" {
	samples 20000 >"$BATS_TEST_TMPDIR/in"
	while read -r cmd; do
		# shellcheck disable=SC2086
		run -4 --separate-stderr bash -c "$cmd \"\$1\" >/dev/full" _ "$BATS_TEST_TMPDIR/in"
		[[ $stderr == "${cmd%% *}: "*"No space left on device"* ]] || {
			echo "$cmd: $stderr"; false; }
		[ "${#stderr_lines[@]}" -eq 1 ]
	done < <(filters)
	run -4 --separate-stderr bash -c 'perf-sample -i 100ms -n 3 >/dev/full'
	[[ $stderr == "perf-sample: "*"No space left on device"* ]]
}

@test "a reader that goes away: every program ends quietly with 141" {
	samples 200000 >"$BATS_TEST_TMPDIR/in"
	while read -r cmd; do
		# shellcheck disable=SC2086
		run -141 --separate-stderr bats_pipe $cmd "$BATS_TEST_TMPDIR/in" \| head -n1
		assert_output "$(head -n1 "$BATS_TEST_TMPDIR/in")"
		[ -z "$stderr" ] || { echo "$cmd: $stderr"; false; }
	done < <(filters)
	# A live producer, and a filter whose reader leaves while it waits.
	run -141 --separate-stderr bats_pipe perf-sample -i 100ms \| head -n1
	[ -z "$stderr" ]
	run -141 --separate-stderr bash -c 'set -o pipefail
	    { echo "$1"; sleep 0.5; echo "$1"; sleep 0.5; echo "$1"; } |
	    perf-profile -i 0 | head -n1' _ "$S1"
	assert_output "$S1"
	[ -z "$stderr" ]
}

@test "input that stops mid-line at EOF: the half line reported, the rest processed" {
	printf '%s\n%s\n{"type":"sample","ts":1732300003,"cpu":{"ut' "$S1" "$S2" \
	    >"$BATS_TEST_TMPDIR/half"
	printf '%s\n%s' "$S1" "$S2" >"$BATS_TEST_TMPDIR/nonl"
	while read -r cmd; do
		# shellcheck disable=SC2086
		run -3 --separate-stderr $cmd "$BATS_TEST_TMPDIR/half"
		[[ $stderr == *"${cmd%% *}: $BATS_TEST_TMPDIR/half:3: "* ]] || {
			echo "$cmd: $stderr"; false; }
		[[ $stderr == *"1 bad input line skipped"* ]]
		run -0 grep -c '^{"type":"sample"' <<<"$output"
		assert_output 2
		# A complete last record without its newline is a record.
		# shellcheck disable=SC2086
		run -0 --separate-stderr $cmd "$BATS_TEST_TMPDIR/nonl"
		[ -z "$stderr" ]
		run -0 grep -cxF "$S2" <<<"$output"
		assert_output 1
	done < <(filters)
}

# Run filter $1 on a fifo, send it $2 and keep the fifo open until the
# two whole sample lines are out, then SIGTERM it; sets rc, out, err.
term_mid_line() {
	local in=$BATS_TEST_TMPDIR/fifo.$RANDOM i=0
	mkfifo "$in"
	out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err
	# shellcheck disable=SC2086
	$1 -u "$in" >"$out" 2>"$err" &
	pid=$!
	exec 5>"$in"
	printf '%s\n%s\n%s' "$S1" "$S2" "$2" >&5
	until [ "$(grep -c '^{"type":"sample"' "$out")" -ge 2 ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || { echo "$1: no output"; false; }
		sleep 0.1
	done
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	exec 5>&-
	rm -f "$in"
}

@test "a writer that stays open mid-line: SIGTERM ends the run, the half line reported" {
	while read -r cmd; do
		# Half a record: a bad line, like half a line at the end.
		term_mid_line "$cmd" '{"type":"sample","ts":17323'
		[ "$rc" -eq 3 ] || { echo "$cmd: status $rc"; cat "$err"; false; }
		run -0 grep -c '^{"type":"sample"' "$out"
		assert_output 2
		run -0 cat "$err"
		assert_line --index 0 --regexp "^${cmd%% *}: $BATS_TEST_TMPDIR/fifo\.[0-9]+:3: "
		assert_line --index 1 "${cmd%% *}: 1 bad input line skipped"
		# A whole record whose newline had not come: processed.
		term_mid_line "$cmd" "$S3"
		[ "$rc" -eq 0 ] || { echo "$cmd: status $rc"; cat "$err"; false; }
		run -0 grep -c '^{"type":"sample"' "$out"
		assert_output 3
		[ ! -s "$err" ] || { cat "$err"; false; }
	done < <(filters | sed 's/ -n$//')
	# The live perf-qualityctl (no -n) wrote its state before it ended.
	run -0 jq -r .level "$PERF_QUALITYCTL_DIR/state.json"
	assert_output ULTRA_HIGH
}

@test "lines of megabytes: reported and skipped in bounded memory, the next line processed" {
	local big=$BATS_TEST_TMPDIR/big small=$BATS_TEST_TMPDIR/small
	local mb=16
	san && mb=4
	{
		echo "$S1"
		# A valid object of $mb MiB, then garbage of 3 MiB, then
		# a line of exactly 1 MiB + 1 with its newline.
		printf '{"type":"sample","ts":1732300001.5,"host":"h","pad":"'
		head -c $((mb << 20)) /dev/zero | tr '\0' a
		printf '"}\n'
		echo "$S2"
		head -c $((3 << 20)) /dev/urandom | tr -d '\n'
		echo
		echo "$S3"
	} >"$big"
	printf '%s\n%s\n%s\n' "$S1" "$S2" "$S3" >"$small"
	while read -r cmd; do
		# shellcheck disable=SC2086
		run -3 --separate-stderr $cmd "$big"
		[[ $stderr == *"${cmd%% *}: $big:2: "* ]] || {
			echo "$cmd: $stderr"; false; }
		[[ $stderr == *"${cmd%% *}: $big:4: "* ]]
		[[ $stderr == *"2 bad input lines skipped"* ]]
		run -0 grep '^{"type":"sample"' <<<"$output"
		assert_equal "$output" "$(cat "$small")"
		# Memory does not follow the length of the line (not measured
		# under the sanitizers: their quarantine keeps freed buffers).
		san && continue
		# shellcheck disable=SC2086
		a=$(maxrss $cmd "$small")
		# shellcheck disable=SC2086
		b=$(maxrss $cmd "$big")
		echo "$cmd: max RSS $a KiB on small lines, $b KiB with a $mb MiB line"
		[ "$b" -lt $((a + 4096)) ]
	done < <(filters)
}

@test "100 MB with random garbage between valid lines: every valid line passed, counts exact" {
	local mb=100
	# Scaled down under the sanitizers (10 MB): the same mix, a tenth.
	san && mb=10
	run -0 python3 "$GEN" "$BATS_TEST_TMPDIR/valid" "$BATS_TEST_TMPDIR/mixed" "$mb"
	read -r nvalid ngarbage <<<"$output"
	[ "$nvalid" -gt $((mb * 3000)) ]
	[ "$ngarbage" -gt $((mb * 3000)) ]
	while read -r cmd; do
		rc=0
		# shellcheck disable=SC2086
		$cmd "$BATS_TEST_TMPDIR/mixed" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || rc=$?
		[ "$rc" -eq 3 ] || { echo "$cmd: status $rc"; false; }
		run -0 tail -n1 "$BATS_TEST_TMPDIR/err"
		assert_output "${cmd%% *}: $ngarbage bad input lines skipped"
		# The first ten are reported, then one in every 1000.
		run -0 grep -c "^${cmd%% *}: $BATS_TEST_TMPDIR/mixed:[0-9]*: " "$BATS_TEST_TMPDIR/err"
		[ "$output" -eq $((10 + (ngarbage - 10 + 999) / 1000)) ] ||
		    [ "$output" -eq $((10 + (ngarbage - 10) / 1000)) ]
		grep '^{"type":"sample"' "$BATS_TEST_TMPDIR/out" | cmp - "$BATS_TEST_TMPDIR/valid"
	done < <(filters)
}

@test "clock steps, perf-profile: a jump of days is one round, a step back restarts the windows" {
	python3 - >"$BATS_TEST_TMPDIR/in" <<-'EOF'
	import json
	t = 1732300000
	def s(ts, u):
	    print(json.dumps({"type": "sample", "ts": ts, "host": "h",
	                      "cpu": {"util": u}}, separators=(",", ":")))
	for i in range(120): s(t + i, 99)               # a CPU bottleneck
	for i in range(60): s(t + 3 * 86400 + i, 30)    # three days later
	for i in range(60): s(t + 3 * 86400 - 3600 + i, 99)  # an hour back
	for i in range(60): s(t + 3 * 86400 + 60 + i, 30)   # and on again
	s(t + 3 * 86400 + 50 - 3600, 99)                # one stray old record
	for i in range(5): s(t + 3 * 86400 + 120 + i, 30)
	EOF
	run -0 --separate-stderr perf-profile -i 10s "$BATS_TEST_TMPDIR/in"
	# The first two records back are late; the third makes it a step.
	[ "${#stderr_lines[@]}" -eq 3 ]
	[ "${stderr_lines[0]}" = "perf-profile: $BATS_TEST_TMPDIR/in:181: ts 1732555600.000 is more than the window behind 1732559259.000: late records are passed through, not profiled" ]
	[ "${stderr_lines[1]}" = "perf-profile: h: clock stepped back by 3657 s at $BATS_TEST_TMPDIR/in:183; windows restarted" ]
	[ "${stderr_lines[2]}" = "perf-profile: 3 late records (older than the window) not profiled" ]
	# Every line passed through, in order.
	out=$output
	grep '^{"type":"sample"' <<<"$out" | cmp - "$BATS_TEST_TMPDIR/in"
	# The bottleneck started before the jump and ended at its first
	# record; the hour back is profiled from its third record on and
	# finds its own bottleneck, which ends when the clock comes back.
	# The stray old record is late: it starts nothing.
	run -0 jq -c 'select(.type == "bottleneck")
	    | [.ts - 1732300000, .state, .kind]' <<<"$out"
	assert_output "$(printf '%s\n' '[0,"start","cpu"]' '[60,"change","cpu"]' \
	    '[259200,"end","cpu"]' '[255602,"start","cpu"]' '[259260,"end","cpu"]')"
	# One round of profiles for the gap, not one per 10 s of three days.
	run -0 jq -c 'select(.type == "profile") | .ts' <<<"$out"
	[ "${#lines[@]}" -lt 40 ]
}

@test "clock steps, perf-qualityctl: a step back restarts the timeline, a jump of days is just time" {
	python3 - >"$BATS_TEST_TMPDIR/in" <<-'EOF'
	import json
	t = 1732300000
	def s(ts, u):
	    print(json.dumps({"type": "sample", "ts": ts, "host": "h",
	                      "cpu": {"util": u}}, separators=(",", ":")))
	for i in range(60): s(t + i, 40)                  # calm: ULTRA_HIGH
	s(t + 30, 99)                                     # one stray old sample
	for i in range(30): s(t + 60 - 3600 + i, 40)      # an hour back, calm
	for i in range(4): s(t + 60 - 3600 + 30 + i, 99)  # overload after the step
	for i in range(4): s(t + 3 * 86400 + i, 99)       # three days later
	for i in range(20): s(t + 3 * 86400 + 4 + i, 40)
	EOF
	run -0 --separate-stderr perf-qualityctl -n "$BATS_TEST_TMPDIR/in"
	out=$output
	grep '^{"type":"sample"' <<<"$out" | cmp - "$BATS_TEST_TMPDIR/in"
	# The stray sample and the first two of the hour back are late; the
	# third is a step: the controller goes on from there (status 0).
	[ "${#stderr_lines[@]}" -eq 3 ]
	[ "${stderr_lines[0]}" = "perf-qualityctl: $BATS_TEST_TMPDIR/in:61: sample ts 1732300030.000 is not after the last evaluation at 1732300059.000: passed through, not evaluated" ]
	[ "${stderr_lines[1]}" = "perf-qualityctl: h: clock stepped back by 3597 s at $BATS_TEST_TMPDIR/in:64; windows restarted" ]
	[ "${stderr_lines[2]}" = "perf-qualityctl: 3 samples out of time order not evaluated" ]
	# The stray sample changed nothing; the overload an hour back steps
	# down, and three days later the averages have forgotten the calm.
	run -0 jq -c 'select(.type == "quality" and .reason != "impact")
	    | [.ts - 1732300000, .reason, .level]' <<<"$out"
	assert_output "$(printf '%s\n' '[0,"start","ULTRA_HIGH"]' \
	    '[-3509,"pressure_high","HIGH"]' '[-3507,"pressure_high","MEDIUM"]' \
	    '[259201,"pressure_high","LOW"]' '[259203,"pressure_high","ULTRA_LOW"]')"
}

@test "perf-qualityctl: a state directory on a full file system is reported, the old state kept" {
	local d=$BATS_TEST_TMPDIR/mnt
	small_tmpfs "$d"
	local F=$FIXTURES/perf-qualityctl
	run -0 perf-qualityctl -d "$d" -c "$Q" "$F/hover.jsonl"
	run -0 cat "$d/state.json"
	local before=$output
	fill_fs "$d"
	run -0 --separate-stderr perf-qualityctl -d "$d" -c "$Q" "$F/overload.jsonl"
	[[ $stderr == *"perf-qualityctl: cannot write the state file '$d/state.json': No space left on device"* ]]
	# The records still flow; the state file is whole, the last one
	# that could be written, and no temporary file is left.
	run -0 grep -c '"reason":"pressure_high"' <<<"$output"
	[ "$output" -ge 2 ]
	run -0 cat "$d/state.json"
	assert_equal "$output" "$before"
	jq -e .level "$d/state.json"
	run -0 ls -A "$d"
	assert_output "$(printf 'fill\nstate.json')"
}

@test "perf-qualityctl: a read-only state directory is reported, the old state kept" {
	local d=$BATS_TEST_TMPDIR/mnt
	ro_prepare "$d"
	local F=$FIXTURES/perf-qualityctl
	run -0 perf-qualityctl -d "$d" -c "$Q" "$F/hover.jsonl"
	run -0 cat "$d/state.json"
	local before=$output
	ro_make "$d"
	run -0 --separate-stderr perf-qualityctl -d "$d" -c "$Q" "$F/overload.jsonl"
	[[ $stderr == *"perf-qualityctl: cannot write the state file '$d/state.json': $RO_ERR"* ]]
	run -0 grep -c '"reason":"pressure_high"' <<<"$output"
	[ "$output" -ge 2 ]
	run -0 cat "$d/state.json"
	assert_equal "$output" "$before"
	# set and release on a read-only directory fail with status 4.
	run -4 --separate-stderr perf-qualityctl -d "$d" set LOW
	[[ $stderr == *"$RO_ERR"* ]]
}

@test "perf-qualityctl: SIGKILL at random points, then restart: the state file always whole" {
	local d=$BATS_TEST_TMPDIR/state n=20
	san && n=8
	# Pressure that swings every few seconds: a change (and a state
	# write) every second or so of event time.
	python3 - >"$BATS_TEST_TMPDIR/in" <<-'EOF'
	import json
	for i in range(400000):
	    u = 99 if (i // 3) % 2 else 20
	    print(json.dumps({"type": "sample", "ts": 1732300000 + i,
	                      "host": "h", "cpu": {"util": u}},
	                     separators=(",", ":")))
	EOF
	for i in $(seq "$n"); do
		perf-qualityctl -d "$d" -c "$Q" "$BATS_TEST_TMPDIR/in" >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
		pid=$!
		sleep "0.$((RANDOM % 5))$((RANDOM % 10))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" || true
		if [ -e "$d/state.json" ]; then
			jq -e '.type == "quality" and (.level | type) == "string"' "$d/state.json" >/dev/null
		fi
	done
	# A temporary file as a kill between open and rename leaves it (the
	# random kills above hit that window now and then).
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
	echo '{"type":"quality","le' >"$d/state.json.tmp.$dead"
	# The restart after the last kill runs to the end and writes a state.
	run -0 perf-qualityctl -d "$d" -c "$Q" "$FIXTURES/perf-qualityctl/overload.jsonl"
	run -0 jq -r .level "$d/state.json"
	assert_output ULTRA_LOW
	# Temporary files of killed runs do not pile up.
	run -0 bash -c 'ls -A "$1" | grep -c "\.tmp\." || true' _ "$d"
	assert_output 0
}

# perf-alert with its state directory at $1 and a command receiver that
# runs the shell code $2 (the alert on its standard input, PERF_ALERT_KEY
# set), from a script so that no quoting stands in the way.
alert_config() {
	printf '#!/bin/sh\n%s\n' "$2" >"$BATS_TEST_TMPDIR/rx.sh"
	chmod +x "$BATS_TEST_TMPDIR/rx.sh"
	cat >"$BATS_TEST_TMPDIR/a.yaml" <<-EOF
	state_dir: $1
	retry_min: 100ms
	retry_max: 1s
	rules:
	  - {name: hot, when: cpu.util > 90, flap: false}
	receivers:
	  - {name: run, type: command, command: "$BATS_TEST_TMPDIR/rx.sh"}
	EOF
}

# Every file of a perf-alert state directory parses: the state, each
# line of the history, each spool entry.
alert_state_whole() {
	if [ -e "$1/state.json" ]; then
		jq -e '.alerts | type == "array"' "$1/state.json" >/dev/null
	fi
	if [ -e "$1/history.jsonl" ]; then
		jq -n -e '[inputs | .type == "alert"] | all' "$1/history.jsonl" >/dev/null
	fi
	set -- "$1"/spool/*.json
	[ -e "$1" ] || return 0
	# One jq for them all: a file that does not parse is an error.
	jq -n -e '[inputs | (.receiver | type) == "string" and
	    (.key | type) == "string" and .alert.type == "alert"] | all' "$@" >/dev/null
}

# Alternating samples on host h: a transition (and a notification) each.
alert_flips() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
	    printf "{\"type\":\"sample\",\"ts\":%d,\"host\":\"h\",\"cpu\":{\"util\":%d}}\n",
	        i, i % 2 ? 95 : 50 }'
}

# A webhook receiver on 127.0.0.1 (tests/helpers/perf-alert-http.py): posts
# go to $BATS_TEST_TMPDIR/posts.jsonl, answered 503 while .../fail exists.
HTTPD=$TESTS_DIR/helpers/perf-alert-http.py
start_http() {
	HTTP_PORT=$(pk_free_port)
	python3 "$HTTPD" "$HTTP_PORT" "$BATS_TEST_TMPDIR/posts.jsonl" \
	    "$BATS_TEST_TMPDIR/fail" "$BATS_TEST_TMPDIR/hang" 3>&- 5>&- &
	HTTP_PID=$!
	pk_wait_port "$HTTP_PORT" 10
	cat >"$BATS_TEST_TMPDIR/a.yaml" <<-EOF
	state_dir: $1
	retry_min: 100ms
	retry_max: 500ms
	rules:
	  - {name: hot, when: cpu.util > 90, flap: false}
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/"}
	EOF
}

# Wait until a command succeeds (max $1 seconds).
wait_until() {
	local max=$1 i=0
	shift
	until "$@"; do
		i=$((i + 1))
		[ "$i" -lt $((max * 10)) ] || return 1
		sleep 0.1
	done
}
nlines() { [ "$( (cat "$1" 2>/dev/null || true) | wc -l)" -ge "$2" ]; }
nspooled() { [ "$(find "$1" -name '*.json' | wc -l)" -eq "$2" ]; }

@test "perf-alert: a full state directory: records still pass, notifications wait in memory and all arrive once space is freed (4 at the end)" {
	need_alert
	local d=$BATS_TEST_TMPDIR/mnt pid st
	small_tmpfs "$d"
	start_http "$d"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/a.yaml" </dev/null
	touch "$BATS_TEST_TMPDIR/fail"		# the receiver refuses for now
	fill_fs "$d"
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	perf-alert -c "$BATS_TEST_TMPDIR/a.yaml" -w 30s <"$BATS_TEST_TMPDIR/fifo" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	ALERT_PID=$pid
	exec 5>"$BATS_TEST_TMPDIR/fifo"
	alert_flips 4 >&5
	# 4 samples and 4 transitions on stdout, the program still running.
	wait_until 20 nlines "$BATS_TEST_TMPDIR/out" 8
	kill -0 "$pid"
	grep -q "perf-alert: cannot write to the spool '$d/spool': No space left on device" "$BATS_TEST_TMPDIR/err"
	nspooled "$d/spool" 0
	# Space again: the spool takes the 4 notifications, then the history.
	rm "$d/fill"
	wait_until 20 nspooled "$d/spool" 4
	wait_until 20 nlines "$d/history.jsonl" 4
	grep -q "the spool '$d/spool' takes writes again: 4 notifications written from memory, none lost" "$BATS_TEST_TMPDIR/err"
	# Later records still pass and notify.
	alert_flips 2 | awk '{ sub(/"ts":/, "\"ts\":1"); print }' >&5
	wait_until 20 nlines "$BATS_TEST_TMPDIR/out" 12
	kill -0 "$pid"
	# The receiver accepts: every transition arrives, in order, once each.
	rm "$BATS_TEST_TMPDIR/fail"
	wait_until 30 nlines "$BATS_TEST_TMPDIR/posts.jsonl" 6
	exec 5>&-
	st=0
	wait "$pid" || st=$?
	ALERT_PID=
	pk_stop_pid "$HTTP_PID"
	[ "$st" -eq 4 ]
	run -0 jq -r '"\(.fingerprint)-\(.event)-\(.ts)"' "$d/history.jsonl"
	[ "${#lines[@]}" -eq 6 ]
	local hist=$output
	run -0 jq -r '.key | sub("\\.000-0$"; "")' "$BATS_TEST_TMPDIR/posts.jsonl"
	assert_equal "$output" "$hist"
	nspooled "$d/spool" 0
	alert_state_whole "$d"
}

@test "perf-alert: a state directory full throughout: a working receiver still gets every notification, from memory" {
	need_alert
	local d=$BATS_TEST_TMPDIR/mnt
	small_tmpfs "$d"
	start_http "$d"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/a.yaml" </dev/null
	run -0 cat "$d/state.json"
	local before=$output
	fill_fs "$d"
	alert_flips 6 >"$BATS_TEST_TMPDIR/in"
	run -4 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/a.yaml" "$BATS_TEST_TMPDIR/in"
	pk_stop_pid "$HTTP_PID"
	# Every record passed; the errors said once each, not per record.
	[ "${#lines[@]}" -eq 12 ]
	run -0 grep -c "cannot write to the spool '$d/spool': No space left on device" <<<"$stderr"
	assert_output 1
	run -0 grep -c "cannot append to the history" <<<"$stderr"
	assert_output 1
	run -0 grep -c "cannot write '$d/state.json'" <<<"$stderr"
	assert_output 1
	[[ $stderr == *"6 history lines could not be written, 0 dropped: lost"* ]]
	# Delivered from memory: no delivery reported as failed (#18).
	[[ $stderr != *"failed (attempt"* ]] || fail "a delivery said failed: $stderr"
	run -0 jq -r .key "$BATS_TEST_TMPDIR/posts.jsonl"
	[ "${#lines[@]}" -eq 6 ]
	alert_state_whole "$d"
	run -0 cat "$d/state.json"
	assert_equal "$output" "$before"
	run -0 ls -A "$d/spool"
	assert_output ''
}

@test "perf-alert: a read-only state directory is reported (4) before any record" {
	need_alert
	local d=$BATS_TEST_TMPDIR/mnt
	ro_prepare "$d"
	alert_config "$d" "cat >>'$BATS_TEST_TMPDIR/delivered'"
	alert_flips 4 >"$BATS_TEST_TMPDIR/in"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/a.yaml" "$BATS_TEST_TMPDIR/in"
	ro_make "$d"
	run -4 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/a.yaml" "$BATS_TEST_TMPDIR/in"
	[[ $stderr == *"$RO_ERR"* ]]
	assert_output ''
	alert_state_whole "$d"
}

@test "perf-alert: SIGKILL at random points, then restart: state whole, no spooled notification lost" {
	need_alert
	local d=$BATS_TEST_TMPDIR/st n=10
	san && n=5
	# A receiver that refuses everything: the spool fills.
	alert_config "$d" "exit 1"
	alert_flips 100000 >"$BATS_TEST_TMPDIR/in"
	for i in $(seq "$n"); do
		awk -v k="$i" '{ sub(/"ts":/, "\"ts\":" k "00000"); print }' \
		    "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/in.$i"
		perf-alert -c "$BATS_TEST_TMPDIR/a.yaml" -w 0 "$BATS_TEST_TMPDIR/in.$i" \
		    >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
		pid=$!
		sleep "0.$((RANDOM % 5 + 1))$((RANDOM % 10))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" || true
		alert_state_whole "$d"
	done
	# What the killed runs spooled, by idempotency key.
	cat "$d"/spool/*.json | jq -r .key | sort -u >"$BATS_TEST_TMPDIR/spooled"
	[ -s "$BATS_TEST_TMPDIR/spooled" ]
	# Every transition in the history has its notification spooled (a
	# kill may come after the spool and before the history, not the
	# other way round).
	jq -r '"\(.fingerprint)-\(.event)-\(.ts)"' "$d/history.jsonl" | sort -u >"$BATS_TEST_TMPDIR/hist"
	sed 's/\.000-[0-9]*$//' "$BATS_TEST_TMPDIR/spooled" | sort -u |
	    comm -23 "$BATS_TEST_TMPDIR/hist" - >"$BATS_TEST_TMPDIR/lost"
	[ ! -s "$BATS_TEST_TMPDIR/lost" ] || { echo "in the history, never spooled:"; cat "$BATS_TEST_TMPDIR/lost"; false; }
	# A restart with a receiver that accepts delivers every one of them:
	# the test counts deliveries, -w is only a guard against a hang.
	alert_config "$d" "echo \"\$PERF_ALERT_KEY\" >>'$BATS_TEST_TMPDIR/delivered'"
	run -0 perf-alert -c "$BATS_TEST_TMPDIR/a.yaml" -w 20m </dev/null
	run -0 ls "$d/spool"
	refute_output --regexp '\.json$'
	sort -u "$BATS_TEST_TMPDIR/delivered" | diff -u "$BATS_TEST_TMPDIR/spooled" -
	alert_state_whole "$d"
}

@test "clock steps, perf-alert: a step back restarts the timers, a jump of days is one escalation" {
	need_alert
	cat >"$BATS_TEST_TMPDIR/a.yaml" <<-'EOF'
	rules:
	  - {name: hot, when: cpu.util > 90, for: 30s, flap: false, escalate: {after: 60s}}
	EOF
	python3 - >"$BATS_TEST_TMPDIR/in" <<-'EOF'
	import json
	t = 1732300000
	def s(ts, u):
	    print(json.dumps({"type": "sample", "ts": ts, "host": "h",
	                      "cpu": {"util": u}}, separators=(",", ":")))
	for i in range(20): s(t + i, 95)                 # pending from t
	for i in range(20): s(t + 20 - 3600 + i, 95)     # an hour back, hot
	for i in range(20): s(t + 40 + i, 95)            # on again
	for i in range(5): s(t + 3 * 86400 + i, 95)      # three days later
	for i in range(5): s(t + 3 * 86400 + 5 + i, 50)  # and calm
	EOF
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/a.yaml" "$BATS_TEST_TMPDIR/in"
	# The first two records of the step are late: passed, not evaluated.
	assert_equal "$stderr" "$(printf '%s\n' \
	    "perf-alert: $BATS_TEST_TMPDIR/in:21: ts 1732296420.000 is more than a minute behind 1732300019.000: late records are passed through, not evaluated" \
	    "perf-alert: h: clock stepped back by 3597 s at $BATS_TEST_TMPDIR/in:23; timers restarted" \
	    "perf-alert: 2 late records (older than a minute) not evaluated")"
	out=$output
	grep '^{"type":"sample"' <<<"$out" | cmp - "$BATS_TEST_TMPDIR/in"
	run -0 jq -c 'select(.type == "alert")
	    | [.ts - 1732300000, .event, .severity, .since - 1732300000, .duration_s]' <<<"$out"
	# The third record an hour back is a step: 'pending' goes on from
	# there with the 19 s it had, and 'for' completes 30 s of event time
	# after it began, an hour back; times of the alert are on the new
	# timeline. The return to the old timeline an hour later and the
	# jump of three days are one escalation each, not one per minute
	# missed; the duration counts the days.
	assert_output "$(printf '%s\n' '[0,"pending","WARNING",0,null]' \
	    '[-3567,"firing","WARNING",-3567,null]' \
	    '[40,"escalated","CRITICAL",-3567,null]' \
	    '[259200,"escalated","EMERGENCY",-3567,null]' \
	    '[259205,"resolved","EMERGENCY",-3567,262772]')"
}

@test "perf-sample: values a corrupt procfs makes negative are omitted and reported" {
	d=$BATS_TEST_TMPDIR/rpi
	cp -r "$FIXTURES/perf-sample/rpi" "$d"
	# More available than total in the second snapshot; uptime going
	# back in the third.
	sed -i 's/^MemAvailable:.*/MemAvailable:    4000000 kB/' "$d/1/proc/meminfo"
	echo '1001.00 3510.00' >"$d/2/proc/uptime"
	run -3 --separate-stderr perf-sample --replay "$d"
	run -0 jq -c '[.interval_s, .mem]' <<<"$output"
	assert_output '[2,null]
[null,{"total_kb":3884000,"avail_kb":2913000,"used_pct":25}]'
	[[ "$stderr" == *"perf-sample: $d/1/proc/meminfo:3: MemAvailable larger than MemTotal: memory omitted"* ]]
	[[ "$stderr" == *"perf-sample: $d/2/proc/uptime:1: uptime went backwards: interval_s and the rates omitted"* ]]
	run -1 grep -e '"used_pct":-' -e '"interval_s":-' <<<"$output"
}
