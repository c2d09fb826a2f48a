# Shared setup for the bats tests: load with `load common`.
# The binaries under test are first on PATH (tests/run-bats puts
# $PK_BUILD/bin there); fixtures live in tests/fixtures.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TESTS_DIR=$(cd "$(dirname "${BATS_TEST_FILENAME}")" && pwd)
FIXTURES=$TESTS_DIR/fixtures
ROOT=$(cd "$TESTS_DIR/.." && pwd)
: "${PK_BUILD:=$ROOT/build}"
PATH=$PK_BUILD/bin:$PATH
# make check-valgrind: wrappers that run each program under valgrind.
[ -z "${PK_WRAP_BIN:-}" ] || PATH=$PK_WRAP_BIN:$PATH
export PATH

# A free TCP port on 127.0.0.1.
pk_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Wait until a TCP port on 127.0.0.1 accepts connections (max $2 seconds).
pk_wait_port() {
	local port=$1 max=${2:-10} i=0
	while ! python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt $((max * 10)) ] || return 1
		sleep 0.1
	done
}

# Wait until a file exists and is non-empty (max $2 seconds).
pk_wait_file() {
	local f=$1 max=${2:-10} i=0
	while [ ! -s "$f" ]; do
		i=$((i + 1))
		[ "$i" -lt $((max * 10)) ] || return 1
		sleep 0.1
	done
}

# Stop a process we started, by PID, and reap it.
pk_stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# The SYNOPSIS of a man page as one line, and the usage of --help as one line.
pk_man_synopsis() {
	mandoc -Tascii -Owidth=300 "$ROOT/man/$1.1" | sed 's/.\x08//g' |
	    awk '/^SYNOPSIS/{on=1; next} /^[A-Z][A-Z ]+$/{on=0} on' |
	    tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

pk_help_usage() {
	"$1" --help | awk 'NR==1{sub(/^usage: */,"")} /^$/{exit} {print}' |
	    tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

# The commands of a man page's EXAMPLES, as printed, each ended by a NUL:
# .Dl lines and the lines of .Bd -literal blocks, "\e" made "\". In a
# block, an unindented line starts a command and an indented one continues
# it; where a block has "$ " prompts, only those lines start commands (the
# others are output) and the prompt is dropped.
pk_man_examples() {
	awk '
	function flush() { if (cmd != "") printf "%s%c", cmd, 0; cmd = "" }
	/^\.Sh EXAMPLES/ { on = 1; next }
	/^\.Sh / { on = 0 }
	!on { next }
	/^\.Dl / { flush(); line = substr($0, 5); sub(/^\$ /, "", line); cmd = line; flush(); next }
	/^\.Bd -literal/ { blk = 1; n = 0; next }
	/^\.Ed/ {
		blk = 0; prompt = 0
		for (i = 1; i <= n; i++) if (b[i] ~ /^\$ /) prompt = 1
		for (i = 1; i <= n; i++) {
			if (b[i] ~ /^[ \t]/) { if (cmd != "") cmd = cmd "\n" b[i]; continue }
			flush()
			if (prompt && b[i] !~ /^\$ /) continue
			line = b[i]; sub(/^\$ /, "", line); cmd = line
		}
		flush(); next
	}
	blk { gsub(/\\e/, "\\"); b[++n] = $0 }
	' "$ROOT/man/$1.1"
}

# Bats before 1.10 (Debian 12 has 1.8.2) lacks bats_pipe: the same for
# "a \| b", the status of the rightmost command that failed (pipefail).
if ! type bats_pipe >/dev/null 2>&1; then
	bats_pipe() {
		local -a left=()
		while [ $# -gt 0 ] && [ "$1" != "|" ]; do
			left+=("$1")
			shift
		done
		shift
		set -o pipefail
		"${left[@]}" | "$@"
	}
fi
