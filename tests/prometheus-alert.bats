#!/usr/bin/env bats
# perf-alert's Prometheus exposition: promtool checks what is written,
# the man page is held against the families, the figures against the
# alert records; a receiver that refuses everything shows in the
# counters and the spool's age; then real servers (tests/prom.bash):
# Prometheus scrapes --listen in a live pipeline and sees the alert
# firing, a Pushgateway receives --push, and no record is lost. Counts,
# never times.

load common
load prom

HTTPD=$TESTS_DIR/helpers/perf-alert-http.py
PIDS=()

teardown() {
	pk_prom_teardown
}

# The HTTP receiver on a free port: sets HTTP_PORT; answers 503 while
# $BATS_TEST_TMPDIR/fail exists.
start_http() {
	HTTP_PORT=$(pk_free_port)
	python3 "$HTTPD" "$HTTP_PORT" "$BATS_TEST_TMPDIR/posts.jsonl" \
	    "$BATS_TEST_TMPDIR/fail" "$BATS_TEST_TMPDIR/hang" 3>&- &
	PIDS+=($!)
	pk_wait_port "$HTTP_PORT" 10
}

# Rules over cpu.util of host bot1 (a sample a second from ts 1000):
# hot fires above 90 after 2 s and escalates every 5 s; warm fires above
# 50 at once, per component, with labels of its own; one receiver.
rules() {
	cat >"$BATS_TEST_TMPDIR/r.yaml" <<-EOF
	state_dir: $BATS_TEST_TMPDIR/st
	retry_min: 100ms
	retry_max: 200ms
	rules:
	  - name: hot
	    match: {type: sample}
	    when: cpu.util > 90
	    for: 2s
	    severity: WARNING
	    escalate: {after: 5s, max: CRITICAL}
	    labels: {team: robot}
	  - name: warm
	    match: {type: metric}
	    when: load > 50
	    severity: INFO
	    labels: {severity: page, "not-a-label": x, host: other, tier: "1"}
	receivers:
	  - name: hook
	    type: webhook
	    url: "http://127.0.0.1:${1:-1}/hook"
	EOF
}

# N seconds of samples from ts 1000 at UTIL, and a metric record of
# component cam at 60 then 40 (warm fires, then resolves), and lane at 70.
records() {
	awk -v n="$1" -v u="$2" 'BEGIN {
	    for (i = 0; i < n; i++)
		printf "{\"type\":\"sample\",\"ts\":%d,\"host\":\"bot1\",\"cpu\":{\"util\":%d}}\n", 1000 + i, u
	    printf "{\"type\":\"metric\",\"ts\":1001,\"host\":\"bot1\",\"component\":\"cam\",\"load\":60}\n"
	    printf "{\"type\":\"metric\",\"ts\":1002,\"host\":\"bot1\",\"component\":\"cam\",\"load\":40}\n"
	    printf "{\"type\":\"metric\",\"ts\":1003,\"host\":\"bot1\",\"component\":\"lane\",\"load\":70}\n"
	}'
}

@test "promtool accepts the exposition; the man page lists every family written, and no other" {
	rules
	records 10 95 >"$BATS_TEST_TMPDIR/in.jsonl"
	tf=$BATS_TEST_TMPDIR/a.prom
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" \
	    -w 300ms --textfile "$tf" "$BATS_TEST_TMPDIR/in.jsonl"
	run -0 promtool check metrics <"$tf"
	assert_output ""
	pk_prom_written "$tf" >"$BATS_TEST_TMPDIR/written"
	pk_prom_documented perf-alert >"$BATS_TEST_TMPDIR/man"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/written")" -eq 11 ]
	diff -u "$BATS_TEST_TMPDIR/written" "$BATS_TEST_TMPDIR/man"
	run -0 grep -c '^# HELP perfkit_alert_' "$tf"
	assert_output 11
}

@test "the exposition says what the alert records say" {
	rules
	{ records 10 95; echo 'not json'; } >"$BATS_TEST_TMPDIR/in.jsonl"
	tf=$BATS_TEST_TMPDIR/a.prom
	run -3 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" \
	    -w 300ms --textfile "$tf" "$BATS_TEST_TMPDIR/in.jsonl"
	out=$BATS_TEST_TMPDIR/out.jsonl
	echo "$output" >"$out"
	ev() { jq -s --arg e "$1" '[.[] | select(.type == "alert" and .event == $e)] | length' "$out"; }
	assert_equal "$(ev pending)" 1
	assert_equal "$(ev escalated)" 1
	assert_equal "$(pk_prom_sample 'perfkit_alert_transitions_total{state="pending"}' "$tf")" "$(ev pending)"
	assert_equal "$(pk_prom_sample 'perfkit_alert_transitions_total{state="firing"}' "$tf")" "$(ev firing)"
	assert_equal "$(pk_prom_sample 'perfkit_alert_transitions_total{state="resolved"}' "$tf")" "$(ev resolved)"
	assert_equal "$(pk_prom_sample perfkit_alert_escalations_total "$tf")" "$(ev escalated)"
	assert_equal "$(pk_prom_sample perfkit_alert_acknowledgements_total "$tf")" 0
	assert_equal "$(pk_prom_sample perfkit_alert_records_read_total "$tf")" 13
	assert_equal "$(pk_prom_sample perfkit_alert_bad_lines_total "$tf")" 1
	# The alerts still firing, labelled as Alertmanager gets them: hot
	# escalated to critical, warm of lane with the rule's own severity;
	# cam resolved; the rule's labels that are no label names, or that
	# would take the place of perf-alert's, left out.
	run -0 grep '^perfkit_alert_alerts{' "$tf"
	assert_output "$(printf '%s\n' \
	    'perfkit_alert_alerts{alertname="hot",host="bot1",severity="critical",state="firing",team="robot"} 1' \
	    'perfkit_alert_alerts{alertname="warm",component="lane",host="bot1",severity="page",state="firing",tier="1"} 1')"
	# The receiver at a closed port: every attempt failed, nothing went.
	assert_equal "$(pk_prom_sample 'perfkit_alert_notifications_total{receiver="hook"}' "$tf")" 0
	[ "$(pk_prom_sample 'perfkit_alert_notifications_failed_total{receiver="hook"}' "$tf")" -ge 1 ]
	# firing hot, escalated hot, firing and resolved cam, firing lane.
	assert_equal "$(pk_prom_sample 'perfkit_alert_spool_notifications{receiver="hook"}' "$tf")" 5
	assert_equal "$(ls "$BATS_TEST_TMPDIR/st/spool" | wc -l)" 5
	assert_equal "$(pk_prom_sample perfkit_alert_notifications_lost_total "$tf")" 0
}

@test "a pending alert is state=\"pending\"; no receiver, no receiver families" {
	printf 'rules:\n  - {name: hot, when: cpu.util > 90, for: 1m, severity: EMERGENCY}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	printf '{"type":"sample","ts":5,"host":"bot1","cpu":{"util":99}}\n' >"$BATS_TEST_TMPDIR/in.jsonl"
	tf=$BATS_TEST_TMPDIR/a.prom
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" --textfile "$tf" "$BATS_TEST_TMPDIR/in.jsonl"
	run -0 promtool check metrics <"$tf"
	run -0 grep '^perfkit_alert_alerts{' "$tf"
	assert_output 'perfkit_alert_alerts{alertname="hot",host="bot1",severity="emergency",state="pending"} 1'
	run -1 grep -E 'receiver=|_lost_total' "$tf"
}

@test "more alerts than the series cap: the cap, one warning, the other families kept" {
	# Two rules, 5025 label sets each (a rule keeps at most 10000).
	printf 'rules:\n  - {name: busy, match: {type: metric}, when: load > 1}\n  - {name: busy2, match: {type: metric}, when: load > 1}\n' >"$BATS_TEST_TMPDIR/r.yaml"
	awk 'BEGIN { for (i = 0; i < 5025; i++)
	    printf "{\"type\":\"metric\",\"ts\":%d,\"host\":\"bot1\",\"component\":\"c%d\",\"load\":5}\n", 1000 + i / 100, i }' \
	    >"$BATS_TEST_TMPDIR/in.jsonl"
	tf=$BATS_TEST_TMPDIR/a.prom
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" --textfile "$tf" "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$(grep -c '"event":"firing"' <<<"$output")" -eq 10050 ]
	[ "$(grep -c 'series in one Prometheus exposition' <<<"$stderr")" -eq 1 ] || fail "$stderr"
	[ "$(grep -vc '^#' "$tf")" -eq 10000 ]
	assert_equal "$(pk_prom_sample perfkit_alert_records_read_total "$tf")" 5025
	assert_equal "$(pk_prom_sample 'perfkit_alert_transitions_total{state="firing"}' "$tf")" 10050
	run -0 promtool check metrics <"$tf"
}

@test "a receiver that refuses everything: failed attempts grow, the spool's oldest ages" {
	start_http
	touch "$BATS_TEST_TMPDIR/fail"
	rules "$HTTP_PORT"
	port=$(pk_free_port)
	mkfifo "$BATS_TEST_TMPDIR/in"
	perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" --listen "127.0.0.1:$port" \
	    <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	PIDS+=($!)
	exec 4>"$BATS_TEST_TMPDIR/in"
	printf '{"type":"sample","ts":1000,"host":"bot1","cpu":{"util":95}}\n{"type":"sample","ts":1003,"host":"bot1","cpu":{"util":95}}\n' >&4
	pk_wait_port "$port" 30
	m=$BATS_TEST_TMPDIR/m.prom
	failed() {
		curl -fsS "http://127.0.0.1:$port/metrics" >"$m"
		pk_prom_sample 'perfkit_alert_notifications_failed_total{receiver="hook"}' "$m"
	}
	# Retried every 100-200 ms, refused each time: the count grows.
	i=0
	until [ "$(failed)" -ge 3 ] 2>/dev/null; do
		i=$((i + 1)); [ "$i" -lt 300 ] || fail "failed: $(failed) $(cat "$BATS_TEST_TMPDIR/err")"; sleep 0.1
	done
	f1=$(failed)
	i=0
	until [ "$(failed)" -gt "$f1" ]; do
		i=$((i + 1)); [ "$i" -lt 300 ] || fail "failed stays at $f1"; sleep 0.1
	done
	assert_equal "$(pk_prom_sample 'perfkit_alert_notifications_total{receiver="hook"}' "$m")" 0
	assert_equal "$(pk_prom_sample 'perfkit_alert_spool_notifications{receiver="hook"}' "$m")" 1
	# The age of the one waiting, refreshed while the input is idle.
	i=0
	until awk '$1 == "perfkit_alert_spool_oldest_age_seconds{receiver=\"hook\"}" { exit !($2 > 0) }' "$m"; do
		i=$((i + 1)); [ "$i" -lt 300 ] || fail "no age: $(grep oldest "$m")"; sleep 0.1
		curl -fsS "http://127.0.0.1:$port/metrics" >"$m"
	done
	# Accepted at last: delivered once, nothing waits, the age is 0.
	rm "$BATS_TEST_TMPDIR/fail"
	i=0
	until curl -fsS "http://127.0.0.1:$port/metrics" >"$m" &&
	    [ "$(pk_prom_sample 'perfkit_alert_notifications_total{receiver="hook"}' "$m")" = 1 ]; do
		i=$((i + 1)); [ "$i" -lt 300 ] || fail "not delivered: $(grep hook "$m")"; sleep 0.1
	done
	assert_equal "$(pk_prom_sample 'perfkit_alert_spool_notifications{receiver="hook"}' "$m")" 0
	assert_equal "$(pk_prom_sample 'perfkit_alert_spool_oldest_age_seconds{receiver="hook"}' "$m")" 0
	exec 4>&-
	wait "${PIDS[1]}"
	PIDS=("${PIDS[0]}")
	[ "$(wc -l <"$BATS_TEST_TMPDIR/posts.jsonl")" -eq 1 ]
}

@test "a reload (SIGHUP) keeps a receiver's counts; a receiver added starts at 0" {
	rules
	tf=$BATS_TEST_TMPDIR/a.prom
	mkfifo "$BATS_TEST_TMPDIR/in"
	perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" --textfile "$tf" \
	    <"$BATS_TEST_TMPDIR/in" >/dev/null 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	PIDS+=($!)
	exec 4>"$BATS_TEST_TMPDIR/in"
	records 3 95 | head -n 3 >&4
	f() { pk_prom_sample "perfkit_alert_notifications_failed_total{receiver=\"$1\"}" "$tf"; }
	i=0
	until [ "$(f hook)" -ge 2 ] 2>/dev/null; do
		i=$((i + 1)); [ "$i" -lt 300 ] || fail "no failures: $(cat "$tf")"; sleep 0.1
	done
	n=$(f hook)
	printf '  - {name: hook2, type: webhook, url: "http://127.0.0.1:1/"}\n' >>"$BATS_TEST_TMPDIR/r.yaml"
	kill -HUP "${PIDS[0]}"
	i=0
	until grep -q 'configuration reloaded (2 rules, 2 receivers)' "$BATS_TEST_TMPDIR/err" &&
	    [ -n "$(f hook2)" ]; do
		i=$((i + 1)); [ "$i" -lt 300 ] || fail "no reload: $(cat "$BATS_TEST_TMPDIR/err")"; sleep 0.1
	done
	[ "$(f hook)" -ge "$n" ]
	assert_equal "$(f hook2)" 0
	assert_equal "$(pk_prom_sample 'perfkit_alert_spool_notifications{receiver="hook2"}' "$tf")" 0
	exec 4>&-
	wait "${PIDS[0]}"
	PIDS=()
}

@test "the spool's age counts from when a notification was spooled, across a restart" {
	rules
	records 3 95 | head -n 3 >"$BATS_TEST_TMPDIR/in.jsonl"
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 0 "$BATS_TEST_TMPDIR/in.jsonl"
	[ "$(ls "$BATS_TEST_TMPDIR/st/spool" | wc -l)" -eq 1 ]
	# Spooled a day ago, by the file's own record of it.
	f=$(ls "$BATS_TEST_TMPDIR/st/spool"/*.json)
	jq -c --argjson t "$(($(date +%s) - 86400))" '.created = $t' "$f" >"$f.new"
	mv "$f.new" "$f"
	chmod 600 "$f"
	# Signed again with the state directory's key: an edited file would
	# fail its integrity check and be set aside.
	python3 "$TESTS_DIR/helpers/perf-alert-spool-sign.py" "$f" "$BATS_TEST_TMPDIR/st/spool.key"
	tf=$BATS_TEST_TMPDIR/a.prom
	run -0 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -w 0 --textfile "$tf" </dev/null
	awk '$1 == "perfkit_alert_spool_oldest_age_seconds{receiver=\"hook\"}" { exit !($2 >= 86400 && $2 < 90000) }' "$tf" ||
	    fail "$(grep oldest "$tf")"
	assert_equal "$(pk_prom_sample 'perfkit_alert_spool_notifications{receiver="hook"}' "$tf")" 1
}

@test "the outlets' options: bad values are usage errors, a busy port is status 4, not with ack or stats" {
	rules
	run -2 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" --listen 1.2.3.4:99999 /dev/null
	[[ $stderr == *"--listen port '99999' is too large (0..65535)"* ]] || fail "$stderr"
	run -2 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" --push ftp://x /dev/null
	[[ $stderr == *"an http:// or https:// URL is expected"* ]] || fail "$stderr"
	run -2 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" --push-interval 0 /dev/null
	for o in "--listen 127.0.0.1:0" "--push http://127.0.0.1:1" "--textfile $BATS_TEST_TMPDIR/t.prom"; do
		for c in "ack 0123" stats; do
			run -2 --separate-stderr perf-alert -s "$BATS_TEST_TMPDIR/st" $o $c
			[[ $stderr == *"${c%% *}: ${o%% *} does not apply"* ]] || fail "$o $c: $stderr"
		done
	done
	[ ! -e "$BATS_TEST_TMPDIR/t.prom" ]
	port=$(pk_free_port)
	python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' "$port" &
	PIDS+=($!)
	pk_wait_port "$port" 10
	run -4 --separate-stderr perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" --listen "127.0.0.1:$port" /dev/null
	[[ $stderr == "perf-alert: cannot listen on 127.0.0.1:$port: "* ]] || fail "$stderr"
	[ -z "$output" ]
}

@test "SIGTERM ends perf-alert serving --listen and pushing while its input is idle" {
	rules
	dead=$(pk_free_port)
	port=$(pk_free_port)
	mkfifo "$BATS_TEST_TMPDIR/in"
	perf-alert -c "$BATS_TEST_TMPDIR/r.yaml" -u --listen "127.0.0.1:$port" \
	    --push "http://127.0.0.1:$dead" <"$BATS_TEST_TMPDIR/in" \
	    >"$BATS_TEST_TMPDIR/out" 2>/dev/null 3>&- &
	pid=$!
	PIDS+=($pid)
	exec 4>"$BATS_TEST_TMPDIR/in"
	records 3 20 | head -n 3 >&4
	pk_wait_port "$port" 30
	run -0 curl -fsS "http://127.0.0.1:$port/metrics"
	i=0
	until [ "$(grep -c '"type":"sample"' "$BATS_TEST_TMPDIR/out")" -eq 3 ]; do
		i=$((i + 1)); [ "$i" -lt 300 ] || fail "no records"; sleep 0.1
	done
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	exec 4>&-
	PIDS=()
	assert_equal "$st" 0
}

# Samples of this host with the time now, every 0.1 s, until $1/stop
# exists (at most 1200): CPU at 95 from the tenth on.
samples() {
	local i=0 h u
	h=$(hostname)
	while [ ! -e "$1/stop" ] && [ "$i" -lt 1200 ]; do
		u=20
		[ "$i" -lt 10 ] || u=95
		printf '{"type":"sample","ts":%s,"host":"%s","cpu":{"util":%d}}\n' \
		    "$(date +%s.%N)" "$h" "$u"
		i=$((i + 1))
		sleep 0.1
	done
}

# Scrape URL n times; print how many answered 200.
scrapes() {
	local i ok=0
	for i in $(seq "$2"); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && ok=$((ok + 1))
	done
	echo "$ok"
}

@test "a live pipeline: Prometheus sees the alert firing, a Pushgateway gets the push, no record lost" {
	[ -z "${PK_VALGRIND:-}" ] || skip "a live pipeline at valgrind's speed"
	D=$BATS_TEST_TMPDIR
	start_http
	port=$(pk_free_port)
	pk_start_prometheus "alert=127.0.0.1:$port"
	pk_start_pushgateway
	cat >"$D/r.yaml" <<-EOF
	state_dir: $D/st
	retry_min: 100ms
	rules:
	  - name: cpu_busy
	    match: {type: sample}
	    when: cpu.util > 90
	    for: 500ms
	    severity: CRITICAL
	    labels: {team: robot}
	receivers:
	  - {name: hook, type: webhook, url: "http://127.0.0.1:$HTTP_PORT/"}
	EOF
	export -f samples
	bash -c "samples '$D'" 3>&- | tee "$D/in.jsonl" |
	    perf-alert -c "$D/r.yaml" --listen "127.0.0.1:$port" \
	        --push "$PUSHGW_URL" --push-interval 500ms \
	        >"$D/out.jsonl" 2>"$D/err" 3>&- &
	PIDS+=($!)
	h=$(hostname)
	pk_prom_wait "perfkit_alert_alerts{job=\"alert\",state=\"firing\",alertname=\"cpu_busy\",host=\"$h\",severity=\"critical\",team=\"robot\"} == 1" 60 ||
	    fail "no firing alert in Prometheus: $(cat "$D/err")"
	pk_prom_wait 'perfkit_alert_notifications_total{job="alert",receiver="hook"} == 1' 30 ||
	    fail "no delivery in Prometheus: $(cat "$D/err")"
	pk_prom_wait 'rate(perfkit_alert_records_read_total{job="alert"}[5s]) > 0' 30
	# Scraped hard while it runs, the records keep flowing.
	n1=$(wc -l <"$D/out.jsonl")
	scrapes "http://127.0.0.1:$port/metrics" 200 >"$D/ok"
	assert_equal "$(cat "$D/ok")" 200
	i=0
	until [ "$(wc -l <"$D/out.jsonl")" -gt "$n1" ]; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "the records stopped"; sleep 0.1
	done
	# The end: the samples stop, input ends, perf-alert pushes and exits.
	touch "$D/stop"
	wait "${PIDS[1]}"
	PIDS=("${PIDS[0]}")
	# Every record that went in came out, in order, once.
	jq -c 'select(.type == "sample")' "$D/out.jsonl" >"$D/through"
	jq -c . "$D/in.jsonl" >"$D/in.c"
	[ "$(wc -l <"$D/in.c")" -gt 20 ]
	diff -q "$D/in.c" "$D/through"
	# The final push counts every record read and the alert firing.
	pushed() {
		curl -fsS "$PUSHGW_URL/metrics" |
		    awk -v n="$1" 'index($1, n) == 1 && index($1, "job=\"perf-alert\"") { print $2 }'
	}
	assert_equal "$(pushed perfkit_alert_records_read_total)" "$(wc -l <"$D/in.c")"
	assert_equal "$(pushed 'perfkit_alert_alerts{alertname="cpu_busy"')" 1
	assert_equal "$(pushed 'perfkit_alert_notifications_total{')" 1
	[ "$(wc -l <"$D/posts.jsonl")" -eq 1 ]
	[ ! -s "$D/err" ] || fail "$(cat "$D/err")"
}
