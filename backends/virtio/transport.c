/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/transport.c - the generic virtio device: bring-up,
 * feature negotiation, virtqueues, quiesce and the pvio transport ops that
 * do not depend on the device class.
 *
 * Bring-up follows the virtio 1.x initialisation sequence (spec 3.1): reset,
 * ACKNOWLEDGE, DRIVER, read the features (open); write the accepted subset,
 * FEATURES_OK and check that the device kept it, set up the queues,
 * DRIVER_OK (configure).  Only VERSION_1 devices are driven; a device that
 * sets DEVICE_NEEDS_RESET or FAILED is marked broken.
 *
 * The host interface (struct virtio_hostif) carries every access, so this
 * file works unchanged over vhost-user, virtio-pci and virtio-mmio.
 */
#include "virtio.h"

#define TRANSPORT_RANGE                                                       \
	(((VW_BIT(VW_TRANSPORT_F_LAST + 1)) - 1) &                            \
	 ~((VW_BIT(VW_TRANSPORT_F_FIRST)) - 1))

/* Normalised names of the transport bits. */
static uint64_t norm_transport(uint64_t f)
{
	uint64_t n = 0;
	if (f & VW_BIT(VW_F_INDIRECT_DESC))
		n |= PVIO_F_INDIRECT;
	if (f & VW_BIT(VW_F_EVENT_IDX))
		n |= PVIO_F_EVENT_SUPPRESS;
	if (f & VW_BIT(VW_F_RING_PACKED))
		n |= PVIO_F_PACKED_RING;
	if ((f & VW_BIT(VW_F_IN_ORDER)) && (f & VW_BIT(VW_F_RING_PACKED)))
		n |= PVIO_F_IN_ORDER;
	return n;
}

int virtio_config(struct virtio_dev *vd, uint32_t off, void *buf, uint32_t len)
{
	return vd->h->ops->config_read(vd->h, off, buf, len);
}

int virtio_dev_check(const struct virtio_dev *vd, bool may_reap)
{
	switch (pvio_dev_state(vd->dev, NULL)) {
	case PVIO_DEV_READY:
		return vd->configured ? 0 : -EINVAL;
	case PVIO_DEV_STOPPED:
		return may_reap && vd->configured ? 0 : -ESHUTDOWN;
	case PVIO_DEV_REMOVED:
		/* the rings are ours: what the host completed before it went
		 * away can still be read (and is validated as ever) */
		return may_reap && vd->configured ? 0 : -ENODEV;
	default:
		return -EIO;
	}
}

int virtio_reaped(const struct virtio_dev *vd, unsigned n)
{
	if (!n && pvio_dev_state(vd->dev, NULL) == PVIO_DEV_REMOVED)
		return -ENODEV;
	return (int)n;
}

int virtio_vq_broken(struct virtio_dev *vd, struct virtio_vq *vq)
{
	return pvio_dev_set_broken(vd->dev, "virtqueue %u: %s", vq->index,
				   vq->why);
}

void virtio_kick_vq(struct virtio_dev *vd, unsigned vqi, unsigned q)
{
	struct virtio_vq *vq = &vd->vq[vqi];
	int r = virtio_vq_publish(vq);
	if (r == VIRTIO_KICK_NOTIFY) {
		uint32_t data = vq->index;
		if (virtio_has(vd, VW_F_NOTIFICATION_DATA))
			data = virtio_vq_notify_data(vq);
		vd->h->ops->notify(vd->h, vq->index, data);
		vd->dev->stats[q].notify_sent++;
	} else if (r == VIRTIO_KICK_SUPPRESSED) {
		vd->dev->stats[q].notify_suppressed++;
	}
}

int virtio_wait_one(struct virtio_dev *vd, unsigned vqi, uint32_t *token,
		    uint32_t *len, uint64_t deadline_ns)
{
	struct virtio_vq *vq = &vd->vq[vqi];
	pvio_ctx *ctx = vd->dev->ctx;
	unsigned irq = vd->vq_irq[vqi];

	for (;;) {
		int r = virtio_vq_get(vq, token, len);
		if (r > 0)
			return 1;
		if (r < 0)
			return virtio_vq_broken(vd, vq);
		if (pvio_dev_state(vd->dev, NULL) == PVIO_DEV_REMOVED)
			return -ENODEV;
		if (pvio_dev_state(vd->dev, NULL) == PVIO_DEV_BROKEN)
			return -EIO;
		if (pvio_now_ns(ctx) >= deadline_ns)
			return -ETIMEDOUT;
		if (virtio_vq_arm(vq) == 0)
			vd->h->ops->wait(vd->h, (int)irq, deadline_ns);
		vd->h->ops->irq_ack(vd->h, irq);
		virtio_vq_disarm(vq);
	}
}

int virtio_layout_alloc(struct virtio_dev *vd, unsigned nvq, unsigned nirq)
{
	pvio_ctx *ctx = vd->dev->ctx;
	if (!nvq || nvq > VIRTIO_MAX_VQS || !nirq)
		return pvio_set_error(ctx, EINVAL, "%s: bad queue layout (%u queues)",
				      vd->address, nvq);
	vd->vq = pvio_zalloc(ctx, nvq * sizeof(*vd->vq));
	vd->vq_num = pvio_zalloc(ctx, nvq * sizeof(*vd->vq_num));
	vd->vq_ind = pvio_zalloc(ctx, nvq * sizeof(*vd->vq_ind));
	vd->vq_irq = pvio_zalloc(ctx, nvq * sizeof(*vd->vq_irq));
	vd->irq_vqs = pvio_zalloc(ctx, nirq * sizeof(*vd->irq_vqs));
	if (!vd->vq || !vd->vq_num || !vd->vq_ind || !vd->vq_irq || !vd->irq_vqs)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	for (unsigned i = 0; i < nirq; i++)
		vd->irq_vqs[i][0] = vd->irq_vqs[i][1] = 0xffff;
	vd->nvq = nvq;
	vd->nirq = nirq;
	return 0;
}

static void free_queues(struct virtio_dev *vd)
{
	pvio_ctx *ctx = vd->dev->ctx;
	for (unsigned i = 0; i < vd->nvq && vd->vq; i++)
		if (vd->vq[i].size)
			virtio_vq_fini(ctx, &vd->vq[i], vd->leak);
	pvio_free(ctx, vd->vq);
	pvio_free(ctx, vd->vq_num);
	pvio_free(ctx, vd->vq_ind);
	pvio_free(ctx, vd->vq_irq);
	pvio_free(ctx, vd->irq_vqs);
	vd->vq = NULL;
	vd->vq_num = vd->vq_ind = NULL;
	vd->vq_irq = NULL;
	vd->irq_vqs = NULL;
	vd->nvq = vd->nirq = 0;
}

/* Status helpers: every failure has a message already. */
static int set_status(struct virtio_dev *vd, uint8_t st)
{
	return vd->h->ops->set_status(vd->h, st);
}

static void fail_device(struct virtio_dev *vd)
{
	/* best effort: tell the device the driver gave up */
	if (pvio_dev_state(vd->dev, NULL) == PVIO_DEV_READY) {
		uint8_t st = 0;
		if (vd->h->ops->get_status(vd->h, &st) == 0)
			vd->h->ops->set_status(vd->h, st | VW_S_FAILED);
	}
}

int virtio_dev_open(pvio_ctx *ctx, struct virtio_hostif *h,
		    const struct virtio_open_args *a, pvio_dev **out)
{
	const struct virtio_class *cls;
	int r;

	*out = NULL;
	if (a->cls == PVIO_CLASS_BLK)
		cls = &virtio_blk_class;
	else if (a->cls == PVIO_CLASS_NET)
		cls = &virtio_net_class;
	else {
		h->ops->close(h);
		return pvio_set_error(ctx, EINVAL, "%s: unknown device class",
				      a->address);
	}

	pvio_dev *dev = pvio_dev_alloc(ctx, cls->dev_ops, sizeof(struct virtio_dev));
	if (!dev) {
		h->ops->close(h);
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	}
	struct virtio_dev *vd = virtio_of(dev);
	vd->dev = dev;
	vd->h = h;
	vd->cls = cls;
	h->dev = dev;
	pvio_strlcpy(vd->address, a->address, sizeof(vd->address));
	vd->no_packed = a->no_packed;
	vd->max_queues = a->max_queues;
	vd->qsize = a->queue_size ? a->queue_size : VIRTIO_DEFAULT_QSIZE;
	if (vd->qsize > VW_QUEUE_MAX || (vd->qsize & (vd->qsize - 1))) {
		r = pvio_set_error(ctx, EINVAL,
				   "%s: queue size %u is not a power of two "
				   "up to 32768",
				   vd->address, vd->qsize);
		goto fail;
	}
	uint16_t qmax = h->ops->queue_max(h, 0);
	if (!qmax) {
		r = pvio_set_error(ctx, ENODEV, "%s: the device has no queues",
				   vd->address);
		goto fail;
	}
	while (vd->qsize > qmax)
		vd->qsize /= 2;

	/* reset, ACKNOWLEDGE, DRIVER, features */
	if ((r = set_status(vd, 0)) < 0 ||
	    (r = set_status(vd, VW_S_ACKNOWLEDGE)) < 0 ||
	    (r = set_status(vd, VW_S_ACKNOWLEDGE | VW_S_DRIVER)) < 0 ||
	    (r = h->ops->get_features(h, &vd->offered)) < 0)
		goto fail;
	if (!virtio_offers(vd, VW_F_VERSION_1)) {
		r = pvio_set_error(ctx, EPROTONOSUPPORT,
				   "%s: the device does not offer VIRTIO_F_VERSION_1 "
				   "(features 0x%llx); legacy virtio devices are "
				   "not supported",
				   vd->address, (unsigned long long)vd->offered);
		goto fail;
	}

	dev->info.cls = a->cls;
	dev->info.family = PVIO_FAMILY_VIRTIO;
	uint64_t ring_offer = vd->offered & h->transport_features;
	if (vd->no_packed)
		ring_offer &= ~VW_BIT(VW_F_RING_PACKED);
	dev->info.offered = norm_transport(ring_offer);
	if ((r = cls->probe(vd)) < 0)
		goto fail;
	dev->info.max_queues = vd->max_queues;
	dev->info.queue_size = vd->qsize;
	pvio_snprintf(dev->info.native, sizeof(dev->info.native),
		      "offered=0x%llx", (unsigned long long)vd->offered);
	char proto[64];
	pvio_snprintf(proto, sizeof(proto), "%s 1.x", cls->name);
	if (pvio_dev_set_strings(dev, h->name, proto) < 0) {
		r = pvio_set_error(ctx, ENOMEM, "out of memory");
		goto fail;
	}
	*out = dev;
	return 0;

fail:
	fail_device(vd);
	virtio_op_close(dev);
	return r;
}

/* The feature bits pvio accepts from the transport range. */
static uint64_t transport_wants(const struct virtio_dev *vd)
{
	uint64_t w = VW_BIT(VW_F_VERSION_1) | VW_BIT(VW_F_INDIRECT_DESC) |
		     VW_BIT(VW_F_EVENT_IDX);
	if (!vd->no_packed && virtio_offers(vd, VW_F_RING_PACKED))
		/* IN_ORDER only with packed rings: the split driver keeps a
		 * free list, which in-order split rings do not allow */
		w |= VW_BIT(VW_F_RING_PACKED) | VW_BIT(VW_F_IN_ORDER);
	return w;
}

int virtio_op_configure(pvio_dev *dev, const struct pvio_dev_config *cfg)
{
	struct virtio_dev *vd = virtio_of(dev);
	struct virtio_hostif *h = vd->h;
	pvio_ctx *ctx = dev->ctx;
	int r;

	if (vd->configured)
		return pvio_set_error(ctx, EBUSY, "%s: already configured",
				      vd->address);
	if (cfg->num_queues > vd->max_queues)
		return pvio_set_error(ctx, EINVAL,
				      "%s: %u queues requested, the device has %u",
				      vd->address, cfg->num_queues,
				      vd->max_queues);

	/* features: transport bits the host interface carries, class bits
	 * the adapter uses, never anything the device did not offer */
	uint64_t want = (transport_wants(vd) & (h->transport_features |
						~TRANSPORT_RANGE)) |
			(vd->cls->features(vd, cfg) & ~TRANSPORT_RANGE);
	want &= vd->offered;
	vd->features = want;
	if ((r = h->ops->set_features(h, want)) < 0)
		goto fail;
	uint8_t st = VW_S_ACKNOWLEDGE | VW_S_DRIVER | VW_S_FEATURES_OK;
	if ((r = set_status(vd, st)) < 0 || (r = h->ops->get_status(h, &st)) < 0)
		goto fail;
	if (!(st & VW_S_FEATURES_OK)) {
		r = pvio_set_error(ctx, EPROTO,
				   "%s: the device rejected features 0x%llx "
				   "(FEATURES_OK not kept)",
				   vd->address, (unsigned long long)want);
		goto fail;
	}

	if ((r = vd->cls->layout(vd, cfg)) < 0)
		goto fail;
	uint32_t vqflags = 0;
	if (virtio_has(vd, VW_F_RING_PACKED))
		vqflags |= VIRTIO_VQ_PACKED;
	if (virtio_has(vd, VW_F_EVENT_IDX))
		vqflags |= VIRTIO_VQ_EVENT_IDX;
	if (virtio_has(vd, VW_F_INDIRECT_DESC))
		vqflags |= VIRTIO_VQ_INDIRECT;
	if (virtio_has(vd, VW_F_IN_ORDER))
		vqflags |= VIRTIO_VQ_IN_ORDER;
	for (unsigned i = 0; i < vd->nvq; i++) {
		struct virtio_vq *vq = &vd->vq[i];
		unsigned num = vd->vq_num[i];
		uint16_t size = vd->qsize, max = h->ops->queue_max(h, num);
		if (!max) {
			r = pvio_set_error(ctx, ENODEV,
					   "%s: the device has no virtqueue %u",
					   vd->address, num);
			goto fail;
		}
		while (size > max)
			size /= 2;
		if (size < vd->qsize && vd->vq_irq[i] < cfg->num_queues) {
			/* the limits were worked out for queue 0's size */
			r = pvio_set_error(ctx, EPROTO,
					   "%s: virtqueue %u has at most %u entries, "
					   "queue 0 %u; the device's queues must "
					   "be equally large",
					   vd->address, num, max, vd->qsize);
			goto fail;
		}
		r = virtio_vq_init(ctx, vq, num, size, vqflags, vd->vq_ind[i]);
		if (r < 0)
			goto fail;
		struct virtio_queue_cfg qc = {
			.size = size,
			.packed = !!(vqflags & VIRTIO_VQ_PACKED),
			.irq = vd->vq_irq[i],
			.desc = vq->desc,
			.driver = vq->drv,
			.device = vq->dev,
			.desc_addr = vq->desc_addr,
			.driver_addr = vq->drv_addr,
			.device_addr = vq->dev_addr,
		};
		/* from here on the device knows where the rings are; if
		 * configure fails it may still look at them */
		vd->leak = true;
		if ((r = h->ops->queue_setup(h, num, &qc)) < 0)
			goto fail;
	}
	if ((r = vd->cls->setup(vd, cfg)) < 0)
		goto fail;
	for (unsigned i = 0; i < vd->nvq; i++)
		if ((r = h->ops->queue_enable(h, vd->vq_num[i], true)) < 0)
			goto fail;
	st = VW_S_ACKNOWLEDGE | VW_S_DRIVER | VW_S_FEATURES_OK | VW_S_DRIVER_OK;
	if ((r = set_status(vd, st)) < 0 || (r = h->ops->get_status(h, &st)) < 0)
		goto fail;
	if (st & (VW_S_NEEDS_RESET | VW_S_FAILED)) {
		r = pvio_set_error(ctx, EIO,
				   "%s: the device reports status 0x%x after "
				   "DRIVER_OK; it needs a reset",
				   vd->address, st);
		goto fail;
	}
	vd->configured = true;
	vd->leak = false; /* a clean stop (quiesce) can now reclaim them */
	dev->info.features = norm_transport(vd->features);
	dev->info.num_queues = cfg->num_queues;
	dev->info.queue_size = vd->vq[0].size;
	if ((r = vd->cls->start(vd, cfg)) < 0) {
		/* the device is live and did not do what it was asked: it
		 * may still touch the rings */
		vd->configured = false;
		vd->leak = true;
		goto fail;
	}
	char tail[64];
	pvio_snprintf(tail, sizeof(tail), " %s ring",
		      virtio_has(vd, VW_F_RING_PACKED) ? "packed" : "split");
	char proto[96];
	pvio_snprintf(proto, sizeof(proto), "%s 1.x%s", vd->cls->name, tail);
	pvio_dev_set_strings(dev, NULL, proto);
	size_t nl = pvio_strlen(dev->info.native);
	pvio_snprintf(dev->info.native + nl, sizeof(dev->info.native) - nl,
		      " features=0x%llx", (unsigned long long)vd->features);
	return 0;

fail:;
	/* keep the first message: the clean-up below talks to the device */
	char why[200];
	pvio_strlcpy(why, pvio_errmsg(ctx), sizeof(why));
	fail_device(vd);
	if (vd->cls_priv)
		vd->cls->fini(vd, vd->leak);
	free_queues(vd);
	/* the device was told FAILED; it must be reopened */
	if (pvio_dev_state(dev, NULL) == PVIO_DEV_READY)
		pvio_dev_set_broken(dev, "configuration failed: %s", why);
	return pvio_set_error(ctx, r < 0 ? -r : EIO, "%s", why);
}

int virtio_op_quiesce(pvio_dev *dev)
{
	struct virtio_dev *vd = virtio_of(dev);
	pvio_ctx *ctx = dev->ctx;
	struct virtio_hostif *h = vd->h;

	if (!vd->configured || vd->quiesced) {
		pvio_dev_set_stopped(dev);
		return 0;
	}
	if (pvio_dev_state(dev, NULL) != PVIO_DEV_READY) {
		/* the host went away or misbehaved: it cannot be asked to
		 * stop, so whatever it may still touch is never reused */
		vd->leak = true;
		vd->quiesced = true;
		return pvio_dev_state(dev, NULL) == PVIO_DEV_REMOVED ? -ENODEV
								     : -EIO;
	}

	uint32_t *base = pvio_zalloc(ctx, vd->nvq * sizeof(*base));
	if (!base)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	int r = h->ops->stop(h, vd->nvq, vd->vq_num, base);
	if (r < 0) {
		vd->leak = true;
		vd->quiesced = true;
		goto out;
	}
	uint64_t deadline = pvio_deadline(ctx);
	for (;;) {
		unsigned busy = 0;
		for (unsigned i = 0; i < vd->nvq; i++) {
			if (base[i] == UINT32_MAX)
				continue;
			int d = virtio_vq_drained(&vd->vq[i], base[i]);
			if (d < 0) {
				vd->leak = true;
				vd->quiesced = true;
				r = virtio_vq_broken(vd, &vd->vq[i]);
				goto out;
			}
			busy += !d;
		}
		if (!busy)
			break;
		if (pvio_dev_state(dev, NULL) != PVIO_DEV_READY ||
		    pvio_now_ns(ctx) >= deadline) {
			vd->leak = true;
			vd->quiesced = true;
			if (pvio_dev_state(dev, NULL) == PVIO_DEV_READY)
				pvio_dev_set_broken(dev,
						    "%u queue(s) still had requests "
						    "in the back end %u ms after it "
						    "was stopped",
						    busy, pvio_timeout_ms(ctx));
			r = pvio_set_error(ctx, ETIMEDOUT, "%s: quiesce: %s",
					   vd->address, dev->reason);
			goto out;
		}
		/* the stopped device no longer notifies: look again soon */
		uint64_t soon = pvio_now_ns(ctx) + 1000000u;
		h->ops->wait(h, -1, soon < deadline ? soon : deadline);
	}
	vd->quiesced = true;
	pvio_dev_set_stopped(dev);
	r = 0;
out:
	pvio_free(ctx, base);
	return r;
}

void virtio_op_close(pvio_dev *dev)
{
	struct virtio_dev *vd = virtio_of(dev);
	if (vd->configured && !vd->quiesced)
		virtio_op_quiesce(dev);
	if (vd->configured && !vd->leak &&
	    pvio_dev_state(dev, NULL) == PVIO_DEV_STOPPED)
		/* reset: the device forgets the rings */
		vd->h->ops->set_status(vd->h, 0);
	if (vd->cls_priv)
		vd->cls->fini(vd, vd->leak);
	free_queues(vd);
	if (vd->h)
		vd->h->ops->close(vd->h);
	pvio_dev_free(dev);
}

int virtio_op_service(pvio_dev *dev)
{
	struct virtio_dev *vd = virtio_of(dev);
	unsigned what = 0;
	if (pvio_dev_state(dev, NULL) == PVIO_DEV_REMOVED)
		return -ENODEV;
	int r = vd->h->ops->service(vd->h, &what);
	if (r < 0)
		return r;
	if ((what & VIRTIO_HEV_CONFIG) &&
	    pvio_dev_state(dev, NULL) == PVIO_DEV_READY) {
		uint8_t st = 0;
		if (vd->h->ops->get_status(vd->h, &st) == 0 &&
		    (st & VW_S_NEEDS_RESET))
			return pvio_dev_set_broken(dev, "the device set "
						   "DEVICE_NEEDS_RESET");
		if (vd->cls->config_changed)
			vd->cls->config_changed(vd);
	}
	return 0;
}

int virtio_op_event_fd(pvio_dev *dev)
{
	struct virtio_dev *vd = virtio_of(dev);
	return vd->h->ops->event_fd(vd->h);
}

int virtio_op_queue_fd(pvio_dev *dev, unsigned q)
{
	struct virtio_dev *vd = virtio_of(dev);
	if (q >= vd->nirq)
		return -EINVAL;
	return vd->h->ops->irq_fd(vd->h, q);
}

int virtio_op_queue_arm(pvio_dev *dev, unsigned q)
{
	struct virtio_dev *vd = virtio_of(dev);
	int pending = 0;
	if (q >= vd->nirq || virtio_dev_check(vd, true) < 0)
		return 1; /* nothing to sleep for: the caller sees the error */
	for (unsigned k = 0; k < 2; k++) {
		uint16_t i = vd->irq_vqs[q][k];
		if (i != 0xffff && virtio_vq_arm(&vd->vq[i]))
			pending = 1;
	}
	return pending;
}

void virtio_op_queue_ack(pvio_dev *dev, unsigned q)
{
	struct virtio_dev *vd = virtio_of(dev);
	if (q < vd->nirq)
		vd->h->ops->irq_ack(vd->h, q);
}

void virtio_op_queue_disarm(pvio_dev *dev, unsigned q)
{
	struct virtio_dev *vd = virtio_of(dev);
	if (q >= vd->nirq || !vd->configured)
		return;
	for (unsigned k = 0; k < 2; k++) {
		uint16_t i = vd->irq_vqs[q][k];
		if (i != 0xffff)
			virtio_vq_disarm(&vd->vq[i]);
	}
}
