/* SPDX-License-Identifier: MIT */
/*
 * The metrics kept per component, one row each: the record fields each
 * is read from, its name in the profile records, its unit, its
 * Prometheus family. A metric without values in the window is left out
 * of the profile.
 */
#include <math.h>
#include <string.h>

#include "perf-profile.h"

static double
num(const struct pk_jval *v)
{
	return v->type == PK_JNUM ? pk_jval_num(v) : NAN;
}

/* MemAvailable in % of MemTotal, else 100 - mem.used_pct. */
static double
read_mem_avail(const struct state *s, struct component *c,
    const struct pk_jval *vals, const int *ids)
{
	double total = num(&vals[ids[0]]), avail = num(&vals[ids[1]]), used;

	(void)s;
	(void)c;
	if (total > 0 && !isnan(avail))
		return 100.0 * avail / total;
	used = num(&vals[ids[2]]);
	return isnan(used) ? NAN : 100.0 - used;
}

/*
 * The hottest zone is the one closest to its own trip point; the
 * configured trip caps the zone's (a Pi throttles at 80 C). Sets the
 * component's trip point and throttling too.
 */
static double
read_temp(const struct state *s, struct component *c,
    const struct pk_jval *vals, const int *ids)
{
	double cap = s->conf.val[s->trip_check][s->trip_key];
	double best = NAN, bmargin = INFINITY, trip, temp;
	struct pk_jval key, val;
	size_t pos = 0;
	char zone[128];

	while (pk_profsev_obj_next(&vals[ids[0]], &pos, &key, &val)) {
		size_t p2 = 0;
		struct pk_jval k2, v2;

		if (val.type != PK_JNUM)
			continue;
		temp = pk_jval_num(&val);
		trip = NAN;
		pk_jval_str(&key, zone, sizeof(zone));
		while (pk_profsev_obj_next(&vals[ids[1]], &p2, &k2, &v2))
			if (v2.type == PK_JNUM && pk_jval_streq(&k2, zone)) {
				trip = pk_jval_num(&v2);
				break;
			}
		if (isnan(trip) || trip > cap)
			trip = cap;
		if (trip - temp < bmargin) {
			bmargin = trip - temp;
			best = temp;
			c->trip_c = trip;
		}
	}
	c->throttled = vals[ids[2]].type == PK_JTRUE ||
	    vals[ids[3]].type == PK_JTRUE ? 2 :
	    vals[ids[4]].type == PK_JTRUE ? 1 : 0;
	return best;
}

/* Storage I/O of a process: read + write, where either is known. */
static double
read_io(const struct state *s, struct component *c,
    const struct pk_jval *vals, const int *ids)
{
	double r = num(&vals[ids[0]]), w = num(&vals[ids[1]]);

	(void)s;
	(void)c;
	if (isnan(r) && isnan(w))
		return NAN;
	return (isnan(r) ? 0 : r) + (isnan(w) ? 0 : w);
}

/*
 * rt-loop's interval records (the summary repeats the run, start and
 * stall records have no figures): the periods missed, late or skipped,
 * in % of the periods due.
 */
static double
read_loop_miss(const struct state *s, struct component *c,
    const struct pk_jval *vals, const int *ids)
{
	double ticks = num(&vals[ids[1]]), miss = num(&vals[ids[2]]);
	double skip = num(&vals[ids[3]]);

	(void)s;
	(void)c;
	if (!pk_jval_streq(&vals[ids[0]], "interval") || isnan(ticks) ||
	    isnan(miss))
		return NAN;
	if (isnan(skip))
		skip = 0;
	return ticks + skip > 0 ? 100.0 * (miss + skip) / (ticks + skip) : NAN;
}

/* The interval's p99 execution time, microseconds. */
static double
read_loop_exec(const struct state *s, struct component *c,
    const struct pk_jval *vals, const int *ids)
{
	(void)s;
	(void)c;
	if (!pk_jval_streq(&vals[ids[0]], "interval"))
		return NAN;
	return num(&vals[ids[1]]);
}

#define SAMPLE		FROM(REC_SAMPLE)
#define APP		(FROM(REC_PROC) | FROM(REC_METRIC))

const struct metric_type metrics[NMETRIC] = {
	[M_CPU_UTIL] = { .name = "cpu_util", .unit = "%", .from = SAMPLE,
	    .path = { "cpu.util" },
	    .prom = "perfkit_profile_cpu_util_ratio", .prom_unit = "ratio",
	    .prom_scale = 0.01,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "CPU time busy, all CPUs (cpu.util), 0-1" },
	[M_IOWAIT] = { .name = "cpu_iowait", .unit = "%", .from = SAMPLE,
	    .path = { "cpu.iowait" },
	    .prom = "perfkit_profile_cpu_iowait_ratio", .prom_unit = "ratio",
	    .prom_scale = 0.01,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "CPU time waiting on I/O (cpu.iowait), 0-1" },
	[M_MEM_USED] = { .name = "mem_used_pct", .unit = "%", .from = SAMPLE,
	    .path = { "mem.used_pct" },
	    .prom = "perfkit_profile_mem_used_ratio", .prom_unit = "ratio",
	    .prom_scale = 0.01,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "memory used (mem.used_pct), 0-1" },
	[M_MEM_AVAIL] = { .name = "mem_avail_pct", .unit = "%",
	    .from = SAMPLE, .read = read_mem_avail,
	    .path = { "mem.total_kb", "mem.avail_kb", "mem.used_pct" },
	    .prom = "perfkit_profile_mem_avail_ratio", .prom_unit = "ratio",
	    .prom_scale = 0.01,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "MemAvailable of MemTotal, 0-1" },
	[M_PSI_MEM] = { .name = "psi_memory_some", .unit = "%",
	    .from = SAMPLE, .path = { "psi.memory.some_avg10" },
	    .prom = "perfkit_profile_psi_memory_some_ratio",
	    .prom_unit = "ratio",
	    .prom_scale = 0.01,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "PSI memory some avg10, 0-1" },
	[M_PSI_IO] = { .name = "psi_io_some", .unit = "%", .from = SAMPLE,
	    .path = { "psi.io.some_avg10" },
	    .prom = "perfkit_profile_psi_io_some_ratio", .prom_unit = "ratio",
	    .prom_scale = 0.01,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "PSI io some avg10, 0-1" },
	[M_TEMP] = { .name = "temp_c", .unit = "C", .from = SAMPLE,
	    .read = read_temp,
	    .path = { "temp_c", "temp_trip_c", "throttle.now.throttled",
	    "throttle.now.soft_temp_limit", "throttle.now.freq_capped" },
	    .prom = "perfkit_profile_temp_celsius", .prom_unit = "celsius",
	    .prom_scale = 1,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "temperature of the hottest zone, degrees Celsius" },
	[M_CPU_PCT] = { .name = "cpu_pct", .unit = "%", .from = APP,
	    .path = { "cpu_pct" }, .rank_word = "CPU",
	    .prom = "perfkit_profile_cpu_ratio", .prom_unit = "ratio",
	    .prom_scale = 0.01,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "CPU use of the component, in CPUs (cpu_pct / 100)" },
	[M_RSS] = { .name = "rss_kb", .unit = "kB", .from = APP,
	    .path = { "rss_kb" }, .leak = 1, .rank_word = "memory",
	    .prom = "perfkit_profile_rss_bytes", .prom_unit = "bytes",
	    .prom_scale = 1024,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "resident set size of the component, bytes" },
	[M_IO_BPS] = { .name = "io_bytes_per_s", .unit = "B/s",
	    .from = FROM(REC_PROC), .read = read_io,
	    .path = { "read_bytes_per_s", "write_bytes_per_s" },
	    .rank_word = "I/O",
	    .prom = "perfkit_profile_io_bytes_per_second",
	    .prom_unit = "bytes_per_second",
	    .prom_scale = 1,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "storage I/O of the process, read + written, bytes per second" },
	[M_FPS] = { .name = "fps", .unit = "1/s", .from = FROM(REC_METRIC),
	    .path = { "fps" },
	    .prom = "perfkit_profile_frames_per_second", .prom_unit = "",
	    .prom_scale = 1,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "frame rate of the component (fps)" },
	[M_LATENCY] = { .name = "latency_ms", .unit = "ms",
	    .from = FROM(REC_METRIC), .path = { "latency_ms" },
	    .prom = "perfkit_profile_latency_seconds", .prom_unit = "seconds",
	    .prom_scale = 0.001,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "latency of the component (latency_ms), seconds" },
	[M_THROUGHPUT] = { .name = "throughput_per_s", .unit = "1/s",
	    .from = FROM(REC_METRIC), .path = { "throughput_per_s" },
	    .prom = "perfkit_profile_throughput_per_second", .prom_unit = "",
	    .prom_scale = 1,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "throughput of the component, items per second" },
	[M_QUEUE] = { .name = "queue_depth", .unit = "items",
	    .from = FROM(REC_METRIC), .path = { "queue_depth" },
	    .prom = "perfkit_profile_queue_depth", .prom_unit = "",
	    .prom_scale = 1,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "queue depth of the component, items" },
	[M_SWAP_IN] = { .name = "swap_in_per_s", .unit = "pages/s",
	    .from = SAMPLE, .path = { "vmstat.pswpin_per_s" },
	    .prom = "perfkit_profile_swap_in_pages_per_second", .prom_unit = "",
	    .prom_scale = 1,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "pages swapped in per second" },
	[M_SWAP_OUT] = { .name = "swap_out_per_s", .unit = "pages/s",
	    .from = SAMPLE, .path = { "vmstat.pswpout_per_s" },
	    .prom = "perfkit_profile_swap_out_pages_per_second", .prom_unit = "",
	    .prom_scale = 1,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "pages swapped out per second" },
	[M_MAJFLT] = { .name = "major_faults_per_s", .unit = "1/s",
	    .from = SAMPLE, .path = { "vmstat.pgmajfault_per_s" },
	    .prom = "perfkit_profile_major_faults_per_second", .prom_unit = "",
	    .prom_scale = 1,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "major page faults per second" },
	[M_LOOP_MISS] = { .name = "loop_miss_pct", .unit = "%",
	    .from = FROM(REC_LOOP), .read = read_loop_miss,
	    .path = { "event", "ticks", "misses", "skipped" },
	    .prom = "perfkit_profile_loop_missed_ratio", .prom_unit = "ratio",
	    .prom_scale = 0.01,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "the periods a control loop missed (late or skipped) per "
	    "interval, 0-1" },
	[M_LOOP_EXEC] = { .name = "loop_exec_p99_us", .unit = "us",
	    .from = FROM(REC_LOOP), .read = read_loop_exec,
	    .path = { "event", "exec_us.p99" },
	    .prom = "perfkit_profile_loop_exec_p99_seconds",
	    .prom_unit = "seconds", .prom_scale = 1e-6,
	    .prom_help = "The p50 and p95 over the window (label stat) of "
	    "a control loop's p99 execution time per interval, seconds" },
};
