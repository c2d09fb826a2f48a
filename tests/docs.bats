#!/usr/bin/env bats
# Documentation that cannot drift from the code: for every program, the man
# page is clean mdoc, its SYNOPSIS is the --help usage, every long option is
# documented, and --version and --list-options work.

load common

progs() {
	local f
	local d
	for f in "$ROOT"/cmd/*.c; do
		[ -e "$f" ] && basename "$f" .c
	done
	for d in "$ROOT"/cmd/*/; do
		[ -e "$d/main.c" ] && basename "$d"
	done
	return 0
}

@test "every program has a man page, a bats file, an example and completions" {
	for p in $(progs); do
		[ -f "$ROOT/man/$p.1" ] || fail "$p: no man page"
		[ -f "$ROOT/tests/$p.bats" ] || fail "$p: no bats file"
		ls "$ROOT"/examples/"$p"* >/dev/null 2>&1 || fail "$p: no example"
		grep -q "$p" "$ROOT/completions/perfkit.bash" || fail "$p: no bash completion"
		grep -q "$p" "$ROOT/completions/_perfkit" || fail "$p: no zsh completion"
		grep -q "$p" "$ROOT/completions/perfkit.fish" || fail "$p: no fish completion"
	done
}

@test "man pages are clean under mandoc -Tlint" {
	[ -n "$(progs)" ] || skip "no programs yet"
	run mandoc -Tlint -Werror "$ROOT"/man/*.1
	assert_success
	assert_output ""
}

@test "the SYNOPSIS of each man page is the usage printed by --help" {
	for p in $(progs); do
		man=$(pk_man_synopsis "$p")
		help=$(pk_help_usage "$p")
		[ "$man" = "$help" ] || fail "$p: man SYNOPSIS and --help differ:
man:  $man
help: $help"
	done
}

@test "every long option is documented in the man page" {
	for p in $(progs); do
		for o in $("$p" --list-options | grep '^--' | sed 's/=$//; s/^--//'); do
			grep -q "^\.It Fl -$o\b\|Fl -$o\b\|Fl \\\\-$o\b" "$ROOT/man/$p.1" ||
			    fail "$p: --$o is not in man/$p.1"
		done
	done
}

@test "--help goes to stdout with status 0, --version names the program" {
	for p in $(progs); do
		run -0 --separate-stderr "$p" --help
		assert_output --partial "usage: $p"
		[ -z "$stderr" ] || fail "$p --help wrote to stderr"
		run -0 "$p" --version
		assert_output --regexp "^$p \(perfkit\) [0-9]+\.[0-9]+\.[0-9]+$"
	done
}

@test "a bad option is a usage error: status 2, message on stderr" {
	for p in $(progs); do
		run -2 --separate-stderr "$p" --no-such-option
		[ -z "$output" ] || fail "$p: usage error wrote to stdout"
		[[ "$stderr" == *"usage: $p"* ]] || fail "$p: no usage on stderr: $stderr"
	done
}

@test "bash completion offers each program's long options" {
	for p in $(progs); do
		run -0 bash -c "source '$ROOT/completions/perfkit.bash'
			COMP_WORDS=($p --h); COMP_CWORD=1; _perfkit; printf '%s\n' \"\${COMPREPLY[@]}\""
		assert_line "--help"
	done
}

@test "fish and zsh completion files parse" {
	if command -v zsh >/dev/null; then
		run -0 zsh -n "$ROOT/completions/_perfkit"
	fi
	if command -v fish >/dev/null; then
		run -0 fish -n "$ROOT/completions/perfkit.fish"
	fi
}

@test "a number out of range is a usage error naming the option the same way in every program" {
	# program, option, a bad value: the message is "PROG: --OPTION 'VALUE' …".
	while read -r p o v; do
		run -2 --separate-stderr "$p" "$o" "$v"
		[[ "${stderr_lines[0]}" == "$p: $o '$v' "* ]] ||
		    fail "$p $o $v: ${stderr_lines[0]}"
	done <<-EOF
	perf-sample --interval 0
	perf-sample --count 0
	perf-profile --window 0
	perf-profile --interval x
	perf-profile --leak-window 0
	perf-alert --wait -1s
	perf-bench --max-runs 0
	perf-bench --runs 0
	perf-bench --warmup x
	perf-bench --stress 0x
	rt-loop --freq 0
	rt-loop --loops 0
	rt-loop --spin 0
	rt-loop --priority 100
	rt-loop --report-interval 0
	EOF
}
