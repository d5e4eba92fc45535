/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/ctl.c - SIM_CTL commands of the simulated Xen host
 * (`pvio sim ctl SOCKET COMMAND`): status, quit, and fault injection into
 * the back ends.  Faults act on the next responses of one device and are
 * kept across reconnects until cleared.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sxen.h"

static const struct {
	const char *syntax;
	const char *what;
} cmds[] = {
	{ "help", "this list" },
	{ "status", "domains, grant/event-channel use, xenstore size, every device's state and counters" },
	{ "quit", "stop the host (as SIGTERM)" },
	{ "delay DEV MS", "hold every response of DEV for MS milliseconds (0: off); vif: TX responses and RX delivery" },
	{ "drop DEV N", "lose the next N responses of DEV (vif: TX responses)" },
	{ "corrupt DEV KIND", "corrupt DEV's next response: id, status, op (vbd), rsp-prod (rsp_prod jumps past the ring), rx-status, rx-offset (vif RX)" },
	{ "clear DEV", "remove all faults of DEV" },
	{ "close DEV", "the back end goes to Closing now, even with I/O in flight" },
	{ "suspend DEV", "the domain is saved, as the back end sees it: it drops the rings (requests not yet answered never are), goes Closing, then Closed, and neither reconnects nor attaches again until `resume`" },
	{ "resume DEV", "end a suspend: the back end connects again (InitWait) and DEV can be attached" },
	{ "unplug DEV", "hot-unplug as `xl block-detach`: online=0, back end Closing, removed when the front end closes (forced after 10 s)" },
	{ "closing-delay DEV MS", "vbd: wait MS ms before following the front end to Closing (Linux blkback takes ~5 s); 0 ends a wait in progress" },
	{ "link DEV up|down", "vif: carrier on or off (`carrier` key; frames are dropped while down)" },
	{ "resize DEV", "vbd: re-read the image size and announce it (sectors, state) as blkback does" },
};

void sxen_ctl_help(FILE *f)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-22s %s\n", cmds[i].syntax, cmds[i].what);
}

struct out {
	char *p;
	size_t len, off;
};

static void outf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	if (o->off >= o->len)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->off, o->len - o->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->off += (size_t)n < o->len - o->off ? (size_t)n : o->len - o->off - 1;
}

struct dev {
	int kind;
	struct sxen_vbd_cfg *vbd;
	struct sxen_vif_cfg *vif;
	struct sxen_faults *f;
};

static int find_dev(struct sxen_host *h, const char *s, struct dev *d)
{
	char *end;
	unsigned long id;
	memset(d, 0, sizeof(*d));
	if (!s)
		return -EINVAL;
	if (!strncmp(s, "vbd/", 4))
		d->kind = SXEN_KIND_VBD;
	else if (!strncmp(s, "vif/", 4))
		d->kind = SXEN_KIND_VIF;
	else
		return -EINVAL;
	id = strtoul(s + 4, &end, 0);
	if (end == s + 4 || *end)
		return -EINVAL;
	if (d->kind == SXEN_KIND_VBD) {
		for (unsigned i = 0; i < h->nvbd; i++)
			if (h->vbd[i].devid == id) {
				d->vbd = &h->vbd[i];
				d->f = &d->vbd->f;
				return 0;
			}
	} else {
		for (unsigned i = 0; i < h->nvif; i++)
			if (h->vif[i].devid == id) {
				d->vif = &h->vif[i];
				d->f = &d->vif->f;
				return 0;
			}
	}
	return -ENOENT;
}

static void faults_changed(struct dev *d)
{
	if (d->vbd && d->vbd->bb)
		sxen_blkback_faults_changed(d->vbd->bb);
	if (d->vif && d->vif->nb)
		sxen_netback_faults_changed(d->vif->nb);
}

static int parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno || *end || *v > max ? -EINVAL : 0;
}

static void status(struct sxen_host *h, struct out *o)
{
	unsigned nodes, watches, txs;
	sxen_xs_stats(h->xs, &nodes, &watches, &txs);
	outf(o, "socket %s; xenstore: %u nodes, %u watches, %u open transactions\n",
	     h->path, nodes, watches, txs);
	for (struct sxen_domain *d = h->domains; d; d = d->next) {
		uint64_t mem = 0;
		unsigned ports = 0;
		for (unsigned i = 0; i < d->mem.n; i++)
			mem += d->mem.r[i].size;
		if (d->ports)
			for (unsigned i = 1; i <= SXEN_EVTCHN_MAX; i++)
				ports += d->ports[i].used;
		outf(o, "dom%u '%s': memory %" PRIu64 " KiB in %u range%s; grant table %u frame%s, %" PRIu64
			" pins, %" PRIu64 " maps, %" PRIu64 " copies, %" PRIu64
			" refused; %u event channel%s; %u xenstore connection%s\n",
		     d->domid, d->name, mem / 1024, d->mem.n, d->mem.n == 1 ? "" : "s",
		     d->gt.nr_frames, d->gt.nr_frames == 1 ? "" : "s", d->gt.pins,
		     d->gt.maps, d->gt.copies, d->gt.refused, ports,
		     ports == 1 ? "" : "s", d->nxs, d->nxs == 1 ? "" : "s");
	}
	char buf[2048];
	for (unsigned i = 0; i < h->nvbd; i++) {
		struct sxen_vbd_cfg *v = &h->vbd[i];
		if (v->bb) {
			sxen_blkback_status(v->bb, buf, sizeof(buf));
			outf(o, "%s", buf);
		} else {
			outf(o, "vbd/%u %s: not attached\n", v->devid, v->path);
		}
		if (v->f.delay_ms || v->f.drop || v->f.corrupt || v->f.closing_delay_ms)
			outf(o, "  faults: delay=%u ms drop=%u corrupt=0x%x closing-delay=%u ms\n",
			     v->f.delay_ms, v->f.drop, v->f.corrupt, v->f.closing_delay_ms);
	}
	for (unsigned i = 0; i < h->nvif; i++) {
		struct sxen_vif_cfg *v = &h->vif[i];
		if (v->nb) {
			sxen_netback_status(v->nb, buf, sizeof(buf));
			outf(o, "%s", buf);
		} else {
			outf(o, "vif/%u: not attached (link %s)\n", v->devid,
			     v->link ? "up" : "down");
		}
		if (v->f.delay_ms || v->f.drop || v->f.corrupt)
			outf(o, "  faults: delay=%u ms drop=%u corrupt=0x%x\n",
			     v->f.delay_ms, v->f.drop, v->f.corrupt);
	}
}

void sxen_ctl(struct sxen_host *h, const char *cmd, char *outbuf,
	      size_t outlen, int *st)
{
	struct out o = { outbuf, outlen, 0 };
	char buf[256], *save = NULL;
	char *argv[4] = { 0 };
	int argc = 0;
	struct dev d;
	unsigned long n;

	outbuf[0] = 0;
	*st = 0;
	snprintf(buf, sizeof(buf), "%s", cmd);
	for (char *t = strtok_r(buf, " \t\n", &save); t && argc < 4;
	     t = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = t;
	if (!argc || !strcmp(argv[0], "help")) {
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			outf(&o, "%-22s %s\n", cmds[i].syntax, cmds[i].what);
		outf(&o, "DEV is vbd/DEVID or vif/DEVID\n");
		return;
	}
	if (!strcmp(argv[0], "status")) {
		status(h, &o);
		return;
	}
	if (!strcmp(argv[0], "quit")) {
		outf(&o, "stopping\n");
		sim_loop_stop(h->loop);
		return;
	}
	bool known = false;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strncmp(cmds[i].syntax, argv[0], strlen(argv[0])) &&
		    cmds[i].syntax[strlen(argv[0])] == ' ')
			known = true;
	if (!known) {
		outf(&o, "unknown command '%s'; try `help`\n", argv[0]);
		*st = -EINVAL;
		return;
	}
	int r = find_dev(h, argv[1], &d);
	if (r) {
		outf(&o, r == -ENOENT ? "no such device '%s'\n"
				      : "expected DEV as vbd/DEVID or vif/DEVID, got '%s'\n",
		     argv[1] ? argv[1] : "");
		*st = r;
		return;
	}
	const char *c = argv[0];
	if (!strcmp(c, "delay") || !strcmp(c, "drop") || !strcmp(c, "closing-delay")) {
		if (parse_num(argv[2], 600000, &n)) {
			outf(&o, "%s needs a number (0..600000)\n", c);
			*st = -EINVAL;
			return;
		}
		if (!strcmp(c, "delay"))
			d.f->delay_ms = (uint32_t)n;
		else if (!strcmp(c, "drop"))
			d.f->drop = (uint32_t)n;
		else if (d.kind == SXEN_KIND_VBD)
			d.f->closing_delay_ms = (uint32_t)n;
		else {
			outf(&o, "closing-delay applies to vbds\n");
			*st = -EINVAL;
			return;
		}
		faults_changed(&d);
		outf(&o, "%s %s %lu\n", argv[1], c, n);
		return;
	}
	if (!strcmp(c, "corrupt")) {
		static const struct {
			const char *n;
			uint32_t bit;
			int kinds;
		} k[] = {
			{ "id", SXEN_CORRUPT_ID, 3 },
			{ "status", SXEN_CORRUPT_STATUS, 3 },
			{ "op", SXEN_CORRUPT_OP, SXEN_KIND_VBD },
			{ "rsp-prod", SXEN_CORRUPT_RSP_PROD, 3 },
			{ "rx-status", SXEN_CORRUPT_RX_STATUS, SXEN_KIND_VIF },
			{ "rx-offset", SXEN_CORRUPT_RX_OFFSET, SXEN_KIND_VIF },
		};
		for (size_t i = 0; argv[2] && i < sizeof(k) / sizeof(k[0]); i++)
			if (!strcmp(argv[2], k[i].n) && (k[i].kinds & d.kind)) {
				d.f->corrupt |= k[i].bit;
				outf(&o, "%s: next response gets a bad %s\n", argv[1], k[i].n);
				return;
			}
		outf(&o, "corrupt KIND: id, status, rsp-prod, op (vbd), rx-status, rx-offset (vif)\n");
		*st = -EINVAL;
		return;
	}
	if (!strcmp(c, "clear")) {
		memset(d.f, 0, sizeof(*d.f));
		faults_changed(&d);
		outf(&o, "%s: faults cleared\n", argv[1]);
		return;
	}
	if (!strcmp(c, "link")) {
		if (d.kind != SXEN_KIND_VIF || !argv[2] ||
		    (strcmp(argv[2], "up") && strcmp(argv[2], "down"))) {
			outf(&o, "usage: link vif/DEVID up|down\n");
			*st = -EINVAL;
			return;
		}
		bool up = !strcmp(argv[2], "up");
		if (d.vif->nb)
			sxen_netback_set_link(d.vif->nb, up);
		else
			d.vif->link = up;
		outf(&o, "%s: link %s\n", argv[1], up ? "up" : "down");
		return;
	}
	if (!strcmp(c, "suspend") || !strcmp(c, "resume")) {
		bool sus = c[0] == 's';
		if (d.vbd) {
			d.vbd->suspended = sus;
			if (d.vbd->bb)
				(sus ? sxen_blkback_suspend
				     : sxen_blkback_resume)(d.vbd->bb);
		} else {
			d.vif->suspended = sus;
			if (d.vif->nb)
				(sus ? sxen_netback_suspend
				     : sxen_netback_resume)(d.vif->nb);
		}
		outf(&o, "%s: %s\n", argv[1], sus ? "suspended" : "resumed");
		return;
	}
	bool attached = d.kind == SXEN_KIND_VBD ? d.vbd->bb != NULL : d.vif->nb != NULL;
	if (!attached) {
		outf(&o, "%s is not attached to a domain\n", argv[1]);
		*st = -ENOTCONN;
		return;
	}
	if (!strcmp(c, "close")) {
		if (d.vbd)
			sxen_blkback_close(d.vbd->bb);
		else
			sxen_netback_close(d.vif->nb);
		outf(&o, "%s: Closing\n", argv[1]);
	} else if (!strcmp(c, "unplug")) {
		sxen_device_unplug(h, d.kind, d.vbd ? d.vbd->devid : d.vif->devid);
		outf(&o, "%s: unplug started\n", argv[1]);
	} else if (!strcmp(c, "resize")) {
		if (!d.vbd) {
			outf(&o, "resize applies to vbds\n");
			*st = -EINVAL;
			return;
		}
		r = sxen_blkback_resize(d.vbd->bb);
		if (r) {
			outf(&o, "resize failed: %s\n", strerror(-r));
			*st = r;
			return;
		}
		outf(&o, "%s: size announced\n", argv[1]);
	}
}
