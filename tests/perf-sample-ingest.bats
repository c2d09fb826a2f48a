#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# perf-sample --ingest: application metrics from datagram sockets. The
# tests count datagrams and records; they never time anything.

load common

SEND=$TESTS_DIR/helpers/perf-sample-ingest-send.py

setup() {
	D=$BATS_TEST_TMPDIR/run
	PID=
}

teardown() {
	[ -z "$PID" ] || pk_stop_pid "$PID"
}

# Start perf-sample with the given options in the background.
start_sample() {
	perf-sample -m cpu "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	PID=$!
}

wait_socket() {
	local i=0
	while [ ! -S "$1" ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "no socket $1"
		sleep 0.1
	done
}

# Stop it with SIGTERM; its status in $STATUS.
stop_sample() {
	kill -TERM "$PID"
	STATUS=0
	wait "$PID" || STATUS=$?
	PID=
}

@test "ingest: 10,000 datagrams/s from 4 senders for 10 s, every one accounted for" {
	start_sample -i 1s --ingest "unix:$D/s" --ingest-max 6000
	wait_socket "$D/s"
	# The socket and its directory.
	[ "$(stat -c %a "$D")" = 700 ]
	[ "$(stat -c %a "$D/s")" = 660 ]
	run -0 python3 "$SEND" "unix:$D/s" 4 10000 10 97
	read -r _ sent _ badsent <<<"$output"
	[ "$sent" -eq 100000 ]
	stop_sample
	[ "$STATUS" -eq 3 ]
	# The ingest records add up to what was sent.
	read -r dg rec bad drop <<<"$(jq -rs '[.[] | select(.type == "ingest")] |
	    "\(map(.datagrams) | add) \(map(.records) | add) \(map(.bad) | add) \(map(.dropped) | add)"' \
	    "$BATS_TEST_TMPDIR/out")"
	echo "sent $sent bad sent $badsent: datagrams $dg records $rec bad $bad dropped $drop"
	[ "$dg" -eq "$sent" ]
	[ "$((rec + bad + drop))" -eq "$dg" ]
	[ "$bad" -gt 0 ] && [ "$bad" -le "$badsent" ]
	# A dropped datagram was never parsed: the bad ones not dropped are bad.
	[ "$rec" -eq "$(jq -c 'select(.type == "metric")' "$BATS_TEST_TMPDIR/out" | wc -l)" ]
	# No interval accepted more than the cap.
	run -0 jq -s '[.[] | select(.type == "ingest") | .datagrams - .dropped] | max' "$BATS_TEST_TMPDIR/out"
	[ "$output" -le 6000 ]
	# The final line on stderr agrees.
	grep -q "ingest: $dg datagrams, $rec records, $bad bad, $drop dropped over the cap" "$BATS_TEST_TMPDIR/err"
	# The bad ones, each kind.
	grep -q "neither JSON nor StatsD" "$BATS_TEST_TMPDIR/out"
	grep -q "over 65536 bytes" "$BATS_TEST_TMPDIR/out"
	grep -q "binary datagram" "$BATS_TEST_TMPDIR/out"
	# The socket is gone at the end.
	[ ! -e "$D/s" ]
}

@test "ingest: StatsD and JSON lines become metric records" {
	start_sample -i 200ms --ingest "unix:$D/s"
	wait_socket "$D/s"
	python3 - "$D/s" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(sys.argv[1])
for m in [b"lane_detector.fps:29.5|g",
          b"lane_detector.latency:41|ms|#cam:front",
          b"app.frames:3|c\napp.frames:1|c|@0.5",
          b"planner.stage.queue:4|g|#component:planner",
          b'{"type":"metric","ts":1732300000.5,"host":"bot1","component":"cam","fps":30}',
          b'{"type":"metric","component":"nots","fps":12}']:
    s.send(m)
PY
	for _ in $(seq 100); do
		# All 7 records, then a sample (its ingest record) after them.
		[ "$(grep -c '"type":"metric"' "$BATS_TEST_TMPDIR/out")" -ge 7 ] &&
		    tail -n 1 "$BATS_TEST_TMPDIR/out" | grep -q '"type":"ingest"' && break
		sleep 0.1
	done
	stop_sample
	[ "$STATUS" -eq 0 ]
	O=$BATS_TEST_TMPDIR/out
	run -0 jq -c 'select(.component == "lane_detector") | del(.ts, .host)' "$O"
	assert_output '{"type":"metric","component":"lane_detector","fps":29.5}
{"type":"metric","component":"lane_detector","latency_ms":41,"tags":{"cam":"front"}}'
	run -0 jq -c 'select(.component == "app") | .frames_total' "$O"
	assert_output $'3\n5'
	run -0 jq -c 'select(.component == "planner") | del(.ts, .host)' "$O"
	assert_output '{"type":"metric","component":"planner","stage_queue":4}'
	# Its own ts and host are kept.
	run -0 jq -c 'select(.component == "cam")' "$O"
	assert_output '{"type":"metric","ts":1732300000.5,"host":"bot1","component":"cam","fps":30}'
	# Without: the arrival time on the samples' clock: before the sample
	# that follows it in the stream, within its interval and a second.
	run -0 jq -rs '(map(.component == "nots") | index(true)) as $i |
	    .[$i].ts as $t | (.[$i:] | map(select(.type == "sample"))[0].ts) as $s |
	    "\($t) \($s) \($t <= $s and $t > $s - 1.2)"' "$O"
	echo "$output"
	output=${output##* }
	assert_output true
	run -0 jq -r 'select(.component == "nots") | .host' "$O"
	assert_output "$(hostname)"
}

@test "ingest: UDP on 127.0.0.1, several lines in one datagram" {
	port=$(pk_free_port)
	start_sample -i 200ms --ingest "udp:127.0.0.1:$port"
	python3 - "$port" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# Until perf-sample has bound the port, datagrams are lost: send a few.
for i in range(50):
    s.sendto(b"udp_app.fps:%d|g\nudp_app.q:1|g" % i, ("127.0.0.1", int(sys.argv[1])))
    time.sleep(0.1)
PY
	stop_sample
	[ "$STATUS" -eq 0 ]
	run -0 jq -s '[.[] | select(.component == "udp_app" and .q == 1)] | length' "$BATS_TEST_TMPDIR/out"
	[ "$output" -gt 0 ]
	run -0 jq -s '[.[] | select(.type == "ingest") | .records] | add' "$BATS_TEST_TMPDIR/out"
	[ "$output" -eq "$(jq -c 'select(.component == "udp_app")' "$BATS_TEST_TMPDIR/out" | wc -l)" ]
}

@test "ingest: perf-profile sees the component" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	perf-profile -i 1s <"$BATS_TEST_TMPDIR/fifo" >"$BATS_TEST_TMPDIR/out" &
	PROF=$!
	perf-sample -m cpu -i 200ms --ingest "unix:$D/s" >"$BATS_TEST_TMPDIR/fifo" \
	    2>"$BATS_TEST_TMPDIR/err" &
	PID=$!
	wait_socket "$D/s"
	python3 - "$D/s" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(sys.argv[1])
for i in range(40):
    s.send(b"lane_detector.fps:%d|g\nlane_detector.latency:%d|ms" % (25 + i % 5, 40 + i % 3))
    time.sleep(0.1)
PY
	for _ in $(seq 200); do
		grep -q '"type":"profile".*"component":"lane_detector"' "$BATS_TEST_TMPDIR/out" && break
		sleep 0.1
	done
	stop_sample
	[ "$STATUS" -eq 0 ]
	wait "$PROF"
	run -0 jq -c 'select(.type == "profile" and .component == "lane_detector") | [has("fps"), has("latency_ms")] | all' "$BATS_TEST_TMPDIR/out"
	assert_line 'true'
}

@test "ingest: a directory of someone else or writable by others is refused" {
	mkdir -m 777 "$BATS_TEST_TMPDIR/open"
	run -4 perf-sample -n 1 --ingest "unix:$BATS_TEST_TMPDIR/open/s"
	assert_output --partial "writable by group or others"
	mkdir -m 700 "$BATS_TEST_TMPDIR/theirs"
	chown nobody "$BATS_TEST_TMPDIR/theirs"
	run -4 perf-sample -n 1 --ingest "unix:$BATS_TEST_TMPDIR/theirs/s"
	assert_output --partial "perf-sample: --ingest"
	run -2 perf-sample -n 1 --ingest "tcp:1.2.3.4:5"
	assert_output --partial "expected unix:PATH or udp:ADDR:PORT"
	run -2 perf-sample -n 1 -f prom --ingest "unix:$D/s"
	assert_output --partial "--ingest: the metric records go"
}

@test "ingest: the example sends StatsD over UDP into perf-profile" {
	port=$(pk_free_port)
	"$ROOT/examples/perf-sample-ingest.sh" "$port" 3 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	O=$BATS_TEST_TMPDIR/out
	cat "$BATS_TEST_TMPDIR/err"
	[ "$(jq -c 'select(.type == "metric" and .component == "camera" and .fps > 0)' "$O" | wc -l)" -gt 0 ]
	[ "$(jq -c 'select(.type == "metric" and .component == "camera" and .frames_total > 0)' "$O" | wc -l)" -gt 0 ]
	[ "$(jq -c 'select(.type == "profile" and .component == "camera" and .fps.mean > 0)' "$O" | wc -l)" -gt 0 ]
}
