/* SPDX-License-Identifier: MIT */
/*
 * tools/cmd_compare.c - `pvio compare [DEVICE...]`: the same block and
 * network workloads through every paravirtual protocol at hand, side by
 * side.
 *
 * By default the three simulated hosts (Xen, Hyper-V, KVM/virtio) are
 * started here, one at a time in a temporary directory (so they do not
 * compete for the CPUs), each with a private sparse disk and a reflecting
 * network device; every DEVICE on the command line (a vhost-user socket of
 * qemu-storage-daemon or dpdk-testpmd, a xen: device, ...) is one more
 * column.  For each: what the protocol negotiated (normalised feature
 * names, queues and ring slots, request limits), then the measurements of
 * tools/measure.c - random 4 KiB reads at each queue depth and random
 * writes at the deepest (built-in hosts only: writes overwrite), and
 * network round trips - with latency percentiles and notifications,
 * interrupts and copies per operation.  Output: a table (features as a
 * matrix), --json, and an SVG chart drawn by gnuplot from a data file (one
 * line saying so, and no chart, when gnuplot is missing).  On a terminal a
 * progress line tells what runs and how long is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pvio/blk.h>
#include <pvio/net.h>

#include "tools/pvio.h"

static const char *cmd = "compare";

static const char usage_text[] =
	"usage: pvio compare [DEVICE...] [--hosts LIST] [--seconds S] [--warmup S]\n"
	"                    [--bs SIZE] [--blk-qd LIST] [--rw LIST] [--net-size BYTES]\n"
	"                    [--disk-size SIZE] [--svg FILE | --no-svg] [--json]\n"
	"\n"
	"Run the same block and network workloads through every paravirtual\n"
	"protocol at hand and print them side by side: features negotiated (in\n"
	"pvio's normalised names), queues and ring slots, request limits, IOPS\n"
	"and frames per second, latency percentiles, notifications, interrupts\n"
	"and copies per operation.  By default pvio's simulated Xen, Hyper-V and\n"
	"KVM/virtio hosts are started (one at a time, in a temporary directory,\n"
	"each with its own sparse disk and a reflecting network device) and\n"
	"stopped again; every DEVICE given (e.g. a qemu-storage-daemon or\n"
	"dpdk-testpmd vhost-user socket) is one more column.  Writes run on the\n"
	"built-in hosts only: they would overwrite a DEVICE.\n"
	"\n"
	"  --hosts LIST       built-in hosts, comma-separated, from xen, hyperv,\n"
	"                     virtio, qsd (qemu-storage-daemon), testpmd\n"
	"                     (dpdk-testpmd); none for DEVICEs only\n"
	"                     (default xen,hyperv,virtio)\n"
	"  --seconds S        measured time per figure (default 2)\n"
	"  --warmup S         unmeasured time before each figure (default 0.5)\n"
	"  --bs SIZE          block request size (default 4k)\n"
	"  --blk-qd LIST      queue depths of the reads (default 1,32)\n"
	"  --rw LIST          read, write or read,write (default read,write)\n"
	"  --net-size BYTES   frame size without FCS (default 64)\n"
	"  --disk-size SIZE   the built-in hosts' disks (default 256M)\n"
	"  --svg FILE         where the chart goes (default pvio-compare.svg)\n"
	"  --no-svg           no chart\n"
	"  --json             one JSON object on stdout instead of the table\n"
	"  -h, --help         this text\n";

#define MAX_COLS 16
#define MAX_QD_LIST 4
#define MAX_FIG 8 /* block figures per column */

struct side {
	bool present;          /* this column has a device of the class */
	bool ok;               /* opened and measured */
	char error[512];
	char address[400];
	struct pvio_dev_info info;
	char backend[48], protocol[128], native[160];
	struct pvio_blk_info bi;
	struct pvio_net_info ni;
	unsigned nres;
	struct tool_result res[MAX_FIG];
	struct tool_hist *hist[MAX_FIG];
};

struct col {
	char label[48];        /* "Xen", "KVM/virtio", ... */
	char sub[64];          /* "pvio sim xen", "vhost-user", ... */
	char key[32];          /* JSON name */
	int kind;              /* built-in host kind, or -1 */
	bool builtin;
	struct side blk, net;
};

struct opts {
	struct tool_measure_opts m;
	uint64_t qd[MAX_QD_LIST];
	unsigned nqd;
	bool do_read, do_write;
	uint64_t disk;
	const char *svg;
	bool json;
};

struct run {
	struct opts o;
	struct col col[MAX_COLS];
	unsigned ncol;
	unsigned fig_total, fig_done;
	uint64_t t0;
	bool tty;
	char dir[256];
	bool failed;
};

/* ---- progress (stderr, only on a terminal) ---- */

static void progress(struct run *R, const struct col *c, const char *what)
{
	if (!R->tty)
		return;
	double per = R->o.m.seconds + R->o.m.warmup;
	double left = per * (R->fig_total - R->fig_done);
	fprintf(stderr, "\r\033[K[%2u/%u] %s (%s): %s  (about %.0f s left)",
		R->fig_done + 1, R->fig_total, c->label, c->sub, what, left);
	fflush(stderr);
}

static void progress_clear(struct run *R)
{
	if (R->tty) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

static void progress_note(struct run *R, const char *fmt, ...) TOOL_PRINTF(2, 3);
static void progress_note(struct run *R, const char *fmt, ...)
{
	va_list ap;
	if (!R->tty)
		return;
	va_start(ap, fmt);
	fputs("\r\033[K", stderr);
	vfprintf(stderr, fmt, ap);
	fflush(stderr);
	va_end(ap);
}

/* ---- measuring one side ---- */

static void keep_info(struct side *s, pvio_dev *dev)
{
	struct pvio_dev_info d = { .struct_size = sizeof(d) };
	if (pvio_dev_get_info(dev, &d) < 0)
		return;
	s->info = d;
	tool_printable(d.backend ? d.backend : "?", s->backend, sizeof(s->backend));
	tool_printable(d.protocol ? d.protocol : "?", s->protocol,
		       sizeof(s->protocol));
	tool_printable(d.native, s->native, sizeof(s->native));
	s->info.backend = s->backend;
	s->info.protocol = s->protocol;
	s->info.address = s->address;
}

static void side_error(struct side *s, pvio_ctx *ctx, int r, const char *what)
{
	const char *m = ctx ? pvio_errmsg(ctx) : "";
	if (m && *m)
		snprintf(s->error, sizeof(s->error), "%s", m);
	else
		snprintf(s->error, sizeof(s->error), "%s: %s", what,
			 strerror(r < 0 ? -r : r));
}

static int figure(struct run *R, struct col *c, struct side *s, pvio_blk *blk,
		  pvio_net *net, bool write, uint32_t qd)
{
	char what[96];
	struct tool_result *res = &s->res[s->nres];
	memset(res, 0, sizeof(*res));
	res->address = s->address;
	if (blk) {
		snprintf(what, sizeof(what), "block %s %u B, %u in flight",
			 write ? "random writes" : "random reads", R->o.m.bs, qd);
	} else {
		snprintf(what, sizeof(what), "network round trips, %u-byte frames",
			 R->o.m.net_size);
	}
	res->hist = s->hist[s->nres];
	progress(R, c, what);
	int r = blk ? tool_measure_blk(cmd, blk, &R->o.m, write, qd, res)
		    : tool_measure_net(cmd, net, &R->o.m, res);
	R->fig_done++;
	progress_clear(R);
	if (r != TOOL_OK) {
		snprintf(s->error, sizeof(s->error), "%s failed (see above)", what);
		return r;
	}
	res->dev = s->info;
	s->nres++;
	return TOOL_OK;
}

static unsigned blk_figures(const struct run *R, const struct col *c)
{
	return (R->o.do_read ? R->o.nqd : 0) +
	       (R->o.do_write && c->builtin ? 1 : 0);
}

static void measure_blk(struct run *R, struct col *c, pvio_ctx *ctx)
{
	struct side *s = &c->blk;
	uint64_t maxqd = 1;
	for (unsigned i = 0; i < R->o.nqd; i++)
		if (R->o.qd[i] > maxqd)
			maxqd = R->o.qd[i];
	struct pvio_blk_opts bo = { .struct_size = sizeof(bo),
				    .queue_depth = (uint32_t)maxqd };
	pvio_blk *blk = NULL;
	progress(R, c, "opening the block device");
	int r = pvio_blk_open(ctx, s->address, &bo, &blk);
	if (r < 0) {
		side_error(s, ctx, r, s->address);
		R->fig_done += blk_figures(R, c);
		return;
	}
	keep_info(s, pvio_blk_dev(blk));
	s->bi.struct_size = sizeof(s->bi);
	pvio_blk_get_info(blk, &s->bi);
	for (int w = 0; w < 2 && !s->error[0]; w++) {
		if (w ? !(R->o.do_write && c->builtin) : !R->o.do_read)
			continue;
		for (unsigned i = 0; i < R->o.nqd && !s->error[0]; i++) {
			uint32_t qd = (uint32_t)R->o.qd[i];
			if (w && qd != maxqd)
				continue; /* writes at the deepest only */
			if (s->bi.queue_depth && qd > s->bi.queue_depth)
				qd = s->bi.queue_depth;
			if (figure(R, c, s, blk, NULL, w != 0, qd) != TOOL_OK)
				break;
		}
	}
	/* a figure that failed leaves the rest uncounted */
	s->ok = !s->error[0];
	pvio_blk_close(blk);
}

static void measure_net(struct run *R, struct col *c, pvio_ctx *ctx)
{
	struct side *s = &c->net;
	struct pvio_net_opts no = { .struct_size = sizeof(no) };
	pvio_net *net = NULL;
	progress(R, c, "opening the network device");
	int r = pvio_net_open(ctx, s->address, &no, &net);
	if (r < 0) {
		side_error(s, ctx, r, s->address);
		R->fig_done++;
		return;
	}
	keep_info(s, pvio_net_dev(net));
	s->ni.struct_size = sizeof(s->ni);
	pvio_net_get_info(net, &s->ni);
	figure(R, c, s, NULL, net, false, 0);
	s->ok = !s->error[0];
	pvio_net_close(net);
}

static void measure_col(struct run *R, struct col *c)
{
	pvio_ctx *ctx = tool_ctx_new(cmd);
	if (!ctx) {
		snprintf(c->blk.error, sizeof(c->blk.error), "no pvio context");
		snprintf(c->net.error, sizeof(c->net.error), "no pvio context");
		return;
	}
	if (c->blk.present && !tool_interrupted)
		measure_blk(R, c, ctx);
	if (c->net.present && !tool_interrupted)
		measure_net(R, c, ctx);
	pvio_ctx_free(ctx);
}

/* A built-in host: start it, measure, stop it. */
static void run_builtin(struct run *R, struct col *c)
{
	char err[400], image[320];
	struct tool_host h;
	struct tool_host_opts ho = { .net = c->kind != TOOL_HOST_QSD };
	if (c->kind != TOOL_HOST_TESTPMD) {
		snprintf(image, sizeof(image), "%s/%s.img", R->dir, c->key);
		if (tool_make_image(image, R->o.disk, err, sizeof(err)) < 0) {
			snprintf(c->blk.error, sizeof(c->blk.error), "%s", err);
			return;
		}
		ho.image = image;
	}
	progress_note(R, "[%2u/%u] %s (%s): starting the host", R->fig_done + 1,
		      R->fig_total, c->label, c->sub);
	if (tool_host_start(&h, c->kind, R->dir, &ho, err, sizeof(err)) < 0) {
		progress_clear(R);
		struct side *s = c->blk.present ? &c->blk : &c->net;
		snprintf(s->error, sizeof(s->error), "%s", err);
		R->fig_done += (c->blk.present ? blk_figures(R, c) : 0) +
			       (c->net.present ? 1 : 0);
		return;
	}
	snprintf(c->blk.address, sizeof(c->blk.address), "%s", h.blk);
	snprintf(c->net.address, sizeof(c->net.address), "%s", h.net);
	measure_col(R, c);
	progress_note(R, "[%2u/%u] %s (%s): stopping the host", R->fig_done,
		      R->fig_total, c->label, c->sub);
	tool_host_stop(&h);
	progress_clear(R);
	if (ho.image)
		unlink(ho.image);
}

/* ---- columns ---- */

static int add_builtin(struct run *R, const char *name)
{
	int k = tool_host_kind_of(name);
	if (k < 0)
		return -1;
	struct col *c = &R->col[R->ncol++];
	c->kind = k;
	c->builtin = true;
	snprintf(c->key, sizeof(c->key), "%s", name);
	switch (k) {
	case TOOL_HOST_XEN:
		snprintf(c->label, sizeof(c->label), "Xen");
		snprintf(c->sub, sizeof(c->sub), "pvio sim xen");
		break;
	case TOOL_HOST_HYPERV:
		snprintf(c->label, sizeof(c->label), "Hyper-V");
		snprintf(c->sub, sizeof(c->sub), "pvio sim hyperv");
		break;
	case TOOL_HOST_VIRTIO:
		snprintf(c->label, sizeof(c->label), "KVM/virtio");
		snprintf(c->sub, sizeof(c->sub), "pvio sim virtio");
		break;
	case TOOL_HOST_QSD:
		snprintf(c->label, sizeof(c->label), "KVM/virtio");
		snprintf(c->sub, sizeof(c->sub), "qemu-storage-daemon");
		break;
	case TOOL_HOST_TESTPMD:
		snprintf(c->label, sizeof(c->label), "KVM/virtio");
		snprintf(c->sub, sizeof(c->sub), "dpdk-testpmd");
		break;
	}
	c->blk.present = k != TOOL_HOST_TESTPMD;
	c->net.present = k != TOOL_HOST_QSD;
	return 0;
}

/* A DEVICE argument: open it once to learn its class and family. */
static int add_device(struct run *R, const char *address)
{
	pvio_ctx *ctx = tool_ctx_new(cmd);
	if (!ctx)
		return TOOL_FAIL;
	pvio_dev *dev = NULL;
	int r = pvio_dev_open(ctx, address, &dev);
	if (r < 0) {
		r = tool_lib_fail(cmd, ctx, r, address);
		pvio_ctx_free(ctx);
		return r;
	}
	struct pvio_dev_info d = { .struct_size = sizeof(d) };
	pvio_dev_get_info(dev, &d);
	struct col *c = &R->col[R->ncol++];
	c->kind = -1;
	const char *hv = pvio_family_hypervisor(d.family);
	snprintf(c->label, sizeof(c->label), "%s", hv ? hv : "?");
	if (d.family == PVIO_FAMILY_VIRTIO)
		snprintf(c->label, sizeof(c->label), "KVM/virtio");
	tool_printable(d.backend ? d.backend : "?", c->sub, sizeof(c->sub));
	snprintf(c->key, sizeof(c->key), "device%u", R->ncol);
	struct side *s = d.cls == PVIO_CLASS_NET ? &c->net : &c->blk;
	if (d.cls != PVIO_CLASS_BLK && d.cls != PVIO_CLASS_NET) {
		pvio_dev_close(dev);
		pvio_ctx_free(ctx);
		R->ncol--;
		return tool_fail(cmd, "%s is neither a block nor a network "
				      "device",
				 address);
	}
	s->present = true;
	snprintf(s->address, sizeof(s->address), "%s", address);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
	return TOOL_OK;
}

/* ---- text output ---- */

#define LW 30 /* label column */

/* The table is printed twice: once into nothing to find the widest
 * value, then for real with every value column that wide. */
struct table {
	FILE *out;
	int cw;   /* value column width */
	int maxw; /* widest value seen */
};

static void cell(struct table *T, const char *v, bool last)
{
	int n = (int)strlen(v);
	if (n > T->maxw)
		T->maxw = n;
	fprintf(T->out, "  %-*s", last ? 0 : T->cw, v); /* no trailing blanks */
}

static void row_start(struct table *T, const char *label)
{
	fprintf(T->out, "%-*s", LW, label);
}

typedef void (*cell_fn)(const struct run *R, const struct col *c, char *buf,
			size_t n, int arg);

static void row(struct table *T, const struct run *R, const char *label,
		cell_fn f, int arg)
{
	char b[128];
	row_start(T, label);
	for (unsigned i = 0; i < R->ncol; i++) {
		b[0] = 0;
		f(R, &R->col[i], b, sizeof(b), arg);
		cell(T, b[0] ? b : "-", i + 1 == R->ncol);
	}
	fprintf(T->out, "\n");
}

static const struct side *side_of(const struct col *c, int net)
{
	return net ? &c->net : &c->blk;
}

static void c_protocol(const struct run *R, const struct col *c, char *b,
		       size_t n, int net)
{
	const struct side *s = side_of(c, net);
	(void)R;
	if (!s->present)
		return;
	if (!s->info.protocol && s->error[0])
		snprintf(b, n, "FAILED");
	else if (s->info.protocol)
		snprintf(b, n, "%s", s->protocol);
}

static void c_queues(const struct run *R, const struct col *c, char *b,
		     size_t n, int net)
{
	const struct side *s = side_of(c, net);
	(void)R;
	if (s->info.protocol)
		snprintf(b, n, "%u of %u x %u slots", s->info.num_queues,
			 s->info.max_queues, s->info.queue_size);
}

static void c_limits(const struct run *R, const struct col *c, char *b,
		     size_t n, int net)
{
	const struct side *s = side_of(c, net);
	char h[32];
	(void)R;
	if (!s->info.protocol)
		return;
	if (net)
		snprintf(b, n, "MTU %u, frame %u B", s->ni.mtu, s->ni.max_tx_frame);
	else
		snprintf(b, n, "%s, %u segs",
			 tool_human_bytes(s->bi.max_transfer, h, sizeof(h)),
			 s->bi.max_segments);
}

static const struct tool_result *fig(const struct col *c, int net, int i)
{
	const struct side *s = side_of(c, net);
	return i < (int)s->nres ? &s->res[i] : NULL;
}

/* figure index i of the block side that matches the workload list */
static void c_rate(const struct run *R, const struct col *c, char *b,
		   size_t n, int arg)
{
	(void)R;
	const struct tool_result *r = fig(c, arg >> 8, arg & 0xff);
	if (r && r->secs > 0)
		snprintf(b, n, "%.0f", (double)r->ops / r->secs);
}

static void c_lat(const struct run *R, const struct col *c, char *b, size_t n,
		  int arg)
{
	(void)R;
	const struct tool_result *r = fig(c, arg >> 8, arg & 0xff);
	if (r && r->hist && r->hist->count)
		snprintf(b, n, "%.1f / %.1f / %.1f",
			 (double)tool_hist_pct(r->hist, 0.5) / 1e3,
			 (double)tool_hist_pct(r->hist, 0.99) / 1e3,
			 (double)tool_hist_pct(r->hist, 0.999) / 1e3);
}

static void c_counts(const struct run *R, const struct col *c, char *b,
		     size_t n, int arg)
{
	(void)R;
	const struct tool_result *r = fig(c, arg >> 8, arg & 0xff);
	if (r)
		snprintf(b, n, "%.3f %.3f %.3f %.3f",
			 tool_per(r->d.notify_sent, r->ops),
			 tool_per(r->d.notify_suppressed, r->ops),
			 tool_per(r->d.irqs, r->ops), tool_per(r->d.copies, r->ops));
}

static const char *feat_state(const struct side *s, uint64_t f)
{
	if (!s->info.protocol)
		return "";
	return s->info.features & f ? "yes" : s->info.offered & f ? "offered"
								  : "no";
}

static void c_feature(const struct run *R, const struct col *c, char *b,
		      size_t n, int bit)
{
	uint64_t f = 1ull << bit;
	(void)R;
	if (bit >= 32) {
		snprintf(b, n, "%s", feat_state(&c->net, f));
		return;
	}
	if (bit >= 16) {
		snprintf(b, n, "%s", feat_state(&c->blk, f));
		return;
	}
	/* transport features: both classes */
	const char *a = feat_state(&c->blk, f), *z = feat_state(&c->net, f);
	if (*a && *z && strcmp(a, z))
		snprintf(b, n, "blk %s, net %s", a, z);
	else
		snprintf(b, n, "%s", *a ? a : z);
}

static bool any_feature(const struct run *R, int bit)
{
	uint64_t f = 1ull << bit;
	for (unsigned i = 0; i < R->ncol; i++) {
		const struct col *c = &R->col[i];
		if ((c->blk.info.offered | c->net.info.offered) & f)
			return true;
	}
	return false;
}

static void table_body(struct table *T, const struct run *R)
{
	char l[96];
	row_start(T, "");
	for (unsigned i = 0; i < R->ncol; i++)
		cell(T, R->col[i].label, i + 1 == R->ncol);
	fprintf(T->out, "\n");
	row_start(T, "");
	for (unsigned i = 0; i < R->ncol; i++)
		cell(T, R->col[i].sub, i + 1 == R->ncol);
	fprintf(T->out, "\n\nBlock\n");
	row(T, R, "  protocol", c_protocol, 0);
	row(T, R, "  queues (in use of max)", c_queues, 0);
	row(T, R, "  largest request", c_limits, 0);
	/* the figures, in the order measure_blk made them */
	int idx = 0;
	for (int w = 0; w < 2; w++) {
		if (w ? !R->o.do_write : !R->o.do_read)
			continue;
		uint64_t maxqd = 1;
		for (unsigned i = 0; i < R->o.nqd; i++)
			if (R->o.qd[i] > maxqd)
				maxqd = R->o.qd[i];
		for (unsigned i = 0; i < R->o.nqd; i++) {
			if (w && R->o.qd[i] != maxqd)
				continue;
			snprintf(l, sizeof(l), "  %s %u B x %u: IOPS",
				 w ? "randwrite" : "randread", R->o.m.bs,
				 (unsigned)R->o.qd[i]);
			row(T, R, l, c_rate, idx);
			row(T, R, "    latency p50/99/99.9 us", c_lat, idx);
			row(T, R, "    kick supp irq copy /op", c_counts, idx);
			idx++;
		}
	}
	fprintf(T->out, "\nNetwork\n");
	row(T, R, "  protocol", c_protocol, 1);
	row(T, R, "  queues (in use of max)", c_queues, 1);
	row(T, R, "  MTU, largest frame", c_limits, 1);
	snprintf(l, sizeof(l), "  round trips %u B: frames/s", R->o.m.net_size);
	row(T, R, l, c_rate, 1 << 8);
	row(T, R, "    round trip p50/99/99.9 us", c_lat, 1 << 8);
	row(T, R, "    kick supp irq copy /op", c_counts, 1 << 8);
	fprintf(T->out, "\nFeatures (yes: in use; offered: offered, not used; no: not "
	       "offered)\n");
	for (int bit = 0; bit < 64; bit++) {
		const char *name = pvio_feature_name(1ull << bit);
		if (!name || !any_feature(R, bit))
			continue;
		snprintf(l, sizeof(l), "  %s", name);
		row(T, R, l, c_feature, bit);
	}
	bool errs = false;
	for (unsigned i = 0; i < R->ncol; i++)
		errs |= R->col[i].blk.error[0] || R->col[i].net.error[0];
	if (errs) {
		fprintf(T->out, "\nProblems\n");
		for (unsigned i = 0; i < R->ncol; i++) {
			const struct col *c = &R->col[i];
			if (c->blk.error[0])
				fprintf(T->out, "  %s (%s) block: %s\n", c->label, c->sub,
				       c->blk.error);
			if (c->net.error[0])
				fprintf(T->out, "  %s (%s) network: %s\n", c->label, c->sub,
				       c->net.error);
		}
	}
	fprintf(T->out, "\nkick: notifications pvio sent; supp: notifications the host "
	       "let pvio skip; irq: host notifications pvio woke for; copy: "
	       "data copies (per operation)\n");
}

static void print_table(const struct run *R)
{
	struct table T = { .cw = 0 };
	T.out = fopen("/dev/null", "w");
	if (T.out) {
		table_body(&T, R);
		fclose(T.out);
	} else {
		T.maxw = 26;
	}
	T.out = stdout;
	T.cw = T.maxw;
	table_body(&T, R);
}

/* ---- JSON ---- */

static void json_features(struct tool_json *j, const char *key, uint64_t f)
{
	tool_json_arr(j, key);
	for (int bit = 0; bit < 64; bit++)
		if (f & (1ull << bit) && pvio_feature_name(1ull << bit))
			tool_json_str(j, NULL, pvio_feature_name(1ull << bit));
	tool_json_end(j, ']');
}

static void json_side(struct tool_json *j, const char *key,
		      const struct side *s, bool net)
{
	if (!s->present) {
		tool_json_null(j, key);
		return;
	}
	tool_json_obj(j, key);
	tool_json_str(j, "address", s->address);
	tool_json_bool(j, "ok", s->ok);
	if (s->error[0])
		tool_json_str(j, "error", s->error);
	if (s->info.protocol) {
		tool_json_str(j, "family", pvio_family_name(s->info.family));
		tool_json_str(j, "hypervisor", pvio_family_hypervisor(s->info.family));
		tool_json_str(j, "backend", s->backend);
		tool_json_str(j, "protocol", s->protocol);
		tool_json_str(j, "native", s->native);
		json_features(j, "features", s->info.features);
		json_features(j, "offered", s->info.offered);
		tool_json_obj(j, "limits");
		tool_json_u64(j, "max_queues", s->info.max_queues);
		tool_json_u64(j, "num_queues", s->info.num_queues);
		tool_json_u64(j, "queue_size", s->info.queue_size);
		tool_json_u64(j, "max_segments", s->info.max_segments);
		tool_json_u64(j, "max_transfer", s->info.max_transfer);
		tool_json_u64(j, "max_segment_size", s->info.max_segment_size);
		if (net) {
			tool_json_u64(j, "mtu", s->ni.mtu);
			tool_json_u64(j, "max_tx_frame", s->ni.max_tx_frame);
			tool_json_u64(j, "ring_size", s->ni.ring_size);
		} else {
			tool_json_u64(j, "capacity", s->bi.capacity);
			tool_json_u64(j, "block_size", s->bi.block_size);
			tool_json_u64(j, "queue_depth", s->bi.queue_depth);
		}
		tool_json_end(j, '}');
	}
	tool_json_arr(j, "results");
	for (unsigned i = 0; i < s->nres; i++)
		tool_json_result(j, &s->res[i]);
	tool_json_end(j, ']');
	tool_json_end(j, '}');
}

static void print_json(const struct run *R, const char *chart)
{
	struct tool_json j;
	tool_json_init(&j, stdout);
	tool_json_obj(&j, NULL);
	tool_json_machine(&j);
	tool_json_obj(&j, "settings");
	tool_json_u64(&j, "bs", R->o.m.bs);
	tool_json_arr(&j, "blk_qd");
	for (unsigned i = 0; i < R->o.nqd; i++)
		tool_json_u64(&j, NULL, R->o.qd[i]);
	tool_json_end(&j, ']');
	tool_json_bool(&j, "read", R->o.do_read);
	tool_json_bool(&j, "write", R->o.do_write);
	tool_json_u64(&j, "net_size", R->o.m.net_size);
	tool_json_dbl(&j, "seconds", R->o.m.seconds);
	tool_json_dbl(&j, "warmup", R->o.m.warmup);
	tool_json_end(&j, '}');
	tool_json_arr(&j, "backends");
	for (unsigned i = 0; i < R->ncol; i++) {
		const struct col *c = &R->col[i];
		tool_json_obj(&j, NULL);
		tool_json_str(&j, "name", c->key);
		tool_json_str(&j, "label", c->label);
		tool_json_str(&j, "host", c->sub);
		tool_json_bool(&j, "builtin", c->builtin);
		json_side(&j, "blk", &c->blk, false);
		json_side(&j, "net", &c->net, true);
		tool_json_end(&j, '}');
	}
	tool_json_end(&j, ']');
	if (chart)
		tool_json_str(&j, "chart", chart);
	else
		tool_json_null(&j, "chart");
	tool_json_bool(&j, "ok", !R->failed);
	tool_json_end(&j, '}');
	tool_json_done(&j);
}

/* ---- the chart ---- */

static void dat_header(FILE *f, const struct run *R)
{
	fputs("\"workload\"", f);
	for (unsigned i = 0; i < R->ncol; i++)
		fprintf(f, "\t\"%s (%s)\"", R->col[i].label, R->col[i].sub);
	fputc('\n', f);
}

static int write_data(const struct run *R, const char *path, int what)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	dat_header(f, R);
	if (what == 2) {
		fprintf(f, "\"%u-byte frames\"", R->o.m.net_size);
		for (unsigned i = 0; i < R->ncol; i++) {
			const struct tool_result *r = fig(&R->col[i], 1, 0);
			if (r && r->secs > 0)
				fprintf(f, "\t%.0f", (double)r->ops / r->secs);
			else
				fputs("\t-", f);
		}
		fputc('\n', f);
	} else {
		unsigned nfig = 0;
		for (unsigned i = 0; i < R->ncol; i++)
			if (R->col[i].blk.nres > nfig)
				nfig = R->col[i].blk.nres;
		for (unsigned k = 0; k < nfig; k++) {
			const struct tool_result *any = NULL;
			for (unsigned i = 0; i < R->ncol && !any; i++)
				any = fig(&R->col[i], 0, (int)k);
			fprintf(f, "\"%s x%u\"", any->op, any->depth);
			for (unsigned i = 0; i < R->ncol; i++) {
				const struct tool_result *r = fig(&R->col[i], 0, (int)k);
				if (!r || r->secs <= 0)
					fputs("\t-", f);
				else if (what == 0)
					fprintf(f, "\t%.0f", (double)r->ops / r->secs);
				else
					fprintf(f, "\t%.1f",
						r->hist && r->hist->count
							? (double)tool_hist_pct(r->hist, 0.99) / 1e3
							: 0.0);
			}
			fputc('\n', f);
		}
	}
	return fclose(f) ? -errno : 0;
}

static void plot_cmd(FILE *f, const struct run *R, const char *dat)
{
	fprintf(f, "plot ");
	for (unsigned i = 0; i < R->ncol; i++)
		fprintf(f, "%s'%s' using %u%s title columnheader(%u)",
			i ? ", " : "", dat, i + 2, i ? "" : ":xtic(1)", i + 2);
	fputc('\n', f);
}

/* Draw the chart with gnuplot: 0, or -errno with a reason in why. */
static int chart(const struct run *R, const char *svg, char *why, size_t n)
{
	char gp[320], d0[320], d1[320], d2[320], log[320];
	snprintf(d0, sizeof(d0), "%s/iops.dat", R->dir);
	snprintf(d1, sizeof(d1), "%s/p99.dat", R->dir);
	snprintf(d2, sizeof(d2), "%s/net.dat", R->dir);
	snprintf(gp, sizeof(gp), "%s/compare.gp", R->dir);
	snprintf(log, sizeof(log), "%s/gnuplot.log", R->dir);
	if (write_data(R, d0, 0) < 0 || write_data(R, d1, 1) < 0 ||
	    write_data(R, d2, 2) < 0) {
		snprintf(why, n, "cannot write the chart's data in %s", R->dir);
		return -EIO;
	}
	FILE *f = fopen(gp, "we");
	if (!f) {
		snprintf(why, n, "cannot write %s", gp);
		return -EIO;
	}
	fprintf(f, "set terminal svg size 1280,480 dynamic enhanced font "
		   "'sans,11' background rgb 'white'\n");
	fprintf(f, "set output '%s'\n", svg);
	fprintf(f, "set datafile separator '\\t'\n");
	fprintf(f, "set datafile missing '-'\n");
	fprintf(f, "set style data histograms\n");
	fprintf(f, "set style histogram clustered gap 1\n");
	fprintf(f, "set style fill solid 0.85 border -1\n");
	fprintf(f, "set boxwidth 0.9\n");
	fprintf(f, "set grid ytics\n");
	fprintf(f, "set yrange [0:*]\n");
	/* headroom above the tallest bar for the key */
	fprintf(f, "set offsets 0, 0, graph 0.3, 0\n");
	fprintf(f, "set key top right font ',9'\n");
	fprintf(f, "set xtics font ',9'\n");
	fprintf(f, "set multiplot layout 1,3 title 'pvio compare: the same "
		   "workloads through each paravirtual protocol (%.1f s per "
		   "figure)'\n", R->o.m.seconds);
	fprintf(f, "set title 'Block: %u-byte random I/O'\n", R->o.m.bs);
	fprintf(f, "set ylabel 'requests per second'\n");
	plot_cmd(f, R, d0);
	fprintf(f, "set title 'Block: p99 latency'\n");
	fprintf(f, "set ylabel 'microseconds'\n");
	plot_cmd(f, R, d1);
	fprintf(f, "set title 'Network: round trips through a reflecting "
		   "peer'\n");
	fprintf(f, "set ylabel 'frames per second'\n");
	plot_cmd(f, R, d2);
	fprintf(f, "unset multiplot\n");
	if (fclose(f)) {
		snprintf(why, n, "cannot write %s", gp);
		return -EIO;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, n, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("gnuplot", "gnuplot", gp, (char *)NULL);
		_exit(127);
	}
	int st = tool_reap(pid, 30000);
	if (st == 127) {
		snprintf(why, n, "gnuplot is not installed (Debian: gnuplot-nox; "
				 "scripts/deps.sh installs it)");
		return -ENOENT;
	}
	if (st != 0) {
		snprintf(why, n, "gnuplot failed (log: %s)", log);
		return -EIO;
	}
	return 0;
}

/* ---- main ---- */

static void free_hists(struct run *R)
{
	for (unsigned i = 0; i < R->ncol; i++) {
		free(R->col[i].net.hist[0]);
		for (unsigned k = 0; k < MAX_FIG; k++)
			free(R->col[i].blk.hist[k]);
	}
}

static int parse_hosts(struct run *R, const char *list)
{
	char buf[128];
	if (!strcmp(list, "none"))
		return 0;
	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (R->ncol == MAX_COLS || add_builtin(R, t) < 0)
			return -1;
	}
	return 0;
}

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hosts", required_argument, NULL, 'H' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "bs", required_argument, NULL, 'b' },
		{ "blk-qd", required_argument, NULL, 'q' },
		{ "rw", required_argument, NULL, 'r' },
		{ "net-size", required_argument, NULL, 'n' },
		{ "disk-size", required_argument, NULL, 'd' },
		{ "svg", required_argument, NULL, 'S' },
		{ "no-svg", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run *R = calloc(1, sizeof(*R));
	const char *hosts = "xen,hyperv,virtio";
	uint64_t v;
	int c, n, ret = TOOL_OK;

	if (!R)
		return tool_fail(cmd, "out of memory");
	R->o = (struct opts){ .m = { .bs = 4096, .net_size = 64, .seconds = 2,
				     .warmup = 0.5 },
			      .qd = { 1, 32 }, .nqd = 2, .do_read = true,
			      .do_write = true, .disk = 256ull << 20,
			      .svg = "pvio-compare.svg" };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': hosts = optarg; break;
		case 's':
			if (tool_parse_seconds(optarg, 3600, &R->o.m.seconds) < 0) {
				free(R);
				return tool_usage(cmd, "--seconds wants more than 0 "
						       "and at most 3600");
			}
			break;
		case 'w':
			if (!strcmp(optarg, "0"))
				R->o.m.warmup = 0;
			else if (tool_parse_seconds(optarg, 3600, &R->o.m.warmup) < 0) {
				free(R);
				return tool_usage(cmd, "--warmup wants 0 to 3600 "
						       "seconds");
			}
			break;
		case 'b':
			if (tool_parse_size(optarg, &v) < 0 || v < 512 ||
			    v > (1u << 20) || v % 512) {
				free(R);
				return tool_usage(cmd, "--bs wants a multiple of 512 "
						       "from 512 to 1M");
			}
			R->o.m.bs = (uint32_t)v;
			break;
		case 'q':
			n = tool_parse_list(optarg, 1, 256, R->o.qd, MAX_QD_LIST);
			if (n < 0) {
				free(R);
				return tool_usage(cmd, "--blk-qd wants up to %d "
						       "comma-separated depths from "
						       "1 to 256",
						  MAX_QD_LIST);
			}
			R->o.nqd = (unsigned)n;
			break;
		case 'r':
			if (!strcmp(optarg, "read")) {
				R->o.do_read = true;
				R->o.do_write = false;
			} else if (!strcmp(optarg, "write")) {
				R->o.do_read = false;
				R->o.do_write = true;
			} else if (!strcmp(optarg, "read,write") ||
				   !strcmp(optarg, "write,read")) {
				R->o.do_read = R->o.do_write = true;
			} else {
				free(R);
				return tool_usage(cmd, "--rw wants read, write or "
						       "read,write");
			}
			break;
		case 'n':
			if (tool_parse_size(optarg, &v) < 0 ||
			    v < TOOL_NETLOOP_MIN_FRAME || v > 65535) {
				free(R);
				return tool_usage(cmd, "--net-size wants %u..65535 "
						       "bytes",
						  TOOL_NETLOOP_MIN_FRAME);
			}
			R->o.m.net_size = (uint32_t)v;
			break;
		case 'd':
			if (tool_parse_size(optarg, &v) < 0 || v < (1u << 20) ||
			    v % 4096) {
				free(R);
				return tool_usage(cmd, "--disk-size wants a multiple "
						       "of 4k of at least 1M");
			}
			R->o.disk = v;
			break;
		case 'S': R->o.svg = optarg; break;
		case 'N': R->o.svg = NULL; break;
		case 'j': R->o.json = true; break;
		case 'h':
			fputs(usage_text, stdout);
			free(R);
			return TOOL_OK;
		default:
			free(R);
			return tool_bad_option(cmd, c, argv);
		}
	}
	if (parse_hosts(R, hosts) < 0) {
		free(R);
		return tool_usage(cmd, "--hosts wants a list of xen, hyperv, "
				       "virtio, qsd, testpmd, or none");
	}
	for (int i = optind; i < argc; i++) {
		if (R->ncol == MAX_COLS) {
			free(R);
			return tool_usage(cmd, "at most %d columns", MAX_COLS);
		}
		if ((ret = add_device(R, argv[i])) != TOOL_OK) {
			free(R);
			return ret;
		}
	}
	if (!R->ncol) {
		free(R);
		return tool_usage(cmd, "nothing to compare: give DEVICEs or "
				       "--hosts");
	}
	int r = tool_tmpdir(R->dir, sizeof(R->dir), "compare");
	if (r < 0) {
		free(R);
		return tool_fail(cmd, "cannot create a temporary directory: %s",
				 strerror(-r));
	}
	tool_hosts_catch_signals();
	R->tty = isatty(2) == 1;
	bool oom = false;
	for (unsigned i = 0; i < R->ncol; i++) {
		struct col *col = &R->col[i];
		R->fig_total += (col->blk.present ? blk_figures(R, col) : 0) +
				(col->net.present ? 1 : 0);
		for (unsigned k = 0; k < MAX_FIG; k++)
			oom |= !(col->blk.hist[k] = malloc(sizeof(struct tool_hist)));
		oom |= !(col->net.hist[0] = malloc(sizeof(struct tool_hist)));
	}
	if (oom) {
		free_hists(R);
		free(R);
		return tool_fail(cmd, "out of memory");
	}
	R->t0 = tool_now_ns();
	if (!R->o.json) {
		printf("pvio compare: the same workloads through each paravirtual "
		       "protocol, %.1f s per figure after %.1f s warm-up\n\n",
		       R->o.m.seconds, R->o.m.warmup);
		fflush(stdout);
	}
	for (unsigned i = 0; i < R->ncol && !tool_interrupted; i++) {
		struct col *col = &R->col[i];
		if (col->builtin)
			run_builtin(R, col);
		else
			measure_col(R, col);
		if ((col->blk.present && !col->blk.ok) ||
		    (col->net.present && !col->net.ok))
			R->failed = true;
	}
	progress_clear(R);
	if (tool_interrupted) {
		R->failed = true;
		ret = tool_fail(cmd, "interrupted");
	}
	char why[400] = "";
	const char *drawn = NULL;
	if (R->o.svg && !tool_interrupted) {
		if (chart(R, R->o.svg, why, sizeof(why)) == 0)
			drawn = R->o.svg;
	}
	if (R->o.json) {
		print_json(R, drawn);
	} else {
		print_table(R);
		if (drawn)
			printf("\nchart: %s\n", drawn);
	}
	if (R->o.svg && !drawn && !tool_interrupted)
		fprintf(stderr, "pvio %s: no chart: %s\n", cmd, why);
	free_hists(R);
	tool_rmtree(R->dir);
	bool failed = R->failed;
	free(R);
	if (ret)
		return ret;
	return failed ? TOOL_FAIL : TOOL_OK;
}
