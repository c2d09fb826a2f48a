# Real Prometheus, Pushgateway and node_exporter for the tests, on
# 127.0.0.1, each on a free port, started in $BATS_TEST_TMPDIR and stopped
# by PID (pk_prom_stop_all in teardown). Load after common: `load prom`.

PK_PROM_PIDS=()

# prom_up URL: wait until URL answers 200 (max $2 seconds).
pk_http_ready() {
	local url=$1 max=${2:-30} i=0
	until curl -fsS -o /dev/null "$url" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt $((max * 10)) ] || return 1
		sleep 0.1
	done
}

# Prometheus scraping every target in $@ ("job=HOST:PORT[/path]") each
# second; also evaluating the rule files in $PK_PROM_RULES (if set).
# Sets PROM_URL.
pk_start_prometheus() {
	local port dir=$BATS_TEST_TMPDIR/prometheus t job addr path rules=
	port=$(pk_free_port)
	mkdir -p "$dir/data"
	if [ -n "${PK_PROM_RULES:-}" ]; then
		rules="rule_files:"
		for f in $PK_PROM_RULES; do
			rules="$rules
  - $f"
		done
	fi
	{
		printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n%s\nscrape_configs:\n' "$rules"
		for t in "$@"; do
			job=${t%%=*}
			addr=${t#*=}
			path=/metrics
			case $addr in */*) path=/${addr#*/}; addr=${addr%%/*} ;; esac
			printf '  - job_name: %s\n    metrics_path: %s\n    static_configs:\n      - targets: ["%s"]\n' \
			    "$job" "$path" "$addr"
		done
	} >"$dir/prometheus.yml"
	prometheus --config.file="$dir/prometheus.yml" \
	    --storage.tsdb.path="$dir/data" \
	    --web.listen-address="127.0.0.1:$port" \
	    --web.enable-lifecycle >"$dir/log" 2>&1 &
	PK_PROM_PIDS+=($!)
	PROM_URL=http://127.0.0.1:$port
	pk_http_ready "$PROM_URL/-/ready" 60 || { cat "$dir/log" >&3; return 1; }
}

# Prometheus with the configuration FILE as it is (the shipped fleet
# config, say), its data in $BATS_TEST_TMPDIR; sets PROM_URL.
pk_start_prometheus_config() {
	local port dir=$BATS_TEST_TMPDIR/prometheus-config
	port=$(pk_free_port)
	mkdir -p "$dir/data"
	prometheus --config.file="$1" --storage.tsdb.path="$dir/data" \
	    --web.listen-address="127.0.0.1:$port" >"$dir/log" 2>&1 &
	PK_PROM_PIDS+=($!)
	PROM_URL=http://127.0.0.1:$port
	pk_http_ready "$PROM_URL/-/ready" 60 || { cat "$dir/log" >&3; return 1; }
}

# A Pushgateway; sets PUSHGW_URL.
pk_start_pushgateway() {
	local port
	port=$(pk_free_port)
	prometheus-pushgateway --web.listen-address="127.0.0.1:$port" \
	    --persistence.file="$BATS_TEST_TMPDIR/pushgateway.data" \
	    >"$BATS_TEST_TMPDIR/pushgateway.log" 2>&1 &
	PK_PROM_PIDS+=($!)
	PUSHGW_URL=http://127.0.0.1:$port
	pk_http_ready "$PUSHGW_URL/-/ready" 30
}

# node_exporter with only its textfile collector, reading $1; sets NODEX_ADDR.
pk_start_node_exporter() {
	local port
	port=$(pk_free_port)
	prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
	    --collector.disable-defaults --collector.textfile \
	    --collector.textfile.directory="$1" \
	    >"$BATS_TEST_TMPDIR/node_exporter.log" 2>&1 &
	PK_PROM_PIDS+=($!)
	NODEX_ADDR=127.0.0.1:$port
	pk_http_ready "http://$NODEX_ADDR/metrics" 30
}

# The result vector of an instant PromQL query, as JSON.
pk_prom_query() {
	curl -fsS --get --data-urlencode "query=$1" "$PROM_URL/api/v1/query" |
	    jq -c '.data.result'
}

# Wait until a query returns at least one series (max $2 seconds).
pk_prom_wait() {
	local q=$1 max=${2:-30} i=0
	until [ "$(pk_prom_query "$q" | jq 'length')" -gt 0 ] 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt $((max * 4)) ] || return 1
		sleep 0.25
	done
}

pk_prom_stop_all() {
	local p
	for p in "${PK_PROM_PIDS[@]}"; do
		pk_stop_pid "$p"
	done
	PK_PROM_PIDS=()
}

# The tests' own teardown: stop the lanes ($D/stop), every PID of PIDS,
# and the servers started here.
pk_prom_teardown() {
	local p
	[ -z "${D:-}" ] || touch "$D/stop"
	for p in "${PIDS[@]}"; do
		pk_stop_pid "$p"
	done
	pk_prom_stop_all
}

# The value of the series NAME (labels and all, as written) in FILE.
pk_prom_sample() {
	awk -v n="$1" '$1 == n { print $2 }' "$2"
}

# The families of an exposition FILE, and those PROG's man page's METRICS
# section lists (.It Cm NAME, or several by " , "; not NAME_ Ns Ar metric).
pk_prom_written() {
	sed -n 's/^# TYPE \([a-z0-9_]*\) .*/\1/p' "$1" | sort
}
pk_prom_documented() {
	awk '/^\.Sh METRICS/ { on = 1; next } /^\.Sh / { on = 0 }
	    on && /^\.It Cm perfkit_/ { sub(/^\.It Cm /, ""); gsub(/ , /, "\n"); print }' \
	    "$ROOT/man/$1.1" | grep -v '_ Ns ' | sort
}

# PROG's exposition FILE: promtool accepts it, it has N families, each
# with its HELP, and they are those the man page lists.
pk_prom_man_holds() {
	run -0 promtool check metrics <"$2"
	assert_output ""
	pk_prom_written "$2" >"$BATS_TEST_TMPDIR/written"
	pk_prom_documented "$1" >"$BATS_TEST_TMPDIR/man"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/written")" -eq "$3" ]
	diff -u "$BATS_TEST_TMPDIR/written" "$BATS_TEST_TMPDIR/man"
	run -0 grep -c '^# HELP perfkit_' "$2"
	assert_output "$3"
}

# Crafted metric records of component lane on this host, latency 500 ms,
# every 0.1 s with the time now, until DIR/stop exists (at most MAX).
pk_prom_lane() {
	local i=0 h
	h=$(hostname)
	while [ ! -e "$1/stop" ] && [ "$i" -lt "$2" ]; do
		printf '{"type":"metric","ts":%s,"host":"%s","component":"lane","latency_ms":500,"fps":25}\n' \
		    "$(date +%s.%N)" "$h"
		i=$((i + 1))
		sleep 0.1
	done
}
