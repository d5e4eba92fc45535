/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/transport.c - opening, servicing and closing Xen PV
 * devices, whatever hostif reaches the hypervisor.
 *
 * open: the toolstack's part (hostif device_attach), XenBus probe of the
 * device directory, then the class's open (blk.c connects at once,
 * because a vbd's size is only published once connected; net.c waits for
 * InitWait and connects in configure, when the offloads are known).
 * service: watch events - the back end leaving Connected means the device
 * was removed; the class re-reads what it watches (capacity, carrier).
 * quiesce: the close handshake; when the back end reached Closed it has
 * unmapped the rings and data pages, so nothing more can arrive, and a
 * device pvio attached is detached (so a reconnect can attach it again).
 * close: quiesce, detach, free - grants still mapped are leaked.
 */
#include "xen.h"

static int opt_bool(pvio_ctx *ctx, const char *opts, const char *key,
		    bool *out)
{
	char b[8];
	int r = pvio_opt_get(opts, key, b, sizeof(b));
	if (r == 0)
		return 0;
	if (r < 0 || (pvio_strcmp(b, "0") && pvio_strcmp(b, "1")))
		return pvio_set_error(ctx, EINVAL,
				      "option %s must be 0 or 1", key);
	*out = b[0] == '1';
	return 0;
}

static int opt_u32(pvio_ctx *ctx, const char *opts, const char *key,
		   uint32_t max, uint32_t *out)
{
	char b[16];
	uint64_t v;
	int r = pvio_opt_get(opts, key, b, sizeof(b));
	if (r == 0)
		return 0;
	if (r < 0 || pvio_parse_u64(b, max, &v) < 0)
		return pvio_set_error(ctx, EINVAL,
				      "option %s must be a number from 0 to %u",
				      key, max);
	*out = (uint32_t)v;
	return 0;
}

static const char *const known_opts[] = {
	"attach", "copy", "persistent", "split", "queues", "ring-order",
	"indirect", NULL,
};

int xen_parse_device(pvio_ctx *ctx, const char *spec, char type[4],
		     uint32_t *devid, struct xen_opts *o)
{
	const char *q = pvio_strchr(spec, '?');
	size_t n = q ? (size_t)(q - spec) : pvio_strlen(spec);
	char dev[32];
	uint64_t v;

	*o = (struct xen_opts){
		.attach = true,
		.persistent = true,
		.split = true,
		.ring_order = 4,
		.indirect = 256,
	};
	if (n < 5 || n >= sizeof(dev) ||
	    (pvio_strncmp(spec, "vbd/", 4) && pvio_strncmp(spec, "vif/", 4)))
		return pvio_set_error(ctx, EINVAL,
				      "'%s': expected vbd/N or vif/N", spec);
	memcpy(dev, spec, n);
	dev[n] = '\0';
	if (pvio_parse_u64(dev + 4, UINT32_MAX, &v) < 0 ||
	    (dev[4] == '0' && dev[5] == 'x'))
		return pvio_set_error(ctx, EINVAL,
				      "'%s': the device number must be decimal",
				      spec);
	memcpy(type, dev, 3);
	type[3] = '\0';
	*devid = (uint32_t)v;
	if (!q)
		return 0;

	const char *opts = q + 1;
	/* every key must be one we know */
	for (const char *p = opts; *p;) {
		size_t k = 0;
		while (p[k] && p[k] != '=' && p[k] != '&')
			k++;
		bool found = false;
		for (unsigned i = 0; known_opts[i]; i++)
			if (pvio_strlen(known_opts[i]) == k &&
			    !pvio_strncmp(known_opts[i], p, k))
				found = true;
		if (!found)
			return pvio_set_error(ctx, EINVAL,
					      "unknown option in '%s'; known: "
					      "attach, copy, persistent, split, "
					      "queues, ring-order, indirect",
					      spec);
		while (*p && *p != '&')
			p++;
		if (*p == '&')
			p++;
	}
	int r;
	if ((r = opt_bool(ctx, opts, "attach", &o->attach)) < 0 ||
	    (r = opt_bool(ctx, opts, "copy", &o->copy)) < 0 ||
	    (r = opt_bool(ctx, opts, "persistent", &o->persistent)) < 0 ||
	    (r = opt_bool(ctx, opts, "split", &o->split)) < 0 ||
	    (r = opt_u32(ctx, opts, "queues", 64, &o->queues)) < 0 ||
	    (r = opt_u32(ctx, opts, "ring-order", 4, &o->ring_order)) < 0 ||
	    (r = opt_u32(ctx, opts, "indirect", 4096, &o->indirect)) < 0)
		return r;
	return 0;
}

int xen_share_error(struct xen_dev *xd, int r, const char *what,
		    uint32_t npages)
{
	pvio_ctx *ctx = xd->ctx;
	const struct xen_hostif *h = xd->h;
	if (r == -ENOSPC && h->share_limit)
		return pvio_set_error(ctx, ENOSPC,
				      "cannot share %u pages for %s: %u of the "
				      "%u pages %s are in use; use fewer queues "
				      "or a smaller ?indirect= / ?ring-order=, "
				      "or raise that limit",
				      npages, what, h->shared, h->share_limit,
				      h->share_what ? h->share_what
						    : "this host lets us share");
	if (r == -ENOMEM)
		return pvio_set_error(ctx, ENOMEM,
				      "cannot share %u pages for %s: out of "
				      "DMA memory; create the context with a "
				      "larger dma_pool_size or use fewer queues",
				      npages, what);
	if (r == -ENOSPC)
		return pvio_set_error(ctx, ENOSPC,
				      "cannot share %u pages for %s: the grant "
				      "table is full; use fewer queues or a "
				      "smaller ?indirect= / ?ring-order=",
				      npages, what);
	return pvio_set_error(ctx, -r, "cannot share %u pages for %s: %s",
			      npages, what, pvio_strerror(r));
}

int xen_open(pvio_ctx *ctx, struct xen_hostif *h, const char *type,
	     uint32_t devid, const struct xen_opts *o, pvio_dev **out)
{
	bool vif = !pvio_strcmp(type, "vif");
	pvio_dev *dev = pvio_dev_alloc(ctx, vif ? &xen_net_dev_ops
						: &xen_blk_dev_ops,
				       sizeof(struct xen_dev));
	if (!dev) {
		h->ops->close(h);
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	}
	struct xen_dev *xd = xen_dev_of(dev);
	xd->dev = dev;
	xd->ctx = ctx;
	xd->h = h;
	xd->cls = vif ? &xen_net_class : &xen_blk_class;
	xd->opts = *o;
	pvio_strlcpy(xd->type, type, sizeof(xd->type));
	xd->devid = devid;
	dev->info.cls = vif ? PVIO_CLASS_NET : PVIO_CLASS_BLK;
	dev->info.family = PVIO_FAMILY_XEN;

	int r = pvio_dev_set_strings(dev, h->name, vif ? "netif" : "blkif");
	xd->xs = pvio_zalloc(ctx, sizeof(*xd->xs));
	if (r < 0 || !xd->xs) {
		r = pvio_set_error(ctx, ENOMEM, "out of memory");
		goto fail;
	}
	xs_init(xd->xs, ctx, h);

	if (o->attach) {
		r = h->ops->device_attach(h, type, devid);
		if (r == -EEXIST) {
			/* the toolstack attached it to us already: use it,
			 * leave the detaching to whoever attached it */
			r = 0;
		} else if (r < 0) {
			if (r == -ENOENT)
				r = pvio_set_error(ctx, ENODEV,
						   "the Xen host has no %s %u "
						   "to attach",
						   type, devid);
			else if (r == -EBUSY)
				r = pvio_set_error(ctx, EBUSY,
						   "%s %u is attached to "
						   "another domain",
						   type, devid);
			else if (r == -EAGAIN)
				r = pvio_set_error(ctx, EAGAIN,
						   "the Xen host has suspended "
						   "%s %u; it can be attached "
						   "again once it resumes",
						   type, devid);
			else
				r = pvio_set_error(ctx, -r,
						   "attaching %s %u failed: %s",
						   type, devid, pvio_strerror(r));
			goto fail;
		} else {
			xd->attached = true;
		}
	}
	r = xen_xb_probe(&xd->xb, xd->xs, h->domid, type, devid, vif);
	if (r < 0)
		goto fail;

	/* XSA-403: a back end the toolstack does not trust never sees a
	 * page of ours that holds anything but its own data */
	char path[160];
	uint64_t trusted = 1;
	pvio_snprintf(path, sizeof(path), "%s/trusted", xd->xb.fe);
	r = xs_read_u64(xd->xs, 0, path, UINT64_MAX, &trusted);
	if (r < 0 && r != -ENOENT) {
		r = pvio_set_error(ctx, r == -EINVAL || r == -ERANGE ? EPROTO : -r,
				   "cannot read %s: %s", path, pvio_strerror(r));
		goto fail;
	}
	xd->copy = o->copy || !h->gnttab || trusted == 0;

	r = xd->cls->open(xd);
	if (r < 0)
		goto fail;
	*out = dev;
	return 0;
fail:
	xen_close(dev);
	return r;
}

int xen_service(pvio_dev *dev)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xs_event ev;
	int n = 0, r;

	if (!xd->xs)
		return 0;
	while ((r = xs_next_event(xd->xs, &ev)) > 0)
		n++;
	if (r < 0) {
		if (pvio_dev_usable(dev))
			pvio_dev_set_broken(dev, "lost the xenstore connection: %s",
					    pvio_strerror(r));
		return r;
	}
	if (!n || xd->quiesced)
		return 0;

	int s = xen_xb_read_be(&xd->xb);
	if (s < 0) {
		pvio_dev_set_broken(dev, "%s", pvio_errmsg(xd->ctx));
		return -EIO;
	}
	if (XB_GONE & XB_BIT(s)) {
		pvio_dev_set_removed(dev, "the back end closed the device "
					  "(XenBus state %d)", s);
		/* follow it as netfront/blkfront do (xenbus_frontend_closed):
		 * straight to Closed.  The back end then completes what it
		 * has in flight and unmaps; our rings stay until close(), so
		 * answers that still come can be reaped. */
		if (xd->xb.fe_state > XEN_XB_INITIALISING &&
		    xd->xb.fe_state != XEN_XB_CLOSED)
			xen_xb_switch(&xd->xb, XEN_XB_CLOSED);
		return 0;
	}
	if (xd->connected && xd->cls->changed && pvio_dev_usable(dev))
		xd->cls->changed(xd);
	return 0;
}

int xen_event_fd(pvio_dev *dev)
{
	struct xen_dev *xd = xen_dev_of(dev);
	if (!xd->h->ops->xs_fd)
		return -EOPNOTSUPP;
	return xd->h->ops->xs_fd(xd->h);
}

static uint64_t close_deadline(pvio_ctx *ctx)
{
	/* Linux blkback takes ~5 s to move to Closing (xen-real.md):
	 * give the two steps of the close twice the context's bound. */
	return pvio_now_ns(ctx) + 2ull * pvio_timeout_ms(ctx) * 1000000ull;
}

int xen_quiesce(pvio_dev *dev)
{
	struct xen_dev *xd = xen_dev_of(dev);
	if (xd->quiesced)
		return 0;
	pvio_dev_set_stopped(dev);
	xd->close_tried = true;
	int r = xen_xb_close(&xd->xb, close_deadline(xd->ctx));
	if (r < 0)
		return pvio_set_error(xd->ctx, -r,
				      "%s: the back end did not close: %s",
				      xd->xb.fe, pvio_strerror(r));
	xd->quiesced = true;
	/* Closed on both sides: the device is free for whoever attaches it
	 * next - pvio itself, reconnecting (a new connection to the host
	 * before this one is closed) */
	if (xd->attached) {
		r = xd->h->ops->device_detach(xd->h, xd->type, xd->devid);
		if (r < 0)
			pvio_log(xd->ctx, PVIO_LOG_WARN,
				 "detaching %s %u failed: %s", xd->type,
				 xd->devid, pvio_strerror(r));
		xd->attached = false;
	}
	return 0;
}

void xen_close(pvio_dev *dev)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_hostif *h = xd->h;

	/* (a quiesce that timed out is not repeated: close stays bounded
	 * by one close handshake) */
	if (xd->xs && !xd->xs->dead && xd->xb.xs && !xd->quiesced &&
	    !xd->close_tried && xd->xb.fe_state > XEN_XB_INITIALISING) {
		if (xen_xb_close(&xd->xb, close_deadline(xd->ctx)) == 0)
			xd->quiesced = true;
	} else if (xd->xb.xs && xd->xb.fe_state <= XEN_XB_INITIALISING) {
		xd->quiesced = true; /* the back end never saw our rings */
	}
	if (xd->xb.xs && xd->xs && !xd->xs->dead)
		xen_xb_fini(&xd->xb);
	/* the toolstack's part: the host unmaps what the back end kept */
	if (xd->attached) {
		int r = h->ops->device_detach(h, xd->type, xd->devid);
		if (r < 0)
			pvio_log(xd->ctx, PVIO_LOG_WARN,
				 "detaching %s %u failed: %s", xd->type,
				 xd->devid, pvio_strerror(r));
		xd->attached = false;
	}
	if (xd->cpriv)
		xd->cls->teardown(xd);
	pvio_free(xd->ctx, xd->xs);
	xd->xs = NULL;
	h->ops->close(h);
	pvio_dev_free(dev);
}
