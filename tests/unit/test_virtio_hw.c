/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the virtio-pci and virtio-mmio host interfaces
 * (backends/virtio/hostif_pci.c, hostif_mmio.c) against device models.
 *
 * Real QEMU devices behave; these do not when told to.  The transports are
 * plain C over the platform hooks, so the test gives pvio a platform whose
 * pci_cfg_read/pci_cfg_write, mmio_map and mmio_read/mmio_write hooks lead
 * into a virtio-blk device model written here from the Linux uapi headers
 * (virtio_pci.h / virtio_mmio.h register layouts, virtio_ring.h split
 * rings).  The model serves PCI configuration space with virtio
 * capabilities or the virtio-mmio register window, processes split rings
 * on notification (GET_ID, IN, OUT, FLUSH), and has knobs that make it
 * misbehave: features the driver did not ask for, driver features changed
 * behind the driver's back, FEATURES_OK refused, queue sizes 0 or not a
 * power of two, impossible config values, a generation that never settles,
 * DEVICE_NEEDS_RESET, broken capability lists, notify offsets out of
 * range, unassigned BARs, wrong magic/version, empty slots.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include <pvio/platform.h>
#include <pvio/blk.h>
#include <pvio/transport.h>

/* ------------------------------------------------------------------ */
/* The device model                                                    */
/* ------------------------------------------------------------------ */

#define BAR_PA 0xfe000000ull   /* BAR 4 of the PCI model */
#define MMIO_PA 0xfeb00000ull  /* the virtio-mmio window */
#define OFF_COMMON 0x0000
#define OFF_ISR 0x1000
#define OFF_DEVICE 0x2000
#define OFF_NOTIFY 0x3000
#define NOTIFY_MUL 4
#define NQ 2
#define CAPACITY 2048 /* sectors */

struct mq {
	uint16_t max, size, enable, noff;
	uint64_t desc, drv, dev;
	uint16_t last_avail, used_idx;
};

struct model {
	int mmio;                 /* 0: PCI front, 1: MMIO front */
	/* device */
	uint64_t features;        /* offered */
	uint64_t driver;          /* written by the driver */
	uint32_t dfsel, gfsel;
	uint8_t status;
	uint8_t gen;
	uint8_t isr;
	uint16_t qsel;
	struct mq q[NQ];
	uint8_t cfg[64];
	uint8_t status_log[32];
	unsigned nstatus;
	unsigned notifies;
	uint8_t disk[CAPACITY * 512];
	/* PCI */
	uint8_t pcfg[256];
	/* MMIO */
	uint32_t magic, version, devid;
	/* knobs */
	uint64_t gf_or;           /* ORed into driver_feature readback */
	int refuse_features_ok;
	int needs_reset_on_driver_ok;
	int gen_churn;            /* generation changes on every read */
	int stall;                /* do not process rings */
	int reset_stuck;          /* status never reads 0 after a reset */
};

static struct model *M;
/* mmio_map hands out pointers into this array: addresses only, every
 * access goes through mmio_read/mmio_write */
static uint8_t window[0x4000];

static void cfg_put(struct model *m, unsigned off, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++)
		m->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static void pcfg_put(struct model *m, unsigned off, unsigned width, uint32_t v)
{
	for (unsigned i = 0; i < width; i++)
		m->pcfg[off + i] = (uint8_t)(v >> (8 * i));
}

static void add_cap(struct model *m, unsigned at, unsigned next, unsigned type,
		    unsigned bar, uint32_t off, uint32_t len, unsigned clen)
{
	m->pcfg[at + VIRTIO_PCI_CAP_VNDR] = 0x09;
	m->pcfg[at + VIRTIO_PCI_CAP_NEXT] = (uint8_t)next;
	m->pcfg[at + VIRTIO_PCI_CAP_LEN] = (uint8_t)clen;
	m->pcfg[at + VIRTIO_PCI_CAP_CFG_TYPE] = (uint8_t)type;
	m->pcfg[at + VIRTIO_PCI_CAP_BAR] = (uint8_t)bar;
	pcfg_put(m, at + VIRTIO_PCI_CAP_OFFSET, 4, off);
	pcfg_put(m, at + VIRTIO_PCI_CAP_LENGTH, 4, len);
}

static struct model *model_new(int mmio)
{
	struct model *m = calloc(1, sizeof(*m));
	m->mmio = mmio;
	m->features = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX |
		      1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		      1ull << VIRTIO_BLK_F_SEG_MAX;
	for (unsigned i = 0; i < NQ; i++)
		m->q[i].max = m->q[i].size = 128;
	cfg_put(m, 0, 8, CAPACITY);
	cfg_put(m, 12, 4, 64);  /* seg_max */
	cfg_put(m, 20, 4, 512); /* blk_size */
	for (unsigned s = 0; s < CAPACITY; s++)
		memset(m->disk + s * 512, (int)(s & 0xff), 512);
	/* PCI: a modern virtio-blk function */
	pcfg_put(m, 0x00, 2, 0x1af4);
	pcfg_put(m, 0x02, 2, 0x1042);
	pcfg_put(m, 0x06, 2, 0x10); /* capability list */
	pcfg_put(m, 0x20, 4, (uint32_t)BAR_PA | 0x4 | 0x8); /* BAR4: 64-bit mem */
	pcfg_put(m, 0x24, 4, 0);
	m->pcfg[0x34] = 0x40;
	add_cap(m, 0x40, 0x50, VIRTIO_PCI_CAP_COMMON_CFG, 4, OFF_COMMON, 0x40, 16);
	add_cap(m, 0x50, 0x60, VIRTIO_PCI_CAP_ISR_CFG, 4, OFF_ISR, 1, 16);
	add_cap(m, 0x60, 0x70, VIRTIO_PCI_CAP_DEVICE_CFG, 4, OFF_DEVICE, 64, 16);
	add_cap(m, 0x70, 0x00, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, OFF_NOTIFY, 0x100, 20);
	pcfg_put(m, 0x70 + 16, 4, NOTIFY_MUL);
	/* MMIO */
	m->magic = 0x74726976;
	m->version = 2;
	m->devid = 2;
	return m;
}

static void *dev_ptr(uint64_t a)
{
	return (void *)(uintptr_t)a; /* the test platform's DMA is identity */
}

/* Process queue 0's split ring: the virtio-blk requests. */
static void process(struct model *m, unsigned qi)
{
	struct mq *q = &m->q[qi];
	if (m->stall || !q->enable || !(m->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return;
	struct vring_desc *d = dev_ptr(q->desc);
	struct vring_avail *av = dev_ptr(q->drv);
	struct vring_used *u = dev_ptr(q->dev);
	while (q->last_avail != av->idx) {
		uint16_t head = av->ring[q->last_avail % q->size];
		q->last_avail++;
		struct virtio_blk_outhdr *h = NULL;
		uint8_t *st = NULL;
		uint32_t written = 0;
		unsigned i = head, n = 0;
		uint8_t *data[8];
		uint32_t dlen[8];
		unsigned nd = 0;
		for (;;) {
			ck_assert_uint_lt(i, q->size);
			ck_assert(!(d[i].flags & VRING_DESC_F_INDIRECT));
			if (n == 0)
				h = dev_ptr(d[i].addr);
			else if (!(d[i].flags & VRING_DESC_F_NEXT))
				st = dev_ptr(d[i].addr);
			else if (nd < 8) {
				data[nd] = dev_ptr(d[i].addr);
				dlen[nd++] = d[i].len;
			}
			n++;
			if (!(d[i].flags & VRING_DESC_F_NEXT))
				break;
			i = d[i].next;
		}
		ck_assert_ptr_nonnull(h);
		ck_assert_ptr_nonnull(st);
		uint64_t sector = h->sector;
		*st = VIRTIO_BLK_S_OK;
		switch (h->type) {
		case VIRTIO_BLK_T_GET_ID:
			memset(data[0], 0, dlen[0]);
			memcpy(data[0], "model", 5);
			written = dlen[0];
			break;
		case VIRTIO_BLK_T_IN:
			for (unsigned k = 0; k < nd; k++) {
				memcpy(data[k], m->disk + sector * 512, dlen[k]);
				sector += dlen[k] / 512;
				written += dlen[k];
			}
			break;
		case VIRTIO_BLK_T_OUT:
			for (unsigned k = 0; k < nd; k++) {
				memcpy(m->disk + sector * 512, data[k], dlen[k]);
				sector += dlen[k] / 512;
			}
			break;
		case VIRTIO_BLK_T_FLUSH:
			break;
		default:
			*st = VIRTIO_BLK_S_UNSUPP;
		}
		u->ring[q->used_idx % q->size].id = head;
		u->ring[q->used_idx % q->size].len = written + 1;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		q->used_idx++;
		u->idx = q->used_idx;
	}
	/* EVENT_IDX: ask for a kick at the next new buffer */
	uint16_t *avail_event = (uint16_t *)(void *)&u->ring[q->size];
	*avail_event = q->last_avail;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	m->isr |= 1;
}

static void set_status(struct model *m, uint8_t v)
{
	if (m->nstatus < sizeof(m->status_log))
		m->status_log[m->nstatus++] = v;
	if (v == 0) {
		m->status = m->reset_stuck ? VIRTIO_CONFIG_S_ACKNOWLEDGE : 0;
		m->driver = 0;
		for (unsigned i = 0; i < NQ; i++) {
			uint16_t max = m->q[i].max, noff = m->q[i].noff;
			memset(&m->q[i], 0, sizeof(m->q[i]));
			m->q[i].max = max;
			m->q[i].size = max;
			m->q[i].noff = noff;
		}
		return;
	}
	if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && m->refuse_features_ok)
		v &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	if ((v & VIRTIO_CONFIG_S_DRIVER_OK) && m->needs_reset_on_driver_ok)
		v |= VIRTIO_CONFIG_S_NEEDS_RESET;
	m->status = v;
}

static uint8_t gen_read(struct model *m)
{
	if (m->gen_churn)
		m->gen++;
	return m->gen;
}

/* ---- the PCI front ---- */

static uint32_t common_rd(struct model *m, unsigned off)
{
	struct mq *q = m->qsel < NQ ? &m->q[m->qsel] : NULL;
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: return m->dfsel;
	case VIRTIO_PCI_COMMON_DF:
		return m->dfsel < 2 ? (uint32_t)(m->features >> (32 * m->dfsel)) : 0;
	case VIRTIO_PCI_COMMON_GFSELECT: return m->gfsel;
	case VIRTIO_PCI_COMMON_GF:
		return m->gfsel < 2 ? (uint32_t)((m->driver | m->gf_or) >> (32 * m->gfsel)) : 0;
	case VIRTIO_PCI_COMMON_MSIX: return 0xffff;
	case VIRTIO_PCI_COMMON_NUMQ: return NQ;
	case VIRTIO_PCI_COMMON_STATUS: return m->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION: return gen_read(m);
	case VIRTIO_PCI_COMMON_Q_SELECT: return m->qsel;
	case VIRTIO_PCI_COMMON_Q_SIZE: return q ? q->size : 0;
	case VIRTIO_PCI_COMMON_Q_MSIX: return 0xffff;
	case VIRTIO_PCI_COMMON_Q_ENABLE: return q ? q->enable : 0;
	case VIRTIO_PCI_COMMON_Q_NOFF: return q ? q->noff : 0;
	default: return 0;
	}
}

static void set_lohi(uint64_t *x, int hi, uint32_t v)
{
	if (hi)
		*x = (*x & 0xffffffffull) | (uint64_t)v << 32;
	else
		*x = (*x & ~0xffffffffull) | v;
}

static void common_wr(struct model *m, unsigned off, uint32_t v)
{
	struct mq *q = m->qsel < NQ ? &m->q[m->qsel] : NULL;
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: m->dfsel = v; break;
	case VIRTIO_PCI_COMMON_GFSELECT: m->gfsel = v; break;
	case VIRTIO_PCI_COMMON_GF:
		if (m->gfsel < 2)
			set_lohi(&m->driver, (int)m->gfsel, v);
		break;
	case VIRTIO_PCI_COMMON_STATUS: set_status(m, (uint8_t)v); break;
	case VIRTIO_PCI_COMMON_Q_SELECT: m->qsel = (uint16_t)v; break;
	case VIRTIO_PCI_COMMON_Q_SIZE: if (q) q->size = (uint16_t)v; break;
	case VIRTIO_PCI_COMMON_Q_ENABLE: if (q) q->enable = (uint16_t)v; break;
	case VIRTIO_PCI_COMMON_Q_DESCLO: if (q) set_lohi(&q->desc, 0, v); break;
	case VIRTIO_PCI_COMMON_Q_DESCHI: if (q) set_lohi(&q->desc, 1, v); break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: if (q) set_lohi(&q->drv, 0, v); break;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: if (q) set_lohi(&q->drv, 1, v); break;
	case VIRTIO_PCI_COMMON_Q_USEDLO: if (q) set_lohi(&q->dev, 0, v); break;
	case VIRTIO_PCI_COMMON_Q_USEDHI: if (q) set_lohi(&q->dev, 1, v); break;
	default: break;
	}
}

static uint32_t cfg_rd(struct model *m, unsigned off, int width)
{
	uint32_t v = 0;
	for (int i = 0; i < width; i++)
		if (off + (unsigned)i < sizeof(m->cfg))
			v |= (uint32_t)m->cfg[off + (unsigned)i] << (8 * i);
	return v;
}

/* ---- the MMIO front ---- */

static uint32_t mmio_rd(struct model *m, unsigned off, int width)
{
	struct mq *q = m->qsel < NQ ? &m->q[m->qsel] : NULL;
	if (off >= VIRTIO_MMIO_CONFIG)
		return cfg_rd(m, off - VIRTIO_MMIO_CONFIG, width);
	ck_assert_int_eq(width, 4); /* registers: 32-bit accesses only */
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return m->magic;
	case VIRTIO_MMIO_VERSION: return m->version;
	case VIRTIO_MMIO_DEVICE_ID: return m->devid;
	case VIRTIO_MMIO_VENDOR_ID: return 0x554d4551;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return m->dfsel < 2 ? (uint32_t)(m->features >> (32 * m->dfsel)) : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? q->max : 0;
	case VIRTIO_MMIO_QUEUE_READY: return q ? q->enable : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return m->isr;
	case VIRTIO_MMIO_STATUS: return m->status;
	case VIRTIO_MMIO_CONFIG_GENERATION: return gen_read(m);
	default: return 0;
	}
}

static void mmio_wr(struct model *m, unsigned off, int width, uint32_t v)
{
	struct mq *q = m->qsel < NQ ? &m->q[m->qsel] : NULL;
	ck_assert_int_eq(width, 4);
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: m->dfsel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: m->gfsel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (m->gfsel < 2)
			set_lohi(&m->driver, (int)m->gfsel, v);
		break;
	case VIRTIO_MMIO_QUEUE_SEL: m->qsel = (uint16_t)v; break;
	case VIRTIO_MMIO_QUEUE_NUM: if (q) q->size = (uint16_t)v; break;
	case VIRTIO_MMIO_QUEUE_READY: if (q) q->enable = (uint16_t)v; break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		m->notifies++;
		if (v < NQ)
			process(m, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK: m->isr &= (uint8_t)~v; break;
	case VIRTIO_MMIO_STATUS: set_status(m, (uint8_t)v); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: if (q) set_lohi(&q->desc, 0, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: if (q) set_lohi(&q->desc, 1, v); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: if (q) set_lohi(&q->drv, 0, v); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: if (q) set_lohi(&q->drv, 1, v); break;
	case VIRTIO_MMIO_QUEUE_USED_LOW: if (q) set_lohi(&q->dev, 0, v); break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH: if (q) set_lohi(&q->dev, 1, v); break;
	default: break;
	}
}

/* ------------------------------------------------------------------ */
/* The test platform                                                   */
/* ------------------------------------------------------------------ */

static void *t_alloc(void *o, size_t n)
{
	(void)o;
	return calloc(1, n);
}
static void t_free(void *o, void *p)
{
	(void)o;
	free(p);
}
static int t_dma_alloc(void *o, size_t len, struct pvio_dma_region *r)
{
	(void)o;
	void *p = aligned_alloc(4096, len);
	if (!p)
		return -ENOMEM;
	memset(p, 0, len);
	r->va = p;
	r->dev_addr = (uint64_t)(uintptr_t)p;
	r->len = len;
	r->fd = -1;
	r->fd_offset = 0;
	return 0;
}
static void t_dma_free(void *o, const struct pvio_dma_region *r)
{
	(void)o;
	free(r->va);
}
static uint64_t t_now(void *o)
{
	(void)o;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned cfg_reads_outside;

static int t_pci_rd(void *o, uint16_t bdf, uint16_t off, int width, uint32_t *v)
{
	(void)o;
	ck_assert(width == 1 || width == 2 || width == 4);
	ck_assert_uint_eq(off % (unsigned)width, 0);
	if (bdf != (5u << 3) || off + (unsigned)width > 256) {
		cfg_reads_outside += bdf != (5u << 3);
		*v = width == 4 ? 0xffffffffu : width == 2 ? 0xffff : 0xff;
		return 0;
	}
	uint32_t x = 0;
	for (int i = 0; i < width; i++)
		x |= (uint32_t)M->pcfg[off + (unsigned)i] << (8 * i);
	*v = x;
	return 0;
}

static int t_pci_wr(void *o, uint16_t bdf, uint16_t off, int width, uint32_t v)
{
	(void)o;
	if (bdf == (5u << 3) && off == 0x04 && width == 2)
		pcfg_put(M, off, 2, v); /* the command register only */
	return 0;
}

static void *t_map(void *o, uint64_t pa, size_t len)
{
	(void)o;
	uint64_t base = M->mmio ? MMIO_PA : BAR_PA;
	ck_assert_uint_ge(pa, base);
	ck_assert_uint_le(pa - base + len, sizeof(window));
	return window + (pa - base);
}

static uint32_t t_rd(void *o, volatile void *a, int width)
{
	(void)o;
	unsigned off = (unsigned)((volatile uint8_t *)a - window);
	ck_assert_uint_lt(off, sizeof(window));
	ck_assert_uint_eq(off % (unsigned)width, 0);
	if (M->mmio)
		return mmio_rd(M, off, width);
	if (off < OFF_COMMON + 0x40)
		return common_rd(M, off - OFF_COMMON);
	if (off == OFF_ISR) {
		uint8_t v = M->isr;
		M->isr = 0;
		return v;
	}
	if (off >= OFF_DEVICE && off < OFF_DEVICE + 64)
		return cfg_rd(M, off - OFF_DEVICE, width);
	return 0;
}

static void t_wr(void *o, volatile void *a, int width, uint32_t v)
{
	(void)o;
	unsigned off = (unsigned)((volatile uint8_t *)a - window);
	ck_assert_uint_lt(off, sizeof(window));
	ck_assert_uint_eq(off % (unsigned)width, 0);
	if (M->mmio) {
		mmio_wr(M, off, width, v);
		return;
	}
	if (off < OFF_COMMON + 0x40) {
		common_wr(M, off - OFF_COMMON, v);
	} else if (off >= OFF_NOTIFY && off < OFF_NOTIFY + 0x100) {
		ck_assert_int_eq(width, 2);
		M->notifies++;
		unsigned qi = (off - OFF_NOTIFY) / NOTIFY_MUL;
		ck_assert_uint_eq(qi, v); /* notify_off(q) = q in this model */
		if (qi < NQ)
			process(M, qi);
	}
}

static const struct pvio_platform plat = {
	.abi_version = PVIO_PLATFORM_ABI,
	.struct_size = sizeof(struct pvio_platform),
	.alloc = t_alloc,
	.free = t_free,
	.dma_alloc = t_dma_alloc,
	.dma_free = t_dma_free,
	.now_ns = t_now,
	.mmio_map = t_map,
	.pci_cfg_read = t_pci_rd,
	.pci_cfg_write = t_pci_wr,
	.mmio_read = t_rd,
	.mmio_write = t_wr,
};

static pvio_ctx *ctx;

static void setup_pci(void)
{
	M = model_new(0);
	for (unsigned i = 0; i < NQ; i++)
		M->q[i].noff = (uint16_t)i;
	struct pvio_ctx_opts o = { .struct_size = sizeof(o), .platform = &plat,
				   .dma_pool_size = 4u << 20, .timeout_ms = 300,
				   .log_level = PVIO_LOG_ERROR };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
}

static void setup_mmio(void)
{
	setup_pci();
	M->mmio = 1;
}

static void teardown(void)
{
	pvio_ctx_free(ctx);
	free(M);
	M = NULL;
}

#define PCI_ADDR "virtio-pci:00:05.0"
#define MMIO_ADDR "virtio-mmio:0xfeb00000"

/* Open must fail with err and a message containing words; the device was
 * not left running (FAILED set or never DRIVER_OK). */
static void open_fails(const char *addr, int err, const char *words)
{
	pvio_blk *b = NULL;
	int r = pvio_blk_open(ctx, addr, NULL, &b);
	ck_assert_msg(r == -err, "open %s: %d (%s), expected %d", addr, r,
		      pvio_errmsg(ctx), -err);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(pvio_errmsg(ctx), words), "message '%s' lacks '%s'",
		      pvio_errmsg(ctx), words);
	ck_assert_ptr_null(strchr(pvio_errmsg(ctx), '\n'));
	ck_assert(!(M->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
		  (M->status & VIRTIO_CONFIG_S_FAILED) || M->status == 0);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void happy(const char *addr, const char *backend)
{
	/* bits pvio does not know or must not take: ACCESS_PLATFORM,
	 * ORDER_PLATFORM, NOTIFICATION_DATA, RING_RESET, NOTIFY_ON_EMPTY,
	 * ANY_LAYOUT, blk SCSI (legacy), bit 50 and 63 */
	uint64_t odd = 1ull << 33 | 1ull << 36 | 1ull << 38 | 1ull << 40 |
		       1ull << 24 | 1ull << 27 | 1ull << 7 | 1ull << 50 | 1ull << 63;
	M->features |= odd;
	pvio_blk *b;
	int r = pvio_blk_open(ctx, addr, NULL, &b);
	ck_assert_msg(r == 0, "%s", pvio_errmsg(ctx));
	ck_assert_uint_eq(M->driver & odd, 0);
	ck_assert_uint_eq(M->driver & ~M->features, 0);
	ck_assert(M->driver & (1ull << VIRTIO_F_VERSION_1));
	ck_assert(M->status & VIRTIO_CONFIG_S_DRIVER_OK);
	/* reset, ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK in order */
	ck_assert_uint_ge(M->nstatus, 5);
	ck_assert_uint_eq(M->status_log[0], 0);
	ck_assert_uint_eq(M->status_log[1], 1);
	ck_assert_uint_eq(M->status_log[2], 3);
	struct pvio_dev_info di = { .struct_size = sizeof(di) };
	pvio_dev_get_info(pvio_blk_dev(b), &di);
	ck_assert_str_eq(di.backend, backend);
	ck_assert_ptr_nonnull(strstr(di.native, "id=model"));
	if (!M->mmio)
		/* memory space and bus mastering on */
		ck_assert_uint_eq(M->pcfg[4] & 6, 6);

	uint8_t *buf = pvio_dma_alloc(ctx, 8192, 4096);
	ck_assert_int_eq(pvio_blk_pread(b, 7 * 512, buf, 1024), 0);
	ck_assert_uint_eq(buf[0], 7);
	ck_assert_uint_eq(buf[1023], 8);
	memset(buf, 0xab, 4096);
	ck_assert_int_eq(pvio_blk_pwrite(b, 100 * 512, buf, 4096), 0);
	ck_assert_uint_eq(M->disk[100 * 512], 0xab);
	ck_assert_uint_eq(M->disk[108 * 512 - 1], 0xab);
	ck_assert_uint_eq(M->disk[108 * 512], 108);
	ck_assert_int_eq(pvio_blk_sync_flush(b), 0);
	ck_assert_uint_gt(M->notifies, 0);
	pvio_dma_free(ctx, buf);
	pvio_blk_close(b);
	/* closed: reset */
	ck_assert_uint_eq(M->status, 0);
}

START_TEST(pci_happy) { happy(PCI_ADDR, "virtio-pci"); }
END_TEST
START_TEST(mmio_happy) { happy(MMIO_ADDR, "virtio-mmio"); }
END_TEST

START_TEST(pci_feature_readback)
{
	/* the device claims the driver wrote a bit it did not */
	M->gf_or = 1ull << VIRTIO_BLK_F_RO;
	open_fails(PCI_ADDR, EPROTO, "changed driver feature word 0");
	ck_assert(M->status & VIRTIO_CONFIG_S_FAILED);
}
END_TEST

static void features_ok_refused(const char *addr)
{
	M->refuse_features_ok = 1;
	open_fails(addr, EPROTO, "rejected features");
	ck_assert(M->status & VIRTIO_CONFIG_S_FAILED);
}
START_TEST(pci_features_ok_refused) { features_ok_refused(PCI_ADDR); }
END_TEST
START_TEST(mmio_features_ok_refused) { features_ok_refused(MMIO_ADDR); }
END_TEST

static void qsize_zero(const char *addr)
{
	M->q[0].max = M->q[0].size = 0;
	open_fails(addr, ENODEV, "no queues");
}
START_TEST(pci_qsize_zero) { qsize_zero(PCI_ADDR); }
END_TEST
START_TEST(mmio_qsize_zero) { qsize_zero(MMIO_ADDR); }
END_TEST

static void qsize_odd(const char *addr)
{
	M->q[0].max = M->q[0].size = 100;
	open_fails(addr, EPROTO, "size 100 is not a power of two");
	ck_assert(M->status & VIRTIO_CONFIG_S_FAILED);
}
START_TEST(pci_qsize_odd) { qsize_odd(PCI_ADDR); }
END_TEST
START_TEST(mmio_qsize_odd) { qsize_odd(MMIO_ADDR); }
END_TEST

static void config_range(const char *addr)
{
	cfg_put(M, 20, 4, 768); /* block size not a power of two */
	open_fails(addr, EPROTO, "768");
	teardown();
	setup_pci();
	M->mmio = !strncmp(addr, "virtio-mmio", 11);
	cfg_put(M, 0, 8, UINT64_MAX); /* capacity overflows bytes */
	open_fails(addr, ERANGE, "capacity");
}
START_TEST(pci_config_range) { config_range(PCI_ADDR); }
END_TEST
START_TEST(mmio_config_range) { config_range(MMIO_ADDR); }
END_TEST

static void gen_churn(const char *addr)
{
	M->gen_churn = 1;
	open_fails(addr, EIO, "configuration generation kept changing");
}
START_TEST(pci_gen_churn) { gen_churn(PCI_ADDR); }
END_TEST
START_TEST(mmio_gen_churn) { gen_churn(MMIO_ADDR); }
END_TEST

static void needs_reset_at_start(const char *addr)
{
	M->needs_reset_on_driver_ok = 1;
	open_fails(addr, EIO, "needs a reset");
	ck_assert(M->status & VIRTIO_CONFIG_S_FAILED);
}
START_TEST(pci_needs_reset_at_start) { needs_reset_at_start(PCI_ADDR); }
END_TEST
START_TEST(mmio_needs_reset_at_start) { needs_reset_at_start(MMIO_ADDR); }
END_TEST

static void needs_reset_later(const char *addr)
{
	pvio_blk *b;
	ck_assert_int_eq(pvio_blk_open(ctx, addr, NULL, &b), 0);
	/* the device hits an error: NEEDS_RESET with a config interrupt, and
	 * it stops processing */
	M->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	M->isr |= 2;
	M->stall = 1;
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	int r = pvio_blk_pread(b, 0, buf, 512);
	ck_assert_int_eq(r, -EIO);
	const char *why = NULL;
	ck_assert_int_eq(pvio_dev_state(pvio_blk_dev(b), &why), PVIO_DEV_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "DEVICE_NEEDS_RESET"));
	/* later requests fail at once */
	ck_assert_int_eq(pvio_blk_pread(b, 0, buf, 512), -EIO);
	pvio_dma_free(ctx, buf);
	pvio_blk_close(b);
}
START_TEST(pci_needs_reset_later) { needs_reset_later(PCI_ADDR); }
END_TEST
START_TEST(mmio_needs_reset_later) { needs_reset_later(MMIO_ADDR); }
END_TEST

START_TEST(reset_never_completes)
{
	M->reset_stuck = 1;
	open_fails(PCI_ADDR, ETIMEDOUT, "did not finish a reset");
}
END_TEST

START_TEST(pci_no_device)
{
	open_fails("virtio-pci:00:06.0", ENODEV, "no PCI device at 00:06.0");
	ck_assert_uint_eq(M->nstatus, 0);
}
END_TEST

START_TEST(pci_not_virtio)
{
	pcfg_put(M, 0, 2, 0x8086);
	open_fails(PCI_ADDR, ENODEV, "(8086:1042) is not a virtio device");
	pcfg_put(M, 0, 2, 0x1af4);
	pcfg_put(M, 2, 2, 0x1040 + 3); /* virtio console */
	open_fails(PCI_ADDR, EPROTONOSUPPORT, "type 3 is neither");
	ck_assert_uint_eq(M->nstatus, 0);
}
END_TEST

START_TEST(pci_legacy_only)
{
	pcfg_put(M, 0x06, 2, 0); /* no capability list */
	pcfg_put(M, 0x02, 2, 0x1001);
	pcfg_put(M, 0x2e, 2, 2);
	open_fails(PCI_ADDR, EPROTONOSUPPORT, "legacy-only device");
	ck_assert_uint_eq(M->nstatus, 0);
}
END_TEST

START_TEST(pci_cap_loop)
{
	/* the list points back at itself before the notify capability */
	M->pcfg[0x60 + 1] = 0x40;
	open_fails(PCI_ADDR, EPROTONOSUPPORT, "no virtio 1.x capabilities");
	/* a capability pointer into the header */
	teardown();
	setup_pci();
	M->pcfg[0x34] = 0x10;
	open_fails(PCI_ADDR, EPROTONOSUPPORT, "no virtio 1.x capabilities");
}
END_TEST

START_TEST(pci_short_common)
{
	pcfg_put(M, 0x40 + VIRTIO_PCI_CAP_LENGTH, 4, 20);
	open_fails(PCI_ADDR, EPROTO, "common configuration structure has length 20");
}
END_TEST

START_TEST(pci_bar_unassigned)
{
	pcfg_put(M, 0x20, 4, 0xc);
	open_fails(PCI_ADDR, ENXIO, "BAR 4");
	teardown();
	setup_pci();
	pcfg_put(M, 0x20, 4, 1); /* an I/O BAR */
	open_fails(PCI_ADDR, EOPNOTSUPP, "I/O BAR 4");
}
END_TEST

START_TEST(pci_notify_out_of_range)
{
	M->q[0].noff = 0x200; /* x 4 = 2048, past the 256-byte structure */
	open_fails(PCI_ADDR, EPROTO, "notify offset 512 x 4 lies outside");
	ck_assert(M->status & VIRTIO_CONFIG_S_FAILED);
	ck_assert_uint_eq(M->notifies, 0);
}
END_TEST

START_TEST(mmio_bad_window)
{
	M->magic = 0x12345678;
	open_fails(MMIO_ADDR, ENODEV, "no virtio-mmio device there (magic 0x12345678");
	M->magic = 0x74726976;
	M->version = 1;
	open_fails(MMIO_ADDR, EPROTONOSUPPORT, "legacy (version 1)");
	M->version = 3;
	open_fails(MMIO_ADDR, EPROTONOSUPPORT, "version 3 is not supported");
	M->version = 2;
	M->devid = 0;
	open_fails(MMIO_ADDR, ENODEV, "slot is empty (device ID 0)");
	M->devid = 16;
	open_fails(MMIO_ADDR, EPROTONOSUPPORT, "type 16 is neither");
	/* nothing but the identification registers was touched */
	ck_assert_uint_eq(M->nstatus, 0);
}
END_TEST

START_TEST(bad_addresses)
{
	static const char *const pci[] = { "virtio-pci:", "virtio-pci:5",
					   "virtio-pci:00:20.0", "virtio-pci:00:05.8",
					   "virtio-pci:100:05.0", "virtio-pci:00:05.0x",
					   "virtio-pci:0001:00:05.0",
					   "virtio-pci:00:05.0?packed=maybe",
					   "virtio-pci:00:05.0?size=100",
					   "virtio-pci:00:05.0?bogus=1" };
	for (size_t i = 0; i < sizeof(pci) / sizeof(pci[0]); i++)
		open_fails(pci[i], EINVAL, "virtio-pci:BB:DD.F");
	static const char *const mmio[] = { "virtio-mmio:", "virtio-mmio:0x123",
					    "virtio-mmio:feb00000", "virtio-mmio:0xfeb00000?x=1" };
	for (size_t i = 0; i < sizeof(mmio) / sizeof(mmio[0]); i++)
		open_fails(mmio[i], EINVAL, "virtio-mmio:0xADDR");
	ck_assert_uint_eq(M->nstatus, 0);
	/* a domain of 0000 is fine */
	pvio_blk *b;
	ck_assert_int_eq(pvio_blk_open(ctx, "virtio-pci:0000:00:05.0?packed=off&size=64",
				       NULL, &b), 0);
	ck_assert_uint_eq(M->q[0].size, 64);
	pvio_blk_close(b);
}
END_TEST

START_TEST(hosted_platform_refused)
{
	pvio_ctx *hc;
	ck_assert_int_eq(pvio_ctx_new(NULL, &hc), 0);
	pvio_dev *d = NULL;
	ck_assert_int_eq(pvio_dev_open(hc, PCI_ADDR, &d), -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(hc), "under Linux use vhost-user"));
	ck_assert_int_eq(pvio_dev_open(hc, MMIO_ADDR, &d), -EOPNOTSUPP);
	ck_assert_ptr_null(d);
	pvio_ctx_free(hc);
	ck_assert_uint_eq(M->nstatus, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_hw");
	TCase *p = tcase_create("pci");
	tcase_add_checked_fixture(p, setup_pci, teardown);
	tcase_add_test(p, pci_happy);
	tcase_add_test(p, pci_feature_readback);
	tcase_add_test(p, pci_features_ok_refused);
	tcase_add_test(p, pci_qsize_zero);
	tcase_add_test(p, pci_qsize_odd);
	tcase_add_test(p, pci_config_range);
	tcase_add_test(p, pci_gen_churn);
	tcase_add_test(p, pci_needs_reset_at_start);
	tcase_add_test(p, pci_needs_reset_later);
	tcase_add_test(p, reset_never_completes);
	tcase_add_test(p, pci_no_device);
	tcase_add_test(p, pci_not_virtio);
	tcase_add_test(p, pci_legacy_only);
	tcase_add_test(p, pci_cap_loop);
	tcase_add_test(p, pci_short_common);
	tcase_add_test(p, pci_bar_unassigned);
	tcase_add_test(p, pci_notify_out_of_range);
	tcase_add_test(p, bad_addresses);
	tcase_add_test(p, hosted_platform_refused);
	suite_add_tcase(s, p);
	TCase *m = tcase_create("mmio");
	tcase_add_checked_fixture(m, setup_mmio, teardown);
	tcase_add_test(m, mmio_happy);
	tcase_add_test(m, mmio_features_ok_refused);
	tcase_add_test(m, mmio_qsize_zero);
	tcase_add_test(m, mmio_qsize_odd);
	tcase_add_test(m, mmio_config_range);
	tcase_add_test(m, mmio_gen_churn);
	tcase_add_test(m, mmio_needs_reset_at_start);
	tcase_add_test(m, mmio_needs_reset_later);
	tcase_add_test(m, mmio_bad_window);
	suite_add_tcase(s, m);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
