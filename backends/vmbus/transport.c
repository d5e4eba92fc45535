/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/transport.c - the VMBus back end's entry points: the
 * `sim-hyperv:SOCKET/storvscN|netvscN` address scheme (`vmbus-uio:UUID`
 * is hostif_uio.c's), and the parts of
 * the device ops that do not depend on NetVSC or StorVSC (waiting,
 * interrupts, rescinds, sub-channels).
 */
#include "dev.h"

/* ---------------------------------------------------------------- ops */

int vmbus_dev_check_gone(struct vmbus_dev *vd)
{
	pvio_dev *dev = vd->dev;
	if (vd->h->lost)
		return pvio_dev_set_removed(dev, "%s: connection to the Hyper-V "
						 "host lost",
					    vd->name);
	for (unsigned i = 0; i < vd->nchan; i++)
		if (vmbus_chan_gone(&vd->chan[i]))
			return pvio_dev_set_removed(dev, "%s: the host "
							 "rescinded channel %u",
						    vd->name,
						    vd->chan[i].offer.relid);
	return 0;
}

int vmbus_dev_service(pvio_dev *dev)
{
	struct vmbus_dev *vd = dev->priv;
	int r = vd->h->ops->service(vd->h);
	int g = vmbus_dev_check_gone(vd);
	if (g < 0)
		return g;
	return r < 0 ? r : 0;
}

int vmbus_dev_event_fd(pvio_dev *dev)
{
	struct vmbus_dev *vd = dev->priv;
	return vd->h->ops->event_fd(vd->h);
}

int vmbus_dev_queue_fd(pvio_dev *dev, unsigned q)
{
	struct vmbus_dev *vd = dev->priv;
	if (q >= vd->nchan)
		return -EINVAL;
	return vd->h->ops->irq_fd(vd->h, &vd->chan[q]);
}

int vmbus_dev_queue_arm(pvio_dev *dev, unsigned q)
{
	struct vmbus_dev *vd = dev->priv;
	if (q >= vd->nchan)
		return -EINVAL;
	if (vmbus_chan_gone(&vd->chan[q]))
		return 1; /* let reap report it */
	return vmbus_ring_unmask(&vd->chan[q].rx);
}

void vmbus_dev_queue_ack(pvio_dev *dev, unsigned q)
{
	struct vmbus_dev *vd = dev->priv;
	if (q < vd->nchan)
		vd->h->ops->irq_ack(vd->h, &vd->chan[q]);
}

void vmbus_dev_queue_disarm(pvio_dev *dev, unsigned q)
{
	struct vmbus_dev *vd = dev->priv;
	if (q < vd->nchan)
		vmbus_ring_mask(&vd->chan[q].rx);
}

int vmbus_wait_rx(struct vmbus_hostif *h, struct vmbus_chan *ch,
		  uint64_t deadline)
{
	for (;;) {
		if (vmbus_chan_gone(ch) || h->lost)
			return -ENODEV;
		if (vmbus_ring_unmask(&ch->rx))
			return 1;
		if (pvio_now_ns(h->ctx) >= deadline)
			return 0;
		int r = h->ops->wait(h, ch, deadline);
		if (r < 0)
			return r;
	}
}

int vmbus_dev_open_subchannels(struct vmbus_dev *vd, unsigned want,
			       uint32_t ring_bytes)
{
	struct vmbus_offer offers[VMBUS_MAX_QUEUES];
	pvio_ctx *ctx = vd->h->ctx;
	if (want > VMBUS_MAX_QUEUES)
		want = VMBUS_MAX_QUEUES;
	if (want <= vd->nchan || !vd->h->ops->subchannels)
		return (int)vd->nchan;
	int n = vd->h->ops->subchannels(vd->h, &vd->chan[0].offer, want - 1,
					pvio_deadline(ctx), offers);
	if (n < 0)
		return n;
	for (int i = 0; i < n && vd->nchan < want; i++) {
		struct vmbus_chan *ch = &vd->chan[vd->nchan];
		memset(ch, 0, sizeof(*ch));
		ch->offer = offers[i];
		int r = vd->h->ops->open(vd->h, ch, ring_bytes);
		if (r < 0)
			return r;
		vmbus_ring_mask(&ch->rx);
		vd->nchan++;
	}
	return (int)vd->nchan;
}

void vmbus_dev_close_channels(struct vmbus_dev *vd)
{
	/* sub-channels first, the primary last (as Linux does) */
	while (vd->nchan > 0) {
		struct vmbus_chan *ch = &vd->chan[--vd->nchan];
		vd->h->ops->close(vd->h, ch);
	}
}

/* ---------------------------------------------------------------- address */

/* "SOCKET/storvscN" -> path, class, index */
static int parse_rest(pvio_ctx *ctx, const char *address, const char *rest,
		      char *path, size_t pathsz, const struct vmbus_guid **cls,
		      unsigned *idx, char *name, size_t namesz,
		      const char **opts)
{
	const char *q = pvio_strchr(rest, '?');
	size_t len = q ? (size_t)(q - rest) : pvio_strlen(rest);
	*opts = q ? q + 1 : NULL;
	size_t slash = len;
	while (slash > 0 && rest[slash - 1] != '/')
		slash--;
	if (slash < 2)
		goto bad;
	const char *dev = rest + slash;
	size_t devlen = len - slash;
	size_t pfx;
	if (devlen > 7 && !pvio_strncmp(dev, "storvsc", 7)) {
		*cls = &vmbus_guid_storvsc;
		pfx = 7;
	} else if (devlen > 6 && !pvio_strncmp(dev, "netvsc", 6)) {
		*cls = &vmbus_guid_netvsc;
		pfx = 6;
	} else {
		goto bad;
	}
	char num[12];
	if (devlen - pfx >= sizeof(num))
		goto bad;
	memcpy(num, dev + pfx, devlen - pfx);
	num[devlen - pfx] = 0;
	uint64_t v;
	if (pvio_parse_u64(num, 255, &v) < 0 || (num[0] == '0' && num[1]))
		goto bad;
	*idx = (unsigned)v;
	if (slash - 1 >= pathsz)
		return pvio_set_error(ctx, ENAMETOOLONG,
				      "%s: socket path too long", address);
	memcpy(path, rest, slash - 1);
	path[slash - 1] = 0;
	if (devlen >= namesz)
		goto bad;
	memcpy(name, dev, devlen);
	name[devlen] = 0;
	return 0;
bad:
	return pvio_set_error(ctx, EINVAL,
			      "bad address '%s': expected "
			      "sim-hyperv:SOCKET/storvscN or "
			      "sim-hyperv:SOCKET/netvscN",
			      address);
}

static int sim_open(pvio_ctx *ctx, const char *address, const char *rest,
		    pvio_dev **out)
{
	char path[256], name[24];
	const struct vmbus_guid *cls = NULL;
	unsigned idx = 0;
	const char *opts = NULL;
	int r = parse_rest(ctx, address, rest, path, sizeof(path), &cls, &idx,
			   name, sizeof(name), &opts);
	if (r < 0)
		return r;
	struct vmbus_hostif *h;
	r = vmbus_hostif_sim_open(ctx, path, &h);
	if (r < 0)
		return r;
	struct vmbus_offer offer;
	r = h->ops->find(h, cls, idx, &offer);
	if (r < 0) {
		h->ops->free(h);
		return pvio_set_error(ctx, ENODEV,
				      "%s: the simulated Hyper-V host offers no "
				      "%s; check the devices given to `pvio sim "
				      "hyperv`",
				      address, name);
	}
	if (cls == &vmbus_guid_storvsc)
		r = vmbus_blk_open(ctx, h, &offer, name, opts, out);
	else
		r = vmbus_net_open(ctx, h, &offer, name, opts, out);
	if (r < 0) {
		char msg[256];
		pvio_strlcpy(msg, pvio_errmsg(ctx), sizeof(msg));
		h->ops->free(h);
		return pvio_set_error(ctx, -r, "%s", msg);
	}
	return 0;
}


const struct pvio_backend pvio_backend_sim_hyperv = {
	.scheme = "sim-hyperv",
	.family = PVIO_FAMILY_VMBUS,
	.summary = "sim-hyperv:SOCKET/storvscN|netvscN  pvio's simulated "
		   "Hyper-V host (VMBus StorVSC/NetVSC)",
	.open = sim_open,
};
