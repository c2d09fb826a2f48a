#!/usr/bin/env bats
# CI itself: .ci/run runs the README's test command, and a stage that
# fails is CI's failure (a failed `make check` once let CI exit 0).

load common

# A copy of .ci/run in a tree of its own, with README.md, and a `make`
# on PATH that logs each call and fails for the arguments in $FAIL_ON.
ci_sandbox() {
	local t=$BATS_TEST_TMPDIR/tree
	mkdir -p "$t/.ci" "$t/scripts" "$BATS_TEST_TMPDIR/bin"
	cp "$ROOT/.ci/run" "$t/.ci/run"
	cp "$ROOT/README.md" "$t/README.md"
	printf '#!/bin/sh\necho "deps $*" >>"%s"\n' "$BATS_TEST_TMPDIR/calls" >"$t/scripts/deps"
	cat >"$BATS_TEST_TMPDIR/bin/make" <<-EOS
	#!/bin/sh
	echo "make \$*" >>"$BATS_TEST_TMPDIR/calls"
	case " \$* " in *" \${FAIL_ON:-none} "*) echo "make: *** Error 1"; exit 2 ;; esac
	exit 0
	EOS
	chmod +x "$t/scripts/deps" "$BATS_TEST_TMPDIR/bin/make"
	: >"$BATS_TEST_TMPDIR/calls"
}

@test "CI runs the README's test command, then the valgrind pass" {
	ci_sandbox
	PATH=$BATS_TEST_TMPDIR/bin:$PATH run -0 sh "$BATS_TEST_TMPDIR/tree/.ci/run"
	assert_output --partial "ci: every stage passed"
	# The README names its test command after "Run every test".
	cmd=$(sed -n '/^Run every test/,/^    /{/^    /{s/^    //p;q}}' "$ROOT/README.md")
	[ -n "$cmd" ]
	assert_output --partial "==> ci: test: sh -c $cmd"
	run -0 cat "$BATS_TEST_TMPDIR/calls"
	assert_line --index 0 "deps --test"
	assert_line "make check"
	assert_line "make check SANITIZE=1"
	assert_line "make check-valgrind"
}

@test "CI fails when the first make check fails, and runs nothing after it" {
	ci_sandbox
	FAIL_ON=check PATH=$BATS_TEST_TMPDIR/bin:$PATH run -1 sh "$BATS_TEST_TMPDIR/tree/.ci/run"
	assert_output --partial "stage 'test' failed"
	refute_output --partial "every stage passed"
	run -0 cat "$BATS_TEST_TMPDIR/calls"
	refute_line "make check SANITIZE=1"
	refute_line "make check-valgrind"
}

@test "CI fails when the sanitizer pass or the valgrind pass fails" {
	ci_sandbox
	FAIL_ON=SANITIZE=1 PATH=$BATS_TEST_TMPDIR/bin:$PATH run -1 sh "$BATS_TEST_TMPDIR/tree/.ci/run"
	assert_output --partial "stage 'test' failed"
	ci_sandbox
	FAIL_ON=check-valgrind PATH=$BATS_TEST_TMPDIR/bin:$PATH run -1 sh "$BATS_TEST_TMPDIR/tree/.ci/run"
	assert_output --partial "stage 'valgrind' failed"
}

@test "CI fails when README.md gives no test command" {
	ci_sandbox
	sed -i '/^Run every test/,$d' "$BATS_TEST_TMPDIR/tree/README.md"
	PATH=$BATS_TEST_TMPDIR/bin:$PATH run -1 sh "$BATS_TEST_TMPDIR/tree/.ci/run"
	assert_output --partial "gives no test command"
	run -0 cat "$BATS_TEST_TMPDIR/calls"
	assert_output ""
}

@test "scripts/deps: an unknown option is a usage error" {
	run -2 "$ROOT/scripts/deps" --bogus
	assert_output --partial "usage: scripts/deps"
}
