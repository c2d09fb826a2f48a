#!/usr/bin/env bats
# perf-bench: the command line, the child's environment, failures, the
# statistics records, determinism, baselines, comparisons and --stress.
# No assertion depends on how fast this machine is: durations that are
# compared differ by at least 20% and are sleeps, which load barely moves.

load common
load prom

HELPERS=$PK_BUILD/tests/helpers

teardown() {
	pk_prom_stop_all
}

# The Pushgateway's groups of job perf-bench, as its JSON API gives them.
pushed_groups() {
	curl -fsS "$PUSHGW_URL/api/v1/metrics" |
	    jq -c '[.data[] | select(.labels.job == "perf-bench")]'
}

@test "-h prints the usage and the options on stdout" {
	run -0 --separate-stderr perf-bench -h
	assert_line --index 0 --partial "usage: perf-bench [-chijs]"
	assert_output --partial "--check-output"
	assert_output --partial "--stress Nx"
	[ -z "$stderr" ]
}

@test "a bad option is a usage error" {
	run -2 --separate-stderr perf-bench --bogus -- true
	[ -z "$output" ]
	[[ $stderr == *"usage: perf-bench"* ]]
}

@test "usage errors: no command, bad values, --stress-mem alone" {
	run -2 --separate-stderr perf-bench
	[[ $stderr == *"usage: perf-bench"* ]]
	run -2 --separate-stderr perf-bench -r 0 -- true
	[[ $stderr == *"--runs"* ]]
	run -2 --separate-stderr perf-bench --outliers maybe -- true
	[[ $stderr == *"keep or drop"* ]]
	run -2 --separate-stderr perf-bench --stress-mem -- true
	[[ $stderr == *"--stress-mem needs --stress"* ]]
	run -2 --separate-stderr perf-bench --stress 0x -- true
	run -2 --separate-stderr perf-bench -m 20 -M 10 -- true
	run -2 --separate-stderr perf-bench -n a -n b -- true
	[[ $stderr == *"2 names for 1 commands"* ]]
}

@test "--json: one bench record with per-run times and the statistics" {
	run -0 --separate-stderr perf-bench -j -w 2 -r 7 -- true
	[ "${#lines[@]}" -eq 1 ]
	echo "$output" | jq -e '
	    .type == "bench" and .name == "true" and .phase == "quiet" and
	    .command == ["true"] and .shell == false and
	    .runs == 7 and .warmup == 2 and .failures == 0 and .complete and
	    (.times_s | length) == 7 and
	    .wall_s.min <= .wall_s.median and .wall_s.median <= .wall_s.max and
	    .wall_s.ci_low <= .wall_s.mean and .wall_s.mean <= .wall_s.ci_high and
	    .wall_s.min == (.times_s | min) and .wall_s.max == (.times_s | max) and
	    (.wall_s.mean - ((.times_s | add) / 7) | fabs) < 1e-12 and
	    .user_s.mean >= 0 and .sys_s.mean >= 0 and .maxrss_kb.max > 0 and
	    .outliers.policy == "keep" and .outliers.z == 3.5 and
	    .confidence == 0.95 and (.ts | type) == "number" and
	    (.host | type) == "string"'
}

@test "the human report: statistics, stability, outliers and a histogram" {
	run -0 perf-bench -r 12 -- sleep 0.005
	assert_line --index 0 "sleep 0.005: 12 runs"
	assert_line --partial "(mean ± σ), 95% CI ["
	assert_line --partial "  median: "
	assert_line --partial "max RSS"
	assert_line --regexp "^  CV [0-9.]+%, jitter [0-9.]+ ms \([0-9.]+%\): (stable|UNSTABLE) \(thresholds 5%, 5%\)$"
	assert_line --regexp "^  outliers: [0-9]+ of 12 \(\|modified z\| > 3.5\), kept$"
	# The histogram bars add up to the runs.
	total=$(printf '%s\n' "$output" | awk '/\|/ && $NF ~ /^[0-9]+$/ && $0 ~ /ms \|/ {s += $NF} END {print s}')
	[ "$total" -eq 12 ]
}

@test "the run count follows the time budget within --min-runs and --max-runs" {
	run -0 perf-bench -j -t 1ms -m 4 -M 50 -- sleep 0.01
	echo "$output" | jq -e '.runs == 4'
	run -0 perf-bench -j -t 10s -m 4 -M 6 -- true
	echo "$output" | jq -e '.runs == 6'
	run -0 perf-bench -j -w 0 -t 1ms -m 3 -M 50 -- true
	echo "$output" | jq -e '.runs == 3 and .warmup == 0'
}

@test "--precision stops once the confidence interval is tight enough" {
	run -0 perf-bench -j --precision 25 -m 5 -M 5000 -- sleep 0.002
	echo "$output" | jq -e '.runs >= 5 and .runs < 5000 and
	    (.wall_s.ci_high - .wall_s.ci_low) / 2 <= 0.25 * .wall_s.mean'
}

@test "a failing command ends the benchmark with its status unless -i" {
	run -1 --separate-stderr perf-bench -r 5 -- false
	[ -z "$output" ]
	[[ $stderr == *"perf-bench: 'false' exited with status 1 (use -i to ignore)"* ]]
	run -3 --separate-stderr perf-bench -s -r 5 -- 'exit 3'
	[[ $stderr == *"'exit 3' exited with status 3"* ]]
	run -0 --separate-stderr perf-bench -i -j -r 5 -- false
	echo "$output" | jq -e '.failures == 5 and .runs == 5'
}

@test "a command killed by a signal gives 128+N" {
	run -137 --separate-stderr perf-bench -s -r 3 -- 'kill -9 $$'
	[[ $stderr == *"was killed by signal 9"* ]]
	# An exit status above 128 is still an exit status.
	run -130 --separate-stderr perf-bench -s -r 3 -- 'exit 130'
	[[ $stderr == *"'exit 130' exited with status 130"* ]]
}

@test "a command that does not exist is 127, one not executable 126" {
	run -127 --separate-stderr perf-bench -r 3 -- no-such-command-xyz
	[ "$stderr" = "perf-bench: cannot execute 'no-such-command-xyz': No such file or directory" ]
	printf 'true\n' >"$BATS_TEST_TMPDIR/noexec"
	chmod 644 "$BATS_TEST_TMPDIR/noexec"
	run -126 --separate-stderr perf-bench -r 3 -- "$BATS_TEST_TMPDIR/noexec"
	[[ $stderr == *"cannot execute '$BATS_TEST_TMPDIR/noexec': Permission denied"* ]]
	run -127 --separate-stderr perf-bench -r 3 -- true ::: no-such-command-xyz
}

@test "children start with default signal dispositions and an empty mask" {
	# The helper fails if anything is ignored or blocked; the shell hands
	# perf-bench ignored signals, which must not reach the command.
	# (A sanitizer build of the helper must not install its own handlers.)
	export ASAN_OPTIONS=handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0
	run -0 "$HELPERS/perf-bench-sigcheck"
	run -1 bash -c "trap '' USR1 QUIT HUP; '$HELPERS/perf-bench-sigcheck'"
	run -0 bash -c "trap '' USR1 QUIT HUP; perf-bench -r 3 -- '$HELPERS/perf-bench-sigcheck'"
}

@test "an ignored SIGCHLD inherited from the parent does not lose the runs" {
	run -0 python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execvp("perf-bench", ["perf-bench", "-j", "-r", "3", "--", "true"])'
	echo "$output" | jq -e '.runs == 3 and .failures == 0 and .maxrss_kb.max > 0'
}

@test "a progress bar with an ETA on stderr only when it is a terminal" {
	command -v script >/dev/null || skip "no script(1)"
	run -0 script -qec "perf-bench -r 6 -- sleep 0.05 >/dev/null" /dev/null
	assert_output --regexp "sleep 0.05 \[#*-*\] [0-9]+/6 ETA "
	run -0 script -qec "perf-bench --no-progress -r 3 -- sleep 0.05 >/dev/null" /dev/null
	refute_output --partial "ETA"
	run -0 --separate-stderr perf-bench -r 3 -- sleep 0.05
	[ -z "$stderr" ]
}

@test "runs without a shell by default, with /bin/sh -c under --shell" {
	# Without a shell the quote characters are the argument itself.
	run -0 perf-bench -j -c -r 3 -- printf '%s' '$HOME'
	h1=$(echo "$output" | jq -r .output.hash)
	run -0 perf-bench -j -c -r 3 -- printf '%s' "$HOME"
	h2=$(echo "$output" | jq -r .output.hash)
	[ "$h1" != "$h2" ]
	run -0 perf-bench -j -c -s -r 3 -- "printf '%s' \$HOME"
	echo "$output" | jq -e --arg h "$h2" '.output.hash == $h and .shell and
	    .command == ["/bin/sh", "-c", "printf '"'%s'"' $HOME"]'
}

@test "--check-output catches a command whose output changes" {
	run -1 --separate-stderr perf-bench -s -c -r 6 -- 'cat /proc/sys/kernel/random/uuid'
	assert_line --regexp "^  output: DIFFERS in [0-9]+ of 6 runs$"
	[[ $stderr == *"the output of the command differs between runs"* ]]
	# The expected hash of "hi\n" is FNV-1a 64 computed independently.
	want=$(python3 -c 'h=0xcbf29ce484222325
for b in b"hi\n": h=((h^b)*0x100000001b3)&0xffffffffffffffff
print("%016x"%h)')
	run -0 perf-bench -j -c -r 6 -- echo hi
	echo "$output" | jq -e --arg h "$want" '.output.hash == $h and .output.mismatches == 0'
}

@test "--max-cv makes an unstable timing a failure" {
	# A command that alternates between 1 ms and 30 ms has a CV far above 1%.
	state=$BATS_TEST_TMPDIR/flip
	run -1 --separate-stderr perf-bench -s --max-cv 1 -r 8 -- \
	    "if [ -e $state ]; then rm $state; sleep 0.03; else : >$state; fi"
	[[ $stderr == *"the timing is unstable (CV above 1%)"* ]]
	assert_line --partial "UNSTABLE (thresholds 1%, 5%)"
}

@test "--max-jitter fails a timing that flips between two levels, which the CV lets pass" {
	cd "$BATS_TEST_TMPDIR"
	# About 7 ms and 100 ms in turn: the CV of two levels stays below
	# 105% however far apart they are, the jitter here is about 170%.
	flip='if [ -e f ]; then rm f; sleep 0.1; else : >f; sleep 0.005; fi'
	run -0 --separate-stderr perf-bench -j -s -w 0 -r 12 --max-cv 150 -- "$flip"
	echo "$output" | jq -e '.stable == false and .max_jitter == 0.05 and
	    .wall_s.cv < 1.5 and .jitter_rel > 1.2'
	run -1 --separate-stderr perf-bench -j -s -w 0 -r 12 --max-cv 150 --max-jitter 120 -- "$flip"
	[[ $stderr == *"the timing is unstable (jitter above 120% of the mean)"* ]]
	[[ $stderr != *"CV above"* ]]
	run -0 perf-bench -s -w 0 -r 12 --max-jitter 1000 -- "$flip"
	assert_line --regexp "^  CV [0-9.]+%, jitter [0-9.]+ ms \([0-9.]+%\): UNSTABLE \(thresholds 5%, 1000%\)$"
}

@test "two commands: interleaved, compared with Welch and Mann-Whitney" {
	run -0 perf-bench -j -r 15 -n fast -n slow -- sleep 0.01 ::: sleep 0.03
	[ "${#lines[@]}" -eq 2 ]
	echo "${lines[0]}" | jq -e '.name == "fast" and (has("compare") | not)'
	echo "${lines[1]}" | jq -e '.name == "slow" and .compare.reference == "fast" and
	    .compare.ratio > 1.5 and .compare.ratio_low > 1.2 and
	    .compare.welch_p < 0.01 and .compare.mannwhitney_p < 0.01 and
	    .compare.ratio_low <= .compare.ratio and .compare.ratio <= .compare.ratio_high'
	run -0 perf-bench -r 10 -n fast -n slow --export-html "$BATS_TEST_TMPDIR/c.html" -- sleep 0.01 ::: sleep 0.03
	grep -q "<h2>comparison with fast</h2>" "$BATS_TEST_TMPDIR/c.html"
	grep -q "<tr><td>slow</td><td>[0-9.]* ± [0-9.]*</td>" "$BATS_TEST_TMPDIR/c.html"
	assert_line --regexp "^  slow: [0-9.]+ ± [0-9.]+ times the reference .*: significant$"
}

@test "--baseline: a planted 20% regression fails, the unchanged command passes" {
	# 100 ms against 120 ms: the scheduling delay of a loaded machine, which
	# can differ between the baseline and the check, stays small beside it.
	# Outliers (a busy shared machine) are dropped by the modified z-score
	# in both the baseline and the comparison, so a stray slow run cannot
	# make the unchanged command look slower or hide the regression.
	base=$BATS_TEST_TMPDIR/base.jsonl
	run -0 perf-bench -r 25 --outliers drop -n step --export-json "$base" -- sleep 0.1
	jq -e '.name == "step" and .runs == 25' "$base"
	run -0 --separate-stderr perf-bench -r 25 --outliers drop -n step -b "$base" --threshold 10 -- sleep 0.1
	assert_line --regexp "^  step: .* times the baseline .*: (no regression|faster)$"
	run -1 --separate-stderr perf-bench -r 25 --outliers drop -n step -b "$base" --threshold 10 -- sleep 0.12
	assert_line --regexp "^  step: 1\.[0-9]+ ± .* times the baseline .*: REGRESSION$"
	[[ $stderr == *"a regression against the baseline"* ]]
	run -1 --separate-stderr perf-bench -j -r 25 --outliers drop -n step -b "$base" --threshold 10 -- sleep 0.12
	echo "$output" | jq -e '.baseline.regression and .baseline.welch_p < 0.05 and
	    .baseline.ratio > 1.1 and .baseline.threshold == 0.1'
}

@test "--baseline: one stray run in the baseline hides no regression (Mann-Whitney, medians)" {
	base=$BATS_TEST_TMPDIR/base.jsonl
	run -0 perf-bench -r 20 -n step --export-json "$base" -- sleep 0.05
	# One 5 s run planted in the baseline, its mean and sd recomputed: a
	# mean of about 0.29 s and an sd of 1.08 s, which hide a 30% slowdown
	# from Welch's t-test and from the ratio of the means.
	jq -c '.times_s += [5.0] | .runs = (.times_s | length) |
	    .wall_s.mean = (.times_s | add / length) |
	    .wall_s.sd = (.times_s | (add / length) as $m |
	        map((. - $m) * (. - $m)) | add / (length - 1) | sqrt)' \
	    "$base" >"$base.new"
	mv "$base.new" "$base"
	run -1 --separate-stderr perf-bench -j -r 20 -n step -b "$base" --threshold 10 -- sleep 0.065
	echo "$output" | jq -e '.baseline.test == "mannwhitney" and .baseline.regression and
	    .baseline.ratio < 1 and .baseline.welch_p > 0.05 and
	    .baseline.median_ratio > 1.1 and .baseline.mannwhitney_p < 0.05'
	[[ $stderr == *"a regression against the baseline"* ]]
	run -0 --separate-stderr perf-bench -r 20 -n step -b "$base" --threshold 10 -- sleep 0.05
	assert_line --regexp "^  step: .* times the baseline .*; median [0-9.]+ times, Mann-Whitney p .*: (no regression|faster)$"
}

@test "--baseline: a malformed line is reported, the valid records still used" {
	base=$BATS_TEST_TMPDIR/base.jsonl
	run -0 perf-bench -r 10 -n step --export-json "$base" -- sleep 0.01
	{ echo '{"type":"bench","name":"other",'; cat "$base"; echo '{"type":"bench","name":"x"}'
	  # Found by fuzz_bench_baseline: a run count beyond size_t was converted.
	  echo '{"type":"bench","name":"y","runs":1e300,"wall_s":{"mean":1,"sd":0}}'; } >"$BATS_TEST_TMPDIR/bad.jsonl"
	run -3 --separate-stderr perf-bench -r 10 -n step -b "$BATS_TEST_TMPDIR/bad.jsonl" -- sleep 0.01
	[[ $stderr == *"perf-bench: $BATS_TEST_TMPDIR/bad.jsonl:1: invalid JSON"* ]]
	[[ $stderr == *"perf-bench: $BATS_TEST_TMPDIR/bad.jsonl:3: a bench record needs name, runs >= 2, wall_s.mean and wall_s.sd"* ]]
	[[ $stderr == *"perf-bench: $BATS_TEST_TMPDIR/bad.jsonl:4: a bench record needs name, runs >= 2, wall_s.mean and wall_s.sd"* ]]
	assert_line --regexp "^  step: .* times the baseline"
	run -4 --separate-stderr perf-bench -r 3 -b "$BATS_TEST_TMPDIR/missing" -- true
	[[ $stderr == *"cannot read '$BATS_TEST_TMPDIR/missing'"* ]]
}

@test "--stress runs again beside N x nproc hogs and reports the slowdown" {
	n=$(nproc)
	run -0 perf-bench -j -r 6 --stress 1x --stress-mem -- sleep 0.005
	[ "${#lines[@]}" -eq 2 ]
	echo "${lines[0]}" | jq -e '.phase == "quiet" and .runs == 6'
	echo "${lines[1]}" | jq -e --argjson n "$n" '.phase == "stress" and .runs == 6 and
	    .stress.factor == 1 and .stress.cpu_hogs == $n and .stress.mem_hogs == $n and
	    (.stress.ratio | type) == "number" and (.stress.cv_stress | type) == "number"'
	run -0 perf-bench -r 4 --stress 2x --export-html "$BATS_TEST_TMPDIR/s.html" -- true
	grep -q "<h2>stress 2x: $((2 * n)) CPU hogs, 0 memory hogs</h2>" "$BATS_TEST_TMPDIR/s.html"
	[ "$(grep -c '<svg ' "$BATS_TEST_TMPDIR/s.html")" -eq 2 ]
	assert_line --index 0 "true: 4 runs"
	assert_line "true (under stress): 4 runs"
	assert_line "stress: 2x ($((2 * n)) CPU hogs, 0 memory hogs)"
	assert_line --regexp "^  true: slowdown [0-9.]+ ± [0-9.]+ .*CV [0-9.]+% -> [0-9.]+%"
}

@test "--stress interleaves quiet and stressed runs, the hogs stopped in between" {
	n=$(nproc)
	log=$BATS_TEST_TMPDIR/log
	# Each run logs how many hogs are not stopped (ps state T) as it runs.
	# Only this perf-bench's hogs: the children of the command's parent.
	export LOG=$log
	run -0 perf-bench -s -w 0 -r 4 --stress 1x -- \
	    'ps -o stat=,comm= --ppid $PPID | awk '\''$2 == "perf-bench-cpu" && $1 !~ /^T/'\'' | wc -l >>"$LOG"'
	# Rounds alternate quiet/stress and stress/quiet: drift of the machine
	# falls on both phases alike, never on one block of runs.
	assert_equal "$(tr '\n' ' ' <"$log")" "0 $n $n 0 0 $n $n 0 "
}

@test "SIGTERM during --stress leaves no hog behind and reports what it has" {
	out=$BATS_TEST_TMPDIR/out
	perf-bench -w 0 -r 2 --stress 1x -M 100 -- sleep 0.2 >"$out" 2>&1 &
	pid=$!
	# Wait for the hogs (started, stopped, with the first round).
	for _ in $(seq 100); do
		hogs=$(pgrep -P "$pid" -d ' ' perf-bench-cpu || true)
		[ -n "$hogs" ] && break
		sleep 0.05
	done
	[ -n "$hogs" ] || { pk_stop_pid "$pid"; fail "no hogs seen"; }
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	for h in $hogs; do
		! kill -0 "$h" 2>/dev/null || fail "hog $h is still running"
	done
	grep -q "interrupted" "$out"
}

@test "SIGTERM ends a run that ignores it: SIGKILL to its group a second later" {
	mark=$BATS_TEST_TMPDIR/pgid
	perf-bench -s -w 0 -r 2 -- "trap '' TERM; echo \$\$ >'$mark'; sleep 1000" \
	    >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	pk_wait_file "$mark" 20 || { pk_stop_pid "$pid"; fail "the command did not start"; }
	kill -TERM "$pid"
	# A stop that never came would leave perf-bench waiting on the sleep.
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { pk_stop_pid "$pid"; kill -9 -- "-$(cat "$mark")"; fail "perf-bench still waits"; }
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	# Nothing of the command's group runs on (a zombie may wait for init).
	run pgrep -g "$(cat "$mark")" -r R,S,D,T
	[ "$status" -eq 1 ] || fail "left running: $output"
}

@test "--export-html is self-contained with an SVG histogram; --export-markdown a table" {
	cd "$BATS_TEST_TMPDIR"
	run -0 perf-bench -r 10 -n 'a<b' --export-html r.html --export-markdown r.md -- sleep 0.002
	grep -q '<svg xmlns="http://www.w3.org/2000/svg"' r.html
	grep -q '<rect ' r.html
	grep -q 'a&lt;b' r.html
	# No external resources: the only URL is the SVG namespace.
	[ "$(grep -o 'https\?://[^"]*' r.html | sort -u)" = "http://www.w3.org/2000/svg" ]
	! grep -qi '<script\|<link\|src=' r.html
	[ "$(sed -n 1p r.md)" = "| Command | Phase | Runs | Mean [ms] | σ [ms] | Median [ms] | Min [ms] | Max [ms] | CV | Relative |" ]
	assert_equal "$(grep -c '^| `a<b` | quiet | 10 |' r.md)" 1
	run -4 --separate-stderr perf-bench -r 3 --export-json /nonexistent/dir/x.json -- true
	[[ $stderr == *"cannot write '/nonexistent/dir/x.json'"* ]]
}

# The layout of the report and of every export with the numbers masked:
# the files in tests/fixtures/perf-bench were made by perf-bench before its
# exporters became rows over one results model, with these commands.
pk_mask() {
	sed -E 's/(µs|ms)\b/U/g; s/"host":"[^"]*"/"host":H/; s/[0-9][0-9.e+-]*/N/g;
	    s/-N/N/g; s/[<=] N/N/g; s/not significant/significant/; s/UNSTABLE/stable/;
	    s/: (REGRESSION|no regression|faster)$/: V/;
	    s/\b(true|false)\b/B/g; s/^ +N U \|#* *N$/  N U |# N/' "$@"
}

@test "the report and the exports keep their layout, byte for byte but the numbers" {
	cd "$BATS_TEST_TMPDIR"
	run -0 perf-bench -r 6 -w 1 -c -n 'x<y|z' -n 'slow, "q"' --stress 1x --export-json run.jsonl \
	    --export-markdown run.md --export-html run.html -- true ::: sleep 0.02
	printf '%s\n' "$output" >run.txt
	# The same benchmark against the first as its baseline; a regression
	# (status 1) depends on the machine, the layout does not.
	run perf-bench -r 6 -w 0 -n 'x<y|z' -n other -b run.jsonl --export-json again.jsonl \
	    -- true ::: sleep 0.02
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	printf '%s\n' "$output" >again.txt
	for f in run.jsonl run.md run.html run.txt again.jsonl again.txt; do
		pk_mask "$f" >"$f.masked"
		diff -u "$FIXTURES/perf-bench/structure-$f" "$f.masked" || fail "$f changed its layout"
	done
}

@test "the man page documents every exporter row, and only those" {
	rows=$(perf-bench --list-options | sed -n 's/^--\(export-[a-z]*\)=$/\1/p' | sort)
	[ -n "$rows" ]
	man=$(sed -n 's/^\.It Fl -\(export-[a-z]*\) Ns = Ns Ar file$/\1/p' "$ROOT/man/perf-bench.1" | sort)
	assert_equal "$man" "$rows"
	run -0 perf-bench --help
	for r in $rows; do
		assert_line --regexp "^      --$r FILE +[a-zA-Z]"
	done
}

@test "the command runs as resolved once, under the name it was given" {
	# argv[0] stays "cat" although the path was found once, before the runs.
	want=$(python3 -c 'h=0xcbf29ce484222325
for b in b"cat\0/proc/self/cmdline\0": h=((h^b)*0x100000001b3)&0xffffffffffffffff
print("%016x"%h)')
	run -0 perf-bench -j -c -r 3 -- cat /proc/self/cmdline
	echo "$output" | jq -e --arg h "$want" '.output.hash == $h and .output.mismatches == 0'
}

@test "a process the command leaves running is killed after each run, with one warning" {
	export LOG=$BATS_TEST_TMPDIR/pids
	# Each run leaves a sleep behind that holds the output pipe of -c:
	# the run ends when the command exits, not when the pipe closes.
	run -0 --separate-stderr timeout 60 perf-bench -j -c -s -w 1 -r 3 -n leaky -- \
	    'sleep 100 & echo $! >>"$LOG"; echo hi'
	echo "$output" | jq -e '.runs == 3 and .output.mismatches == 0'
	assert_equal "$stderr" "perf-bench: 'leaky' left 1 process running after it exited"
	assert_equal "$(wc -l <"$LOG")" 4
	for pid in $(cat "$LOG"); do
		for _ in $(seq 50); do
			st=$(ps -o stat= -p "$pid" || true)
			[ -z "$st" ] || [ "${st#Z}" != "$st" ] && break
			sleep 0.1
		done
		[ -z "$st" ] || [ "${st#Z}" != "$st" ] || fail "process $pid is still running ($st)"
	done
	# A command that leaves nothing behind gets no warning.
	run -0 --separate-stderr perf-bench -s -r 3 -- 'sleep 0.01 & wait'
	[ -z "$stderr" ]
}

@test "--export-csv: hyperfine's columns, then perfkit's; names quoted as RFC 4180 says" {
	cd "$BATS_TEST_TMPDIR"
	run -0 perf-bench -r 5 --stress 1x -n 'a,b' -n 'say "hi"' --export-csv r.csv \
	    --export-json r.jsonl -- true ::: true
	[ "$(sed -n 1p r.csv)" = "command,mean,stddev,median,user,system,min,max,runs,cv,p95,p99,phase" ]
	# Names with a comma and a quote come back through python's csv module,
	# and every number reads back as the double the JSON record holds.
	run -0 python3 -c '
import csv, json, sys
rows = list(csv.DictReader(open("r.csv", newline="")))
recs = [json.loads(l) for l in open("r.jsonl")]
assert [(r["command"], r["phase"]) for r in rows] == [(j["name"], j["phase"]) for j in recs], rows
for r, j in zip(rows, recs):
    w = j["wall_s"]
    assert float(r["mean"]) == w["mean"] and float(r["stddev"]) == w["sd"]
    assert float(r["median"]) == w["median"] and float(r["min"]) == w["min"]
    assert float(r["max"]) == w["max"] and float(r["cv"]) == w["cv"]
    assert float(r["p95"]) == w["p95"] and float(r["p99"]) == w["p99"]
    assert float(r["user"]) == j["user_s"]["mean"] and float(r["system"]) == j["sys_s"]["mean"]
    assert int(r["runs"]) == j["runs"] == 5
    assert "e" not in r["mean"].lower()
print(len(rows))'
	assert_output 4
	grep -q '^"a,b",' r.csv
	grep -q '^"say ""hi""",' r.csv
	# One run: no standard deviation, an empty field as in hyperfine.
	run -0 perf-bench -r 1 --export-csv one.csv -- true
	sed -n 2p one.csv | grep -q '^true,[0-9.]*,,'
	run -4 --separate-stderr perf-bench -r 3 --export-csv /nonexistent/dir/x.csv -- true
	[[ $stderr == *"cannot write '/nonexistent/dir/x.csv'"* ]]
}

@test "--outliers drop removes the runs beyond the modified z-score" {
	run -0 perf-bench -j -r 20 --outliers drop -- sleep 0.003
	echo "$output" | jq -e '.outliers.policy == "drop" and
	    (.times_s | length) == 20 and .wall_s.max <= (.times_s | max)'
}

@test "a full disk on stdout is an I/O error" {
	run -4 --separate-stderr bash -c 'perf-bench -r 3 -- true >/dev/full'
	[[ $stderr == *"perf-bench: write error on standard output: No space left on device"* ]]
}

@test "an early-closing reader ends perf-bench quietly (SIGPIPE)" {
	# 200 shell commands of 5 runs each: far more records than a pipe holds.
	args=()
	for i in $(seq 200); do args+=(": $i"); done
	run -141 bats_pipe perf-bench -j -s -w 0 -r 3 -- "${args[@]}" \| head -n1
	echo "$output" | jq -e '.type == "bench"'
}

@test "the man page's EXAMPLES run as printed, only shortened" {
	cd "$BATS_TEST_TMPDIR"
	printf '#!/bin/sh\necho step\n' >step
	chmod +x step
	mapfile -d '' ex < <(pk_man_examples perf-bench)
	[ "${#ex[@]}" -eq 5 ] || fail "the EXAMPLES changed: update this test"
	# Only the budgets and run counts are cut.
	run -0 bash -c "${ex[0]/-t 2s/-t 0.3s}"
	assert_line --regexp "^gzip -c -1 /etc/services: [0-9]+ runs"
	run -0 bash -c "${ex[1]/perf-bench /perf-bench -r 5 }"
	# Five runs of each on a busy machine need not tell 10 ms from 12 ms.
	assert_line --regexp "^  (fast|slow): [0-9.]+ ± [0-9.]+ times the reference"
	run -0 bash -c "${ex[2]/-r 30/-r 5}"
	jq -e '.name == "step" and .runs == 5' base.jsonl
	# The same 1 ms script again: a busy shared machine can make it 10%
	# slower between the two runs, which the gate rightly calls a regression.
	run bash -c "${ex[3]/-r 30/-r 5}"
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	assert_line --regexp "^  step: .* times the baseline .*: (no regression|faster|REGRESSION)$"
	run -0 bash -c "${ex[4]/-r 50/-r 4}"
	assert_line "./step (under stress): 4 runs"
}

@test "the example CI gate records, passes unchanged and fails a regression" {
	base=$BATS_TEST_TMPDIR/gate.jsonl
	export RUNS=20
	run -0 "$ROOT/examples/perf-bench-ci-gate.sh" "$base" sleep 0.05
	[ -s "$base" ]
	SUMMARY=$BATS_TEST_TMPDIR/summary.md run -0 "$ROOT/examples/perf-bench-ci-gate.sh" "$base" sleep 0.05
	grep -q '^| `gate` | quiet | 20 |' "$BATS_TEST_TMPDIR/summary.md"
	run -1 "$ROOT/examples/perf-bench-ci-gate.sh" "$base" sleep 0.08
	assert_line --partial "REGRESSION"
}

@test "--push: a group per command, the values of --export-json" {
	pk_start_pushgateway
	# Names of this run only (the Pushgateway may keep older groups); a
	# '/' and a quote take pk_push's base64 and the label's escapes.
	a="fast $$" b="a/b \"q\" $$"
	run -0 --separate-stderr perf-bench -r 5 --stress 1x -n "$a" -n "$b" \
	    --export-json "$BATS_TEST_TMPDIR/r.jsonl" --push "$PUSHGW_URL" \
	    -- sleep 0.01 ::: true
	[ -z "$stderr" ] || fail "$stderr"
	pushed_groups >"$BATS_TEST_TMPDIR/pg.json"
	# Every statistic of every record, each pushed to the nanosecond.
	run -0 jq -n -r --slurpfile recs "$BATS_TEST_TMPDIR/r.jsonl" \
	    --slurpfile pg "$BATS_TEST_TMPDIR/pg.json" --arg host "$(hostname)" '
	    def val($g; $m; $phase):
	        $g["perf_bench_" + $m].metrics[] |
	        select(.labels.phase == $phase) | .value | tonumber;
	    $recs[] as $r |
	    [$pg[0][] | select(.labels.command == $r.name and
	        .labels.instance == $host)] as $gs |
	    if ($gs | length) != 1 then "\($r.name): \($gs | length) groups"
	    else $gs[0] as $g |
	        ([["mean", "mean"], ["median", "median"], ["p99", "p99"],
	          ["stddev", "sd"], ["min", "min"], ["max", "max"]][] |
	         . as [$m, $k] | val($g; $m + "_seconds"; $r.phase) as $v |
	         select(($v - $r.wall_s[$k]) | fabs > 5e-10) |
	         "\($r.name) \($r.phase) \($m): \($v) != \($r.wall_s[$k])"),
	        (select(val($g; "runs"; $r.phase) != $r.runs) |
	         "\($r.name) \($r.phase) runs"),
	        (select(val($g; "complete"; $r.phase) != 1) |
	         "\($r.name) \($r.phase) complete")
	    end'
	assert_output ""
	# Two commands, two phases, four records: each checked.
	run -0 jq -s 'length' "$BATS_TEST_TMPDIR/r.jsonl"
	assert_output 4
}

@test "--push: a Pushgateway that is down is status 4 after the report" {
	port=$(pk_free_port)
	run -4 --separate-stderr perf-bench -r 2 -j -n one -n two \
	    --push "http://127.0.0.1:$port" -- true ::: true
	echo "$output" | jq -e -s 'length == 2'
	assert_equal "$stderr" "perf-bench: cannot push to http://127.0.0.1:$port/metrics/job/perf-bench/instance/$(hostname)/command/one: Couldn't connect to server (1 more commands not pushed)"
	run -2 --separate-stderr perf-bench -r 2 --push ftp://x -- true
	[[ $stderr == "perf-bench: --push 'ftp://x': an http:// or https:// URL is expected" ]]
}

@test "the man page documents every family pushed, and no other" {
	pk_start_pushgateway
	run -0 --separate-stderr perf-bench -r 2 -n "doc $$" --push "$PUSHGW_URL" -- true
	pushed_groups | jq -r --arg n "doc $$" '.[] | select(.labels.command == $n) |
	    keys[] | select(startswith("perf_bench_"))' | sort >"$BATS_TEST_TMPDIR/pushed"
	[ -s "$BATS_TEST_TMPDIR/pushed" ]
	awk '/^\.Sh METRICS/ { on = 1; next } /^\.Sh / { on = 0 }
	    on && /^\.It Cm perf_bench_/ { sub(/^\.It Cm /, ""); gsub(/ , /, "\n"); print }' \
	    "$ROOT/man/perf-bench.1" | sort >"$BATS_TEST_TMPDIR/man"
	diff -u "$BATS_TEST_TMPDIR/pushed" "$BATS_TEST_TMPDIR/man"
}
