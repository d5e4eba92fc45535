/* SPDX-License-Identifier: MIT */
/*
 * tools/cmd_migrate_demo.c - `pvio migrate-demo`: one block and one network
 * front end moving across hypervisor families with I/O in flight, checked.
 *
 * It starts, in a temporary directory, pvio's simulated Xen, Hyper-V and
 * KVM/virtio hosts and a real vhost-user block back end
 * (qemu-storage-daemon), all serving the SAME disk image, each with a
 * reflecting network device of the same MAC.  Then, with a verified block
 * workload (tools/blkcheck.c) and a verified network loop (tools/netloop.c)
 * running, it walks the front ends through a fixed list of steps: live
 * migrations between families (pvio_blk_migrate / pvio_net_migrate) and
 * each protocol's lifecycle event followed by a reconnect (Xen suspend and
 * resume, VMBus rescind and re-offer, a vhost-user back end killed and
 * restarted).  After every step it checks: the whole checked region of the
 * image file and a read-back through the front end against the workload's
 * model (no completed write lost, no block corrupted, no request completed
 * twice), and for the network, every frame sent either came back intact or
 * was counted as dropped by pvio (sent = received + dropped).
 *
 * Each step prints where the front ends went, what pvio's migration report
 * says (requests finished on the old device, replayed, failed; frames
 * dropped; downtime) and the check.  Exit status 3 if a check failed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvio/blk.h>
#include <pvio/net.h>

#include "tools/pvio.h"

static const char *cmd = "migrate-demo";

static const char usage_text[] =
	"usage: pvio migrate-demo [--seconds S] [--disk-size SIZE] [--region SIZE]\n"
	"                         [--depth N] [--frame-size BYTES] [--net-peer virtio|testpmd]\n"
	"                         [--no-events] [--keep] [--json]\n"
	"\n"
	"Move one block and one network front end across pvio's simulated Xen,\n"
	"Hyper-V and KVM/virtio hosts and a real vhost-user back end\n"
	"(qemu-storage-daemon, serving the same disk image) with I/O in flight,\n"
	"and check after every step that no completed write was lost, no block\n"
	"corrupted, no request completed twice, and that every network frame\n"
	"came back intact or was counted as dropped.  Besides live migrations it\n"
	"runs each protocol's lifecycle event and reconnects: Xen suspend and\n"
	"resume, VMBus rescind and re-offer, a vhost-user back end killed and\n"
	"restarted.  Everything runs in a temporary directory and is stopped at\n"
	"the end.\n"
	"\n"
	"  --seconds S        I/O before and after each step (default 1)\n"
	"  --disk-size SIZE   the shared disk image (default 64M)\n"
	"  --region SIZE      the part of it the workload writes and checks\n"
	"                     (default 16M)\n"
	"  --depth N          block requests in flight (default 32)\n"
	"  --frame-size BYTES network frames (default 256)\n"
	"  --net-peer P       the real vhost-user network peer: virtio (pvio sim\n"
	"                     virtio reflecting, the default) or testpmd\n"
	"                     (dpdk-testpmd in io forward mode; frames it holds\n"
	"                     when it is stopped cannot be counted by pvio)\n"
	"  --no-events        live migrations only, no lifecycle events\n"
	"  --keep             keep the temporary directory (logs, image)\n"
	"  --json             print one JSON object instead of text\n"
	"  -h, --help         this text\n";

/* The hosts, by role. */
enum { H_XEN, H_HYPERV, H_VIRTIO, H_QSD, H_TESTPMD, H_N };

enum step_kind {
	S_START,        /* attach to the first host */
	S_MIGRATE,      /* live migration to another host */
	S_XEN_SUSPEND,  /* back end Closing/Closed, resume, reconnect */
	S_RESCIND,      /* VMBus rescind, re-offer, reconnect */
	S_RESTART,      /* vhost-user back end killed and restarted */
};

struct step {
	enum step_kind kind;
	int blk_to, net_to; /* host indices (migrate, start) */
};

struct side_report {
	bool done;
	int from, to;
	struct pvio_migrate_report rep;
	uint64_t t_ns;          /* the call's own time */
	char mac_before[24], mac_after[24];
	char note[160];
};

struct step_report {
	enum step_kind kind;
	struct side_report blk, net;
	/* checks after the step */
	bool file_ok, dev_ok, net_ok;
	uint64_t sent, back, dropped, outstanding;
	char detail[320];
};

struct md {
	const char *dir;
	struct tool_host h[H_N];
	bool have[H_N];
	char image[300];
	pvio_ctx *ctx;
	pvio_blk *blk;
	pvio_net *net;
	int blk_at, net_at;
	struct tool_blkcheck *bc;
	struct tool_netloop *nl;
	struct tool_netloop_opts nlo;
	struct tool_netloop_result nlr;
	double seconds;
	bool json;
	struct tool_json j;
	bool failed;     /* a check failed */
	int nsteps;
};

static const char *kind_text(enum step_kind k)
{
	switch (k) {
	case S_START: return "start";
	case S_MIGRATE: return "live migration";
	case S_XEN_SUSPEND: return "Xen suspend and resume, reconnect";
	case S_RESCIND: return "VMBus rescind and re-offer, reconnect";
	case S_RESTART: return "vhost-user back end killed and restarted, reconnect";
	}
	return "?";
}

static const char *kind_key(enum step_kind k)
{
	switch (k) {
	case S_START: return "start";
	case S_MIGRATE: return "migrate";
	case S_XEN_SUSPEND: return "xen-suspend-resume";
	case S_RESCIND: return "vmbus-rescind-offer";
	case S_RESTART: return "vhost-user-restart";
	}
	return "?";
}

static void mac_text(const uint8_t *m, char *b, size_t n)
{
	snprintf(b, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
}

static void net_mac(pvio_net *net, char *b, size_t n)
{
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	if (pvio_net_get_info(net, &ni) == 0)
		mac_text(ni.mac, b, n);
	else
		snprintf(b, n, "?");
}

static uint64_t net_dropped(pvio_net *net)
{
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	uint64_t d = 0;
	if (pvio_net_get_info(net, &ni) < 0)
		return 0;
	for (unsigned q = 0; q < ni.num_queues; q++) {
		struct pvio_queue_stats st;
		if (pvio_net_get_stats(net, q, &st) == 0)
			d += st.dropped;
	}
	return d;
}

/* ---- running the workloads ---- */

static bool dev_gone(int r)
{
	return r == -ENODEV || r == -EIO;
}

/* Both workloads, interleaved, for secs. */
static int run_io(struct md *m, double secs)
{
	uint64_t end = tool_now_ns() + (uint64_t)(secs * 1e9);
	while (tool_now_ns() < end) {
		uint64_t slice = tool_now_ns() + 5000000;
		if (slice > end)
			slice = end;
		int r = tool_blkcheck_run(m->bc, slice);
		if (r)
			return r == TOOL_VERIFY ? TOOL_VERIFY
						: tool_io_fail(cmd, pvio_blk_dev(m->blk), r,
							       "block workload");
		slice = tool_now_ns() + 5000000;
		if (slice > end)
			slice = end;
		r = tool_netloop_step(m->nl, slice);
		if (r < 0)
			return tool_io_fail(cmd, pvio_net_dev(m->net), r,
					    "network workload");
		if (m->nlr.corrupted || m->nlr.duplicate) {
			m->failed = true;
			return tool_fail(cmd, "network check failed: %s",
					 m->nlr.detail);
		}
	}
	return TOOL_OK;
}

/* Right after a move: run only that front end's workload until its first
 * completion on the new device, so the other's pause does not count as
 * this one's downtime (bounded; run_io reports a device that stays
 * silent). */
static int first_blk(struct md *m)
{
	const struct tool_blkcheck_stats *st = tool_blkcheck_stats(m->bc);
	uint64_t n0 = st->reads + st->writes + st->failed;
	uint64_t end = tool_now_ns() + 5000000000ull;
	while (st->reads + st->writes + st->failed == n0 && tool_now_ns() < end) {
		int r = tool_blkcheck_run(m->bc, tool_now_ns() + 1000000);
		if (r)
			return r == TOOL_VERIFY ? TOOL_VERIFY
						: tool_io_fail(cmd, pvio_blk_dev(m->blk), r,
							       "block workload");
	}
	return TOOL_OK;
}

static int first_net(struct md *m)
{
	uint64_t n0 = m->nlr.received;
	uint64_t end = tool_now_ns() + 5000000000ull;
	while (m->nlr.received == n0 && tool_now_ns() < end) {
		int r = tool_netloop_step(m->nl, tool_now_ns() + 1000000);
		if (r < 0)
			return tool_io_fail(cmd, pvio_net_dev(m->net), r,
					    "network workload");
	}
	return TOOL_OK;
}

/* Keep the workloads going until both front ends noticed that their
 * device failed (bounded). */
static int run_until_gone(struct md *m, bool blk, bool net)
{
	bool bgone = !blk, ngone = !net;
	uint64_t end = tool_now_ns() + 20000000000ull;
	while (!bgone || !ngone) {
		if (tool_interrupted)
			return tool_fail(cmd, "interrupted");
		uint64_t slice = tool_now_ns() + 5000000;
		if (!bgone) {
			int r = tool_blkcheck_run(m->bc, slice);
			if (dev_gone(r))
				bgone = true;
			else if (r == TOOL_VERIFY)
				return TOOL_VERIFY;
			else if (r)
				return tool_io_fail(cmd, pvio_blk_dev(m->blk), r,
						    "block workload");
		}
		if (!ngone) {
			int r = tool_netloop_step(m->nl, tool_now_ns() + 5000000);
			if (r < 0 && dev_gone(r))
				ngone = true;
			else if (r < 0)
				return tool_io_fail(cmd, pvio_net_dev(m->net), r,
						    "network workload");
		}
		if (tool_now_ns() > end)
			return tool_fail(cmd, "the front ends did not notice "
					      "within 20 s that their devices "
					      "went away");
	}
	return TOOL_OK;
}

/* ---- one step ---- */

static int open_dev(struct md *m, const char *address, pvio_dev **out)
{
	int r = pvio_dev_open(m->ctx, address, out);
	if (r < 0)
		return tool_lib_fail(cmd, m->ctx, r, address);
	return TOOL_OK;
}

static int move_blk(struct md *m, int to, struct side_report *sr)
{
	pvio_dev *nd;
	int r = open_dev(m, m->h[to].blk, &nd);
	if (r)
		return r;
	sr->from = m->blk_at;
	sr->to = to;
	sr->rep.struct_size = sizeof(sr->rep);
	uint64_t t0 = tool_now_ns();
	r = pvio_blk_migrate(m->blk, nd, 0, &sr->rep);
	sr->t_ns = tool_now_ns() - t0;
	if (r < 0)
		return tool_lib_fail(cmd, m->ctx, r, "block migration");
	m->blk_at = to;
	sr->done = true;
	return TOOL_OK;
}

static int move_net(struct md *m, int to, struct side_report *sr)
{
	pvio_dev *nd;
	int r = open_dev(m, m->h[to].net, &nd);
	if (r)
		return r;
	sr->from = m->net_at;
	sr->to = to;
	sr->rep.struct_size = sizeof(sr->rep);
	net_mac(m->net, sr->mac_before, sizeof(sr->mac_before));
	uint64_t t0 = tool_now_ns();
	r = pvio_net_migrate(m->net, nd, 0, &sr->rep);
	sr->t_ns = tool_now_ns() - t0;
	if (r < 0)
		return tool_lib_fail(cmd, m->ctx, r, "network migration");
	tool_netloop_write_off(m->nl, sr->rep.dropped);
	net_mac(m->net, sr->mac_after, sizeof(sr->mac_after));
	m->net_at = to;
	sr->done = true;
	return TOOL_OK;
}

static int reconnect_blk(struct md *m, struct side_report *sr)
{
	sr->from = sr->to = m->blk_at;
	sr->rep.struct_size = sizeof(sr->rep);
	uint64_t t0 = tool_now_ns();
	int r = pvio_blk_reconnect(m->blk, &sr->rep);
	sr->t_ns = tool_now_ns() - t0;
	if (r < 0)
		return tool_lib_fail(cmd, m->ctx, r, "block reconnect");
	sr->done = true;
	return TOOL_OK;
}

static int reconnect_net(struct md *m, struct side_report *sr)
{
	sr->from = sr->to = m->net_at;
	sr->rep.struct_size = sizeof(sr->rep);
	net_mac(m->net, sr->mac_before, sizeof(sr->mac_before));
	uint64_t t0 = tool_now_ns();
	int r = pvio_net_reconnect(m->net, &sr->rep);
	sr->t_ns = tool_now_ns() - t0;
	if (r < 0)
		return tool_lib_fail(cmd, m->ctx, r, "network reconnect");
	tool_netloop_write_off(m->nl, sr->rep.dropped);
	net_mac(m->net, sr->mac_after, sizeof(sr->mac_after));
	sr->done = true;
	return TOOL_OK;
}

static int ctl(struct md *m, int host, const char *verb, const char *dev)
{
	char c[128], out[512];
	snprintf(c, sizeof(c), "%s %s", verb, dev);
	int r = tool_host_ctl(&m->h[host], c, out, sizeof(out));
	if (r < 0) {
		out[strcspn(out, "\n")] = 0;
		return tool_fail(cmd, "`pvio sim ctl %s %s` failed: %s",
				 m->h[host].ctl, c, out);
	}
	return TOOL_OK;
}

/* The host comes back this long after the front ends noticed it went:
 * they reconnect at once and wait for it (pvio_*_reconnect retry the open,
 * bounded by the context timeout). */
#define BACK_AFTER_MS 100u

static int later(struct md *m, int host, const char *verb, const char *dev,
		 pid_t *pid)
{
	char c[128];
	snprintf(c, sizeof(c), "%s %s", verb, dev);
	*pid = tool_host_ctl_later(&m->h[host], c, BACK_AFTER_MS);
	if (*pid < 0)
		return tool_fail(cmd, "cannot fork: %s", strerror((int)-*pid));
	return TOOL_OK;
}

static int reaped(struct md *m, int host, pid_t pid, const char *what)
{
	if (pid > 0 && tool_reap(pid, 20000) != 0)
		return tool_fail(cmd, "`pvio sim ctl %s %s` failed",
				 m->h[host].ctl, what);
	return TOOL_OK;
}

static int do_event(struct md *m, enum step_kind k, struct step_report *sr)
{
	int r;
	int hb = m->blk_at, hn = m->net_at;
	pid_t pb = 0, pn = 0;
	const char *bdev = "", *ndev = "", *back = "";
	char err[400];
	switch (k) {
	case S_XEN_SUSPEND:
		bdev = "vbd/51712";
		ndev = "vif/0";
		back = "resume";
		if ((r = ctl(m, hb, "suspend", bdev)) ||
		    (r = ctl(m, hn, "suspend", ndev)))
			return r;
		break;
	case S_RESCIND:
		bdev = "storvsc0";
		ndev = "netvsc0";
		back = "offer";
		if ((r = ctl(m, hb, "rescind", bdev)) ||
		    (r = ctl(m, hn, "rescind", ndev)))
			return r;
		break;
	case S_RESTART:
		tool_host_kill(&m->h[hb]);
		if (hn != hb)
			tool_host_kill(&m->h[hn]);
		break;
	default:
		return TOOL_FAIL;
	}
	if ((r = run_until_gone(m, true, true)))
		return r;
	if (k == S_RESTART) {
		/* started again, not waited for: reconnect waits */
		if (tool_host_restart(&m->h[hb], false, err, sizeof(err)) < 0 ||
		    (hn != hb &&
		     tool_host_restart(&m->h[hn], false, err, sizeof(err)) < 0))
			return tool_fail(cmd, "%s", err);
	} else if ((r = later(m, hb, back, bdev, &pb)) ||
		   (r = later(m, hn, back, ndev, &pn))) {
		return r;
	}
	if ((r = reconnect_blk(m, &sr->blk)) || (r = first_blk(m)))
		return r;
	if ((r = reconnect_net(m, &sr->net)))
		return r;
	tool_netloop_clear_error(m->nl);
	if ((r = first_net(m)))
		return r;
	if (k == S_RESTART) {
		if (tool_host_wait_ready(&m->h[hb], err, sizeof(err)) < 0 ||
		    (hn != hb && tool_host_wait_ready(&m->h[hn], err, sizeof(err)) < 0))
			return tool_fail(cmd, "%s", err);
		return TOOL_OK;
	}
	if ((r = reaped(m, hb, pb, back)) || (r = reaped(m, hn, pn, back)))
		return r;
	return TOOL_OK;
}

/* ---- checks ---- */

static int check(struct md *m, struct step_report *sr)
{
	int r = tool_blkcheck_drain(m->bc);
	if (r == TOOL_VERIFY) {
		m->failed = true;
		snprintf(sr->detail, sizeof(sr->detail), "%s",
			 tool_blkcheck_detail(m->bc));
		return TOOL_OK;
	}
	if (r)
		return tool_io_fail(cmd, pvio_blk_dev(m->blk), r,
				    "waiting for block requests");
	r = tool_blkcheck_verify_file(m->bc, m->image);
	sr->file_ok = r == TOOL_OK;
	if (r == TOOL_OK) {
		r = tool_blkcheck_verify_dev(m->bc);
		sr->dev_ok = r == TOOL_OK;
		if (r != TOOL_OK && r != TOOL_VERIFY)
			return tool_io_fail(cmd, pvio_blk_dev(m->blk), r,
					    "reading the region back");
	}
	const struct tool_blkcheck_stats *bs = tool_blkcheck_stats(m->bc);
	if (!sr->file_ok || !sr->dev_ok || bs->twice || bs->failed) {
		m->failed = true;
		snprintf(sr->detail, sizeof(sr->detail), "%s",
			 tool_blkcheck_detail(m->bc));
	}
	r = tool_netloop_settle(m->nl);
	if (r < 0)
		return tool_io_fail(cmd, pvio_net_dev(m->net), r,
				    "waiting for frames");
	sr->sent = m->nlr.sent;
	sr->outstanding = tool_netloop_outstanding(m->nl);
	sr->back = sr->sent - sr->outstanding;
	sr->dropped = net_dropped(m->net);
	sr->net_ok = !m->nlr.corrupted && !m->nlr.duplicate &&
		     sr->outstanding == sr->dropped;
	if (!sr->net_ok) {
		m->failed = true;
		if (!sr->detail[0]) {
			if (m->nlr.corrupted || m->nlr.duplicate)
				snprintf(sr->detail, sizeof(sr->detail), "%s",
					 m->nlr.detail);
			else
				snprintf(sr->detail, sizeof(sr->detail),
					 "%" PRIu64 " frames did not come back "
					 "but pvio counted %" PRIu64 " as dropped",
					 sr->outstanding, sr->dropped);
		}
	}
	return TOOL_OK;
}

/* ---- output ---- */

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void print_side(const struct md *m, const char *what,
		       const struct side_report *s, bool net)
{
	if (!s->done)
		return;
	printf("    %s  %s -> %s\n", what, m->h[s->from].label, m->h[s->to].label);
	if (net)
		printf("         %u frames dropped in flight (counted), %u sent "
		       "before it stopped; downtime %.3f ms, quiesce %.3f ms, "
		       "MAC %s%s%s\n",
		       s->rep.dropped, s->rep.completed_during_quiesce,
		       ms(s->rep.downtime_ns), ms(s->rep.quiesce_ns),
		       s->mac_after,
		       strcmp(s->mac_before, s->mac_after) ? " (was " : "",
		       strcmp(s->mac_before, s->mac_after) ? s->mac_before : "");
	else
		printf("         %u finished on the old device, %u replayed, %u "
		       "failed; downtime %.3f ms, quiesce %.3f ms\n",
		       s->rep.completed_during_quiesce, s->rep.replayed,
		       s->rep.failed, ms(s->rep.downtime_ns), ms(s->rep.quiesce_ns));
	if (net && strcmp(s->mac_before, s->mac_after))
		printf("         (the MAC changed: the new device could not be "
		       "given the old one)\n");
}

static void print_step(const struct md *m, int n, const struct step_report *sr)
{
	const struct tool_blkcheck_stats *bs = tool_blkcheck_stats(m->bc);
	if (sr->kind == S_START)
		printf("[%d] start: block on %s, network on %s\n", n,
		       m->h[m->blk_at].label, m->h[m->net_at].label);
	else
		printf("[%d] %s\n", n, kind_text(sr->kind));
	print_side(m, "blk", &sr->blk, false);
	print_side(m, "net", &sr->net, true);
	printf("    check: image file %s, read-back %s (%" PRIu64 " writes, "
	       "%" PRIu64 " reads so far, %" PRIu64 " corrupt, %" PRIu64
	       " completed twice, %" PRIu64 " failed); frames %s (%" PRIu64
	       " sent = %" PRIu64 " back + %" PRIu64 " dropped)\n",
	       sr->file_ok ? "OK" : "WRONG", sr->dev_ok ? "OK" : "WRONG",
	       bs->writes, bs->reads, bs->corrupt, bs->twice, bs->failed,
	       sr->net_ok ? "OK" : "WRONG", sr->sent, sr->back, sr->dropped);
	if (sr->detail[0])
		printf("    problem: %s\n", sr->detail);
	fflush(stdout);
}

static void json_side(struct md *m, const char *key,
		      const struct side_report *s, bool net)
{
	struct tool_json *j = &m->j;
	if (!s->done) {
		tool_json_null(j, key);
		return;
	}
	tool_json_obj(j, key);
	tool_json_str(j, "from", m->h[s->from].label);
	tool_json_str(j, "from_host", m->h[s->from].name);
	tool_json_str(j, "to", m->h[s->to].label);
	tool_json_str(j, "to_host", m->h[s->to].name);
	tool_json_u64(j, "completed_during_quiesce", s->rep.completed_during_quiesce);
	tool_json_u64(j, "replayed", s->rep.replayed);
	tool_json_u64(j, "failed", s->rep.failed);
	tool_json_u64(j, "dropped", s->rep.dropped);
	tool_json_u64(j, "downtime_ns", s->rep.downtime_ns);
	tool_json_u64(j, "quiesce_ns", s->rep.quiesce_ns);
	tool_json_u64(j, "call_ns", s->t_ns);
	if (net) {
		tool_json_str(j, "mac_before", s->mac_before);
		tool_json_str(j, "mac_after", s->mac_after);
	}
	tool_json_end(j, '}');
}

static void json_step(struct md *m, int n, const struct step_report *sr)
{
	struct tool_json *j = &m->j;
	const struct tool_blkcheck_stats *bs = tool_blkcheck_stats(m->bc);
	tool_json_obj(j, NULL);
	tool_json_u64(j, "step", (uint64_t)n);
	tool_json_str(j, "kind", kind_key(sr->kind));
	tool_json_str(j, "blk_host", m->h[m->blk_at].name);
	tool_json_str(j, "net_host", m->h[m->net_at].name);
	json_side(m, "blk", &sr->blk, false);
	json_side(m, "net", &sr->net, true);
	tool_json_obj(j, "check");
	tool_json_bool(j, "image_file", sr->file_ok);
	tool_json_bool(j, "read_back", sr->dev_ok);
	tool_json_u64(j, "writes", bs->writes);
	tool_json_u64(j, "reads", bs->reads);
	tool_json_u64(j, "chunks_checked", bs->chunks_checked);
	tool_json_u64(j, "corrupt", bs->corrupt);
	tool_json_u64(j, "completed_twice", bs->twice);
	tool_json_u64(j, "failed", bs->failed);
	tool_json_bool(j, "frames", sr->net_ok);
	tool_json_u64(j, "sent", sr->sent);
	tool_json_u64(j, "back", sr->back);
	tool_json_u64(j, "dropped", sr->dropped);
	tool_json_u64(j, "corrupted_frames", m->nlr.corrupted);
	tool_json_u64(j, "duplicate_frames", m->nlr.duplicate);
	if (sr->detail[0])
		tool_json_str(j, "problem", sr->detail);
	tool_json_end(j, '}');
	tool_json_end(j, '}');
}

static int do_step(struct md *m, const struct step *st)
{
	struct step_report sr;
	int r = TOOL_OK;
	memset(&sr, 0, sizeof(sr));
	sr.kind = st->kind;
	/* the previous check left nothing in flight: get I/O going so the
	 * step happens in the middle of it */
	if (st->kind != S_START &&
	    (r = run_io(m, m->seconds / 4 < 0.25 ? m->seconds / 4 : 0.25)))
		return r;
	if (st->kind == S_MIGRATE) {
		if ((r = move_blk(m, st->blk_to, &sr.blk)) ||
		    (r = first_blk(m)) ||
		    (r = move_net(m, st->net_to, &sr.net)) ||
		    (r = first_net(m)))
			return r;
	} else if (st->kind != S_START) {
		if ((r = do_event(m, st->kind, &sr)))
			return r;
	}
	if ((r = run_io(m, m->seconds)))
		return r;
	/* the first completions on the new devices happened: downtime */
	if (sr.blk.done)
		pvio_blk_migration_report(m->blk, &sr.blk.rep);
	if (sr.net.done)
		pvio_net_migration_report(m->net, &sr.net.rep);
	if ((r = check(m, &sr)))
		return r;
	m->nsteps++;
	if (m->json)
		json_step(m, m->nsteps, &sr);
	else
		print_step(m, m->nsteps, &sr);
	return TOOL_OK;
}

/* ---- set-up ---- */

static int start_hosts(struct md *m, const char *net_peer, uint64_t disk)
{
	static const uint8_t mac[6] = { 0x02, 0x70, 0x76, 0x69, 0x6f, 0x01 };
	char err[512];
	snprintf(m->image, sizeof(m->image), "%s/disk.img", m->dir);
	if (tool_make_image(m->image, disk, err, sizeof(err)) < 0)
		return tool_fail(cmd, "%s", err);
	struct tool_host_opts o = { .image = m->image, .net = true, .mac = mac };
	for (int k = H_XEN; k <= H_VIRTIO; k++) {
		if (tool_host_start(&m->h[k], k, m->dir, &o, err, sizeof(err)) < 0)
			return tool_fail(cmd, "%s", err);
		m->have[k] = true;
	}
	struct tool_host_opts qo = { .image = m->image };
	const char *why = tool_host_missing(H_QSD);
	if (!why) {
		if (tool_host_start(&m->h[H_QSD], TOOL_HOST_QSD, m->dir, &qo, err,
				    sizeof(err)) < 0)
			return tool_fail(cmd, "%s", err);
		m->have[H_QSD] = true;
	} else if (!m->json) {
		printf("note: %s; the block front end uses pvio sim virtio "
		       "as its real vhost-user back end instead\n", why);
	}
	if (!strcmp(net_peer, "testpmd")) {
		struct tool_host_opts to = { .net = true };
		why = tool_host_missing(H_TESTPMD);
		if (why)
			return tool_fail(cmd, "%s", why);
		if (tool_host_start(&m->h[H_TESTPMD], TOOL_HOST_TESTPMD, m->dir,
				    &to, err, sizeof(err)) < 0)
			return tool_fail(cmd, "%s", err);
		m->have[H_TESTPMD] = true;
	}
	return TOOL_OK;
}

static int start_front_ends(struct md *m, unsigned depth, uint64_t region,
			    uint32_t frame)
{
	int r;
	struct pvio_ctx_opts co = { .struct_size = sizeof(co),
				    .log_level = PVIO_LOG_ERROR };
	if ((r = pvio_ctx_new(&co, &m->ctx)) < 0)
		return tool_fail(cmd, "cannot create a pvio context: %s",
				 strerror(-r));
	struct pvio_blk_opts bo = { .struct_size = sizeof(bo),
				    .queue_depth = depth,
				    .flags = PVIO_BLK_KEEP_ON_FAILURE };
	if ((r = pvio_blk_open(m->ctx, m->h[H_XEN].blk, &bo, &m->blk)) < 0)
		return tool_lib_fail(cmd, m->ctx, r, m->h[H_XEN].blk);
	m->blk_at = H_XEN;
	struct pvio_net_opts no = { .struct_size = sizeof(no),
				    .flags = PVIO_NET_ADOPT_MAC };
	if ((r = pvio_net_open(m->ctx, m->h[H_XEN].net, &no, &m->net)) < 0)
		return tool_lib_fail(cmd, m->ctx, r, m->h[H_XEN].net);
	m->net_at = H_XEN;
	char err[300];
	struct tool_blkcheck_opts bco = { .size = region, .depth = depth,
					  .read_pct = 30 };
	if ((r = tool_blkcheck_new(m->blk, &bco, &m->bc, err, sizeof(err))) < 0)
		return tool_fail(cmd, "%s", err);
	m->nlo = (struct tool_netloop_opts){ .count = 1ull << 32, .size = frame,
					     .wait_ns = 2000000000ull };
	if ((r = tool_netloop_new(m->net, &m->nlo, &m->nlr, &m->nl)) < 0)
		return tool_fail(cmd, "cannot start the network workload: %s",
				 m->nlr.detail[0] ? m->nlr.detail : strerror(-r));
	return TOOL_OK;
}

static int run_demo(struct md *m, bool events, const char *net_peer)
{
	int blk_real = m->have[H_QSD] ? H_QSD : H_VIRTIO;
	int net_real = !strcmp(net_peer, "testpmd") ? H_TESTPMD : H_VIRTIO;
	struct step steps[] = {
		{ S_START, H_XEN, H_XEN },
		{ S_XEN_SUSPEND, 0, 0 },
		{ S_MIGRATE, H_VIRTIO, H_VIRTIO },
		{ S_MIGRATE, H_HYPERV, H_HYPERV },
		{ S_RESCIND, 0, 0 },
		{ S_MIGRATE, blk_real, net_real },
		{ S_RESTART, 0, 0 },
		{ S_MIGRATE, H_XEN, H_XEN },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (!events && steps[i].kind != S_START &&
		    steps[i].kind != S_MIGRATE)
			continue;
		int r = do_step(m, &steps[i]);
		if (r)
			return r;
		if (tool_interrupted)
			return tool_fail(cmd, "interrupted");
	}
	return TOOL_OK;
}

static void summary(struct md *m, int ret)
{
	const struct tool_blkcheck_stats *bs = m->bc ? tool_blkcheck_stats(m->bc)
						     : NULL;
	if (m->json) {
		tool_json_end(&m->j, ']');
		if (bs) {
			tool_json_obj(&m->j, "totals");
			tool_json_u64(&m->j, "writes", bs->writes);
			tool_json_u64(&m->j, "reads", bs->reads);
			tool_json_u64(&m->j, "write_bytes", bs->write_bytes);
			tool_json_u64(&m->j, "read_bytes", bs->read_bytes);
			tool_json_u64(&m->j, "chunks_checked", bs->chunks_checked);
			tool_json_u64(&m->j, "corrupt", bs->corrupt);
			tool_json_u64(&m->j, "completed_twice", bs->twice);
			tool_json_u64(&m->j, "failed", bs->failed);
			tool_json_u64(&m->j, "frames_sent", m->nlr.sent);
			tool_json_u64(&m->j, "frames_corrupted", m->nlr.corrupted);
			tool_json_u64(&m->j, "frames_duplicate", m->nlr.duplicate);
			tool_json_u64(&m->j, "frames_dropped", m->net ? net_dropped(m->net) : 0);
			tool_json_end(&m->j, '}');
		}
		tool_json_bool(&m->j, "ok", ret == TOOL_OK && !m->failed);
		tool_json_end(&m->j, '}');
		tool_json_done(&m->j);
		return;
	}
	if (!bs)
		return;
	printf("integrity: %s - %" PRIu64 " writes and %" PRIu64 " reads "
	       "(%.1f MiB), %" PRIu64 " chunk checks, %" PRIu64 " corrupt, "
	       "%" PRIu64 " completed twice, %" PRIu64 " failed; %" PRIu64
	       " frames sent, %" PRIu64 " corrupted, %" PRIu64 " duplicated, "
	       "%" PRIu64 " dropped and counted\n",
	       ret == TOOL_OK && !m->failed ? "OK" : "FAILED", bs->writes,
	       bs->reads, (double)(bs->write_bytes + bs->read_bytes) / 1048576.0,
	       bs->chunks_checked, bs->corrupt, bs->twice, bs->failed,
	       m->nlr.sent, m->nlr.corrupted, m->nlr.duplicate,
	       m->net ? net_dropped(m->net) : 0);
}

int cmd_migrate_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "disk-size", required_argument, NULL, 'd' },
		{ "region", required_argument, NULL, 'r' },
		{ "depth", required_argument, NULL, 'q' },
		{ "frame-size", required_argument, NULL, 'f' },
		{ "net-peer", required_argument, NULL, 'p' },
		{ "no-events", no_argument, NULL, 'E' },
		{ "keep", no_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double seconds = 1;
	uint64_t disk = 64ull << 20, region = 16ull << 20, v;
	unsigned depth = 32;
	uint32_t frame = 256;
	const char *net_peer = "virtio";
	bool events = true, keep = false, json = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (tool_parse_seconds(optarg, 3600, &seconds) < 0)
				return tool_usage(cmd, "--seconds wants more than 0 "
						       "and at most 3600");
			break;
		case 'd':
			if (tool_parse_size(optarg, &disk) < 0 || disk < (1u << 20) ||
			    disk % 4096)
				return tool_usage(cmd, "--disk-size wants a multiple "
						       "of 4k of at least 1M");
			break;
		case 'r':
			if (tool_parse_size(optarg, &region) < 0 ||
			    region < 65536 || region % 4096)
				return tool_usage(cmd, "--region wants a multiple "
						       "of 4k of at least 64k");
			break;
		case 'q':
			if (tool_parse_uint(optarg, 1, 256, &v) < 0)
				return tool_usage(cmd, "--depth wants 1 to 256");
			depth = (unsigned)v;
			break;
		case 'f':
			if (tool_parse_uint(optarg, TOOL_NETLOOP_MIN_FRAME, 1514,
					    &v) < 0)
				return tool_usage(cmd, "--frame-size wants %u to "
						       "1514",
						  TOOL_NETLOOP_MIN_FRAME);
			frame = (uint32_t)v;
			break;
		case 'p':
			if (strcmp(optarg, "virtio") && strcmp(optarg, "testpmd"))
				return tool_usage(cmd, "--net-peer wants virtio "
						       "or testpmd");
			net_peer = optarg;
			break;
		case 'E': events = false; break;
		case 'k': keep = true; break;
		case 'j': json = true; break;
		case 'h': fputs(usage_text, stdout); return TOOL_OK;
		default: return tool_bad_option(cmd, c, argv);
		}
	}
	if (optind != argc)
		return tool_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (region > disk)
		return tool_usage(cmd, "--region is larger than --disk-size");

	char dir[256];
	int r = tool_tmpdir(dir, sizeof(dir), "migrate");
	if (r < 0)
		return tool_fail(cmd, "cannot create a temporary directory: %s",
				 strerror(-r));
	tool_hosts_catch_signals();
	struct md *m = calloc(1, sizeof(*m));
	if (!m)
		return tool_fail(cmd, "out of memory");
	m->dir = dir;
	m->seconds = seconds;
	m->json = json;
	if (json) {
		tool_json_init(&m->j, stdout);
		tool_json_obj(&m->j, NULL);
		tool_json_str(&m->j, "pvio", pvio_version());
		tool_json_dbl(&m->j, "seconds", seconds);
		tool_json_u64(&m->j, "disk_size", disk);
		tool_json_u64(&m->j, "region", region);
		tool_json_u64(&m->j, "depth", depth);
		tool_json_u64(&m->j, "frame_size", frame);
	} else {
		char hb[32], rb[32];
		printf("pvio migrate-demo: a block and a network front end move "
		       "across hypervisors with I/O in flight\n");
		printf("  disk: one %s image served by every host; the workload "
		       "writes and checks %s of it in 4 KiB chunks, %u requests "
		       "in flight; %u-byte frames\n",
		       tool_human_bytes(disk, hb, sizeof(hb)),
		       tool_human_bytes(region, rb, sizeof(rb)), depth, frame);
	}
	int ret = start_hosts(m, net_peer, disk);
	if (!ret && json) {
		tool_json_arr(&m->j, "hosts");
		for (int k = 0; k < H_N; k++) {
			if (!m->have[k])
				continue;
			tool_json_obj(&m->j, NULL);
			tool_json_str(&m->j, "name", m->h[k].name);
			tool_json_str(&m->j, "label", m->h[k].label);
			tool_json_end(&m->j, '}');
		}
		tool_json_end(&m->j, ']');
	}
	if (!ret)
		ret = start_front_ends(m, depth, region, frame);
	if (json)
		tool_json_arr(&m->j, "steps");
	if (!ret)
		ret = run_demo(m, events, net_peer);
	if (m->nl)
		tool_netloop_finish(m->nl);
	summary(m, ret);
	tool_netloop_free(m->nl);
	if (m->net)
		pvio_net_close(m->net);
	/* close drains the requests still in flight into the checker's
	 * buffers: those are freed after it */
	if (m->blk)
		pvio_blk_close(m->blk);
	tool_blkcheck_free(m->bc);
	if (m->ctx)
		pvio_ctx_free(m->ctx);
	for (int k = 0; k < H_N; k++)
		tool_host_stop(&m->h[k]);
	if (keep)
		fprintf(stderr, "pvio %s: kept %s\n", cmd, dir);
	else
		tool_rmtree(dir);
	bool failed = m->failed;
	free(m);
	if (ret)
		return ret;
	return failed ? TOOL_VERIFY : TOOL_OK;
}
