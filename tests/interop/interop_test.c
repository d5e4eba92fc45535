/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/interop_test.c - the simulated Hyper-V host against a
 * VMBus client nobody here wrote: DPDK's netvsc PMD (Debian's DPDK 22.11)
 * over the uio door (sim/vmbus/uio.c), and pvio's own NetVSC over the same
 * door through backends/vmbus/hostif_uio.c.  One host serves both; every
 * frame is checked byte for byte by its receiver (frames.h).
 *
 *   reflect   dpdk_netvsc.c (tests/interop) and pvio bring the port up,
 *             report the MAC, link and speed the host configured, follow
 *             `link down/up`, and get back every frame they send: small
 *             ones through send-buffer sections, large ones through page
 *             ranges (the host's per-path counters say so), received
 *             through the receive buffer;
 *   command   the built `pvio` command over the same door: `pvio info`
 *             names the back end, protocol, MAC, link and MTU, `pvio net
 *             loopback` gets every frame back, small and MTU-sized;
 *   bridge    DPDK on the uio NIC and pvio on its bridged peer over the
 *             sim hostif socket exchange frames both ways, and so do pvio
 *             over uio and pvio over the socket;
 *   csum      DPDK's TX checksum offload, done by the host;
 *   testpmd   dpdk-testpmd's control plane (`show port info`), link
 *             state included (its forwarding is dead on netvsc in 22.11,
 *             shared/specs/vmbus-uio-dpdk.md);
 *   clients   a client that never gets an answer (DPDK's NVSP waits never
 *             time out) is killed by its pid; the next one gets fresh
 *             rings; a rescind takes the device from pvio (removed).
 *
 * Each client runs in a private mount namespace holding the fake sysfs
 * tree and /dev/uioN (fakeuio.c) and is stopped by pid, also on failure.
 * The host needs root (fanotify, /proc/PID/map_files), as CI runs.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pvio/net.h>
#include <pvio/transport.h>

#include "fakeuio.h"
#include "frames.h"
#include "pvio_client.h"
#include "simvmbus_tguest.h"

#define T 10000 /* ms, each exchange with a client */

static const char *const MAC_UIO = "00:15:5d:1a:00:01";
static const char *const MAC_PEER = "00:15:5d:1a:00:02";

static struct tg_host host;
static char udir[64];
static char uuid[256];
static char dpdk_app[512];
static char pvio_cmd[512];

/* --------------------------------------------------------------- host */
static void start(const char *nic0, const char *nic1)
{
	strcpy(udir, "/tmp/hv-uio.XXXXXX");
	if (!mkdtemp(udir))
		abort();
	const char *args[12];
	int n = 0;
	args[n++] = "--nic";
	args[n++] = nic0;
	if (nic1) {
		args[n++] = "--nic";
		args[n++] = nic1;
	}
	args[n++] = "--uio";
	args[n++] = udir;
	args[n++] = "-v";
	args[n] = NULL;
	int r = tg_host_start(&host, args);
	if (r < 0) {
		fprintf(stderr, "cannot start pvio sim hyperv: %s\n",
			strerror(-r));
		abort();
	}
	char devs[128];
	snprintf(devs, sizeof(devs), "%s/vmbus/devices", udir);
	DIR *d = opendir(devs);
	struct dirent *e;
	uuid[0] = 0;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			snprintf(uuid, sizeof(uuid), "%s", e->d_name);
	if (d)
		closedir(d);
	const char *b = getenv("top_builddir");
	snprintf(dpdk_app, sizeof(dpdk_app), "%s/tests/interop/dpdk_netvsc",
		 b ? b : ".");
	/* the built pvio command (make check sets PVIO, an absolute path,
	 * also in VPATH builds); the host above is the same program */
	const char *p = getenv("PVIO");
	if (p)
		snprintf(pvio_cmd, sizeof(pvio_cmd), "%s", p);
	else
		snprintf(pvio_cmd, sizeof(pvio_cmd), "%s/pvio", b ? b : ".");
}

static void setup_reflect(void)
{
	start("mac=00:15:5d:1a:00:01,uio,speed=25000", NULL);
}

static void setup_bridge(void)
{
	start("mac=00:15:5d:1a:00:01,uio,mode=bridge:1",
	      "mac=00:15:5d:1a:00:02");
}

static void teardown(void)
{
	tg_host_stop(&host);
	if (!getenv("SIMVMBUS_KEEP")) {
		tg_host_cleanup(&host);
		/* the host removed its tree; the clients' logs remain */
		char cmd[160];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", udir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", udir);
	}
}

static const char *ctl(const char *cmd)
{
	static char out[8192];
	int r = tg_ctl(host.sock, cmd, out, sizeof(out));
	ck_assert_msg(r == 0, "ctl %s: %d %s", cmd, r, out);
	return out;
}

/* a counter of the NIC's status line */
static unsigned long long nic_counter(const char *dev, const char *key)
{
	char cmd[64], k[32];
	snprintf(cmd, sizeof(cmd), "status %s", dev);
	const char *st = ctl(cmd);
	snprintf(k, sizeof(k), " %s=", key);
	const char *p = strstr(st, k);
	ck_assert_msg(p, "no %s in %s", key, st);
	return strtoull(p + strlen(k), NULL, 0);
}

START_TEST(host_exits_clean)
{
	const char *st = ctl("status");
	ck_assert_ptr_nonnull(strstr(st, "host socket="));
	ck_assert_msg(!strstr(st, " bad=1"), "%s", st);
	ctl("quit");
	char path[64], s[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", host.pid);
	bool gone = false;
	for (int i = 0; i < 1000 && !gone; i++) {
		FILE *f = fopen(path, "r");
		if (!f)
			break;
		size_t n = fread(s, 1, sizeof(s) - 1, f);
		fclose(f);
		s[n] = 0;
		char *rp = strrchr(s, ')');
		gone = rp && (rp[2] == 'Z' || rp[2] == 'X');
		if (!gone)
			usleep(10000);
	}
	ck_assert_msg(!tg_host_log_has(&host, "Sanitizer") &&
			      !tg_host_log_has(&host, "runtime error"),
		      "sanitizer report in %s", host.log);
	/* the door took its tree and device file with it */
	char dev[96];
	snprintf(dev, sizeof(dev), "%s/dev/uio0", udir);
	ck_assert_int_ne(access(dev, F_OK), 0);
}
END_TEST

/* ------------------------------------------------------------- clients */
static void need_root(void)
{
	char why[160];
	if (!fu_can_run(why, sizeof(why)))
		ck_abort_msg("the interop tests %s; run make check as root "
			     "(CI does)", why);
}

/* The previous client is gone (its last close reached the host). */
static void device_free(void)
{
	for (int i = 0; i < 500; i++) {
		if (strstr(ctl("status netvsc0"), "openers=0"))
			return;
		usleep(20000);
	}
	ck_abort_msg("a previous client still holds the device: %s",
		     ctl("status netvsc0"));
}

static void dpdk_start_with(struct fu_child *c, const char *opt)
{
	char peer[32], o[16];
	snprintf(peer, sizeof(peer), "%s", MAC_PEER);
	snprintf(o, sizeof(o), "%s", opt ? opt : "");
	char *argv[] = { dpdk_app, "--no-huge", "-m", "64", "--no-shconf",
			 "--no-pci", "-l", "0", "--log-level", "lib.eal:error",
			 "--", "--peer", peer, opt ? o : NULL, NULL };
	need_root();
	device_free();
	ck_assert_int_eq(fu_spawn(c, udir, 1, argv, NULL, NULL), 0);
	char line[256];
	if (!fu_expect(c, "ready", line, sizeof(line), T)) {
		fu_kill(c);
		ck_abort_msg("DPDK's netvsc did not come up: '%s'; see %s",
			     c->buf, c->log);
	}
}

static void dpdk_start(struct fu_child *c)
{
	dpdk_start_with(c, NULL);
}

static struct pvio_client_args pargs;
static char paddr[300];

static void pvio_start(struct fu_child *c)
{
	snprintf(paddr, sizeof(paddr), "vmbus-uio:%s", uuid);
	pargs.address = paddr;
	fr_parse_mac(MAC_PEER, pargs.peer);
	need_root();
	device_free();
	ck_assert_int_eq(fu_spawn(c, udir, 1, NULL, pvio_client_main, &pargs),
			 0);
	char line[256];
	if (!fu_expect(c, "ready", line, sizeof(line), T)) {
		fu_kill(c);
		ck_abort_msg("pvio over vmbus-uio did not come up: '%s'; see %s",
			     c->buf, c->log);
	}
}

/* Say cmd, expect "ok" (the line goes to out). */
static void ask(struct fu_child *c, const char *cmd, char *out, size_t cap)
{
	char line[512];
	ck_assert_int_eq(fu_say(c, cmd), 0);
	int r = fu_expect(c, "", line, sizeof(line), T);
	if (!r || strncmp(line, "ok", 2)) {
		fu_kill(c);
		ck_abort_msg("'%s' answered '%s' (log %s)", cmd,
			     r ? line : "nothing", c->log);
	}
	if (out)
		snprintf(out, cap, "%s", line);
}

static void quit(struct fu_child *c)
{
	ask(c, "quit", NULL, 0);
	int st = fu_wait(c, T);
	ck_assert_msg(st == 0, "client exit status %d (log %s)", st, c->log);
}

/* ------------------------------------------------------------- reflect */
static void reflect_case(struct fu_child *c, bool dpdk)
{
	char line[512];
	ask(c, "info", line, sizeof(line));
	/* what the host configured, as RNDIS told the client */
	ck_assert_msg(strstr(line, "mac=00:15:5d:1a:00:01"), "%s", line);
	ck_assert_msg(strstr(line, "link=up"), "%s", line);
	ck_assert_msg(strstr(line, "speed=25000"), "%s", line);
	ck_assert_msg(strstr(line, "mtu=1500"), "%s", line);
	if (!dpdk)
		ck_assert_msg(strstr(line, "backend=vmbus-uio") &&
				      strstr(line, "NVSP 6.1"),
			      "%s", line);
	unsigned long long s0 = nic_counter("netvsc0", "tx_sect");
	unsigned long long g0 = nic_counter("netvsc0", "tx_gpa");
	/* 40 cycles of the eleven sizes, every byte checked */
	ask(c, "reflect 440", line, sizeof(line));
	ck_assert_msg(strstr(line, "reflected=440"), "%s", line);
	/* six of eleven are at most 512 bytes: send-buffer sections; the
	 * rest came from the client's pages */
	ck_assert_uint_eq(nic_counter("netvsc0", "tx_sect") - s0, 40 * FR_SMALL);
	ck_assert_uint_eq(nic_counter("netvsc0", "tx_gpa") - g0,
			  40 * (FR_NSIZES - FR_SMALL));
	if (dpdk)
		ck_assert_msg(!strstr(line, "chained=0"),
			      "no multi-segment frame: %s", line);
	ask(c, "stats", line, sizeof(line));
	if (dpdk)
		ck_assert_msg(strstr(line, "ipackets=440 opackets=440") &&
				      strstr(line, "ierrors=0 oerrors=0"),
			      "%s", line);
	else
		ck_assert_msg(strstr(line, "rx_errors=0 errors=0"), "%s",
			      line);
	/* the link follows the host */
	ctl("link netvsc0 down");
	ask(c, "link down", NULL, 0);
	ask(c, "info", line, sizeof(line));
	ck_assert_msg(strstr(line, "link=down"), "%s", line);
	ctl("link netvsc0 up");
	ask(c, "link up", NULL, 0);
	ask(c, "reflect 22", NULL, 0);
	quit(c);
	/* the client is gone: the door released the channel */
	ck_assert_ptr_nonnull(strstr(ctl("status netvsc0"), "open=0"));
}

START_TEST(dpdk_netvsc_reflect_and_link)
{
	struct fu_child c;
	dpdk_start(&c);
	reflect_case(&c, true);
}
END_TEST

START_TEST(pvio_vmbus_uio_reflect_and_link)
{
	struct fu_child c;
	pvio_start(&c);
	reflect_case(&c, false);
}
END_TEST

/* DPDK leaves IPv4, TCP and UDP checksums to the host (the NDIS
 * offloads the host offers): every frame comes back complete. */
START_TEST(dpdk_checksum_offload)
{
	struct fu_child c;
	dpdk_start_with(&c, "--csum");
	char line[256];
	ask(&c, "csum 60", line, sizeof(line));
	ck_assert_msg(strstr(line, "checksummed=60"), "%s", line);
	quit(&c);
}
END_TEST

/* A client that never gets an answer spins (DPDK's NVSP waits have no
 * timeout): it is killed by its pid, and the next client starts on fresh
 * rings. */
START_TEST(silent_host_client_is_killed)
{
	char dev[160];
	snprintf(dev, sizeof(dev), "%s/dev/uio0", udir);
	device_free();
	ctl("delay 60000");
	struct fu_child c;
	char peer[32];
	snprintf(peer, sizeof(peer), "%s", MAC_PEER);
	char *argv[] = { dpdk_app, "--no-huge", "-m", "64", "--no-shconf",
			 "--no-pci", "-l", "0", "--", "--peer", peer, NULL };
	need_root();
	ck_assert_int_eq(fu_spawn(&c, udir, 1, argv, NULL, NULL), 0);
	char line[64];
	ck_assert_int_eq(fu_expect(&c, "ready", line, sizeof(line), 3000), 0);
	pid_t pid = c.pid;
	fu_kill(&c);
	ck_assert_int_eq(kill(pid, 0), -1);
	ctl("delay 0");
	struct fu_child d;
	dpdk_start(&d);
	ask(&d, "reflect 11", NULL, 0);
	quit(&d);
}
END_TEST

START_TEST(testpmd_control_plane)
{
	struct fu_child c;
	/* line-buffered output, so the harness sees each answer */
	char *argv[] = { "/usr/bin/stdbuf", "-oL", "/usr/bin/dpdk-testpmd",
			 "--no-huge", "-m", "64",
			 "--no-shconf", "--no-pci", "-l", "0-1", "--",
			 "-i", "--no-lsc-interrupt", "--total-num-mbufs=2048",
			 NULL };
	need_root();
	device_free();
	ck_assert_int_eq(fu_spawn(&c, udir, 1, argv, NULL, NULL), 0);
	char line[512];
	if (!fu_expect(&c, "Port 0: 00:15:5D:1A:00:01", line, sizeof(line),
		       T)) {
		fu_kill(&c);
		ck_abort_msg("testpmd did not configure the netvsc port; see "
			     "%s", c.log);
	}
	ck_assert_int_eq(fu_say(&c, "show port info 0"), 0);
	static const char *const want[] = {
		"MAC address: 00:15:5D:1A:00:01", "Driver name: net_netvsc",
		"Link status: up", "Link speed: 25 Gbps", "MTU: 1500",
	};
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!fu_expect(&c, want[i], line, sizeof(line), T)) {
			fu_kill(&c);
			ck_abort_msg("testpmd's port info lacks '%s': %s",
				     want[i], c.buf);
		}
	}
	ctl("link netvsc0 down");
	ck_assert_int_eq(fu_say(&c, "show port info 0"), 0);
	if (!fu_expect(&c, "Link status: down", line, sizeof(line), T)) {
		fu_kill(&c);
		ck_abort_msg("testpmd did not see the link go down");
	}
	ctl("link netvsc0 up");
	ck_assert_int_eq(fu_say(&c, "quit"), 0);
	if (!fu_expect(&c, "Bye", line, sizeof(line), T))
		fu_kill(&c);
	ck_assert_int_eq(fu_wait(&c, T), 0);
}
END_TEST

START_TEST(pvio_over_uio_sees_a_rescind)
{
	struct fu_child c;
	pvio_start(&c);
	ask(&c, "reflect 11", NULL, 0);
	ctl("rescind netvsc0");
	/* the device left sysfs: pvio's control path marks it removed */
	char line[512];
	bool removed = false;
	for (int i = 0; i < 100 && !removed; i++) {
		ask(&c, "state", line, sizeof(line));
		removed = strstr(line, "state=2") != NULL;
		if (!removed)
			usleep(20000);
	}
	ck_assert_msg(removed, "still %s", line);
	ck_assert_msg(strstr(line, "lost") || strstr(line, "rescinded"), "%s",
		      line);
	quit(&c);
	ctl("offer netvsc0");
	/* offered again under a new relid: a new client works */
	char devs[400];
	snprintf(devs, sizeof(devs), "%s/vmbus/devices/%s/id", udir, uuid);
	bool back = false;
	for (int i = 0; i < 100 && !back; i++) {
		back = access(devs, R_OK) == 0;
		if (!back)
			usleep(20000);
	}
	ck_assert(back);
	pvio_start(&c);
	ask(&c, "reflect 11", NULL, 0);
	quit(&c);
}
END_TEST

/* ------------------------------------------------------- the pvio command */
/* The pvio command itself (tools/, the program users run), not a test
 * program: `pvio info` and `pvio net loopback` at vmbus-uio:UUID, each a
 * child in the fake namespace with its stdin closed, bounded in time and
 * killed by its pid when it overruns. */
struct tool_run {
	int status;        /* exit code, -1 when killed */
	char out[8192];    /* its stdout */
	char err[2048];    /* its stderr */
};

static void read_log(const char *path, char *buf, size_t cap)
{
	buf[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = 0;
	fclose(f);
}

static void run_tool(char *const argv[], struct tool_run *r)
{
	static struct fu_child c;
	need_root();
	device_free();
	ck_assert_int_eq(fu_spawn(&c, udir, 1, argv, NULL, NULL), 0);
	close(c.in);
	c.in = -1;
	if (!fu_drain(&c, 3 * T)) {
		fu_kill(&c);
		read_log(c.log, r->err, sizeof(r->err));
		ck_abort_msg("pvio %s %s did not finish in %d ms (or wrote more "
			     "than its buffer holds); stdout '%s', "
			     "stderr '%s'",
			     argv[1], argv[2], 3 * T, c.buf, r->err);
	}
	r->status = fu_wait(&c, T);
	size_t k = c.len < sizeof(r->out) - 1 ? c.len : sizeof(r->out) - 1;
	memcpy(r->out, c.buf, k);
	r->out[k] = 0;
	read_log(c.log, r->err, sizeof(r->err));
	/* its exit closed the device: the door released the channel */
	device_free();
}

/* One whole line of the command's output. */
static void has_line(const struct tool_run *r, const char *line)
{
	char want[512];
	snprintf(want, sizeof(want), "\n%s\n", line);
	size_t n = strlen(line);
	bool first = !strncmp(r->out, line, n) && r->out[n] == '\n';
	ck_assert_msg(first || strstr(r->out, want),
		      "no line '%s' in the output:\n%s", line, r->out);
}

START_TEST(pvio_command_info_over_uio)
{
	snprintf(paddr, sizeof(paddr), "vmbus-uio:%s", uuid);
	char *argv[] = { pvio_cmd, "info", paddr, NULL };
	struct tool_run r;
	run_tool(argv, &r);
	ck_assert_msg(r.status == 0, "pvio info: exit status %d; stderr '%s'",
		      r.status, r.err);
	ck_assert_msg(!r.err[0], "pvio info said on stderr: '%s'", r.err);
	char line[400];
	snprintf(line, sizeof(line), "device      %s", paddr);
	has_line(&r, line);
	has_line(&r, "class       net");
	has_line(&r, "hypervisor  Hyper-V (vmbus family)");
	has_line(&r, "back end    vmbus-uio");
	/* NVSP 6.1 negotiated with the host, RNDIS on top */
	has_line(&r, "protocol    NVSP 6.1 / NDIS 6.30 / RNDIS 1.0");
	has_line(&r, "state       ready");
	/* the NIC the host configured: mac=...:01, speed=25000 (Mbit/s) */
	ck_assert_msg(strstr(r.out, " link_speed=25000000000bps"), "%s",
		      r.out);
	has_line(&r, "network");
	has_line(&r, "  mac               00:15:5d:1a:00:01");
	has_line(&r, "  mtu               1500");
	has_line(&r, "  link              up");
}
END_TEST

/*
 * `pvio net loopback` of count frames of size bytes, all back and
 * verified, sent through the path the size picks: send-buffer sections up
 * to 512 bytes, page ranges above (the host's counters).  --window 8: the
 * fake device's receive buffer holds 37 frames (the host keeps its part
 * that aliases the ring, sim/vmbus/uio.c), fewer than the default window
 * of half the ring (128) - with it the host drops what it has no room
 * for, as the other clients here get windows of 8 too.
 */
static void tool_loopback(unsigned count, unsigned size, bool pages)
{
	char n[16], sz[16], line[400];
	snprintf(paddr, sizeof(paddr), "vmbus-uio:%s", uuid);
	snprintf(n, sizeof(n), "%u", count);
	snprintf(sz, sizeof(sz), "%u", size);
	char *argv[] = { pvio_cmd, "net", "loopback", paddr, "--count", n,
			 "--size", sz, "--window", "8", NULL };
	unsigned long long s0 = nic_counter("netvsc0", "tx_sect");
	unsigned long long g0 = nic_counter("netvsc0", "tx_gpa");
	unsigned long long d0 = nic_counter("netvsc0", "rx_dropped");
	struct tool_run r;
	run_tool(argv, &r);
	ck_assert_msg(r.status == 0,
		      "pvio net loopback --size %u: exit status %d; stdout "
		      "'%s', stderr '%s'",
		      size, r.status, r.out, r.err);
	ck_assert_msg(!r.err[0], "pvio net loopback said on stderr: '%s'",
		      r.err);
	snprintf(line, sizeof(line),
		 "%s: %u frames of %u bytes on 1 queue, window 8", paddr,
		 count, size);
	has_line(&r, line);
	/* every frame came back, byte for byte */
	snprintf(line, sizeof(line),
		 "sent %u  received %u  corrupted 0  duplicate 0  lost 0  "
		 "unsent 0  foreign 0",
		 count, count);
	has_line(&r, line);
	ck_assert_msg(strstr(r.out, " frames/s round trip ("), "%s", r.out);
	/* what the host saw */
	unsigned long long ds = nic_counter("netvsc0", "tx_sect") - s0;
	unsigned long long dg = nic_counter("netvsc0", "tx_gpa") - g0;
	ck_assert_uint_eq(ds, pages ? 0 : count);
	ck_assert_uint_eq(dg, pages ? count : 0);
	ck_assert_uint_eq(nic_counter("netvsc0", "rx_dropped") - d0, 0);
}

START_TEST(pvio_command_loopback_over_uio)
{
	tool_loopback(1000, 64, false);  /* send-buffer sections */
	tool_loopback(300, 1514, true);  /* MTU-sized: page ranges */
}
END_TEST

/* -------------------------------------------------------------- bridge */
/* pvio over the sim hostif socket on the bridged peer */
static pvio_net *peer_open(pvio_ctx **ctx)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .timeout_ms = 5000 };
	ck_assert_int_eq(pvio_ctx_new(&o, ctx), 0);
	char a[160];
	snprintf(a, sizeof(a), "sim-hyperv:%s/netvsc1", host.sock);
	pvio_net *n = NULL;
	struct pvio_net_opts no = { .struct_size = sizeof(no) };
	ck_assert_msg(pvio_net_open(*ctx, a, &no, &n) == 0, "%s",
		      pvio_errmsg(*ctx));
	return n;
}

static void peer_recv(pvio_net *n, const uint8_t *self, const uint8_t *src,
		      uint32_t seq, uint32_t cnt)
{
	uint8_t want[1514], got[2048];
	uint64_t end = pvio_now_ns(pvio_net_ctx(n)) + 5000000000ull;
	for (uint32_t i = 0; i < cnt;) {
		int r = pvio_net_recv(n, 0, got, sizeof(got), NULL);
		ck_assert_int_ge(r, 0);
		if (!r) {
			ck_assert_msg(pvio_now_ns(pvio_net_ctx(n)) < end,
				      "%u of %u frames from the uio client", i,
				      cnt);
			pvio_net_wait(n, 0, 100000000);
			continue;
		}
		uint16_t wl = fr_make(want, self, src, 'd', seq + i);
		ck_assert_int_eq(r, wl);
		ck_assert_mem_eq(got, want, wl);
		i++;
	}
}

static void peer_send(pvio_net *n, const uint8_t *self, const uint8_t *dst,
		      uint32_t seq, uint32_t cnt)
{
	uint8_t f[1514];
	for (uint32_t i = 0; i < cnt; i++) {
		uint16_t l = fr_make(f, dst, self, 'p', seq + i);
		int r;
		uint64_t end = pvio_now_ns(pvio_net_ctx(n)) + 5000000000ull;
		while ((r = pvio_net_send(n, 0, f, l, NULL)) == -EAGAIN) {
			ck_assert(pvio_now_ns(pvio_net_ctx(n)) < end);
			pvio_net_wait(n, 0, 100000000);
		}
		ck_assert_int_eq(r, 0);
	}
}

/* Wait (bounded) until the uio client's NIC has room for n frames in its
 * receive buffer: the host drops frames it has no room for, as a switch
 * port would, and the client returns the room only as fast as the host
 * looks at its ring. */
static void room_for(unsigned n)
{
	for (int i = 0; i < 500; i++) {
		const char *st = ctl("status netvsc0");
		const char *p = strstr(st, " slots=");
		ck_assert_ptr_nonnull(p);
		if (strtoul(p + 7, NULL, 10) >= n)
			return;
		usleep(1000);
	}
	ck_abort_msg("the client's receive buffer stays full: %s",
		     ctl("status netvsc0"));
}

static void bridge_case(struct fu_child *c)
{
	pvio_ctx *ctx;
	pvio_net *n = peer_open(&ctx);
	uint8_t self[6], uio[6];
	fr_parse_mac(MAC_PEER, self);
	fr_parse_mac(MAC_UIO, uio);
	char cmd[32];
	/* client to pvio in bursts of 16, pvio to client in windows of 8
	 * (the client's receive buffer in the fake device is small) */
	for (uint32_t k = 0; k < 220; k += 16) {
		ask(c, "send 16", NULL, 0);
		peer_recv(n, self, uio, k, 16);
	}
	for (uint32_t k = 0; k < 224; k += 8) {
		snprintf(cmd, sizeof(cmd), "recv 8");
		room_for(8);
		ck_assert_int_eq(fu_say(c, cmd), 0);
		peer_send(n, self, uio, k, 8);
		char line[256] = "";
		if (!fu_expect(c, "", line, sizeof(line), T) ||
		    strncmp(line, "ok received=8", 13)) {
			fu_kill(c);
			ck_abort_msg("recv: %s (log %s); host: %s", line,
				     c->log, ctl("status"));
		}
	}
	quit(c);
	struct pvio_queue_stats st;
	pvio_net_get_stats(n, 0, &st);
	ck_assert_uint_eq(st.rx_errors, 0);
	pvio_net_close(n);
	pvio_ctx_free(ctx);
}

START_TEST(dpdk_and_pvio_bridged)
{
	struct fu_child c;
	dpdk_start(&c);
	bridge_case(&c);
}
END_TEST

START_TEST(pvio_uio_and_pvio_socket_bridged)
{
	struct fu_child c;
	pvio_start(&c);
	bridge_case(&c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("interop");
	TCase *tr = tcase_create("reflect");
	tcase_set_timeout(tr, 300);
	tcase_add_unchecked_fixture(tr, setup_reflect, teardown);
	tcase_add_test(tr, dpdk_netvsc_reflect_and_link);
	tcase_add_test(tr, pvio_vmbus_uio_reflect_and_link);
	tcase_add_test(tr, pvio_command_info_over_uio);
	tcase_add_test(tr, pvio_command_loopback_over_uio);
	tcase_add_test(tr, dpdk_checksum_offload);
	tcase_add_test(tr, testpmd_control_plane);
	tcase_add_test(tr, silent_host_client_is_killed);
	tcase_add_test(tr, pvio_over_uio_sees_a_rescind);
	tcase_add_test(tr, host_exits_clean);
	suite_add_tcase(s, tr);

	TCase *tb = tcase_create("bridge");
	tcase_set_timeout(tb, 300);
	tcase_add_unchecked_fixture(tb, setup_bridge, teardown);
	tcase_add_test(tb, dpdk_and_pvio_bridged);
	tcase_add_test(tb, pvio_uio_and_pvio_socket_bridged);
	tcase_add_test(tb, host_exits_clean);
	suite_add_tcase(s, tb);
	return s;
}

int main(void)
{
	char why[160];
	if (!fu_can_run(why, sizeof(why))) {
		/* the machine cannot: not root, or no fanotify */
		fprintf(stderr, "interop_test: skipped: it %s\n", why);
		return 77;
	}
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
