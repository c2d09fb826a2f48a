/* SPDX-License-Identifier: MIT */
#include "pk_rtcheck.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define CAP_IPC_LOCK_BIT 14
#define CAP_SYS_NICE_BIT 23

int
pk_rtcheck_read_line(const char *root, const char *path, char *buf,
    size_t size)
{
	char full[4096];
	FILE *f;
	size_t n;

	snprintf(full, sizeof(full), "%s%s", root, path);
	f = fopen(full, "r");
	if (f == NULL)
		return -1;
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strlen(buf);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return 0;
}

static void
recommend(json_t *list, const char *level, const char *check,
    const char *advice)
{
	json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "level", level,
	    "check", check, "advice", advice));
}

#define IRQ_MAXCPU 1024

/* Device interrupts per CPU, from /proc/interrupts. */
struct irq_load {
	int ncpu;
	unsigned long long total;
	unsigned long long per_cpu[IRQ_MAXCPU];
	unsigned long long top[IRQ_MAXCPU];	/* the largest one IRQ's count */
	char top_name[IRQ_MAXCPU][32];		/* and its device */
};

/*
 * Sum the numbered (device) interrupts of root/proc/interrupts per CPU;
 * the architecture's own (LOC, RES, TLB...) are not counted: every CPU
 * takes those. -1 if the file is absent or has no CPU header.
 */
static int
irq_read(const char *root, struct irq_load *il)
{
	char full[4096], *line = NULL, *p, *end, *name;
	unsigned long long v;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int c;

	memset(il, 0, sizeof(*il));
	snprintf(full, sizeof(full), "%s/proc/interrupts", root);
	f = fopen(full, "r");
	if (f == NULL)
		return -1;
	if ((len = getline(&line, &cap, f)) > 0)
		for (p = line; (p = strstr(p, "CPU")) != NULL; p += 3)
			if (il->ncpu < IRQ_MAXCPU)
				il->ncpu++;
	while (il->ncpu > 0 && (len = getline(&line, &cap, f)) > 0) {
		for (p = line; *p == ' '; p++)
			;
		if (!isdigit((unsigned char)*p))
			continue;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p++ != ':')
			continue;
		for (c = 0; c < il->ncpu; c++) {
			v = strtoull(p, &end, 10);
			if (end == p)
				break;
			p = end;
			il->per_cpu[c] += v;
			il->total += v;
			if (v > il->top[c]) {
				il->top[c] = v;
				/* The device: the last word of the line. */
				end = line + len;
				while (end > p && isspace((unsigned char)end[-1]))
					end--;
				for (name = end; name > p &&
				    !isspace((unsigned char)name[-1]); name--)
					;
				snprintf(il->top_name[c], sizeof(il->top_name[c]),
				    "%.*s", (int)(end - name), name);
			}
		}
	}
	free(line);
	fclose(f);
	return il->ncpu > 0 ? 0 : -1;
}

/* The value of a "Key:\tHEX" line of a /proc status file, or 0. */
static unsigned long long
status_hex(const char *root, const char *key)
{
	char full[4096], line[256];
	unsigned long long v = 0;
	size_t klen = strlen(key);
	FILE *f;

	snprintf(full, sizeof(full), "%s/proc/self/status", root);
	f = fopen(full, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtoull(line + klen + 1, NULL, 16);
			break;
		}
	fclose(f);
	return v;
}

static json_t *
rlim_json(int res)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) == -1)
		return json_null();
	return json_pack("{s:o,s:o}",
	    "soft", rl.rlim_cur == RLIM_INFINITY ? json_string("unlimited") :
	    json_integer((json_int_t)rl.rlim_cur),
	    "hard", rl.rlim_max == RLIM_INFINITY ? json_string("unlimited") :
	    json_integer((json_int_t)rl.rlim_max));
}

static const char *
preempt_model(const char *version, const char *realtime)
{
	if (strcmp(realtime, "1") == 0 || strstr(version, "PREEMPT_RT") != NULL)
		return "PREEMPT_RT";
	if (strstr(version, "PREEMPT_DYNAMIC") != NULL)
		return "PREEMPT_DYNAMIC";
	if (strstr(version, "PREEMPT") != NULL)
		return "PREEMPT";
	return "none/voluntary";
}

/* The governors of cpu0..cpuN as an object; *slow if one is not performance. */
static json_t *
governors(const char *root, int *slow)
{
	json_t *o = json_object();
	char path[4096], key[32], buf[64];
	int cpu;

	*slow = 0;
	for (cpu = 0; cpu < 4096; cpu++) {
		snprintf(path, sizeof(path),
		    "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor", cpu);
		if (pk_rtcheck_read_line(root, path, buf, sizeof(buf)) == -1) {
			snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/"
			    "cpu%d", root, cpu);
			if (access(path, F_OK) == -1)
				break;
			continue;
		}
		snprintf(key, sizeof(key), "cpu%d", cpu);
		json_object_set_new(o, key, json_string(buf));
		if (strcmp(buf, "performance") != 0)
			*slow = 1;
	}
	return o;
}

/* The value of a kernel command-line parameter ("isolcpus=") or NULL. */
static const char *
cmdline_param(const char *cmdline, const char *name, char *buf, size_t size)
{
	const char *p = cmdline;
	size_t n = strlen(name), len;

	while ((p = strstr(p, name)) != NULL) {
		if (p == cmdline || p[-1] == ' ') {
			p += n;
			len = strcspn(p, " ");
			if (len >= size)
				len = size - 1;
			memcpy(buf, p, len);
			buf[len] = '\0';
			return buf;
		}
		p += n;
	}
	return NULL;
}

/* The bracketed choice of a sysfs "a [b] c" file, into buf; -1 if none. */
static int
bracketed(const char *root, const char *path, char *buf, size_t size)
{
	char line[256];
	const char *p, *q;

	if (pk_rtcheck_read_line(root, path, line, sizeof(line)) == -1 ||
	    (p = strchr(line, '[')) == NULL || (q = strchr(p, ']')) == NULL ||
	    (size_t)(q - p - 1) >= size)
		return -1;
	memcpy(buf, p + 1, (size_t)(q - p - 1));
	buf[q - p - 1] = '\0';
	return 0;
}

/* Is a process named name running (root/proc/PID/comm)? */
static int
running(const char *root, const char *name)
{
	char path[4096], comm[64];
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(path, sizeof(path), "%s/proc", root);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (pk_rtcheck_read_line(root, path, comm, sizeof(comm)) == 0 &&
		    strcmp(comm, name) == 0)
			found = 1;
	}
	closedir(d);
	return found;
}

/*
 * The checks of the memory and the loop's CPU: transparent hugepages,
 * swap, idle states, irqbalance, and with a CPU its SMT siblings and NUMA
 * node. Each only where its file is there.
 */
static void
more_checks(const char *root, int cpu, json_t *rep, json_t *recs)
{
	char buf[256], path[4096], advice[512], name[64];
	unsigned long long lat, worst = 0;
	char worst_name[64] = "";
	int n, st, nodes = 0, node = -1;
	FILE *f;

	if (bracketed(root, "/sys/kernel/mm/transparent_hugepage/enabled", buf,
	    sizeof(buf)) == 0) {
		json_object_set_new(rep, "thp", json_string(buf));
		if (strcmp(buf, "always") == 0)
			recommend(recs, "warn", "thp", "transparent hugepages "
			    "are always on: khugepaged and compaction stall "
			    "the loop's page faults; rt-loop --preflight "
			    "--apply sets them to never");
	}
	snprintf(path, sizeof(path), "%s/proc/swaps", root);
	if ((f = fopen(path, "r")) != NULL) {
		n = -1;	/* the header */
		while (fgets(buf, sizeof(buf), f) != NULL)
			n++;
		fclose(f);
		if (n < 0)
			n = 0;
		json_object_set_new(rep, "swap_devices", json_integer(n));
		if (n > 0)
			recommend(recs, "info", "swap", "swap is on: run the "
			    "loop with --mlock so that its pages stay in RAM "
			    "(or swapoff -a)");
	}
	/* The deepest enabled idle state of the loop's CPU (or cpu0). */
	for (st = 0; st < 32; st++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/"
		    "cpuidle/state%d/latency", cpu >= 0 ? cpu : 0, st);
		if (pk_rtcheck_read_line(root, path, buf, sizeof(buf)) == -1)
			break;
		lat = strtoull(buf, NULL, 10);
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/"
		    "cpuidle/state%d/disable", cpu >= 0 ? cpu : 0, st);
		if (pk_rtcheck_read_line(root, path, name, sizeof(name)) == 0 &&
		    strcmp(name, "1") == 0)
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/"
		    "cpuidle/state%d/name", cpu >= 0 ? cpu : 0, st);
		if (lat >= worst) {
			worst = lat;
			if (pk_rtcheck_read_line(root, path, worst_name,
			    sizeof(worst_name)) == -1)
				snprintf(worst_name, sizeof(worst_name),
				    "state%d", st);
		}
	}
	if (st > 0) {
		json_object_set_new(rep, "cstate", json_pack("{s:s,s:I}",
		    "deepest", worst_name, "exit_latency_us",
		    (json_int_t)worst));
		if (worst > 10) {
			snprintf(advice, sizeof(advice), "the CPU may sleep in "
			    "%s, %llu us to wake: hold /dev/cpu_dma_latency "
			    "with rt-loop --pm-qos 0 (as cyclictest does)",
			    worst_name, worst);
			recommend(recs, "info", "cstate", advice);
		}
	}
	if (running(root, "irqbalance")) {
		json_object_set_new(rep, "irqbalance", json_true());
		recommend(recs, "warn", "irqbalance", "irqbalance runs: it "
		    "moves interrupts back onto the loop's CPU; stop it, or "
		    "ban the CPU (IRQBALANCE_BANNED_CPULIST)");
	}
	if (cpu < 0)
		return;
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/"
	    "thread_siblings_list", cpu);
	if (pk_rtcheck_read_line(root, path, buf, sizeof(buf)) == 0) {
		json_object_set_new(rep, "smt_siblings", json_string(buf));
		snprintf(name, sizeof(name), "%d", cpu);
		if (strcmp(buf, name) != 0) {
			snprintf(advice, sizeof(advice), "CPU %d shares its "
			    "core with CPUs %s: keep the sibling idle "
			    "(isolcpus= for both) or turn SMT off", cpu, buf);
			recommend(recs, "warn", "smt_siblings", advice);
		}
	}
	for (n = 0; n < 1024; n++) {
		snprintf(path, sizeof(path), "%s/sys/devices/system/node/node%d",
		    root, n);
		if (access(path, F_OK) == -1)
			break;
		nodes++;
		snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/cpu%d/"
		    "node%d", root, cpu, n);
		if (access(path, F_OK) == 0)
			node = n;
	}
	if (node >= 0) {
		json_object_set_new(rep, "numa_node", json_integer(node));
		if (nodes > 1) {
			snprintf(advice, sizeof(advice), "CPU %d is on NUMA "
			    "node %d of %d: keep the loop's memory there "
			    "(numactl --membind %d)", cpu, node, nodes, node);
			recommend(recs, "info", "numa", advice);
		}
	}
}

json_t *
pk_rtcheck_report(const char *root)
{
	return pk_rtcheck_report_cpu(root, -1);
}

json_t *
pk_rtcheck_report_cpu(const char *root, int cpu)
{
	char version[512], release[256], realtime[16], isol[256], nohz[256];
	char cmdline[4096], rt_runtime[64], smt[64], pbuf[256], advice[512];
	struct rlimit rtprio, memlock;
	unsigned long long capeff;
	int cap_nice, cap_lock, slow, fifo, errors = 0;
	const char *model, *preempt_param, *p, *q;
	char dyn[32], dbuf[128];
	json_t *rep, *recs, *govs, *irqs, *counts;
	struct irq_load *il;
	int c, busy, quiet;
	if (root == NULL)
		root = "";
	if (pk_rtcheck_read_line(root, "/proc/sys/kernel/version", version,
	    sizeof(version)) == -1)
		version[0] = '\0';
	if (pk_rtcheck_read_line(root, "/proc/sys/kernel/osrelease", release,
	    sizeof(release)) == -1)
		snprintf(release, sizeof(release), "unknown");
	if (pk_rtcheck_read_line(root, "/sys/kernel/realtime", realtime,
	    sizeof(realtime)) == -1)
		realtime[0] = '\0';
	if (pk_rtcheck_read_line(root, "/proc/cmdline", cmdline, sizeof(cmdline)) == -1)
		cmdline[0] = '\0';
	if (pk_rtcheck_read_line(root, "/sys/devices/system/cpu/isolated", isol,
	    sizeof(isol)) == -1)
		isol[0] = '\0';
	if (pk_rtcheck_read_line(root, "/sys/devices/system/cpu/nohz_full", nohz,
	    sizeof(nohz)) == -1 || strcmp(nohz, "(null)") == 0)
		nohz[0] = '\0';
	if (pk_rtcheck_read_line(root, "/proc/sys/kernel/sched_rt_runtime_us", rt_runtime,
	    sizeof(rt_runtime)) == -1)
		rt_runtime[0] = '\0';
	if (pk_rtcheck_read_line(root, "/sys/devices/system/cpu/smt/control", smt,
	    sizeof(smt)) == -1)
		snprintf(smt, sizeof(smt), "unknown");
	capeff = status_hex(root, "CapEff");
	cap_nice = (capeff >> CAP_SYS_NICE_BIT) & 1;
	cap_lock = (capeff >> CAP_IPC_LOCK_BIT) & 1;
	if (getrlimit(RLIMIT_RTPRIO, &rtprio) == -1)
		rtprio.rlim_cur = rtprio.rlim_max = 0;
	if (getrlimit(RLIMIT_MEMLOCK, &memlock) == -1)
		memlock.rlim_cur = memlock.rlim_max = 0;
	fifo = cap_nice || rtprio.rlim_cur > 0;
	model = preempt_model(version, realtime);
	/* "none (voluntary) full": the current mode in parentheses (debugfs). */
	dyn[0] = '\0';
	if (pk_rtcheck_read_line(root, "/sys/kernel/debug/sched/preempt", dbuf,
	    sizeof(dbuf)) == 0 && (p = strchr(dbuf, '(')) != NULL &&
	    (q = strchr(p, ')')) != NULL && (size_t)(q - p - 1) < sizeof(dyn)) {
		memcpy(dyn, p + 1, (size_t)(q - p - 1));
		dyn[q - p - 1] = '\0';
	}
	preempt_param = cmdline_param(cmdline, "preempt=", pbuf, sizeof(pbuf));

	rep = json_object();
	recs = json_array();
	if (rep == NULL || recs == NULL) {
		json_decref(rep);
		json_decref(recs);
		return NULL;
	}
	json_object_set_new(rep, "type", json_string("preflight"));
	json_object_set_new(rep, "kernel", json_pack("{s:s,s:s,s:s}",
	    "release", release, "version", version, "preempt", model));
	if (preempt_param != NULL)
		json_object_set_new(json_object_get(rep, "kernel"),
		    "preempt_param", json_string(preempt_param));
	if (dyn[0] != '\0')
		json_object_set_new(json_object_get(rep, "kernel"),
		    "preempt_dynamic", json_string(dyn));
	json_object_set_new(rep, "cpus", json_pack("{s:s,s:s,s:s}",
	    "isolated", isol, "nohz_full", nohz, "smt", smt));
	govs = governors(root, &slow);
	json_object_set_new(rep, "governor", govs);
	if (rt_runtime[0] != '\0')
		json_object_set_new(rep, "sched_rt_runtime_us",
		    json_integer(strtoll(rt_runtime, NULL, 10)));
	json_object_set_new(rep, "rlimit", json_pack("{s:o,s:o}",
	    "rtprio", rlim_json(RLIMIT_RTPRIO),
	    "memlock_bytes", rlim_json(RLIMIT_MEMLOCK)));
	json_object_set_new(rep, "capabilities", json_pack("{s:b,s:b}",
	    "sys_nice", cap_nice, "ipc_lock", cap_lock));
	json_object_set_new(rep, "sched_fifo", json_boolean(fifo));

	if (!fifo) {
		recommend(recs, "error", "sched_fifo", "SCHED_FIFO is not "
		    "allowed: raise RLIMIT_RTPRIO (an 'rtprio 99' line in "
		    "/etc/security/limits.conf, or LimitRTPRIO= in a systemd "
		    "unit) or grant CAP_SYS_NICE");
		errors++;
	}
	if (strcmp(model, "PREEMPT_RT") != 0) {
		snprintf(advice, sizeof(advice), "the kernel is %s, not "
		    "PREEMPT_RT: worst-case latency is not bounded; boot a "
		    "PREEMPT_RT kernel%s", model, strcmp(model,
		    "PREEMPT_DYNAMIC") == 0 && strcmp(dyn, "full") != 0 &&
		    (dyn[0] != '\0' || preempt_param == NULL ||
		    strcmp(preempt_param, "full") != 0) ?
		    ", or at least preempt=full" : "");
		recommend(recs, "warn", "preempt", advice);
	}
	if (isol[0] == '\0')
		recommend(recs, "info", "isolcpus", "no CPU is isolated: "
		    "isolcpus=N nohz_full=N rcu_nocbs=N on the kernel command "
		    "line and rt-loop -a N keep other work off the loop's CPU");
	else if (nohz[0] == '\0')
		recommend(recs, "info", "nohz_full", "isolated CPUs still take "
		    "the scheduler tick: add nohz_full= for the same CPUs");
	/*
	 * Where the device interrupts land: a loop thread on the CPU that
	 * takes a disk's or a NIC's interrupts wakes late whenever they come
	 * (here rt-loop's thread, left to the kernel, landed on the CPU of
	 * the virtio disk and counted 1.7 times cyclictest's late cycles).
	 */
	il = malloc(sizeof(*il));
	if (il != NULL && irq_read(root, il) == 0) {
		busy = quiet = 0;
		counts = json_array();
		for (c = 0; c < il->ncpu; c++) {
			json_array_append_new(counts,
			    json_integer((json_int_t)il->per_cpu[c]));
			if (il->per_cpu[c] > il->per_cpu[busy])
				busy = c;
			if (il->per_cpu[c] < il->per_cpu[quiet])
				quiet = c;
		}
		irqs = json_pack("{s:o,s:i,s:i}", "device_per_cpu", counts,
		    "busiest_cpu", busy, "quietest_cpu", quiet);
		if (il->top_name[busy][0] != '\0')
			json_object_set_new(irqs, "busiest_irq",
			    json_string(il->top_name[busy]));
		json_object_set_new(rep, "irqs", irqs);
		/* Uneven: the busiest CPU takes 1.5 times its fair share. */
		if (il->ncpu > 1 && il->total > 0 && 2 * il->per_cpu[busy] *
		    (unsigned long long)il->ncpu >= 3 * il->total) {
			snprintf(advice, sizeof(advice), "CPU %d takes %.0f%% "
			    "of the device interrupts (most from %s): run the "
			    "loop on CPU %d, which takes the fewest (rt-loop "
			    "-a %d), or move them with "
			    "/proc/irq/N/smp_affinity_list", busy,
			    100.0 * (double)il->per_cpu[busy] /
			    (double)il->total, il->top_name[busy][0] != '\0' ?
			    il->top_name[busy] : "an unnamed device", quiet,
			    quiet);
			recommend(recs, "info", "irq", advice);
		}
	}
	free(il);
	if (slow)
		recommend(recs, "warn", "governor", "a cpufreq governor other "
		    "than performance changes the clock under the loop: "
		    "cpupower frequency-set -g performance");
	if (rt_runtime[0] != '\0' && strcmp(rt_runtime, "-1") != 0)
		recommend(recs, "info", "sched_rt_runtime_us", "RT throttling "
		    "is on: real-time tasks get at most sched_rt_runtime_us per "
		    "sched_rt_period_us; it guards against runaway loops, so "
		    "leave it unless a loop must use a whole CPU");
	if (!cap_lock && memlock.rlim_cur != RLIM_INFINITY &&
	    memlock.rlim_cur < 64ULL * 1024 * 1024)
		recommend(recs, "warn", "memlock", "RLIMIT_MEMLOCK is small "
		    "and CAP_IPC_LOCK is missing: --mlock may fail; raise "
		    "'memlock' in limits.conf or LimitMEMLOCK=");
	if (strcmp(smt, "on") == 0)
		recommend(recs, "warn", "smt", "SMT is on: a sibling thread "
		    "shares the loop's core; isolate both siblings or write "
		    "off to /sys/devices/system/cpu/smt/control");
	more_checks(root, cpu, rep, recs);
	json_object_set_new(rep, "recommendations", recs);
	json_object_set_new(rep, "ready", json_boolean(errors == 0));
	return rep;
}
