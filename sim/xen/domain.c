/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/domain.c - guest domains and the toolstack.
 *
 * A role-0 hostif connection is one domain.  Creating it does what libxl
 * does for a new domain in xenstore (/local/domain/<id> owned by dom0 and
 * readable by the domain, its device/ and control/ read-only to it, data/,
 * drivers/, feature/, attr/, error/ its own) and introduces it
 * (@introduceDomain).  DEVICE_ATTACH is `xl block-attach` /
 * `xl network-attach`: in one transaction the front-end directory (owned by
 * the domain, readable by dom0) and the back-end directory (owned by dom0,
 * readable by the domain) are created with the keys libxl and the hotplug
 * scripts write, then the back-end model probes.  When the connection
 * closes the domain dies: back ends are torn down (grants unmapped), its
 * event channels and xenstore connections closed, its memory unmapped and
 * its xenstore directories removed (@releaseDomain).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sxen.h"

#define MAX_XS_CONNS 8

struct sxen_domain *sxen_domain_find(struct sxen_host *h, uint16_t domid)
{
	for (struct sxen_domain *d = h->domains; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

static void tool_mknod(struct sxen_host *h, uint32_t tx, const char *path,
		       const char *perms)
{
	sxen_xs_mkdir(h->tool, tx, path);
	sxen_xs_set_perms_str(h->tool, tx, path, perms);
}

struct sxen_domain *sxen_domain_create(struct sxen_host *h,
				       struct sxen_conn *c, const char *name)
{
	uint16_t domid = 0;
	for (unsigned tries = 0; tries < 0x7FF0; tries++) {
		uint16_t cand = h->next_domid;
		h->next_domid = h->next_domid >= 0x7FEF ? 1 : h->next_domid + 1;
		if (cand && !sxen_domain_find(h, cand)) {
			domid = cand;
			break;
		}
	}
	if (!domid)
		return NULL;
	struct sxen_domain *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->h = h;
	d->domid = domid;
	d->conn = c;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->next = h->domains;
	h->domains = d;

	char p[96], ro[32], rw[16];
	uint32_t tx;
	snprintf(ro, sizeof(ro), "n0,r%u", domid);
	snprintf(rw, sizeof(rw), "n%u", domid);
	do {
		if (sxen_xs_tx_start(h->tool, &tx))
			break;
		snprintf(p, sizeof(p), "/local/domain/%u", domid);
		sxen_xs_rm(h->tool, tx, p);
		tool_mknod(h, tx, p, ro);
		static const char *const rodirs[] = { "device", "control", NULL };
		static const char *const rwdirs[] = { "data", "drivers", "feature",
						      "attr", "error", NULL };
		for (int i = 0; rodirs[i]; i++) {
			snprintf(p, sizeof(p), "/local/domain/%u/%s", domid, rodirs[i]);
			tool_mknod(h, tx, p, ro);
		}
		for (int i = 0; rwdirs[i]; i++) {
			snprintf(p, sizeof(p), "/local/domain/%u/%s", domid, rwdirs[i]);
			tool_mknod(h, tx, p, rw);
		}
		snprintf(p, sizeof(p), "/local/domain/%u/control/shutdown", domid);
		tool_mknod(h, tx, p, rw);
		snprintf(p, sizeof(p), "/local/domain/%u/name", domid);
		sxen_xs_printf(h->tool, tx, p, "%s", name[0] ? name : "guest");
		snprintf(p, sizeof(p), "/local/domain/%u/domid", domid);
		sxen_xs_printf(h->tool, tx, p, "%u", domid);
	} while (sxen_xs_tx_end(h->tool, tx, true) == -EAGAIN);
	sxen_xs_set_domain(h->xs, domid, true);
	return d;
}

static void detach_all(struct sxen_domain *d)
{
	struct sxen_host *h = d->h;
	for (unsigned i = 0; i < h->nvbd; i++)
		if (h->vbd[i].bb)
			sxen_device_detach(d, SXEN_KIND_VBD, h->vbd[i].devid);
	for (unsigned i = 0; i < h->nvif; i++)
		if (h->vif[i].nb)
			sxen_device_detach(d, SXEN_KIND_VIF, h->vif[i].devid);
}

void sxen_domain_destroy(struct sxen_domain *d)
{
	struct sxen_host *h = d->h;
	char p[96];
	d->dying = true;
	sim_log(SIM_LOG_INFO, "domain %u (%s) is gone; tearing it down",
		d->domid, d->name);
	detach_all(d);
	if (d->conn) {
		struct sxen_conn *c = d->conn;
		d->conn = NULL;
		sxen_conn_close(c, NULL);
	}
	sxen_conn_close_domain_xs(h, d);
	sxen_evtchn_fini(d);
	if (d->gt.pins)
		sim_log(SIM_LOG_WARN, "dom%u: %llu grant pins left at teardown",
			d->domid, (unsigned long long)d->gt.pins);
	sxen_gnt_fini(d);
	sim_mem_clear(&d->mem);
	snprintf(p, sizeof(p), "/local/domain/%u", d->domid);
	sxen_xs_rm(h->tool, 0, p);
	snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u", d->domid);
	sxen_xs_rm(h->tool, 0, p);
	snprintf(p, sizeof(p), "/local/domain/0/backend/vif/%u", d->domid);
	sxen_xs_rm(h->tool, 0, p);
	sxen_xs_set_domain(h->xs, d->domid, false);
	for (struct sxen_domain **pd = &h->domains; *pd; pd = &(*pd)->next)
		if (*pd == d) {
			*pd = d->next;
			break;
		}
	free(d);
}

/* ------------------------------------------------------------ devices */

static const char *kind_name(int kind)
{
	return kind == SXEN_KIND_VBD ? "vbd" : "vif";
}

static void dev_paths(struct sxen_domain *d, int kind, uint32_t devid,
		      char *fe, char *be, size_t len)
{
	snprintf(fe, len, "/local/domain/%u/device/%s/%u", d->domid,
		 kind_name(kind), devid);
	snprintf(be, len, "/local/domain/0/backend/%s/%u/%u", kind_name(kind),
		 d->domid, devid);
}

/* Linux names xvd disks from the vdev number (xen-vbd-interface.txt):
 * 202<<8 | disk<<4 | partition, or the extended 1<<28 | disk<<8 form. */
static void vbd_devname(uint32_t devid, char *out, size_t len)
{
	unsigned disk;
	if ((devid >> 8) == 202)
		disk = (devid >> 4) & 0xF;
	else if (devid & (1u << 28))
		disk = (devid >> 8) & 0xFFFFF;
	else
		disk = devid;
	if (disk < 26)
		snprintf(out, len, "xvd%c", 'a' + disk);
	else
		snprintf(out, len, "xvd%c%c", 'a' + disk / 26 - 1, 'a' + disk % 26);
}

static void toolstack_create(struct sxen_domain *d, int kind, void *cfgp)
{
	struct sxen_host *h = d->h;
	char fe[96], be[96], p[160], fperm[32], bperm[32];
	uint32_t devid = kind == SXEN_KIND_VBD
				 ? ((struct sxen_vbd_cfg *)cfgp)->devid
				 : ((struct sxen_vif_cfg *)cfgp)->devid;
	uint32_t tx;
	dev_paths(d, kind, devid, fe, be, sizeof(fe));
	snprintf(fperm, sizeof(fperm), "n%u,r0", d->domid);
	snprintf(bperm, sizeof(bperm), "n0,r%u", d->domid);
#define W(dir, key, ...)                                                 \
	do {                                                             \
		snprintf(p, sizeof(p), "%s/%s", dir, key);               \
		sxen_xs_printf(h->tool, tx, p, __VA_ARGS__);             \
	} while (0)
	do {
		if (sxen_xs_tx_start(h->tool, &tx))
			return;
		sxen_xs_rm(h->tool, tx, fe);
		sxen_xs_rm(h->tool, tx, be);
		/* front end first, as libxl does */
		tool_mknod(h, tx, fe, fperm);
		W(fe, "backend", "%s", be);
		W(fe, "backend-id", "0");
		W(fe, "state", "%d", SXB_INITIALISING);
		tool_mknod(h, tx, be, bperm);
		W(be, "frontend", "%s", fe);
		W(be, "frontend-id", "%u", d->domid);
		W(be, "online", "1");
		W(be, "state", "%d", SXB_INITIALISING);
		if (kind == SXEN_KIND_VBD) {
			struct sxen_vbd_cfg *v = cfgp;
			char dev[16];
			vbd_devname(devid, dev, sizeof(dev));
			W(fe, "virtual-device", "%u", devid);
			W(fe, "device-type", "%s", v->cdrom ? "cdrom" : "disk");
			W(be, "params", "%s", v->path);
			W(be, "mode", "%s", v->ro ? "r" : "w");
			W(be, "type", "phy");
			W(be, "dev", "%s", dev);
			W(be, "device-type", "%s", v->cdrom ? "cdrom" : "disk");
			W(be, "removable", "%d", v->cdrom ? 1 : 0);
			W(be, "bootable", "1");
		} else {
			struct sxen_vif_cfg *v = cfgp;
			char mac[18];
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
				 v->mac[0], v->mac[1], v->mac[2], v->mac[3],
				 v->mac[4], v->mac[5]);
			W(fe, "handle", "%u", devid);
			W(fe, "mac", "%s", mac);
			if (v->mtu_set)
				W(fe, "mtu", "%u", v->mtu);
			W(be, "handle", "%u", devid);
			W(be, "mac", "%s", mac);
			W(be, "type", "vif");
			W(be, "script", "/etc/xen/scripts/vif-bridge");
			if (v->mode == SXEN_VIF_BRIDGE)
				W(be, "bridge", "%s", v->bridge);
			if (v->mtu_set)
				W(be, "mtu", "%u", v->mtu);
		}
	} while (sxen_xs_tx_end(h->tool, tx, true) == -EAGAIN);
#undef W
}

static void toolstack_remove(struct sxen_domain *d, int kind, uint32_t devid)
{
	char fe[96], be[96];
	dev_paths(d, kind, devid, fe, be, sizeof(fe));
	sxen_xs_rm(d->h->tool, 0, fe);
	sxen_xs_rm(d->h->tool, 0, be);
}

static struct sxen_vbd_cfg *vbd_cfg(struct sxen_host *h, uint32_t devid)
{
	for (unsigned i = 0; i < h->nvbd; i++)
		if (h->vbd[i].devid == devid)
			return &h->vbd[i];
	return NULL;
}

static struct sxen_vif_cfg *vif_cfg(struct sxen_host *h, uint32_t devid)
{
	for (unsigned i = 0; i < h->nvif; i++)
		if (h->vif[i].devid == devid)
			return &h->vif[i];
	return NULL;
}

int sxen_device_attach(struct sxen_domain *d, int kind, uint32_t devid)
{
	struct sxen_host *h = d->h;
	if (kind == SXEN_KIND_VBD) {
		struct sxen_vbd_cfg *v = vbd_cfg(h, devid);
		if (!v)
			return -ENOENT;
		if (v->bb)
			return sxen_blkback_domain(v->bb) == d ? -EEXIST : -EBUSY;
		if (v->suspended)
			return -EAGAIN;
		toolstack_create(d, kind, v);
		return sxen_blkback_probe(h, d, v);
	}
	struct sxen_vif_cfg *v = vif_cfg(h, devid);
	if (!v)
		return -ENOENT;
	if (v->nb)
		return sxen_netback_domain(v->nb) == d ? -EEXIST : -EBUSY;
	if (v->suspended)
		return -EAGAIN;
	toolstack_create(d, kind, v);
	int r = sxen_netback_probe(h, d, v);
	if (r)
		return r;
	/* what the vif hotplug script reports once the vif is bridged */
	char be[96], fe[96], p[128];
	dev_paths(d, kind, devid, fe, be, sizeof(fe));
	snprintf(p, sizeof(p), "%s/hotplug-status", be);
	sxen_xs_printf(h->tool, 0, p, "connected");
	return 0;
}

int sxen_device_detach(struct sxen_domain *d, int kind, uint32_t devid)
{
	struct sxen_host *h = d->h;
	if (kind == SXEN_KIND_VBD) {
		struct sxen_vbd_cfg *v = vbd_cfg(h, devid);
		if (!v || !v->bb || sxen_blkback_domain(v->bb) != d)
			return -ENOENT;
		sxen_blkback_remove(v->bb);
	} else {
		struct sxen_vif_cfg *v = vif_cfg(h, devid);
		if (!v || !v->nb || sxen_netback_domain(v->nb) != d)
			return -ENOENT;
		sxen_netback_remove(v->nb);
	}
	toolstack_remove(d, kind, devid);
	return 0;
}

int sxen_device_unplug(struct sxen_host *h, int kind, uint32_t devid)
{
	if (kind == SXEN_KIND_VBD) {
		struct sxen_vbd_cfg *v = vbd_cfg(h, devid);
		if (!v || !v->bb)
			return -ENOENT;
		sxen_blkback_unplug(v->bb);
		return 0;
	}
	struct sxen_vif_cfg *v = vif_cfg(h, devid);
	if (!v || !v->nb)
		return -ENOENT;
	sxen_netback_unplug(v->nb);
	return 0;
}

/* A back end unregistered itself (front end Closed while offline): the
 * toolstack removes what is left. */
void sxen_device_gone(struct sxen_domain *d, int kind, uint32_t devid)
{
	toolstack_remove(d, kind, devid);
}

/* ------------------------------------------------------------ requests */

int sxen_domain_request(struct sxen_domain *d, struct sxen_conn *c,
			const struct sim_hostif_hdr *hdr,
			const uint8_t *p, int *fds, int nfds)
{
	uint32_t len = hdr->len;
	switch (hdr->type) {
	case SIM_HOSTIF_SET_MEMORY: {
		uint64_t gpa, size, off;
		if (len < 24)
			return -EPROTO;
		memcpy(&gpa, p, 8);
		memcpy(&size, p + 8, 8);
		memcpy(&off, p + 16, 8);
		if (nfds < 1 || fds[0] < 0) {
			sxen_conn_reply(c, hdr, -EBADF, NULL, 0, NULL, 0);
			return 0;
		}
		int r = sim_mem_add(&d->mem, gpa, size, fds[0], off);
		close(fds[0]);
		fds[0] = -1;
		if (r)
			sim_log(SIM_LOG_WARN, "dom%u: SET_MEMORY gpa 0x%llx size 0x%llx refused: %s",
				d->domid, (unsigned long long)gpa,
				(unsigned long long)size, strerror(-r));
		sxen_conn_reply(c, hdr, r, NULL, 0, NULL, 0);
		return 0;
	}
	case SXEN_HOSTIF_XS_CONNECT: {
		int sv[2];
		if (d->nxs >= MAX_XS_CONNS) {
			sxen_conn_reply(c, hdr, -EMFILE, NULL, 0, NULL, 0);
			return 0;
		}
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			sxen_conn_reply(c, hdr, -errno, NULL, 0, NULL, 0);
			return 0;
		}
		if (!sxen_conn_new_xs(d->h, sv[0], d)) {
			close(sv[0]);
			close(sv[1]);
			sxen_conn_reply(c, hdr, -ENOMEM, NULL, 0, NULL, 0);
			return 0;
		}
		sxen_conn_reply(c, hdr, 0, NULL, 0, &sv[1], 1);
		close(sv[1]);
		return 0;
	}
	case SXEN_HOSTIF_GNTTAB_SETUP: {
		uint32_t n;
		if (len < 8)
			return -EPROTO;
		memcpy(&n, p, 4);
		if (n < 1 || n > SXEN_GNT_MAX_FRAMES) {
			sxen_conn_reply(c, hdr, -EINVAL, NULL, 0, NULL, 0);
			return 0;
		}
		if (len < 8 + 8 * n)
			return -EPROTO;
		uint64_t gfns[SXEN_GNT_MAX_FRAMES];
		memcpy(gfns, p + 8, 8 * n);
		int r = sxen_gnt_setup(d, gfns, n);
		sxen_conn_reply(c, hdr, r, NULL, 0, NULL, 0);
		return 0;
	}
	case SXEN_HOSTIF_EVTCHN_ALLOC_UNBOUND: {
		uint32_t remote, port = 0;
		int efd[2];
		if (len < 4)
			return -EPROTO;
		memcpy(&remote, p, 4);
		int r = sxen_evtchn_alloc(d, remote, &port, efd);
		if (r)
			sxen_conn_reply(c, hdr, r, NULL, 0, NULL, 0);
		else
			sxen_conn_reply(c, hdr, 0, &port, 4, efd, 2);
		return 0;
	}
	case SXEN_HOSTIF_EVTCHN_CLOSE: {
		uint32_t port;
		if (len < 4)
			return -EPROTO;
		memcpy(&port, p, 4);
		sxen_conn_reply(c, hdr, sxen_evtchn_close(d, port), NULL, 0,
				NULL, 0);
		return 0;
	}
	case SXEN_HOSTIF_DEVICE_ATTACH:
	case SXEN_HOSTIF_DEVICE_DETACH: {
		char type[9];
		uint32_t devid;
		int kind, r;
		if (len < 12)
			return -EPROTO;
		memcpy(type, p, 8);
		type[8] = 0;
		memcpy(&devid, p + 8, 4);
		if (!memchr(p, 0, 8))
			kind = 0;
		else if (!strcmp(type, "vbd"))
			kind = SXEN_KIND_VBD;
		else if (!strcmp(type, "vif"))
			kind = SXEN_KIND_VIF;
		else
			kind = 0;
		if (!kind)
			r = -EINVAL;
		else if (hdr->type == SXEN_HOSTIF_DEVICE_ATTACH)
			r = sxen_device_attach(d, kind, devid);
		else
			r = sxen_device_detach(d, kind, devid);
		if (kind)
			sim_log(r ? SIM_LOG_WARN : SIM_LOG_INFO, "dom%u: %s %s/%u%s%s",
				d->domid,
				hdr->type == SXEN_HOSTIF_DEVICE_ATTACH ? "attach" : "detach",
				type, devid, r ? ": " : "", r ? strerror(-r) : "");
		sxen_conn_reply(c, hdr, r, NULL, 0, NULL, 0);
		return 0;
	}
	}
	return -EPROTO;
}
