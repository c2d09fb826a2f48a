/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pk_procfs.h"

#define S(lit) lit, sizeof(lit) - 1

static void
test_stat(void **state)
{
	static const char buf[] =
	    "cpu  4468 10 2536 65018 594 1 88 42 7 0\n"
	    "cpu0 1837 5 1013 33450 28 0 22 19 3 0\n"
	    "cpu3 2630 5 1523 31568 566 1 66 23 4 0\n"
	    "intr 123 4 5 6\n"
	    "ctxt 999\n"
	    "btime 1732300000\n"
	    "processes 10\n";
	struct pk_procfs_core cores[4];
	struct pk_procfs_stat st;
	struct pk_procfs_err e;

	(void)state;
	assert_int_equal(pk_procfs_stat_parse(S(buf), &st, cores, 4, &e), 0);
	assert_true(st.have_all);
	assert_int_equal(st.all.user, 4468);
	assert_int_equal(st.all.nice, 10);
	assert_int_equal(st.all.system, 2536);
	assert_int_equal(st.all.idle, 65018);
	assert_int_equal(st.all.iowait, 594);
	assert_int_equal(st.all.irq, 1);
	assert_int_equal(st.all.softirq, 88);
	assert_int_equal(st.all.steal, 42);
	assert_int_equal(st.ncores, 2);
	assert_int_equal(cores[1].id, 3);
	assert_int_equal(cores[1].t.user, 2630);
	assert_int_equal(st.btime, 1732300000ULL);
	assert_int_equal(pk_procfs_cpu_total(&st.all),
	    4468 + 10 + 2536 + 65018 + 594 + 1 + 88 + 42);
	/* Only as many cores as there is room for are stored, all counted. */
	assert_int_equal(pk_procfs_stat_parse(S(buf), &st, cores, 1, &e), 0);
	assert_int_equal(st.ncores, 2);
	assert_int_equal(cores[0].id, 0);
}

static void
test_stat_old_kernel_and_bad_lines(void **state)
{
	/* Linux 2.4: four fields; a bad cpuN line is skipped, not fatal. */
	static const char old[] = "cpu  1 2 3 4\ncpu0 1 2 3 4\n";
	static const char bad[] = "cpu  1 2 3 4 5\ncpu0 x y\ncpu1 1 2 3 4 5\n"
	    "btime soon\n";
	static const char none[] = "intr 1\n";
	struct pk_procfs_core cores[4];
	struct pk_procfs_stat st;
	struct pk_procfs_err e;

	(void)state;
	assert_int_equal(pk_procfs_stat_parse(S(old), &st, cores, 4, &e), 0);
	assert_int_equal(st.all.idle, 4);
	assert_int_equal(st.all.iowait, 0);
	assert_int_equal(pk_procfs_stat_parse(S(bad), &st, cores, 4, &e), -1);
	assert_int_equal(e.line, 2);
	assert_string_equal(e.what, "malformed cpuN line");
	assert_int_equal(st.ncores, 1);
	assert_int_equal(cores[0].id, 1);
	assert_int_equal(st.all.iowait, 5);
	assert_int_equal(pk_procfs_stat_parse(S(none), &st, cores, 4, &e), -1);
	assert_string_equal(e.what, "no cpu line");
	/* Too few fields. */
	assert_int_equal(pk_procfs_stat_parse(S("cpu  1 2 3\n"), &st, NULL, 0,
	    &e), -1);
}

static void
test_meminfo(void **state)
{
	static const char buf[] =
	    "MemTotal:       24683656 kB\n"
	    "MemFree:        23000000 kB\n"
	    "MemAvailable:   24176384 kB\n"
	    "SwapTotal:        102396 kB\n"
	    "SwapFree:          51198 kB\n"
	    "HugePages_Total:       0\n";
	static const char bad[] =
	    "MemTotal: 100 kB\n"
	    "nonsense\n"
	    "MemAvailable: lots kB\n"
	    "SwapTotal: 5 kB extra\n"
	    "SwapFree: 4 kB";
	struct pk_procfs_mem m;
	struct pk_procfs_err e;

	(void)state;
	assert_int_equal(pk_procfs_meminfo_parse(S(buf), &m, &e), 0);
	assert_int_equal(m.have, PK_MEM_TOTAL | PK_MEM_AVAIL |
	    PK_MEM_SWAP_TOTAL | PK_MEM_SWAP_FREE);
	assert_int_equal(m.total_kb, 24683656);
	assert_int_equal(m.avail_kb, 24176384);
	assert_int_equal(m.swap_total_kb, 102396);
	assert_int_equal(m.swap_free_kb, 51198);
	/* The first bad line is reported; good lines around it count. */
	assert_int_equal(pk_procfs_meminfo_parse(S(bad), &m, &e), -1);
	assert_int_equal(e.line, 2);
	assert_string_equal(e.what, "expected 'Key: value'");
	assert_int_equal(m.have, PK_MEM_TOTAL | PK_MEM_SWAP_FREE);
	assert_int_equal(m.total_kb, 100);
	assert_int_equal(m.swap_free_kb, 4);
}

static void
test_loadavg_uptime(void **state)
{
	struct pk_procfs_err e;
	double l[3], up;

	(void)state;
	assert_int_equal(pk_procfs_loadavg_parse(S("3.16 1.26 0.51 3/345 99\n"),
	    l, &e), 0);
	assert_true(l[0] == 3.16 && l[1] == 1.26 && l[2] == 0.51);
	assert_int_equal(pk_procfs_loadavg_parse(S("3.16 x\n"), l, &e), -1);
	assert_int_equal(pk_procfs_loadavg_parse(S("3.16 1.2.3 1\n"), l, &e), -1);
	assert_int_equal(pk_procfs_loadavg_parse(S(""), l, &e), -1);
	assert_int_equal(pk_procfs_uptime_parse(S("5000.50 7500.75\n"), &up,
	    &e), 0);
	assert_true(up == 5000.5);
	assert_int_equal(pk_procfs_uptime_parse(S("-1\n"), &up, &e), -1);
}

static void
test_psi(void **state)
{
	static const char buf[] =
	    "some avg10=72.21 avg60=43.92 avg300=14.40 total=123456\n"
	    "full avg10=0.00 avg60=0.50 avg300=1.25 total=0\n";
	static const char some_only[] =
	    "some avg10=1.00 avg60=2.00 avg300=3.00 total=9\n";
	static const char bad[] =
	    "some avg10=1.00 avg60=2.00\nfull avg10=1 avg60=2 avg300=3 total=1\n";
	struct pk_procfs_psi p;
	struct pk_procfs_err e;

	(void)state;
	assert_int_equal(pk_procfs_psi_parse(S(buf), &p, &e), 0);
	assert_true(p.have_some && p.have_full);
	assert_true(p.some[0] == 72.21 && p.some[1] == 43.92 && p.some[2] == 14.4);
	assert_true(p.full[0] == 0 && p.full[1] == 0.5 && p.full[2] == 1.25);
	assert_int_equal(pk_procfs_psi_parse(S(some_only), &p, &e), 0);
	assert_true(p.have_some && !p.have_full);
	assert_int_equal(pk_procfs_psi_parse(S(bad), &p, &e), -1);
	assert_int_equal(e.line, 1);
	assert_true(!p.have_some && p.have_full);
	assert_int_equal(pk_procfs_psi_parse(S("most avg10=1\n"), &p, &e), -1);
}

static void
test_disk_names(void **state)
{
	static const char *const ignored[] = {
		"loop0", "loop12", "ram0", "fd0", "sda1", "vdb2", "hdc3",
		"xvda1", "sdaa10", "nvme0n1p1", "mmcblk0p2", NULL
	};
	static const char *const kept[] = {
		"sda", "vda", "sdaa", "nvme0n1", "mmcblk0", "dm-0", "md127",
		"zram0", "loop", "nvme10n2", "mmcblk1", NULL
	};
	int i;

	(void)state;
	for (i = 0; ignored[i] != NULL; i++)
		if (!pk_procfs_disk_ignored(ignored[i]))
			fail_msg("'%s' should be ignored", ignored[i]);
	for (i = 0; kept[i] != NULL; i++)
		if (pk_procfs_disk_ignored(kept[i]))
			fail_msg("'%s' should be kept", kept[i]);
}

static void
test_diskstats(void **state)
{
	static const char buf[] =
	    "   7       0 loop0 10 0 20 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n"
	    " 254       0 vda 30872 6584 2430706 12554 10257 6894 1472872 9304 0 9080 23780 4666 86 134792 940 1603 981\n"
	    " 254       1 vda1 30000 6584 2430000 12554 10257 6894 1472000 9304 0 9000 23780\n"
	    " 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	    " 8 0 sdb 1 0 8 0 2 0 16 0 0 5 5\n"
	    "garbage\n";
	struct pk_procfs_disk d[4];
	struct pk_procfs_err e;
	unsigned n;

	(void)state;
	assert_int_equal(pk_procfs_diskstats_parse(S(buf), d, 4, &n, &e), -1);
	assert_int_equal(e.line, 6);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].name, "vda");
	assert_int_equal(d[0].rd_sectors, 2430706);
	assert_int_equal(d[0].wr_sectors, 1472872);
	assert_int_equal(d[0].io_ms, 9080);
	assert_string_equal(d[1].name, "sdb");
	assert_int_equal(d[1].io_ms, 5);
	/* Room for one only. */
	assert_int_equal(pk_procfs_diskstats_parse(S(buf), d, 1, &n, &e), -1);
	assert_int_equal(n, 1);
}

static void
test_netdev(void **state)
{
	static const char buf[] =
	    "Inter-|   Receive                                                |  Transmit\n"
	    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
	    "    lo:    3267      29    0    0    0     0          0         0     3267      29    0    0    0     0       0          0\n"
	    "  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n"
	    "  eth0:74500206    2124    0    0    0     0          0         0    78510     997    0    0    0     0       0          0\n"
	    "  wlan0: 1 2 3\n";
	struct pk_procfs_net d[4];
	struct pk_procfs_err e;
	unsigned n;

	(void)state;
	assert_int_equal(pk_procfs_netdev_parse(S(buf), d, 4, &n, &e), -1);
	assert_int_equal(e.line, 6);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].name, "lo");
	assert_int_equal(d[0].rx_bytes, 3267);
	/* A counter glued to the colon, as the kernel prints big numbers. */
	assert_string_equal(d[1].name, "eth0");
	assert_int_equal(d[1].rx_bytes, 74500206);
	assert_int_equal(d[1].tx_bytes, 78510);
}

static void
test_pid_stat(void **state)
{
	static const char buf[] =
	    "1234 (robot (main) x) R 1 1234 1234 0 -1 4194560 1000 0 5 0 "
	    "600 150 0 0 20 -5 4 0 12345 123456789 2560 18446744073709551615 "
	    "0 0 0 0 0\n";
	struct pk_procfs_pid p;
	struct pk_procfs_err e;

	(void)state;
	assert_int_equal(pk_procfs_pid_stat_parse(S(buf), &p, &e), 0);
	assert_string_equal(p.comm, "robot (main) x");
	assert_int_equal(p.utime, 600);
	assert_int_equal(p.stime, 150);
	assert_int_equal(p.threads, 4);
	assert_int_equal(p.rss_pages, 2560);
	assert_int_equal(pk_procfs_pid_stat_parse(S("1234 (x) R 1 2 3\n"), &p,
	    &e), -1);
	assert_int_equal(pk_procfs_pid_stat_parse(S("no parens"), &p, &e), -1);
	assert_int_equal(pk_procfs_pid_stat_parse(S("1 )x( R"), &p, &e), -1);
}

static void
test_keyval(void **state)
{
	static const char *const keys[] = {
		"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches",
		"VmRSS", NULL
	};
	static const char status[] =
	    "Name:\tbash\nState:\tS (sleeping)\nVmRSS:\t   3764 kB\n"
	    "voluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n";
	static const char cpustat[] =
	    "usage_usec 1000\nuser_usec 800\nnr_throttled x\n";
	static const char *const ckeys[] = { "usage_usec", "nr_throttled", NULL };
	struct pk_procfs_err e;
	uint64_t v[3];
	unsigned found;

	(void)state;
	assert_int_equal(pk_procfs_keyval_parse(S(status), keys, v, &found,
	    &e), 0);
	assert_int_equal(found, 7);
	assert_int_equal(v[0], 120);
	assert_int_equal(v[1], 7);
	assert_int_equal(v[2], 3764);
	assert_int_equal(pk_procfs_keyval_parse(S(cpustat), ckeys, v, &found,
	    &e), -1);
	assert_int_equal(found, 1);
	assert_int_equal(v[0], 1000);
	assert_int_equal(e.line, 3);
}

static void
test_schedstat(void **state)
{
	struct pk_procfs_err e;
	uint64_t v[3];

	(void)state;
	assert_int_equal(pk_procfs_schedstat_parse(S("177844 97302 2\n"), v,
	    &e), 0);
	assert_int_equal(v[0], 177844);
	assert_int_equal(v[1], 97302);
	assert_int_equal(v[2], 2);
	assert_int_equal(pk_procfs_schedstat_parse(S("1 2\n"), v, &e), -1);
	assert_int_equal(pk_procfs_schedstat_parse(S("1 2 3 4\n"), v, &e), -1);
	assert_string_equal(e.what, "trailing text after the counters");
}

static void
test_scalars(void **state)
{
	struct pk_procfs_err e;
	uint64_t u;
	int64_t i;
	char w[16];

	(void)state;
	assert_int_equal(pk_procfs_u64_parse(S("1500000\n"), &u, &e), 0);
	assert_int_equal(u, 1500000);
	assert_int_equal(pk_procfs_u64_parse(S("max\n"), &u, &e), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(pk_procfs_u64_parse(S("12 34\n"), &u, &e), -1);
	assert_int_equal(pk_procfs_u64_parse(S("99999999999999999999\n"), &u,
	    &e), -1);
	assert_int_equal(pk_procfs_i64_parse(S("-5000\n"), &i, &e), 0);
	assert_int_equal(i, -5000);
	assert_int_equal(pk_procfs_i64_parse(S("48900"), &i, &e), 0);
	assert_int_equal(i, 48900);
	assert_int_equal(pk_procfs_i64_parse(S("-"), &i, &e), -1);
	assert_int_equal(pk_procfs_hex_parse(S("50005\n"), &u, &e), 0);
	assert_int_equal(u, 0x50005);
	assert_int_equal(pk_procfs_hex_parse(S("0x8000F\n"), &u, &e), 0);
	assert_int_equal(u, 0x8000f);
	assert_int_equal(pk_procfs_hex_parse(S("throttled\n"), &u, &e), -1);
	assert_int_equal(pk_procfs_hex_parse(S("\n"), &u, &e), -1);
	assert_int_equal(pk_procfs_hex_parse(S("11112222333344445"), &u, &e), -1);
	assert_int_equal(pk_procfs_word_parse(S("cpu_thermal\n"), w, sizeof(w),
	    &e), 0);
	assert_string_equal(w, "cpu_thermal");
	assert_int_equal(pk_procfs_word_parse(S("a-much-too-long-type\n"), w,
	    sizeof(w), &e), -1);
	assert_int_equal(pk_procfs_word_parse(S("\n"), w, sizeof(w), &e), -1);
	assert_string_equal(pk_procfs_throttle_names[PK_THROTTLE_SOFT_TEMP_LIMIT],
	    "soft_temp_limit");
}

static void
test_vmstat(void **state)
{
	static const char buf[] =
	    "nr_free_pages 123456\n"
	    "nr_zone_inactive_anon 1\n"
	    "pgpgin 1638365\n"
	    "pgpgout 2437668\n"
	    "pswpin 12\n"
	    "pswpout 34\n"
	    "pgalloc_normal 99\n"
	    "pgfault 21207230\n"
	    "pgmajfault 1119\n"
	    "oom_kill 2\n"
	    "unevictable_pgs_culled 0\n";
	/* Before Linux 4.13 there is no oom_kill; a bad wanted line. */
	static const char old[] =
	    "pgpgin 10\npgpgout x\npswpin 1\npswpout 2\npgfault 5 6\n"
	    "pgmajfault 3\npgfault_extra 9\n";
	struct pk_procfs_vmstat vm;
	struct pk_procfs_err e;

	(void)state;
	assert_int_equal(pk_procfs_vmstat_parse(S(buf), &vm, &e), 0);
	assert_int_equal(vm.have, 127);
	assert_int_equal(vm.pgpgin, 1638365);
	assert_int_equal(vm.pgpgout, 2437668);
	assert_int_equal(vm.pswpin, 12);
	assert_int_equal(vm.pswpout, 34);
	assert_int_equal(vm.pgfault, 21207230);
	assert_int_equal(vm.pgmajfault, 1119);
	assert_int_equal(vm.oom_kill, 2);
	/* Without a trailing newline too. */
	assert_int_equal(pk_procfs_vmstat_parse(buf, sizeof(buf) - 2, &vm, &e),
	    0);
	assert_int_equal(vm.have, 127);
	assert_int_equal(pk_procfs_vmstat_parse(S(old), &vm, &e), -1);
	assert_int_equal(e.line, 2);
	assert_string_equal(e.what, "expected 'name number'");
	assert_int_equal(vm.have, PK_VMSTAT_PGPGIN | PK_VMSTAT_PSWPIN |
	    PK_VMSTAT_PSWPOUT | PK_VMSTAT_PGMAJFAULT);
	assert_int_equal(vm.pgmajfault, 3);
	assert_int_equal(pk_procfs_vmstat_parse(S(""), &vm, &e), 0);
	assert_int_equal(vm.have, 0);
}

/* Every prefix of every sample input parses without reading past it. */
static void
test_truncations(void **state)
{
	static const char *const inputs[] = {
		"cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8\nbtime 17\n",
		"MemTotal: 100 kB\nMemAvailable: 50 kB\n",
		"some avg10=1.00 avg60=2.00 avg300=3.00 total=1\n",
		"1 (a) R 1 1 1 0 -1 0 0 0 0 0 6 1 0 0 20 0 4 0 1 1 25\n",
		"8 0 sda 1 0 8 0 2 0 16 0 0 5 5\n",
		"nr_free_pages 1\npgpgin 10\npgfault 20\noom_kill 1\n",
	};
	struct pk_procfs_core cores[2];
	struct pk_procfs_stat st;
	struct pk_procfs_mem m;
	struct pk_procfs_psi p;
	struct pk_procfs_pid pid;
	struct pk_procfs_disk d[2];
	struct pk_procfs_vmstat vm;
	struct pk_procfs_err e;
	size_t i, n;
	unsigned nd;
	char buf[128];

	(void)state;
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		size_t len = strlen(inputs[i]);

		for (n = 0; n <= len; n++) {
			/* Poison after the prefix: a read past it would parse. */
			memset(buf, '9', sizeof(buf));
			memcpy(buf, inputs[i], n);
			(void)pk_procfs_stat_parse(buf, n, &st, cores, 2, &e);
			(void)pk_procfs_meminfo_parse(buf, n, &m, &e);
			(void)pk_procfs_psi_parse(buf, n, &p, &e);
			(void)pk_procfs_pid_stat_parse(buf, n, &pid, &e);
			(void)pk_procfs_diskstats_parse(buf, n, d, 2, &nd, &e);
			(void)pk_procfs_vmstat_parse(buf, n, &vm, &e);
		}
	}
	/* A stat line cut inside a number does not see the poison digits. */
	memset(buf, '9', sizeof(buf));
	memcpy(buf, "cpu  1 2 3 4", 12);
	assert_int_equal(pk_procfs_stat_parse(buf, 12, &st, NULL, 0, &e), 0);
	assert_int_equal(st.all.idle, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_stat_old_kernel_and_bad_lines),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_loadavg_uptime),
		cmocka_unit_test(test_psi),
		cmocka_unit_test(test_disk_names),
		cmocka_unit_test(test_diskstats),
		cmocka_unit_test(test_netdev),
		cmocka_unit_test(test_pid_stat),
		cmocka_unit_test(test_keyval),
		cmocka_unit_test(test_schedstat),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_vmstat),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests_name("pk_procfs", tests, NULL, NULL);
}
