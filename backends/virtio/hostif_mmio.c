/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/hostif_mmio.c - reaching a virtio device through the
 * virtio-mmio transport, version 2 (virtio 1.x, spec 4.2), for kernels that
 * link the freestanding library (QEMU microvm, Firecracker, Arm virt).
 *
 *   virtio-mmio:0xADDR[?packed=on|off][&size=N][&queues=N]
 *
 * ADDR is the physical address of the device's register window (0x200
 * bytes: registers, then the device configuration at 0x100).  The magic
 * value and version are checked; DeviceID 0 is an empty slot and is refused
 * without touching any other register.  Version 1 (legacy) devices are
 * refused with a hint: QEMU makes its virtio-mmio devices legacy unless told
 * `-global virtio-mmio.force-legacy=false`.
 *
 * As with virtio-pci: no interrupt is used (the driver polls and reads
 * InterruptStatus in service(), acknowledging what it saw), stopping the
 * device is a reset, and every wait is bounded.
 */
#include "hwio.h"

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_VENDOR_ID 0x00c
#define R_DF 0x010
#define R_DFSEL 0x014
#define R_GF 0x020
#define R_GFSEL 0x024
#define R_QSEL 0x030
#define R_QNUM_MAX 0x034
#define R_QNUM 0x038
#define R_QREADY 0x044
#define R_QNOTIFY 0x050
#define R_ISTATUS 0x060
#define R_IACK 0x064
#define R_STATUS 0x070
#define R_QDESC 0x080
#define R_QDRIVER 0x090
#define R_QDEVICE 0x0a0
#define R_GEN 0x0fc
#define R_CONFIG 0x100
#define WINDOW 0x200u

#define MMIO_MAGIC 0x74726976u /* "virt" */

struct vmmio {
	struct virtio_hostif h;
	pvio_ctx *ctx;
	const struct pvio_platform *p;
	volatile uint8_t *r;
	uint64_t pa;
	char name[24];
};

static struct vmmio *vm_of(struct virtio_hostif *h)
{
	return (struct vmmio *)(void *)h;
}

static uint32_t rd(struct vmmio *m, unsigned off)
{
	return hwio_rd(m->p, m->r + off, 4);
}
static void wr(struct vmmio *m, unsigned off, uint32_t v)
{
	hwio_wr(m->p, m->r + off, 4, v);
}
static void wr64(struct vmmio *m, unsigned off, uint64_t v)
{
	wr(m, off, (uint32_t)v);
	wr(m, off + 4, (uint32_t)(v >> 32));
}

static int op_get_features(struct virtio_hostif *h, uint64_t *f)
{
	struct vmmio *m = vm_of(h);
	wr(m, R_DFSEL, 0);
	uint64_t lo = rd(m, R_DF);
	wr(m, R_DFSEL, 1);
	uint64_t hi = rd(m, R_DF);
	*f = lo | hi << 32;
	return 0;
}

static int op_set_features(struct virtio_hostif *h, uint64_t f)
{
	struct vmmio *m = vm_of(h);
	/* DriverFeatures is write-only here: FEATURES_OK is the check */
	wr(m, R_GFSEL, 0);
	wr(m, R_GF, (uint32_t)f);
	wr(m, R_GFSEL, 1);
	wr(m, R_GF, (uint32_t)(f >> 32));
	return 0;
}

static int op_get_status(struct virtio_hostif *h, uint8_t *st)
{
	struct vmmio *m = vm_of(h);
	*st = (uint8_t)rd(m, R_STATUS);
	return 0;
}

static int op_set_status(struct virtio_hostif *h, uint8_t st)
{
	struct vmmio *m = vm_of(h);
	wr(m, R_STATUS, st);
	if (st)
		return 0;
	uint64_t deadline = pvio_deadline(m->ctx);
	while (rd(m, R_STATUS) & 0xff) {
		if (pvio_now_ns(m->ctx) >= deadline)
			return pvio_set_error(m->ctx, ETIMEDOUT,
					      "virtio-mmio %s: the device did not "
					      "finish a reset within %u ms",
					      m->name, pvio_timeout_ms(m->ctx));
		hwio_relax(m->p);
	}
	return 0;
}

static int op_config_read(struct virtio_hostif *h, uint32_t off, void *buf,
			  uint32_t len)
{
	struct vmmio *m = vm_of(h);
	const uint32_t max = WINDOW - R_CONFIG;
	if (off > max || len > max - off) {
		uint32_t have = off < max ? max - off : 0;
		memset((uint8_t *)buf + have, 0, len - have);
		len = have;
		if (!len)
			return 0;
	}
	for (unsigned tries = 0; tries < 64; tries++) {
		uint32_t g0 = rd(m, R_GEN);
		hwio_read_window(m->p, m->r, R_CONFIG + off, buf, len);
		if (rd(m, R_GEN) == g0)
			return 0;
	}
	return pvio_set_error(m->ctx, EIO,
			      "virtio-mmio %s: the configuration generation "
			      "kept changing; the device config cannot be read",
			      m->name);
}

static uint16_t op_queue_max(struct virtio_hostif *h, unsigned vq)
{
	struct vmmio *m = vm_of(h);
	if (vq >= VIRTIO_MAX_VQS)
		return 0;
	wr(m, R_QSEL, vq);
	uint32_t n = rd(m, R_QNUM_MAX);
	return n > VW_QUEUE_MAX ? (uint16_t)VW_QUEUE_MAX : (uint16_t)n;
}

static int op_queue_setup(struct virtio_hostif *h, unsigned vq,
			  const struct virtio_queue_cfg *c)
{
	struct vmmio *m = vm_of(h);
	if (vq >= VIRTIO_MAX_VQS)
		return -EINVAL;
	wr(m, R_QSEL, vq);
	if (rd(m, R_QREADY))
		return pvio_set_error(m->ctx, EPROTO,
				      "virtio-mmio %s: virtqueue %u is ready "
				      "after a reset; the device is not used",
				      m->name, vq);
	uint32_t max = rd(m, R_QNUM_MAX);
	if (!max)
		return pvio_set_error(m->ctx, ENODEV,
				      "virtio-mmio %s: virtqueue %u has size 0 "
				      "(not available)", m->name, vq);
	if (!c->packed && (max & (max - 1)))
		return pvio_set_error(m->ctx, EPROTO,
				      "virtio-mmio %s: virtqueue %u size %u is "
				      "not a power of two, which split rings "
				      "need; the device is not used",
				      m->name, vq, max);
	if (c->size > max)
		return pvio_set_error(m->ctx, EINVAL,
				      "virtio-mmio %s: virtqueue %u: size %u "
				      "above the device's %u", m->name, vq,
				      c->size, max);
	wr(m, R_QNUM, c->size);
	wr64(m, R_QDESC, c->desc_addr);
	wr64(m, R_QDRIVER, c->driver_addr);
	wr64(m, R_QDEVICE, c->device_addr);
	return 0;
}

static int op_queue_enable(struct virtio_hostif *h, unsigned vq, bool on)
{
	struct vmmio *m = vm_of(h);
	if (!on)
		return 0; /* reset stops the queues */
	wr(m, R_QSEL, vq);
	wr(m, R_QREADY, 1);
	if (rd(m, R_QREADY) != 1)
		return pvio_set_error(m->ctx, EPROTO,
				      "virtio-mmio %s: virtqueue %u did not "
				      "become ready", m->name, vq);
	return 0;
}

static int op_stop(struct virtio_hostif *h, unsigned n, const uint16_t *nums,
		   uint32_t *bases)
{
	(void)nums;
	int r = op_set_status(h, 0);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < n; i++)
		bases[i] = UINT32_MAX;
	return 0;
}

static void op_notify(struct virtio_hostif *h, unsigned vq, uint32_t data)
{
	struct vmmio *m = vm_of(h);
	(void)vq;
	wr(m, R_QNOTIFY, data);
}

static int op_irq_fd(struct virtio_hostif *h, unsigned irq)
{
	(void)h, (void)irq;
	return -EOPNOTSUPP;
}

static void op_irq_ack(struct virtio_hostif *h, unsigned irq)
{
	(void)h, (void)irq;
}

static int op_event_fd(struct virtio_hostif *h)
{
	(void)h;
	return -EOPNOTSUPP;
}

static int op_service(struct virtio_hostif *h, unsigned *what)
{
	struct vmmio *m = vm_of(h);
	uint32_t is = rd(m, R_ISTATUS) & 3;
	if (is)
		wr(m, R_IACK, is);
	*what = (is & 2) ? VIRTIO_HEV_CONFIG : 0;
	return 0;
}

static void op_wait(struct virtio_hostif *h, int irq, uint64_t deadline)
{
	(void)irq, (void)deadline;
	hwio_relax(vm_of(h)->p);
}

static void op_close(struct virtio_hostif *h)
{
	struct vmmio *m = vm_of(h);
	pvio_free(m->ctx, m);
}

static const struct virtio_hostif_ops vmmio_ops = {
	.get_features = op_get_features,
	.set_features = op_set_features,
	.get_status = op_get_status,
	.set_status = op_set_status,
	.config_read = op_config_read,
	.queue_max = op_queue_max,
	.queue_setup = op_queue_setup,
	.queue_enable = op_queue_enable,
	.stop = op_stop,
	.notify = op_notify,
	.irq_fd = op_irq_fd,
	.irq_ack = op_irq_ack,
	.event_fd = op_event_fd,
	.service = op_service,
	.wait = op_wait,
	.close = op_close,
};

#define MMIO_USAGE                                                     \
	"virtio-mmio:0xADDR[?packed=on|off][&size=POWER_OF_2][&queues=1..64] " \
	"(the register window's physical address, 512-byte aligned)"

static int vmmio_open(pvio_ctx *ctx, const char *address, const char *rest,
		      pvio_dev **out)
{
	struct hwio_opts o = { 0, 0, false };
	char num[24];
	const char *q = pvio_strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : pvio_strlen(rest);
	uint64_t pa;
	int r;

	if (!n || n >= sizeof(num))
		goto bad;
	memcpy(num, rest, n);
	num[n] = 0;
	if (pvio_parse_u64(num, UINT64_MAX - WINDOW, &pa) < 0 || (pa & 0x1ff))
		goto bad;
	if (q && (r = virtio_hw_parse_opts(ctx, address, q + 1, MMIO_USAGE, &o)) < 0)
		return r;
	if (pvio_ctx_hosted(ctx))
		return pvio_set_error(ctx, EOPNOTSUPP,
				      "cannot open '%s': virtio-mmio needs a "
				      "platform that maps device memory, as a "
				      "kernel linking libpvio-freestanding.a "
				      "provides; under Linux use vhost-user",
				      address);

	struct vmmio *m = pvio_zalloc(ctx, sizeof(*m));
	if (!m)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	m->ctx = ctx;
	m->p = pvio_ctx_platform(ctx);
	m->pa = pa;
	pvio_snprintf(m->name, sizeof(m->name), "0x%llx", (unsigned long long)pa);
	m->h.ops = &vmmio_ops;
	m->h.ctx = ctx;
	m->h.name = "virtio-mmio";
	m->r = hwio_map(m->p, pa, WINDOW);
	if (!m->r) {
		r = pvio_set_error(ctx, ENOMEM, "cannot open '%s': cannot map "
				   "the register window", address);
		goto fail;
	}
	uint32_t magic = rd(m, R_MAGIC), ver = rd(m, R_VERSION);
	if (magic != MMIO_MAGIC) {
		r = pvio_set_error(ctx, ENODEV,
				   "cannot open '%s': no virtio-mmio device there "
				   "(magic 0x%08x, not 0x%08x)",
				   address, magic, MMIO_MAGIC);
		goto fail;
	}
	if (ver == 1) {
		r = pvio_set_error(ctx, EPROTONOSUPPORT,
				   "cannot open '%s': a legacy (version 1) "
				   "virtio-mmio device; pvio drives version 2 "
				   "(QEMU: -global virtio-mmio.force-legacy=false)",
				   address);
		goto fail;
	}
	if (ver != 2) {
		r = pvio_set_error(ctx, EPROTONOSUPPORT,
				   "cannot open '%s': virtio-mmio version %u is "
				   "not supported", address, ver);
		goto fail;
	}
	uint32_t id = rd(m, R_DEVICE_ID);
	if (id == 0) {
		r = pvio_set_error(ctx, ENODEV,
				   "cannot open '%s': the virtio-mmio slot is "
				   "empty (device ID 0)", address);
		goto fail;
	}
	if (id != VW_ID_BLK && id != VW_ID_NET) {
		r = pvio_set_error(ctx, EPROTONOSUPPORT,
				   "cannot open '%s': virtio device type %u is "
				   "neither a block (2) nor a network (1) device",
				   address, id);
		goto fail;
	}
	m->h.device_id = id;
	m->h.max_vqs = 0; /* unknown: QueueNumMax 0 ends the list */
	m->h.transport_features =
		VW_BIT(VW_F_INDIRECT_DESC) | VW_BIT(VW_F_EVENT_IDX) |
		VW_BIT(VW_F_VERSION_1) | VW_BIT(VW_F_RING_PACKED) |
		VW_BIT(VW_F_IN_ORDER);

	struct virtio_open_args a = {
		.cls = id == VW_ID_BLK ? PVIO_CLASS_BLK : PVIO_CLASS_NET,
		.address = address,
		.max_queues = o.queues,
		.queue_size = (uint16_t)o.size,
		.no_packed = o.no_packed,
	};
	return virtio_dev_open(ctx, &m->h, &a, out);

fail:
	op_close(&m->h);
	return r;
bad:
	return pvio_set_error(ctx, EINVAL, "cannot open '%s': use " MMIO_USAGE,
			      address);
}

const struct pvio_backend pvio_backend_virtio_mmio = {
	.scheme = "virtio-mmio",
	.family = PVIO_FAMILY_VIRTIO,
	.summary = "virtio-mmio:0xADDR - a virtio-mmio version 2 device "
		   "(freestanding platforms)",
	.open = vmmio_open,
};
