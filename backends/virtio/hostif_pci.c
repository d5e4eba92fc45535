/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/hostif_pci.c - reaching a virtio device through the
 * virtio-pci modern transport (virtio 1.x, spec 4.1), for kernels that link
 * the freestanding library.
 *
 *   virtio-pci:BB:DD.F[?packed=on|off][&size=N][&queues=N]
 *
 * BB:DD.F is the PCI bus, device and function in hex (a "0000:" domain
 * prefix is accepted).  PCI configuration space is read through the
 * platform's pci_cfg_read/pci_cfg_write hooks, or configuration mechanism
 * #1 (ports 0xCF8/0xCFC) when it has none.  The capability list is walked
 * for the first usable COMMON, NOTIFY, ISR and DEVICE structures; their
 * BARs must be memory BARs that the firmware has assigned.  Memory space
 * and bus mastering are switched on in the command register.
 *
 * No interrupts are programmed (MSI-X vectors stay NO_VECTOR): the driver
 * polls, and reads the ISR byte in service() to learn of configuration
 * changes.  Stopping the device (quiesce) is a device reset.
 *
 * The device is not trusted: capability pointers, lengths, offsets and
 * notify offsets are checked against the structures they describe, the
 * driver features written are read back and must be what was written, a
 * queue whose size is 0 (or, for split rings, not a power of two) is
 * refused, and every handshake wait is bounded by the context timeout.
 * Legacy-only devices (no virtio capabilities) are refused with a message.
 */
#include "hwio.h"

/* PCI configuration space */
#define PCI_VENDOR 0x00
#define PCI_DEVICE 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_BAR0 0x10
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_CMD_MEM 0x2
#define PCI_CMD_MASTER 0x4
#define PCI_STATUS_CAPS 0x10
#define PCI_CAP_VNDR 0x09

#define VIRTIO_PCI_VENDOR 0x1af4

/* virtio capability */
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_NOTIFY_MUL 16
enum { CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4 };

/* common configuration */
#define CC_DFSELECT 0
#define CC_DF 4
#define CC_GFSELECT 8
#define CC_GF 12
#define CC_MSIX 16
#define CC_NUMQ 18
#define CC_STATUS 20
#define CC_GEN 21
#define CC_QSELECT 22
#define CC_QSIZE 24
#define CC_QMSIX 26
#define CC_QENABLE 28
#define CC_QNOFF 30
#define CC_QDESC 32
#define CC_QDRIVER 40
#define CC_QDEVICE 48
#define CC_LEN 56u

#define MAX_STRUCT_LEN (1u << 24)
#define MAX_CONFIG_LEN 4096u

struct vpci {
	struct virtio_hostif h;
	pvio_ctx *ctx;
	const struct pvio_platform *p;
	uint16_t bdf;
	char name[16];              /* "00:05.0" */
	volatile uint8_t *common, *isr, *devcfg, *notify;
	uint32_t devcfg_len, notify_len, notify_mul;
	uint16_t num_queues;
	uint8_t status;             /* last status written */
	uint32_t qnotify[VIRTIO_MAX_VQS]; /* byte offset into notify */
};

static struct vpci *vpci_of(struct virtio_hostif *h)
{
	return (struct vpci *)(void *)h;
}

/* ---------------------------------------------------------------- PCI config */

static int cfg_read(struct vpci *v, uint16_t off, int width, uint32_t *val)
{
	const struct pvio_platform *p = v->p;
	if (p->pci_cfg_read)
		return p->pci_cfg_read(p->opaque, v->bdf, off, width, val);
	if (!p->port_in || !p->port_out || off > 0xff)
		return -EOPNOTSUPP;
	p->port_out(p->opaque, 0xcf8, 4,
		    0x80000000u | (uint32_t)v->bdf << 8 | (off & 0xfcu));
	*val = p->port_in(p->opaque, (uint16_t)(0xcfc + (off & 3u)), width);
	return 0;
}

static int cfg_write(struct vpci *v, uint16_t off, int width, uint32_t val)
{
	const struct pvio_platform *p = v->p;
	if (p->pci_cfg_write)
		return p->pci_cfg_write(p->opaque, v->bdf, off, width, val);
	if (!p->port_in || !p->port_out || off > 0xff)
		return -EOPNOTSUPP;
	p->port_out(p->opaque, 0xcf8, 4,
		    0x80000000u | (uint32_t)v->bdf << 8 | (off & 0xfcu));
	p->port_out(p->opaque, (uint16_t)(0xcfc + (off & 3u)), width, val);
	return 0;
}

static uint32_t cfg8(struct vpci *v, uint16_t off)
{
	uint32_t x = 0xff;
	return cfg_read(v, off, 1, &x) < 0 ? 0xff : x & 0xff;
}
static uint32_t cfg16(struct vpci *v, uint16_t off)
{
	uint32_t x = 0xffff;
	return cfg_read(v, off, 2, &x) < 0 ? 0xffff : x & 0xffff;
}
static uint32_t cfg32(struct vpci *v, uint16_t off)
{
	uint32_t x = 0xffffffffu;
	return cfg_read(v, off, 4, &x) < 0 ? 0xffffffffu : x;
}

/* ---------------------------------------------------------------- registers */

static uint32_t cc_rd(struct vpci *v, unsigned off, int w)
{
	return hwio_rd(v->p, v->common + off, w);
}
static void cc_wr(struct vpci *v, unsigned off, int w, uint32_t x)
{
	hwio_wr(v->p, v->common + off, w, x);
}
static void cc_wr64(struct vpci *v, unsigned off, uint64_t x)
{
	cc_wr(v, off, 4, (uint32_t)x);
	cc_wr(v, off + 4, 4, (uint32_t)(x >> 32));
}

/* ---------------------------------------------------------------- ops */

static int op_get_features(struct virtio_hostif *h, uint64_t *f)
{
	struct vpci *v = vpci_of(h);
	cc_wr(v, CC_DFSELECT, 4, 0);
	uint64_t lo = cc_rd(v, CC_DF, 4);
	cc_wr(v, CC_DFSELECT, 4, 1);
	uint64_t hi = cc_rd(v, CC_DF, 4);
	*f = lo | hi << 32;
	return 0;
}

static int op_set_features(struct virtio_hostif *h, uint64_t f)
{
	struct vpci *v = vpci_of(h);
	for (uint32_t w = 0; w < 2; w++) {
		uint32_t want = (uint32_t)(f >> (32 * w));
		cc_wr(v, CC_GFSELECT, 4, w);
		cc_wr(v, CC_GF, 4, want);
		/* driver_feature is read-write: it must hold what was written */
		uint32_t got = cc_rd(v, CC_GF, 4);
		if (got != want)
			return pvio_set_error(v->ctx, EPROTO,
					      "virtio-pci %s: the device changed "
					      "driver feature word %u to 0x%x "
					      "(written 0x%x); the device is not "
					      "used",
					      v->name, w, got, want);
	}
	return 0;
}

static int op_get_status(struct virtio_hostif *h, uint8_t *st)
{
	struct vpci *v = vpci_of(h);
	*st = (uint8_t)cc_rd(v, CC_STATUS, 1);
	return 0;
}

static int op_set_status(struct virtio_hostif *h, uint8_t st)
{
	struct vpci *v = vpci_of(h);
	cc_wr(v, CC_STATUS, 1, st);
	v->status = st;
	if (st)
		return 0;
	/* a reset is complete when the status reads 0 again (spec 4.1.4.3.2) */
	uint64_t deadline = pvio_deadline(v->ctx);
	while (cc_rd(v, CC_STATUS, 1) != 0) {
		if (pvio_now_ns(v->ctx) >= deadline)
			return pvio_set_error(v->ctx, ETIMEDOUT,
					      "virtio-pci %s: the device did not "
					      "finish a reset within %u ms",
					      v->name, pvio_timeout_ms(v->ctx));
		hwio_relax(v->p);
	}
	return 0;
}

static int op_config_read(struct virtio_hostif *h, uint32_t off, void *buf,
			  uint32_t len)
{
	struct vpci *v = vpci_of(h);
	if (off > v->devcfg_len || len > v->devcfg_len - off) {
		/* fields past the device's structure read as zero: the
		 * feature bits say whether they mean anything */
		uint32_t have = off < v->devcfg_len ? v->devcfg_len - off : 0;
		memset((uint8_t *)buf + have, 0, len - have);
		len = have;
		if (!len)
			return 0;
	}
	/* config_generation before and after: retry a torn snapshot */
	for (unsigned tries = 0; tries < 64; tries++) {
		uint32_t g0 = cc_rd(v, CC_GEN, 1);
		hwio_read_window(v->p, v->devcfg, off, buf, len);
		if (cc_rd(v, CC_GEN, 1) == g0)
			return 0;
	}
	return pvio_set_error(v->ctx, EIO,
			      "virtio-pci %s: the configuration generation "
			      "kept changing; the device config cannot be read",
			      v->name);
}

static uint16_t op_queue_max(struct virtio_hostif *h, unsigned vq)
{
	struct vpci *v = vpci_of(h);
	if (vq >= v->num_queues || vq >= VIRTIO_MAX_VQS)
		return 0;
	cc_wr(v, CC_QSELECT, 2, vq);
	uint32_t n = cc_rd(v, CC_QSIZE, 2);
	return n > VW_QUEUE_MAX ? (uint16_t)VW_QUEUE_MAX : (uint16_t)n;
}

static int op_queue_setup(struct virtio_hostif *h, unsigned vq,
			  const struct virtio_queue_cfg *c)
{
	struct vpci *v = vpci_of(h);
	if (vq >= v->num_queues || vq >= VIRTIO_MAX_VQS)
		return pvio_set_error(v->ctx, ENODEV,
				      "virtio-pci %s: no virtqueue %u (the device "
				      "has %u)", v->name, vq, v->num_queues);
	cc_wr(v, CC_QSELECT, 2, vq);
	if (cc_rd(v, CC_QENABLE, 2))
		return pvio_set_error(v->ctx, EPROTO,
				      "virtio-pci %s: virtqueue %u is enabled "
				      "after a reset; the device is not used",
				      v->name, vq);
	uint32_t max = cc_rd(v, CC_QSIZE, 2);
	if (!max)
		return pvio_set_error(v->ctx, ENODEV,
				      "virtio-pci %s: virtqueue %u has size 0 "
				      "(not available)", v->name, vq);
	if (!c->packed && (max & (max - 1)))
		return pvio_set_error(v->ctx, EPROTO,
				      "virtio-pci %s: virtqueue %u size %u is "
				      "not a power of two, which split rings "
				      "need; the device is not used",
				      v->name, vq, max);
	if (c->size > max)
		return pvio_set_error(v->ctx, EINVAL,
				      "virtio-pci %s: virtqueue %u: size %u "
				      "above the device's %u", v->name, vq,
				      c->size, max);
	cc_wr(v, CC_QSIZE, 2, c->size);
	if (cc_rd(v, CC_QSIZE, 2) != c->size)
		return pvio_set_error(v->ctx, EPROTO,
				      "virtio-pci %s: virtqueue %u did not take "
				      "size %u", v->name, vq, c->size);
	uint32_t noff = cc_rd(v, CC_QNOFF, 2);
	uint64_t at = (uint64_t)noff * v->notify_mul;
	if (at > v->notify_len || v->notify_len - at < 2)
		return pvio_set_error(v->ctx, EPROTO,
				      "virtio-pci %s: virtqueue %u notify offset "
				      "%u x %u lies outside the notify structure "
				      "(%u bytes); the device is not used",
				      v->name, vq, noff, v->notify_mul,
				      v->notify_len);
	v->qnotify[vq] = (uint32_t)at;
	cc_wr(v, CC_QMSIX, 2, 0xffff); /* no vector: polled */
	cc_wr64(v, CC_QDESC, c->desc_addr);
	cc_wr64(v, CC_QDRIVER, c->driver_addr);
	cc_wr64(v, CC_QDEVICE, c->device_addr);
	return 0;
}

static int op_queue_enable(struct virtio_hostif *h, unsigned vq, bool on)
{
	struct vpci *v = vpci_of(h);
	if (!on)
		return 0; /* queue_enable is never written 0; reset stops */
	if (vq >= v->num_queues)
		return -EINVAL;
	cc_wr(v, CC_QSELECT, 2, vq);
	cc_wr(v, CC_QENABLE, 2, 1);
	return 0;
}

static int op_stop(struct virtio_hostif *h, unsigned n, const uint16_t *nums,
		   uint32_t *bases)
{
	(void)nums;
	/* no per-queue stop without RING_RESET: a reset ends everything in
	 * flight, and the device touches the rings no more */
	int r = op_set_status(h, 0);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < n; i++)
		bases[i] = UINT32_MAX;
	return 0;
}

static void op_notify(struct virtio_hostif *h, unsigned vq, uint32_t data)
{
	struct vpci *v = vpci_of(h);
	if (vq >= VIRTIO_MAX_VQS)
		return;
	/* the ring stores were ordered by the publish (full barrier) */
	hwio_wr(v->p, v->notify + v->qnotify[vq], 2, data & 0xffff);
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
	struct vpci *v = vpci_of(h);
	/* reading the ISR clears it; bit 1: the configuration changed */
	uint32_t isr = hwio_rd(v->p, v->isr, 1);
	*what = (isr & 2) ? VIRTIO_HEV_CONFIG : 0;
	return 0;
}

static void op_wait(struct virtio_hostif *h, int irq, uint64_t deadline)
{
	struct vpci *v = vpci_of(h);
	(void)irq, (void)deadline;
	/* polled: come back at once and look at the ring again */
	hwio_relax(v->p);
}

static void op_close(struct virtio_hostif *h)
{
	struct vpci *v = vpci_of(h);
	pvio_free(v->ctx, v);
}

static const struct virtio_hostif_ops vpci_ops = {
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

/* ---------------------------------------------------------------- options */

int virtio_hw_parse_opts(pvio_ctx *ctx, const char *address, const char *opts,
			 const char *usage, struct hwio_opts *o)
{
	const char *p = opts;
	while (p && *p) {
		const char *amp = pvio_strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : pvio_strlen(p);
		char kv[48];
		if (n >= sizeof(kv))
			goto bad;
		memcpy(kv, p, n);
		kv[n] = 0;
		char *eq = (char *)pvio_strchr(kv, '=');
		if (!eq)
			goto bad;
		*eq = 0;
		const char *val = eq + 1;
		uint64_t x;
		if (!pvio_strcmp(kv, "queues")) {
			if (pvio_parse_u64(val, 64, &x) < 0 || !x)
				goto bad;
			o->queues = (uint32_t)x;
		} else if (!pvio_strcmp(kv, "size")) {
			if (pvio_parse_u64(val, VW_QUEUE_MAX, &x) < 0 || !x ||
			    (x & (x - 1)))
				goto bad;
			o->size = (uint32_t)x;
		} else if (!pvio_strcmp(kv, "packed")) {
			if (!pvio_strcmp(val, "off"))
				o->no_packed = true;
			else if (!pvio_strcmp(val, "on"))
				o->no_packed = false;
			else
				goto bad;
		} else {
			goto bad;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
bad:
	return pvio_set_error(ctx, EINVAL, "cannot open '%s': bad option; use %s",
			      address, usage);
}

/* ---------------------------------------------------------------- opening */

#define PCI_USAGE                                                             \
	"virtio-pci:BB:DD.F[?packed=on|off][&size=POWER_OF_2][&queues=1..64] " \
	"(bus:device.function in hex)"

static int hexnum(const char **s, unsigned maxdigits, unsigned *out)
{
	unsigned v = 0, n = 0;
	for (;;) {
		char c = **s;
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		if (++n > maxdigits)
			return -1;
		v = v * 16 + d;
		(*s)++;
	}
	if (!n)
		return -1;
	*out = v;
	return 0;
}

/* "BB:DD.F" or "0000:BB:DD.F", up to '?' or the end */
static int parse_bdf(const char *s, uint16_t *bdf, const char **tail)
{
	unsigned a, b, d, f;
	if (hexnum(&s, 4, &a) < 0 || *s++ != ':' || hexnum(&s, 2, &b) < 0)
		return -1;
	if (*s == ':') {
		/* a domain came first */
		s++;
		if (a != 0)
			return -1;
		a = b;
		if (hexnum(&s, 2, &b) < 0)
			return -1;
	} else if (a > 0xff) {
		return -1;
	}
	/* now a = bus, b = device */
	if (*s++ != '.' || hexnum(&s, 1, &f) < 0)
		return -1;
	d = b;
	if (d > 31 || f > 7 || (*s && *s != '?'))
		return -1;
	*bdf = (uint16_t)(a << 8 | d << 3 | f);
	*tail = s;
	return 0;
}

/* Where a capability's structure lies: 0 or an error (message set). */
static int map_struct(struct vpci *v, uint8_t cap, const char *what,
		      uint32_t minlen, volatile uint8_t **out, uint32_t *len)
{
	unsigned bar = cfg8(v, (uint16_t)(cap + CAP_BAR));
	uint32_t off = cfg32(v, (uint16_t)(cap + CAP_OFFSET));
	uint32_t l = cfg32(v, (uint16_t)(cap + CAP_LENGTH));
	uint16_t reg = (uint16_t)(PCI_BAR0 + 4 * bar);
	uint32_t lo = cfg32(v, reg);
	uint64_t base;
	if (lo & 1)
		return pvio_set_error(v->ctx, EOPNOTSUPP,
				      "virtio-pci %s: the %s structure is in I/O "
				      "BAR %u; only memory BARs are supported",
				      v->name, what, bar);
	if (((lo >> 1) & 3) == 2) {
		if (bar == 5)
			return pvio_set_error(v->ctx, EPROTO,
					      "virtio-pci %s: BAR 5 claims to be "
					      "64-bit", v->name);
		base = (uint64_t)cfg32(v, (uint16_t)(reg + 4)) << 32 | (lo & ~0xfu);
	} else {
		base = lo & ~0xfu;
	}
	if (!base)
		return pvio_set_error(v->ctx, ENXIO,
				      "virtio-pci %s: BAR %u (the %s structure) "
				      "has no address; the firmware did not "
				      "assign it",
				      v->name, bar, what);
	if (l < minlen || l > MAX_STRUCT_LEN || base + off < base)
		return pvio_set_error(v->ctx, EPROTO,
				      "virtio-pci %s: the %s structure has length "
				      "%u (at least %u expected); the device is "
				      "not used",
				      v->name, what, l, minlen);
	volatile uint8_t *m = hwio_map(v->p, base + off, l);
	if (!m)
		return pvio_set_error(v->ctx, ENOMEM,
				      "virtio-pci %s: cannot map the %s structure "
				      "at 0x%llx", v->name, what,
				      (unsigned long long)(base + off));
	*out = m;
	if (len)
		*len = l;
	return 0;
}

static int find_caps(struct vpci *v)
{
	uint8_t found[5] = { 0 };
	if (!(cfg16(v, PCI_STATUS) & PCI_STATUS_CAPS))
		goto legacy;
	uint32_t ptr = cfg8(v, PCI_CAP_PTR) & 0xfc;
	/* at most 48 capabilities fit in 192 bytes: a longer list loops */
	for (unsigned n = 0; ptr >= 0x40 && ptr <= 0xf0 && n < 48; n++) {
		uint32_t id = cfg8(v, (uint16_t)ptr);
		uint32_t next = cfg8(v, (uint16_t)(ptr + 1)) & 0xfc;
		if (id == PCI_CAP_VNDR) {
			uint32_t clen = cfg8(v, (uint16_t)(ptr + 2));
			uint32_t type = cfg8(v, (uint16_t)(ptr + CAP_CFG_TYPE));
			uint32_t bar = cfg8(v, (uint16_t)(ptr + CAP_BAR));
			if (type >= CAP_COMMON && type <= CAP_DEVICE && bar <= 5 &&
			    clen >= 16 && ptr + clen <= 0x100 && !found[type] &&
			    (type != CAP_NOTIFY || clen >= 20))
				found[type] = (uint8_t)ptr;
		}
		ptr = next;
	}
	if (!found[CAP_COMMON] || !found[CAP_NOTIFY] || !found[CAP_ISR])
		goto legacy;
	int r;
	uint32_t l;
	if ((r = map_struct(v, found[CAP_COMMON], "common configuration", CC_LEN,
			    &v->common, NULL)) < 0 ||
	    (r = map_struct(v, found[CAP_ISR], "ISR", 1, &v->isr, NULL)) < 0 ||
	    (r = map_struct(v, found[CAP_NOTIFY], "notification", 2, &v->notify,
			    &v->notify_len)) < 0)
		return r;
	v->notify_mul = cfg32(v, (uint16_t)(found[CAP_NOTIFY] + CAP_NOTIFY_MUL));
	if (v->notify_mul & 1)
		return pvio_set_error(v->ctx, EPROTO,
				      "virtio-pci %s: notify_off_multiplier %u is "
				      "not even; the device is not used",
				      v->name, v->notify_mul);
	if (found[CAP_DEVICE]) {
		if ((r = map_struct(v, found[CAP_DEVICE], "device configuration",
				    1, &v->devcfg, &l)) < 0)
			return r;
		v->devcfg_len = l > MAX_CONFIG_LEN ? MAX_CONFIG_LEN : l;
	}
	return 0;
legacy:
	return pvio_set_error(v->ctx, EPROTONOSUPPORT,
			      "virtio-pci %s has no virtio 1.x capabilities "
			      "(a legacy-only device); pvio drives modern "
			      "devices: give QEMU disable-modern=off",
			      v->name);
}

static int vpci_open(pvio_ctx *ctx, const char *address, const char *rest,
		     pvio_dev **out)
{
	struct hwio_opts o = { 0, 0, false };
	uint16_t bdf;
	const char *tail;
	int r;

	if (parse_bdf(rest, &bdf, &tail) < 0)
		return pvio_set_error(ctx, EINVAL,
				      "cannot open '%s': not a PCI address; use "
				      PCI_USAGE, address);
	if (*tail == '?' &&
	    (r = virtio_hw_parse_opts(ctx, address, tail + 1, PCI_USAGE, &o)) < 0)
		return r;
	const struct pvio_platform *p = pvio_ctx_platform(ctx);
	if (pvio_ctx_hosted(ctx) ||
	    (!p->pci_cfg_read && (!p->port_in || !p->port_out)))
		return pvio_set_error(ctx, EOPNOTSUPP,
				      "cannot open '%s': virtio-pci needs a "
				      "platform with PCI configuration access "
				      "(pci_cfg_read or port I/O hooks), as a "
				      "kernel linking libpvio-freestanding.a "
				      "provides; under Linux use vhost-user",
				      address);

	struct vpci *v = pvio_zalloc(ctx, sizeof(*v));
	if (!v)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	v->ctx = ctx;
	v->p = p;
	v->bdf = bdf;
	pvio_snprintf(v->name, sizeof(v->name), "%02x:%02x.%x", bdf >> 8,
		      (bdf >> 3) & 31, bdf & 7);
	v->h.ops = &vpci_ops;
	v->h.ctx = ctx;
	v->h.name = "virtio-pci";

	uint32_t vendor = cfg16(v, PCI_VENDOR), devid = cfg16(v, PCI_DEVICE);
	if (vendor == 0xffff) {
		r = pvio_set_error(ctx, ENODEV, "cannot open '%s': no PCI device "
				   "at %s", address, v->name);
		goto fail;
	}
	uint32_t type;
	if (vendor != VIRTIO_PCI_VENDOR || devid < 0x1000 || devid > 0x107f) {
		r = pvio_set_error(ctx, ENODEV,
				   "cannot open '%s': the PCI device at %s "
				   "(%04x:%04x) is not a virtio device",
				   address, v->name, vendor, devid);
		goto fail;
	}
	type = devid >= 0x1040 ? devid - 0x1040 : cfg16(v, PCI_SUBSYS_ID);
	if (type != VW_ID_BLK && type != VW_ID_NET) {
		r = pvio_set_error(ctx, EPROTONOSUPPORT,
				   "cannot open '%s': virtio device type %u is "
				   "neither a block (2) nor a network (1) device",
				   address, type);
		goto fail;
	}
	if ((r = find_caps(v)) < 0)
		goto fail;
	uint32_t cmd = cfg16(v, PCI_COMMAND);
	cfg_write(v, PCI_COMMAND, 2, cmd | PCI_CMD_MEM | PCI_CMD_MASTER);
	cc_wr(v, CC_MSIX, 2, 0xffff);
	uint32_t nq = cc_rd(v, CC_NUMQ, 2);
	v->num_queues = (uint16_t)(nq > VIRTIO_MAX_VQS ? VIRTIO_MAX_VQS : nq);
	v->h.device_id = type;
	v->h.max_vqs = v->num_queues;
	v->h.transport_features =
		VW_BIT(VW_F_INDIRECT_DESC) | VW_BIT(VW_F_EVENT_IDX) |
		VW_BIT(VW_F_VERSION_1) | VW_BIT(VW_F_RING_PACKED) |
		VW_BIT(VW_F_IN_ORDER);

	struct virtio_open_args a = {
		.cls = type == VW_ID_BLK ? PVIO_CLASS_BLK : PVIO_CLASS_NET,
		.address = address,
		.max_queues = o.queues,
		.queue_size = (uint16_t)o.size,
		.no_packed = o.no_packed,
	};
	return virtio_dev_open(ctx, &v->h, &a, out);

fail:
	op_close(&v->h);
	return r;
}

const struct pvio_backend pvio_backend_virtio_pci = {
	.scheme = "virtio-pci",
	.family = PVIO_FAMILY_VIRTIO,
	.summary = "virtio-pci:BB:DD.F - a virtio 1.x PCI device (freestanding "
		   "platforms with PCI access)",
	.open = vpci_open,
};
