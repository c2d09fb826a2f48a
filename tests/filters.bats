#!/usr/bin/env bats
# The filters share one front end (lib/pk_filter): the same bad input gives
# the same diagnostics, the same status and the same lines passed through,
# in perf-profile, perf-qualityctl and perf-alert (docs/conventions.md,
# "Bad input").

load common

BAD=$FIXTURES/filters/bad.jsonl

# Run filter $1 over $2; stderr without the program's prefix in $d/$1.err,
# the input lines it passed (not its own records) in $d/$1.out, its status
# in $d/$1.rc.
filter_run() {
	local p=$1 in=$2 d=$BATS_TEST_TMPDIR rc=0
	case $p in
	perf-profile) perf-profile "$in" >"$d/$p.all" 2>"$d/$p.err1" || rc=$? ;;
	perf-qualityctl) perf-qualityctl -n "$in" >"$d/$p.all" 2>"$d/$p.err1" || rc=$? ;;
	perf-alert)
		printf 'rules:\n  - {name: hot, when: cpu.util > 1000, match: {type: sample}}\n' >"$d/a.yaml"
		perf-alert -c "$d/a.yaml" "$in" >"$d/$p.all" 2>"$d/$p.err1" || rc=$? ;;
	esac
	echo "$rc" >"$d/$p.rc"
	sed "s/^$p: //" "$d/$p.err1" >"$d/$p.err"
	grep -v -E '^\{"type":"(profile|bottleneck|efficiency|quality|alert)"' "$d/$p.all" >"$d/$p.out" || true
}

@test "one bad-input corpus through every filter: same diagnostics, status and pass-through" {
	for p in perf-profile perf-qualityctl perf-alert; do
		filter_run "$p" "$BAD"
	done
	for p in perf-qualityctl perf-alert; do
		diff -u "$BATS_TEST_TMPDIR/perf-profile.err" "$BATS_TEST_TMPDIR/$p.err" ||
		    fail "$p: diagnostics differ from perf-profile's"
		diff -u "$BATS_TEST_TMPDIR/perf-profile.out" "$BATS_TEST_TMPDIR/$p.out" ||
		    fail "$p: passes other lines than perf-profile"
		diff -u "$BATS_TEST_TMPDIR/perf-profile.rc" "$BATS_TEST_TMPDIR/$p.rc" ||
		    fail "$p: another status than perf-profile"
	done
	run -0 cat "$BATS_TEST_TMPDIR/perf-profile.rc"
	assert_output 3
	# What the corpus holds, line by line (blank lines are no records).
	run -0 cat "$BATS_TEST_TMPDIR/perf-profile.err"
	assert_line --index 0 "$BAD:4: column 1: not a JSON object"
	assert_line --index 1 "$BAD:5: column 1: not a JSON object"
	assert_line --index 2 "$BAD:7: a sample record without a numeric ts"
	assert_line --index 3 "$BAD:8: a sample record without a numeric ts"
	assert_line --index 4 "$BAD:9: ts 1732300002000 is more than a day ahead of the clock (not seconds since the epoch?)"
	assert_line --index 5 "$BAD:10: ts -5 is not a time (seconds since the epoch)"
	assert_line --index 6 "$BAD:11: host is 300 bytes long (at most 255)"
	assert_line --index 7 "$BAD:12: host is not a string"
	assert_line --index 9 "9 bad input lines skipped"
	[ "${#lines[@]}" -eq 10 ]
	# Passed: the valid samples and the record of a type nobody reads.
	run -0 jq -c '[.type, .ts]' "$BATS_TEST_TMPDIR/perf-profile.out"
	assert_output "$(printf '%s\n' '["sample",1732300000]' '["note",null]' \
	    '["sample",1732300006]' '["sample",1732300007]')"
}

@test "an over-long line: the same message and the lines around it kept, in every filter" {
	local in=$BATS_TEST_TMPDIR/long.jsonl
	{
		echo '{"type":"sample","ts":1732300000,"host":"h"}'
		python3 -c 'print("{\"type\":\"sample\",\"ts\":1732300001,\"pad\":\"" + "x" * 1100000 + "\"}")'
		echo '{"type":"sample","ts":1732300002,"host":"h"}'
	} >"$in"
	for p in perf-profile perf-qualityctl perf-alert; do
		filter_run "$p" "$in"
		run -0 cat "$BATS_TEST_TMPDIR/$p.err"
		assert_line --index 0 "$in:2: line longer than 1048576 bytes"
		run -0 cat "$BATS_TEST_TMPDIR/$p.rc"
		assert_output 3
		run -0 grep -c '"type":"sample"' "$BATS_TEST_TMPDIR/$p.out"
		assert_output 2
	done
}

@test "a blank line and a record of another type without ts: status 0 in every filter" {
	local in=$BATS_TEST_TMPDIR/ok.jsonl
	printf '%s\n' '{"type":"sample","ts":1732300000,"host":"h"}' '' \
	    '{"type":"log","msg":"hello"}' '{"type":"sample","ts":1732300001,"host":"h"}' >"$in"
	for p in perf-profile perf-qualityctl perf-alert; do
		filter_run "$p" "$in"
		run -0 cat "$BATS_TEST_TMPDIR/$p.rc"
		assert_output 0
		run -0 cat "$BATS_TEST_TMPDIR/$p.out"
		assert_output "$(printf '%s\n' '{"type":"sample","ts":1732300000,"host":"h"}' \
		    '{"type":"log","msg":"hello"}' '{"type":"sample","ts":1732300001,"host":"h"}')"
	done
}

@test "the headline pipeline takes a gone or missing process: perf-sample and perf-profile agree on proc records" {
	# A PID that never existed: a warning, no record, status 0 down the line.
	run -0 --separate-stderr bats_pipe perf-sample -n 1 -i 100ms -m load -p 999999 \| perf-profile
	refute_output --partial '"type":"proc"'
	# A process that exits while followed: its gone record keeps its comm.
	sleep 0.5 &
	pid=$!
	perf-sample -n 10 -i 100ms -m load -p "$pid" >"$BATS_TEST_TMPDIR/s.jsonl"
	wait "$pid" || true
	run -0 jq -r 'select(.type == "proc" and .gone == true) | .comm' "$BATS_TEST_TMPDIR/s.jsonl"
	assert_output sleep
	run -0 perf-profile "$BATS_TEST_TMPDIR/s.jsonl"
}
