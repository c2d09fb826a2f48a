#!/usr/bin/env bats
# Hostile clients against every program's --listen (lib/pk_httpd, on
# libmicrohttpd): a scrape flood, clients that never read or read a byte a
# second, other methods, a 1 MB header, paths outside /metrics. Each
# answer is the documented one (lib/pk_httpd.h), the server still serves
# /metrics afterwards, the program's records keep flowing while the
# hostile clients are at it, and at the end no record is lost. Counts,
# never times.

load common

QF=$FIXTURES/perf-qualityctl
PIDS=()

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		pk_stop_pid "$p"
	done
	exec 4>&- 2>/dev/null || true
}

# The programs with --listen: one line each, "NAME KIND COMMAND"; the test
# appends --listen 127.0.0.1:PORT. KIND says how records are counted:
#   filter  records written to its standard input come out, every one
#   source  it writes records itself: they keep coming, each whole
#   loop    a source that ends with rt-loop's summary: every cycle counted
#           in the interval records and in the final exposition, none
#           dropped
# perf-sample needs -f json to write records beside --listen.
programs() {
	cat <<-EOF
	rt-loop loop rt-loop -f 1000 --report-interval 50ms --textfile $D/rt.prom
	perf-profile filter perf-profile -i 1s
	perf-qualityctl filter perf-qualityctl -n -c $QF/quality.yaml -d $D/quality-state
	perf-sample source perf-sample -f json -i 100ms -m cpu,mem
	perf-alert filter perf-alert -c $D/alert.yaml -s $D/alert-state -w 0
	EOF
}

# N sample records of host bot1 from second $2 on, one a second of event time.
samples() {
	awk -v n="$1" -v s="$2" 'BEGIN { for (i = 0; i < n; i++)
	    printf "{\"type\":\"sample\",\"ts\":%d.25,\"host\":\"bot1\",\"interval_s\":1,\"cpu\":{\"util\":%d},\"mem\":{\"used_pct\":41.5}}\n",
	        1732300000 + s + i, 20 + (s + i) % 60 }'
}

# The records out so far (a filter's: the samples it passed).
records_out() {
	case $KIND in
	filter) grep -c '"type":"sample"' "$D/out" || true ;;
	*) wc -l <"$D/out" ;;
	esac
}

# Start program line $1 serving on a fresh port; sets PORT, PID, KIND, NAME
# and, for a filter, descriptor 4 its input; IN counts the records sent.
serve() {
	local cmd
	read -r NAME KIND cmd <<<"$1"
	PORT=$(pk_free_port)
	IN=0
	: >"$D/out"
	if [ "$KIND" = filter ]; then
		rm -f "$D/in"
		mkfifo "$D/in"
		$cmd -u --listen "127.0.0.1:$PORT" <"$D/in" >"$D/out" 2>"$D/err" 3>&- &
		PID=$!
		exec 4>"$D/in"
	else
		$cmd --listen "127.0.0.1:$PORT" >"$D/out" 2>"$D/err" 3>&- &
		PID=$!
	fi
	PIDS+=($PID)
	pk_wait_port "$PORT" 30 || fail "$NAME: nothing listens on $PORT: $(cat "$D/err")"
}

# The records keep flowing: a filter passes N more records it is fed, a
# source writes N more (max 60 s).
flows() {
	local want i=0
	if [ "$KIND" = filter ]; then
		samples "$1" "$IN" >&4
		IN=$((IN + $1))
		want=$IN
	else
		want=$(($(records_out) + $1))
	fi
	until [ "$(records_out)" -ge "$want" ]; do
		i=$((i + 1))
		[ "$i" -lt 600 ] || fail "$NAME: the records stopped at $(records_out) of $want"
		sleep 0.1
	done
}

# GET /metrics answers 200 with the program's exposition.
scrape_ok() {
	run -0 curl -sS -o "$D/body" -w '%{http_code}' "http://127.0.0.1:$PORT/metrics"
	assert_output 200
	grep -q '^# TYPE ' "$D/body" || fail "$NAME: no exposition: $(head -c 200 "$D/body")"
}

# End the program; every record accounted for.
finish() {
	local st=0 n
	if [ "$KIND" = filter ]; then
		exec 4>&-
	else
		kill -INT "$PID"
	fi
	wait "$PID" || st=$?
	PIDS=()
	[ "$st" -eq 0 ] || fail "$NAME: status $st: $(cat "$D/err")"
	[ ! -s "$D/err" ] || fail "$NAME: $(cat "$D/err")"
	# Every line a whole record.
	n=$(jq -c . "$D/out" | wc -l) || fail "$NAME: a torn record"
	assert_equal "$n" "$(wc -l <"$D/out")"
	case $KIND in
	filter)
		assert_equal "$(records_out)" "$IN"
		# In order, unchanged.
		samples "$IN" 0 | jq -c . >"$D/in.c"
		jq -c 'select(.type == "sample")' "$D/out" | diff -q "$D/in.c" - ;;
	loop)
		ticks=$(jq 'select(.event == "summary") | .ticks' "$D/out")
		[ "$ticks" -gt 0 ]
		assert_equal "$(jq 'select(.event == "summary") | .dropped' "$D/out")" 0
		assert_equal "$(jq -s '[.[] | select(.event == "interval") | .ticks] | add' "$D/out")" "$ticks"
		assert_equal "$(awk '$1 == "rt_operations_total" { print $2 }' "$D/rt.prom")" "$ticks"
		assert_equal "$(awk '$1 == "rt_wakeup_latency_seconds_count" { print $2 }' "$D/rt.prom")" "$ticks" ;;
	esac
}

# For every program: serve, records through, the hostile case $1 (a
# function of the port), records through again, /metrics still served,
# the end with nothing lost.
each_program() {
	local line
	D=$BATS_TEST_TMPDIR
	printf 'rules:\n  - name: hot\n    match: {type: sample}\n    when: cpu.util > 90\n    severity: warning\n' \
	    >"$D/alert.yaml"
	while read -r line; do
		serve "$line"
		flows 5
		"$@"
		flows 5
		scrape_ok
		finish
	done < <(programs)
}

# HOW N: N connections to PORT opened at once, then a GET /metrics on
# each, then every answer read; prints the status codes, counted.
concurrent() {
	python3 - "$PORT" "$1" <<-'EOF'
	import collections, socket, sys
	port, n = int(sys.argv[1]), int(sys.argv[2])
	socks = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(n)]
	for s in socks:
	    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	codes = collections.Counter()
	for s in socks:
	    data = b""
	    while True:
	        b = s.recv(65536)
	        if not b:
	            break
	        data += b
	    s.close()
	    head, _, body = data.partition(b"\r\n\r\n")
	    code = head.split(b" ")[1].decode() if head else "none"
	    if code == "200" and b"# TYPE " not in body:
	        code = "200-empty"
	    codes[code] += 1
	for c, k in sorted(codes.items()):
	    print(c, k)
	EOF
}

flood() {
	# 200 at once, under PK_HTTPD_MAX_CONN (256): all served.
	run -0 concurrent 200
	assert_output "200 200"
	flows 3
	# 300, over the cap: the extra wait in the listen backlog and are
	# served as connections free up (lib/pk_httpd.h), never refused.
	run -0 concurrent 300
	assert_output "200 300"
}

@test "200 concurrent scrapes are all answered 200, 300 (over the cap of 256) too; the records flow" {
	grep -q '^#define PK_HTTPD_MAX_CONN 256$' "$ROOT/lib/pk_httpd.h"
	each_program flood
}

# Clients that stall: 8 that send a request and never read, with a small
# receive buffer; one that reads a byte a second; one that sends its
# request a byte a second (a slow loris). They stay while the records
# flow and 50 other scrapes are answered.
stalled() {
	python3 - "$PORT" "$D/stalled.ready" 2>"$D/stalled.err" <<-'EOF' &
	import socket, sys, threading, time
	port = int(sys.argv[1])
	def conn():
	    s = socket.socket()
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256)
	    s.connect(("127.0.0.1", port))
	    return s
	never = [conn() for _ in range(8)]
	for s in never:
	    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
	trickle, loris = conn(), conn()
	trickle.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
	open(sys.argv[2], "w").write("ready\n")
	req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
	for i in range(3000):
	    try:
	        trickle.recv(1)
	        loris.send(req[i % len(req):i % len(req) + 1])
	    except OSError:
	        pass
	    time.sleep(1)
	EOF
	slow=$!
	PIDS+=($slow)
	pk_wait_file "$D/stalled.ready" 30 || fail "$NAME: the slow clients: $(cat "$D/stalled.err")"
	flows 5
	ok=0
	for i in $(seq 50); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")" = 200 ] &&
		    ok=$((ok + 1))
	done
	assert_equal "$ok" 50
	flows 5
	kill "$slow"
	wait "$slow" || true
	PIDS=("$PID")
	rm -f "$D/stalled.ready"
}

@test "clients that never read, read a byte a second or send a byte a second stall neither the scrapes nor the records" {
	each_program stalled
}

methods() {
	local m
	for m in POST PUT DELETE PATCH OPTIONS; do
		run -0 curl -sS -D "$D/h" -o "$D/body" -w '%{http_code}' -X "$m" \
		    --data x "http://127.0.0.1:$PORT/metrics"
		assert_output 405
		grep -qix $'allow: GET, HEAD\r' "$D/h" || fail "$NAME $m: $(cat "$D/h")"
	done
	run -0 curl -sS -I -o "$D/h" -w '%{http_code}' "http://127.0.0.1:$PORT/metrics"
	assert_output 200
	grep -qi '^content-type: text/plain; version=0.0.4' "$D/h"
	run -0 curl -sS -I -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$PORT/healthz"
	assert_output "200 0"
}

@test "POST, PUT, DELETE, PATCH, OPTIONS get 405 with Allow: GET, HEAD; HEAD is answered" {
	each_program methods
}

big_header() {
	run -0 python3 - "$PORT" <<-'EOF'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
	try:
	    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
	except OSError:
	    pass	# the server answered and closed before the megabyte was in
	data = b""
	try:
	    while True:
	        b = s.recv(65536)
	        if not b:
	            break
	        data += b
	except OSError:
	    pass
	print(data.split(b"\r\n", 1)[0].decode())
	EOF
	# libmicrohttpd's answer to headers over PK_HTTPD_MEM (32 KiB).
	assert_output "HTTP/1.1 431 Request Header Fields Too Large"
	# A URL of 1 MB: the same.
	run -0 python3 - "$PORT" <<-'EOF'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
	try:
	    s.sendall(b"GET /metrics?" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
	except OSError:
	    pass
	data = b""
	try:
	    while True:
	        b = s.recv(65536)
	        if not b:
	            break
	        data += b
	except OSError:
	    pass
	print(data.split(b"\r\n", 1)[0].decode())
	EOF
	[[ $output == "HTTP/1.1 414 "* || $output == "HTTP/1.1 431 "* ]] || fail "$NAME: $output"
}

@test "a 1 MB request header gets 431, a 1 MB URL 414 or 431; the server survives" {
	each_program big_header
}

paths() {
	local p
	for p in / /healthz; do
		run -0 curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$p"
		assert_output 200
	done
	for p in /x /metrics/ /metricsx /metrics/../etc/passwd /%2e%2e/etc/passwd /api/v1/query /favicon.ico; do
		run -0 curl -sS --path-as-is -o "$D/body" -w '%{http_code}' "http://127.0.0.1:$PORT$p"
		assert_output 404
		! grep -q '^# TYPE' "$D/body" || fail "$NAME: $p served the exposition"
	done
	# Not HTTP at all: the connection is dropped or answered 400.
	run -0 python3 - "$PORT" <<-'EOF'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
	s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n")
	try:
	    print((s.recv(100).split(b"\r\n", 1)[0] or b"closed").decode())
	except OSError:
	    print("closed")
	EOF
	[[ $output == closed || $output == "HTTP/1.1 400 "* ]] || fail "$NAME: $output"
}

@test "paths outside /metrics, /healthz and / get 404, and garbage is refused; the server survives" {
	each_program paths
}
